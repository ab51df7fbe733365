#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-capture.sh - pktclassctl capture writes exactly the packets of one
# class to a pcapng file that tcpdump reads, each packet with its interface,
# its direction, its link-layer source and VLAN tag (LINUX_SLL2); it stops
# after --count N, or on SIGINT; it changes no counter; -c is --config; bad
# usage, unknown classes or interfaces and unsafe output files (a symbolic
# link, someone else's file, a FIFO, a hard link) are refused, and a new
# file is 0600.
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
# tcpdump in the daemon's namespace: the cooked headers carry ifindexes,
# which tcpdump turns into the names of the interfaces where it runs
dump() {
	pc_in "$PC_DAEMON_NS" tcpdump "$@" 2>/dev/null
}
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

# 1. --count N on both interfaces: the first 8 voice packets, nothing else.
PCAP=$PC_TMP/voice.pcapng
capture_start "$PCAP" --class voice --count 8 --json
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto tcp --dport 80 --count 5
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto udp --sport 4000 --dport 5060 --count 3
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --dport 53 --count 4
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --vlan 42 --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4001 --dport 5060 --count 5
# more voice packets behind the 8th, in the same socket's queue (pcsend runs
# on CPU 0: one backlog, in order), so that -c 8 must stop before them
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4002 --dport 5060 --count 6
capture_wait
assert_eq "$(json_get packets <"$PC_TMP/capture.out")" 8 "capture --json: packets"

DUMP=$(dump -nn -e -r "$PCAP") || fail "tcpdump -r failed on $PCAP"
pc_log "tcpdump: $DUMP"
assert_eq "$(stat -c %a "$PCAP")" 600 "mode of a new capture file"
assert_eq "$(grep -c . <<<"$DUMP")" 8 "packets in the pcapng"
assert_eq "$(grep -c '^[0-9:.]* m0 \+In .*10.1.0.1.4000 > 10.1.0.2.5060: ' <<<"$DUMP")" 3 \
	"voice packets in on m0"
assert_eq "$(grep -c "^[0-9:.]* m1 \+In .*vlan 42, .*10.1.0.3.4001 > 10.1.0.4.5060: " <<<"$DUMP")" 5 \
	"tagged voice packets in on m1"
assert_eq "$(grep -c "^[0-9:.]* m0 \+In \+ifindex [0-9]* $(pc_mac "$SRC" s0) ethertype IPv4" <<<"$DUMP")" 3 \
	"link-layer sources of the m0 packets"
assert_eq "$(grep -c ' 80: \|: 53\| 53: \|4002' <<<"$DUMP")" 0 "other classes or later packets in the pcapng"
OUT=$(pc_in "$PC_DAEMON_NS" tcpdump -r "$PCAP" 2>&1)
grep -q "link-type LINUX_SLL2" <<<"$OUT" || fail "capture link type is not LINUX_SLL2: $OUT"
# elsewhere tcpdump still reads it (the names may be another host's)
OUT=$(tcpdump -nn -r "$PCAP" 2>&1) || fail "tcpdump -r outside the namespace: $OUT"
assert_eq "$(grep -c ' In .*5060: ' <<<"$OUT")" 8 "packets read outside the namespace"
# the interface names are in the file too (pcapng interface blocks)
python3 - "$PCAP" <<'PY' || fail "pcapng interface blocks"
import struct, sys
d = open(sys.argv[1], "rb").read()
names, off = [], 0
while off < len(d):
    t, l = struct.unpack_from("<II", d, off)
    if t == 1:
        o = off + 16
        while True:
            c, n = struct.unpack_from("<HH", d, o)
            if c == 0:
                break
            if c == 2:
                names.append(d[o + 4:o + 4 + n].decode())
            o += 4 + n + (-n % 4)
    off += l
assert sorted(names) == ["m0", "m1"], names
PY

# 1b. Both directions of one interface: in from src, out from mid.
PCAP=$PC_TMP/dir.pcapng
capture_start "$PCAP" --class voice --count 4 --iface m1
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4010 --dport 5060 --count 2
pc_send "$MID" -i m1 --src 10.1.0.4 --dst 10.1.0.3 --proto udp --sport 4011 --dport 5060 --count 2
capture_wait
DUMP=$(dump -nn -r "$PCAP") || fail "tcpdump -r failed on $PCAP"
pc_log "tcpdump: $DUMP"
assert_eq "$(grep -c '^[0-9:.]* m1 \+In .*10.1.0.3.4010 > 10.1.0.4.5060: ' <<<"$DUMP")" 2 "voice in on m1"
assert_eq "$(grep -c '^[0-9:.]* m1 \+Out .*10.1.0.4.4011 > 10.1.0.3.5060: ' <<<"$DUMP")" 2 "voice out on m1"

# 2. --iface, until SIGINT: only that interface's packets of the class.
PCAP=$PC_TMP/web.pcapng
capture_start "$PCAP" --class web --iface m1
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.1 --dst 10.1.0.2 --proto tcp --dport 80 --count 4
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto tcp --sport 999 --dport 80 --count 7
# the end marker: a voice packet is not captured, so wait for the web ones
for _ in $(seq 100); do
	N=$(dump -r "$PCAP" | grep -c .)
	((N >= 7)) && break
	sleep 0.05
done
kill -INT "$CAP_PID"
capture_wait
DUMP=$(dump -nn -r "$PCAP") || fail "tcpdump -r failed"
assert_eq "$(grep -c . <<<"$DUMP")" 7 "packets in the --iface m1 pcapng"
assert_eq "$(grep -c '10.1.0.3.999 > 10.1.0.4.80: ' <<<"$DUMP")" 7 "web packets of m1"

# 3. A capture counts nothing: totals are what was sent.
STATS=$(pc_ctl stats --json) || fail "stats"
assert_eq "$(json_get 'classes.name=voice.packets' <<<"$STATS")" 18 "voice counted once"
assert_eq "$(json_get 'classes.name=web.packets' <<<"$STATS")" 16 "web counted once"
assert_eq "$(json_get 'classes.name=web.interfaces.iface=m1.packets' <<<"$STATS")" 7 "web on m1"
assert_eq "$(json_get 'classes.name=voice.interfaces.iface=m1.packets' <<<"$STATS")" 15 "voice on m1"

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
pc_ctl capture --class voice --count 0 -w "$PC_TMP/x.pcap" 2>/dev/null
assert_eq "$?" 2 "exit status for --count 0"
pc_ctl capture --class voice --count x -w "$PC_TMP/x.pcap" 2>/dev/null
assert_eq "$?" 2 "exit status for --count x"
pc_ctl capture --class voice -w /nonexistent/dir/x.pcap 2>/dev/null
assert_eq "$?" 1 "exit status for an unwritable file"
# -c is --config here too: "-c 8" says so; a config given with -c is read
pc_in "$PC_DAEMON_NS" "$PKTCLASSCTL" capture --class voice -c 8 -w "$PC_TMP/x.pcap" 2>"$PC_TMP/err"
assert_eq "$?" 2 "exit status for -c 8"
grep -q -- "-c is --config; for a packet count use --count 8" "$PC_TMP/err" ||
	fail "message for -c 8: $(cat "$PC_TMP/err")"
pc_in "$PC_DAEMON_NS" "$PKTCLASSCTL" capture --class voice -c "$PC_TMP/none.yaml" -w "$PC_TMP/x.pcap" 2>"$PC_TMP/err"
assert_eq "$?" 1 "exit status for a missing -c config"
grep -q "none.yaml: error: cannot read" "$PC_TMP/err" || fail "-c not read as the config: $(cat "$PC_TMP/err")"

# Unsafe output files: nothing is written through them.
VICTIM=$PC_TMP/victim
echo precious >"$VICTIM"
ln -s "$VICTIM" "$PC_TMP/link.pcap"
pc_ctl capture --class voice --count 1 -w "$PC_TMP/link.pcap" 2>"$PC_TMP/err"
assert_eq "$?" 1 "exit status for a symbolic link"
grep -q "is a symbolic link: refusing to follow it" "$PC_TMP/err" || fail "symlink: $(cat "$PC_TMP/err")"
ln "$VICTIM" "$PC_TMP/hard.pcap"
pc_ctl capture --class voice --count 1 -w "$PC_TMP/hard.pcap" 2>"$PC_TMP/err"
assert_eq "$?" 1 "exit status for a hard link"
grep -q "has other hard links" "$PC_TMP/err" || fail "hard link: $(cat "$PC_TMP/err")"
assert_eq "$(cat "$VICTIM")" precious "the file behind the links"
echo theirs >"$PC_TMP/theirs.pcap"
chown 4321 "$PC_TMP/theirs.pcap"
pc_ctl capture --class voice --count 1 -w "$PC_TMP/theirs.pcap" 2>"$PC_TMP/err"
assert_eq "$?" 1 "exit status for another user's file"
grep -q "owned by uid 4321: refusing to write into another user's file" "$PC_TMP/err" ||
	fail "another user's file: $(cat "$PC_TMP/err")"
assert_eq "$(cat "$PC_TMP/theirs.pcap")" theirs "another user's file"
mkfifo "$PC_TMP/fifo.pcap"
timeout 10 nsenter --net="/run/netns/$PC_DAEMON_NS" "$PKTCLASSCTL" -c "$PC_CFG" capture --class voice \
	--count 1 -w "$PC_TMP/fifo.pcap" 2>"$PC_TMP/err"
assert_eq "$?" 1 "exit status for a FIFO (and no hang)"
grep -q "exists and is not a regular file" "$PC_TMP/err" || fail "FIFO: $(cat "$PC_TMP/err")"
# an existing file of ours is overwritten, and made 0600
echo old >"$PC_TMP/old.pcap"
chmod 644 "$PC_TMP/old.pcap"
capture_start "$PC_TMP/old.pcap" --class voice --count 1
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4012 --dport 5060 --count 1
capture_wait
assert_eq "$(stat -c %a "$PC_TMP/old.pcap")" 600 "mode of an overwritten capture file"
assert_eq "$(dump -nn -r "$PC_TMP/old.pcap" | grep -c '10.1.0.3.4012 > 10.1.0.4.5060')" 1 "the overwritten file"

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
PCAP=$PC_TMP/nomon.pcapng
capture_start "$PCAP" --class voice --count 2
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto tcp --dport 80 --count 2
pc_send "$SRC" -i s1 --dst-mac "$M1_MAC" --src 10.1.0.3 --dst 10.1.0.4 --proto udp --sport 4003 --dport 5060 --count 2
capture_wait
DUMP=$(dump -nn -r "$PCAP") || fail "tcpdump -r failed on $PCAP"
assert_eq "$(grep -c 'm1 \+In .*10.1.0.3.4003 > 10.1.0.4.5060: ' <<<"$DUMP")" 2 "voice captured without monitor hooks"

pc_stop_daemon
pc_ctl --pin-path "$PC_PIN" capture --class voice -w "$PC_TMP/x.pcap" 2>"$PC_TMP/nod.err"
assert_eq "$?" 1 "exit status without a daemon"
pc_log "without a daemon: $(cat "$PC_TMP/nod.err")"
grep -q "$PC_PIN" "$PC_TMP/nod.err" || fail "the error does not name the pin path: $(cat "$PC_TMP/nod.err")"
pc_log "PASS"
exit 0
