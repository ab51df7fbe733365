#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-deb.sh - issue 20: the Debian package.  `dpkg-buildpackage -b -us -uc`
# in a copy of the tree builds pktclassd_*.deb and leaves that tree's git
# status clean; lintian has no error; then the package goes into the
# systemd container of systemd-lib.sh with a real `dpkg -i` (the container's
# dpkg database a copy of the host's): the group pktclassd exists, the unit
# is enabled and started by the maintainer scripts, the config is a
# conffile; and through systemctl: counted traffic, the metrics file in the
# node exporter's directory, journal records, `systemctl reload` with a good
# and a broken config, a member of the group reading the counters, stop;
# then `dpkg -r` keeps the config and `dpkg -P` removes it.
#
#   ns a: a0 10.1.0.2 --veth-- r0 10.1.0.1 [container: pktclassd on r0
#         ingress]  r1 10.2.0.1 --veth-- b0 10.2.0.2 :ns b
# shellcheck source-path=SCRIPTDIR source=systemd-lib.sh
. "$(dirname "$0")/systemd-lib.sh"

MID_RELOAD=86b59119d1484cc181b41cb4e8d1450c
MID_START=2f5b4883aa93487087f39c1c9ee07ef1

sd_init deb
for c in dpkg-buildpackage lintian git python3 tar; do
	command -v "$c" >/dev/null 2>&1 || sd_skip "command '$c' not found (scripts/deps.sh)"
done
PIN=/sys/fs/bpf/pcsd-deb-$$
SD_EXTRA_CLEANUP+=("rm -rf '$PIN'")
SD_SHOW_ON_FAIL+=("systemctl status --no-pager -l pktclassd"
	"journalctl --no-pager -o short-monotonic -u pktclassd | grep -v ': class [^ ]*: [0-9]* packets' | tail -n 40")
CONF=/etc/pktclassd/pktclassd.yaml
PROM=/var/lib/prometheus/node-exporter/pktclassd.prom

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
    elif isinstance(v, dict) and seg in v:
        v = v[seg]
    else:
        sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

# ---- build ------------------------------------------------------------------------
# The tracked and the new (not ignored) files of the checkout, as a git
# repository of its own: after the build its status must be clean.
SRC=$SD_TMP/src/pktclassd
mkdir -p "$SRC"
git -C "$SD_REPO" ls-files -z -co --exclude-standard | tar -C "$SD_REPO" --null -T - -cf - |
	tar -C "$SRC" -xf - || sd_fail "copying the tree"
git -C "$SRC" init -q && git -C "$SRC" add -A &&
	git -C "$SRC" -c user.name=test -c user.email=test@localhost commit -qm tree ||
	sd_fail "git init of the copy"
sd_log "building the package in $SRC"
(cd "$SRC" && timeout 900 dpkg-buildpackage -b -us -uc) >"$SD_TMP/build.log" 2>&1 || {
	tail -n 40 "$SD_TMP/build.log" >&2
	sd_fail "dpkg-buildpackage -b -us -uc failed"
}
DEB=$(ls "$SD_TMP"/src/pktclassd_*_*.deb 2>/dev/null | head -n 1)
[[ -f $DEB ]] || sd_fail "no pktclassd_*.deb: $(ls "$SD_TMP/src")"
sd_log "ok: built $(basename "$DEB")"
LEFT=$(git -C "$SRC" status --porcelain)
[[ -z $LEFT ]] || sd_fail "the build left files that git sees (.gitignore): $LEFT"
sd_log "ok: git status of the built tree is clean"

LINT=$(lintian --fail-on error "$DEB" 2>&1) || sd_fail "lintian reports errors: $LINT"
LINT=$(grep '^[A-Z]: ' <<<"$LINT")
sd_log "ok: lintian: no errors${LINT:+; $(tr '\n' ' ' <<<"$LINT")}"
CONTENTS=$(dpkg-deb -c "$DEB" | awk '{ print $6 }')
for f in ./usr/sbin/pktclassd ./usr/bin/pktclassctl ./lib/systemd/system/pktclassd.service \
	.$CONF ./usr/lib/systemd/catalog/pktclassd.catalog ./usr/lib/sysusers.d/pktclassd.conf \
	./usr/share/bash-completion/completions/pktclassctl ./usr/share/man/man8/pktclassd.8.gz \
	./usr/share/man/man8/pktclassctl.8.gz ./usr/share/man/man5/pktclassd.yaml.5.gz \
	./usr/libexec/pktclassd/pktclassd-reload; do
	grep -qx -- "$f" <<<"$CONTENTS" || sd_fail "the package lacks $f"
done
sd_assert_eq "$(dpkg-deb -I "$DEB" conffiles)" "$CONF" "the package's conffiles"

# ---- the container ----------------------------------------------------------------
mkdir -p "$SD_STAGING/usr"
cp "$DEB" "$SD_STAGING/pktclassd.deb"
cp -a /var/lib/dpkg "$SD_STAGING/dpkg" || sd_fail "copying the dpkg database"
# its overrides name the host's groups, which the container's fresh /etc lacks
: >"$SD_STAGING/dpkg/statoverride"
sd_boot

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
ip -n a neigh add 10.1.0.1 lladdr $(cat /sys/class/net/r0/address) dev a0 nud permanent
ip neigh add 10.2.0.2 lladdr $(ip netns exec b cat /sys/class/net/b0/address) dev r1 nud permanent
' || sd_fail "setting up namespaces and veths in the container"

# The operator's config is there before the package (as a fleet tool puts
# it): dpkg keeps it (--force-confold), the postinst starts the daemon on it.
write_config() {  # PORTS of the rule "probe" [METRICS_FILE]
	sd_sh "mkdir -p /etc/pktclassd && cat >'$CONF'" <<EOF || sd_fail "writing $CONF"
version: 1
settings:
  pin_path: $PIN
  stats_interval: 1s
  metrics_file: ${2:-$PROM}
interfaces:
  - { name: r0, hooks: [ingress] }
rules:
  - name: probe
    match: { proto: udp, dst_port: [$1] }
default: { class: other }
EOF
}
write_config 7000
sd_sh "mkdir -p /var/lib/prometheus/node-exporter /var/log && cp -a /opt/pktclassd-staging/dpkg/. /var/lib/dpkg/" ||
	sd_fail "preparing /var in the container"
# A host's policy-rc.d (containers and build hosts have one that says "start
# nothing") would keep the postinst from starting the unit: as on a plain
# Debian system there is none (removed in the overlay, not on the host).
sd_run rm -f /usr/sbin/policy-rc.d || sd_fail "removing policy-rc.d in the container"
sd_run dpkg -i --force-confold /opt/pktclassd-staging/pktclassd.deb >"$SD_TMP/dpkg.log" 2>&1 || {
	tail -n 30 "$SD_TMP/dpkg.log" >&2
	sd_fail "dpkg -i failed"
}
sd_log "ok: dpkg -i"
sd_assert_eq "$(sd_run dpkg-query -W -f='${Status}' pktclassd)" "install ok installed" "package status"
sd_run dpkg-query -W -f='${Conffiles}\n' pktclassd | grep -c "^ $CONF " >/dev/null ||
	sd_fail "$CONF is not a conffile: $(sd_run dpkg-query -W -f='${Conffiles}' pktclassd)"
sd_run getent group pktclassd >/dev/null || sd_fail "the package made no group pktclassd"
sd_assert_eq "$(sd_run systemctl is-enabled pktclassd)" enabled "enabled by the postinst"
sd_run test -L /etc/systemd/system/sysinit.target.wants/pktclassd.service ||
	sd_fail "no sysinit.target.wants link"
sd_wait_for 30 "pktclassd started by the postinst" \
	'[ "$(systemctl show -P ActiveState pktclassd)" = active ]'
sd_log "ok: the postinst started pktclassd"
MAINPID=$(sd_unit_prop pktclassd MainPID)
GID=$(sd_run getent group pktclassd | cut -d: -f3)
sd_run grep "^Groups:" "/proc/$MAINPID/status" | grep -qw "$GID" ||
	sd_fail "the daemon is not in the group pktclassd: $(sd_run grep Groups "/proc/$MAINPID/status")"
REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_START -o json -n 1) || sd_fail "journalctl start"
sd_assert_eq "$(json_get PKTCLASS_RESULT <<<"$REC")" ok "start record PKTCLASS_RESULT"

# ---- traffic, counters, metrics ----------------------------------------------------------
send() {  # PORT COUNT: UDP from ns a to 10.2.0.2:PORT
	sd_run ip netns exec a python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(b"x" * 100, ("10.2.0.2", int(sys.argv[1])))
' "$1" "$2" || sd_fail "sending UDP to port $1"
}
# wait_prom SERIES VALUE: until the metrics file has SERIES at VALUE (20 s).
wait_prom() {
	sd_wait_for 20 "$1 = $2 in $PROM" "grep -qxF '$1 $2' '$PROM'"
	sd_log "ok: $PROM: $1 $2"
}
L='iface="r0",hook="ingress"'
sd_wait_for 20 "the attachment on r0" \
	"pktclassctl --pin-path '$PIN' status --json | grep -q '\"iface\": \"r0\"'"
send 7000 23
wait_prom "pktclass_class_packets_total{class=\"probe\",$L}" 23
sd_assert_eq "$(sd_run stat -c %a "$PROM")" 644 "metrics file mode"
STATS=$(sd_run pktclassctl --pin-path "$PIN" stats --json) || sd_fail "pktclassctl stats"
sd_assert_eq "$(json_get classes.name=probe.packets <<<"$STATS")" 23 "probe packets"
sd_wait_for 20 "a stats record of 23 probe packets" \
	"journalctl -u pktclassd PKTCLASS_CLASS=probe -o export | grep -qx PKTCLASS_PACKETS=23"
sd_log "ok: stats record in the journal"

# A member of the group pktclassd reads the counters; a user outside does not.
sd_sh 'useradd --system --no-create-home --groups pktclassd reader &&
	useradd --system --no-create-home stranger' || sd_fail "useradd in the container"
as_user() {  # USER ARGS...: pktclassctl ARGS as USER
	sd_sh 'u=$1; shift; exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups pktclassctl "$@"' \
		"$@"
}
OUT=$(as_user reader --pin-path "$PIN" stats --json 2>"$SD_TMP/reader.err") ||
	sd_fail "stats as a member of pktclassd: $(cat "$SD_TMP/reader.err")"
sd_assert_eq "$(json_get classes.name=probe.packets <<<"$OUT")" 23 "probe packets for a group member"
as_user stranger --pin-path "$PIN" stats --json >/dev/null 2>&1 &&
	sd_fail "stats as a user outside the group succeeded"
sd_log "ok: a user outside the group is refused"

# ---- reload, good and broken ---------------------------------------------------------
write_config "7000, 7001"
sd_run systemctl reload pktclassd || sd_fail "systemctl reload pktclassd"
REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_RELOAD -o json -n 1) || sd_fail "journalctl reload"
sd_assert_eq "$(json_get PKTCLASS_RESULT <<<"$REC")" ok "reload record PKTCLASS_RESULT"
sd_assert_eq "$(json_get PKTCLASS_CHANGED <<<"$REC")" 1 "reload record PKTCLASS_CHANGED"
send 7001 4
wait_prom "pktclass_class_packets_total{class=\"probe\",$L}" 27
wait_prom 'pktclass_reloads_total{result="ok"}' 1
sd_sh "echo 'rules: [' >>'$CONF'" || sd_fail "breaking the config"
sd_run systemctl reload pktclassd 2>/dev/null && sd_fail "systemctl reload of a broken config succeeded"
REC=$(sd_run journalctl -u pktclassd MESSAGE_ID=$MID_RELOAD -o json -n 1) || sd_fail "journalctl reload"
sd_assert_eq "$(json_get PKTCLASS_RESULT <<<"$REC")" failed "broken reload record PKTCLASS_RESULT"
sd_assert_eq "$(sd_unit_prop pktclassd ActiveState)" active "ActiveState after a broken reload"
sd_assert_eq "$(sd_unit_prop pktclassd MainPID)" "$MAINPID" "MainPID after the reloads"
wait_prom 'pktclass_reloads_total{result="failed"}' 1
send 7001 3
wait_prom "pktclass_class_packets_total{class=\"probe\",$L}" 30
# The unit may write the node exporter's directory and nothing else.
sd_run mkdir -p /var/lib/elsewhere || sd_fail "mkdir /var/lib/elsewhere"
write_config "7000, 7001" /var/lib/elsewhere/pktclassd.prom
sd_run systemctl reload pktclassd || sd_fail "systemctl reload (metrics file elsewhere)"
sd_wait_for 20 "the refusal to write elsewhere in the journal" \
	"journalctl -u pktclassd | grep -q 'writing the metrics file /var/lib/elsewhere/pktclassd.prom: Read-only file system'"
sd_run test -e /var/lib/elsewhere/pktclassd.prom && sd_fail "the unit wrote outside its directories"
sd_run test -e "$PROM" && sd_fail "the old metrics file stays after metrics_file moved"
sd_log "ok: a metrics file outside /var/lib/prometheus/node-exporter is refused (read-only)"

# ---- stop, remove, purge -------------------------------------------------------------------
sd_run systemctl stop pktclassd || sd_fail "systemctl stop"
sd_assert_eq "$(sd_unit_prop pktclassd ActiveState)" inactive "ActiveState after stop"
sd_run test -e "$PROM" && sd_fail "the metrics file is still there after stop"
[[ -n $(find "$PIN" -mindepth 1 -print -quit 2>/dev/null) ]] && sd_fail "pins left: $(ls "$PIN")"
sd_log "ok: stopped; no metrics file, no pins"
sd_run dpkg -r pktclassd >>"$SD_TMP/dpkg.log" 2>&1 || sd_fail "dpkg -r pktclassd"
sd_run test -e /lib/systemd/system/pktclassd.service && sd_fail "the unit is left after dpkg -r"
sd_run test -f "$CONF" || sd_fail "dpkg -r removed the conffile"
sd_run dpkg -P pktclassd >>"$SD_TMP/dpkg.log" 2>&1 || sd_fail "dpkg -P pktclassd"
sd_run test -e "$CONF" && sd_fail "dpkg -P left $CONF"
sd_run test -L /etc/systemd/system/sysinit.target.wants/pktclassd.service &&
	sd_fail "dpkg -P left the sysinit.target.wants link"
sd_log "ok: dpkg -r keeps the config, dpkg -P removes it and the enablement"
echo "test-deb: ok"
