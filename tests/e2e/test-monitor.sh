#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-monitor.sh - a monitor hook counts what each rule would do, in both
# directions, labelled "monitor" in the stats, and enforces nothing: a drop
# rule drops nothing (its packets are counted as "would drop" in stats), a
# set rule rewrites nothing.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, monitor on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far
#
# What passes mid is counted one hop further (pcrecv in far for src -> far,
# in src for far -> src): AF_PACKET in mid would see even dropped packets.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=observe-lib.sh
. "$(dirname "$0")/observe-lib.sh"

pc_init monitor
pc_require_daemon

pc_topology far

pc_config_write <<'YAML'
version: 1
settings:
  pin_path: @PIN@
  stats_interval: 0
interfaces:
  - name: m0
    hooks: [monitor]
rules:
  - name: blocked
    match: { src: 10.9.0.0/16 }
    action: drop
  - name: sip
    match: { direction: ingress, proto: udp, dst_port: 5060 }
    class: voice
    set: { dscp: ef, mark: 0x20 }
  - name: back
    match: { direction: egress, proto: tcp, dst_port: 8080 }
  - name: web
    match: { proto: tcp, dst_port: 80 }
default:
  class: other
YAML

pc_start_daemon "$MID"
STATUS=$(pc_ctl status --json) || fail "pktclassctl status failed"
assert_eq "$(json_get 'attachments.iface=m0.hook' <<<"$STATUS")" monitor "status: monitor attachment on m0"
if tc -n "$MID" qdisc show dev m0 | grep -q clsact; then
	fail "a monitor hook created a clsact qdisc"
fi

# src -> far through m0 (ingress on m0)
pc_recv_start "$FAR" f0 --dst 10.2.0.99 --verify-csum
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.2.0.99 --proto udp --dport 5060 --count 50
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.11 --dst 10.2.0.99 --proto tcp --dport 80 --count 30
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.9.1.1 --dst 10.2.0.99 --proto udp --dport 53 --count 20
pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.12 --dst 10.2.0.99 --proto udp --dport 53 --count 15
pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst 10.2.0.99
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 115 "packets past the monitor hook (the 20 'dropped' too)"
assert_eq "$(json_get dscp <<<"$PC_RECV_JSON")" '{"0": 115}' "DSCP of what passed (no rewrite)"
assert_eq "$(json_get ipv4_bad_csum <<<"$PC_RECV_JSON")" 0 "bad IPv4 checksums"

# far -> src: forwarded out of m0, seen by the monitor as egress
pc_recv_start "$SRC" s0 --dst 10.1.0.99 --verify-csum
pc_send "$FAR" -i f0 --dst-mac "$M1_MAC" --src 10.2.0.50 --dst 10.1.0.99 --proto tcp --dport 8080 --count 10
pc_send "$FAR" -i f0 --dst-mac "$M1_MAC" --src 10.2.0.50 --dst 10.1.0.99 --proto udp --dport 5060 --count 7
pc_recv_finish "$FAR" -i f0 --dst-mac "$M1_MAC" --src 10.2.0.51 --dst 10.1.0.99
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 17 "packets forwarded out of m0"

STATS=$(pc_ctl stats --rules --json) || fail "pktclassctl stats failed"
pc_log "stats: $STATS"
get() { json_get "$1" <<<"$STATS" || fail "no '$1' in stats: $STATS"; }
assert_eq "$(get 'classes.name=voice.packets')" 50 "voice (ingress sip only)"
assert_eq "$(get 'classes.name=voice.interfaces.hook=monitor.packets')" 50 "voice on the monitor hook"
assert_eq "$(get 'classes.name=web.packets')" 30 "web"
assert_eq "$(get 'rules.name=blocked.packets')" 20 "would drop: blocked"
assert_eq "$(get 'classes.name=back.packets')" 10 "back (egress only)"
assert_eq "$(get 'classes.name=back.interfaces.iface=m0.hook')" monitor "back labelled monitor"
# 15 udp/53 + the egress udp/5060 (7) + the two end markers
assert_eq "$(get 'default.packets')" $((15 + 7 + 2)) "default"
assert_eq "$(get 'classes.name=voice.bytes')" $((50 * 58)) "voice bytes (frame length)"
# what a drop rule would have dropped, counted apart (the BPF side counts it)
assert_eq "$(get 'would_drop.packets')" 20 "would_drop packets"
assert_eq "$(get 'would_drop.bytes')" "$(get 'rules.name=blocked.bytes')" "would_drop bytes"
assert_eq "$(get 'would_drop.interfaces.iface=m0.packets')" 20 "would_drop on m0"
assert_eq "$(get 'would_drop.interfaces.iface=m0.hook')" monitor "would_drop on the monitor hook"
TEXT=$(pc_ctl stats) || fail "pktclassctl stats failed"
grep -q '^would drop (monitor hooks, not enforced): 20 packets, ' <<<"$TEXT" ||
	fail "stats text without the would-drop line: $TEXT"
grep -q '^  m0 monitor: 20 packets, ' <<<"$TEXT" || fail "stats text without m0's would-drop: $TEXT"

pc_stop_daemon
pc_log "PASS"
exit 0
