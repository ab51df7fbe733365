#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-include.sh PKTCLASSCTL: `include:` through `pktclassctl check` and
# `explain`: globs in file-name order, rules appended in that order,
# interfaces merged, a duplicate rule or interface an error naming both
# places, errors in an included file at its own FILE:LINE:COLUMN, keys an
# included file may not have, sets of included files (a rule of any file
# naming them, element files relative to the file that names them, a
# duplicate set), a missing file, an empty glob, the main file
# matched by its own glob, and (as root) an include that others can write.
set -u

CTL=$(realpath -e "${1:?usage: test-include.sh PKTCLASSCTL}") || exit 1
T=$(mktemp -d /tmp/test-include.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
failures=0
checks=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
expect_eq() { # ACTUAL EXPECTED WHAT
	checks=$((checks + 1))
	[[ $1 == "$2" ]] || fail "$3: got [$1], expected [$2]"
}

# `pktclassctl check` of main.yaml: its exit status and stderr.
check() {
	"$CTL" check main.yaml >out 2>err
	echo $?
}
# The rule that a UDP packet to PORT gets on eth0 ingress.
rule_for_port() {
	"$CTL" explain -c main.yaml --json --iface eth0 --direction ingress --proto udp \
		--src 10.0.0.1 --dst 10.0.0.2 --src-port 1000 --dst-port "$1" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["rule"], d.get("file", "main"), d["line"])'
}

mkdir conf.d
cat >main.yaml <<'EOF'
version: 1
include: [conf.d/*.yaml]
interfaces:
  - { name: eth0, hooks: [ingress] }
rules:
  - name: dns
    match: { proto: udp, dst_port: 53 }
EOF
# 20-b sorts after 10-a although written first, and both match port 5000.
cat >conf.d/20-b.yaml <<'EOF'
rules:
  - name: b-5000
    match: { proto: udp, dst_port: 5000 }
  - name: b-6000
    match: { proto: udp, dst_port: 6000 }
EOF
cat >conf.d/10-a.yaml <<'EOF'
interfaces:
  - { name: "veth*", hooks: [monitor] }
rules:
  - name: a-5000
    match: { proto: udp, dst_port: [5000, 53] }
EOF
: >conf.d/30-empty.yaml
echo 'rules: [ { name: ignored } ]' >conf.d/not-yaml.txt

expect_eq "$(check)" 0 "a valid config with includes: exit"
# a rule shadowed by one of another file: the warning names that place
expect_eq "$(cat err)" "conf.d/20-b.yaml:2:5: warning: rule 'b-5000' can never match: rule \
'a-5000' (conf.d/10-a.yaml:4:5) matches every packet it would" "a valid config with includes: stderr"
expect_eq "$(grep -E '^rules:' out)" "rules:            4" "rules of every file"
expect_eq "$(grep -E '^interfaces:' out | cut -d, -f1)" "interfaces:       2 entries" \
	"interfaces merged"
expect_eq "$(rule_for_port 53)" "dns main 6" "the main file's rules come first"
expect_eq "$(rule_for_port 5000)" "a-5000 conf.d/10-a.yaml 4" "file-name order: 10-a before 20-b"
expect_eq "$(rule_for_port 6000)" "b-6000 conf.d/20-b.yaml 4" "a rule of the last file"

# A duplicate rule name and interface across files: both places named.
cat >conf.d/40-dup.yaml <<'EOF'
interfaces:
  - { name: eth0, hooks: [egress] }
rules:
  - name: a-5000
EOF
expect_eq "$(check)" 1 "duplicates: exit"
expect_eq "$(cat err)" \
"conf.d/40-dup.yaml:2:13: error: duplicate interface \"eth0\" (first at main.yaml:4:13)
conf.d/40-dup.yaml:4:11: error: duplicate rule name \"a-5000\" (first at conf.d/10-a.yaml:4:11)" \
	"duplicates name both places"
rm conf.d/40-dup.yaml

# Errors inside an included file, at its own positions; keys it may not have.
cat >conf.d/15-bad.yaml <<'EOF'
version: 1
rules:
  - name: bad
    match: { proto: udp, dst_port: 70000 }
settings: { stats_interval: 1s }
EOF
printf 'rules:\n  - name: x\n    match: [\n' >conf.d/16-broken.yaml
expect_eq "$(check)" 1 "errors in includes: exit"
expect_eq "$(grep -c . err)" 4 "errors in includes: count ($(cat err))"
grep -q '^conf.d/15-bad.yaml:1:1: error: unknown key "version" in an included file' err ||
	fail "version in an include: $(cat err)"
grep -q '^conf.d/15-bad.yaml:4:36: error: match.dst_port: ' err ||
	fail "a bad value in an include: $(cat err)"
grep -q '^conf.d/15-bad.yaml:5:1: error: unknown key "settings" in an included file' err ||
	fail "settings in an include: $(cat err)"
grep -q '^conf.d/16-broken.yaml:[0-9]*:[0-9]*: error: YAML syntax error' err ||
	fail "a YAML error in an include: $(cat err)"
rm conf.d/15-bad.yaml conf.d/16-broken.yaml

# A literal path that does not exist is an error; a glob that matches
# nothing is not (an empty drop-in directory).
sed -i 's|include: .*|include: [conf.d/*.yaml, missing.yaml, "none.d/*.yaml"]|' main.yaml
expect_eq "$(check)" 1 "a missing include: exit"
expect_eq "$(cat err)" "main.yaml:2:26: error: include: missing.yaml: No such file or directory" \
	"a missing include"

# The main file matched by its own glob is not read again; a file matched
# twice is read once.
sed -i 's|include: .*|include: ["*.yaml", "conf.d/*.yaml", conf.d/10-a.yaml]|' main.yaml
expect_eq "$(check)" 0 "the main file in its own glob: exit ($(cat err))"
expect_eq "$(grep -E '^rules:' out)" "rules:            4" "each file read once"

# include: must be a list of strings.
sed -i 's|include: .*|include: { a: b }|' main.yaml
expect_eq "$(check)" 1 "include: a mapping: exit"
expect_eq "$(cat err)" "main.yaml:2:10: error: include: expected a scalar or a list, got a mapping" \
	"include: a mapping"
sed -i 's|include: .*|include: [conf.d/*.yaml]|' main.yaml

# Sets: merged over the files; a rule of one file names a set of another;
# an element file is relative to the file that names it; a duplicate set
# names both places; a bad element is at the element file's position.
mkdir -p sets.d/conf.d/lists
cat >sets.d/main.yaml <<'EOF'
version: 1
include: [conf.d/*.yaml]
interfaces:
  - { name: eth0, hooks: [ingress] }
sets:
  main-bl: { type: prefix, elements: [192.0.2.0/24] }
rules:
  - name: from-inc-bl
    match: { src: "@inc-bl" }
EOF
cat >sets.d/conf.d/10-sets.yaml <<'EOF'
sets:
  inc-bl: { type: prefix, file: lists/inc.txt }
rules:
  - name: from-main-bl
    match: { src: "@main-bl" }
EOF
printf '# included\n198.51.100.0/24\n' >sets.d/conf.d/lists/inc.txt
set_rule() { # SRC: the rule and the set line of explain
	"$CTL" explain -c sets.d/main.yaml --iface eth0 --direction ingress --proto udp \
		--src "$1" --dst 10.0.0.2 --src-port 1000 --dst-port 53 |
		sed -n 's/^rule: *\([^ ]*\).*/\1/p; s/^in set: *//p' | tr '\n' ' '
}
"$CTL" check sets.d/main.yaml >out 2>err
expect_eq $? 0 "sets in includes: exit ($(cat err))"
expect_eq "$(set_rule 198.51.100.7)" \
	"from-inc-bl src 198.51.100.7 is in inc-bl: element 198.51.100.0/24 (the config's contents) " \
	"a main rule, a set of an included file, its element file relative to it"
expect_eq "$(set_rule 192.0.2.9)" \
	"from-main-bl src 192.0.2.9 is in main-bl: element 192.0.2.0/24 (the config's contents) " \
	"an included rule, a set of the main file"
cat >sets.d/conf.d/20-dup.yaml <<'EOF'
sets:
  main-bl: { type: port, elements: [22] }
EOF
printf '198.51.100.0/24\n300.1.2.3\n' >sets.d/conf.d/lists/inc.txt
"$CTL" check sets.d/main.yaml >out 2>err
expect_eq $? 1 "a duplicate set, a bad element: exit"
expect_eq "$(cat err)" \
"sets.d/conf.d/20-dup.yaml:2:3: error: duplicate set \"main-bl\" (first at sets.d/main.yaml:6:3)
sets.d/conf.d/lists/inc.txt:2:1: error: invalid address \"300.1.2.3\"" \
	"a duplicate set names both places; a bad element at its element file's position"

# As root, an included file that others may change is refused, as the main
# file would be.
if ((EUID == 0)); then
	chmod o+w conf.d/20-b.yaml
	expect_eq "$(check)" 1 "a world-writable include: exit"
	grep -q '^conf.d/20-b.yaml: error: writable by everyone' err ||
		fail "a world-writable include: $(cat err)"
	chmod o-w conf.d/20-b.yaml
fi

if ((failures > 0)); then
	echo "test-include: $failures of $checks checks failed" >&2
	exit 1
fi
echo "test-include: ok ($checks checks)"
