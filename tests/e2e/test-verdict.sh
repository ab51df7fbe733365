#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-verdict.sh - one verdict: every config of the table below goes through
# `pktclassctl check`, `pktclassd --check`, a start of the daemon and a
# reload of a running one, and all four accept it or all four refuse it,
# with the same diagnostics (the same lines, FILE:LINE:COLUMN: KIND: ...):
# syntax and schema errors, a missing redirect target (a warning: the rule
# passes), who may change the file and its directory, a symbolic link from
# an open directory, what is not a regular file (a FIFO, a directory: at
# once, no hang), nesting too deep, 100,000 errors (100 lines and "N more"),
# a name that tries to forge a line; a set's element file: fine, writable by
# everyone, with a bad element (at the element file's FILE:LINE:COLUMN).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init verdict
pc_require_daemon
pc_require_cmd timeout
pc_ns NS d
pc_in "$NS" ip link set lo up || fail "lo up"
PC_DAEMON_NS=$NS
pc_notify_start

# ---- the configs ------------------------------------------------------------
# cfg_NAME PIN: the config text.  setup CASE PATH PIN: put case CASE at PATH
# (a file, a FIFO, a directory, a link; with its mode, owner and the mode
# of its directory).

head_yaml() {
	printf 'version: 1\nsettings:\n  pin_path: %s\n  stats_interval: 0\n' "$1"
}
cfg_good() {
	head_yaml "$1"
	printf 'rules:\n  - name: web\n    match: { proto: tcp, dst_port: 80 }\n    action: drop\n'
}

# CASE VERDICT WANT: WANT is a fixed string every path must print (in the
# diagnostics or the log); "" for none.
CASES=(
	"good|ok|"
	"redirect-missing|ok|warning: rule 'away': redirect interface pc-nosuch0 does not exist (yet): the rule passes its packets until it does"
	"redirect-lo|ok|"
	"group-root|ok|"
	"sticky-dir|ok|"
	"syntax|refused|error: YAML syntax error"
	"unknown-key|refused|:5:1: error: unknown key \"bogus\" in configuration"
	"group-writable|refused|error: writable by its group (mode 0664): refusing a config that others can change"
	"world-writable|refused|error: writable by everyone (mode 0666)"
	"foreign-owner|refused|is owned by uid 4321: refusing a config that others can change"
	"open-dir|refused|is writable by everyone (mode 0777): anyone who can write it can replace the config"
	"link-from-open-dir|refused|is writable by everyone (mode 0777)"
	"fifo|refused|error: not a regular file"
	"directory|refused|error: not a regular file"
	"deep|refused|:5:67: error: nested deeper than 64 levels"
	"many-errors|refused|: 99900 more errors not shown"
	"forged-name|refused|interface name \"e\\npktclassd: reloaded: generation 9 PKTCLASS_RESULT=ok\""
	"set-file|ok|"
	"set-file-writable|refused|set-file-writable.txt: writable by everyone (mode 0666): refusing a config that others can change"
	"set-file-bad|refused|set-file-bad.txt:2:3: error: invalid address \"10.0.0.300\""
)

TARGET_DIR=$PC_TMP/target
mkdir -p "$TARGET_DIR"

# setup CASE PATH PIN
setup() {
	local c=$1 p=$2 pin=$3 d
	d=$(dirname "$p")
	rm -rf "$p"
	chmod 0755 "$d"
	case $c in
	good | group-root | sticky-dir | group-writable | world-writable | foreign-owner | open-dir)
		cfg_good "$pin" >"$p" ;;
	redirect-missing)
		{ head_yaml "$pin"; printf 'rules:\n  - name: away\n    redirect: pc-nosuch0\n'; } >"$p" ;;
	redirect-lo)
		{ head_yaml "$pin"; printf 'rules:\n  - name: back\n    redirect: lo\n'; } >"$p" ;;
	syntax)
		{ head_yaml "$pin"; printf 'rules: [\n'; } >"$p" ;;
	unknown-key)
		{ head_yaml "$pin"; printf 'bogus: 1\n'; } >"$p" ;;
	link-from-open-dir)
		cfg_good "$pin" >"$TARGET_DIR/good.yaml"
		ln -s "$TARGET_DIR/good.yaml" "$p" ;;
	fifo)
		mkfifo "$p" ;;
	directory)
		mkdir "$p" ;;
	deep)
		{ head_yaml "$pin"; python3 -c 'print("x: " + "[" * 100000 + "]" * 100000)'; } >"$p" ;;
	many-errors)
		{ head_yaml "$pin"; echo "rules:"
		  python3 -c '[print("  - {name: r%d, bogus: 1}" % i) for i in range(100000)]'; } >"$p" ;;
	set-file | set-file-writable | set-file-bad)
		{ head_yaml "$pin"
		  printf 'sets:\n  bl: { type: prefix, file: %s.txt }\n' "$c"
		  printf 'rules:\n  - name: bl\n    match: { src: "@bl" }\n    action: drop\n'; } >"$p"
		printf '192.0.2.0/24\n  %s\n' "$([[ $c == set-file-bad ]] && echo 10.0.0.300 || echo 10.0.0.1)" \
			>"$d/$c.txt"
		chmod 0644 "$d/$c.txt"
		[[ $c == set-file-writable ]] && chmod 0666 "$d/$c.txt" ;;
	forged-name)
		{ head_yaml "$pin"
		  printf 'interfaces:\n  - name: "e\\npktclassd: reloaded: generation 9 PKTCLASS_RESULT=ok"\n'
		  printf '    hooks: [ingress]\n'; } >"$p" ;;
	*) fail "setup: unknown case $c" ;;
	esac
	[[ -f $p && ! -L $p ]] && chmod 0644 "$p"
	case $c in
	group-root) chmod 0664 "$p" ;;
	sticky-dir) chmod 01777 "$d" ;;
	group-writable) chgrp 1 "$p" && chmod 0664 "$p" ;;
	world-writable) chmod 0666 "$p" ;;
	foreign-owner) chown 4321 "$p" ;;
	open-dir | link-from-open-dir) chmod 0777 "$d" ;;
	esac
}

# diags FILE PATH [PREFIX]: the diagnostic lines about config PATH in FILE
# (a log: PREFIX taken off first), in order.
diags() {
	local f=$1 path=$2 prefix=${3:-}
	sed -n "s|^$prefix||p" "$f" | grep -F -- "$path" |
		grep -E -- "^[^ ]*(:[0-9]+:[0-9]+)?: (error|warning): |^[^ ]*: [0-9]+ more (errors|warnings)" || true
}

# ---- the four paths ------------------------------------------------------------
# Each sets RC (0 accepted, 1 refused) and OUT (a file with what it printed).

path_check() {  # PATH
	OUT=$PC_TMP/check.out
	timeout 60 nsenter --net="/run/netns/$NS" "$PKTCLASSCTL" check "$1" >/dev/null 2>"$OUT"
	RC=$?
}

path_daemon_check() {  # PATH
	OUT=$PC_TMP/dcheck.out
	timeout 60 nsenter --net="/run/netns/$NS" "$PKTCLASSD" --check -c "$1" --log-target stderr \
		>/dev/null 2>"$OUT"
	RC=$?
}

# A start on PATH: refused when it exits 1 before READY=1; accepted at its
# READY=1, after which it is stopped (exit 0).
path_start() {  # PATH
	local pid n
	OUT=$PC_TMP/start.out
	: >"$OUT"
	n=$(pc_notify_count READY=1)
	nsenter --net="/run/netns/$NS" -- env "NOTIFY_SOCKET=$PC_TMP/notify.sock" "$PKTCLASSD" \
		-c "$1" --log-target stderr >"$OUT" 2>&1 &
	pid=$!
	PC_PIDS+=("$pid")
	RC=""
	for _ in $(seq 600); do
		if (($(pc_notify_count READY=1) > n)); then
			kill -TERM "$pid"
			wait "$pid" || fail "start on $1: exit status $? after SIGTERM: $(cat "$OUT")"
			RC=0
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			RC=$?
			break
		fi
		sleep 0.05
	done
	[[ -n $RC ]] || fail "start on $1: neither READY=1 nor an exit in 30 s"
	[[ $RC == 0 || $RC == 1 ]] || fail "start on $1: exit status $RC: $(cat "$OUT")"
}

# A reload of the running daemon after its config became the case:
# accepted when the reload record says "reloaded:", refused when it says
# "reload failed:" (and generation G stays).
path_reload() {
	local from
	OUT=$PC_TMP/reload.out
	from=$(($(wc -l <"$PC_TMP/pktclassd.log") + 1))
	pc_reload
	tail -n +"$from" "$PC_TMP/pktclassd.log" >"$OUT"
	if grep -q '^pktclassd: reloaded: ' "$OUT"; then
		RC=0
	elif grep -q '^pktclassd: reload failed: ' "$OUT"; then
		RC=1
	else
		fail "reload: no reload record: $(cat "$OUT")"
	fi
}

# ---- run the table ----------------------------------------------------------------
CASE_DIR=$PC_TMP/cases
RELOAD_DIR=$PC_TMP/reload
mkdir -p "$CASE_DIR" "$RELOAD_DIR"
PC_CFG=$RELOAD_DIR/pktclassd.yaml
setup good "$PC_CFG" "$PC_PIN"
pc_start_daemon "$NS"

for entry in "${CASES[@]}"; do
	IFS='|' read -r name verdict want <<<"$entry"
	want_rc=0
	[[ $verdict == refused ]] && want_rc=1
	P=$CASE_DIR/$name.yaml
	for path in check daemon_check start; do
		setup "$name" "$P" "$PC_PIN-start"
		"path_$path" "$P"
		assert_eq "$RC" "$want_rc" "$name: $path verdict ($(head -c 600 "$OUT"))"
		[[ -z $want ]] || grep -qF -- "$want" "$OUT" || fail "$name: $path: no '$want' in: $(head -c 2000 "$OUT")"
		if [[ $path == check ]]; then
			diags "$OUT" "$P" >"$PC_TMP/want.diags"
		else
			diags "$OUT" "$P" "pktclassd: " >"$PC_TMP/got.diags"
			cmp -s "$PC_TMP/want.diags" "$PC_TMP/got.diags" ||
				fail "$name: $path said other things than check: $(diff "$PC_TMP/want.diags" "$PC_TMP/got.diags")"
		fi
		# a name with a newline forges no line of its own
		! grep -q '^pktclassd: reloaded: generation 9' "$OUT" || fail "$name: $path: a forged line"
	done
	rm -rf "$P" "$PC_PIN-start"

	# the reload: the same case at the running daemon's config path
	setup "$name" "$PC_CFG" "$PC_PIN"
	path_check "$PC_CFG"
	diags "$OUT" "$PC_CFG" >"$PC_TMP/want.diags"
	path_reload
	assert_eq "$RC" "$want_rc" "$name: reload verdict ($(head -c 600 "$OUT"))"
	[[ -z $want ]] || grep -qF -- "$want" "$OUT" || fail "$name: reload: no '$want' in: $(head -c 2000 "$OUT")"
	diags "$OUT" "$PC_CFG" "pktclassd: " >"$PC_TMP/got.diags"
	cmp -s "$PC_TMP/want.diags" "$PC_TMP/got.diags" ||
		fail "$name: reload said other things than check: $(diff "$PC_TMP/want.diags" "$PC_TMP/got.diags")"
	! grep -q '^pktclassd: reloaded: generation 9' "$OUT" || fail "$name: reload: a forged line"
	# and back to a good config
	setup good "$PC_CFG" "$PC_PIN"
	path_reload
	assert_eq "$RC" 0 "$name: reload of the good config after it"
	pc_log "ok: $name $verdict on all four paths"
done

pc_stop_daemon
pc_log "PASS"
exit 0
