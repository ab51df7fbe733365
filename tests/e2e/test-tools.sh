#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-tools.sh - the traffic tools themselves: what pcsend sends, pcrecv
# counts exactly, with valid checksums, VLAN tags, IPv6, DSCP and fragments;
# and both reject bad arguments.  No daemon involved.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init tools
pc_ns SND snd
pc_ns RCV rcv
pc_veth "$SND" t0 "$RCV" t1

send() { pc_send "$SND" -i t0 "$@"; }
get() { json_get "$1" <<<"$PC_RECV_JSON" || fail "no '$1' in $PC_RECV_JSON"; }

# IPv4 UDP among TCP noise; exact count and valid checksums.
pc_recv_start "$RCV" t1 --proto udp --dport 5060 --verify-csum
send --proto udp --dport 5060 --count 100
send --proto tcp --dport 80 --count 50
pc_recv_finish "$SND" -i t0
assert_eq "$(get packets)" 100 "udp/5060 packets"
assert_eq "$(get l4_checked)" 100 "udp checksums verified"
assert_eq "$(get l4_bad_csum)" 0 "bad udp checksums"
assert_eq "$(get ipv4_bad_csum)" 0 "bad IPv4 header checksums"

# Port ranges cycle: 100 packets over 10 ports, 5 of them counted.
pc_recv_start "$RCV" t1 --proto tcp --dport 1000-1004
send --proto tcp --tcp-flags syn,ack --dport 1000-1009 --sport 2000-2002 --count 100
pc_recv_finish "$SND" -i t0
assert_eq "$(get packets)" 50 "tcp dport 1000-1004 of 1000-1009"

# Every protocol over IPv4 with DSCP 46: all checksums valid.
pc_recv_start "$RCV" t1 --src 10.1.0.1 --verify-csum
for p in tcp udp icmp sctp 47; do
	send --src 10.1.0.1 --dst 10.2.0.1 --proto "$p" --dscp 46 --count 3 --len 101
done
pc_recv_finish "$SND" -i t0
assert_eq "$(get packets)" 15 "IPv4 packets of 5 protocols"
assert_eq "$(get l4_checked)" 12 "L4 checksums verified (not GRE)"
assert_eq "$(get l4_bad_csum)" 0 "bad L4 checksums"
assert_eq "$(get dscp)" '{"46": 15}' "DSCP histogram"

# QinQ: the outer tag selects (the kernel may strip it into metadata).
pc_recv_start "$RCV" t1 --vlan 100 --proto sctp --verify-csum
send --vlan 100 --vlan 200 --proto sctp --count 7
send --vlan 101 --vlan 200 --proto sctp --count 3
send --vlan 100 --proto udp --count 2
pc_recv_finish "$SND" -i t0
assert_eq "$(get packets)" 7 "sctp packets in outer VLAN 100"
assert_eq "$(get l4_bad_csum)" 0 "bad sctp checksums"

# IPv6: four protocols, DSCP in the traffic class, checksums.
pc_recv_start "$RCV" t1 --dst 2001:db8::9 --verify-csum
for p in tcp udp icmpv6 sctp; do
	send --src 2001:db8::1 --dst 2001:db8::9 --proto "$p" --dscp 10 --count 4 --len 1000
done
send --src 2001:db8::1 --dst 2001:db8::8 --proto udp --count 5
pc_recv_finish "$SND" -i t0
assert_eq "$(get packets)" 16 "IPv6 packets to 2001:db8::9"
assert_eq "$(get l4_checked)" 16 "IPv6 L4 checksums verified"
assert_eq "$(get l4_bad_csum)" 0 "bad IPv6 L4 checksums"
assert_eq "$(get dscp)" '{"10": 16}' "IPv6 DSCP histogram"

# Fragments: only first fragments carry ports (IPv4 and IPv6).
pc_recv_start "$RCV" t1 --proto udp --dport 53
send --proto udp --dport 53 --frag-offset 64 --count 4
send --proto udp --dport 53 --mf --count 2
send --src 2001:db8::1 --proto udp --dport 53 --frag-offset 1232 --count 4
send --src 2001:db8::1 --proto udp --dport 53 --mf --count 3
pc_recv_finish "$SND" -i t0
assert_eq "$(get packets)" 5 "first fragments with dport 53"

# A non-IP ethertype, and the checker seeing a broken IPv4 header.
pc_recv_start "$RCV" t1 --ethertype 0x0806
send --ethertype 0x0806 --len 28 --count 3
pc_recv_finish "$SND" -i t0
assert_eq "$(get packets)" 3 "ARP-typed frames"

pc_recv_start "$RCV" t1 --src 10.7.0.1
send --src 10.7.0.1 --bad-ip-csum --count 2
send --src 10.7.0.1 --count 1
pc_recv_finish "$SND" -i t0
assert_eq "$(get ipv4_bad_csum)" 2 "broken IPv4 header checksums detected"

# Bad arguments: usage errors exit 2, runtime errors 1.
expect_rc() {  # RC WHAT CMD...
	local want=$1 what=$2 rc=0
	shift 2
	"$@" >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" "$want" "exit status of $what"
}
expect_rc 2 "pcsend --vlan 4096" pc_in "$SND" "$PCSEND" -i t0 --vlan 4096
expect_rc 2 "pcsend 5 tags" pc_in "$SND" "$PCSEND" -i t0 --vlan 1 --vlan 2 --vlan 3 --vlan 4 --vlan 5
expect_rc 2 "pcsend --frag-offset 7" pc_in "$SND" "$PCSEND" -i t0 --frag-offset 7
expect_rc 2 "pcsend mixed families" pc_in "$SND" "$PCSEND" -i t0 --src 10.0.0.1 --dst 2001:db8::1
expect_rc 2 "pcsend --proto bogus" pc_in "$SND" "$PCSEND" -i t0 --proto bogus
expect_rc 2 "pcsend --dport 9-1" pc_in "$SND" "$PCSEND" -i t0 --dport 9-1
expect_rc 2 "pcsend --src-mac 1:2:3" pc_in "$SND" "$PCSEND" -i t0 --src-mac 1:2:3
expect_rc 2 "pcsend --tcp-flags syn,bogus" pc_in "$SND" "$PCSEND" -i t0 --tcp-flags syn,bogus
expect_rc 2 "pcsend without -i" pc_in "$SND" "$PCSEND" --count 1
expect_rc 1 "pcsend on a missing interface" pc_in "$SND" "$PCSEND" -i nosuch0
expect_rc 2 "pcrecv --timeout 0" pc_in "$RCV" "$PCRECV" -i t1 --timeout 0
expect_rc 2 "pcrecv --dport x" pc_in "$RCV" "$PCRECV" -i t1 --dport x
expect_rc 1 "pcrecv on a missing interface" pc_in "$RCV" "$PCRECV" -i nosuch0 --timeout 1
expect_rc 3 "pcrecv without its end marker" pc_in "$RCV" "$PCRECV" -i t1 --timeout 0.2 --end-port 65000

pc_log "PASS"
exit 0
