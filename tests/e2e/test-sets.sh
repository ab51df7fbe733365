#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-sets.sh - issue 18: sets with real traffic.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far (pcrecv)
#
# 1. A set change takes effect for the next packet: set add, del, flush on
#    a prefix set (IPv4 and IPv6) and a port set, each followed by exactly
#    one packet that lands where the new contents say.
# 2. 20 `set load`s alternating two files under continuous traffic: every
#    packet counted under one class, the receiver got every one, and one
#    journal record per load.
# 3. Errors, each refused whole (exit 1, the set unchanged, a failed record):
#    a bad element, a bad line in a loaded file (FILE:LINE:COLUMN), a set
#    that is not dynamic, an unknown set.
# 4. explain and explain --live name the element that matched.
# 5. A reload sets a set to its config and file elements; a dynamic set
#    keeps what was added at run time.
# 6. Dynamic elements survive a restart (SIGTERM, start) and a kill -9,
#    and keep classifying.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=traffic-lib.sh
. "$(dirname "$0")/traffic-lib.sh"

pc_init sets
pc_require_daemon

pc_topology far
LOG=$PC_TMP/pktclassd.log
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" "$@"; }
recv_start() { pc_recv_start "$FAR" f0 --dst "$DST" "$@"; }
recv_finish() { pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"; }
cls() { pc_stats_get "classes.name=$1.packets"; }

cat >"$PC_TMP/static.txt" <<'EOF'
# elements of a set that only the config changes
10.3.0.0/16
EOF
cat >"$PC_TMP/bl.txt" <<'EOF'
198.51.100.0/24
EOF
write_cfg() {  # the config elements of bl
	cat >"$PC_CFG" <<YAML
version: 1
settings:
  pin_path: $PC_PIN
  stats_interval: "0"
interfaces:
  - name: m0
    hooks: [ingress]
sets:
  bl: { type: prefix, dynamic: true, elements: [$1], file: bl.txt }
  static: { type: prefix, file: static.txt }
  ports: { type: port, dynamic: true, elements: [7000-7009] }
rules:
  - { name: in-bl, match: { src: "@bl" }, class: inbl }
  - { name: in-static, match: { dst: [10.9.9.9, "@static"] }, class: static }
  - { name: sip, match: { proto: udp, dst_port: 5060 }, class: voice }
  - { name: http, match: { proto: tcp, dst_port: 80 }, class: web }
  - { name: portset, match: { proto: udp, dst_port: "@ports" }, class: portset }
default:
  class: other
YAML
}
write_cfg "203.0.113.0/24"
pc_notify_start
pc_start_daemon "$MID"
grep -q 'set bl: start: 2 added, 0 removed, 2 elements PKTCLASS_SET=bl PKTCLASS_OPERATION=start' "$LOG" ||
	fail "no start record for set bl"

# count CLASS ARGS...: one packet (pcsend ARGS) must add exactly one to CLASS
# (and nothing to any other class)
total() { python3 -c 'import json,sys; print(sum(c["packets"] for c in json.load(sys.stdin)["classes"]))' <<<"$STATS"; }
count() {
	local class=$1 before after t0 t1
	shift
	pc_stats
	before=$(cls "$class") t0=$(total)
	send --count 1 "$@"
	for _ in $(seq 50); do
		pc_stats
		t1=$(total)
		((t1 > t0)) && break
		sleep 0.05
	done
	sleep 0.05
	pc_stats
	after=$(cls "$class") t1=$(total)
	assert_eq $((after - before)):$((t1 - t0)) 1:1 "one packet ($*) under $class"
}
ctl_ok() { pc_ctl "$@" >"$PC_TMP/ctl.out" 2>"$PC_TMP/ctl.err" || fail "pktclassctl $*: $(cat "$PC_TMP/ctl.err")"; }
ctl_fails() {
	if pc_ctl "$@" >"$PC_TMP/ctl.out" 2>"$PC_TMP/ctl.err"; then
		fail "pktclassctl $* succeeded"
	fi
	pc_log "ok: pktclassctl $* refused: $(head -n 1 "$PC_TMP/ctl.err")"
}
show() { pc_ctl set show "$1" | grep -v '^#' | sed 's/  #.*//'; }

# ==== 1. the next packet sees a change =====================================
X=10.1.0.77
count other --src "$X" --dst "$DST" --proto udp --dport 9
ctl_ok set add bl "$X" "2001:db8:77::/48"
grep -q '^set bl: 2 added, 0 removed, 4 elements$' "$PC_TMP/ctl.out" || fail "set add said: $(cat "$PC_TMP/ctl.out")"
count inbl --src "$X" --dst "$DST" --proto udp --dport 9
count inbl --src 2001:db8:77::5 --dst 2001:db8::1 --proto udp --dport 9
count other --src 2001:db8:78::5 --dst 2001:db8::1 --proto udp --dport 9
ctl_ok set del bl "$X"
count other --src "$X" --dst "$DST" --proto udp --dport 9
count inbl --src 198.51.100.9 --dst "$DST" --proto udp --dport 9
count portset --src 10.1.0.12 --dst "$DST" --proto udp --dport 7005
count other --src 10.1.0.12 --dst "$DST" --proto udp --dport 7777
ctl_ok set add ports 7777 7770-7771
count portset --src 10.1.0.12 --dst "$DST" --proto udp --dport 7777
ctl_ok set flush ports
count other --src 10.1.0.12 --dst "$DST" --proto udp --dport 7005
count static --src 10.1.0.12 --dst 10.3.4.5 --proto udp --dport 9
pc_ctl set list --json >"$PC_TMP/list.json" || fail "set list --json"
assert_eq "$(json_get 'sets.name=bl.elements' <"$PC_TMP/list.json")" 3 "bl elements in set list"
assert_eq "$(json_get 'sets.name=ports.elements' <"$PC_TMP/list.json")" 0 "ports after flush"
assert_eq "$(json_get 'sets.name=static.dynamic' <"$PC_TMP/list.json")" false "static is not dynamic"
grep -q 'set ports: flush: 0 added, 3 removed, 0 elements.*PKTCLASS_SET=ports PKTCLASS_OPERATION=flush PKTCLASS_RESULT=ok PKTCLASS_ADDED=0 PKTCLASS_REMOVED=3 PKTCLASS_ELEMENTS=0' "$LOG" ||
	fail "no flush record"
ctl_ok set add ports 7000-7009

# ==== 2. 20 set loads under traffic ========================================
printf '10.1.0.10\n198.51.100.0/24\n' >"$PC_TMP/a.txt"  # the voice flow's source
printf '10.1.0.11\n10.1.0.12/32\n' >"$PC_TMP/b.txt"     # the web and other flows'
pc_stats
I0=$(cls inbl) V0=$(cls voice) W0=$(cls web) O0=$(cls other)
recv_start
pc_traffic_start 10000 voice web other
for i in $(seq 20); do
	if ((i % 2)); then f=a.txt; else f=b.txt; fi
	ctl_ok set load bl "$PC_TMP/$f"
	sleep 0.1
done
pc_traffic_stop
recv_finish
TOTAL=$((SENT_VOICE + SENT_WEB + SENT_OTHER))
assert_ge "$TOTAL" 10000 "packets sent during the loads"
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$TOTAL" "packets received (none dropped)"
pc_stats
I=$(($(cls inbl) - I0)) V=$(($(cls voice) - V0)) W=$(($(cls web) - W0)) O=$(($(cls other) - O0))
pc_log "during the loads: inbl $I, voice $V, web $W, other $O"
# the end marker comes from 10.1.0.13: default
assert_eq $((I + V + W + O)) $((TOTAL + 1)) "every packet under one class"
assert_ge "$I" 1 "packets caught by the loaded sets"
((V < SENT_VOICE && V + W + O - 1 < TOTAL)) || fail "no packet of the flows was caught by the set"
assert_eq "$(grep -c 'PKTCLASS_SET=bl PKTCLASS_OPERATION=load PKTCLASS_RESULT=ok' "$LOG")" 20 \
	"journal records of the loads"
assert_eq "$(show bl | sort | tr '\n' ' ')" "10.1.0.11/32 10.1.0.12/32 " "bl after the last load"

# ==== 3. errors: refused whole ============================================
BEFORE=$(show bl)
ctl_fails set add bl 10.5.0.0/16 10.0.0.300
grep -q 'element 2: invalid address "10.0.0.300"' "$PC_TMP/ctl.err" || fail "bad element: $(cat "$PC_TMP/ctl.err")"
assert_eq "$(show bl)" "$BEFORE" "bl after a bad add"
printf '10.6.0.0/16\n\n  999.1.1.1 # no\n' >"$PC_TMP/bad.txt"
ctl_fails set load bl "$PC_TMP/bad.txt"
grep -q "^$PC_TMP/bad.txt:3:3: error: invalid address \"999.1.1.1\"$" "$PC_TMP/ctl.err" ||
	fail "bad file line: $(cat "$PC_TMP/ctl.err")"
assert_eq "$(show bl)" "$BEFORE" "bl after a bad load"
ctl_fails set add static 10.4.0.0/16
grep -q 'is not dynamic' "$PC_TMP/ctl.err" || fail "static: $(cat "$PC_TMP/ctl.err")"
ctl_fails set add ports 65536
grep -q 'port out of range' "$PC_TMP/ctl.err" || fail "port: $(cat "$PC_TMP/ctl.err")"
ctl_fails set del nope 10.0.0.1
grep -q 'no set "nope"' "$PC_TMP/ctl.err" || fail "unknown set: $(cat "$PC_TMP/ctl.err")"
ctl_fails set add bl 2001:db8::/200
assert_eq "$(grep -c 'PKTCLASS_RESULT=failed' "$LOG")" 6 "records of the refused changes"
count other --src 10.5.1.1 --dst "$DST" --proto udp --dport 9

# ==== 4. explain names the element =========================================
ctl_ok explain --iface m0 --direction ingress --proto udp --src 10.1.0.12 --src-port 1 --dst "$DST" --dst-port 9
grep -q "^in set: *src 10.1.0.12 is in bl: element 10.1.0.12/32 (the daemon's contents)" "$PC_TMP/ctl.out" ||
	fail "explain: $(cat "$PC_TMP/ctl.out")"
ctl_ok explain --live --iface m0 --direction ingress --proto udp --src 10.1.0.11 --src-port 1 --dst 10.3.0.1 --dst-port 7003 --json
assert_eq "$(json_get rule <"$PC_TMP/ctl.out")" in-bl "explain --live rule"
assert_eq "$(json_get live.agrees <"$PC_TMP/ctl.out")" true "explain --live agrees"
assert_eq "$(json_get 'sets.set=bl.element' <"$PC_TMP/ctl.out")" 10.1.0.11/32 "explain --live names the bl element"
assert_eq "$(json_get 'sets.set=static.element' <"$PC_TMP/ctl.out")" 10.3.0.0/16 "and the static one"

# ==== 5. a reload: config elements anew, run-time ones of dynamic sets kept ==
ctl_ok set add bl 10.1.0.99
write_cfg "192.0.2.0/24"
echo 10.3.0.0/16 >"$PC_TMP/static.txt"
echo 10.8.0.0/16 >>"$PC_TMP/static.txt"
pc_reload
assert_eq "$(show bl | sort | tr '\n' ' ')" \
	"10.1.0.11/32 10.1.0.12/32 10.1.0.99/32 192.0.2.0/24 198.51.100.0/24 " \
	"bl after the reload (config, file, run time)"
assert_eq "$(show static | tr '\n' ' ')" "10.3.0.0/16 10.8.0.0/16 " "static after the reload"
grep -q 'set bl: reload: 2 added, 0 removed, 5 elements' "$LOG" || fail "no reload record for bl"
count static --src 10.1.0.13 --dst 10.8.1.1 --proto udp --dport 9
count inbl --src 192.0.2.5 --dst "$DST" --proto udp --dport 9

# ==== 6. dynamic elements survive a restart and a kill -9 ====================
pc_stop_daemon
pc_start_daemon "$MID"
assert_eq "$(show bl | grep -c 10.1.0.99)" 1 "the run-time element after a restart"
count inbl --src 10.1.0.99 --dst "$DST" --proto udp --dport 9
ctl_ok set add bl 10.1.0.98
kill -KILL "$PC_DAEMON_PID"
wait "$PC_DAEMON_PID" 2>/dev/null
PC_DAEMON_PID=""
# the pinned classifier keeps classifying with the set while no daemon runs
send --count 1 --src 10.1.0.98 --dst "$DST" --proto udp --dport 9
pc_start_daemon "$MID"
assert_eq "$(show bl | grep -c '10.1.0.9[89]/32')" 2 "the run-time elements after a kill -9"
count inbl --src 10.1.0.98 --dst "$DST" --proto udp --dport 9
pc_stats
assert_ge "$(cls inbl)" 1 "inbl counts"
pc_stop_daemon
[[ -e $PC_PIN/set_head ]] || fail "the sets' pool was not kept at a stop with run-time elements"
pc_log "ok: the pool of the sets stays pinned (run-time elements)"
exit 0
