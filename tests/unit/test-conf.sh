#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-conf.sh PKTCLASSCTL CONF_DIR: every config shipped in conf/ passes
# `pktclassctl check` with no error and no warning, and the examples do what
# their comments say (a few packets through `pktclassctl explain`).
set -u

CTL=$(realpath -e "${1:?usage: test-conf.sh PKTCLASSCTL CONF_DIR}") || exit 1
CONF=$(realpath -e "${2:?usage: test-conf.sh PKTCLASSCTL CONF_DIR}") || exit 1
T=$(mktemp -d /tmp/test-conf.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

n=0
while IFS= read -r -d '' f; do
	n=$((n + 1))
	"$CTL" check "$f" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 0 ] || fail "check $f: exit $rc: $(cat "$T/err")"
	grep -q ': error: ' "$T/err" && fail "check $f: errors: $(cat "$T/err")"
	grep -q ': warning: ' "$T/err" && fail "check $f: warnings: $(cat "$T/err")"
	grep -Eq '^warnings: +0$' "$T/out" || fail "check $f: summary: $(cat "$T/out")"
	grep -q "^$f: ok\$" "$T/out" || fail "check $f: no 'ok' line"
done < <(find "$CONF" -name '*.yaml' -print0 | sort -z)
[ "$n" -ge 4 ] || fail "only $n configs found under $CONF"

# explain FILE WANT_RULE WANT_LINE PACKET...: the rule, and a line of the output.
explain() {
	local f=$1 rule=$2 want=$3
	shift 3
	if ! "$CTL" -c "$CONF/$f" explain "$@" >"$T/out" 2>"$T/err"; then
		fail "explain $f $*: $(cat "$T/err")"
		return
	fi
	grep -Eq "^rule: +$rule( |:)" "$T/out" || fail "explain $f $*: want rule $rule, got: $(grep '^rule:' "$T/out")"
	grep -Eq -- "$want" "$T/out" || fail "explain $f $*: no line matching '$want': $(cat "$T/out")"
}

Q=examples/edge-router-qos.yaml
explain $Q sip '^set: +priority 1:10, dscp 46' --iface eth0 --direction egress --proto udp \
	--src 192.168.1.10 --src-port 5062 --dst 198.51.100.1 --dst-port 5060
explain $Q ssh '^set: +priority 1:20, dscp 34' --iface eth0 --direction egress --proto tcp \
	--src 192.168.1.10 --src-port 40000 --dst 198.51.100.1 --dst-port 22
explain $Q backup '^set: +priority 1:30, dscp 8' --iface eth0 --direction egress --proto tcp \
	--src 192.168.1.10 --src-port 40000 --dst 203.0.113.10 --dst-port 873
explain $Q wan-bogons '^action: +drop' --iface eth0 --direction ingress --proto tcp \
	--src 10.1.2.3 --src-port 40000 --dst 198.51.100.1 --dst-port 443
explain $Q lan-remark '^set: +dscp 0' --iface br-lan --direction egress --proto tcp \
	--src 198.51.100.1 --src-port 40000 --dst 192.168.1.10 --dst-port 12345 --dscp ef
explain $Q '\(default\)' '^class: +best-effort' --iface eth0 --direction egress --proto tcp \
	--src 192.168.1.10 --src-port 40000 --dst 198.51.100.1 --dst-port 12345

F=examples/host-firewall.yaml
explain $F outbound '^action: +pass' --iface eth0 --direction egress --proto tcp \
	--src 198.51.100.2 --src-port 40000 --dst 203.0.113.9 --dst-port 25 --tcp-flags syn
explain $F ssh '^action: +pass' --iface ens3 --direction ingress --proto tcp \
	--src 198.51.100.9 --src-port 40000 --dst 203.0.113.1 --dst-port 22 --tcp-flags syn
explain $F tcp-new-closed '^action: +drop' --iface ens3 --direction ingress --proto tcp \
	--src 192.0.2.9 --src-port 40000 --dst 203.0.113.1 --dst-port 22 --tcp-flags syn
explain $F tcp-established '^action: +pass' --iface ens3 --direction ingress --proto tcp \
	--src 192.0.2.9 --src-port 443 --dst 203.0.113.1 --dst-port 40000 --tcp-flags ack,psh
explain $F tcp-xmas '^log: +yes' --iface ens3 --direction ingress --proto tcp \
	--src 192.0.2.9 --src-port 443 --dst 203.0.113.1 --dst-port 40000 --tcp-flags fin,psh,urg
explain $F tcp-null '^class: +scans' --iface ens3 --direction ingress --proto tcp \
	--src 192.0.2.9 --src-port 443 --dst 203.0.113.1 --dst-port 40000
explain $F icmp '^action: +pass' --iface ens3 --direction ingress --proto icmpv6 \
	--src 2001:db8::1 --dst 2001:db8::2
explain $F icmp-too-big '^action: +drop' --iface ens3 --direction ingress --proto icmp \
	--src 192.0.2.9 --dst 203.0.113.1 --length 4000
explain $F arp '^action: +pass' --iface ens3 --direction ingress --l3 arp
explain $F '\(default\)' '^action: +drop' --iface ens3 --direction ingress --proto udp \
	--src 192.0.2.9 --src-port 40000 --dst 203.0.113.1 --dst-port 161

M=examples/monitor-tap.yaml
grep -E '^ +hooks:' "$CONF/$M" | grep -vq 'hooks: \[monitor\]' && fail "$M: a hook other than monitor"
explain $M quic '^class: +web' --iface span0 --direction ingress --proto udp \
	--src 192.0.2.9 --src-port 50000 --dst 203.0.113.1 --dst-port 443
explain $M guest-to-smb '^action: +drop' --iface br-guest --direction ingress --proto tcp \
	--src 192.0.2.9 --src-port 50000 --dst 203.0.113.1 --dst-port 445
explain $M file-transfer '^class: +file-transfer' --iface span1 --direction ingress --proto tcp \
	--src 192.0.2.9 --src-port 50000 --dst 203.0.113.1 --dst-port 445
explain $M ipsec '^class: +vpn' --iface span1 --direction egress --proto esp \
	--src 192.0.2.9 --dst 203.0.113.1
explain $M routing '^class: +control' --iface span1 --direction ingress --proto 89 \
	--src 192.0.2.9 --dst 224.0.0.5

if [ "$failures" -gt 0 ]; then
	echo "test-conf: $failures failures ($n configs)" >&2
	exit 1
fi
echo "test-conf: ok ($n configs)"
