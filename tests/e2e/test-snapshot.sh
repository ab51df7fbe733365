#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-snapshot.sh - issue 15.5: counters over a clean stop and start, as
# `systemctl restart` does it (the unit's $RUNTIME_DIRECTORY, kept by
# RuntimeDirectoryPreserve=restart; test-systemd.sh runs the unit itself).
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress+egress on m0)
#
# 1. With RUNTIME_DIRECTORY: a stop writes the counters there (mode 0600),
#    removes filters and pins; the next start takes them (every rule, class
#    and hook), removes the file, and counts on.
# 2. A renamed rule and a removed hook lose their counts; the rest keep them.
# 3. A damaged file: a warning, counters from zero, the start succeeds.
# 4. Without RUNTIME_DIRECTORY (started by hand): nothing written, a stop
#    ends the counters.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init snapshot
pc_require_daemon
pc_topology none
LOG=$PC_TMP/pktclassd.log
RUN=$PC_TMP/run
mkdir -p "$RUN"
export RUNTIME_DIRECTORY=$RUN
send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.1.0.99 "$@"; }
config() {  # HOOKS SIP_NAME
	cat >"$PC_CFG" <<YAML
version: 1
settings:
  pin_path: $PC_PIN
  stats_interval: "0"
interfaces:
  - name: m0
    hooks: [$1]
rules:
  - name: $2
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
default:
  class: other
YAML
}
get() {  # PATH
	pc_stats
	pc_stats_get "$1"
}
on() {  # CLASS HOOK: packets of the class on m0's hook
	pc_stats
	python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
print(sum(i["packets"] for c in s["classes"] if c["name"] == sys.argv[1]
          for i in c.get("interfaces", []) if i["hook"] == sys.argv[2]))' "$1" "$2" <<<"$STATS"
}
FILE="$RUN/$(sed 's|^/||; s|-|\\x2d|g; s|/|-|g' <<<"$PC_PIN").counters"

# ==== 1. stop and start ================================================================
config "ingress, egress" sip
pc_start_daemon "$MID"
send --proto udp --dport 5060 --count 40
send --proto tcp --dport 80 --count 30
send --proto udp --dport 53 --count 20
pc_stats
BEFORE=$(python3 -c 'import json, sys; s = json.load(sys.stdin); s.pop("generation"); print(json.dumps(s, sort_keys=True))' <<<"$STATS")
pc_stop_daemon
[[ -f $FILE ]] || fail "no counters file $FILE after the stop"
assert_eq "$(stat -c %a "$FILE")" 600 "mode of the counters file"
grep -qF "counters saved to $FILE" "$LOG" || fail "the save is not logged"
[[ -z $(find "$PC_PIN" -mindepth 1 -print -quit 2>/dev/null) ]] || fail "pins left after the stop"
pc_start_daemon "$MID"
grep -qF "counters of the last run restored from $FILE" "$LOG" || fail "the restore is not logged"
[[ ! -e $FILE ]] || fail "the counters file is still there after the start"
pc_stats
AFTER=$(python3 -c 'import json, sys; s = json.load(sys.stdin); s.pop("generation"); print(json.dumps(s, sort_keys=True))' <<<"$STATS")
assert_eq "$AFTER" "$BEFORE" "every count after the stop and start"
send --proto udp --dport 5060 --count 5
assert_eq "$(get classes.name=voice.packets)" 45 "voice counts on"

# ==== 2. what the new config drops loses its counts ==========================================
pc_stop_daemon
config ingress sip2
pc_start_daemon "$MID"
assert_eq "$(get classes.name=voice.packets)" 45 "voice (its class kept) after the rename"
pc_stats
pc_stats_has rules.name=sip2 || fail "no rule sip2"
assert_eq "$(get rules.name=sip2.packets)" 0 "the renamed rule starts at zero"
assert_eq "$(get rules.name=http.packets)" 30 "http kept"
assert_eq "$(on web egress)" 0 "nothing on the egress hook that went"
send --proto udp --dport 5060 --count 5
assert_eq "$(get rules.name=sip2.packets)" 5 "sip2 counts"

# ==== 3. a damaged file ==========================================================================
pc_stop_daemon
[[ -f $FILE ]] || fail "no counters file after the second stop"
printf 'pktclassd-counters 1\natt m0 0\nrule http 7 70\nnot a count\n' >"$FILE"
pc_start_daemon "$MID"
grep -qF "reading the counters saved in $FILE; starting from zero" "$LOG" || fail "no warning for the damaged file"
assert_eq "$(get rules.name=http.packets)" 0 "http from a damaged file (nothing seeded)"
[[ ! -e $FILE ]] || fail "the damaged file is still there"

# ==== 4. by hand: no runtime directory, no counters over a stop ====================================
send --proto tcp --dport 80 --count 3
pc_stop_daemon
rm -f "$FILE"
unset RUNTIME_DIRECTORY
pc_start_daemon "$MID"
assert_eq "$(get rules.name=http.packets)" 0 "http after a stop without a runtime directory"
pc_stop_daemon
[[ -z $(find "$RUN" -mindepth 1 -print -quit) ]] || fail "something written without RUNTIME_DIRECTORY: $(ls "$RUN")"
pc_log "PASS"
exit 0
