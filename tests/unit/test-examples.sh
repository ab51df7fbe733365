#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-examples.sh PKTCLASSCTL CONF_DIR - the examples in conf/examples/ do
# what their comments say: for each promise, a packet through
# `pktclassctl explain`, and its rule, class, outcome, rewrites and log flag.
#
# The outcome is what happens where the packet is seen: the interface (which
# the example's `interfaces:` must cover) gives the hook; on a TC hook of the
# packet's direction a drop is "drop", on a monitor hook it is "would-drop"
# (observe only); a pass is "pass" on either.  No root needed.
set -u

CTL=$(realpath -e "${1:?usage: test-examples.sh PKTCLASSCTL CONF_DIR}") || exit 1
CONF=$(realpath -e "${2:?usage: test-examples.sh PKTCLASSCTL CONF_DIR}") || exit 1
T=$(mktemp -d /tmp/test-examples.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
failures=0 n=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# hooks_of IFACE: the hooks the `interfaces:` entries of $F (name, then
# hooks, one entry each) give IFACE, space-separated.
hooks_of() {
	local pat="" line hooks=" "
	while IFS= read -r line; do
		case $line in
		*"- name:"*) pat=$(sed 's/.*name: *"\{0,1\}\([^"#]*[^"# ]\)"\{0,1\}.*/\1/' <<<"$line") ;;
		*"hooks:"*)
			# shellcheck disable=SC2053 # the pattern is a glob on purpose
			[[ -n $pat && $1 == $pat ]] && hooks+="$(sed 's/.*hooks: *\[\{0,1\}\([^]#]*\).*/\1/; s/,/ /g' <<<"$line") "
			pat="" ;;
		esac
	done < <(sed -n '/^interfaces:/,/^[a-z]/p' "$CONF/$F")
	echo "$hooks"
}

# ex RULE CLASS OUTCOME SET LOG PACKET...: explain PACKET against $F.
ex() {
	local rule=$1 class=$2 outcome=$3 set=$4 log=$5 iface="" dir="" got_outcome hooks a b
	shift 5
	n=$((n + 1))
	for ((a = 1; a < $#; a++)); do
		case ${!a} in
		--iface) b=$((a + 1)); iface=${!b} ;;
		--direction) b=$((a + 1)); dir=${!b} ;;
		esac
	done
	if ! "$CTL" -c "$CONF/$F" explain "$@" >"$T/out" 2>"$T/err"; then
		fail "$F: explain $*: $(cat "$T/err")"
		return
	fi
	field() { sed -n "s/^$1: *//p" "$T/out"; }
	hooks=$(hooks_of "$iface")
	got_outcome=$(field action)
	if [[ $hooks != *" $dir "* ]]; then
		if [[ $hooks == *" monitor "* ]]; then
			[[ $got_outcome == drop ]] && got_outcome=would-drop
		else
			fail "$F: $iface $dir: the example attaches no hook there (hooks of $iface:$hooks)"
		fi
	fi
	local got_rule
	got_rule=$(field rule | sed 's/[ :].*//')
	[[ $got_rule == "$rule" ]] || fail "$F: $*: rule '$got_rule', want '$rule'"
	[[ $(field class) == "$class" ]] || fail "$F: $*: class '$(field class)', want '$class'"
	[[ $got_outcome == "$outcome" ]] || fail "$F: $*: outcome '$got_outcome', want '$outcome'"
	[[ $(field set) == "$set" ]] || fail "$F: $*: set '$(field set)', want '$set'"
	[[ $(field log) == "$log" ]] || fail "$F: $*: log '$(field log)', want '$log'"
}

# ---- host-firewall.yaml ------------------------------------------------------------------
F=examples/host-firewall.yaml
in4() { echo --iface eth0 --direction ingress --src "$1" --dst 203.0.113.1; }
# shellcheck disable=SC2046 # in4 gives several words
{
# "Egress is not filtered."
ex outbound allowed pass nothing no --iface eth0 --direction egress --proto tcp \
	--src 203.0.113.1 --src-port 40000 --dst 198.51.100.2 --dst-port 25 --tcp-flags syn
ex outbound allowed pass nothing no --iface ens3 --direction egress --proto udp \
	--src 203.0.113.1 --src-port 40000 --dst 198.51.100.2 --dst-port 161
# "Replies ... by their TCP flags (ACK set)."
ex tcp-established allowed pass nothing no $(in4 192.0.2.9) --proto tcp --src-port 443 \
	--dst-port 40000 --tcp-flags ack,psh
# "... or their source port (DNS, NTP, DHCP and DHCPv6, QUIC)."
ex dns-replies allowed pass nothing no $(in4 192.0.2.53) --proto udp --src-port 53 --dst-port 40000
ex ntp-replies allowed pass nothing no $(in4 192.0.2.123) --proto udp --src-port 123 --dst-port 123
ex dhcp-replies allowed pass nothing no --iface eth0 --direction ingress --proto udp \
	--src 192.168.1.1 --dst 192.168.1.10 --src-port 67 --dst-port 68
ex dhcp-replies allowed pass nothing no --iface ens3 --direction ingress --proto udp \
	--src 192.168.1.1 --dst 255.255.255.255 --src-port 67 --dst-port 68
ex dhcpv6-replies allowed pass nothing no --iface eth0 --direction ingress --proto udp \
	--src fe80::1 --dst fe80::2 --src-port 547 --dst-port 546
ex quic-replies allowed pass nothing no $(in4 192.0.2.80) --proto udp --src-port 443 --dst-port 50123
# "New inbound connections (SYN without ACK) are allowed only to the listed services."
ex ssh allowed pass nothing no $(in4 198.51.100.9) --proto tcp --src-port 40000 --dst-port 22 --tcp-flags syn
ex ssh allowed pass nothing no --iface ens3 --direction ingress --proto tcp --src 2001:db8:42::9 \
	--dst 2001:db8::1 --src-port 40000 --dst-port 22 --tcp-flags syn
ex tcp-new-closed blocked drop nothing yes $(in4 192.0.2.9) --proto tcp --src-port 40000 \
	--dst-port 22 --tcp-flags syn
ex https allowed pass nothing no $(in4 192.0.2.9) --proto tcp --src-port 40000 --dst-port 443 --tcp-flags syn
ex https allowed pass nothing no $(in4 192.0.2.9) --proto udp --src-port 40000 --dst-port 443
ex node-exporter allowed pass nothing no $(in4 198.51.100.7) --proto tcp --src-port 40000 \
	--dst-port 9100 --tcp-flags syn
ex tcp-new-closed blocked drop nothing yes $(in4 198.51.100.8) --proto tcp --src-port 40000 \
	--dst-port 9100 --tcp-flags syn
ex tcp-new-closed blocked drop nothing yes $(in4 192.0.2.9) --proto tcp --src-port 40000 \
	--dst-port 3306 --tcp-flags syn
# Scans: dropped and logged ("log_rate: rules with log: true").
ex tcp-syn-fin scans drop nothing yes $(in4 192.0.2.9) --proto tcp --src-port 1 --dst-port 22 --tcp-flags syn,fin
ex tcp-syn-rst scans drop nothing yes $(in4 192.0.2.9) --proto tcp --src-port 1 --dst-port 22 --tcp-flags syn,rst
ex tcp-xmas scans drop nothing yes $(in4 192.0.2.9) --proto tcp --src-port 1 --dst-port 22 \
	--tcp-flags fin,psh,urg
ex tcp-null scans drop nothing yes $(in4 192.0.2.9) --proto tcp --src-port 1 --dst-port 22
ex bogon-sources blocked drop nothing no $(in4 127.0.0.1) --proto udp --src-port 1 --dst-port 443
# "Neighbour discovery (ICMPv6) and ARP pass."
ex icmp allowed pass nothing no --iface eth0 --direction ingress --proto icmpv6 \
	--src fe80::1 --dst ff02::1:ff00:1
ex arp allowed pass nothing no --iface eth0 --direction ingress --l3 arp
ex icmp allowed pass nothing no $(in4 192.0.2.9) --proto icmp --length 84
ex icmp-too-big blocked drop nothing no $(in4 192.0.2.9) --proto icmp --length 4000
# "everything else inbound": dropped.
ex '(default)' blocked drop nothing no $(in4 192.0.2.9) --proto udp --src-port 40000 --dst-port 161
}

# ---- edge-router-qos.yaml ---------------------------------------------------------------
F=examples/edge-router-qos.yaml
up() { echo --iface eth0 --direction egress --src 192.168.1.10 --src-port 40000 --dst "$1"; }
# shellcheck disable=SC2046
{
# Towards the upstream: the HTB class by set.priority and the DSCP of each class.
ex sip voice pass 'priority 1:10, dscp 46 (ef)' no $(up 198.51.100.1) --proto udp --dst-port 5060
ex sip voice pass 'priority 1:10, dscp 46 (ef)' no $(up 198.51.100.1) --proto tcp --dst-port 5061
ex rtp voice pass 'priority 1:10, dscp 46 (ef)' no --iface eth0 --direction egress --proto udp \
	--src 192.168.1.10 --src-port 20000 --dst 198.51.100.1 --dst-port 30000
ex dns interactive pass 'priority 1:20, dscp 34 (af41)' no $(up 198.51.100.53) --proto udp --dst-port 53
ex ssh interactive pass 'priority 1:20, dscp 34 (af41)' no $(up 198.51.100.1) --proto tcp --dst-port 22
ex video-calls interactive pass 'priority 1:20, dscp 34 (af41)' no $(up 198.51.100.1) --proto udp \
	--dst-port 19305
ex backup bulk pass 'priority 1:30, dscp 8 (cs1)' no $(up 203.0.113.10) --proto tcp --dst-port 873
ex updates bulk pass 'priority 1:30, dscp 8 (cs1)' no $(up 198.51.100.1) --proto tcp --dst-port 9418
ex web web pass 'priority 1:40, dscp 18 (af21)' no $(up 198.51.100.1) --proto tcp --dst-port 443
ex web web pass 'priority 1:40, dscp 18 (af21)' no $(up 198.51.100.1) --proto udp --dst-port 443
# Everything else: best effort, HTB's default class 1:40 (no priority set).
ex '(default)' best-effort pass nothing no $(up 198.51.100.1) --proto tcp --dst-port 12345
# "Never accept traffic from bogon sources on the uplink."
ex wan-bogons wan-bogons drop nothing no --iface eth0 --direction ingress --proto tcp \
	--src 10.1.2.3 --src-port 40000 --dst 198.51.100.1 --dst-port 443
ex wan-bogons wan-bogons drop nothing no --iface eth0 --direction ingress --proto udp \
	--src fe80::1 --src-port 40000 --dst 2001:db8::1 --dst-port 443
ex web web pass 'priority 1:40, dscp 18 (af21)' no --iface eth0 --direction ingress --proto tcp \
	--src 198.51.100.9 --src-port 40000 --dst 192.0.2.1 --dst-port 443
# "Everything that reaches the LAN is re-marked best effort", SIP and EF included.
ex lan-remark best-effort pass 'dscp 0 (cs0)' no --iface br-lan --direction egress --proto udp \
	--src 198.51.100.1 --src-port 5060 --dst 192.168.1.10 --dst-port 5060 --dscp ef
ex lan-remark best-effort pass 'dscp 0 (cs0)' no --iface br-lan --direction egress --proto udp \
	--src 198.51.100.1 --src-port 20000 --dst 192.168.1.10 --dst-port 30000 --dscp ef
ex lan-remark best-effort pass 'dscp 0 (cs0)' no --iface br-lan --direction egress --proto tcp \
	--src 198.51.100.1 --src-port 443 --dst 192.168.1.10 --dst-port 40000 --dscp af21
ex lan-remark best-effort pass 'dscp 0 (cs0)' no --iface br-lan --direction egress --proto tcp \
	--src 198.51.100.1 --src-port 40000 --dst 192.168.1.10 --dst-port 12345 --dscp cs6
}

# ---- monitor-tap.yaml --------------------------------------------------------------------
F=examples/monitor-tap.yaml
# "Every hook is monitor."
grep -E '^ +hooks:' "$CONF/$F" | grep -vq 'hooks: \[monitor\]' && fail "$F: a hook other than monitor"
tap() { echo --iface "$1" --direction ingress --src 192.0.2.9 --dst 203.0.113.1; }
# shellcheck disable=SC2046
{
ex dns dns pass nothing no $(tap span0) --proto udp --src-port 50000 --dst-port 53
ex dns-replies dns pass nothing no $(tap span0) --proto tcp --src-port 853 --dst-port 50000
ex sip voice pass nothing no $(tap span0) --proto udp --src-port 50000 --dst-port 5060
ex sip-replies voice pass nothing no $(tap span0) --proto udp --src-port 5060 --dst-port 50000
ex rtp voice pass nothing no $(tap span0) --proto udp --src-port 50000 --dst-port 20000 --dscp ef
# "streaming services by port and well-known CDN prefixes": both directions.
ex video-cdn video pass nothing no --iface span0 --direction ingress --src 198.51.100.7 \
	--dst 192.0.2.9 --proto udp --src-port 443 --dst-port 50000
ex video-cdn-requests video pass nothing no --iface span0 --direction ingress --src 192.0.2.9 \
	--dst 198.51.100.7 --proto tcp --src-port 50000 --dst-port 443
ex rtmp video pass nothing no $(tap span0) --proto tcp --src-port 50000 --dst-port 1935
ex rtmp-replies video pass nothing no $(tap span0) --proto tcp --src-port 1935 --dst-port 50000
# "HTTP, HTTPS and QUIC", requests and replies.
ex quic web pass nothing no $(tap span0) --proto udp --src-port 50000 --dst-port 443
ex quic-replies web pass nothing no $(tap span0) --proto udp --src-port 443 --dst-port 50000
ex web web pass nothing no $(tap span1) --proto tcp --src-port 50000 --dst-port 8443
ex web-replies web pass nothing no $(tap span1) --proto tcp --src-port 80 --dst-port 50000
ex mail mail pass nothing no $(tap span1) --proto tcp --src-port 50000 --dst-port 587
ex mail-replies mail pass nothing no $(tap span1) --proto tcp --src-port 993 --dst-port 50000
# "Would be dropped on an enforcing hook; here only counted as would drop."
ex guest-to-smb file-transfer would-drop nothing no $(tap br-guest) --proto tcp --src-port 50000 \
	--dst-port 445
ex file-transfer file-transfer pass nothing no $(tap span1) --proto tcp --src-port 50000 --dst-port 445
ex file-transfer-replies file-transfer pass nothing no $(tap span1) --proto tcp --src-port 2049 \
	--dst-port 900
# "IPsec, WireGuard, OpenVPN"
ex ipsec vpn pass nothing no --iface span1 --direction egress --proto esp --src 192.0.2.9 --dst 203.0.113.1
ex ike vpn pass nothing no $(tap span1) --proto udp --src-port 4500 --dst-port 4500
ex wireguard-openvpn vpn pass nothing no $(tap span1) --proto udp --src-port 50000 --dst-port 51820
ex vpn-replies vpn pass nothing no $(tap span1) --proto udp --src-port 1194 --dst-port 50000
# "ARP, ICMP, routing protocols"
ex arp control pass nothing no --iface span0 --direction ingress --l3 arp
ex icmp control pass nothing no $(tap span0) --proto icmp
ex routing control pass nothing no --iface span1 --direction ingress --proto 89 --src 192.0.2.9 --dst 224.0.0.5
ex routing control pass nothing no --iface span1 --direction ingress --proto 112 --src 192.0.2.9 \
	--dst 224.0.0.18
ex '(default)' other pass nothing no $(tap span0) --proto udp --src-port 50000 --dst-port 9999
}

((n >= 60)) || fail "only $n cases"
if ((failures)); then
	echo "test-examples: $failures failures ($n cases)" >&2
	exit 1
fi
echo "test-examples: ok ($n cases)"
