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
PC_NOTIFY_LOG=""    # sd_notify messages, one a line (pc_notify_start)
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
	pc_require_cmd ip tc python3 taskset nsenter
	pc_require_file "$PCSEND" "$PCRECV"
	ip netns list >/dev/null 2>&1 || pc_skip "ip netns does not work"
	PC_TMP=$(mktemp -d "/tmp/pc-$PC_TEST-$$.XXXXXX")
	PC_PIN=/sys/fs/bpf/pktclassd-e2e-$$
	PC_CFG=$PC_TMP/pktclassd.yaml
	# the daemon's runtime files (stats, rules) and pktclassctl's view of
	# them: private too, not the host's /run/pktclassd
	export PKTCLASSD_RUNTIME_DIR=$PC_TMP/rundir
	mkdir -p "$PKTCLASSD_RUNTIME_DIR"
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

# pc_topology far|src|none: the namespaces most tests use; their names go
# into SRC, MID (and FAR), the MACs of mid's ends into M0_MAC (and M1_MAC).
#   ns src: s0 --veth-- m0 :ns mid (the daemon's namespace)
# far: mid is an IPv4 router (10.1.0.1/24 on m0, 10.2.0.1/24 on m1) that
# forwards DST (10.2.0.99) to f0 and 10.1.0.99 to s0:
#                        m1 --veth-- f0 :ns far
# src: a second link between the two, no routing:
#   ns src: s1 --veth-- m1 :ns mid
# none: only s0 -- m0.
# shellcheck disable=SC2034  # M0_MAC, M1_MAC are for the tests
pc_topology() {
	local side=$1
	pc_ns SRC src
	pc_ns MID mid
	pc_veth "$SRC" s0 "$MID" m0
	M0_MAC=$(pc_mac "$MID" m0)
	case $side in
	none) return 0 ;;
	src) pc_veth "$SRC" s1 "$MID" m1 ;;
	far) pc_topology_far ;;
	*) fail "pc_topology: unknown side '$side'" ;;
	esac
	M1_MAC=$(pc_mac "$MID" m1)
}

# shellcheck disable=SC2034  # DST is for the tests
pc_topology_far() {
	pc_ns FAR far
	pc_veth "$MID" m1 "$FAR" f0
	pc_router "$MID"
	ip -n "$MID" addr add 10.1.0.1/24 dev m0 || fail "address on m0"
	ip -n "$MID" addr add 10.2.0.1/24 dev m1 || fail "address on m1"
	ip -n "$MID" neigh add 10.2.0.99 lladdr "$(pc_mac "$FAR" f0)" dev m1 nud permanent ||
		fail "neighbour 10.2.0.99"
	ip -n "$MID" neigh add 10.1.0.99 lladdr "$(pc_mac "$SRC" s0)" dev m0 nud permanent ||
		fail "neighbour 10.1.0.99"
	DST=10.2.0.99
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

# pc_ctl_pins ARGS...: pktclassctl ARGS on the private pin path in the
# daemon's namespace, without reading $PC_CFG (a test may have broken it).
pc_ctl_pins() {
	pc_in "$PC_DAEMON_NS" "$PKTCLASSCTL" --pin-path "$PC_PIN" "$@"
}

# pc_stats: `pktclassctl stats --rules --json` into STATS.
STATS=""
pc_stats() {
	STATS=$(pc_ctl_pins stats --rules --json) || fail "pktclassctl stats failed"
}

pc_stats_get() {  # PATH: json_get PATH of STATS, which must be there
	json_get "$1" <<<"$STATS" || fail "no '$1' in stats: $STATS"
}

pc_stats_has() {  # PATH: is PATH in STATS?
	json_get "$1" <<<"$STATS" >/dev/null
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

# pc_notify_start: listen for sd_notify messages on $PC_TMP/notify.sock and
# write each to PC_NOTIFY_LOG as one line (its newlines made spaces).  From
# then on pc_start_daemon gives the daemon NOTIFY_SOCKET and waits for its
# READY=1 instead of asking pktclassctl.
pc_notify_start() {
	local sock=$PC_TMP/notify.sock
	PC_NOTIFY_LOG=$PC_TMP/notify.log
	python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$sock" >"$PC_NOTIFY_LOG" &
	PC_PIDS+=($!)
	for _ in $(seq 100); do
		[[ -S $sock ]] && return 0
		sleep 0.05
	done
	fail "notify listener did not start"
}

pc_notify_count() {  # PREFIX: how many notify messages start with PREFIX
	grep -c "^$1" "$PC_NOTIFY_LOG"
}

pc_wait_ready() {  # N: until N READY=1 messages arrived (30 s at most)
	for _ in $(seq 600); do
		(($(pc_notify_count READY=1) >= $1)) && return 0
		kill -0 "$PC_DAEMON_PID" 2>/dev/null || fail "pktclassd died"
		sleep 0.05
	done
	fail "no READY=1 number $1: $(cat "$PC_NOTIFY_LOG")"
}

# pc_reload: SIGHUP, and wait for the READY=1 that ends the reload.
pc_reload() {
	local n
	n=$(pc_notify_count READY=1)
	kill -HUP "$PC_DAEMON_PID" || fail "SIGHUP"
	pc_wait_ready $((n + 1))
}

# Until pktclassctl status says the daemon runs (20 s at most).
pc_wait_running() {
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

# pc_start_daemon NS: start pktclassd in NS on $PC_CFG, its log appended to
# $PC_TMP/pktclassd.log, and wait until it runs: after pc_notify_start until
# its READY=1, else until pktclassctl status says so.
pc_start_daemon() {
	local env=() ready
	PC_DAEMON_NS=$1
	if [[ -n $PC_NOTIFY_LOG ]]; then
		env=(env "NOTIFY_SOCKET=$PC_TMP/notify.sock")
		ready=$(($(pc_notify_count READY=1) + 1))
	fi
	# not through pc_in: $! must be the daemon itself (nsenter and env exec it)
	nsenter --net="/run/netns/$1" -- "${env[@]}" "$PKTCLASSD" -c "$PC_CFG" --log-target stderr \
		>>"$PC_TMP/pktclassd.log" 2>&1 &
	PC_DAEMON_PID=$!
	if [[ -z $PC_NOTIFY_LOG ]]; then
		pc_wait_running
		return 0
	fi
	pc_wait_ready "$ready"
	pc_log "pktclassd ready (pid $PC_DAEMON_PID)"
}

# pc_kill9: SIGKILL to the daemon (its pins and filters stay), wait for it.
pc_kill9() {
	kill -KILL "$PC_DAEMON_PID"
	wait "$PC_DAEMON_PID" 2>/dev/null
	PC_DAEMON_PID=""
	pc_log "pktclassd killed with SIGKILL"
}

pc_now_ms() { date +%s%3N; }

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
