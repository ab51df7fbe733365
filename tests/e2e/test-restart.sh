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

pc_init restart
pc_require_daemon
pc_require_cmd nsenter

# ---- the daemon, through nsenter (ip netns exec would give it a private
# /sys, whose bpffs nobody else sees), with sd_notify read by a listener ----
NOTIFY_LOG=""
rl_notify_start() {
	local sock=$PC_TMP/notify.sock
	NOTIFY_LOG=$PC_TMP/notify.log
	python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$sock" >"$NOTIFY_LOG" &
	PC_PIDS+=($!)
	for _ in $(seq 100); do
		[[ -S $sock ]] && return 0
		sleep 0.05
	done
	fail "notify listener did not start"
}
rl_count() { grep -c "^$1" "$NOTIFY_LOG"; }  # PREFIX: notify messages starting so
rl_wait_ready() {  # N: until N READY=1 messages arrived
	for _ in $(seq 600); do
		(($(rl_count READY=1) >= $1)) && return 0
		kill -0 "$PC_DAEMON_PID" 2>/dev/null || fail "pktclassd died"
		sleep 0.05
	done
	fail "no READY=1 number $1: $(cat "$NOTIFY_LOG")"
}
rl_start() {  # NS
	PC_DAEMON_NS=$1
	NOTIFY_SOCKET=$PC_TMP/notify.sock nsenter --net="/run/netns/$1" \
		"$PKTCLASSD" -c "$PC_CFG" --log-target stderr >>"$PC_TMP/pktclassd.log" 2>&1 &
	PC_DAEMON_PID=$!
	rl_wait_ready $(($(rl_count READY=1) + 1))
	pc_log "pktclassd ready (pid $PC_DAEMON_PID)"
}
rl_reload() {  # SIGHUP, wait for its READY=1
	local n
	n=$(rl_count READY=1)
	kill -HUP "$PC_DAEMON_PID" || fail "SIGHUP"
	rl_wait_ready $((n + 1))
}
ctl() { "$PKTCLASSCTL" --pin-path "$PC_PIN" "$@"; }
stats() { STATS=$(ctl stats --rules --json) || fail "pktclassctl stats failed"; }
sget() { json_get "$1" <<<"$STATS" || fail "no '$1' in stats: $STATS"; }
has() { json_get "$1" <<<"$STATS" >/dev/null; }

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
kill9() {
	kill -KILL "$PC_DAEMON_PID"
	wait "$PC_DAEMON_PID" 2>/dev/null
	PC_DAEMON_PID=""
	pc_log "pktclassd killed with SIGKILL"
}

pc_ns SRC src
pc_ns MID mid
pc_ns FAR far
pc_veth "$SRC" s0 "$MID" m0
pc_veth "$MID" m1 "$FAR" f0
pc_router "$MID"
ip -n "$MID" addr add 10.1.0.1/24 dev m0 || fail "address on m0"
ip -n "$MID" addr add 10.2.0.1/24 dev m1 || fail "address on m1"
ip -n "$MID" neigh add 10.2.0.99 lladdr "$(pc_mac "$FAR" f0)" dev m1 nud permanent ||
	fail "neighbour 10.2.0.99"
M0_MAC=$(pc_mac "$MID" m0)
DST=10.2.0.99
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

# continuous traffic in batches until $PC_TMP/run disappears (voice and web)
BATCH=500
traffic_start() {
	local f
	touch "$PC_TMP/run"
	TRAFFIC_PIDS=()
	for f in voice web; do
		: >"$PC_TMP/sent.$f"
	done
	flow() {  # NAME PCSEND-ARGS...
		local name=$1
		shift
		while [[ -e $PC_TMP/run ]]; do
			ip netns exec "$SRC" taskset -c 0 "$PCSEND" -q -i s0 --dst-mac "$M0_MAC" \
				--dst "$DST" --count $BATCH --rate 10000 "$@" || exit 1
			echo >>"$PC_TMP/sent.$name"
		done
	}
	flow voice --src 10.1.0.10 --proto udp --sport 40000-40009 --dport 5060 &
	TRAFFIC_PIDS+=($!)
	flow web --src 10.1.0.11 --proto tcp --sport 50000-50009 --dport 80 --tcp-flags ack &
	TRAFFIC_PIDS+=($!)
	PC_PIDS+=("${TRAFFIC_PIDS[@]}")
	for _ in $(seq 200); do
		[[ -s $PC_TMP/sent.voice && -s $PC_TMP/sent.web ]] && return
		sleep 0.05
	done
	fail "traffic did not start"
}
traffic_stop() {  # sets SENT_VOICE, SENT_WEB
	local p
	rm -f "$PC_TMP/run"
	for p in "${TRAFFIC_PIDS[@]}"; do
		wait "$p" || fail "a sender failed"
	done
	SENT_VOICE=$(($(wc -l <"$PC_TMP/sent.voice") * BATCH))
	SENT_WEB=$(($(wc -l <"$PC_TMP/sent.web") * BATCH))
	pc_log "sent: voice $SENT_VOICE, web $SENT_WEB"
}

rl_notify_start
config false
rl_start "$MID"
one_filter_per_hook "after the start"
send --src 10.1.0.10 --proto udp --dport 5060 --count 100
stats
assert_eq "$(m0count voice)" 100 "voice"
PROG_ID=$(ctl status --json | json_get 'attachments.hook=ingress.prog_id') || fail "no ingress prog id"

# ==== 1. kill -9 =============================================================
kill9
one_filter_per_hook "after kill -9"
ST=$(ctl status --json) || fail "pktclassctl status with the daemon dead"
assert_eq "$(json_get running <<<"$ST")" false "status: running after kill -9"
send --src 10.1.0.10 --proto udp --dport 5060 --count 50
stats
assert_eq "$(m0count voice)" 150 "voice counted with the daemon dead"

rl_start "$MID"
one_filter_per_hook "after the restart"
ST=$(ctl status --json) || fail "pktclassctl status"
assert_eq "$(json_get generation <<<"$ST")" 2 "generation carries on"
assert_eq "$(json_get 'attachments.hook=ingress.prog_id' <<<"$ST")" "$PROG_ID" \
	"the adopted entry program is attached"
stats
assert_eq "$(m0count voice)" 150 "voice after the restart (from the pins)"
send --src 10.1.0.10 --proto udp --dport 5060 --count 25
stats
assert_eq "$(m0count voice)" 175 "voice after the restart"

# kill -9 and a restart under traffic: no gap, nothing dropped
recv_start
traffic_start
kill9
one_filter_per_hook "after kill -9 under traffic"
sleep 0.3
rl_start "$MID"
one_filter_per_hook "after the restart under traffic"
traffic_stop
recv_finish
TOTAL=$((SENT_VOICE + SENT_WEB))
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$TOTAL" "packets received (none dropped)"
stats
VOICE=$((175 + SENT_VOICE))
WEB=$SENT_WEB
assert_eq "$(m0count voice)" "$VOICE" "voice through kill -9 and restart"
assert_eq "$(m0count web)" "$WEB" "web through kill -9 and restart"

# kill -9 and the pins lost too: the new start finds its filters by
# priority, handle and name and replaces them in place with new programs
kill9
rm -rf "$PC_PIN"
rl_start "$MID"
one_filter_per_hook "after a restart without pins"
ST=$(ctl status --json) || fail "pktclassctl status"
NEW_ID=$(json_get 'attachments.hook=ingress.prog_id' <<<"$ST")
[[ $NEW_ID != "$PROG_ID" ]] || fail "the filter still runs the old program $PROG_ID"
tc -n "$MID" filter show dev m0 ingress | grep -q "pref 49573 bpf.*handle 0x1 .* id $NEW_ID " ||
	fail "m0 ingress does not run program $NEW_ID: $(tc -n "$MID" filter show dev m0 ingress)"
pc_log "ok: filter replaced in place (program $PROG_ID -> $NEW_ID)"
send --src 10.1.0.10 --proto udp --dport 5060 --count 10
stats
assert_eq "$(m0count voice)" 10 "voice counted by the new programs"
VOICE=10
WEB=0

# ==== 2. keep_on_exit: stop and start under traffic ============================
config true
rl_reload
recv_start
traffic_start
pc_stop_daemon
one_filter_per_hook "after a stop with keep_on_exit"
ST=$(ctl status --json) || fail "pktclassctl status after a stop with keep_on_exit"
assert_eq "$(json_get running <<<"$ST")" false "status: running after the stop"
sleep 0.3
stats
V1=$(m0count voice)
sleep 0.3
stats
(($(m0count voice) > V1)) || fail "not counting while stopped with keep_on_exit"
pc_log "ok: counting while stopped ($V1 -> $(m0count voice))"
rl_start "$MID"
one_filter_per_hook "after the start that adopts"
traffic_stop
recv_finish
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" $((SENT_VOICE + SENT_WEB)) \
	"packets received (none dropped)"
stats
VOICE=$((VOICE + SENT_VOICE))
WEB=$((WEB + SENT_WEB))
assert_eq "$(m0count voice)" "$VOICE" "voice through stop and start"
assert_eq "$(m0count web)" "$WEB" "web through stop and start"
ST=$(ctl status --json) || fail "pktclassctl status"
assert_eq "$(json_get generation <<<"$ST")" 3 "generation carries on (from the new pins)"

# ==== 3. keep_on_exit off: a stop cleans up ====================================
config false
rl_reload
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
