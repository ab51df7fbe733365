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
# shellcheck source=traffic-lib.sh
. "$(dirname "$0")/traffic-lib.sh"

pc_init reload
pc_require_daemon

pc_topology far
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

pc_notify_start

# ==== 1. 50 reloads between A and B under traffic =========================
cfg_a >"$PC_CFG"
pc_start_daemon "$MID"
pc_stats
assert_eq "$(pc_stats_get generation)" 1 "generation after start"
recv_start
pc_traffic_start 20000 voice web other
for i in $(seq 50); do
	if ((i % 2)); then cfg_b >"$PC_CFG.new"; else cfg_a >"$PC_CFG.new"; fi
	mv "$PC_CFG.new" "$PC_CFG"
	pc_reload
done
pc_traffic_stop
recv_finish
MARKERS=1
TOTAL=$((SENT_VOICE + SENT_WEB + SENT_OTHER))
assert_ge "$TOTAL" 20000 "packets sent during the reloads"
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$TOTAL" "packets received (none dropped)"
pc_stats
assert_eq "$(pc_stats_get generation)" 51 "generation after 50 reloads"
assert_eq "$(pc_stats_get 'classes.name=voice.packets')" "$SENT_VOICE" "class voice"
assert_eq "$(pc_stats_get 'classes.name=web.packets')" "$SENT_WEB" "class web"
assert_eq "$(pc_stats_get 'default.packets')" $((SENT_OTHER + MARKERS)) "default (other)"
assert_eq "$(pc_stats_get 'rules.name=sip.packets')" "$SENT_VOICE" "rule sip (kept its name)"
assert_eq "$(pc_stats_get 'rules.name=http.packets')" "$SENT_WEB" "rule http"
assert_eq "$(pc_stats_get 'rules.name=a-only.packets')" 0 "rule a-only"
pc_stats_has 'rules.name=b-only-1' && fail "rule b-only-1 of config B still in stats: $STATS"
pc_stats_has 'classes.name=sctp' && fail "class sctp of config B still in stats: $STATS"
pc_log "ok: B's rule and class are gone"

# notify: RELOADING=1 with MONOTONIC_USEC and READY=1 around every reload
assert_eq "$(pc_notify_count RELOADING=1)" 50 "RELOADING=1 messages"
assert_eq "$(grep '^RELOADING=1' "$PC_NOTIFY_LOG" | grep -c 'MONOTONIC_USEC=[0-9][0-9]*')" 50 \
	"RELOADING=1 messages with MONOTONIC_USEC"
assert_eq "$(pc_notify_count READY=1)" 51 "READY=1 messages"
assert_eq "$(tail -n 1 "$PC_NOTIFY_LOG")" "READY=1 STATUS=generation 51, 3 rules, 1 attachments" \
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
V0=$(pc_stats_get 'classes.name=voice.packets')
W0=$(pc_stats_get 'classes.name=web.packets')
S0=$(pc_stats_get 'rules.name=sip.packets')
D0=$(pc_stats_get 'default.packets')
cfg_c >"$PC_CFG"
pc_reload
recv_start
pc_traffic_start 20000 voice web other
for i in $(seq 11); do
	if ((i % 2)); then cfg_d >"$PC_CFG.new"; else cfg_c >"$PC_CFG.new"; fi
	mv "$PC_CFG.new" "$PC_CFG"
	pc_reload
done
pc_traffic_stop
recv_finish
TOTAL=$((SENT_VOICE + SENT_WEB + SENT_OTHER))
assert_eq "$(json_get packets <<<"$PC_RECV_JSON")" "$TOTAL" "packets received (none dropped)"
pc_stats
V=$(pc_stats_get 'classes.name=voice.packets')
W=$(pc_stats_get 'classes.name=web.packets')
assert_eq $((V + W - V0 - W0)) $((SENT_VOICE + SENT_WEB)) "voice + web: each packet under one of them"
assert_eq "$(pc_stats_get 'rules.name=sip.packets')" $((S0 + SENT_VOICE)) "rule sip (same name, new class)"
assert_eq "$(pc_stats_get 'rules.name=sip.class')" web "rule sip's class under D"
assert_eq "$(pc_stats_get 'default.packets')" $((D0 + SENT_OTHER + 1)) "default (other)"
assert_ge "$(pc_stats_get 'rules.name=http-new.packets')" 1 "rule http-new counts"
pc_stats_has 'rules.name=http' && fail "renamed rule http still in stats under D: $STATS"
pc_stats_has 'classes.name=only-c' && fail "class only-c still in stats under D: $STATS"
assert_eq "$(pc_stats_get 'classes.name=only-d.packets')" 0 "new class only-d"
# back to C: http and only-c start again at zero, http-new and only-d stop
cfg_c >"$PC_CFG"
pc_reload
pc_stats
assert_eq "$(pc_stats_get 'rules.name=http.packets')" 0 "rule http back, from zero"
assert_eq "$(pc_stats_get 'classes.name=only-c.packets')" 0 "class only-c back, from zero"
pc_stats_has 'rules.name=http-new' && fail "rule http-new still in stats under C: $STATS"
pc_stats_has 'classes.name=only-d' && fail "class only-d still in stats under C: $STATS"
send --src 10.1.0.11 --proto tcp --dport 80 --count 25
send --src 10.1.0.12 --proto udp --dport 7000 --count 9
pc_stats
assert_eq "$(pc_stats_get 'rules.name=http.packets')" 25 "rule http"
assert_eq "$(pc_stats_get 'classes.name=only-c.packets')" 9 "class only-c"
assert_eq "$(pc_stats_get 'classes.name=web.packets')" $((W + 25)) "class web carries on"

# ==== 3. a broken config ====================================================
GEN=$(pc_stats_get generation)
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
pc_reload
pc_stats
[[ $STATS == "$BEFORE" ]] || fail "stats changed by the failed reload: $BEFORE -> $STATS"
pc_log "ok: stats unchanged by the failed reload"
assert_eq "$(pc_stats_get generation)" "$GEN" "generation after the failed reload"
grep -q "pktclassd.yaml:9:[0-9]*: error:" "$LOG" || fail "no error with position for line 9"
grep -q "pktclassd.yaml:10:[0-9]*: error:" "$LOG" || fail "no error with position for line 10"
pc_log "ok: errors logged with positions"
grep -q "PKTCLASS_GENERATION=$GEN .*PKTCLASS_RESULT=failed" "$LOG" || fail "no failed reload record"
LAST=$(tail -n 1 "$PC_NOTIFY_LOG")
[[ $LAST == "READY=1 STATUS=reload failed"* ]] || fail "last notify message: $LAST"
pc_log "ok: $LAST"
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status"
assert_eq "$(json_get reload <<<"$ST")" failed "status: reload"
[[ $(json_get status <<<"$ST") == "reload failed"* ]] || fail "status line: $ST"
pc_ctl_pins status | grep -q 'last reload: failed' || fail "pktclassctl status (text) does not say failed"
send --src 10.1.0.11 --proto tcp --dport 80 --count 30
send --src 10.1.0.10 --proto udp --dport 5060 --count 20
pc_stats
assert_eq "$(pc_stats_get 'rules.name=http.packets')" 55 "old rule http still classifies"
assert_eq "$(pc_stats_get 'rules.name=sip.packets')" $((S0 + SENT_VOICE + 20)) "old rule sip still classifies"
assert_eq "$(pc_stats_get 'classes.name=voice.packets')" $((V + 20)) "class voice (C: sip is voice)"
cp "$PC_TMP/good.yaml" "$PC_CFG"
pc_reload
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status"
assert_eq "$(json_get reload <<<"$ST")" ok "status after a good reload"
assert_eq "$(json_get generation <<<"$ST")" $((GEN + 1)) "generation after a good reload"
# A redirect target that does not exist: a warning, and the rule passes
# until an interface of that name appears (it is followed: test-redirect).
# (the good config and the rule: the other rules keep their counts)
sed 's/^rules:$/rules:\n  - name: ghost\n    match: { proto: udp, dst_port: 9 }\n    redirect: no-such-if0/' \
	"$PC_TMP/good.yaml" >"$PC_CFG"
pc_reload
grep -q "redirect [a-z]* no-such-if0 does not exist (yet)" "$LOG" ||
	fail "the missing redirect target is not named in the log"
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status"
assert_eq "$(json_get reload <<<"$ST")" ok "status after a reload with a missing redirect target"
assert_eq "$(json_get generation <<<"$ST")" $((GEN + 2)) "generation with a missing redirect target"
pc_log "ok: a missing redirect target is a warning"
cp "$PC_TMP/good.yaml" "$PC_CFG"
pc_reload
ST=$(pc_ctl_pins status --json) || fail "pktclassctl status"

# ==== 4. SIGHUPs coalesce; one during a reload is queued =================
R0=$(pc_notify_count RELOADING=1)
G0=$(json_get generation <<<"$ST")
for _ in $(seq 20); do
	kill -HUP "$PC_DAEMON_PID"
done
for _ in $(seq 200); do  # the burst has been handled
	[[ $(tail -n 1 "$PC_NOTIFY_LOG") == READY=1* ]] && (($(pc_notify_count RELOADING=1) > R0)) && break
	sleep 0.05
done
sleep 0.5
R1=$(pc_notify_count RELOADING=1)
pc_log "20 SIGHUPs in a burst made $((R1 - R0)) reloads"
assert_ge $((R1 - R0)) 1 "reloads after the burst"
(((R1 - R0) <= 20)) || fail "more reloads than SIGHUPs: $((R1 - R0))"
ST=$(pc_ctl_pins status --json)
assert_eq "$(json_get generation <<<"$ST")" $((G0 + R1 - R0)) "one generation per reload"
big_config() {  # SRC DST N: SRC with N more rules in front
	python3 - "$@" <<'PY'
import sys
n = int(sys.argv[3])
src = open(sys.argv[1]).read().replace("rules:\n", "rules:\n" + "".join(
    f"  - name: big{i}\n    match: {{ src: 10.{100 + i // 250}.{i % 250 + 1}.0/24, proto: tcp, dst_port: {1000 + i % 60000} }}\n"
    for i in range(n)), 1)
open(sys.argv[2], "w").write(src)
PY
}
# A SIGHUP sent while a reload runs must make one more reload.  A config
# with many more rules makes the reload take a while; the queued config is
# renamed into place and the SIGHUP sent as soon as RELOADING=1 is seen.  If
# the reload had already ended by then (a fast machine), try a bigger one.
cp "$PC_TMP/good.yaml" "$PC_TMP/queued.yaml"
sed -i 's/name: probe-c/name: probe-queued/' "$PC_TMP/queued.yaml"
during=""
for n in 2000 8000 32000; do
	cp "$PC_CFG" "$PC_TMP/before-big.yaml"
	big_config "$PC_TMP/before-big.yaml" "$PC_CFG" "$n"
	cp "$PC_TMP/queued.yaml" "$PC_CFG.new"
	R1=$(pc_notify_count RELOADING=1)
	RD=$(pc_notify_count READY=1)
	kill -HUP "$PC_DAEMON_PID"
	for _ in $(seq 1000); do
		(($(pc_notify_count RELOADING=1) > R1)) && break
		sleep 0.005
	done
	mv "$PC_CFG.new" "$PC_CFG"
	if [[ $(tail -n 1 "$PC_NOTIFY_LOG") == RELOADING=1* ]]; then
		kill -HUP "$PC_DAEMON_PID"
		during=$n
		break
	fi
	# the reload ended first: wait for it, put the small config back, retry
	pc_log "a reload with $n more rules ended before the SIGHUP; trying a bigger one"
	pc_wait_ready $((RD + 1))
	cp "$PC_TMP/before-big.yaml" "$PC_CFG"
done
[[ -n $during ]] || fail "no reload lasted long enough to send a SIGHUP during it"
pc_log "the SIGHUP went out during the reload with $during more rules"
pc_wait_ready $((RD + 2))  # both reloads ended
sleep 0.2
assert_eq $(($(pc_notify_count RELOADING=1) - R1)) 2 "reloads: the running one and the queued one"
assert_eq $(($(pc_notify_count READY=1) - RD)) 2 "READY=1 after the running reload and the queued one"
pc_stats
pc_stats_has 'rules.name=probe-queued' || fail "the SIGHUP sent during a reload was lost: $STATS"
assert_eq "$(pc_stats_get 'rules.name=probe-queued.packets')" 0 "the queued reload's new rule"
pc_log "ok: the SIGHUP during a reload was queued"
assert_eq "$(pc_stats_get 'rules.name=http.packets')" 55 "rule http through all of it"

pc_stop_daemon
pc_log "PASS"
exit 0
