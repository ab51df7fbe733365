#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-basic.sh - acceptance test of issue 2: classify, count and drop on a
# TC ingress hook; exact per-class and per-rule counts; a clean stop that
# removes what pktclassd created and nothing else.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far (pcrecv)
#
# AF_PACKET sees ingress frames before TC does, so what the hook lets through
# is counted one hop further, in ns far: mid forwards 10.2.0.99 to f0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init basic
pc_require_daemon

pc_ns SRC src
pc_ns MID mid
pc_ns FAR far
pc_veth "$SRC" s0 "$MID" m0
pc_veth "$MID" m1 "$FAR" f0
pc_router "$MID"
ip -n "$MID" addr add 10.1.0.1/24 dev m0 || fail "address on m0"
ip -n "$MID" addr add 10.2.0.1/24 dev m1 || fail "address on m1"
ip -n "$MID" neigh add 10.2.0.99 lladdr "$(pc_mac "$FAR" f0)" dev m1 nud permanent ||
	fail "neighbour 10.2.0.99"
M0_MAC=$(pc_mac "$MID" m0)
DST=10.2.0.99

pc_config_write <<'YAML'
version: 1
settings:
  pin_path: @PIN@
interfaces:
  - name: m0
    hooks: [ingress]
classes:
  - name: voice
    description: SIP
  - name: web
rules:
  - name: blocked
    match: { src: 10.9.0.0/16 }
    action: drop
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
default:
  class: other
  action: pass
YAML

send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" "$@"; }
stats_get() { json_get "$1" <<<"$STATS" || fail "no '$1' in stats: $STATS"; }

# 0. Without the daemon, the path forwards everything (so that "none seen"
# later means dropped, not lost).  ------------------------------------------
pc_recv_start "$FAR" f0 --src 10.9.1.1 --verify-csum
send --src 10.9.1.1 --dst "$DST" --proto udp --dport 5060 --count 3
pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 3 "forwarded without pktclassd"

# 1. Classify and count.  ------------------------------------------------
pc_start_daemon "$MID"

STATUS=$(pc_ctl status --json) || fail "pktclassctl status failed"
pc_log "status: $STATUS"
assert_eq "$(json_get 'attachments.iface=m0.hook' <<<"$STATUS")" ingress "status: attachment on m0"
grep -q 'pref 49573 bpf' <<<"$(tc -n "$MID" filter show dev m0 ingress)" ||
	fail "no bpf filter of pref 49573 on m0 ingress: $(tc -n "$MID" filter show dev m0 ingress)"
pc_log "ok: our filter is on m0 ingress"

MARKERS=0
pc_recv_start "$FAR" f0 --dst "$DST" --verify-csum
send --src 10.1.0.10 --dst "$DST" --proto udp --sport 40000-40009 --dport 5060 --count 50
send --src 10.1.0.11 --dst "$DST" --proto tcp --dport 80 --tcp-flags syn --count 30
send --src 2001:db8:1::10 --dst 2001:db8:2::99 --proto tcp --dport 80 --count 10
send --src 10.9.1.1 --dst "$DST" --proto udp --dport 5060 --count 20
send --src 10.9.200.7 --dst "$DST" --proto tcp --dport 80 --count 5
send --src 10.1.0.12 --dst "$DST" --proto udp --dport 53 --count 15
send --src 10.1.0.12 --dst "$DST" --proto icmp --count 4
pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"
MARKERS=$((MARKERS + 1))
# Through the hook: 50 voice + 30 web (IPv4) + 19 other, nothing of 10.9/16.
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 99 "packets forwarded past the hook"
assert_eq "$(json_get ipv4_bad_csum <<<"$PC_RECV_JSON")" 0 "bad IPv4 checksums after the hook"

pc_recv_start "$FAR" f0 --src 10.9.1.1
send --src 10.9.1.1 --dst "$DST" --proto udp --dport 53 --count 10
pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"
MARKERS=$((MARKERS + 1))
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 0 "dropped packets seen on the far side"

STATS=$(pc_ctl stats --rules --json) || fail "pktclassctl stats --rules --json failed"
pc_log "stats: $STATS"
assert_eq "$(stats_get 'classes.name=voice.packets')" 50 "class voice packets"
assert_eq "$(stats_get 'classes.name=web.packets')" 40 "class web packets"
assert_eq "$(stats_get 'classes.name=blocked.packets')" 35 "class blocked packets"
assert_eq "$(stats_get 'rules.name=sip.packets')" 50 "rule sip packets"
assert_eq "$(stats_get 'rules.name=sip.class')" voice "rule sip class"
assert_eq "$(stats_get 'rules.name=http.packets')" 40 "rule http packets"
assert_eq "$(stats_get 'rules.name=blocked.packets')" 35 "rule blocked packets"
assert_eq "$(stats_get 'default.class')" other "default class"
assert_eq "$(stats_get 'default.packets')" $((19 + MARKERS)) "default packets"
# bytes: at least the L3 length of what was sent (whether or not L2 counts)
assert_ge "$(stats_get 'classes.name=voice.bytes')" $((50 * 44)) "class voice bytes"
assert_ge "$(stats_get 'rules.name=http.bytes')" $((30 * 56 + 10 * 76)) "rule http bytes"
if OTHER=$(json_get 'classes.name=other.packets' <<<"$STATS"); then
	assert_eq "$OTHER" $((19 + MARKERS)) "class other packets"
fi

# 2. Stop: our filter and the clsact qdisc we created are gone. -----------
pc_stop_daemon
FILTERS=$(tc -n "$MID" filter show dev m0 ingress)
if grep -q 'pref 49573' <<<"$FILTERS"; then
	fail "our filter is still on m0 ingress after stop: $FILTERS"
fi
pc_log "ok: no filter of ours left"
if grep -q clsact <<<"$(tc -n "$MID" qdisc show dev m0)"; then
	fail "the clsact qdisc that pktclassd created is still there: $(tc -n "$MID" qdisc show dev m0)"
fi
pc_log "ok: clsact removed"
if [[ -d $PC_PIN ]] && [[ -n $(find "$PC_PIN" -mindepth 1 -print -quit) ]]; then
	fail "pins left under $PC_PIN: $(find "$PC_PIN" -mindepth 1)"
fi
pc_log "ok: no pins left"

# 3. A foreign clsact qdisc and filter survive a start and a stop. --------
# The foreign u32 filter matches IP protocol 253 only (never sent here), so
# that our filter behind it still sees the traffic.  (This kernel has no
# act_gact, so "action ok" is not available.)
tc -n "$MID" qdisc add dev m0 clsact || fail "tc qdisc add clsact"
tc -n "$MID" filter add dev m0 ingress pref 10 protocol ip u32 match ip protocol 253 0xff ||
	fail "tc filter add u32"
pc_start_daemon "$MID"
FILTERS=$(tc -n "$MID" filter show dev m0 ingress)
grep -q 'pref 49573 bpf' <<<"$FILTERS" || fail "no filter of ours next to the foreign one: $FILTERS"
grep -q 'pref 10 u32' <<<"$FILTERS" || fail "the foreign filter is gone after start: $FILTERS"

pc_recv_start "$FAR" f0 --dst "$DST"
send --src 10.9.1.1 --dst "$DST" --proto udp --dport 5060 --count 6
send --src 10.1.0.10 --dst "$DST" --proto udp --dport 5060 --count 7
pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" 7 "forwarded with the foreign filter in front"

pc_stop_daemon
FILTERS=$(tc -n "$MID" filter show dev m0 ingress)
grep -q 'pref 10 u32' <<<"$FILTERS" || fail "the foreign u32 filter is gone after stop: $FILTERS"
if grep -q 'pref 49573' <<<"$FILTERS"; then
	fail "our filter is still there after the second stop: $FILTERS"
fi
grep -q clsact <<<"$(tc -n "$MID" qdisc show dev m0)" || fail "the foreign clsact qdisc is gone"
pc_log "ok: foreign qdisc and filter kept"

pc_log "PASS"
exit 0
