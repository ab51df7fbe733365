# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# observe-lib.sh - sourced after lib.sh by the observability tests
# (test-monitor, test-capture, test-pktlog).  The daemon logs to stderr, one
# line per record with its structured fields, into $PC_TMP/pktclassd.log.

pc_require_cmd nsenter

# pc_log_field FIELD LINE: the value of FIELD=... on a log line.
pc_log_field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

# pc_start_daemon_logged NS: pc_start_daemon, then wait for the start
# record (written once the event loop's sources, the packet log's too, exist).
pc_start_daemon_logged() {
	pc_start_daemon "$1"
	for _ in $(seq 100); do
		grep -qs 'PKTCLASS_RESULT=ok' "$PC_TMP/pktclassd.log" && return 0
		sleep 0.1
	done
	fail "no start record in the daemon's log"
}
