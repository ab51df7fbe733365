#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-fleet.sh - issue 20 with a running daemon: drop-in files
# (`include:`) that a reload picks up; `pktclassctl check` says what a
# reload would change, rule by rule (added, removed, changed), and nothing
# once it is done; and counters without root: a user of the group pktclassd
# gets the exact counts from `pktclassctl stats` and `status`, a user who is
# not in it is refused.  The test users (and the group, if it had to make
# it) are created here and removed at the end.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init fleet
pc_require_daemon
pc_require_cmd useradd userdel groupadd groupdel setpriv getent

USER_IN=pcin$$
USER_OUT=pcout$$
MADE_GROUP=""
fleet_cleanup() {
	userdel "$USER_IN" 2>/dev/null
	userdel "$USER_OUT" 2>/dev/null
	[[ -n $MADE_GROUP ]] && groupdel pktclassd 2>/dev/null
	pc_cleanup
}
trap fleet_cleanup EXIT

if ! getent group pktclassd >/dev/null; then
	groupadd --system pktclassd || fail "groupadd pktclassd"
	MADE_GROUP=1
fi
useradd --system --no-create-home --shell /usr/sbin/nologin --groups pktclassd "$USER_IN" ||
	fail "useradd $USER_IN"
useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_OUT" || fail "useradd $USER_OUT"
# the runtime directory must be reachable, as /run/pktclassd is
chmod 755 "$PC_TMP" "$PKTCLASSD_RUNTIME_DIR"

pc_topology none
mkdir "$PC_TMP/conf.d"
pc_config_write <<'YAML'
version: 1
include: [conf.d/*.yaml]
settings:
  pin_path: @PIN@
  stats_interval: 0
interfaces:
  - { name: m0, hooks: [ingress] }
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice
  - name: old
    match: { proto: udp, dst_port: 7000 }
default: { class: other }
YAML
cat >"$PC_TMP/conf.d/10-web.yaml" <<'YAML'
rules:
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
YAML

send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.1.0.1 "$@"; }
# as USER: pktclassctl ARGS on the daemon's pin path (no config read)
ctl_as() {
	local user=$1
	shift
	setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
		"$PKTCLASSCTL" --pin-path "$PC_PIN" "$@"
}

pc_notify_start
pc_start_daemon "$MID"
send --proto udp --dport 5060 --count 7
send --proto tcp --dport 80 --tcp-flags syn --count 4
pc_stats
assert_eq "$(pc_stats_get 'classes.name=web.packets')" 4 "a rule of a drop-in file counts"

# 1. check against the running daemon: nothing to change yet. ------------
CHECK=$(pc_ctl check --json) || fail "check failed"
assert_eq "$(json_get reload.generation <<<"$CHECK")" 1 "check: the live generation"
assert_eq "$(json_get reload.added <<<"$CHECK")" "[]" "check: nothing added"
assert_eq "$(json_get reload.changed <<<"$CHECK")" "[]" "check: nothing changed"
assert_eq "$(json_get includes <<<"$CHECK")" "[\"$PC_TMP/conf.d/10-web.yaml\"]" "check: includes"

# A drop-in adds a rule, the main file changes one and removes another.
cat >"$PC_TMP/conf.d/20-dns.yaml" <<'YAML'
rules:
  - name: dns
    match: { proto: udp, dst_port: 53 }
YAML
sed -i 's/dst_port: 5060 }/dst_port: [5060, 5061] }/; /name: old/,+1d' "$PC_CFG"
CHECK=$(pc_ctl check --json) || fail "check failed"
assert_eq "$(json_get reload.added <<<"$CHECK")" '["dns"]' "check: added"
assert_eq "$(json_get reload.removed <<<"$CHECK")" '["old"]' "check: removed"
assert_eq "$(json_get reload.changed <<<"$CHECK")" '["sip"]' "check: changed"
TEXT=$(pc_ctl check) || fail "check failed"
grep -q '^reload: .*generation 1 .*: 1 added, 1 removed, 1 changed$' <<<"$TEXT" ||
	fail "check text: $TEXT"
grep -qx '  added    dns' <<<"$TEXT" || fail "check text lists dns: $TEXT"
grep -qx '  removed  old' <<<"$TEXT" || fail "check text lists old: $TEXT"
grep -qx '  changed  sip' <<<"$TEXT" || fail "check text lists sip: $TEXT"
# a broken drop-in: check and the reload refuse it, at its own position
echo "rules: [ { name: bad, match: { proto: nope } } ]" >"$PC_TMP/conf.d/30-bad.yaml"
pc_ctl check >/dev/null 2>"$PC_TMP/err" && fail "check accepts a broken drop-in"
grep -q "^$PC_TMP/conf.d/30-bad.yaml:1:39: error: " "$PC_TMP/err" || fail "error position: $(cat "$PC_TMP/err")"
pc_reload
pc_stats
assert_eq "$(pc_stats_get generation)" 1 "a broken drop-in is not loaded"
rm "$PC_TMP/conf.d/30-bad.yaml"
pc_reload
CHECK=$(pc_ctl check --json) || fail "check failed"
assert_eq "$(json_get reload.generation <<<"$CHECK")" 2 "check after the reload: generation"
assert_eq "$(json_get reload.added <<<"$CHECK")$(json_get reload.removed <<<"$CHECK")$(json_get reload.changed <<<"$CHECK")" \
	"[][][]" "check after the reload: no change"
send --proto udp --dport 53 --count 3
pc_stats
assert_eq "$(pc_stats_get 'rules.name=dns.packets')" 3 "the drop-in's new rule counts"
assert_eq "$(pc_stats_get 'classes.name=voice.packets')" 7 "voice carried over the reload"

# 2. Reading counters without root. --------------------------------------
STATSFILE=$(find "$PKTCLASSD_RUNTIME_DIR" -name '*.stats')
[[ -n $STATSFILE ]] || fail "no stats file in $PKTCLASSD_RUNTIME_DIR"
assert_eq "$(stat -c '%a %G' "$STATSFILE")" "640 pktclassd" "stats file mode and group"
send --proto udp --dport 5061 --count 5
OUT=$(ctl_as "$USER_IN" stats --json 2>"$PC_TMP/err") ||
	fail "stats as a member of pktclassd: $(cat "$PC_TMP/err")"
assert_eq "$(json_get 'classes.name=voice.packets' <<<"$OUT")" 12 "voice packets, as a group member"
assert_eq "$(json_get 'classes.name=web.packets' <<<"$OUT")" 4 "web packets, as a group member"
assert_eq "$(json_get 'rules.name=dns.packets' <<<"$(ctl_as "$USER_IN" stats --rules --json 2>/dev/null)")" \
	3 "rule dns, as a group member"
grep -q "counters as of .* from pktclassd's stats file" "$PC_TMP/err" ||
	fail "the group member is not told where the counts come from: $(cat "$PC_TMP/err")"
OM=$(ctl_as "$USER_IN" stats --openmetrics 2>/dev/null) || fail "stats --openmetrics as a member"
grep -qx 'pktclass_class_packets_total{class="voice",iface="m0",hook="ingress"} 12' <<<"$OM" ||
	fail "openmetrics as a member: $OM"
grep -qx 'pktclass_reloads_total{result="failed"} 1' <<<"$OM" || fail "reloads as a member: $OM"
ST=$(ctl_as "$USER_IN" status --json 2>/dev/null) || fail "status as a group member"
assert_eq "$(json_get running <<<"$ST")" true "status as a group member: running"
assert_eq "$(json_get 'attachments.iface=m0.hook' <<<"$ST")" ingress "status as a group member"
# and fresh: what was just sent is there at once
send --proto udp --dport 5060 --count 2
OUT=$(ctl_as "$USER_IN" stats --json 2>/dev/null) || fail "stats as a member"
assert_eq "$(json_get 'classes.name=voice.packets' <<<"$OUT")" 14 "fresh counts for a group member"

ctl_as "$USER_OUT" stats --json >/dev/null 2>"$PC_TMP/err" && fail "stats as a non-member succeeded"
grep -q "group pktclassd" "$PC_TMP/err" || fail "the refusal does not say how: $(cat "$PC_TMP/err")"
ctl_as "$USER_OUT" status >/dev/null 2>&1 && fail "status as a non-member succeeded"
[[ -r $STATSFILE ]] && setpriv --reuid="$USER_OUT" --regid="$(id -g "$USER_OUT")" --init-groups \
	cat "$STATSFILE" >/dev/null 2>&1 && fail "a non-member can read the stats file"
pc_log "ok: a non-member is refused"

# 3. Stop: the group member is told that no daemon runs. -------------------
pc_stop_daemon
ctl_as "$USER_IN" stats >/dev/null 2>"$PC_TMP/err" && fail "stats as a member after the stop"
grep -q "is pktclassd running" "$PC_TMP/err" || fail "after the stop: $(cat "$PC_TMP/err")"
[[ -z $(find "$PKTCLASSD_RUNTIME_DIR" -name '*.rules') ]] || fail "rules file left after the stop"
echo "test-fleet: ok"
