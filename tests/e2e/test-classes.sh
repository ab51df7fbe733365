#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-classes.sh - issue 15.11: declared classes are always listed and keep
# their counts across reloads, while no rule uses them.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0)
#
# classes: [x, y] declared.  Rule r counts udp/5060 under x, then under y
# (reload), then under x again: x = 100 + 100 and y = 100 at the end, both
# listed at every step, y before any rule used it.  A class no config
# declares and no rule uses any more goes.  A kill -9 and a start keep it all.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init classes
pc_require_daemon
pc_topology none
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.1.0.99 --proto udp --dport 5060 --count 100; }

config() {  # CLASS_OF_R [CLASS_OF_A_SECOND_RULE]
	local z=""
	[[ -n ${2:-} ]] && z="  - { name: z-rule, match: { proto: tcp, dst_port: 9 }, class: $2 }"
	cat >"$PC_CFG" <<YAML
version: 1
settings:
  pin_path: $PC_PIN
  stats_interval: "0"
interfaces:
  - name: m0
    hooks: [ingress]
classes:
  - name: x
    description: first
  - name: y
rules:
  - name: r
    match: { proto: udp, dst_port: 5060 }
    class: $1
$z
default:
  class: other
YAML
}
classes() {  # the class names listed, in order
	pc_stats
	json_get classes <<<"$STATS" | python3 -c 'import json, sys; print(" ".join(c["name"] for c in json.load(sys.stdin)))'
}
count() {
	pc_stats
	pc_stats_get "classes.name=$1.packets"
}

pc_notify_start
config x z
pc_start_daemon "$MID"
assert_eq "$(classes)" "x y z other" "classes at the start (y declared, no rule uses it)"
assert_eq "$(count y)" 0 "y before any rule used it"
send
assert_eq "$(count x)" 100 "x after the first 100"

config y
pc_reload
assert_eq "$(classes)" "x y other" "classes with r under y (x declared: still listed; z gone)"
assert_eq "$(count x)" 100 "x kept while no rule uses it"
send
assert_eq "$(count y)" 100 "y"

config x
pc_reload
assert_eq "$(classes)" "x y other" "classes with r under x again"
assert_eq "$(count y)" 100 "y kept while no rule uses it"
send
assert_eq "$(count x)" 200 "x: X -> Y -> X keeps its count"
ST=$(pc_ctl_pins status --json)
assert_eq "$(json_get classes <<<"$ST")" 3 "classes in the status (x, y, other)"

pc_kill9
pc_start_daemon "$MID"
assert_eq "$(classes)" "x y other" "classes after kill -9 and a start"
assert_eq "$(count x)" 200 "x after kill -9 and a start"
assert_eq "$(count y)" 100 "y after kill -9 and a start"
pc_stop_daemon
pc_log "PASS"
exit 0
