# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# lib.sh - harness for the end-to-end tests; source it, then call pc_init.
#
# Every test works inside network namespaces it creates (pc-<test>-<pid>-<role>),
# with a private bpffs pin path and config, and an EXIT trap that removes all of
# it, whatever happens.  Exit status: 0 pass, 1 fail, 77 skip (a missing
# prerequisite; with CI=true that is a failure instead).
#
# The binaries come from the environment that meson sets (PKTCLASSD,
# PKTCLASSCTL, PCSEND, PCRECV); without it, from $BUILD_DIR (default: build/
# at the top of the repository).

set -u -o pipefail

PC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BUILD_DIR:=$PC_REPO/build}"
: "${PKTCLASSD:=$BUILD_DIR/daemon/pktclassd}"
: "${PKTCLASSCTL:=$BUILD_DIR/daemon/pktclassctl}"
: "${PCSEND:=$BUILD_DIR/tests/tools/pcsend}"
: "${PCRECV:=$BUILD_DIR/tests/tools/pcrecv}"

PC_TEST=""          # test name
PC_TMP=""           # private temp dir
PC_PIN=""           # private pin_path
PC_CFG=""           # config file of the daemon
PC_NETNS=()         # namespaces to delete
PC_PIDS=()          # background processes to end
PC_DAEMON_PID=""
PC_DAEMON_NS=""
PC_RECV_PID=""
PC_RECV_OUT=""
PC_CLEANED=""

pc_log() {
	echo "[$PC_TEST] $*" >&2
}

# Print the daemon's log (tail), for failures.
pc_show_daemon_log() {
	if [[ -n $PC_TMP && -s $PC_TMP/pktclassd.log ]]; then
		echo "---- pktclassd log (last 60 lines) ----" >&2
		tail -n 60 "$PC_TMP/pktclassd.log" >&2
		echo "---- end of log ----" >&2
	fi
}

# fail MESSAGE: print it with the call chain and the daemon's log, exit 1.
# Not for use inside $(...): the exit would only leave the subshell.
fail() {
	echo "FAIL: [$PC_TEST] $*" >&2
	local i
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		echo "  at ${FUNCNAME[$i]} (${BASH_SOURCE[$i + 1]##*/}:${BASH_LINENO[$i]})" >&2
	done
	pc_show_daemon_log
	PC_LOG_SHOWN=1
	exit 1
}

# A prerequisite is missing: skip, unless CI=true where nothing may be skipped.
pc_skip() {
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: [$PC_TEST] prerequisite missing (CI=true, not skipping): $*" >&2
		exit 1
	fi
	echo "SKIP: [$PC_TEST] $*" >&2
	exit 77
}

assert_eq() {  # ACTUAL EXPECTED WHAT
	if [[ "$1" != "$2" ]]; then
		fail "$3: got '$1', expected '$2'"
	fi
	pc_log "ok: $3 = $2"
}

assert_ge() {  # ACTUAL MIN WHAT
	if ! [[ "$1" =~ ^[0-9]+$ ]] || (("$1" < "$2")); then
		fail "$3: got '$1', expected at least $2"
	fi
	pc_log "ok: $3 = $1 (>= $2)"
}

# json_get PATH < JSON: print the value at PATH, a dot-separated list of
# object keys, list indexes, and KEY=VALUE selectors (the list element whose
# KEY is VALUE), e.g. "classes.name=voice.packets".  Scalars print as JSON
# (true, null, 12, strings bare); objects and lists print as JSON.  Exit 1
# when the path does not exist.
json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for seg in sys.argv[1].split(".") if sys.argv[1] else []:
    if isinstance(v, list) and "=" in seg:
        k, _, want = seg.partition("=")
        hits = [e for e in v if isinstance(e, dict) and str(e.get(k)) == want]
        if not hits:
            sys.exit(1)
        v = hits[0]
    elif isinstance(v, list) and seg.lstrip("-").isdigit():
        try:
            v = v[int(seg)]
        except IndexError:
            sys.exit(1)
    elif isinstance(v, dict) and seg in v:
        v = v[seg]
    else:
        sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

pc_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || pc_skip "command '$c' not found"
	done
}

pc_require_file() {
	local f
	for f in "$@"; do
		[[ -x $f ]] || pc_skip "$f not built"
	done
}

pc_cleanup() {
	local rc=$? pid ns
	[[ -n $PC_CLEANED ]] && return
	PC_CLEANED=1
	trap - EXIT INT TERM
	if [[ -n $PC_DAEMON_PID ]] && kill -0 "$PC_DAEMON_PID" 2>/dev/null; then
		kill -TERM "$PC_DAEMON_PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$PC_DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$PC_DAEMON_PID" 2>/dev/null
		wait "$PC_DAEMON_PID" 2>/dev/null
	fi
	for pid in "${PC_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for ns in "${PC_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[[ -n $PC_PIN && -d $PC_PIN ]] && rm -rf "$PC_PIN"
	if ((rc != 0 && rc != 77)) && [[ -z ${PC_LOG_SHOWN:-} ]]; then
		pc_show_daemon_log
	fi
	[[ -n $PC_TMP && -d $PC_TMP ]] && rm -rf "$PC_TMP"
	exit "$rc"
}

# pc_init NAME: check what every e2e test needs, set up the private paths and
# the cleanup trap.
pc_init() {
	PC_TEST=$1
	trap pc_cleanup EXIT
	trap 'exit 1' INT TERM
	((EUID == 0)) || pc_skip "needs root"
	pc_require_cmd ip tc python3 taskset
	pc_require_file "$PCSEND" "$PCRECV"
	ip netns list >/dev/null 2>&1 || pc_skip "ip netns does not work"
	PC_TMP=$(mktemp -d "/tmp/pc-$PC_TEST-$$.XXXXXX")
	PC_PIN=/sys/fs/bpf/pktclassd-e2e-$$
	PC_CFG=$PC_TMP/pktclassd.yaml
}

# pc_require_daemon: the daemon, pktclassctl and bpffs are there.
pc_require_daemon() {
	pc_require_file "$PKTCLASSD" "$PKTCLASSCTL"
	[[ -d /sys/fs/bpf ]] || pc_skip "/sys/fs/bpf does not exist"
}

# pc_ns VAR ROLE: create namespace pc-<test>-<pid>-ROLE, its name into VAR.
pc_ns() {
	local ns="pc-$PC_TEST-$$-$2"
	ip netns add "$ns" || fail "ip netns add $ns"
	PC_NETNS+=("$ns")
	nsenter --net="/run/netns/$ns" -- sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null || fail "sysctl in $ns"
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

# Not `ip netns exec`: it gives the command a private mount namespace with a
# fresh /sys, so a bpffs mounted or pinned there is invisible to everyone else.
pc_in() {  # NS CMD...: run CMD in namespace NS
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# pc_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, IPv6 off
# before the links come up (no ND or MLD packets: counts stay exact).
pc_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" ||
		fail "ip link add veth $1/$2 - $3/$4"
	pc_in "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" >/dev/null
	pc_in "$3" sysctl -qw "net.ipv6.conf.$4.disable_ipv6=1" >/dev/null
	ip -n "$1" link set "$2" up || fail "link up $2"
	ip -n "$3" link set "$4" up || fail "link up $4"
}

pc_mac() {  # NS IF
	ip -n "$1" -o link show dev "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# pc_router NS: enable IPv4 forwarding in NS, with no reverse-path filter
# (test sources need no route back).
pc_router() {
	local k
	for k in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0; do
		pc_in "$1" sysctl -qw "$k" >/dev/null || fail "sysctl $k in $1"
	done
}

# pc_send NS ARGS...: pcsend in NS.  Pinned to CPU 0 so that every packet of
# a test goes through the same backlog queue, in order: an end marker sent
# last is received last.
pc_send() {
	local ns=$1
	shift
	pc_in "$ns" taskset -c 0 "$PCSEND" -q "$@" || fail "pcsend $*"
}

# pc_recv_start NS IF ARGS...: start pcrecv in the background, counting
# packets on IF that match ARGS, until the end marker (UDP port 65000).
pc_recv_start() {
	local ns=$1 ifname=$2 ready
	shift 2
	ready=$PC_TMP/pcrecv.ready
	PC_RECV_OUT=$PC_TMP/pcrecv.out
	rm -f "$ready" "$PC_RECV_OUT"
	nsenter --net="/run/netns/$ns" -- "$PCRECV" -i "$ifname" --end-port 65000 --timeout 30 --json \
		--ready "$ready" "$@" >"$PC_RECV_OUT" &
	PC_RECV_PID=$!
	PC_PIDS+=("$PC_RECV_PID")
	for _ in $(seq 100); do
		[[ -e $ready ]] && return 0
		kill -0 "$PC_RECV_PID" 2>/dev/null || fail "pcrecv did not start"
		sleep 0.05
	done
	fail "pcrecv not ready"
}

# pc_recv_finish NS ARGS...: send the end marker with pcsend ARGS (plus
# --proto udp --dport 65000) from NS, wait for pcrecv; its JSON report goes
# into PC_RECV_JSON.
PC_RECV_JSON=""
pc_recv_finish() {
	local ns=$1 rc=0
	shift
	pc_send "$ns" "$@" --proto udp --dport 65000 --count 1
	wait "$PC_RECV_PID" || rc=$?
	PC_RECV_JSON=$(cat "$PC_RECV_OUT")
	((rc == 0)) || fail "pcrecv exited with $rc (3: end marker not seen; 4: socket drops): $PC_RECV_JSON"
	pc_log "pcrecv: $PC_RECV_JSON"
}

# pc_config_write: the config file from stdin, with @PIN@ replaced by the
# private pin path.
pc_config_write() {
	sed "s|@PIN@|$PC_PIN|g" >"$PC_CFG"
}

pc_ctl() {  # ARGS...: pktclassctl -c CFG ARGS in the daemon's namespace
	pc_in "$PC_DAEMON_NS" "$PKTCLASSCTL" -c "$PC_CFG" "$@"
}

# Does a `pktclassctl status --json` document say the daemon runs?
pc_status_running() {
	python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
ok = s.get("running") is True or s.get("state") == "running" or s.get("status") == "running"
sys.exit(0 if ok else 1)
'
}

# pc_start_daemon NS: start pktclassd in NS on $PC_CFG and wait until
# pktclassctl status says it runs (20 s at most).
pc_start_daemon() {
	PC_DAEMON_NS=$1
	# not through pc_in: $! must be the daemon itself (nsenter execs it)
	nsenter --net="/run/netns/$1" -- "$PKTCLASSD" -c "$PC_CFG" --log-target stderr >"$PC_TMP/pktclassd.log" 2>&1 &
	PC_DAEMON_PID=$!
	for _ in $(seq 200); do
		if ! kill -0 "$PC_DAEMON_PID" 2>/dev/null; then
			wait "$PC_DAEMON_PID"
			fail "pktclassd exited during startup with status $?"
		fi
		if pc_ctl status --json 2>/dev/null | pc_status_running; then
			pc_log "pktclassd running (pid $PC_DAEMON_PID)"
			return 0
		fi
		sleep 0.1
	done
	pc_ctl status --json >&2
	fail "pktclassd not running after 20 s"
}

# pc_stop_daemon: SIGTERM, which must end it with status 0 within 20 s.
pc_stop_daemon() {
	local rc=0
	[[ -n $PC_DAEMON_PID ]] || fail "pktclassd not started"
	kill -TERM "$PC_DAEMON_PID" || fail "cannot signal pktclassd"
	for _ in $(seq 200); do
		kill -0 "$PC_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PC_DAEMON_PID" 2>/dev/null; then
		kill -KILL "$PC_DAEMON_PID"
		wait "$PC_DAEMON_PID"
		PC_DAEMON_PID=""
		fail "pktclassd did not exit within 20 s of SIGTERM"
	fi
	wait "$PC_DAEMON_PID" || rc=$?
	PC_DAEMON_PID=""
	((rc == 0)) || fail "pktclassd exited with status $rc after SIGTERM"
	pc_log "ok: pktclassd stopped with status 0"
}
