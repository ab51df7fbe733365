#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-hotplug.sh - issue 5: interfaces that appear, get renamed and vanish
# while pktclassd runs.
#
#   ns src: h0 --veth-- hp0 :ns mid (pktclassd; "hp*" ingress+egress, "mon*" monitor)
#
# A veth created after the start that matches a glob is attached and counts;
# one that does not match is left alone; a rename away detaches, a rename to a
# matching name attaches again; a deletion is no error and the daemon stays
# healthy (it still reloads).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init hotplug
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

# packets of class $1 on interface $2, hook $3 (0 when absent)
ifcount() {
	python3 -c '
import json, sys
s = json.loads(sys.argv[4])
n = 0
for c in s["classes"]:
    if c["name"] == sys.argv[1]:
        n += sum(i["packets"] for i in c.get("interfaces", [])
                 if i["iface"] == sys.argv[2] and i["hook"] == sys.argv[3])
print(n)' "$1" "$2" "$3" "$STATS"
}
attachments() {  # "iface:hook" lines of pktclassctl status, sorted
	ctl status --json | python3 -c '
import json, sys
for a in sorted(a["iface"] + ":" + a["hook"] for a in json.load(sys.stdin)["attachments"]):
    print(a)'
}
wait_attachments() {  # EXPECTED (space-separated iface:hook, sorted)
	local got
	for _ in $(seq 200); do
		got=$(attachments | xargs)
		[[ $got == "$1" ]] && break
		sleep 0.05
	done
	assert_eq "$got" "$1" "attachments"
}
our_filters() {  # IFACE HOOK: how many filters of ours
	tc -n "$MID" filter show dev "$1" "$2" 2>/dev/null | grep -c 'pref 49573 bpf.*handle'
}

pc_ns SRC src
pc_ns MID mid
cat >"$PC_CFG" <<YAML
version: 1
settings:
  pin_path: $PC_PIN
  stats_interval: "0"
interfaces:
  - name: "hp*"
    hooks: [ingress, egress]
  - name: "mon?"
    hooks: [monitor]
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
default:
  class: other
YAML
rl_notify_start
rl_start "$MID"
wait_attachments ""

# 1. a matching veth appears: attached on both hooks, counting --------------
pc_veth "$SRC" h0 "$MID" hp0
wait_attachments "hp0:egress hp0:ingress"
assert_eq "$(our_filters hp0 ingress)" 1 "our filters on hp0 ingress"
assert_eq "$(our_filters hp0 egress)" 1 "our filters on hp0 egress"
grep -q '^STATUS=generation 1, 1 rules, 2 attachments$' "$NOTIFY_LOG" ||
	fail "STATUS= does not follow the new link: $(cat "$NOTIFY_LOG")"
HP0_MAC=$(pc_mac "$MID" hp0)
pc_send "$SRC" -i h0 --dst-mac "$HP0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto udp --dport 5060 --count 40
pc_send "$SRC" -i h0 --dst-mac "$HP0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto tcp --dport 22 --count 7
stats
assert_eq "$(ifcount voice hp0 ingress)" 40 "voice on hp0 ingress"
assert_eq "$(ifcount other hp0 ingress)" 7 "other on hp0 ingress"
assert_eq "$(ifcount voice hp0 egress)" 0 "voice on hp0 egress"
grep -q 'PKTCLASS_IFACE=hp0 PKTCLASS_HOOK=ingress PKTCLASS_PROG_ID=[1-9]' "$PC_TMP/pktclassd.log" ||
	fail "no attach record for hp0 ingress"

# 2. a veth that matches no pattern is left alone; a monitor one is watched --
pc_veth "$SRC" z0 "$MID" zz0
pc_veth "$SRC" n0 "$MID" mon1
wait_attachments "hp0:egress hp0:ingress mon1:monitor"
assert_eq "$(our_filters zz0 ingress)" 0 "our filters on zz0"
pc_send "$SRC" -i n0 --dst-mac "$(pc_mac "$MID" mon1)" --src 10.3.0.1 --dst 10.3.0.2 --proto udp --dport 5060 --count 12
stats
assert_eq "$(ifcount voice mon1 monitor)" 12 "voice on mon1 (monitor)"

# 3. renamed away: detached; renamed to a matching name: attached again ----
ip -n "$MID" link set hp0 down
ip -n "$MID" link set hp0 name xx0 || fail "rename hp0"
wait_attachments "mon1:monitor"
assert_eq "$(our_filters xx0 ingress)" 0 "our filters on xx0 (renamed away)"
assert_eq "$(our_filters xx0 egress)" 0 "our filters on xx0 egress"
ip -n "$MID" link set xx0 name hp7 || fail "rename xx0"
ip -n "$MID" link set hp7 up
wait_attachments "hp7:egress hp7:ingress mon1:monitor"
assert_eq "$(our_filters hp7 ingress)" 1 "our filters on hp7 ingress"
pc_send "$SRC" -i h0 --dst-mac "$HP0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto udp --dport 5060 --count 15
stats
assert_eq "$(ifcount voice hp7 ingress)" 15 "voice on hp7 ingress (a new attachment)"
assert_eq "$(ifcount voice hp0 ingress)" 0 "voice on hp0 (gone)"

# 4. deleted: forgotten without error; the daemon stays healthy ------------
ip -n "$MID" link del hp7 || fail "ip link del hp7"
ip -n "$MID" link del mon1 || fail "ip link del mon1"
wait_attachments ""
kill -0 "$PC_DAEMON_PID" || fail "pktclassd died"
if grep -E 'error|warning' "$PC_TMP/pktclassd.log"; then
	fail "errors or warnings in the log"
fi
pc_log "ok: no error or warning logged"
grep -q 'interface hp7 ([0-9]*) vanished' "$PC_TMP/pktclassd.log" || fail "vanishing not logged"
rl_reload
assert_eq "$(tail -n 1 "$NOTIFY_LOG")" "READY=1 STATUS=generation 2, 1 rules, 0 attachments" "after a reload"
# and a new matching link after all that is attached again
pc_veth "$SRC" h1 "$MID" hp1
wait_attachments "hp1:egress hp1:ingress"
pc_send "$SRC" -i h1 --dst-mac "$(pc_mac "$MID" hp1)" --src 10.1.0.1 --dst 10.1.0.2 --proto udp --dport 5060 --count 5
stats
assert_eq "$(ifcount voice hp1 ingress)" 5 "voice on hp1 ingress"
ST=$(ctl status --json) || fail "pktclassctl status"
assert_eq "$(json_get running <<<"$ST")" true "running"

pc_stop_daemon
assert_eq "$(our_filters hp1 ingress)" 0 "our filters on hp1 after stop"
pc_log "PASS"
exit 0
