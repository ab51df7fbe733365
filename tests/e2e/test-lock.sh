#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-lock.sh - issue 15.7: one daemon per pin path.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0)
#
# 1. Two daemons started together on one pin path, five times: exactly one
#    runs, the other exits 1 at once saying why; the winner's pins are all
#    there and count traffic exactly; its stop leaves nothing behind.
# 2. A second daemon started while one runs: exits 1 at once, and the pins
#    (the same objects: inode numbers), the filter, the status and the
#    counting are exactly as before.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init lock
pc_require_daemon
pc_topology none
LOG=$PC_TMP/pktclassd.log
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.1.0.99 "$@"; }

pc_config_write <<YAML
version: 1
settings:
  pin_path: @PIN@
  stats_interval: "0"
interfaces:
  - name: m0
    hooks: [ingress]
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
default:
  class: other
YAML

# every pin of a running daemon with one attachment
PINS="attach cnt cnt_0 entry_egress entry_ingress entry_sock jmp_sock jmp_tc log log_limit meta slots"
pins_now() { find "$PC_PIN" -mindepth 1 -printf '%f\n' 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }
pins_inodes() { find "$PC_PIN" -mindepth 1 -printf '%f:%i\n' 2>/dev/null | sort; }
ours() { tc -n "$MID" filter show dev m0 ingress 2>/dev/null | grep -c 'pref 49573 bpf.*handle'; }
voice() {
	pc_stats
	pc_stats_get 'classes.name=voice.packets'
}
start_bg() {  # VAR: a daemon in the background, its pid into VAR
	nsenter --net="/run/netns/$MID" -- "$PKTCLASSD" -c "$PC_CFG" --log-target stderr \
		>>"$LOG" 2>&1 &
	printf -v "$1" '%s' "$!"
	PC_PIDS+=("$!")
}
exited() { ! kill -0 "$1" 2>/dev/null; }

# ==== 1. started together ================================================================
for round in 1 2 3 4 5; do
	: >"$LOG"
	start_bg A
	start_bg B
	LOSER="" WINNER=""
	for _ in $(seq 200); do
		if exited "$A"; then LOSER=$A WINNER=$B; break; fi
		if exited "$B"; then LOSER=$B WINNER=$A; break; fi
		sleep 0.05
	done
	[[ -n $LOSER ]] || fail "round $round: both daemons still run after 10 s"
	RC=0
	wait "$LOSER" || RC=$?
	assert_eq "$RC" 1 "round $round: exit status of the daemon that lost"
	grep -q "another pktclassd runs on pin path $PC_PIN: not starting" "$LOG" ||
		fail "round $round: the loser does not say why"
	PC_DAEMON_PID=$WINNER
	PC_DAEMON_NS=$MID
	pc_wait_running
	sleep 0.2
	exited "$WINNER" && fail "round $round: the winner died too"
	assert_eq "$(pins_now)" "$PINS" "round $round: pins of the winner"
	assert_eq "$(ours)" 1 "round $round: our filters on m0 ingress"
	V=$(voice)
	send --proto udp --dport 5060 --count 40
	assert_eq "$(voice)" $((V + 40)) "round $round: voice counted"
	pc_stop_daemon
	assert_eq "$(ours)" 0 "round $round: our filters after the stop"
	[[ -z $(pins_now) ]] || fail "round $round: pins left: $(pins_now)"
done
pc_log "ok: of two started together one runs, five times"

# ==== 2. one after another ==================================================================
: >"$LOG"
pc_start_daemon "$MID"
send --proto udp --dport 5060 --count 25
BEFORE_PINS=$(pins_inodes)
BEFORE_ST=$(pc_ctl_pins status --json)
BEFORE_TC=$(tc -n "$MID" filter show dev m0 ingress)
start_bg B
for _ in $(seq 100); do
	exited "$B" && break
	sleep 0.05
done
exited "$B" || fail "the second daemon still runs"
RC=0
wait "$B" || RC=$?
assert_eq "$RC" 1 "exit status of the second daemon"
grep -q "another pktclassd runs on pin path $PC_PIN: not starting (nothing there was touched)" "$LOG" ||
	fail "the second daemon does not say why"
assert_eq "$(pins_inodes)" "$BEFORE_PINS" "pins and their inodes after the second daemon"
assert_eq "$(pc_ctl_pins status --json)" "$BEFORE_ST" "status after the second daemon"
assert_eq "$(tc -n "$MID" filter show dev m0 ingress)" "$BEFORE_TC" "filters after the second daemon"
assert_eq "$(voice)" 25 "voice before more traffic"
send --proto udp --dport 5060 --count 25
assert_eq "$(voice)" 50 "voice counted on by the first daemon"
pc_stop_daemon
[[ -z $(pins_now) ]] || fail "pins left after the stop: $(pins_now)"
pc_log "PASS"
exit 0
