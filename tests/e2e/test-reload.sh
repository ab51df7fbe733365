#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-reload.sh - issue 5: SIGHUP reloads under continuous traffic.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0; IPv4 router)
#                        m1 --veth-- f0 :ns far (pcrecv)
#
# 1. 50 reloads between two configs that classify the traffic alike: every
#    class count equals what was sent, the receiver got every packet.
# 2. Reloads between configs that classify it differently: each packet under
#    the old or the new class; renamed / removed / new rules and classes.
# 3. A broken config: logged with positions, old rules stay, counters kept,
#    STATUS= and `pktclassctl status` say the reload failed.
# 4. SIGHUPs in a burst coalesce; one sent during a reload is not lost.
# sd_notify is read from NOTIFY_SOCKET (RELOADING=1 + MONOTONIC_USEC, READY=1).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init reload
pc_require_daemon
pc_require_cmd nsenter

# ---- the daemon, through nsenter (ip netns exec would give it a private
# /sys, whose bpffs nobody else sees), with sd_notify read by a listener ----
NOTIFY_LOG=""
rl_notify_start() {
	local sock=$PC_TMP/notify.sock
	NOTIFY_LOG=$PC_TMP/notify.log
	python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$sock" >"$NOTIFY_LOG" &
	PC_PIDS+=($!)
	for _ in $(seq 100); do
		[[ -S $sock ]] && return 0
		sleep 0.05
	done
	fail "notify listener did not start"
}
rl_count() { grep -c "^$1" "$NOTIFY_LOG"; }  # PREFIX: notify messages starting so
rl_wait_ready() {  # N: until N READY=1 messages arrived
	for _ in $(seq 600); do
		(($(rl_count READY=1) >= $1)) && return 0
		kill -0 "$PC_DAEMON_PID" 2>/dev/null || fail "pktclassd died"
		sleep 0.05
	done
	fail "no READY=1 number $1: $(cat "$NOTIFY_LOG")"
}
rl_start() {  # NS
	PC_DAEMON_NS=$1
	NOTIFY_SOCKET=$PC_TMP/notify.sock nsenter --net="/run/netns/$1" \
		"$PKTCLASSD" -c "$PC_CFG" --log-target stderr >>"$PC_TMP/pktclassd.log" 2>&1 &
	PC_DAEMON_PID=$!
	rl_wait_ready $(($(rl_count READY=1) + 1))
	pc_log "pktclassd ready (pid $PC_DAEMON_PID)"
}
rl_reload() {  # SIGHUP, wait for its READY=1
	local n
	n=$(rl_count READY=1)
	kill -HUP "$PC_DAEMON_PID" || fail "SIGHUP"
	rl_wait_ready $((n + 1))
}
ctl() { "$PKTCLASSCTL" --pin-path "$PC_PIN" "$@"; }
stats() { STATS=$(ctl stats --rules --json) || fail "pktclassctl stats failed"; }
sget() { json_get "$1" <<<"$STATS" || fail "no '$1' in stats: $STATS"; }
has() { json_get "$1" <<<"$STATS" >/dev/null; }

# ---- topology ----
pc_ns SRC src
pc_ns MID mid
pc_ns FAR far
pc_veth "$SRC" s0 "$MID" m0
pc_veth "$MID" m1 "$FAR" f0
pc_router "$MID"
ip -n "$MID" addr add 10.1.0.1/24 dev m0 || fail "address on m0"
ip -n "$MID" addr add 10.2.0.1/24 dev m1 || fail "address on m1"
ip -n "$MID" neigh add 10.2.0.99 lladdr "$(pc_mac "$FAR" f0)" dev m1 nud permanent ||
	fail "neighbour 10.2.0.99"
M0_MAC=$(pc_mac "$MID" m0)
DST=10.2.0.99
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --dst "$DST" "$@"; }
recv_start() { pc_recv_start "$FAR" f0 --dst "$DST" "$@"; }
recv_finish() { pc_recv_finish "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.13 --dst "$DST"; }

# ---- configs ----
head_yaml() {
	cat <<YAML
version: 1
settings:
  pin_path: $PC_PIN
  stats_interval: "0"
interfaces:
  - name: m0
    hooks: [ingress]
classes:
  - name: voice
  - name: web
YAML
}
# A and B classify the test traffic alike (udp/5060 voice, tcp/80 web, the
# rest default "other"); B changes sip, drops a-only, adds two rules.
cfg_a() {
	head_yaml
	cat <<'YAML'
rules:
  - name: a-only
    match: { src: 10.77.0.0/16 }
    action: drop
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
default:
  class: other
YAML
}
cfg_b() {
	head_yaml
	cat <<'YAML'
rules:
  - name: b-only-1
    match: { dst: 10.88.0.0/16 }
    action: drop
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
  - name: sip
    match: { proto: udp, dst_port: [5060, 5061] }
    class: voice
  - name: b-only-2
    match: { proto: sctp }
    class: sctp
default:
  class: other
YAML
}
# C and D classify it differently: sip moves to class web, http is renamed
# http-new and moves to voice; probe-c / probe-d count udp/7000 under a class
# of their own (only-c, only-d).
cfg_c() {
	head_yaml
	cat <<'YAML'
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
  - name: probe-c
    match: { proto: udp, dst_port: 7000 }
    class: only-c
default:
  class: other
YAML
}
cfg_d() {
	head_yaml
	cat <<'YAML'
rules:
  - name: http-new
    match: { proto: tcp, dst_port: 80 }
    class: voice
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: web
  - name: probe-d
    match: { proto: udp, dst_port: 7000 }
    class: only-d
default:
  class: other
YAML
}

# ---- continuous traffic: three senders, 10 flows each, in batches of 500 until
# $PC_TMP/run disappears; each batch sent is one line in its count file ----
BATCH=500
traffic_start() {
	touch "$PC_TMP/run"
	TRAFFIC_PIDS=()
	local f
	for f in voice web other; do
		: >"$PC_TMP/sent.$f"
	done
	flow() {  # NAME PCSEND-ARGS...
		local name=$1
		shift
		while [[ -e $PC_TMP/run ]]; do
			ip netns exec "$SRC" taskset -c 0 "$PCSEND" -q -i s0 --dst-mac "$M0_MAC" \
				--dst "$DST" --count $BATCH --rate 20000 "$@" || exit 1
			echo >>"$PC_TMP/sent.$name"
		done
	}
	flow voice --src 10.1.0.10 --proto udp --sport 40000-40009 --dport 5060 &
	TRAFFIC_PIDS+=($!)
	flow web --src 10.1.0.11 --proto tcp --sport 50000-50009 --dport 80 --tcp-flags ack &
	TRAFFIC_PIDS+=($!)
	flow other --src 10.1.0.12 --proto udp --sport 30000-30009 --dport 53 &
	TRAFFIC_PIDS+=($!)
	PC_PIDS+=("${TRAFFIC_PIDS[@]}")
	# at least one batch of each before the reloads begin
	for _ in $(seq 200); do
		[[ -s $PC_TMP/sent.voice && -s $PC_TMP/sent.web && -s $PC_TMP/sent.other ]] && return
		sleep 0.05
	done
	fail "traffic did not start"
}
traffic_stop() {  # sets SENT_VOICE, SENT_WEB, SENT_OTHER
	local p
	rm -f "$PC_TMP/run"
	for p in "${TRAFFIC_PIDS[@]}"; do
		wait "$p" || fail "a sender failed"
	done
	SENT_VOICE=$(($(wc -l <"$PC_TMP/sent.voice") * BATCH))
	SENT_WEB=$(($(wc -l <"$PC_TMP/sent.web") * BATCH))
	SENT_OTHER=$(($(wc -l <"$PC_TMP/sent.other") * BATCH))
	pc_log "sent: voice $SENT_VOICE, web $SENT_WEB, other $SENT_OTHER"
}

rl_notify_start

# ==== 1. 50 reloads between A and B under traffic =========================
cfg_a >"$PC_CFG"
rl_start "$MID"
stats
assert_eq "$(sget generation)" 1 "generation after start"
recv_start
traffic_start
for i in $(seq 50); do
	if ((i % 2)); then cfg_b >"$PC_CFG.new"; else cfg_a >"$PC_CFG.new"; fi
	mv "$PC_CFG.new" "$PC_CFG"
	rl_reload
done
traffic_stop
recv_finish
MARKERS=1
TOTAL=$((SENT_VOICE + SENT_WEB + SENT_OTHER))
assert_ge "$TOTAL" 20000 "packets sent during the reloads"
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$TOTAL" "packets received (none dropped)"
stats
assert_eq "$(sget generation)" 51 "generation after 50 reloads"
assert_eq "$(sget 'classes.name=voice.packets')" "$SENT_VOICE" "class voice"
assert_eq "$(sget 'classes.name=web.packets')" "$SENT_WEB" "class web"
assert_eq "$(sget 'default.packets')" $((SENT_OTHER + MARKERS)) "default (other)"
assert_eq "$(sget 'rules.name=sip.packets')" "$SENT_VOICE" "rule sip (kept its name)"
assert_eq "$(sget 'rules.name=http.packets')" "$SENT_WEB" "rule http"
assert_eq "$(sget 'rules.name=a-only.packets')" 0 "rule a-only"
has 'rules.name=b-only-1' && fail "rule b-only-1 of config B still in stats: $STATS"
has 'classes.name=sctp' && fail "class sctp of config B still in stats: $STATS"
pc_log "ok: B's rule and class are gone"

# notify: RELOADING=1 with MONOTONIC_USEC and READY=1 around every reload
assert_eq "$(rl_count RELOADING=1)" 50 "RELOADING=1 messages"
assert_eq "$(grep '^RELOADING=1' "$NOTIFY_LOG" | grep -c 'MONOTONIC_USEC=[0-9][0-9]*')" 50 \
	"RELOADING=1 messages with MONOTONIC_USEC"
assert_eq "$(rl_count READY=1)" 51 "READY=1 messages"
assert_eq "$(tail -n 1 "$NOTIFY_LOG")" "READY=1 STATUS=generation 51, 3 rules, 1 attachments" \
	"last notify message"
# a record per reload: generation, result, duration, added/removed/changed
LOG=$PC_TMP/pktclassd.log
assert_eq "$(grep -c 'PKTCLASS_RESULT=ok' "$LOG")" 51 "records with PKTCLASS_RESULT=ok (start + 50)"
grep -q 'PKTCLASS_GENERATION=2 PKTCLASS_RULES=4 PKTCLASS_RESULT=ok PKTCLASS_DURATION_USEC=[0-9]* PKTCLASS_ADDED=2 PKTCLASS_REMOVED=1 PKTCLASS_CHANGED=1' "$LOG" ||
	fail "no A->B record with added 2, removed 1, changed 1"
grep -q 'PKTCLASS_GENERATION=51 PKTCLASS_RULES=3 PKTCLASS_RESULT=ok PKTCLASS_DURATION_USEC=[0-9]* PKTCLASS_ADDED=1 PKTCLASS_REMOVED=2 PKTCLASS_CHANGED=1' "$LOG" ||
	fail "no B->A record with added 1, removed 2, changed 1"
pc_log "ok: reload records"
[[ $(tc -n "$MID" filter show dev m0 ingress | grep -c 'pref 49573 bpf.*handle') == 1 ]] ||
	fail "not one filter of ours: $(tc -n "$MID" filter show dev m0 ingress)"

# ==== 2. reloads between C and D: classified differently ==================
V0=$(sget 'classes.name=voice.packets')
W0=$(sget 'classes.name=web.packets')
S0=$(sget 'rules.name=sip.packets')
D0=$(sget 'default.packets')
cfg_c >"$PC_CFG"
rl_reload
recv_start
traffic_start
for i in $(seq 11); do
	if ((i % 2)); then cfg_d >"$PC_CFG.new"; else cfg_c >"$PC_CFG.new"; fi
	mv "$PC_CFG.new" "$PC_CFG"
	rl_reload
done
traffic_stop
recv_finish
TOTAL=$((SENT_VOICE + SENT_WEB + SENT_OTHER))
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$TOTAL" "packets received (none dropped)"
stats
V=$(sget 'classes.name=voice.packets')
W=$(sget 'classes.name=web.packets')
assert_eq $((V + W - V0 - W0)) $((SENT_VOICE + SENT_WEB)) "voice + web: each packet under one of them"
assert_eq "$(sget 'rules.name=sip.packets')" $((S0 + SENT_VOICE)) "rule sip (same name, new class)"
assert_eq "$(sget 'rules.name=sip.class')" web "rule sip's class under D"
assert_eq "$(sget 'default.packets')" $((D0 + SENT_OTHER + 1)) "default (other)"
assert_ge "$(sget 'rules.name=http-new.packets')" 1 "rule http-new counts"
has 'rules.name=http' && fail "renamed rule http still in stats under D: $STATS"
has 'classes.name=only-c' && fail "class only-c still in stats under D: $STATS"
assert_eq "$(sget 'classes.name=only-d.packets')" 0 "new class only-d"
# back to C: http and only-c start again at zero, http-new and only-d stop
cfg_c >"$PC_CFG"
rl_reload
stats
assert_eq "$(sget 'rules.name=http.packets')" 0 "rule http back, from zero"
assert_eq "$(sget 'classes.name=only-c.packets')" 0 "class only-c back, from zero"
has 'rules.name=http-new' && fail "rule http-new still in stats under C: $STATS"
has 'classes.name=only-d' && fail "class only-d still in stats under C: $STATS"
send --src 10.1.0.11 --proto tcp --dport 80 --count 25
send --src 10.1.0.12 --proto udp --dport 7000 --count 9
stats
assert_eq "$(sget 'rules.name=http.packets')" 25 "rule http"
assert_eq "$(sget 'classes.name=only-c.packets')" 9 "class only-c"
assert_eq "$(sget 'classes.name=web.packets')" $((W + 25)) "class web carries on"

# ==== 3. a broken config ====================================================
GEN=$(sget generation)
BEFORE=$STATS
cp "$PC_CFG" "$PC_TMP/good.yaml"
cat >"$PC_CFG" <<YAML
version: 1
settings:
  pin_path: $PC_PIN
interfaces:
  - name: m0
    hooks: [ingress]
rules:
  - name: sip
    match: { proto: udp, dst_port: 70000 }
    colour: blue
default:
  class: other
YAML
rl_reload
stats
[[ $STATS == "$BEFORE" ]] || fail "stats changed by the failed reload: $BEFORE -> $STATS"
pc_log "ok: stats unchanged by the failed reload"
assert_eq "$(sget generation)" "$GEN" "generation after the failed reload"
grep -q "pktclassd.yaml:9:[0-9]*: error:" "$LOG" || fail "no error with position for line 9"
grep -q "pktclassd.yaml:10:[0-9]*: error:" "$LOG" || fail "no error with position for line 10"
pc_log "ok: errors logged with positions"
grep -q "PKTCLASS_GENERATION=$GEN .*PKTCLASS_RESULT=failed" "$LOG" || fail "no failed reload record"
LAST=$(tail -n 1 "$NOTIFY_LOG")
[[ $LAST == "READY=1 STATUS=reload failed"* ]] || fail "last notify message: $LAST"
pc_log "ok: $LAST"
ST=$(ctl status --json) || fail "pktclassctl status"
assert_eq "$(json_get reload <<<"$ST")" failed "status: reload"
[[ $(json_get status <<<"$ST") == "reload failed"* ]] || fail "status line: $ST"
ctl status | grep -q 'last reload: failed' || fail "pktclassctl status (text) does not say failed"
send --src 10.1.0.11 --proto tcp --dport 80 --count 30
send --src 10.1.0.10 --proto udp --dport 5060 --count 20
stats
assert_eq "$(sget 'rules.name=http.packets')" 55 "old rule http still classifies"
assert_eq "$(sget 'rules.name=sip.packets')" $((S0 + SENT_VOICE + 20)) "old rule sip still classifies"
assert_eq "$(sget 'classes.name=voice.packets')" $((V + 20)) "class voice (C: sip is voice)"
cp "$PC_TMP/good.yaml" "$PC_CFG"
rl_reload
ST=$(ctl status --json) || fail "pktclassctl status"
assert_eq "$(json_get reload <<<"$ST")" ok "status after a good reload"
assert_eq "$(json_get generation <<<"$ST")" $((GEN + 1)) "generation after a good reload"

# ==== 4. SIGHUPs coalesce; one during a reload is queued =================
R0=$(rl_count RELOADING=1)
G0=$(json_get generation <<<"$ST")
for _ in $(seq 20); do
	kill -HUP "$PC_DAEMON_PID"
done
# a config with 2000 more rules makes the next reload take a while; the
# SIGHUP after its RELOADING=1 comes during it, and must not be lost
python3 - "$PC_CFG" "$PC_TMP/big.yaml" <<'PY'
import sys
src = open(sys.argv[1]).read().replace("rules:\n", "rules:\n" + "".join(
    f"  - name: big{i}\n    match: {{ src: 10.{100 + i // 250}.{i % 250}.0/24, proto: tcp, dst_port: {1000 + i} }}\n"
    for i in range(2000)), 1)
open(sys.argv[2], "w").write(src)
PY
for _ in $(seq 200); do  # the burst has been handled
	[[ $(tail -n 1 "$NOTIFY_LOG") == READY=1* ]] && (($(rl_count RELOADING=1) > R0)) && break
	sleep 0.05
done
sleep 0.5
R1=$(rl_count RELOADING=1)
pc_log "20 SIGHUPs in a burst made $((R1 - R0)) reloads"
assert_ge $((R1 - R0)) 1 "reloads after the burst"
(((R1 - R0) <= 20)) || fail "more reloads than SIGHUPs: $((R1 - R0))"
ST=$(ctl status --json)
assert_eq "$(json_get generation <<<"$ST")" $((G0 + R1 - R0)) "one generation per reload"
cp "$PC_TMP/big.yaml" "$PC_CFG"
kill -HUP "$PC_DAEMON_PID"
for _ in $(seq 200); do
	(($(rl_count RELOADING=1) > R1)) && break
	sleep 0.01
done
cp "$PC_TMP/good.yaml" "$PC_CFG.new"
sed -i 's/name: probe-c/name: probe-queued/' "$PC_CFG.new"
mv "$PC_CFG.new" "$PC_CFG"
kill -HUP "$PC_DAEMON_PID"
# the big reload had not finished when that SIGHUP went out
assert_eq "$(tail -n 1 "$NOTIFY_LOG" | cut -c1-11)" RELOADING=1 "notify state when the SIGHUP was sent"
for _ in $(seq 400); do
	ctl stats --rules --json | json_get 'rules.name=probe-queued' >/dev/null && break
	sleep 0.05
done
stats
has 'rules.name=probe-queued' || fail "the SIGHUP sent during a reload was lost: $STATS"
assert_eq "$(sget 'rules.name=probe-queued.packets')" 0 "the queued reload's new rule"
pc_log "ok: the SIGHUP during a reload was queued ($(($(rl_count RELOADING=1) - R1)) reloads)"
assert_eq "$(sget 'rules.name=http.packets')" 55 "rule http through all of it"

pc_stop_daemon
pc_log "PASS"
exit 0
