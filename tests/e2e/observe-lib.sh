# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# observe-lib.sh - sourced after lib.sh by the observability tests
# (test-monitor, test-capture, test-pktlog).
#
# `ip netns exec` gives a command a private mount namespace with a fresh
# /sys, so a daemon started through it would mount a bpffs that pktclassctl
# never sees: the daemon and pktclassctl enter only the network namespace
# (nsenter --net).  The daemon logs to stderr, one line per record with its
# structured fields, into $PC_TMP/pktclassd.log.

pc_require_cmd nsenter

pc_nsenter() {  # NS CMD...
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

pc_ctl() {  # ARGS...: pktclassctl -c CFG ARGS in the daemon's namespace
	pc_nsenter "$PC_DAEMON_NS" "$PKTCLASSCTL" -c "$PC_CFG" "$@"
}

pc_start_daemon() {  # NS
	PC_DAEMON_NS=$1
	nsenter --net="/run/netns/$1" "$PKTCLASSD" -c "$PC_CFG" --log-target stderr \
		>"$PC_TMP/pktclassd.log" 2>&1 &
	PC_DAEMON_PID=$!
	for _ in $(seq 200); do
		if ! kill -0 "$PC_DAEMON_PID" 2>/dev/null; then
			wait "$PC_DAEMON_PID"
			fail "pktclassd exited during startup with status $?"
		fi
		if grep -qs 'PKTCLASS_RESULT=ok' "$PC_TMP/pktclassd.log" &&
			pc_ctl status --json 2>/dev/null | pc_status_running; then
			pc_log "pktclassd running (pid $PC_DAEMON_PID)"
			return 0
		fi
		sleep 0.1
	done
	fail "pktclassd not running after 20 s"
}

# pc_log_field FIELD LINE: the value of FIELD=... on a log line.
pc_log_field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}
