#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-manylinks.sh - issue 15.8: no fixed attachment cap.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd)
#   ns mid: va0 --veth-- vb0 ... va299 --veth-- vb299 (both ends in mid)
#
# The config matches "va*" with ingress and egress: 600 hooks on 300 links,
# past the 256 of the old fixed cap.  va7 carries an "ingress" qdisc, so no
# clsact can go there: its hooks are skipped with a warning, the others
# work.  Checked: the start succeeds with every other hook attached, packets
# on a veth and on m0 are counted exactly, reloads succeed (their time is
# printed), 20 links added later are attached too, a stop removes all of it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init manylinks
pc_require_daemon
pc_topology none
N=300
LOG=$PC_TMP/pktclassd.log

links() {  # FIRST LAST: veth pairs vaI/vbI in mid, up
	local i
	for ((i = $1; i <= $2; i++)); do
		echo "link add va$i type veth peer name vb$i"
	done >"$PC_TMP/links.batch"
	for ((i = $1; i <= $2; i++)); do
		echo "link set va$i up"
		echo "link set vb$i up"
	done >>"$PC_TMP/links.batch"
	ip -n "$MID" -batch "$PC_TMP/links.batch" || fail "creating veths va$1..va$2"
}
links 0 $((N - 1))
tc -n "$MID" qdisc add dev va7 ingress || fail "ingress qdisc on va7"

pc_config_write <<YAML
version: 1
settings:
  pin_path: @PIN@
  stats_interval: "0"
interfaces:
  - name: "va*"
    hooks: [ingress, egress]
  - name: m0
    hooks: [ingress]
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
default:
  class: other
YAML
attached() { pc_ctl_pins status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(1 for a in s["attachments"] if a["iface"].startswith("va") and a["state"] == "attached"))'
}
voice_on() {  # IFACE HOOK: voice packets there
	pc_ctl_pins stats --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(i["packets"] for c in s["classes"] if c["name"] == "voice"
          for i in c.get("interfaces", []) if i["iface"] == sys.argv[1] and i["hook"] == sys.argv[2]))
' "$1" "$2"
}

pc_notify_start
t0=$(pc_now_ms)
pc_start_daemon "$MID"
START_MS=$(($(pc_now_ms) - t0))
pc_log "start with $((2 * N)) hooks: $START_MS ms"
# (a late link event of va7 makes the daemon try it again: a moment with a
# record for it)
settle() {
	for _ in $(seq 50); do
		(($(attached) == $1)) && return 0
		sleep 0.1
	done
}
settle $((2 * N - 2))
assert_eq "$(attached)" $((2 * N - 2)) "va* hooks attached (all but va7's two)"
grep -q "va7 ingress: attaching" "$LOG" || fail "va7 ingress: no warning"
grep -q "va7 egress: attaching" "$LOG" || fail "va7 egress: no warning"
[[ $(tc -n "$MID" qdisc show dev va7) == *"qdisc ingress"* ]] || fail "the foreign ingress qdisc on va7 was touched"
[[ $(pc_ctl_pins status --json | json_get status) == "generation 1, 1 rules, $((2 * N - 1)) attachments" ]] ||
	fail "status line: $(pc_ctl_pins status --json | json_get status)"

# packets into va150 (sent on its peer) and into m0, counted exactly
MAC=$(pc_mac "$MID" va150)
pc_send "$MID" -i vb150 --dst-mac "$MAC" --src 10.9.0.1 --dst 10.9.0.2 --proto udp --dport 5060 --count 40
assert_eq "$(voice_on va150 ingress)" 40 "voice on va150 ingress"
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.1.0.99 --proto udp --dport 5060 --count 30
assert_eq "$(voice_on m0 ingress)" 30 "voice on m0 ingress"

# reloads at that size
TIMES=()
for i in 1 2 3 4 5; do
	sed -i "s/dst_port: [0-9]* }/dst_port: $((5060 + i % 2)) }/" "$PC_CFG"
	t0=$(pc_now_ms)
	pc_reload
	TIMES+=($(($(pc_now_ms) - t0)))
	[[ $(pc_ctl_pins status --json | json_get reload) == ok ]] || fail "reload $i failed"
done
sed -i "s/dst_port: [0-9]* }/dst_port: 5060 }/" "$PC_CFG"
pc_reload
settle $((2 * N - 2))
RELOADS=$(printf '%s\n' "${TIMES[@]}" | sort -n | tr '\n' ' ')
MEDIAN=$(printf '%s\n' "${TIMES[@]}" | sort -n | sed -n 3p)
pc_log "reloads with $((2 * N - 1)) attachments (SIGHUP to READY=1): $RELOADS ms, median $MEDIAN"
assert_eq "$(attached)" $((2 * N - 2)) "va* hooks attached after the reloads"
pc_send "$MID" -i vb150 --dst-mac "$MAC" --src 10.9.0.1 --dst 10.9.0.2 --proto udp --dport 5060 --count 10
assert_eq "$(voice_on va150 ingress)" 50 "voice on va150 ingress after the reloads"

# links added later
t0=$(pc_now_ms)
links $N $((N + 19))
for _ in $(seq 300); do
	(($(attached) == 2 * N + 38)) && break
	sleep 0.1
done
assert_eq "$(attached)" $((2 * N + 38)) "va* hooks attached after 20 more links"
pc_log "20 links added: attached within $(($(pc_now_ms) - t0)) ms"

t0=$(pc_now_ms)
pc_stop_daemon
pc_log "stop: $(($(pc_now_ms) - t0)) ms"
for i in 0 150 299 319; do
	[[ -z $(tc -n "$MID" filter show dev "va$i" ingress) ]] || fail "filters left on va$i"
done
[[ -z $(find "$PC_PIN" -mindepth 1 -print -quit 2>/dev/null) ]] || fail "pins left after the stop"
echo "# manylinks: start $START_MS ms with $((2 * N)) hooks; reloads $RELOADS ms (median $MEDIAN)"
pc_log "PASS"
exit 0
