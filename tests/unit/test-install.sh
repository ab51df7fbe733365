#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-install.sh BUILD_DIR SRC_DIR - one consistent install: `meson install
# --destdir` of the build, then, against meson's own options (prefix,
# sysconfdir, ...):
#  - the config is at SYSCONFDIR/pktclassd/pktclassd.yaml and is conf/pktclassd.yaml,
#    and the installed pktclassctl accepts it;
#  - the unit's ExecStart= and ExecReload= programs are installed, and
#    ExecStart= passes that config;
#  - both installed binaries say, in --version and --help, that this config is
#    their default, and `pktclassctl check` without a file reads it;
#  - the catalog, the man pages (naming that config) and the examples are there;
#  - a fresh `meson setup` defaults to prefix /usr and sysconfdir /etc, and
#    with --prefix=/opt/... the generated unit, man pages and the binaries'
#    compiled-in default follow that prefix together.
# No root needed: everything goes below a temporary directory.
set -u -o pipefail

BUILD=$(realpath -e "${1:?usage: test-install.sh BUILD_DIR SRC_DIR}") || exit 1
SRC=$(realpath -e "${2:?usage: test-install.sh BUILD_DIR SRC_DIR}") || exit 1
T=$(mktemp -d /tmp/test-install.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
D=$T/dest
failures=0
fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() {
	echo "ok: $*"
}

# option BUILD NAME: one of meson's options of a build dir, as configured.
option() {
	meson introspect "$1" --buildoptions | python3 -c '
import json, sys
for o in json.load(sys.stdin):
    if o["name"] == sys.argv[1]:
        print(o["value"])
        break
else:
    sys.exit(1)
' "$2"
}

# absdir BUILD NAME: a directory option made absolute (meson keeps
# sysconfdir=/etc absolute and sbindir=sbin relative to the prefix).
absdir() {
	local v
	v=$(option "$1" "$2") || return 1
	[[ $v == /* ]] && echo "$v" || echo "$(option "$1" prefix)/$v"
}

# unit_exec UNIT KEY: the program of KEY= (ExecStart, ExecReload), and its arguments.
unit_exec() {
	sed -n "s/^$2=//p" "$1"
}

# ---- the build's own install ---------------------------------------------------------
VERSION=$(meson introspect "$BUILD" --projectinfo |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])') || exit 1
PREFIX=$(option "$BUILD" prefix) || exit 1
SYSCONFDIR=$(absdir "$BUILD" sysconfdir) || exit 1
SBINDIR=$(absdir "$BUILD" sbindir) || exit 1
BINDIR=$(absdir "$BUILD" bindir) || exit 1
MANDIR=$(absdir "$BUILD" mandir) || exit 1
DATADIR=$(absdir "$BUILD" datadir) || exit 1
CFG=$SYSCONFDIR/pktclassd/pktclassd.yaml
echo "build: version $VERSION, prefix $PREFIX, sysconfdir $SYSCONFDIR: config $CFG"

if ! meson install -C "$BUILD" --destdir "$D" --no-rebuild >"$T/install.log" 2>&1; then
	cat "$T/install.log" >&2
	echo "FAIL: meson install --destdir failed" >&2
	exit 1
fi

# The config.
if [[ -f $D$CFG ]]; then
	cmp -s "$D$CFG" "$SRC/conf/pktclassd.yaml" || fail "$CFG is not conf/pktclassd.yaml"
	ok "config installed at $CFG"
else
	fail "no config at $CFG: $(cd "$D" && find . -name '*.yaml')"
fi

# The unit.
mapfile -t units < <(find "$D" -name pktclassd.service)
if ((${#units[@]} != 1)); then
	fail "want one pktclassd.service in the install, found ${#units[@]}: ${units[*]}"
	UNIT=/dev/null
else
	UNIT=${units[0]}
	ok "unit at ${UNIT#"$D"}"
fi
grep -q '@[A-Z_]*@' "$UNIT" && fail "unsubstituted @...@ left in the unit: $(grep '@[A-Z_]*@' "$UNIT")"
START=$(unit_exec "$UNIT" ExecStart)
RELOAD=$(unit_exec "$UNIT" ExecReload)
[[ -n $START ]] || fail "the unit has no ExecStart="
[[ $START == "$SBINDIR/pktclassd -c $CFG" ]] ||
	fail "ExecStart=$START, want $SBINDIR/pktclassd -c $CFG"
for line in "$START" "$RELOAD"; do
	[[ -n $line ]] || continue
	prog=${line%% *}
	[[ $prog == /* ]] || { fail "program '$prog' of the unit is not an absolute path"; continue; }
	[[ -f $D$prog && -x $D$prog ]] || fail "the unit runs $prog, which is not installed"
	ok "the unit's $prog is installed"
done
if [[ -n $RELOAD ]]; then
	helper=${RELOAD%% *}
	grep -q '@[A-Z_]*@' "$D$helper" && fail "unsubstituted @...@ left in $helper"
fi

# The binaries: --version, --help and check say the same config.
for bin in "$SBINDIR/pktclassd" "$BINDIR/pktclassctl"; do
	name=${bin##*/}
	if ! [[ -x $D$bin ]]; then
		fail "$bin not installed"
		continue
	fi
	out=$("$D$bin" --version) || fail "$name --version: exit $?"
	[[ $(sed -n 1p <<<"$out") == "$name $VERSION" ]] ||
		fail "$name --version says '$(sed -n 1p <<<"$out")', want '$name $VERSION'"
	[[ $(sed -n 2p <<<"$out") == "default config: $CFG" ]] ||
		fail "$name --version: '$(sed -n 2p <<<"$out")', want 'default config: $CFG'"
	"$D$bin" --help | grep -qF "(default $CFG)" || fail "$name --help does not name $CFG as the default"
	ok "$name $VERSION: default config $CFG"
done
# Without a file, check reads the default: whether or not this machine has
# one, every line of its verdict starts with that path.
"$D$BINDIR/pktclassctl" check >"$T/check.out" 2>&1
head -n 1 "$T/check.out" | grep -q "^$CFG:" ||
	fail "pktclassctl check without a file does not read $CFG: $(head -n 3 "$T/check.out")"
"$D$BINDIR/pktclassctl" check "$D$CFG" >"$T/check.out" 2>&1 ||
	fail "the installed pktclassctl rejects the installed config: $(cat "$T/check.out")"
grep -q "^$D$CFG: ok\$" "$T/check.out" || fail "check of the installed config: $(cat "$T/check.out")"
grep -Eq '^warnings: +0$' "$T/check.out" || fail "the installed config has warnings: $(cat "$T/check.out")"
ok "pktclassctl check: the installed config is valid, and is the one read by default"

# The catalog, the man pages, the examples.
CATALOG=$PREFIX/lib/systemd/catalog/pktclassd.catalog
cmp -s "$D$CATALOG" "$SRC/systemd/pktclassd.catalog" || fail "catalog not installed at $CATALOG"
for page in man8/pktclassd.8 man8/pktclassctl.8 man5/pktclassd.yaml.5; do
	f=$D$MANDIR/$page
	if [[ ! -s $f ]]; then
		fail "man page $MANDIR/$page not installed"
		continue
	fi
	grep -qF -e "$CFG" "$f" || fail "$MANDIR/$page does not name the config $CFG"
done
for ex in every-key host-firewall edge-router-qos monitor-tap; do
	f=$DATADIR/doc/pktclassd/examples/$ex.yaml
	cmp -s "$D$f" "$SRC/conf/examples/$ex.yaml" || fail "example $f not installed"
done
ok "catalog, man pages and examples installed"

# ---- other configurations (configured only: the generated files say it) ------------
if ! meson setup "$T/b-default" "$SRC" >"$T/setup.log" 2>&1; then
	cat "$T/setup.log" >&2
	fail "meson setup with no options failed"
else
	[[ $(option "$T/b-default" prefix) == /usr ]] || fail "default prefix: $(option "$T/b-default" prefix)"
	[[ $(absdir "$T/b-default" sysconfdir) == /etc ]] ||
		fail "default sysconfdir: $(absdir "$T/b-default" sysconfdir)"
	grep -qx '#define PC_DEFAULT_CONFIG "/etc/pktclassd/pktclassd.yaml"' \
		"$T/b-default/daemon/lib/buildconf.h" || fail "default build: compiled-in config is not /etc/..."
	grep -qx 'ExecStart=/usr/sbin/pktclassd -c /etc/pktclassd/pktclassd.yaml' \
		"$T/b-default/systemd/pktclassd.service" ||
		fail "default build: $(grep ExecStart= "$T/b-default/systemd/pktclassd.service")"
	ok "meson setup defaults: prefix /usr, sysconfdir /etc, config /etc/pktclassd/pktclassd.yaml"
fi

P=/opt/pctest
if ! meson setup "$T/b-opt" "$SRC" --prefix=$P >"$T/setup.log" 2>&1; then
	cat "$T/setup.log" >&2
	fail "meson setup --prefix=$P failed"
else
	OCFG=$P/etc/pktclassd/pktclassd.yaml
	grep -qx "#define PC_DEFAULT_CONFIG \"$OCFG\"" "$T/b-opt/daemon/lib/buildconf.h" ||
		fail "--prefix=$P: compiled-in config: $(grep PC_DEFAULT_CONFIG "$T/b-opt/daemon/lib/buildconf.h")"
	grep -qx "ExecStart=$P/sbin/pktclassd -c $OCFG" "$T/b-opt/systemd/pktclassd.service" ||
		fail "--prefix=$P: $(grep ExecStart= "$T/b-opt/systemd/pktclassd.service")"
	grep -q "^ExecReload=$P/libexec/" "$T/b-opt/systemd/pktclassd.service" ||
		fail "--prefix=$P: $(grep ExecReload= "$T/b-opt/systemd/pktclassd.service")"
	grep -qF "$OCFG" "$T/b-opt/daemon/man/pktclassd.8" || fail "--prefix=$P: pktclassd.8 does not name $OCFG"
	meson introspect "$T/b-opt" --installed >"$T/installed.json" || fail "meson introspect --installed"
	for want in "$P/lib/systemd/system/pktclassd.service" "$P/lib/systemd/catalog/pktclassd.catalog" \
		"$P/sbin/pktclassd" "$P/share/man/man8/pktclassd.8"; do
		grep -qF "\"$want\"" "$T/installed.json" || fail "--prefix=$P: nothing installed as $want"
	done
	ok "--prefix=$P: config $OCFG in the code, the unit and the man pages"
fi

if ((failures)); then
	echo "test-install: $failures failures" >&2
	exit 1
fi
echo "test-install: ok"
