#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-ctl.sh PKTCLASSCTL VERSION: pktclassctl's usage errors, --version,
# `check` and `explain`.  Needs nothing but the binary (no root, no BPF).
set -u

CTL=$(realpath -e "${1:?usage: test-ctl.sh PATH-TO-PKTCLASSCTL VERSION}") || exit 1
VERSION=${2:?usage: test-ctl.sh PATH-TO-PKTCLASSCTL VERSION}
DATA=$(cd "$(dirname "$0")/../data" && pwd) || exit 1
T=$(mktemp -d /tmp/test-ctl.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run WANT_RC ARGS...: run pktclassctl, stdout in out, stderr in err.
run() {
	local want=$1 rc
	shift
	"$CTL" "$@" >out 2>err
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "pktclassctl $*: exit $rc, want $want"
		sed 's/^/  stdout: /' out >&2
		sed 's/^/  stderr: /' err >&2
	fi
}

# has FILE REGEX: a line of FILE matches the extended regex.
has() {
	grep -Eq -- "$2" "$1" || { fail "no line matching '$2' in $1:"; sed 's/^/  /' "$1" >&2; }
}
lacks() {
	! grep -Eq -- "$2" "$1" || fail "a line matches '$2' in $1"
}

# ---- usage: exit 2 ----------------------------------------------------------
run 2
has err 'missing command'
run 2 frobnicate
has err "unknown command 'frobnicate'"
run 2 --frobnicate status
has err "unknown option '--frobnicate'"
run 2 status --frobnicate
run 2 stats -q
has err "unknown option '-q'"
run 2 stats --watch
has err "option '--watch' needs an argument"
run 2 stats --watch soon
run 2 stats --watch 0
run 2 -c
run 2 status extra-argument
run 2 check one.yaml two.yaml
run 2 -c one.yaml check two.yaml
run 2 explain --iface eth0
has err 'explain: --iface and --direction are required'
run 0 --help
has out '^Usage: pktclassctl'
run 0 status -h
has out '^Usage: pktclassctl'
has out '--version'
run 0 --version
has out "^pktclassctl ${VERSION//./\\.}\$"
has out '^default config: /.*/pktclassd/pktclassd\.yaml$'
run 2 status --version
has err "unknown option '--version'"

# ---- check ------------------------------------------------------------------
cat >good.yaml <<'EOF'
version: 1
interfaces:
  - name: "veth*"
    hooks: [ingress, egress]
classes:
  - name: voice
rules:
  - name: sip
    match: { proto: udp, dst_port: [5060, 5061] }
    class: voice
    set: { dscp: ef, priority: "1:10" }
  - name: dns
    match: { proto: [udp, tcp], dst_port: 53 }
    set: { mark: 0x35 }
  - name: ten
    match: { src: 10.0.0.0/8 }
    action: drop
  - name: all-udp
    match: { proto: udp, iface: "veth1" }
    class: voice
  - name: web-v6
    match: { proto: tcp, dst: "2001:db8::/32", dst_port: 443, tcp_flags: [syn, "!ack"] }
    log: true
default:
  class: other
EOF
run 0 check good.yaml
has out '^good.yaml: ok$'
has out '^rules: +5$'
has out '^classes: +5 \(1 declared\)$' # voice (sip, all-udp) dns ten web-v6 other
has out '^interfaces: +1 entries, 1 match patterns$'
has out '^warnings: +0$'
has out '^trees: +[1-9]'
has out '^slow path: +none$'
[ -s err ] && fail "check good.yaml wrote to stderr: $(cat err)"
run 0 -c good.yaml check
has out '^good.yaml: ok$'
run 0 check --json -c good.yaml
has out '"valid": true'
has out '"rules": 5,'
has out '"errors": 0,'
has out '"classes": 5,'
has out '"nodes": [1-9]'
has out '"slow_leaves": 0,'

# issue 17: rules on tcp_flags, dscp, length and vlan together, refused once for the
# lookup limits; valid, so it loads
run 0 check "$DATA/mixed/issue17.yaml"
has out 'issue17.yaml: ok$'
has out '^rules: +36$'
has out '^slow path: +'
run 0 check --json "$DATA/mixed/issue17.yaml"
has out '"valid": true'
has out '"slow_rules": [0-9]'

cat >bad.yaml <<'EOF'
version: 1
interfaces:
  - name: veth0
    hooks: [ingress]
bogus: 1
rules:
  - name: a
    match: { proto: udp, dst_port: 70000 }
  - name: b
    match: { proto: tcp }
    action: explode
EOF
run 1 check bad.yaml
# every error, each as FILE:LINE:COLUMN: error: MESSAGE, in file order
has err '^bad.yaml:5:[0-9]+: error: .*bogus'
has err '^bad.yaml:8:[0-9]+: error: .*70000'
has err '^bad.yaml:11:[0-9]+: error: .*explode'
[ "$(grep -c ': error: ' err)" = 3 ] || fail "check bad.yaml: want 3 errors, got: $(cat err)"
[ "$(grep -n '' err | sed -n 's/^\([0-9]*\):bad.yaml:\([0-9]*\):.*/\2/p' | tr '\n' ' ')" = "5 8 11 " ] ||
	fail "check bad.yaml: errors not in line order"
[ -s out ] && fail "check bad.yaml printed a summary: $(cat out)"
run 1 check --json bad.yaml
has out '"valid": false'
has out '"errors": 3'
has err '^bad.yaml:5:[0-9]+: error: '
# --json lists every diagnostic: file, line, column, severity, message
python3 - out <<'PY' || fail "check --json bad.yaml: diagnostics: $(cat out)"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(x["file"], x["line"], x["severity"], x["message"]) for x in d["diagnostics"]]
assert [g[1] for g in got] == [5, 8, 11], got
assert all(g[0] == "bad.yaml" and g[2] == "error" for g in got), got
assert "bogus" in got[0][3] and "70000" in got[1][3] and "explode" in got[2][3], got
assert all(x["column"] > 0 for x in d["diagnostics"]), d
assert d["diagnostics_omitted"] == 0, d
PY

cat >warn.yaml <<'EOF'
version: 1
rules:
  - name: net
    match: { src: 10.1.2.3/8 }
EOF
run 0 check warn.yaml
has err '^warn.yaml:4:[0-9]+: warning: '
has out '^warnings: +1$'
run 0 check --json warn.yaml
has out '"severity": "warning"'
has out '"line": 4,'
has out '"valid": true'

# not a regular file: refused at once (no blocking open of a FIFO)
mkfifo fifo.yaml
timeout 10 "$CTL" check fifo.yaml >out 2>err
[ "$?" = 1 ] || fail "check fifo.yaml: exit $?"
has err '^fifo.yaml: error: not a regular file$'
timeout 10 "$CTL" -c fifo.yaml explain --iface x --direction ingress --l3 arp >out 2>err
has err '^fifo.yaml: error: not a regular file$'
mkdir adir
run 1 check adir
has err '^adir: error: not a regular file$'
run 1 check /dev/null
has err '^/dev/null: error: not a regular file$'

# a control character in a scalar is escaped: no forged line
printf 'version: 1\ninterfaces:\n  - { name: "e\\nforged.yaml:1:1: error: x", hooks: [ingress] }\n' >esc.yaml
run 1 check esc.yaml
[ "$(wc -l <err)" = 1 ] || fail "check esc.yaml: $(cat err)"
has err '^esc.yaml:3:13: error: name: invalid interface name "e\\nforged.yaml'

# 100,000 errors: 100 lines and one for the rest
python3 -c 'print("version: 1\nrules:"); [print("  - {name: r%d, bogus: 1}" % i) for i in range(100000)]' >many.yaml
run 1 check many.yaml
[ "$(wc -l <err)" = 101 ] || fail "check many.yaml: $(wc -l <err) lines"
has err '^many.yaml: 99900 more errors not shown$'
run 1 check --json many.yaml
has out '"errors": 100000,'
has out '"diagnostics_omitted": 90000'

# deep nesting: an error at the first level too deep
python3 -c 'print("version: 1\nx: " + "[" * 100000 + "]" * 100000)' >deep.yaml
run 1 check deep.yaml
has err '^deep.yaml:2:67: error: nested deeper than 64 levels$'

# a redirect to an interface that does not exist: a warning, the rule passes
printf 'version: 1\nrules:\n  - name: away\n    redirect: pc-nosuch0\n' >redir.yaml
run 0 check redir.yaml
has err "^redir.yaml:3:5: warning: rule 'away': redirect interface pc-nosuch0 does not exist \\(yet\\)"

cat >shadow.yaml <<'EOF'
version: 1
rules:
  - name: all-udp
    match: { proto: udp }
  - name: dns
    match: { proto: udp, dst_port: 53 }
EOF
run 0 check shadow.yaml
has err "^shadow.yaml:5:5: warning: rule 'dns' can never match: rule 'all-udp' [(]line 3[)]"
has out '^warnings: +1$'

run 1 check does-not-exist.yaml
has err '^does-not-exist.yaml.*error'
printf 'version: 2\n' >v2.yaml
run 1 check v2.yaml
has err '^v2.yaml:1:[0-9]+: error: '

# ---- explain ----------------------------------------------------------------
X="-c good.yaml explain --iface veth0 --direction ingress"
# first match: sip and all-udp... sip comes first
run 0 $X --proto udp --src 192.168.1.1 --src-port 4000 --dst 192.168.1.2 --dst-port 5060
has out '^rule: +sip \(rule 1 of 5, good.yaml:8:'
has out '^class: +voice$'
has out '^action: +pass$'
has out '^set: +priority 1:10, dscp 46'
# dns (udp 53) is before ten (src 10/8): first match wins
run 0 $X --proto udp --src 10.1.1.1 --src-port 4000 --dst 192.168.1.2 --dst-port 53
has out '^rule: +dns '
has out '^class: +dns$'
has out '^set: +mark 0x35$'
run 0 $X --proto udp --src 10.1.1.1 --src-port 4000 --dst 192.168.1.2 --dst-port 54
has out '^rule: +ten '
has out '^action: +drop$'
# default
run 0 $X --proto udp --src 192.168.1.1 --src-port 4000 --dst 192.168.1.2 --dst-port 54
has out '^rule: +\(default\)'
has out '^class: +other$'
# iface: all-udp only on veth1
run 0 -c good.yaml explain --iface veth1 --direction egress --proto udp --src 192.168.1.1 \
	--src-port 4000 --dst 192.168.1.2 --dst-port 54
has out '^rule: +all-udp '
# ports vs icmp: a port rule never matches ICMP, and ICMP takes no ports
run 0 $X --proto icmp --src 192.168.1.1 --dst 192.168.1.2
has out '^rule: +\(default\)'
run 0 $X --proto tcp --src 192.168.1.1 --dst 192.168.1.2 --src-port 1 --dst-port 53
has out '^rule: +dns '
run 2 $X --proto icmp --src 192.168.1.1 --dst 192.168.1.2 --dst-port 53
has err 'ports apply only to tcp, udp, udplite and sctp'
run 2 $X --proto udp --src 192.168.1.1 --dst 192.168.1.2
has err 'needs --src-port and --dst-port'
# IPv6 and TCP flags
run 0 $X --proto tcp --src 2001:db8::1 --dst 2001:db8::2 --src-port 5000 --dst-port 443 --tcp-flags syn
has out '^rule: +web-v6 '
has out '^log: +yes$'
run 0 $X --proto tcp --src 2001:db8::1 --dst 2001:db8::2 --src-port 5000 --dst-port 443 --tcp-flags syn,ack
has out '^rule: +\(default\)'
run 0 $X --json --proto tcp --src 2001:db8::1 --dst 2001:db8::2 --src-port 5000 --dst-port 443 \
	--tcp-flags syn --dscp af41 --length 100
has out '"rule": "web-v6"'
has out '"rule_index": 4'
has out '"default": false'
has out '"log": true'
has out '"dscp": 34'
has out '"length": 100'
has out '"src": "2001:db8::1"'
run 0 $X --json --l3 arp
has out '"rule": "\(default\)"'
has out '"default": true'
has out '"class": "other"'
# what does not describe a packet
run 2 $X --proto udp --src 192.168.1.1 --dst 2001:db8::2 --src-port 1 --dst-port 2
run 2 $X --proto udp --src 10.0.0.0/8 --dst 10.0.0.1 --src-port 1 --dst-port 2
run 2 $X --proto udp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 65536
run 2 $X --proto bogus --src 10.0.0.1 --dst 10.0.0.2
run 2 $X --direction sideways --l3 arp
run 2 $X --l3 arp --proto udp
run 2 $X --l3 ipv4 --proto udp --src 2001:db8::1 --dst 2001:db8::2 --src-port 1 --dst-port 2
run 2 $X --proto udp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 2 --tcp-flags syn
run 2 $X --proto udp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 2 --vlan 4096
run 2 $X --proto udp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 2 --dscp af44
run 2 $X --proto tcp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 2 --tcp-flags syn,bogus
run 2 $X --proto udp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 2 --length 10
run 2 $X
# a broken config is an error, with its diagnostics
run 1 -c bad.yaml explain --iface veth0 --direction ingress --l3 arp
has err '^bad.yaml:5:[0-9]+: error: '
# --live needs the daemon's state (tests/bpf/test-explain-live runs it for real)
run 1 --pin-path "$T/no-pins" $X --live --l3 arp
has err "explain --live: no pktclassd state under $T/no-pins"
run 2 $X --live --l3 0x88a8
has err 'is a VLAN tag: use --vlan'
run 2 $X --live --proto udp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 2 --length 4000
has err 'does not fit the BPF test runner'
# a packet with ports carries the whole transport header
run 2 $X --proto tcp --src 10.0.0.1 --dst 10.0.0.2 --src-port 1 --dst-port 2 --length 39
has err 'too short for the 40 bytes'
run 0 $X --proto icmp --src 10.0.0.1 --dst 10.0.0.2 --length 21

# ---- set ------------------------------------------------------------------------
run 2 set
has err 'set: which subcommand'
run 2 set frob x
has err "set: unknown subcommand 'frob'"
run 2 set show
has err 'set show: which set'
run 2 set add bl
has err 'set add: needs NAME and at least one ELEMENT'
run 2 set load bl
has err 'set load: needs NAME FILE'
run 2 set list extra
has err 'set list: too many arguments'
run 2 set flush a b
# no daemon for that pin path: an error that says so
run 1 --pin-path "$T/no-pins" set list
has err 'pktclassd is not running for .*/no-pins \(no control socket /run/pktclassd/control-[0-9a-f]{16}\)'
run 1 --pin-path "$T/no-pins" set load bl "$T/missing.txt"
has err "set load: cannot open $T/missing.txt"
# explain with sets, no daemon: the config's elements (inline and file)
printf '192.0.2.0/24\n2001:db8::/32\n' >bl.txt
cat >sets.yaml <<EOF2
version: 1
settings: { pin_path: $T/no-pins }
sets:
  bl: { type: prefix, file: bl.txt, elements: [198.51.100.0/24] }
  web: { type: port, elements: [80, 8000-8099] }
rules:
  - { name: drop-bl, match: { src: "@bl" }, action: drop }
  - { name: web, match: { proto: tcp, dst_port: [22, "@web"] } }
EOF2
run 0 -c sets.yaml explain --iface lo --direction ingress --proto udp --src 192.0.2.9 --dst 10.0.0.1 --src-port 1 --dst-port 2
has out '^rule: +drop-bl '
has out "^in set: +src 192.0.2.9 is in bl: element 192.0.2.0/24 \(the config's contents\)"
run 0 -c sets.yaml explain --iface lo --direction ingress --proto tcp --src 10.9.9.9 --dst 10.0.0.1 --src-port 1 --dst-port 8050
has out '^rule: +web '
has out '^in set: +dst_port 8050 is in web: element 8000-8099'
run 0 -c sets.yaml explain --json --iface lo --direction ingress --proto tcp --src 10.9.9.9 --dst 10.0.0.1 --src-port 1 --dst-port 22
has out '"rule": "web"'
lacks out '"element": "8000-8099"'
has out '"in": false'
# more references than PC_W_SETS has bits (the 33rd and on are looked up lazily): a valid config
{
	printf 'version: 1\nsettings: { pin_path: %s/no-pins }\nsets:\n' "$T"
	for i in $(seq 0 39); do printf '  s%d: { type: prefix, elements: [10.%d.0.0/16] }\n' "$i" "$i"; done
	echo 'rules:'
	for i in $(seq 0 39); do printf '  - { name: r%d, match: { src: "@s%d" } }\n' "$i" "$i"; done
	echo '  - { name: r39-tcp, match: { src: "@s39", proto: tcp } }'
} >refs40.yaml
run 0 check -c refs40.yaml
has out '^sets: +40 \(40 elements, 40 references in rules\)'
has out "^warnings: +1"
has err "refs40.yaml:85:5: warning: rule 'r39-tcp' can never match: rule 'r39' \(line 84\)"
run 0 -c refs40.yaml explain --iface lo --direction ingress --proto udp --src 10.39.1.2 --dst 10.0.0.1 --src-port 1 --dst-port 2
has out '^rule: +r39 '
has out "^in set: +src 10.39.1.2 is in s39: element 10.39.0.0/16"

if [ "$failures" -gt 0 ]; then
	echo "test-ctl: $failures failures" >&2
	exit 1
fi
echo "test-ctl: ok"
