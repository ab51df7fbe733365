#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-catalog.sh SRCDIR - every MESSAGE_ID the code uses (PC_MID_* in
# daemon/*/*.c) is defined in daemon/lib/log.h, is a 128-bit id used by no other
# name, and has an entry with a Subject in systemd/pktclassd.catalog.
set -u -o pipefail
src=${1:-.}
log_h=$src/daemon/lib/log.h
catalog=$src/systemd/pktclassd.catalog
fail=0

used=$(grep -oh 'PC_MID_[A-Z_]*' "$src"/daemon/*/*.c | sort -u)
[[ -n $used ]] || { echo "no PC_MID_ used in daemon/*/*.c"; exit 1; }
for name in $used; do
	id=$(sed -n "s/^#define $name  *\"\([0-9a-f]*\)\".*/\1/p" "$log_h")
	if [[ ! $id =~ ^[0-9a-f]{32}$ ]]; then
		echo "$name: no 128-bit id in log.h"
		fail=1
		continue
	fi
	if ! grep -A1 -x -- "-- $id" "$catalog" | grep -q '^Subject: .'; then
		echo "$name ($id): no catalog entry with a Subject"
		fail=1
	fi
	echo "ok: $name $id"
done
dups=$(sed -n 's/^#define PC_MID_[A-Z_]*  *"\([0-9a-f]*\)".*/\1/p' "$log_h" | sort | uniq -d)
if [[ -n $dups ]]; then
	echo "ids defined twice in log.h: $dups"
	fail=1
fi
exit $fail
