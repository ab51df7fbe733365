#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-pktlog.sh - the packet log and the stats records, read through the
# daemon's stderr sink (one line per record, with its fields):
#  - a rule with log: true gives records with the spec's fields, others none;
#  - a flood of 10,000 matching packets with log_rate: 20 is rate limited:
#    every packet is either logged or counted as suppressed (exact), at most
#    burst + rate * elapsed are logged, and the daemon's memory stays flat;
#  - SIGUSR1 writes one stats record per class, with totals and deltas.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=observe-lib.sh
. "$(dirname "$0")/observe-lib.sh"

pc_init pktlog
pc_require_daemon

pc_ns SRC src
pc_ns MID mid
pc_veth "$SRC" s0 "$MID" m0
M0_MAC=$(pc_mac "$MID" m0)
LOG=$PC_TMP/pktclassd.log

pc_config_write <<'YAML'
version: 1
settings:
  pin_path: @PIN@
  stats_interval: 1h
  log_rate: 20
interfaces:
  - name: m0
    hooks: [ingress]
rules:
  - name: web
    match: { proto: tcp, dst_port: 80 }
    class: www
    log: true
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
default:
  class: other
YAML
pc_start_daemon_logged "$MID"
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" "$@"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$PC_DAEMON_PID/status"; }

# wait_lines PATTERN N: until the log has N lines matching PATTERN (10 s).
wait_lines() {
	for _ in $(seq 200); do
		(($(grep -c -- "$1" "$LOG") >= $2)) && return 0
		sleep 0.05
	done
	fail "fewer than $2 log lines match '$1': $(grep -c -- "$1" "$LOG")"
}

# 1. One logged packet, and packets of a rule without log.
send --src 10.1.0.1 --dst 10.1.0.2 --proto udp --dport 5060 --count 5
send --src 10.1.0.7 --dst 10.1.0.8 --proto tcp --sport 40000 --dport 80 --count 1
wait_lines 'PKTCLASS_RULE=' 1
LINE=$(grep 'PKTCLASS_RULE=' "$LOG")
pc_log "record: $LINE"
assert_eq "$(grep -c 'PKTCLASS_RULE=' "$LOG")" 1 "records after one logged packet"
for kv in RULE=web CLASS=www IFACE=m0 HOOK=ingress SRC=10.1.0.7 DST=10.1.0.8 PROTO=tcp \
	SRC_PORT=40000 DST_PORT=80 LENGTH=70; do
	assert_eq "$(pc_log_field "PKTCLASS_${kv%%=*}" "$LINE")" "${kv#*=}" "field PKTCLASS_${kv%%=*}"
done
grep -q '^pktclassd: rule web (class www): m0 ingress, tcp 10.1.0.7:40000 -> 10.1.0.8:80, 70 bytes ' <<<"$LINE" ||
	fail "message of the record: $LINE"

# 2. A flood.
RSS0=$(rss_kib)
T0=$(date +%s%N)
send --src 10.1.0.9 --dst 10.1.0.8 --proto tcp --sport 1000-1999 --dport 80 --count 10000
sleep 0.5
pc_ctl stats --json >"$PC_TMP/stats.json" || fail "stats"
assert_eq "$(json_get 'classes.name=www.packets' <"$PC_TMP/stats.json")" 10001 "www packets (all counted)"
RSS1=$(rss_kib)
pc_log "daemon RSS: $RSS0 KiB before the flood, $RSS1 KiB after"
((RSS1 - RSS0 < 2048)) || fail "the daemon grew by $((RSS1 - RSS0)) KiB during the flood"

# 3. SIGUSR1: stats records now, one per class, with deltas.
kill -USR1 "$PC_DAEMON_PID"
wait_lines 'PKTCLASS_PACKETS_DELTA=' 3
W=$(grep 'PKTCLASS_CLASS=www .*PKTCLASS_PACKETS_DELTA=' "$LOG")
assert_eq "$(pc_log_field PKTCLASS_PACKETS "$W")" 10001 "stats record: www total"
assert_eq "$(pc_log_field PKTCLASS_PACKETS_DELTA "$W")" 10001 "stats record: www delta"
assert_eq "$(pc_log_field PKTCLASS_BYTES "$W")" $((10001 * 70)) "stats record: www bytes"
assert_eq "$(pc_log_field PKTCLASS_GENERATION "$W")" 1 "stats record: generation"
V=$(grep 'PKTCLASS_CLASS=voice .*PKTCLASS_PACKETS_DELTA=' "$LOG")
assert_eq "$(pc_log_field PKTCLASS_PACKETS "$V")" 5 "stats record: voice total"
grep -q '^pktclassd: class www: 10001 packets, 683.7 KiB in ' <<<"$W" || fail "stats message: $W"
send --src 10.1.0.1 --dst 10.1.0.2 --proto udp --dport 5060 --count 3
sleep 0.3
kill -USR1 "$PC_DAEMON_PID"
wait_lines 'PKTCLASS_CLASS=voice .*PKTCLASS_PACKETS_DELTA=' 2
V=$(grep 'PKTCLASS_CLASS=voice .*PKTCLASS_PACKETS_DELTA=' "$LOG" | tail -n 1)
assert_eq "$(pc_log_field PKTCLASS_PACKETS "$V")" 8 "second stats record: voice total"
assert_eq "$(pc_log_field PKTCLASS_PACKETS_DELTA "$V")" 3 "second stats record: voice delta"

# 4. Stop: the suppressed count is flushed.  Every packet of the flood was
# logged or counted as suppressed.
pc_stop_daemon
T1=$(date +%s%N)
LOGGED=$(grep -c 'PKTCLASS_RULE=web' "$LOG")
SUPPRESSED=$(sed -n 's/.* PKTCLASS_SUPPRESSED=\([0-9]*\).*/\1/p' "$LOG" | awk '{ s += $1 } END { print s + 0 }')
ELAPSED_S=$(((T1 - T0) / 1000000000 + 1))
pc_log "logged $LOGGED, suppressed $SUPPRESSED, within ${ELAPSED_S} s"
assert_eq "$((LOGGED + SUPPRESSED))" 10001 "logged + suppressed"
assert_ge "$LOGGED" 20 "logged (the first second's burst)"
((LOGGED <= 20 + 20 * ELAPSED_S)) ||
	fail "logged $LOGGED records: more than 20 + 20 per second over $ELAPSED_S s"
grep -q 'PKTCLASS_LOG_RATE=20' "$LOG" || fail "no PKTCLASS_LOG_RATE in the suppressed record"
pc_log "PASS"
exit 0
