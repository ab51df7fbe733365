#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-conf.sh PKTCLASSCTL CONF_DIR: every config shipped in conf/ (the
# default and the examples) passes `pktclassctl check` with no error and no
# warning (but the one that a redirect target, eth1 say, does not exist on
# this machine).  What the examples do is test-examples.sh's.
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
	nredir=$(grep -c ': warning: rule .*: redirect interface .* does not exist (yet)' "$T/err")
	grep -v ': redirect interface .* does not exist (yet)' "$T/err" | grep -q ': warning: ' &&
		fail "check $f: warnings: $(cat "$T/err")"
	grep -Eq "^warnings: +$nredir\$" "$T/out" || fail "check $f: summary: $(cat "$T/out")"
	grep -q "^$f: ok\$" "$T/out" || fail "check $f: no 'ok' line"
done < <(find "$CONF" -name '*.yaml' -print0 | sort -z)
[ "$n" -ge 5 ] || fail "only $n configs found under $CONF"

if [ "$failures" -gt 0 ]; then
	echo "test-conf: $failures failures ($n configs)" >&2
	exit 1
fi
echo "test-conf: ok ($n configs)"
