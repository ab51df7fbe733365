#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-flowcache.sh - the datapath's flow cache with real traffic: a reload
# is seen by the very next packet of a cached flow, a reload under
# continuous traffic counts every packet once, and a flood of distinct flows
# neither changes an answer nor keeps a hot flow from being counted right.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far (pcrecv)
#
# 1. A flow counted 200 times under sip (all but the first answered by the
#    cache: `pktclassctl status` says so); a reload puts a rule before sip
#    that takes the flow: the next packet, one packet, is counted there; a
#    reload that makes the flow's rule drop it: the next packet is dropped.
# 2. 10 reloads between two configs that give the flow different rules while
#    it runs at 20,000 packets/s: each packet under one of them, exactly.
# 3. 60,000 packets of 60,000 different flows (source ports that a rule tells
#    apart): all counted under the default (port 7 under echo), the cache's
#    inserts bounded, and a hot flow still counted under its rule afterwards
#    (3,000 packets: the CPU leaves flood mode, if the flood put it there, and
#    part 4 finds the flow cached).
# 4. A set change: the flow cached under sip, `pktclassctl set add` puts its
#    source in the set of the first rule (drop): the next packet is dropped;
#    `set del`: the next one is forwarded under sip again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=traffic-lib.sh
. "$(dirname "$0")/traffic-lib.sh"

pc_init flowcache
pc_require_daemon

pc_topology far
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --dst "$DST" "$@"; }
flow() { send --src 10.1.0.20 --proto udp --sport 40000 --dport 5060 "$@"; }
recv_start() { pc_recv_start "$FAR" f0 --dst "$DST" "$@"; }
recv_finish() { pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"; }
rule_packets() { pc_stats_get "rules.name=$1.packets"; }
fc_get() { json_get "flow_cache.$1" <<<"$(pc_ctl status --json)" || fail "no flow_cache.$1 in status"; }

# sip takes udp/5060; echo (src_port 7) makes the cache tell source ports
# apart; the extra rules go first.  sip-new is always there, last unless it
# is first: a rule keeps its counts over reloads only while it exists.
cfg() {  # RULES...: YAML rules before sip
	cat <<YAML
version: 1
settings:
  pin_path: $PC_PIN
  stats_interval: "0"
interfaces:
  - name: m0
    hooks: [ingress]
sets:
  bl: { type: prefix, dynamic: true }
rules:
  - { name: blocked, match: { src: "@bl" }, action: drop }
YAML
	local r
	for r in "$@"; do
		echo "  - $r"
	done
	cat <<'YAML'
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: echo
    match: { proto: udp, src_port: 7 }
YAML
	[[ " $* " == *"$NEW"* ]] || echo "  - $NEW"
	printf 'default:\n  class: other\n'
}
NEW='{ name: sip-new, match: { src: 10.1.0.0/24, proto: udp, dst_port: 5060 }, class: voice }'
DROP='{ name: sip-drop, match: { src: 10.1.0.20, proto: udp, dst_port: 5060 }, action: drop }'

pc_notify_start
cfg >"$PC_CFG"
pc_start_daemon "$MID"

# ==== 1. the next packet after a reload ===================================
recv_start
flow --count 200
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 200 "forwarded (the marker is not counted)"
pc_stats
assert_eq "$(rule_packets sip)" 200 "rule sip"
assert_ge "$(fc_get hits)" 199 "flow cache hits (all packets of the flow but its first)"
assert_ge "$(fc_get entries_per_cpu)" 2 "flow cache entries a CPU"

cfg "$NEW" >"$PC_CFG"
pc_reload
recv_start
flow --count 1
recv_finish
pc_stats
assert_eq "$(rule_packets sip-new)" 1 "the next packet after the reload: under the new rule"
assert_eq "$(rule_packets sip)" 200 "rule sip after the reload"

cfg "$DROP" >"$PC_CFG"
pc_reload
recv_start --src 10.1.0.20
flow --count 1
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 0 "the next packet after a reload to drop: dropped"
pc_stats
assert_eq "$(rule_packets sip-drop)" 1 "rule sip-drop"

cfg >"$PC_CFG"
pc_reload
recv_start --src 10.1.0.20
flow --count 5
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 5 "after a reload back: forwarded again"
pc_stats
assert_eq "$(rule_packets sip)" 205 "rule sip again"

# ==== 2. reloads while the flow runs ======================================
pc_stats
S0=$(rule_packets sip) N0=$(rule_packets sip-new)
recv_start
pc_traffic_start 20000 voice
for i in $(seq 10); do
	if ((i % 2)); then cfg "$NEW" >"$PC_CFG.new"; else cfg >"$PC_CFG.new"; fi
	mv "$PC_CFG.new" "$PC_CFG"
	pc_reload
done
pc_traffic_stop
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$SENT_VOICE" "forwarded during the reloads"
pc_stats
NEWN=$(($(rule_packets sip-new) - N0))
assert_eq $(($(rule_packets sip) - S0 + NEWN)) "$SENT_VOICE" \
	"sip + sip-new: every packet of the reloads under one of them"
assert_ge "$NEWN" 1 "sip-new counted during the reloads"

# ==== 3. a flood of distinct flows ========================================
pc_stats
S0=$(rule_packets sip) D0=$(pc_stats_get default.packets)
M0=$(($(fc_get misses) + $(fc_get bypassed))) I0=$(fc_get inserts)
recv_start
send --src 10.1.0.30 --proto udp --sport 1-60000 --dport 53 --count 60000 --rate 50000
flow --count 3000
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 63000 "forwarded during the flood"
pc_stats
assert_eq $(($(pc_stats_get default.packets) - D0)) 60000 \
	"the flood but its source port 7 (and the marker) under the default"
assert_eq "$(rule_packets echo)" 1 "the flood's packet from port 7 under echo"
assert_eq $(($(rule_packets sip) - S0)) 3000 "the hot flow after the flood, under sip"
MISSES=$(($(fc_get misses) + $(fc_get bypassed) - M0)) INSERTS=$(($(fc_get inserts) - I0))
assert_ge "$MISSES" 60000 "flow cache misses of the flood (looked up or not)"
pc_log "flood: $(fc_get bypassed) packets not looked up (flood mode) so far"
# an empty or stale way is taken at once, and a live one that never served a
# hit; one that did once in 64 misses (in flood mode, where 1 packet in 16
# looks up, every sampled miss)
ENTRIES=$(($(fc_get entries_per_cpu) * $(fc_get cpus)))
((INSERTS <= ENTRIES + MISSES / 12)) ||
	fail "flood: $INSERTS inserts for $MISSES misses ($ENTRIES entries): not bounded"
pc_log "ok: flood: $MISSES misses, $INSERTS inserts ($ENTRIES entries)"

# ==== 4. a set change, the next packet ====================================
HB=$(fc_get hits)
recv_start --src 10.1.0.20
flow --count 50
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 50 "the flow before the set change"
H0=$(fc_get hits)
pc_ctl set add bl 10.1.0.20 >/dev/null || fail "set add"
recv_start --src 10.1.0.20
flow --count 1
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 0 "the next packet after set add: dropped"
pc_stats
assert_eq "$(rule_packets blocked)" 1 "rule blocked (the set's)"
pc_ctl set del bl 10.1.0.20 >/dev/null || fail "set del"
S0=$(rule_packets sip)
recv_start --src 10.1.0.20
flow --count 1
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 1 "the next packet after set del: forwarded"
pc_stats
assert_eq $(($(rule_packets sip) - S0)) 1 "rule sip after set del"
assert_eq "$(rule_packets blocked)" 1 "rule blocked after set del"
assert_ge $((H0 - HB)) 49 "flow cache hits of the flow's 50 packets before the set change"

pc_stop_daemon
pc_log "PASS"
exit 0
