# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# traffic-lib.sh - sourced after lib.sh by the tests that change the daemon
# under continuous traffic (test-reload, test-restart): after pc_topology far,
# senders in ns src send flows through m0 to DST in batches of PC_BATCH
# packets until pc_traffic_stop.  Each batch sent is a line in
# $PC_TMP/sent.FLOW.

PC_BATCH=500
PC_TRAFFIC_FLOWS=()
PC_TRAFFIC_PIDS=()

# pc_traffic_flow FLOW RATE: batches of flow voice (udp/5060), web (tcp/80)
# or other (udp/53), 10 source ports each, until $PC_TMP/run disappears.
pc_traffic_flow() {
	local args
	case $1 in
	voice) args=(--src 10.1.0.10 --proto udp --sport 40000-40009 --dport 5060) ;;
	web) args=(--src 10.1.0.11 --proto tcp --sport 50000-50009 --dport 80 --tcp-flags ack) ;;
	other) args=(--src 10.1.0.12 --proto udp --sport 30000-30009 --dport 53) ;;
	*) exit 1 ;;
	esac
	while [[ -e $PC_TMP/run ]]; do
		pc_in "$SRC" taskset -c 0 "$PCSEND" -q -i s0 --dst-mac "$M0_MAC" \
			--dst "$DST" --count "$PC_BATCH" --rate "$2" "${args[@]}" || exit 1
		echo >>"$PC_TMP/sent.$1"
	done
}

# pc_traffic_start RATE FLOW...: a sender per FLOW, RATE packets a second
# each; returns once each has sent a batch.
pc_traffic_start() {
	local rate=$1 f
	shift
	PC_TRAFFIC_FLOWS=("$@")
	PC_TRAFFIC_PIDS=()
	touch "$PC_TMP/run"
	for f in "$@"; do
		: >"$PC_TMP/sent.$f"
	done
	for f in "$@"; do
		pc_traffic_flow "$f" "$rate" &
		PC_TRAFFIC_PIDS+=($!)
	done
	PC_PIDS+=("${PC_TRAFFIC_PIDS[@]}")
	for _ in $(seq 200); do
		pc_traffic_sent_all && return 0
		sleep 0.05
	done
	fail "traffic did not start"
}

pc_traffic_sent_all() {  # has every sender sent a batch?
	local f
	for f in "${PC_TRAFFIC_FLOWS[@]}"; do
		[[ -s $PC_TMP/sent.$f ]] || return 1
	done
}

# pc_traffic_stop: end the senders (each must have succeeded); the packets
# each flow sent go into SENT_VOICE, SENT_WEB, SENT_OTHER.
pc_traffic_stop() {
	local p f n sent=""
	rm -f "$PC_TMP/run"
	for p in "${PC_TRAFFIC_PIDS[@]}"; do
		wait "$p" || fail "a sender failed"
	done
	for f in "${PC_TRAFFIC_FLOWS[@]}"; do
		n=$(($(wc -l <"$PC_TMP/sent.$f") * PC_BATCH))
		printf -v "SENT_${f^^}" '%s' "$n"
		sent+="${sent:+, }$f $n"
	done
	pc_log "sent: $sent"
}
