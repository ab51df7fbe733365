# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# systemd-lib.sh - run tests under a real systemd as PID 1: a throwaway
# systemd-nspawn container booted from the host's own /usr.  Source it, call
# sd_init NAME, then sd_stage, sd_boot, sd_install; run commands inside with
# sd_run / sd_sh.  An EXIT trap powers the container off (or kills it) and
# removes every temporary file, whatever happens; the container itself is
# bounded in time by timeout(1).  Exit status: 0 pass, 1 fail, 77 skip (a
# missing prerequisite; with CI=true a failure instead).
#
# The container, as booted by sd_boot (machine name pcsd-<pid>):
#   systemd-nspawn --directory=/ --volatile=yes --register=no --keep-unit
#     --machine=NAME --console=read-only --boot --private-network
#     --capability=all --system-call-filter='bpf perf_event_open'
#     --bind=/sys/fs/bpf --bind-ro=STAGING:/opt/pktclassd-staging
#     --overlay=/usr:STAGING/usr:/usr
#     systemd.firstboot=off systemd.unit=multi-user.target
# --volatile=yes: / is a tmpfs, /usr the host's (read-only) with the staged
# /usr of `meson install --destdir STAGING` laid over it, so that binaries sit
# at their installed paths; writes there land in STAGING, never in the host's
# /usr.  --private-network: the container has only its own lo, and the veths
# that tests create; the host's interfaces are out of reach.  bpffs is the
# host's (programs and maps are global anyway).  systemd.firstboot=off: the
# empty /etc would otherwise make systemd-firstboot prompt on the console.
# The leader (the container's PID 1) is the child of systemd-nspawn named
# systemd; `nsenter -t LEADER -a` runs commands in all its namespaces.

set -u -o pipefail

SD_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BUILD_DIR:=$SD_REPO/build}"
: "${SD_LIFETIME:=540}"     # seconds the container may live, at most
: "${SD_CMD_TIMEOUT:=120}"  # seconds for one command inside

SD_TEST=""
SD_TMP=""
SD_STAGING=""
SD_MACHINE=""
SD_LOG=""
SD_TIMEOUT_PID=""
SD_NSPAWN_PID=""
SD_LEADER=""
SD_CLEANED=""
SD_EXTRA_CLEANUP=()   # commands (strings) run on the host at teardown
SD_SHOW_ON_FAIL=()    # commands run inside the container on failure

sd_log() {
	echo "[$SD_TEST] $*" >&2
}

sd_fail() {
	echo "FAIL: [$SD_TEST] $*" >&2
	local i
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		echo "  at ${FUNCNAME[$i]} (${BASH_SOURCE[$i + 1]##*/}:${BASH_LINENO[$i]})" >&2
	done
	exit 1
}

sd_skip() {
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: [$SD_TEST] cannot run (CI=true, not skipping): $*" >&2
		exit 1
	fi
	echo "SKIP: [$SD_TEST] $*" >&2
	exit 77
}

sd_assert_eq() {  # ACTUAL EXPECTED WHAT
	[[ "$1" == "$2" ]] || sd_fail "$3: got '$1', expected '$2'"
	sd_log "ok: $3 = $2"
}

# ---- container lifetime -------------------------------------------------------

sd_show_failure() {
	local c
	[[ -n $SD_LEADER ]] || return 0
	for c in "${SD_SHOW_ON_FAIL[@]}"; do
		echo "---- in the container: $c ----" >&2
		sd_sh "$c" >&2 2>&1
	done
	if [[ -n $SD_LOG && -s $SD_LOG ]]; then
		echo "---- container console (last 40 lines) ----" >&2
		tail -n 40 "$SD_LOG" | sed 's/\x1b\[[0-9;]*m//g' >&2
	fi
}

# Power the container off: SIGTERM to timeout(1), which passes it on to
# systemd-nspawn, which halts the container.  SIGKILL after 30 s.
sd_poweroff() {
	local pid=$SD_TIMEOUT_PID
	[[ -n $pid ]] || return 0
	SD_TIMEOUT_PID=""
	SD_LEADER=""
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "[$SD_TEST] container did not power off in 30 s: killing it" >&2
		[[ -n $SD_NSPAWN_PID ]] && kill -KILL "$SD_NSPAWN_PID" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	SD_NSPAWN_PID=""
}

sd_cleanup() {
	local rc=$? c
	[[ -n $SD_CLEANED ]] && return
	SD_CLEANED=1
	trap - EXIT INT TERM
	if ((rc != 0 && rc != 77)); then
		sd_show_failure
	fi
	sd_poweroff
	for c in "${SD_EXTRA_CLEANUP[@]}"; do
		eval "$c" 2>/dev/null
	done
	[[ -n $SD_TMP && -d $SD_TMP ]] && rm -rf "$SD_TMP"
	exit "$rc"
}

# sd_init NAME: check what booting a container needs; set up the trap.
sd_init() {
	SD_TEST=$1
	trap sd_cleanup EXIT
	trap 'exit 1' INT TERM
	((EUID == 0)) || sd_skip "needs root"
	local c
	for c in systemd-nspawn nsenter meson timeout; do
		command -v "$c" >/dev/null 2>&1 ||
			sd_skip "command '$c' not found (apt-get install systemd-container util-linux meson)"
	done
	[[ -x /usr/lib/systemd/systemd ]] || sd_skip "no /usr/lib/systemd/systemd to boot"
	[[ -d /sys/fs/bpf ]] || sd_skip "/sys/fs/bpf does not exist"
	SD_TMP=$(mktemp -d "/tmp/pcsd-$SD_TEST-$$.XXXXXX") || sd_fail "mktemp"
	SD_STAGING=$SD_TMP/staging
	SD_LOG=$SD_TMP/console.log
	SD_MACHINE=pcsd-$$
}

# sd_stage: `meson install` of BUILD_DIR into $SD_STAGING (no rebuild: meson
# test has built it).
sd_stage() {
	[[ -f $BUILD_DIR/build.ninja ]] || sd_skip "no meson build directory at $BUILD_DIR"
	meson install -C "$BUILD_DIR" --destdir "$SD_STAGING" --no-rebuild \
		>"$SD_TMP/install.log" 2>&1 || {
		cat "$SD_TMP/install.log" >&2
		sd_fail "meson install --destdir $SD_STAGING failed"
	}
	mkdir -p "$SD_STAGING/usr" "$SD_STAGING/units"
	# The units go out of the overlaid /usr: the container's first boot
	# (empty /etc) presets, i.e. enables, every unit it finds there, and
	# pktclassd would start at boot, before the test has set up anything.
	local d
	for d in "$SD_STAGING"/lib/systemd/system "$SD_STAGING"/usr/lib/systemd/system \
		"$SD_STAGING"/usr/local/lib/systemd/system; do
		[[ -d $d ]] || continue
		mv "$d"/* "$SD_STAGING/units/" || sd_fail "moving the staged units out of $d"
	done
	sd_log "staged the install in $SD_STAGING (units in $SD_STAGING/units)"
}

# sd_boot: boot the container and wait until systemd says the system is up
# (running or degraded).
sd_boot() {
	local i state
	timeout -k 10 "$SD_LIFETIME" systemd-nspawn \
		--directory=/ --volatile=yes --register=no --keep-unit \
		--machine="$SD_MACHINE" --console=read-only --boot --private-network \
		--capability=all --system-call-filter='bpf perf_event_open' \
		--bind=/sys/fs/bpf --bind-ro="$SD_STAGING:/opt/pktclassd-staging" \
		--overlay="/usr:$SD_STAGING/usr:/usr" \
		systemd.firstboot=off systemd.unit=multi-user.target \
		</dev/null >"$SD_LOG" 2>&1 &
	SD_TIMEOUT_PID=$!
	for ((i = 0; i < 300; i++)); do
		kill -0 "$SD_TIMEOUT_PID" 2>/dev/null || break
		[[ -z $SD_NSPAWN_PID ]] && SD_NSPAWN_PID=$(pgrep -P "$SD_TIMEOUT_PID" -x systemd-nspawn)
		if [[ -n $SD_NSPAWN_PID ]]; then
			SD_LEADER=$(pgrep -P "$SD_NSPAWN_PID" -x systemd) && break
		fi
		sleep 0.1
	done
	if [[ -z $SD_LEADER ]]; then
		sed 's/\x1b\[[0-9;]*m//g' "$SD_LOG" >&2
		if grep -q -i -e 'not permitted' -e 'not supported' -e 'busy' "$SD_LOG"; then
			sd_skip "systemd-nspawn cannot boot a container here (see above)"
		fi
		sd_fail "systemd-nspawn did not start a systemd within 30 s"
	fi
	# The manager's private bus socket appears a moment after PID 1 starts.
	for ((i = 0; i < 300; i++)); do
		sd_run test -S /run/systemd/private && break
		kill -0 "$SD_TIMEOUT_PID" 2>/dev/null || sd_fail "the container went away while booting"
		sleep 0.1
	done
	state=$(sd_run systemctl is-system-running --wait)
	case $state in
	running | degraded) ;;
	*) sd_fail "container system state: '$state'" ;;
	esac
	sd_log "container $SD_MACHINE up (nspawn pid $SD_NSPAWN_PID, leader pid $SD_LEADER, $state)"
}

# sd_run CMD...: run CMD inside the container, with a clean environment and
# a time limit.
sd_run() {
	[[ -n $SD_LEADER ]] || sd_fail "no container"
	nsenter -t "$SD_LEADER" -a -- timeout -k 5 "$SD_CMD_TIMEOUT" \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb HOME=/root "$@"
}

# sd_sh SCRIPT [ARGS...]: run a bash script inside the container.
sd_sh() {
	local script=$1
	shift
	sd_run /bin/bash -o pipefail -c "$script" bash "$@"
}

# sd_install: put the staged files in their places inside the container:
# /usr is already there (overlay); the units (set aside by sd_stage) go to
# /etc/systemd/system, tmpfiles.d to /etc/tmpfiles.d, and /etc as staged.
# Then daemon-reload and compile the journal catalog.
sd_install() {
	# shellcheck disable=SC2016 # expanded inside the container
	sd_sh '
set -e
S=/opt/pktclassd-staging
mkdir -p /etc/systemd/system /etc/tmpfiles.d
[ ! -d $S/etc ] || cp -a $S/etc/. /etc/
cp -a $S/units/. /etc/systemd/system/
for d in $S/lib/tmpfiles.d $S/usr/lib/tmpfiles.d $S/usr/local/lib/tmpfiles.d; do
	[ ! -d $d ] || cp -a $d/. /etc/tmpfiles.d/
done
systemctl daemon-reload
journalctl --update-catalog
' || sd_fail "installing the staged files in the container"
}

# sd_unit_prop UNIT PROP: one property of a unit, by value.
sd_unit_prop() {
	sd_run systemctl show -P "$2" "$1"
}

# sd_wait_for SECONDS DESCRIPTION SCRIPT: poll SCRIPT (inside the container)
# every 0.2 s until it succeeds; fail after SECONDS.
sd_wait_for() {
	local limit=$(($1 * 5)) i
	for ((i = 0; i < limit; i++)); do
		sd_sh "$3" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	sd_fail "timed out after $1 s waiting for: $2"
}
