#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-grow.sh - issue 15.2: the counter capacity grows with the config,
# on reload and on adoption of a pinned state, every count kept exactly.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far (pcrecv)
#
# The configs: "small" (two rules that classify the test traffic: sip ->
# voice, http -> web), "10k" (the same two, then the 9,774 rules of
# ClassBench acl1_10k, each its own class), "100k" (the two, then acl1_10k
# expanded ten times, copy k matching dscp k: 97,740 rules).
# 1. Under continuous traffic: small -> 10k -> 100k -> small, by SIGHUP:
#    the capacity grows at each larger config and stays; voice and web
#    count exactly what was sent, nothing is dropped.
# 2. kill -9 with the small config, start with 10k: the adopted state grows.
# 3. keep_on_exit: stop with the small config, start with 100k.
# Both under traffic, counts exact.  Reload and start times are printed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=traffic-lib.sh
. "$(dirname "$0")/traffic-lib.sh"

pc_init grow
pc_require_daemon
CB=$PC_REPO/tests/data/classbench/acl1_10k
[[ -s $CB ]] || pc_skip "$CB not found"

pc_topology far
recv_start() { pc_recv_start "$FAR" f0 --dst "$DST" "$@"; }
recv_finish() { pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"; }

# configs: $PC_TMP/{small,10k,100k}-{false,true}.yaml (keep_on_exit)
python3 - "$PC_REPO/scripts/classbench2yaml" "$CB" "$PC_PIN" "$PC_TMP" <<'PY'
import subprocess, sys
conv, cb, pin, tmp = sys.argv[1:]
text = subprocess.run([sys.executable, conv, cb], check=True, capture_output=True, text=True).stdout
base = text[text.index("rules:\n") + 7:text.index("default:")].split("  - name: ")[1:]
def x10():
    out = []
    for k in range(10):
        for r in base:
            name, rest = r.split("\n", 1)
            if "    match: { " in rest:
                rest = rest.replace("    match: { ", f"    match: {{ dscp: {k}, ", 1)
            else:
                rest = f"    match: {{ dscp: {k} }}\n" + rest
            out.append(f"  - name: {name}-{k}\n{rest}")
    return "".join(out)
sets = {"small": "", "10k": "".join("  - name: " + r for r in base), "100k": x10()}
for keep in ("false", "true"):
    for name, rules in sets.items():
        open(f"{tmp}/{name}-{keep}.yaml", "w").write(f"""version: 1
settings:
  pin_path: {pin}
  stats_interval: "0"
  keep_on_exit: {keep}
interfaces:
  - name: m0
    hooks: [ingress]
rules:
  - name: sip
    match: {{ proto: udp, dst_port: 5060 }}
    class: voice
  - name: http
    match: {{ proto: tcp, dst_port: 80 }}
    class: web
{rules}default:
  class: other
""")
PY
use() { cp "$PC_TMP/$1-${2:-false}.yaml" "$PC_CFG"; }
status() { pc_ctl_pins status --json; }
cap() { status | json_get slot_cap; }
rules() { status | json_get rules; }
# check_counts VOICE WEB WHAT: exact counts and nothing dropped
check_counts() {
	pc_stats
	assert_eq "$(pc_stats_get 'classes.name=voice.packets')" "$1" "$3: voice"
	assert_eq "$(pc_stats_get 'classes.name=web.packets')" "$2" "$3: web"
	assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" $(($1 + $2)) "$3: packets received"
}
RATE=1500

pc_notify_start
# ==== 1. reloads under traffic ===========================================================
use small
pc_start_daemon "$MID"
CAP0=$(cap)
pc_log "small: $(rules) rules, $CAP0 slots per attachment"
recv_start
pc_traffic_start "$RATE" voice web
for set in 10k 100k small; do
	use "$set"
	t0=$(pc_now_ms)
	pc_reload
	pc_log "reload to $set: $(($(pc_now_ms) - t0)) ms, $(rules) rules, $(cap) slots"
	grep -q "reload failed" <<<"$(status | json_get status)" && fail "reload to $set failed"
	sleep 0.5
done
pc_traffic_stop
recv_finish
CAP1=$(cap)
((CAP1 > CAP0)) || fail "the capacity did not grow: $CAP0 -> $CAP1"
assert_ge "$CAP1" 195482 "slots after 100k rules (rules and classes)"
assert_eq "$(rules)" 2 "rules at the end"
check_counts "$SENT_VOICE" "$SENT_WEB" "small -> 10k -> 100k -> small"
pc_stop_daemon

# ==== 2. kill -9, then a start that needs more slots ==========================================
use small
pc_start_daemon "$MID"
CAP0=$(cap)
recv_start
pc_traffic_start "$RATE" voice web
sleep 0.3
pc_kill9
use 10k
t0=$(pc_now_ms)
pc_start_daemon "$MID"
pc_log "start with 10k over a pinned small state: $(($(pc_now_ms) - t0)) ms, $(cap) slots"
sleep 0.5
pc_traffic_stop
recv_finish
(($(cap) > CAP0)) || fail "the adopted capacity did not grow: $CAP0 -> $(cap)"
assert_eq "$(status | json_get generation)" 2 "generation after the adoption"
check_counts "$SENT_VOICE" "$SENT_WEB" "kill -9, start with 10k"
pc_stop_daemon

# ==== 3. keep_on_exit, then a start that needs more slots =======================================
use small true
pc_start_daemon "$MID"
CAP0=$(cap)
recv_start
pc_traffic_start "$RATE" voice web
sleep 0.3
pc_stop_daemon
sleep 0.3
use 100k true
t0=$(pc_now_ms)
pc_start_daemon "$MID"
pc_log "start with 100k over a kept small state: $(($(pc_now_ms) - t0)) ms, $(cap) slots"
sleep 0.5
pc_traffic_stop
recv_finish
(($(cap) > CAP0)) || fail "the kept capacity did not grow: $CAP0 -> $(cap)"
check_counts "$SENT_VOICE" "$SENT_WEB" "keep_on_exit, start with 100k"
use small
pc_reload
pc_stop_daemon
[[ -z $(find "$PC_PIN" -mindepth 1 -print -quit 2>/dev/null) ]] || fail "pins left after the stop"
pc_log "PASS"
exit 0
