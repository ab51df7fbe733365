#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# test-metrics.sh - issue 20: the counters in Prometheus.  `pktclassctl stats
# --openmetrics` and settings.metrics_file have every metric of the spec
# with the exact counts, `promtool check metrics` accepts both, the file is
# replaced atomically every stats_interval (mode 0644), reloads (ok and
# failed) are counted, counters carry on across a reload, reload counts
# across a restart; pktclass_set_elements has one sample per set and family
# (ipv4, ipv6, port) that follows `pktclassctl set add` at once in `stats
# --openmetrics` and in the file by the next interval, and a dynamic set's
# run-time elements after a restart; then the real
# programs of Debian's packages, started here on 127.0.0.1 with random free
# ports and their own data directory and stopped here: the node exporter's
# textfile collector reads the file and Prometheus scrapes the exporter,
# and a PromQL query through Prometheus' HTTP API returns the exact count.
#
#   ns src: s0 --veth-- m0 :ns mid (pktclassd, ingress on m0)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

pc_init metrics
pc_require_daemon
pc_require_cmd promtool prometheus prometheus-node-exporter

pc_topology none
TEXTFILE=$PC_TMP/textfile
mkdir -p "$TEXTFILE"
METRICS=$TEXTFILE/pktclassd.prom

write_config() {  # EXTRA_RULE_PORT: a second voice port (a changed rule)
	pc_config_write <<YAML
version: 1
settings:
  pin_path: @PIN@
  stats_interval: 1s
  metrics_file: $METRICS
interfaces:
  - { name: m0, hooks: [ingress] }
sets:
  bl: { type: prefix, dynamic: true, elements: [192.0.2.0/24, 198.51.100.1, 203.0.113.0/25, "2001:db8:bad::/48"] }
  web: { type: port, elements: [80, 8000-8099] }
  empty: { type: prefix }
rules:
  - name: blocked
    match: { src: "@bl", dst_port: "@web", dst: "@empty" }
    action: drop
  - name: sip
    match: { proto: udp, dst_port: [5060, $1] }
    class: voice
  - name: http
    match: { proto: tcp, dst_port: 80 }
    class: web
default: { class: other }
YAML
}
write_config 5061

send() { pc_send "$SRC" -i s0 --dst-mac "$M0_MAC" --src 10.1.0.10 --dst 10.1.0.1 "$@"; }

# metric TEXT SERIES: the value of the sample SERIES (name and labels as
# written) in TEXT, or "none".
metric() {
	awk -v s="$2" 'index($0, s " ") == 1 { print $2; found = 1 } END { if (!found) print "none" }' <<<"$1"
}

# wait_metric SERIES VALUE: until the metrics file says so (10 s at most).
wait_metric() {
	local v
	for _ in $(seq 100); do
		v=$(metric "$(cat "$METRICS" 2>/dev/null)" "$1")
		[[ $v == "$2" ]] && return 0
		sleep 0.1
	done
	fail "metrics file: $1 is $v, expected $2: $(cat "$METRICS" 2>&1)"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pc_notify_start
pc_start_daemon "$MID"

# 1. Counted traffic, through pktclassctl stats --openmetrics. --------------
send --proto udp --dport 5060 --count 37
send --proto udp --dport 5061 --count 5
send --proto tcp --dport 80 --tcp-flags syn --count 11
send --proto udp --dport 9999 --count 3

OM=$(pc_ctl_pins stats --openmetrics --rules) || fail "pktclassctl stats --openmetrics failed"
pc_log "openmetrics: $(wc -l <<<"$OM") lines"
promtool check metrics <<<"$OM" >"$PC_TMP/promtool.out" 2>&1 ||
	fail "promtool check metrics rejects stats --openmetrics: $(cat "$PC_TMP/promtool.out")"
pc_log "ok: promtool check metrics accepts stats --openmetrics --rules"
assert_eq "$(tail -n 1 <<<"$OM")" "# EOF" "the last line"
L='iface="m0",hook="ingress"'
assert_eq "$(metric "$OM" "pktclass_class_packets_total{class=\"voice\",$L}")" 42 "voice packets"
assert_eq "$(metric "$OM" "pktclass_class_packets_total{class=\"web\",$L}")" 11 "web packets"
assert_eq "$(metric "$OM" "pktclass_class_packets_total{class=\"other\",$L}")" 3 "other packets"
assert_eq "$(metric "$OM" "pktclass_rule_packets_total{rule=\"sip\",class=\"voice\",$L}")" 42 \
	"rule sip packets"
assert_eq "$(metric "$OM" "pktclass_rule_packets_total{rule=\"(default)\",class=\"other\",$L}")" 3 \
	"rule (default) packets"
assert_eq "$(metric "$OM" "pktclass_malformed_packets_total{$L}")" 0 "malformed packets"
assert_eq "$(metric "$OM" "pktclass_generation")" 1 "generation"
assert_eq "$(metric "$OM" "pktclass_rules")" 3 "rules"
assert_eq "$(metric "$OM" 'pktclass_reloads_total{result="ok"}')" 0 "reloads ok"
assert_eq "$(metric "$OM" 'pktclass_reloads_total{result="failed"}')" 0 "reloads failed"
assert_eq "$(metric "$OM" "pktclass_log_suppressed_total")" 0 "log suppressed"
# one sample per set and family: both families of a prefix set (0 for none), port for a port set
S='pktclass_set_elements{set='
assert_eq "$(metric "$OM" "$S\"bl\",family=\"ipv4\"}")" 3 "bl IPv4 elements"
assert_eq "$(metric "$OM" "$S\"bl\",family=\"ipv6\"}")" 1 "bl IPv6 elements"
assert_eq "$(metric "$OM" "$S\"web\",family=\"port\"}")" 2 "web elements"
assert_eq "$(metric "$OM" "$S\"empty\",family=\"ipv4\"}")" 0 "empty IPv4 elements"
assert_eq "$(metric "$OM" "$S\"empty\",family=\"ipv6\"}")" 0 "empty IPv6 elements"
assert_eq "$(grep -c "^pktclass_set_elements{" <<<"$OM")" 5 "set samples"
BYTES=$(metric "$OM" "pktclass_class_bytes_total{class=\"web\",$L}")
assert_ge "$BYTES" $((11 * 54)) "web bytes"
LOADED=$(metric "$OM" "pktclass_last_reload_timestamp_seconds")
NOW=$(date +%s)
((${LOADED%.*} > NOW - 120 && ${LOADED%.*} <= NOW)) || fail "last reload timestamp $LOADED, now $NOW"
for fam in pktclass_class_packets_total:counter pktclass_class_bytes_total:counter \
	pktclass_rule_packets_total:counter pktclass_rule_bytes_total:counter \
	pktclass_malformed_packets_total:counter pktclass_generation:gauge pktclass_rules:gauge \
	pktclass_set_elements:gauge pktclass_reloads_total:counter \
	pktclass_last_reload_timestamp_seconds:gauge pktclass_log_suppressed_total:counter \
	pktclass_would_drop_packets_total:counter pktclass_would_drop_bytes_total:counter; do
	grep -qx "# TYPE ${fam%:*} ${fam#*:}" <<<"$OM" || fail "no '# TYPE ${fam%:*} ${fam#*:}'"
	grep -q "^# HELP ${fam%:*} ." <<<"$OM" || fail "no '# HELP ${fam%:*}'"
done
# without --rules: no rule families
OM_CLASSES=$(pc_ctl_pins stats --openmetrics) || fail "stats --openmetrics failed"
grep -q '^pktclass_rule_' <<<"$OM_CLASSES" && fail "rule samples without --rules"
promtool check metrics <<<"$OM_CLASSES" >/dev/null 2>&1 || fail "promtool: stats --openmetrics"
pc_ctl_pins stats --openmetrics --json >/dev/null 2>&1 && fail "--openmetrics --json accepted"

# 2. The metrics file: every stats_interval, atomically, 0644. -----------
wait_metric "pktclass_class_packets_total{class=\"voice\",$L}" 42
assert_eq "$(stat -c %a "$METRICS")" 644 "metrics file mode"
promtool check metrics <"$METRICS" >"$PC_TMP/promtool.out" 2>&1 ||
	fail "promtool check metrics rejects the metrics file: $(cat "$PC_TMP/promtool.out")"
grep -q '^pktclass_rule_packets_total{rule="sip"' "$METRICS" || fail "the metrics file has no rules"
INODE=$(stat -c %i "$METRICS")
send --proto udp --dport 5060 --count 8
wait_metric "pktclass_class_packets_total{class=\"voice\",$L}" 50
[[ $(stat -c %i "$METRICS") != "$INODE" ]] || fail "the metrics file was written in place"
[[ -z $(find "$TEXTFILE" -name '.*') ]] || fail "temporary files left: $(ls -a "$TEXTFILE")"
pc_log "ok: metrics file replaced, not rewritten"

# A set change: in stats --openmetrics at once, in the file by the next interval.
wait_metric "$S\"bl\",family=\"ipv4\"}" 3
pc_ctl_pins set add bl 192.0.2.77 10.9.0.0/16 "2001:db8:1::/64" >/dev/null || fail "set add"
OM=$(pc_ctl_pins stats --openmetrics) || fail "stats --openmetrics after set add"
assert_eq "$(metric "$OM" "$S\"bl\",family=\"ipv4\"}")" 5 "bl IPv4 elements after set add"
assert_eq "$(metric "$OM" "$S\"bl\",family=\"ipv6\"}")" 2 "bl IPv6 elements after set add"
wait_metric "$S\"bl\",family=\"ipv4\"}" 5
wait_metric "$S\"bl\",family=\"ipv6\"}" 2
promtool check metrics <"$METRICS" >/dev/null 2>&1 || fail "promtool: the metrics file with sets"
pc_log "ok: pktclass_set_elements follows set add"

# 3. Reloads: a changed rule keeps its counters; a broken config is counted.
write_config 5062
pc_reload
wait_metric 'pktclass_reloads_total{result="ok"}' 1
wait_metric "pktclass_generation" 2
wait_metric "pktclass_class_packets_total{class=\"voice\",$L}" 50
echo "rules: [" >>"$PC_CFG"
pc_reload
wait_metric 'pktclass_reloads_total{result="failed"}' 1
wait_metric "pktclass_generation" 2
write_config 5062
send --proto udp --dport 5062 --count 4
wait_metric "pktclass_class_packets_total{class=\"voice\",$L}" 54

# 4. The node exporter and Prometheus, both from Debian's packages. -------
NE_PORT=$(free_port)
PROM_PORT=$(free_port)
prometheus-node-exporter --web.listen-address="127.0.0.1:$NE_PORT" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$TEXTFILE" >"$PC_TMP/node-exporter.log" 2>&1 &
PC_PIDS+=($!)
cat >"$PC_TMP/prometheus.yml" <<EOF
global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: node
    static_configs: [ { targets: ["127.0.0.1:$NE_PORT"] } ]
EOF
prometheus --config.file="$PC_TMP/prometheus.yml" --storage.tsdb.path="$PC_TMP/prometheus-data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$PC_TMP/prometheus.log" 2>&1 &
PC_PIDS+=($!)

# query PROMQL: the values of the result vector, one a line.
query() {
	python3 - "$PROM_PORT" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(sys.argv[2]))
try:
    d = json.load(urllib.request.urlopen(url, timeout=5))
except Exception:
    sys.exit(1)
for r in d["data"]["result"]:
    print(r["value"][1])
EOF
}

# wait_query PROMQL VALUE: until Prometheus answers exactly VALUE (60 s).
wait_query() {
	local v=""
	for _ in $(seq 120); do
		v=$(query "$1") && [[ $v == "$2" ]] && return 0
		sleep 0.5
	done
	pc_log "node exporter: $(tail -n 5 "$PC_TMP/node-exporter.log")"
	pc_log "prometheus: $(tail -n 5 "$PC_TMP/prometheus.log")"
	fail "Prometheus: $1 is [$v], expected $2"
}

wait_query 'pktclass_class_packets_total{class="voice"}' 54
pc_log "ok: Prometheus has pktclass_class_packets_total{class=\"voice\"} 54"
wait_query 'pktclass_class_packets_total{class="web",iface="m0",hook="ingress"}' 11
wait_query 'pktclass_reloads_total{result="failed"}' 1
# the exporter parsed every family of the file without complaint
wait_query 'node_textfile_scrape_error' 0
send --proto udp --dport 5060 --count 6
wait_query 'pktclass_class_packets_total{class="voice"}' 60
wait_query 'pktclass_rule_packets_total{rule="sip"}' 60
wait_query 'sum by (set) (pktclass_set_elements{set="bl"})' 7

# 5. Stop: the metrics file goes (its counts would go stale). --------------
pc_stop_daemon
[[ -e $METRICS ]] && fail "the metrics file is still there after the daemon stopped"
pc_log "ok: metrics file removed at stop"

# 6. A new start carries the reload counts on (the stats file in the
# runtime directory); the packet counters are what `pktclassctl stats` has.
pc_start_daemon "$MID"
wait_metric 'pktclass_reloads_total{result="ok"}' 1
wait_metric 'pktclass_reloads_total{result="failed"}' 1
# the dynamic set's run-time elements are back with it
wait_metric "$S\"bl\",family=\"ipv4\"}" 5
wait_metric "$S\"bl\",family=\"ipv6\"}" 2
STATS=$(pc_ctl_pins stats --json) || fail "stats after the restart"
wait_metric "pktclass_class_packets_total{class=\"voice\",$L}" "$(json_get 'classes.name=voice.packets' <<<"$STATS")"
pc_stop_daemon
echo "test-metrics: ok"
