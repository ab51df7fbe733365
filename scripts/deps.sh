#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# deps.sh - the Debian 12 packages that pktclassd needs.  Sourced by
# scripts/run-tests, scripts/demo and the benchmarks; run directly, it
# installs them (as root):
#
#   scripts/deps.sh            what building, scripts/run-tests (every suite) and scripts/demo need
#   scripts/deps.sh --bench    that, and the benchmarks' tools (PC_BENCH_PACKAGES)
#
# tests/unit/test-deps.py checks that every command the tests, run-tests, the
# demo and the benchmarks run comes from these lists (or from a package that
# every Debian 12 system has: Essential or priority required).

PC_DEB_PACKAGES=(
	gcc libc6-dev pkg-config meson ninja-build
	clang llvm bpftool libclang-rt-14-dev
	libbpf-dev libelf-dev libmnl-dev libyaml-dev libsystemd-dev zlib1g-dev
	iproute2 util-linux procps tcpdump python3 kmod nftables
	systemd systemd-container man-db
	prometheus prometheus-node-exporter
	build-essential debhelper dpkg-dev lintian git bash-completion
)

# Packages with a service of their own that the tests only run as programs
# (on 127.0.0.1, started and stopped by the test): installing them here
# neither starts nor enables that service.
PC_DEB_SERVICES=(prometheus prometheus-node-exporter)

# The benchmarks' tools beyond PC_DEB_PACKAGES (scripts/bench-*), by command.
declare -A PC_BENCH_COMMANDS=(
	[trafgen]=netsniff-ng
	[iptables-nft-restore]=iptables
	[iptables-nft-save]=iptables
	[gnuplot]=gnuplot-nox
	[perf]=linux-perf
)
PC_BENCH_PACKAGES=(netsniff-ng iptables gnuplot-nox linux-perf)

# pc_install_deps [--bench]: apt-get install the packages (root only).
pc_install_deps() {
	local pkgs=("${PC_DEB_PACKAGES[@]}")
	[[ ${1:-} == --bench ]] && pkgs+=("${PC_BENCH_PACKAGES[@]}")
	if ((EUID != 0)); then
		echo "installing packages needs root (or use --no-deps)" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	local fresh=() p guard="" rc=0
	for p in "${PC_DEB_SERVICES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || fresh+=("$p")
	done
	# invoke-rc.d and deb-systemd-invoke ask policy-rc.d: 101 = start nothing
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs\nexit 101\n' \
			>/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && guard=1
	fi
	apt-get update && apt-get install -y --no-install-recommends "${pkgs[@]}" || rc=$?
	[[ -n $guard ]] && rm -f /usr/sbin/policy-rc.d
	# what the postinst enabled for boot, for the packages installed just now
	for p in "${fresh[@]}"; do
		systemctl disable "$p.service" >/dev/null 2>&1 || true
	done
	return "$rc"
}

# pc_bench_require PROGRAM COMMAND...: 0 when every COMMAND is there, else
# one line naming what is missing and how to install it, and 1.
pc_bench_require() {
	local prog=$1 c p missing=() pkgs=()
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		missing+=("$c")
		p=${PC_BENCH_COMMANDS[$c]:-}
		[[ -n $p && " ${pkgs[*]} " != *" $p "* ]] && pkgs+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	echo "$prog: missing ${missing[*]}: install with scripts/deps.sh --bench${pkgs[*]:+ (packages ${pkgs[*]})}" >&2
	return 1
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

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-} in
	'' | --bench) pc_install_deps "$@" ;;
	*) echo "usage: scripts/deps.sh [--bench]" >&2; exit 2 ;;
	esac
fi
