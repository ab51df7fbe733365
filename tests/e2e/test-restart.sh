#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-restart.sh - issue 5: pktclassd killed and started again.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress+egress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far (pcrecv)
#
# 1. kill -9: the filters and pins stay and keep classifying; a new start
#    finds its own filters and replaces them in place (one per hook) and the
#    counters carry on from the pins; traffic through all of it is counted
#    exactly and nothing is dropped.  With the pins gone as well, the filters
#    are still found (priority, handle, name) and replaced, not doubled.
# 2. keep_on_exit: true: SIGTERM leaves the programs attached and counting,
#    the next start adopts them without a gap.
# 3. keep_on_exit: false again: a stop removes our filters and pins.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=traffic-lib.sh
. "$(dirname "$0")/traffic-lib.sh"

pc_init restart
pc_require_daemon

our_filters() {  # IFACE HOOK: how many filters of ours
	tc -n "$MID" filter show dev "$1" "$2" 2>/dev/null | grep -c 'pref 49573 bpf.*handle'
}

# ingress packets of class $1 on m0
m0count() {
	python3 -c '
import json, sys
s = json.loads(sys.argv[2])
print(sum(i["packets"] for c in s["classes"] if c["name"] == sys.argv[1]
          for i in c.get("interfaces", []) if i["iface"] == "m0" and i["hook"] == "ingress"))
' "$1" "$STATS"
}
one_filter_per_hook() {  # WHAT
	assert_eq "$(our_filters m0 ingress)" 1 "$1: our filters on m0 ingress"
	assert_eq "$(our_filters m0 egress)" 1 "$1: our filters on m0 egress"
}

pc_topology far
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --dst "$DST" "$@"; }
recv_start() { pc_recv_start "$FAR" f0 --dst "$DST" "$@"; }
recv_finish() { pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"; }

config() {  # KEEP_ON_EXIT
	cat >"$PC_CFG.new" <<YAML
version: 1
settings:
  pin_path: $PC_PIN
  stats_interval: "0"
  keep_on_exit: $1
interfaces:
  - name: m0
    hooks: [ingress, egress]
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
default:
  class: other
YAML
	mv "$PC_CFG.new" "$PC_CFG"
}

pc_notify_start
config false
pc_start_daemon "$MID"
one_filter_per_hook "after the start"
send --src 10.1.0.10 --proto udp --dport 5060 --count 100
pc_stats
assert_eq "$(m0count voice)" 100 "voice"
PROG_ID=$(pc_ctl_pins status --json | json_get 'attachments.hook=ingress.prog_id') || fail "no ingress prog id"

# ==== 1. kill -9 =============================================================
pc_kill9
one_filter_per_hook "after kill -9"
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status with the daemon dead"
assert_eq "$(json_get running <<<"$ST")" false "status: running after kill -9"
send --src 10.1.0.10 --proto udp --dport 5060 --count 50
pc_stats
assert_eq "$(m0count voice)" 150 "voice counted with the daemon dead"

pc_start_daemon "$MID"
one_filter_per_hook "after the restart"
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status"
assert_eq "$(json_get generation <<<"$ST")" 2 "generation carries on"
assert_eq "$(json_get 'attachments.hook=ingress.prog_id' <<<"$ST")" "$PROG_ID" \
	"the adopted entry program is attached"
pc_stats
assert_eq "$(m0count voice)" 150 "voice after the restart (from the pins)"
send --src 10.1.0.10 --proto udp --dport 5060 --count 25
pc_stats
assert_eq "$(m0count voice)" 175 "voice after the restart"

# kill -9 and a restart under traffic: no gap, nothing dropped
recv_start
pc_traffic_start 10000 voice web
pc_kill9
one_filter_per_hook "after kill -9 under traffic"
sleep 0.3
pc_start_daemon "$MID"
one_filter_per_hook "after the restart under traffic"
pc_traffic_stop
recv_finish
TOTAL=$((SENT_VOICE + SENT_WEB))
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$TOTAL" "packets received (none dropped)"
pc_stats
VOICE=$((175 + SENT_VOICE))
WEB=$SENT_WEB
assert_eq "$(m0count voice)" "$VOICE" "voice through kill -9 and restart"
assert_eq "$(m0count web)" "$WEB" "web through kill -9 and restart"

# kill -9 and the pins lost too: the new start finds its filters by
# priority, handle and name and replaces them in place with new programs
pc_kill9
rm -rf "$PC_PIN"
pc_start_daemon "$MID"
one_filter_per_hook "after a restart without pins"
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status"
NEW_ID=$(json_get 'attachments.hook=ingress.prog_id' <<<"$ST")
[[ $NEW_ID != "$PROG_ID" ]] || fail "the filter still runs the old program $PROG_ID"
tc -n "$MID" filter show dev m0 ingress | grep -q "pref 49573 bpf.*handle 0x1 .* id $NEW_ID " ||
	fail "m0 ingress does not run program $NEW_ID: $(tc -n "$MID" filter show dev m0 ingress)"
pc_log "ok: filter replaced in place (program $PROG_ID -> $NEW_ID)"
send --src 10.1.0.10 --proto udp --dport 5060 --count 10
pc_stats
assert_eq "$(m0count voice)" 10 "voice counted by the new programs"
VOICE=10
WEB=0

# ==== 2. keep_on_exit: stop and start under traffic ============================
config true
pc_reload
recv_start
pc_traffic_start 10000 voice web
pc_stop_daemon
one_filter_per_hook "after a stop with keep_on_exit"
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status after a stop with keep_on_exit"
assert_eq "$(json_get running <<<"$ST")" false "status: running after the stop"
sleep 0.3
pc_stats
V1=$(m0count voice)
sleep 0.3
pc_stats
(($(m0count voice) > V1)) || fail "not counting while stopped with keep_on_exit"
pc_log "ok: counting while stopped ($V1 -> $(m0count voice))"
pc_start_daemon "$MID"
one_filter_per_hook "after the start that adopts"
pc_traffic_stop
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" $((SENT_VOICE + SENT_WEB)) \
	"packets received (none dropped)"
pc_stats
VOICE=$((VOICE + SENT_VOICE))
WEB=$((WEB + SENT_WEB))
assert_eq "$(m0count voice)" "$VOICE" "voice through stop and start"
assert_eq "$(m0count web)" "$WEB" "web through stop and start"
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status"
assert_eq "$(json_get generation <<<"$ST")" 3 "generation carries on (from the new pins)"

# ==== 3. keep_on_exit off: a stop cleans up ====================================
config false
pc_reload
pc_stop_daemon
assert_eq "$(our_filters m0 ingress)" 0 "our filters on m0 ingress after the stop"
assert_eq "$(our_filters m0 egress)" 0 "our filters on m0 egress after the stop"
# The clsact was created by the first run; the record that says so went
# with the pins, so it is not ours to remove any more.
tc -n "$MID" qdisc show dev m0 | grep -q clsact ||
	fail "the clsact qdisc whose owner is unknown was removed"
if [[ -d $PC_PIN ]] && [[ -n $(find "$PC_PIN" -mindepth 1 -print -quit) ]]; then
	fail "pins left under $PC_PIN: $(find "$PC_PIN" -mindepth 1)"
fi
pc_log "ok: filters and pins removed, the clsact of unknown owner kept"
pc_log "PASS"
exit 0
