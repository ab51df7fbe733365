#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-systemd.sh - pktclassd.service under a real systemd as PID 1 (a
# container booted from the host's /usr, see systemd-lib.sh), installed the
# way an operator would: `meson install`, then systemctl.
#
#   ns a: a0 10.1.0.2 --veth-- r0 10.1.0.1 [container's own netns: routes,
#         pktclassd on r0 ingress]  r1 10.2.0.1 --veth-- b0 10.2.0.2 :ns b
#
# Checked: the unit verifies clean and scores <= 2.0 in systemd-analyze
# security; its boot ordering (before network-pre.target, no default
# dependencies, enabled into sysinit.target, no ordering cycle); the installed
# default config starts in the container (no en*/eth* link: no attachment);
# start (READY=1) without CAP_SYS_ADMIN; exact counts of UDP traffic a -> b in
# `pktclassctl stats --json`; stats records in the journal that match them;
# packet-log and start/reload records with their fields and MESSAGE_IDs; the
# catalog text in `journalctl -x`; `systemctl reload` returns with the new
# rules live; a broken config on reload is reported and the old rules keep
# classifying; SIGSTOP makes the watchdog restart the daemon (the counters
# carry on from the pins); `systemctl restart` keeps the counters (through
# /run/pktclassd), `systemctl stop` and start does not; `systemctl stop`
# leaves no filter, program or pin of ours.
# shellcheck source-path=SCRIPTDIR source=systemd-lib.sh
. "$(dirname "$0")/systemd-lib.sh"

MID_STATS=b75b0345bcf44dbdb2c019e013228ae1
MID_RELOAD=86b59119d1484cc181b41cb4e8d1450c
MID_START=2f5b4883aa93487087f39c1c9ee07ef1
MID_PKTLOG=217ba1817a2c4541998a651c116b7f13
MID_ATTACH=819de0b7f77541a790ef0bd33d0502df

sd_init systemd
command -v python3 >/dev/null || sd_skip "python3 not found"
for f in daemon/pktclassd daemon/pktclassctl; do
	[[ -x $BUILD_DIR/$f ]] || sd_skip "$BUILD_DIR/$f not built"
done
PIN=/sys/fs/bpf/pcsd-test-$$
# The container shares the host's bpffs: never leave our pins behind.
SD_EXTRA_CLEANUP+=("rm -rf '$PIN'")
SD_SHOW_ON_FAIL+=("systemctl status --no-pager -l pktclassd"
	"journalctl --no-pager -o short-monotonic -u pktclassd | grep -v ': class [^ ]*: [0-9]* packets' | tail -n 60")

# json_get PATH < JSON: value at PATH (dot-separated keys, list indexes, and
# KEY=VALUE selectors); exit 1 when absent.
json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for seg in sys.argv[1].split("."):
    if isinstance(v, list) and "=" in seg:
        k, _, want = seg.partition("=")
        hits = [e for e in v if isinstance(e, dict) and str(e.get(k)) == want]
        if not hits:
            sys.exit(1)
        v = hits[0]
    elif isinstance(v, list) and seg.isdigit() and int(seg) < len(v):
        v = v[int(seg)]
    elif isinstance(v, dict) and seg in v:
        v = v[seg]
    else:
        sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

# Note: never `... | grep -q` here: with pipefail, grep leaving early makes
# the writer die of SIGPIPE and the pipeline fail.  grep -c reads it all.

# ---- install and boot -----------------------------------------------------------
sd_stage
sd_boot
sd_install

UNIT_CONF=$(sd_run systemctl show -P ExecStart pktclassd |
	sed -n 's/.*argv\[\]=[^ ]*pktclassd -c \([^ ;]*\).*/\1/p')
[[ $UNIT_CONF == /*/pktclassd/pktclassd.yaml ]] ||
	sd_fail "cannot tell the config path from ExecStart: '$UNIT_CONF'"
sd_run test -s "$UNIT_CONF" || sd_fail "meson install put no example config at $UNIT_CONF"
sd_log "ok: example config installed at $UNIT_CONF"

# meson install must keep an existing config.
echo "# operator's own" >"$SD_TMP/mine.yaml"
OUT=$(DESTDIR=$SD_STAGING "$SD_REPO/scripts/install-config.sh" "$SD_REPO/conf/pktclassd.yaml" \
	"$(dirname "$UNIT_CONF")" 2>&1) || sd_fail "install-config.sh: $OUT"
sd_run cmp -s "$UNIT_CONF" "/opt/pktclassd-staging$UNIT_CONF" ||
	sd_fail "staged config and installed config differ"
cp "$SD_TMP/mine.yaml" "$SD_STAGING$UNIT_CONF"
DESTDIR=$SD_STAGING "$SD_REPO/scripts/install-config.sh" "$SD_REPO/conf/pktclassd.yaml" \
	"$(dirname "$UNIT_CONF")" >/dev/null 2>&1 || sd_fail "install-config.sh over an existing config"
cmp -s "$SD_TMP/mine.yaml" "$SD_STAGING$UNIT_CONF" || sd_fail "install-config.sh overwrote a config"
sd_log "ok: the install script keeps an existing config"

# verify also runs man(1) for each Documentation= page: man-db needs its
# config, which the container's empty /etc lacks.
if [[ -f /etc/manpath.config ]] && command -v man >/dev/null; then
	sd_sh 'cat >/etc/manpath.config' </etc/manpath.config || sd_fail "copying manpath.config"
	VERIFY=$(sd_run systemd-analyze verify pktclassd.service 2>&1) ||
		sd_fail "systemd-analyze verify: $VERIFY"
else
	sd_log "no man-db here: systemd-analyze verify --man=no"
	VERIFY=$(sd_run systemd-analyze verify --man=no pktclassd.service 2>&1) ||
		sd_fail "systemd-analyze verify --man=no: $VERIFY"
fi
[[ -z $VERIFY ]] || sd_fail "systemd-analyze verify is not clean: $VERIFY"
sd_log "ok: systemd-analyze verify is clean"
# (/usr/share/man with the default prefix; a build dir set up with the old
# default /usr/local keeps it.  tests/unit/test-install.sh checks the layout.)
for m in man8/pktclassd.8 man8/pktclassctl.8 man5/pktclassd.yaml.5; do
	sd_run test -s "/usr/share/man/$m" || sd_run test -s "/usr/local/share/man/$m" ||
		sd_fail "man page $m not installed"
done
EXPOSURE=$(sd_run systemd-analyze security --no-pager pktclassd.service |
	sed -n 's/.*Overall exposure level for pktclassd.service: \([0-9.]*\).*/\1/p')
python3 -c "import sys; sys.exit(0 if float('$EXPOSURE') <= 2.0 else 1)" ||
	sd_fail "systemd-analyze security exposure $EXPOSURE > 2.0"
sd_log "ok: systemd-analyze security exposure $EXPOSURE (<= 2.0)"

# ---- the installed default config ----------------------------------------------------
# Only the pin path changes (bpffs is the host's).  The container has no
# en*/eth* link: the daemon starts with no attachment.
sd_sh "sed -i '/^settings:/a\\  pin_path: $PIN' '$UNIT_CONF'" || sd_fail "pin path in the default config"
sd_assert_eq "$(diff <(sd_run cat "$UNIT_CONF") "$SD_REPO/conf/pktclassd.yaml" | grep -c '^[<>]')" 1 \
	"lines changed in the installed default config"
sd_run systemctl start pktclassd || sd_fail "systemctl start with the installed default config"
sd_assert_eq "$(sd_unit_prop pktclassd ActiveState)" active "ActiveState with the default config"
STATUS=$(sd_run pktclassctl status --json) || sd_fail "pktclassctl status (default config, no -c)"
sd_assert_eq "$(json_get attachments <<<"$STATUS")" "[]" "attachments of the default config"
sd_run systemctl stop pktclassd || sd_fail "systemctl stop pktclassd"
sd_assert_eq "$(sd_unit_prop pktclassd NRestarts)" 0 "restarts with the default config"

# ---- boot ordering ----------------------------------------------------------------
# has_words PROP WORD...: the unit's property PROP lists every WORD.
has_words() {
	local prop=$1 value w
	shift
	value=" $(sd_unit_prop pktclassd "$prop") "
	for w in "$@"; do
		[[ $value == *" $w "* ]] || sd_fail "$prop of pktclassd.service lacks $w: '$value'"
	done
	sd_log "ok: $prop has $*"
}
sd_assert_eq "$(sd_unit_prop pktclassd DefaultDependencies)" no "DefaultDependencies"
has_words Before network-pre.target shutdown.target
has_words Wants network-pre.target
has_words Conflicts shutdown.target
# local-fs, sysctl, modules-load by hand; tmpfiles-setup (PrivateTmp=) and the
# journal socket added by systemd.
has_words After local-fs.target systemd-sysctl.service systemd-modules-load.service \
	systemd-tmpfiles-setup.service systemd-journald.socket
AFTER=" $(sd_unit_prop pktclassd After) "
for t in sysinit.target basic.target network.target network-pre.target; do
	[[ $AFTER == *" $t "* ]] && sd_fail "pktclassd.service is ordered after $t"
done
sd_run systemctl enable pktclassd >/dev/null 2>&1 || sd_fail "systemctl enable pktclassd"
sd_run test -L /etc/systemd/system/sysinit.target.wants/pktclassd.service ||
	sd_fail "systemctl enable made no sysinit.target.wants link"
has_words WantedBy sysinit.target
# The boot transaction with the unit enabled, as systemd-analyze verify
# builds it (every unit to start, none active yet): no ordering cycle.  The
# host's other units may draw other complaints; only cycles count here.
BOOT=$(sd_run systemd-analyze verify --man=no multi-user.target 2>&1)
CYCLES=$(grep -i -c 'ordering cycle' <<<"$BOOT")
((CYCLES == 0)) || sd_fail "ordering cycles in the boot transaction: $(grep -i 'cycle' <<<"$BOOT")"
sd_log "ok: no ordering cycle in the boot transaction to multi-user.target"
# sysinit.target pulls it in (it does not wait for it: not ordered before it).
sd_run systemctl start sysinit.target || sd_fail "systemctl start sysinit.target"
sd_wait_for 30 "pktclassd started by sysinit.target" \
	'[ "$(systemctl show -P ActiveState pktclassd)" = active ]'
sd_run systemctl stop pktclassd || sd_fail "systemctl stop pktclassd (started by sysinit.target)"
sd_run systemctl disable pktclassd >/dev/null 2>&1 || sd_fail "systemctl disable pktclassd"

# ---- the network -------------------------------------------------------------------
# shellcheck disable=SC2016 # expanded inside the container
sd_sh '
set -e
for k in net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
	 net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0; do
	sysctl -qw $k
done
for n in a b; do
	ip netns add $n
	ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n $n link set lo up
done
ip link add r0 type veth peer name a0 netns a
ip link add r1 type veth peer name b0 netns b
ip addr add 10.1.0.1/24 dev r0
ip addr add 10.2.0.1/24 dev r1
ip -n a addr add 10.1.0.2/24 dev a0
ip -n b addr add 10.2.0.2/24 dev b0
ip link set r0 up; ip link set r1 up
ip -n a link set a0 up; ip -n b link set b0 up
ip -n a route add default via 10.1.0.1
ip -n b route add default via 10.2.0.1
# No ARP on the classified path: every packet on r0 is one we sent.
ip -n a neigh add 10.1.0.1 lladdr $(cat /sys/class/net/r0/address) dev a0 nud permanent
ip neigh add 10.2.0.2 lladdr $(ip netns exec b cat /sys/class/net/b0/address) dev r1 nud permanent
ip neigh add 10.1.0.2 lladdr $(ip netns exec a cat /sys/class/net/a0/address) dev r0 nud permanent
' || sd_fail "setting up namespaces and veths in the container"
sd_log "ok: netns a and b, routed through r0/r1 in the container"

# send PORT COUNT: COUNT UDP datagrams of 100 bytes from ns a to 10.2.0.2:PORT.
send() {
	sd_run ip netns exec a python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(b"x" * 100, ("10.2.0.2", int(sys.argv[1])))
' "$1" "$2" || sd_fail "sending UDP to port $1"
}

# pktclassctl on the daemon's state (by pin path: the config file is broken
# on purpose at one point, and -c would then refuse to read it).
ctl() {
	sd_run pktclassctl --pin-path "$PIN" "$@"
}

# expect_class CLASS PACKETS: wait until stats show PACKETS for CLASS (the
# last packets may still be in a backlog queue), then check that no more come.
expect_class() {
	local got="" i
	for ((i = 0; i < 50; i++)); do
		STATS=$(ctl stats --rules --json) || sd_fail "pktclassctl stats --json failed"
		got=$(json_get "classes.name=$1.packets" <<<"$STATS") || got=0
		[[ $got == "$2" ]] && break
		sleep 0.1
	done
	sleep 0.2
	STATS=$(ctl stats --rules --json) || sd_fail "pktclassctl stats --json failed"
	got=$(json_get "classes.name=$1.packets" <<<"$STATS") || got=0
	sd_assert_eq "$got" "$2" "class $1 packets"
}

write_config() {
	sd_sh "cat >'$UNIT_CONF'" || sd_fail "writing $UNIT_CONF"
}

# the test config: stats_interval $1; with $2 = dns, a rule for udp/53 too
test_config() {
	local dns=
	[[ ${2:-} == dns ]] && dns='
  - name: dns
    match: { proto: udp, dst_port: 53 }
    class: names'
	write_config <<YAML
version: 1
settings:
  pin_path: $PIN
  stats_interval: $1
  log_rate: 1000
interfaces:
  - name: r0
    hooks: [ingress]
classes:
  - name: voice
    description: SIP
rules:
  - name: sip
    match: { proto: udp, dst_port: 5060 }
    class: voice$dns
  - name: audited
    match: { proto: udp, dst_port: 7000 }
    class: audit
    log: true
default:
  class: other
  action: pass
YAML
}

# ---- start ---------------------------------------------------------------------------
test_config '"0"'
sd_run pktclassctl check -c "$UNIT_CONF" >/dev/null || sd_fail "pktclassctl check rejects the test config"

sd_run systemctl start pktclassd || sd_fail "systemctl start pktclassd failed"
sd_assert_eq "$(sd_unit_prop pktclassd ActiveState)" active "ActiveState after start"
MAINPID=$(sd_unit_prop pktclassd MainPID)
# The daemon runs without CAP_SYS_ADMIN (counter arrays are opened by path).
CAPEFF=$(sd_run sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$MAINPID/status") ||
	sd_fail "reading CapEff of pid $MAINPID"
(((0x$CAPEFF >> 21) & 1)) && sd_fail "pktclassd runs with CAP_SYS_ADMIN (CapEff $CAPEFF)"
sd_log "ok: pktclassd runs without CAP_SYS_ADMIN (CapEff $CAPEFF)"
STATUS=$(ctl status --json) || sd_fail "pktclassctl status --json failed"
sd_log "status: $STATUS"
sd_assert_eq "$(json_get running <<<"$STATUS")" true "status running"
sd_assert_eq "$(json_get generation <<<"$STATUS")" 1 "generation after start"
sd_assert_eq "$(json_get 'attachments.iface=r0.hook' <<<"$STATUS")" ingress "attachment on r0"
PROG_ID=$(json_get 'attachments.iface=r0.prog_id' <<<"$STATUS")
sd_run tc filter show dev r0 ingress | grep -c "pktclassd" >/dev/null ||
	sd_fail "no pktclassd filter on r0 ingress: $(sd_run tc filter show dev r0 ingress)"
sd_log "ok: our filter is on r0 ingress (prog id $PROG_ID)"

send 5060 40
send 7000 3
send 9999 7
expect_class voice 40
expect_class audit 3
sd_assert_eq "$(json_get default.packets <<<"$STATS")" 7 "default packets"
sd_assert_eq "$(json_get default.class <<<"$STATS")" other "default class"
sd_assert_eq "$(json_get rules.name=sip.packets <<<"$STATS")" 40 "rule sip packets"

# ---- journal: stats, packet log, start record, catalog --------------------------------
# A stats record now (SIGUSR1), compared with pktclassctl stats.
sd_run systemctl kill -s SIGUSR1 --kill-who=main pktclassd || sd_fail "systemctl kill -s SIGUSR1"
VOICE_BYTES=$(json_get classes.name=voice.bytes <<<"$STATS")
sd_wait_for 10 "a stats record of class voice with 40 packets" \
	"journalctl -u pktclassd PKTCLASS_CLASS=voice -o json | grep -c '\"PKTCLASS_PACKETS\" *: *\"40\"' >/dev/null"
REC=$(sd_run journalctl -u pktclassd PKTCLASS_CLASS=voice -o json -n 1) ||
	sd_fail "journalctl -u pktclassd PKTCLASS_CLASS=voice"
sd_log "stats record: $REC"
sd_assert_eq "$(json_get MESSAGE_ID <<<"$REC")" $MID_STATS "stats record MESSAGE_ID"
sd_assert_eq "$(json_get SYSLOG_IDENTIFIER <<<"$REC")" pktclassd "stats record SYSLOG_IDENTIFIER"
sd_assert_eq "$(json_get PKTCLASS_PACKETS <<<"$REC")" 40 "journal PKTCLASS_PACKETS of voice"
sd_assert_eq "$(json_get PKTCLASS_BYTES <<<"$REC")" "$VOICE_BYTES" "journal PKTCLASS_BYTES of voice"
sd_assert_eq "$(json_get PKTCLASS_GENERATION <<<"$REC")" 1 "journal PKTCLASS_GENERATION"
sd_assert_eq "$(json_get PKTCLASS_PACKETS_DELTA <<<"$REC")" 40 "journal PKTCLASS_PACKETS_DELTA of voice"
sd_assert_eq "$(json_get PKTCLASS_BYTES_DELTA <<<"$REC")" "$VOICE_BYTES" "journal PKTCLASS_BYTES_DELTA of voice"
for class in audit other; do
	REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_STATS PKTCLASS_CLASS=$class -o json -n 1) ||
		sd_fail "journalctl stats of class $class"
	for f in packets bytes; do
		sd_assert_eq "$(json_get "PKTCLASS_${f^^}" <<<"$REC")" \
			"$(json_get "classes.name=$class.$f" <<<"$STATS")" "journal $f of class $class"
	done
done

sd_wait_for 10 "3 packet-log records" \
	"[ \$(journalctl -u pktclassd MESSAGE_ID=$MID_PKTLOG -o cat | wc -l) -ge 3 ]"
sleep 0.5
LOGS=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_PKTLOG -o json) || sd_fail "journalctl pktlog"
sd_assert_eq "$(wc -l <<<"$LOGS")" 3 "packet-log records"
REC=$(head -n 1 <<<"$LOGS")
sd_log "packet-log record: $REC"
sd_assert_eq "$(json_get PKTCLASS_RULE <<<"$REC")" audited "packet log PKTCLASS_RULE"
sd_assert_eq "$(json_get PKTCLASS_CLASS <<<"$REC")" audit "packet log PKTCLASS_CLASS"
sd_assert_eq "$(json_get PKTCLASS_IFACE <<<"$REC")" r0 "packet log PKTCLASS_IFACE"
sd_assert_eq "$(json_get PKTCLASS_HOOK <<<"$REC")" ingress "packet log PKTCLASS_HOOK"
sd_assert_eq "$(json_get PKTCLASS_SRC <<<"$REC")" 10.1.0.2 "packet log PKTCLASS_SRC"
sd_assert_eq "$(json_get PKTCLASS_DST <<<"$REC")" 10.2.0.2 "packet log PKTCLASS_DST"
sd_assert_eq "$(json_get PKTCLASS_DST_PORT <<<"$REC")" 7000 "packet log PKTCLASS_DST_PORT"
PROTO=$(json_get PKTCLASS_PROTO <<<"$REC")
[[ $PROTO == udp || $PROTO == 17 ]] || sd_fail "packet log PKTCLASS_PROTO: '$PROTO'"
json_get PKTCLASS_SRC_PORT <<<"$REC" >/dev/null || sd_fail "no PKTCLASS_SRC_PORT"
json_get PKTCLASS_LENGTH <<<"$REC" >/dev/null || sd_fail "no PKTCLASS_LENGTH"

REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_START -o json -n 1) || sd_fail "journalctl start"
sd_assert_eq "$(json_get PKTCLASS_RESULT <<<"$REC")" ok "start record PKTCLASS_RESULT"
sd_assert_eq "$(json_get PKTCLASS_GENERATION <<<"$REC")" 1 "start record PKTCLASS_GENERATION"
sd_assert_eq "$(json_get PKTCLASS_RULES <<<"$REC")" 2 "start record PKTCLASS_RULES"
json_get PKTCLASS_DURATION_USEC <<<"$REC" >/dev/null || sd_fail "no PKTCLASS_DURATION_USEC"
REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_ATTACH -o json -n 1) || sd_fail "journalctl attach"
sd_assert_eq "$(json_get PKTCLASS_IFACE <<<"$REC")" r0 "attach record PKTCLASS_IFACE"
sd_assert_eq "$(json_get PKTCLASS_PROG_ID <<<"$REC")" "$PROG_ID" "attach record PKTCLASS_PROG_ID"

sd_run journalctl -x -u pktclassd --no-pager MESSAGE_ID=$MID_START |
	grep -c "The daemon loaded its configuration and is classifying traffic" >/dev/null ||
	sd_fail "journalctl -x shows no catalog text for the start record"
sd_run journalctl -x -u pktclassd --no-pager MESSAGE_ID=$MID_PKTLOG |
	grep -c "A packet matched a rule with \"log: true\"" >/dev/null ||
	sd_fail "journalctl -x shows no catalog text for the packet log"
sd_log "ok: journalctl -x shows the catalog text"

# ---- reload ---------------------------------------------------------------------------
test_config 1s dns
sd_run systemctl reload pktclassd || sd_fail "systemctl reload pktclassd failed"
# Right after the reload returns the new rule classifies: no waiting.
send 53 9
send 5060 2
expect_class names 9
expect_class voice 42
sd_assert_eq "$(json_get generation <<<"$STATS")" 2 "generation after reload"
sd_assert_eq "$(json_get default.packets <<<"$STATS")" 7 "default packets after reload"
REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_RELOAD -o json -n 1) || sd_fail "journalctl reload"
sd_log "reload record: $REC"
sd_assert_eq "$(json_get PKTCLASS_RESULT <<<"$REC")" ok "reload record PKTCLASS_RESULT"
sd_assert_eq "$(json_get PKTCLASS_GENERATION <<<"$REC")" 2 "reload record PKTCLASS_GENERATION"
sd_assert_eq "$(json_get PKTCLASS_RULES <<<"$REC")" 3 "reload record PKTCLASS_RULES"
sd_assert_eq "$(json_get PKTCLASS_ADDED <<<"$REC")" 1 "reload record PKTCLASS_ADDED"
sd_assert_eq "$(json_get PKTCLASS_REMOVED <<<"$REC")" 0 "reload record PKTCLASS_REMOVED"
sd_assert_eq "$(sd_unit_prop pktclassd MainPID)" "$MAINPID" "MainPID after reload"
sd_run journalctl -x -u pktclassd --no-pager MESSAGE_ID=$MID_RELOAD |
	grep -c "The daemon reloaded its configuration" >/dev/null ||
	sd_fail "journalctl -x shows no catalog text for the reload record"
# The new config has stats_interval: 1s: periodic records come by themselves.
sd_wait_for 10 "a periodic stats record of class names with 9 packets, generation 2" \
	"journalctl -u pktclassd PKTCLASS_CLASS=names PKTCLASS_GENERATION=2 -o json |
	 grep -c '\"PKTCLASS_PACKETS\" *: *\"9\"' >/dev/null"
sd_log "ok: periodic stats records"

# A broken config: the reload is reported failed, the old rules go on.
sd_sh "printf 'no_such_key: 1\n' >>'$UNIT_CONF'" || sd_fail "breaking the config"
if sd_run systemctl reload pktclassd 2>"$SD_TMP/reload.err"; then
	RELOAD_RC=0
else
	RELOAD_RC=$?
fi
STATUS_TEXT=$(sd_unit_prop pktclassd StatusText)
sd_log "reload of a broken config: exit $RELOAD_RC ($(cat "$SD_TMP/reload.err")), StatusText '$STATUS_TEXT'"
if ((RELOAD_RC == 0)) && [[ $STATUS_TEXT != *"reload failed"* ]]; then
	sd_fail "a broken config reloaded with success, and StatusText does not say it failed"
fi
sd_assert_eq "$(sd_unit_prop pktclassd ActiveState)" active "ActiveState after a failed reload"
sd_assert_eq "$(sd_unit_prop pktclassd MainPID)" "$MAINPID" "MainPID after a failed reload"
REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_RELOAD -o json -n 1) || sd_fail "journalctl reload"
sd_assert_eq "$(json_get PKTCLASS_RESULT <<<"$REC")" failed "failed reload record PKTCLASS_RESULT"
STATUS=$(ctl status --json) || sd_fail "pktclassctl status --json failed"
sd_assert_eq "$(json_get reload <<<"$STATUS")" failed "pktclassctl status: last reload"
sd_assert_eq "$(json_get generation <<<"$STATUS")" 2 "generation after a failed reload"
send 53 4
expect_class names 13
sd_log "ok: the old rules still classify after a failed reload"

# ---- watchdog ------------------------------------------------------------------------
# Mend the config first: the restarted daemon reads it.
sd_sh "sed -i '/^no_such_key/d' '$UNIT_CONF'" || sd_fail "mending the config"
WD=$(sd_unit_prop pktclassd WatchdogUSec)
[[ $WD != 0 && -n $WD ]] || sd_fail "no watchdog set: WatchdogUSec='$WD'"
NRESTARTS=$(sd_unit_prop pktclassd NRestarts)
sd_run kill -STOP "$MAINPID" || sd_fail "SIGSTOP to pktclassd"
sd_log "pktclassd (pid $MAINPID) stopped with SIGSTOP; the watchdog ($WD) must restart it"
SECS=$(($(sd_run systemd-analyze timespan "$WD" | sed -n 's/.*μs: *\([0-9]*\).*/\1/p') / 1000000 + 60))
sd_wait_for "$SECS" "systemd restarts pktclassd after the watchdog fired" \
	"[ \"\$(systemctl show -P NRestarts pktclassd)\" -gt $NRESTARTS ] &&
	 [ \"\$(systemctl show -P ActiveState pktclassd)\" = active ] &&
	 [ \"\$(systemctl show -P MainPID pktclassd)\" != $MAINPID ]"
sd_run journalctl -u pktclassd --no-pager | grep -c -i "watchdog timeout" >/dev/null ||
	sd_fail "the journal does not say the watchdog fired"
MAINPID=$(sd_unit_prop pktclassd MainPID)
sd_log "ok: watchdog timeout, restarted as pid $MAINPID"
# The restarted daemon adopted the pinned state: the counters carry on.
STATUS=$(ctl status --json) || sd_fail "pktclassctl status --json failed"
sd_assert_eq "$(json_get generation <<<"$STATUS")" 3 "generation after the restart"
send 53 5
expect_class names 18

# ---- restart: the counters go on; stop and start: they end -----------------------------
# A clean stop takes the pins along; the counters go to /run/pktclassd
# (RuntimeDirectoryPreserve=restart keeps it over a restart only).
sd_run systemctl restart pktclassd || sd_fail "systemctl restart pktclassd"
sd_assert_eq "$(sd_unit_prop pktclassd ActiveState)" active "ActiveState after restart"
[[ $(sd_unit_prop pktclassd MainPID) != "$MAINPID" ]] || sd_fail "MainPID unchanged by the restart"
sd_run journalctl -u pktclassd --no-pager | grep -c "counters of the last run restored from /run/pktclassd/" >/dev/null ||
	sd_fail "the restarted daemon did not restore the counters"
expect_class names 18
expect_class voice 42
sd_assert_eq "$(sd_run sh -c 'ls /run/pktclassd | grep -c counters' || true)" 0 "counters files left after the start"
send 53 2
expect_class names 20
sd_log "ok: counters carried over systemctl restart"
sd_run systemctl stop pktclassd || sd_fail "systemctl stop pktclassd"
sd_run test ! -e /run/pktclassd || sd_fail "/run/pktclassd kept over a stop"
sd_run systemctl start pktclassd || sd_fail "systemctl start pktclassd"
expect_class names 0
expect_class voice 0
sd_log "ok: counters start from zero after systemctl stop and start"
MAINPID=$(sd_unit_prop pktclassd MainPID)

# ---- stop ------------------------------------------------------------------------------
STATUS=$(ctl status --json) || sd_fail "pktclassctl status --json failed"
PROG_ID=$(json_get 'attachments.iface=r0.prog_id' <<<"$STATUS")
sd_run systemctl stop pktclassd || sd_fail "systemctl stop pktclassd failed"
sd_assert_eq "$(sd_unit_prop pktclassd ActiveState)" inactive "ActiveState after stop"
sd_assert_eq "$(sd_unit_prop pktclassd Result)" success "Result after stop"
FILTERS=$(sd_run tc filter show dev r0 ingress)
[[ -z $FILTERS ]] || sd_fail "filters left on r0 ingress after stop: $FILTERS"
if sd_run tc qdisc show dev r0 | grep -c clsact >/dev/null; then
	sd_fail "the clsact qdisc pktclassd created is still on r0"
fi
# the kernel frees a program after an RCU grace period: give it a moment
for _ in $(seq 50); do
	sd_run bpftool prog show id "$PROG_ID" >/dev/null 2>&1 || break
	sleep 0.1
done
if sd_run bpftool prog show id "$PROG_ID" >/dev/null 2>&1; then
	sd_fail "program $PROG_ID is still loaded 5 s after stop"
fi
if [[ -d $PIN && -n $(find "$PIN" -mindepth 1 -print -quit) ]]; then
	sd_fail "pins left under $PIN: $(find "$PIN" -mindepth 1)"
fi
sd_log "ok: no filter, qdisc, program or pin of ours after stop"
echo "PASS: [$SD_TEST]"
