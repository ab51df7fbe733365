#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-redirect.sh - issue 15.11: redirect targets followed as interfaces
# come and go, with real traffic.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far   (where DST is routed)
#                        rx0 --veth-- rx1 :ns red (the redirect target, when it exists)
#
# Rule "to-red" redirects udp/7000 (and the end marker) from 10.1.0.77 to rx0.
# 1. rx0 missing at start: a warning; the packets pass (routed to far).
# 2. rx0 created: a record; every packet arrives on rx1, none on far.
# 3. rx0 deleted: a record; they pass again.
# 4. rx0 created again (a new ifindex): redirected again without a reload.
# 5. rx0 renamed away: they pass; renamed back: redirected.
# The rule counts every packet throughout.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init redirect
pc_require_daemon
pc_topology far
pc_ns RED red
LOG=$PC_TMP/pktclassd.log
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.77 --dst "$DST" --proto udp --dport 7000 "$@"; }

make_rx0() {  # the target and its peer in ns red
	pc_veth "$MID" rx0 "$RED" rx1
}
pc_config_write <<YAML
version: 1
settings:
  pin_path: @PIN@
  stats_interval: "0"
interfaces:
  - name: m0
    hooks: [ingress]
rules:
  - name: to-red
    match: { src: 10.1.0.77, proto: udp, dst_port: [7000, 65000] }
    redirect: rx0
default:
  class: other
YAML
rule_count() {
	pc_stats
	pc_stats_get 'rules.name=to-red.packets'
}
# expect WHERE N: N packets sent arrive on rx1 (WHERE=red) or on f0 (far),
# the other side gets none
expect() {
	local other
	if [[ $1 == red ]]; then
		pc_recv_start "$RED" rx1 --src 10.1.0.77 --dport 7000
		other=$PC_TMP/far.out
		nsenter --net="/run/netns/$FAR" -- "$PCRECV" -i f0 --src 10.1.0.77 --dport 7000 \
			--timeout 3 --json >"$other" &
	else
		pc_recv_start "$FAR" f0 --src 10.1.0.77 --dport 7000
		other=$PC_TMP/red.out
		if ip -n "$MID" link show rx0 >/dev/null 2>&1; then
			nsenter --net="/run/netns/$RED" -- "$PCRECV" -i rx1 --src 10.1.0.77 --dport 7000 \
				--timeout 3 --json >"$other" &
		else
			echo '{"packets": 0}' >"$other"
		fi
	fi
	local opid=$!
	sleep 0.3
	send --count "$2"
	if [[ $1 == red ]]; then
		pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.77 --dst "$DST"
	else
		pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"
	fi
	wait "$opid" 2>/dev/null
	assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$2" "packets on the $1 side"
	assert_eq "$(json_get packets <"$other")" 0 "packets on the other side"
}
SENT=0
sent() { SENT=$((SENT + $1 + ${2:-0})); }
wait_log() {  # PATTERN
	for _ in $(seq 100); do
		grep -q "$1" "$LOG" && return 0
		sleep 0.05
	done
	fail "not in the log: $1"
}

# ==== 1. missing at start ==============================================================
pc_notify_start
pc_start_daemon "$MID"
grep -q "rule 'to-red': redirect interface rx0 does not exist (yet)" "$LOG" || fail "no warning for rx0"
expect far 50
sent 50
assert_eq "$(rule_count)" "$SENT" "to-red counted while rx0 is missing"

# ==== 2. created ==========================================================================
make_rx0
IDX=$(ip -n "$MID" -o link show rx0 | cut -d: -f1)
wait_log "redirect target rx0 is interface $IDX again: 1 rule(s) redirect there"
grep -q "PKTCLASS_IFACE=rx0 PKTCLASS_IFINDEX=$IDX PKTCLASS_RULES=1" "$LOG" || fail "record fields"
expect red 100
sent 100 1 # and the end marker
assert_eq "$(rule_count)" "$SENT" "to-red counted while redirecting"

# ==== 3. deleted ===========================================================================
ip -n "$MID" link del rx0 || fail "deleting rx0"
wait_log "redirect target rx0 vanished: 1 rule(s) pass until it appears"
expect far 50
sent 50

# ==== 4. created again ======================================================================
make_rx0
IDX2=$(ip -n "$MID" -o link show rx0 | cut -d: -f1)
[[ $IDX2 != "$IDX" ]] || pc_log "note: rx0 got the same ifindex $IDX again"
wait_log "redirect target rx0 is interface $IDX2 again"
expect red 100
sent 100 1
assert_eq "$(rule_count)" "$SENT" "to-red counted after rx0 came back"

# ==== 5. renamed away and back ================================================================
ip -n "$MID" link set rx0 down
ip -n "$MID" link set rx0 name rx0-old || fail "renaming rx0"
wait_log "redirect target rx0 was renamed to rx0-old"
expect far 30
sent 30
ip -n "$MID" link set rx0-old name rx0 || fail "renaming rx0 back"
ip -n "$MID" link set rx0 up
for _ in $(seq 100); do
	(($(grep -c "redirect target rx0 is interface $IDX2 again" "$LOG") >= 2)) && break
	sleep 0.05
done
expect red 40
sent 40 1
assert_eq "$(rule_count)" "$SENT" "to-red counted through all of it"
assert_eq "$(pc_ctl_pins status --json | json_get generation)" 1 "no reload happened"
pc_stop_daemon
pc_log "PASS"
exit 0
