#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-default-config.sh - the installed default config (conf/pktclassd.yaml,
# with only a private pin_path added) starts on any node and changes no
# traffic.
#
# 1. ns empty (only lo): pktclassd reaches READY=1 with no attachment.
# 2. ns node with links eth0, ens3 and wlan0:
#      ns src: s0 --veth-- eth0 :ns node (IPv4 router) ens3 --veth-- f0 :ns far (pcrecv)
#    it attaches to the ingress of eth0 and ens3 only, and every packet sent
#    into eth0 is forwarded to f0 with its DSCP and checksums as sent, while
#    `pktclassctl stats` counts it by class.
# 3. SIGTERM: exit 0, no filter left.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init default-config
pc_require_daemon
pc_notify_start

# The shipped default, changed in one line: the pin path (bpffs is shared).
sed "/^settings:/a\\  pin_path: $PC_PIN" "$PC_REPO/conf/pktclassd.yaml" >"$PC_CFG" ||
	fail "copying conf/pktclassd.yaml"
assert_eq "$(diff "$PC_REPO/conf/pktclassd.yaml" "$PC_CFG" | grep -c '^[<>]')" 1 \
	"lines changed in the default config"
"$PKTCLASSCTL" check -c "$PC_CFG" >"$PC_TMP/check.out" 2>&1 ||
	fail "pktclassctl check rejects the default config: $(cat "$PC_TMP/check.out")"
grep -Eq '^warnings: +0$' "$PC_TMP/check.out" || fail "the default config has warnings: $(cat "$PC_TMP/check.out")"

# 1. A node with no en*/eth* link. -----------------------------------------------
pc_ns EMPTY empty
pc_start_daemon "$EMPTY"
STATUS=$(pc_ctl status --json) || fail "pktclassctl status failed"
assert_eq "$(json_get running <<<"$STATUS")" true "running with no en*/eth* link"
assert_eq "$(json_get attachments <<<"$STATUS")" "[]" "attachments with no en*/eth* link"
pc_stop_daemon

# 2. eth0, ens3 and wlan0. ---------------------------------------------------------
pc_ns SRC src
pc_ns NODE node
pc_ns FAR far
pc_ns WL wl
pc_veth "$SRC" s0 "$NODE" eth0
pc_veth "$NODE" ens3 "$FAR" f0
pc_veth "$NODE" wlan0 "$WL" w0
pc_router "$NODE"
ip -n "$NODE" addr add 10.1.0.1/24 dev eth0 || fail "address on eth0"
ip -n "$NODE" addr add 10.2.0.1/24 dev ens3 || fail "address on ens3"
ip -n "$NODE" neigh add 10.2.0.99 lladdr "$(pc_mac "$FAR" f0)" dev ens3 nud permanent ||
	fail "neighbour 10.2.0.99"
ETH0_MAC=$(pc_mac "$NODE" eth0)
DST=10.2.0.99

pc_start_daemon "$NODE"
STATUS=$(pc_ctl status --json) || fail "pktclassctl status failed"
pc_log "status: $STATUS"
assert_eq "$(json_get 'attachments.iface=eth0.hook' <<<"$STATUS")" ingress "attachment on eth0"
assert_eq "$(json_get 'attachments.iface=ens3.hook' <<<"$STATUS")" ingress "attachment on ens3"
assert_eq "$(python3 -c 'import json, sys; print(len(json.load(sys.stdin)["attachments"]))' \
	<<<"$STATUS")" 2 "attachments (none on wlan0, no egress)"
for dev in eth0 ens3 wlan0; do
	assert_eq "$(tc -n "$NODE" filter show dev "$dev" egress)" "" "filters on $dev egress"
done
assert_eq "$(tc -n "$NODE" filter show dev wlan0 ingress)" "" "filters on wlan0 ingress"

send() { pc_send "$SRC" -i s0 --dst-mac "$ETH0_MAC" --dst "$DST" "$@"; }
pc_recv_start "$FAR" f0 --dst "$DST" --verify-csum
send --src 10.1.0.10 --proto udp --dport 53 --count 5
send --src 10.1.0.10 --proto tcp --dport 443 --tcp-flags syn --dscp 46 --count 7
send --src 10.1.0.11 --proto udp --sport 443 --dport 40000 --dscp 10 --count 6
send --src 10.1.0.12 --proto tcp --sport 22 --dport 40000 --tcp-flags ack --count 3
send --src 10.1.0.12 --proto icmp --count 2
send --src 10.1.0.13 --proto udp --dport 9999 --dscp 46 --count 4
pc_recv_finish "$SRC" -i s0 --dst-mac "$ETH0_MAC" --src 10.1.0.14 --dst "$DST"
# Everything arrives (27 packets; pcrecv does not count the end marker), unchanged.
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 27 "packets forwarded past the hook"
assert_eq "$(json_get ipv4_bad_csum <<<"$PC_RECV_JSON")" 0 "bad IPv4 checksums after the hook"
assert_eq "$(json_get dscp.46 <<<"$PC_RECV_JSON")" 11 "packets still marked EF"
assert_eq "$(json_get dscp.10 <<<"$PC_RECV_JSON")" 6 "packets still marked AF11"
assert_eq "$(json_get dscp.0 <<<"$PC_RECV_JSON")" 10 "packets still unmarked"

pc_stats
pc_log "stats: $STATS"
assert_eq "$(pc_stats_get 'classes.name=dns.packets')" 5 "class dns packets"
assert_eq "$(pc_stats_get 'classes.name=web.packets')" 13 "class web packets (requests and replies)"
assert_eq "$(pc_stats_get 'rules.name=web-replies.packets')" 6 "rule web-replies packets"
assert_eq "$(pc_stats_get 'classes.name=ssh.packets')" 3 "class ssh packets"
assert_eq "$(pc_stats_get 'classes.name=icmp.packets')" 2 "class icmp packets"
assert_eq "$(pc_stats_get 'default.class')" other "default class"
# 4 to udp/9999 and the end marker (udp/65000)
assert_eq "$(pc_stats_get 'default.packets')" 5 "default packets"

# 3. Stop. ---------------------------------------------------------------------------
pc_stop_daemon
for dev in eth0 ens3; do
	assert_eq "$(tc -n "$NODE" filter show dev "$dev" ingress)" "" "filters on $dev ingress after stop"
done
echo "PASS: [$PC_TEST]"
