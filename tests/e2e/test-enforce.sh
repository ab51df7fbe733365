#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-enforce.sh - issue 15.1: enforcement lost by someone else's hand is
# noticed, logged and put back; foreign filters are never touched.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress+egress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far
#
# 1. `tc qdisc del dev m0 clsact` under counted traffic: a lost record, the
#    clsact and both filters come back, a restored record; counts resume
#    (an exact burst afterwards is counted exactly).
# 2. `tc filter del` of our ingress filter only, with a foreign u32 filter
#    beside it: ours is back, the foreign one is exactly as it was.
# 3. A foreign filter takes our priority after ours was deleted: the
#    attachment is "missing" in `pktclassctl status` and STATUS= until it
#    can be put back; once the foreign filter goes, ours returns.
# 4. A stop removes our filters only: the foreign filter and its clsact stay.
# Prints how long noticing and restoring took (not asserted).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=traffic-lib.sh
. "$(dirname "$0")/traffic-lib.sh"

pc_init enforce
pc_require_daemon

pc_topology far
LOG=$PC_TMP/pktclassd.log
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --dst "$DST" "$@"; }

ours() {  # HOOK: how many filters of ours on m0
	tc -n "$MID" filter show dev m0 "$1" 2>/dev/null | grep -c 'pref 49573 bpf.*handle 0x1 .*pktclassd'
}
both_ours() { (($(ours ingress) == 1 && $(ours egress) == 1)); }
# wait_for WHAT CMD...: until CMD succeeds (10 s at most); the ms it took in WAITED
wait_for() {
	local what=$1 t0
	shift
	t0=$(pc_now_ms)
	for _ in $(seq 1000); do
		if "$@"; then
			WAITED=$(($(pc_now_ms) - t0))
			return 0
		fi
		sleep 0.01
	done
	fail "$what: not within 10 s"
}
voice() {
	pc_stats
	pc_stats_get 'classes.name=voice.packets'
}
att_state() {  # HOOK: the state pktclassctl status gives m0's attachment
	pc_ctl_pins status --json | json_get "attachments.hook=$1.state"
}

pc_config_write <<YAML
version: 1
settings:
  pin_path: @PIN@
  stats_interval: "0"
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
pc_notify_start
pc_start_daemon "$MID"
both_ours || fail "our filters are not on m0 after the start"

# ==== 1. the clsact deleted under traffic =======================================
pc_traffic_start 5000 voice web
sleep 0.3
V0=$(voice)
tc -n "$MID" qdisc del dev m0 clsact || fail "tc qdisc del clsact"
wait_for "our filters back after the clsact was deleted" both_ours
CLSACT_MS=$WAITED
pc_log "ok: clsact and filters back $CLSACT_MS ms after tc qdisc del returned"
wait_for "the lost record" grep -q 'PKTCLASS_REASON=the clsact qdisc was deleted' "$LOG"
wait_for "the restored record" grep -q 'our filter is back' "$LOG"
RESTORE_US=$(sed -n 's/.*m0 ingress: our filter is back.*PKTCLASS_DURATION_USEC=\([0-9]*\).*/\1/p' "$LOG" | tail -n 1)
pc_log "daemon: restored ingress ${RESTORE_US:-?} us after noticing the loss"
grep -q "MESSAGE_ID\|PKTCLASS_HOOK=ingress" "$LOG" || fail "no hook in the records"
sleep 0.3
V1=$(voice)
((V1 > V0)) || fail "voice stopped counting: $V0 -> $V1"
pc_traffic_stop
assert_eq "$(att_state ingress)" attached "ingress state after the restore"
assert_eq "$(att_state egress)" attached "egress state after the restore"
# counts resume exactly
sleep 0.2
V2=$(voice)
send --src 10.1.0.10 --proto udp --dport 5060 --count 100
assert_eq "$(voice)" $((V2 + 100)) "voice after the restore: an exact burst"
pc_log "ok: counts resume ($V0 -> $V1 under traffic; +100 exactly)"

# ==== 2. our filter deleted, a foreign one beside it ================================
# (it matches IP protocol 253 only, never sent here)
tc -n "$MID" filter add dev m0 ingress pref 10 protocol ip u32 match ip protocol 253 0xff ||
	fail "adding the foreign u32 filter"
FOREIGN=$(tc -n "$MID" filter show dev m0 ingress pref 10)
[[ -n $FOREIGN ]] || fail "the foreign filter is not there"
tc -n "$MID" filter del dev m0 ingress pref 49573 handle 1 bpf || fail "tc filter del of ours"
wait_for "our ingress filter back" both_ours
pc_log "ok: our deleted filter back after $WAITED ms"
assert_eq "$(tc -n "$MID" filter show dev m0 ingress pref 10)" "$FOREIGN" "the foreign filter"
wait_for "a lost record for the filter" grep -q 'PKTCLASS_REASON=our filter was deleted or replaced' "$LOG"
V2=$(voice)
send --src 10.1.0.10 --proto udp --dport 5060 --count 50
assert_eq "$(voice)" $((V2 + 50)) "voice after the filter came back"

# ==== 3. a foreign filter at our priority: missing until it goes ====================
# delete ours and put a foreign filter in its place in one batch (before the
# daemon puts ours back); retried if the daemon was quicker
cat >"$PC_TMP/tc.batch" <<EOF
filter del dev m0 ingress pref 49573 handle 1 bpf
filter add dev m0 ingress pref 49573 protocol ip u32 match ip protocol 254 0xff
EOF
for try in $(seq 20); do
	tc -n "$MID" -batch "$PC_TMP/tc.batch" 2>/dev/null &&
		[[ $(tc -n "$MID" filter show dev m0 ingress pref 49573) == *u32* ]] && break
	wait_for "our filter back before try $try" both_ours
done
[[ $(tc -n "$MID" filter show dev m0 ingress pref 49573) == *u32* ]] ||
	fail "could not put a foreign filter at our priority"
wait_for "the ingress attachment marked missing" test "$(att_state ingress)" = missing
assert_eq "$(att_state egress)" attached "egress state while ingress is missing"
ST=$(pc_ctl_pins status --json)
[[ $(json_get status <<<"$ST") == *"1 missing"* ]] || fail "status line: $(json_get status <<<"$ST")"
[[ $(pc_ctl_pins status) =~ m0\ +ingress\ .*MISSING ]] || fail "status text does not say missing"
wait_for "STATUS= saying missing" grep -q "STATUS=.*1 missing" "$PC_NOTIFY_LOG"
grep -q "a foreign filter holds its priority" "$LOG" || fail "the failed restore is not logged"
pc_log "ok: missing while a foreign filter holds our priority"
sleep 1.5 # retries meanwhile must leave the foreign filter alone
[[ $(tc -n "$MID" filter show dev m0 ingress pref 49573) == *u32* ]] || fail "the foreign filter was touched"
tc -n "$MID" filter del dev m0 ingress pref 49573 u32 || fail "deleting the foreign filter"
wait_for "our filter back once the foreign one went" both_ours
wait_for "the ingress attachment attached again" test "$(att_state ingress)" = attached
pc_log "ok: back $WAITED ms after the foreign filter went"
V2=$(voice)
send --src 10.1.0.10 --proto udp --dport 5060 --count 30
assert_eq "$(voice)" $((V2 + 30)) "voice after the last restore"

# ==== 4. stop: ours go, the foreign filter and its clsact stay ======================
pc_stop_daemon
assert_eq "$(ours ingress)" 0 "our ingress filters after the stop"
assert_eq "$(ours egress)" 0 "our egress filters after the stop"
assert_eq "$(tc -n "$MID" filter show dev m0 ingress pref 10)" "$FOREIGN" "the foreign filter after the stop"
[[ $(tc -n "$MID" qdisc show dev m0) == *clsact* ]] || fail "the clsact with a foreign filter was removed"
echo "# enforce: clsact deleted -> filters back in $CLSACT_MS ms (test's view); daemon restore ${RESTORE_US:-?} us after noticing"
pc_log "PASS"
exit 0
