# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# deps.sh - the Debian 12 packages that building and testing pktclassd need;
# sourced by scripts/run-tests and scripts/demo.

PC_DEB_PACKAGES=(
	gcc libc6-dev pkg-config meson ninja-build
	clang llvm bpftool
	libbpf-dev libelf-dev libmnl-dev libyaml-dev libsystemd-dev zlib1g-dev
	iproute2 util-linux procps tcpdump python3 kmod
	systemd systemd-container
)

pc_install_deps() {
	if ((EUID != 0)); then
		echo "installing packages needs root (or use --no-deps)" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update && apt-get install -y --no-install-recommends "${PC_DEB_PACKAGES[@]}"
}

# pc_build DIR: configure (or reconfigure) and build.
pc_build() {
	local dir=$1
	if [[ -f $dir/build.ninja ]]; then
		meson setup --reconfigure "$dir" || return
	else
		meson setup "$dir" || return
	fi
	ninja -C "$dir"
}
