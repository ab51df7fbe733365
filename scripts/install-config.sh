#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# install-config.sh SRC DIR - meson install script: put the example config
# SRC into DIR (under $DESTDIR) as pktclassd.yaml, unless a config is there
# already: an operator's file is never overwritten.
set -eu

src=$1
dir=${DESTDIR:+$DESTDIR/}$2
case $dir in
/*) ;;
*) dir=${MESON_BUILD_ROOT:?}/$dir ;;  # a relative --destdir is relative to the build dir
esac
dest=$dir/pktclassd.yaml

if [ -n "${MESON_INSTALL_DRY_RUN:-}" ]; then
	echo "Would install $src to $dest (unless it exists)"
	exit 0
fi
if [ -e "$dest" ]; then
	echo "Keeping existing $dest (the example is $src)"
	exit 0
fi
install -d -m 0755 "$dir"
install -m 0644 "$src" "$dest"
echo "Installing $src to $dest"
