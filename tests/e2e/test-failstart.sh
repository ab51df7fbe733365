#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-failstart.sh - issue 15.6: a failed start or reload never touches
# what it adopted or what runs.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd)
#           s1 --veth-- m1
#
# The failure points: every place between the adoption and the switch that
# opens a file descriptor (maps of a counter set that must grow, the
# classifier's maps and programs, counter arrays of a new attachment,
# netlink sockets...).  The test lowers RLIMIT_NOFILE one step at a time,
# so that each start fails one fd further than the one before, until one
# succeeds.  The new config needs more counter slots than the pinned state
# has and attaches a second interface, so the growth and the new attach
# slot are among the failure points.
# 1. After kill -9: each failing start exits 1, and the pins (the same
#    objects), their contents (status, stats with every rule and class), and
#    the filters are exactly as before; the old programs go on counting.
# 2. The same after a stop with keep_on_exit.
# 3. A running daemon whose reload fails (the same limit, set on it with
#    prlimit --pid): the old generation runs on, the pins and the filters
#    are as they were (only the status says the reload failed).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init failstart
pc_require_daemon
pc_require_cmd prlimit
pc_topology src
LOG=$PC_TMP/pktclassd.log
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.1.0.99 "$@"; }

config() {  # KEEP_ON_EXIT IFACES EXTRA_RULES > file
	python3 - "$PC_PIN" "$@" <<'PY'
import sys
pin, keep, ifaces, extra = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
print(f"""version: 1
settings:
  pin_path: {pin}
  stats_interval: "0"
  keep_on_exit: {keep}
interfaces:""")
for i in ifaces:
    print(f"  - name: {i}\n    hooks: [ingress]")
print("""rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice""")
for i in range(extra):
    print(f"  - name: x{i}\n    match: {{ proto: tcp, src_port: {1 + i} }}")
print("default:\n  class: other")
PY
}

# What must not change: the pins (names and inodes), the status and stats
# without the daemon's pid and liveness, our filters.
state() {
	find "$PC_PIN" -mindepth 1 -printf '%f:%i\n' | sort
	pc_ctl_pins status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
for k in ("running", "pid"):
    s.pop(k, None)
print(json.dumps(s, sort_keys=True))'
	pc_ctl_pins stats --rules --json
	tc -n "$MID" filter show dev m0 ingress
	tc -n "$MID" filter show dev m1 ingress
}
voice() {
	pc_stats
	pc_stats_get 'classes.name=voice.packets'
}

# try_start N: start with at most N fds open; 1 when it failed (exit 1),
# 0 when it started (PC_DAEMON_PID is then the daemon).
try_start() {
	local pid rc=0
	: >"$LOG.try"
	nsenter --net="/run/netns/$MID" -- prlimit --nofile="$1:$1" "$PKTCLASSD" -c "$PC_CFG" \
		--log-target stderr >>"$LOG.try" 2>&1 &
	pid=$!
	PC_PIDS+=("$pid")
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		if grep -q "started: generation" "$LOG.try"; then
			PC_DAEMON_PID=$pid
			PC_DAEMON_NS=$MID
			cat "$LOG.try" >>"$LOG"
			return 0
		fi
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "a start with $1 fds neither failed nor started"
	wait "$pid" || rc=$?
	cat "$LOG.try" >>"$LOG"
	assert_eq "$rc" 1 "exit status of the start with $1 fds"
	return 1
}

# sweep WHAT SENT: fds from 4 up until a start succeeds; each failure
# checked.  SENT: voice packets counted so far.
sweep() {
	local what=$1 n fails=0 before after adopted=0 reasons
	VOICE=$2
	before=$(state)
	for n in $(seq 4 400); do
		if try_start "$n"; then
			pc_log "$what: started with $n fds, after $fails failed starts ($adopted after the adoption)"
			break
		fi
		fails=$((fails + 1))
		grep -q "is left as it was" "$LOG.try" && adopted=$((adopted + 1))
		after=$(state)
		[[ $after == "$before" ]] ||
			fail "$what: the state changed by the start that failed with $n fds:$(diff <(echo "$before") <(echo "$after") | head -20)"
		# the old programs classify and count on
		send --proto udp --dport 5060 --count 3
		VOICE=$((VOICE + 3))
		assert_eq "$(voice)" "$VOICE" "$what: voice after the failed start with $n fds"
		before=$(state)
	done
	[[ -n $PC_DAEMON_PID ]] || fail "$what: no start succeeded"
	((adopted >= 5)) || fail "$what: only $adopted failures after the adoption"
	reasons=$(sed -n 's/.*start failed: \([^;]*\).*PKTCLASS_GENERATION.*/\1/p' "$LOG" | sed 's/: .*//' | sort -u | tr '\n' ';')
	pc_log "$what: failure points seen: $reasons"
	assert_eq "$(voice)" "$VOICE" "$what: voice after the start that adopted"
	assert_ge "$(pc_ctl_pins status --json | json_get slot_cap)" 3000 "$what: the capacity grew"
	# with the fds just enough, the new interface may be skipped (warned)
	[[ $(tc -n "$MID" filter show dev m1 ingress) == *"pref 49573 bpf"* ]] ||
		grep -q "m1: no counters for its new hooks, skipped" "$LOG.try" ||
		fail "$what: m1 neither attached nor skipped with a warning"
}

# ==== 1. kill -9 ==========================================================================
config false m0 0 >"$PC_CFG"
pc_start_daemon "$MID"
send --proto udp --dport 5060 --count 30
pc_kill9
config false m0,m1 2000 >"$PC_CFG"
sweep "kill -9" 30
pc_stop_daemon

# ==== 2. keep_on_exit ========================================================================
config true m0 0 >"$PC_CFG"
pc_start_daemon "$MID"
send --proto udp --dport 5060 --count 20
pc_stop_daemon
config true m0,m1 2000 >"$PC_CFG"
sweep "keep_on_exit" 20

# ==== 3. failed reloads of a running daemon ======================================================
# the running daemon (it adopts what the last one kept): config with m0
# only, then reloads that need more
pc_stop_daemon
config false m0 0 >"$PC_CFG"
pc_notify_start
pc_start_daemon "$MID"
send --proto udp --dport 5060 --count 10
VOICE=$(voice)
OPEN=$(ls "/proc/$PC_DAEMON_PID/fd" | wc -l)
config false m0,m1 2000 >"$PC_CFG"
gen=$(pc_ctl_pins status --json | json_get generation)
for n in $(seq $((OPEN + 1)) 400); do
	before=$(state | grep -v '"status"\|"reload"')
	prlimit --pid "$PC_DAEMON_PID" --nofile="$n:4096" || fail "prlimit --pid"
	pc_reload
	ST=$(pc_ctl_pins status --json)
	if [[ $(json_get reload <<<"$ST") == ok ]]; then
		pc_log "reload: succeeded with $n fds"
		break
	fi
	assert_eq "$(json_get generation <<<"$ST")" "$gen" "generation after the reload failed with $n fds"
	after=$(state | grep -v '"status"\|"reload"')
	[[ $after == "$before" ]] ||
		fail "the state changed by the reload that failed with $n fds:$(diff <(echo "$before") <(echo "$after") | head -20)"
	send --proto udp --dport 5060 --count 2
	VOICE=$((VOICE + 2))
	assert_eq "$(voice)" "$VOICE" "voice after the reload failed with $n fds"
done
[[ $(json_get reload <<<"$ST") == ok ]] || fail "no reload succeeded"
prlimit --pid "$PC_DAEMON_PID" --nofile=1024:4096
assert_eq "$(voice)" "$VOICE" "voice after the good reload"
pc_stop_daemon
pc_log "PASS"
exit 0
