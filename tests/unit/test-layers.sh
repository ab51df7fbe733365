#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-layers.sh SRCDIR - the daemon's layers depend only downwards: every
# #include "X/..." in daemon/<layer>/ names its own layer or one below it
# (daemon/meson.build links them in that order), and nothing under daemon/
# includes test code.
set -u -o pipefail
src=${1:-.}
declare -A allowed=(
	[lib]="lib"
	[config]="config lib"
	[classifier]="classifier config lib"
	[netlink]="netlink lib"
	[datapath]="datapath classifier config lib"
	[attach]="attach datapath netlink classifier config lib"
	[ctl]="ctl datapath netlink classifier config lib"
	[pktclassd]="pktclassd attach datapath netlink classifier config lib"
)
fail=0 n=0
for dir in "$src"/daemon/*/; do
	layer=$(basename "$dir")
	[[ $layer == man ]] && continue
	if [[ -z ${allowed[$layer]:-} ]]; then
		echo "daemon/$layer: not a known layer (add it here and to daemon/meson.build)"
		fail=1
		continue
	fi
	for f in "$dir"*.[ch]; do
		while IFS= read -r inc; do
			n=$((n + 1))
			case $inc in
			*/*) ;;
			*.skel.h | pktclass.h | parse.h | setlookup.h) continue ;;
			*) echo "${f#"$src"/}: #include \"$inc\" does not name its folder"; fail=1; continue ;;
			esac
			if [[ $inc == *tests/* || $inc == ..* ]]; then
				echo "${f#"$src"/}: includes \"$inc\" from outside daemon/"
				fail=1
				continue
			fi
			top=${inc%%/*}
			if [[ " ${allowed[$layer]} " != *" $top "* ]]; then
				echo "${f#"$src"/}: layer $layer includes \"$inc\" (may use: ${allowed[$layer]})"
				fail=1
			fi
		done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	done
done
((n > 50)) || { echo "only $n includes found under $src/daemon"; exit 1; }
((fail)) || echo "ok: $n includes, all downwards"
exit $fail
