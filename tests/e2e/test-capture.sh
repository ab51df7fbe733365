#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-capture.sh - pktclassctl capture writes exactly the packets of one
# class to a pcap file that tcpdump reads, L2 header (and VLAN tag) included;
# it stops after -c COUNT, or on SIGINT; it changes no counter; bad usage and
# unknown classes or interfaces are refused.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd: ingress on m0, monitor on m1)
#   ns src: s1 --veth-- m1 :ns mid
# Last, without monitor hooks (no socket classifier loaded), capture still
# works: the copy takes the tables of the TC program.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=observe-lib.sh
. "$(dirname "$0")/observe-lib.sh"

pc_init capture
pc_require_daemon
pc_require_cmd tcpdump

pc_topology src

pc_config_write <<'YAML'
version: 1
settings:
  pin_path: @PIN@
  stats_interval: 0
interfaces:
  - name: m0
    hooks: [ingress]
  - name: m1
    hooks: [monitor]
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: web
    match: { proto: tcp, dst_port: 80 }
default:
  class: other
YAML
pc_start_daemon "$MID"

# capture_start FILE ARGS...: pktclassctl capture in the background; waits
# until it says it captures.
capture_start() {
	local file=$1
	shift
	: >"$PC_TMP/capture.err"
	# not through a function: $! must be pktclassctl itself (for SIGINT)
	nsenter --net="/run/netns/$PC_DAEMON_NS" "$PKTCLASSCTL" -c "$PC_CFG" capture -w "$file" "$@" \
		>"$PC_TMP/capture.out" 2>"$PC_TMP/capture.err" &
	CAP_PID=$!
	for _ in $(seq 100); do
		grep -q capturing "$PC_TMP/capture.err" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || fail "capture exited: $(cat "$PC_TMP/capture.err")"
		sleep 0.05
	done
	fail "capture did not start"
}

capture_wait() {  # expect exit status 0
	local rc=0
	for _ in $(seq 200); do
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$CAP_PID" 2>/dev/null && fail "capture still running"
	wait "$CAP_PID" || rc=$?
	assert_eq "$rc" 0 "capture exit status ($(cat "$PC_TMP/capture.err"))"
}

# 1. -c COUNT on both interfaces: the first 8 voice packets, nothing else.
PCAP=$PC_TMP/voice.pcap
capture_start "$PCAP" --class voice -c 8 --json
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto tcp --dport 80 --count 5
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto udp --sport 4000 --dport 5060 --count 3
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --dport 53 --count 4
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --vlan 42 --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4001 --dport 5060 --count 5
# more voice packets behind the 8th, in the same socket's queue (pcsend runs
# on CPU 0: one backlog, in order), so that -c 8 must stop before them
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4002 --dport 5060 --count 6
capture_wait
assert_eq "$(json_get packets <"$PC_TMP/capture.out")" 8 "capture --json: packets"

DUMP=$(tcpdump -nn -e -r "$PCAP" 2>/dev/null) || fail "tcpdump -r failed on $PCAP"
pc_log "tcpdump: $DUMP"
assert_eq "$(grep -c . <<<"$DUMP")" 8 "packets in the pcap"
assert_eq "$(grep -c '10.1.0.1.4000 > 10.1.0.2.5060: ' <<<"$DUMP")" 3 "voice packets on m0"
assert_eq "$(grep -c "vlan 42, .*10.1.0.3.4001 > 10.1.0.4.5060: " <<<"$DUMP")" 5 "tagged voice packets on m1"
assert_eq "$(grep -c "^[0-9:.]* $(pc_mac "$SRC" s0) > $M0_MAC, ethertype IPv4" <<<"$DUMP")" 3 \
	"Ethernet headers of the m0 packets"
assert_eq "$(grep -c ' 80: \|: 53\| 53: \|4002' <<<"$DUMP")" 0 "other classes or later packets in the pcap"
tcpdump -r "$PCAP" 2>&1 | grep -q 'link-type EN10MB' || fail "pcap link type is not Ethernet"

# 2. --iface, until SIGINT: only that interface's packets of the class.
PCAP=$PC_TMP/web.pcap
capture_start "$PCAP" --class web --iface m1
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto tcp --dport 80 --count 4
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto tcp --sport 999 --dport 80 --count 7
# the end marker: a voice packet is not captured, so wait for the web ones
for _ in $(seq 100); do
	N=$(tcpdump -r "$PCAP" 2>/dev/null | grep -c .)
	((N >= 7)) && break
	sleep 0.05
done
kill -INT "$CAP_PID"
capture_wait
DUMP=$(tcpdump -nn -r "$PCAP" 2>/dev/null) || fail "tcpdump -r failed"
assert_eq "$(grep -c . <<<"$DUMP")" 7 "packets in the --iface m1 pcap"
assert_eq "$(grep -c '10.1.0.3.999 > 10.1.0.4.80: ' <<<"$DUMP")" 7 "web packets of m1"

# 3. A capture counts nothing: totals are what was sent.
STATS=$(pc_ctl stats --json) || fail "stats"
assert_eq "$(json_get 'classes.name=voice.packets' <<<"$STATS")" 14 "voice counted once"
assert_eq "$(json_get 'classes.name=web.packets' <<<"$STATS")" 16 "web counted once"
assert_eq "$(json_get 'classes.name=web.interfaces.iface=m1.packets' <<<"$STATS")" 7 "web on m1"
assert_eq "$(json_get 'classes.name=voice.interfaces.iface=m1.packets' <<<"$STATS")" 11 "voice on m1"

# 4. Refusals.
pc_ctl capture --class nosuch -w "$PC_TMP/x.pcap" 2>"$PC_TMP/err" && fail "unknown class accepted"
assert_eq "$?" 1 "exit status for an unknown class"
grep -q "no class 'nosuch'" "$PC_TMP/err" || fail "message for an unknown class: $(cat "$PC_TMP/err")"
pc_ctl capture --class voice --iface lo -w "$PC_TMP/x.pcap" 2>"$PC_TMP/err"
assert_eq "$?" 1 "exit status for an interface pktclassd is not on"
grep -q "not attached to lo" "$PC_TMP/err" || fail "message for lo: $(cat "$PC_TMP/err")"
pc_ctl capture --class voice 2>/dev/null
assert_eq "$?" 2 "exit status without -w"
pc_ctl capture -w "$PC_TMP/x.pcap" 2>/dev/null
assert_eq "$?" 2 "exit status without --class"
pc_ctl capture --class voice -c 0 -w "$PC_TMP/x.pcap" 2>/dev/null
assert_eq "$?" 2 "exit status for -c 0"
pc_ctl capture --class voice -c x -w "$PC_TMP/x.pcap" 2>/dev/null
assert_eq "$?" 2 "exit status for -c x"
pc_ctl capture --class voice -w /nonexistent/dir/x.pcap 2>/dev/null
assert_eq "$?" 1 "exit status for an unwritable file"

# 5. Without monitor hooks no socket classifier is loaded (jmp_sock empty):
# capture still works, from the TC program's tables.
sed -i 's/hooks: \[monitor\]/hooks: [ingress]/' "$PC_CFG"
grep -q monitor "$PC_CFG" && fail "config still has a monitor hook"
kill -HUP "$PC_DAEMON_PID" || fail "SIGHUP"
for _ in $(seq 100); do
	[ "$(pc_ctl stats --json 2>/dev/null | json_get generation)" = 2 ] && break
	sleep 0.1
done
assert_eq "$(pc_ctl stats --json | json_get generation)" 2 "generation after the reload"
JMP=$(bpftool -j map dump pinned "$PC_PIN/jmp_sock" 2>&1 || true)
pc_log "jmp_sock without monitor hooks: $JMP"
[ "$JMP" = "[]" ] || fail "jmp_sock not empty without monitor hooks: $JMP"
PCAP=$PC_TMP/nomon.pcap
capture_start "$PCAP" --class voice -c 2
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto tcp --dport 80 --count 2
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4003 --dport 5060 --count 2
capture_wait
DUMP=$(tcpdump -nn -r "$PCAP" 2>/dev/null) || fail "tcpdump -r failed on $PCAP"
assert_eq "$(grep -c '10.1.0.3.4003 > 10.1.0.4.5060: ' <<<"$DUMP")" 2 "voice captured without monitor hooks"

pc_stop_daemon
pc_ctl --pin-path "$PC_PIN" capture --class voice -w "$PC_TMP/x.pcap" 2>/dev/null
assert_eq "$?" 1 "exit status without a daemon"
pc_log "PASS"
exit 0
