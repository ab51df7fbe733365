/* SPDX-License-Identifier: GPL-2.0-only */
/* test-config.c - the config parser: bad snippets with their exact
 * diagnostics, good ones checked field by field, the value parsers, the
 * example config, file errors and the limits. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "pktclass.h"
#include "config/config.h"



/* All diagnostics, one line each, as pc_diag_format() writes them. */
static char *diags_text(const struct pc_diags *d)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	char line[1024];

	for (size_t i = 0; i < d->n; i++) {
		pc_diag_format(d, i, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	return out;
}

/* Parse yaml as "t.yaml"; the diagnostics must be exactly expect. */
static struct pc_config *parse(const char *yaml, const char *expect, int expect_r, int line)
{
	struct pc_config *c = NULL;
	struct pc_diags d;
	char *got;
	int r;

	pc_diags_init(&d, "t.yaml");
	r = pc_config_parse("t.yaml", yaml, strlen(yaml), &c, &d);
	got = diags_text(&d);
	if (strcmp(got, expect) || r != expect_r) {
		fprintf(stderr, "test-config.c:%d: r=%d (want %d)\n--- got:\n%s--- want:\n%s---\n",
			line, r, expect_r, got, expect);
		failures++;
	}
	if (r == 0)
		CHECK(c && d.nerrors == 0);
	else
		CHECK(!c && d.nerrors > 0);
	free(got);
	pc_diags_clear(&d);
	return c;
}

#define BAD(yaml, expect) pc_config_free(parse(yaml, expect, -EINVAL, __LINE__))
#define GOOD(yaml) parse(yaml, "", 0, __LINE__)
#define V1 "version: 1\n"
#define RULE(m) V1 "rules:\n  - name: r\n    match: " m "\n"

static void test_syntax(void)
{
	BAD(V1 "rules: [\n", "t.yaml:3:1: error: YAML syntax error: did not find expected "
	    "node content (while parsing a flow node)\n");
	BAD(V1 "settings:\n  log_rate: 1\n bogus: 2\n", "t.yaml:4:2: error: YAML syntax error: "
	    "did not find expected key (while parsing a block mapping)\n");
	BAD(V1 "a: b: c\n", "t.yaml:2:5: error: YAML syntax error: mapping values are not "
	    "allowed in this context\n");
	BAD(V1 "\tsettings: {}\n", "t.yaml:2:1: error: YAML syntax error: found a tab "
	    "character that violates indentation (while scanning a plain scalar)\n");
	BAD(V1 "rules: [{ name: a, match: { tcp_flags: [syn, !ack] } }]\n",
	    "t.yaml:2:50: error: YAML syntax error: did not find expected whitespace or line "
	    "break (while scanning a tag); quote a value that starts with \"!\"\n");
	BAD(V1 "x: \xff\n", "t.yaml:2:4: error: invalid input: invalid leading UTF-8 octet\n");
	BAD(V1 "---\n" V1, "t.yaml:2:1: error: a second YAML document; only one is allowed\n");
	BAD(V1 "default: &d { action: drop }\nrules:\n  - name: a\n    set: *d\n",
	    "t.yaml:5:10: error: YAML aliases (*d) are not supported\n");
	BAD("", "t.yaml: error: empty configuration; \"version: 1\" is required\n");
	BAD("# only a comment\n",
	    "t.yaml: error: empty configuration; \"version: 1\" is required\n");
	BAD("- version: 1\n", "t.yaml:1:1: error: configuration: expected a mapping, got a list\n");
	/* found by fuzz-config: an empty collection before any other node */
	BAD("[]\n", "t.yaml:1:1: error: configuration: expected a mapping, got a list\n");
	BAD("[][R", "t.yaml:1:3: error: YAML syntax error: did not find expected <document start>\n");
	BAD("{}\n", "t.yaml:1:1: error: missing required key \"version\"\n");
}

static void test_version(void)
{
	BAD("rules: []\n", "t.yaml:1:1: error: missing required key \"version\"\n");
	BAD("version: 2\n", "t.yaml:1:10: error: version: unsupported version 2 (only 1 is "
	    "supported)\n");
	BAD("version: \"1\"\n", "t.yaml:1:10: error: version: unsupported version \"1\" (only 1 "
	    "is supported)\n");
	BAD("version: 1.0\n", "t.yaml:1:10: error: version: unsupported version 1.0 (only 1 is "
	    "supported)\n");
	BAD("version: [1]\n", "t.yaml:1:10: error: version: expected a scalar, got a list\n");
	BAD("version:\n", "t.yaml:1:9: error: version: missing value\n");
}

static void test_unknown_and_duplicate_keys(void)
{
	BAD(V1 "rule: []\n", "t.yaml:2:1: error: unknown key \"rule\" in configuration\n");
	BAD(V1 "settings: { interval: 5s }\n",
	    "t.yaml:2:13: error: unknown key \"interval\" in settings\n");
	BAD(V1 "interfaces: [{ name: eth0, hooks: ingress, mode: x }]\n",
	    "t.yaml:2:44: error: unknown key \"mode\" in interface\n");
	BAD(V1 "classes: [{ name: a, desc: x }]\n",
	    "t.yaml:2:22: error: unknown key \"desc\" in class\n");
	BAD(V1 "rules:\n  - name: a\n    actoin: drop\n",
	    "t.yaml:4:5: error: unknown key \"actoin\" in rule\n");
	BAD(RULE("{ dport: 80 }"), "t.yaml:4:14: error: unknown key \"dport\" in match\n");
	BAD(V1 "rules: [{ name: a, set: { tos: 1 } }]\n",
	    "t.yaml:2:27: error: unknown key \"tos\" in set\n");
	BAD(V1 "default: { class: x, log: true }\n",
	    "t.yaml:2:22: error: unknown key \"log\" in default\n");
	BAD(V1 "version: 1\n", "t.yaml:2:1: error: duplicate key \"version\" (first at line 1)\n");
	BAD(RULE("\n      src: 10.0.0.0/8\n      dst: 10.0.0.1\n      src: 10.0.0.2"),
	    "t.yaml:7:7: error: duplicate key \"src\" (first at line 5)\n");
	BAD(V1 "rules: [{ name: a, name: b }]\n",
	    "t.yaml:2:20: error: duplicate key \"name\" (first at line 2)\n");
	BAD(V1 "rules:\n  - name: a\n    ? [x]\n    : 1\n",
	    "t.yaml:4:7: error: rule: expected a scalar as key, got a list\n");
}

static void test_types(void)
{
	BAD(V1 "settings: [a]\n", "t.yaml:2:11: error: settings: expected a mapping, got a list\n");
	BAD(V1 "rules: { name: a }\n", "t.yaml:2:8: error: rules: expected a list, got a mapping\n");
	BAD(V1 "interfaces: eth0\n",
	    "t.yaml:2:13: error: interfaces: expected a list, got a scalar\n");
	BAD(V1 "rules: [a]\n", "t.yaml:2:9: error: rule: expected a mapping, got a scalar\n");
	BAD(RULE("any"), "t.yaml:4:12: error: match: expected a mapping, got a scalar\n");
	BAD(RULE("{ src: { a: 1 } }"),
	    "t.yaml:4:19: error: match.src: expected a scalar or a list, got a mapping\n");
	BAD(RULE("{ src: [[10.0.0.0/8]] }"),
	    "t.yaml:4:20: error: match.src: expected a scalar, got a list\n");
	BAD(RULE("{ src: }"), "t.yaml:4:19: error: match.src: missing value\n");
	BAD(RULE("{ src: [] }"), "t.yaml:4:19: error: match.src: empty list\n");
	BAD(V1 "rules: [{ name: a, log: yes }]\n",
	    "t.yaml:2:25: error: log: expected true or false, got \"yes\"\n");
	BAD(V1 "rules: [{ name: a, log: \"true\" }]\n",
	    "t.yaml:2:25: error: log: expected true or false, got the string \"true\"\n");
	BAD(V1 "settings: { keep_on_exit: 1 }\n",
	    "t.yaml:2:27: error: settings.keep_on_exit: expected true or false, got \"1\"\n");
	BAD(V1 "rules: [{ name: [a] }]\n", "t.yaml:2:17: error: name: expected a scalar, got a list\n");
	BAD(V1 "rules: [{ name: a, set: { mark: ten } }]\n",
	    "t.yaml:2:33: error: set.mark: expected a number, got \"ten\"\n");
	BAD(V1 "settings: { log_rate: -1 }\n",
	    "t.yaml:2:23: error: settings.log_rate: expected a number, got \"-1\"\n");
	BAD(RULE("{ length: [64, 128] }"),
	    "t.yaml:4:22: error: match.length: expected one value or range, got a list\n");
	BAD(RULE("{ direction: [ingress] }"),
	    "t.yaml:4:25: error: match.direction: expected a scalar, got a list\n");
	BAD(V1 "rules: [{ name: \"a\\0b\" }]\n",
	    "t.yaml:2:17: error: name: value contains a NUL character\n");
}

static void test_prefixes(void)
{
	BAD(RULE("{ src: 10.0.0.0/33 }"),
	    "t.yaml:4:19: error: match.src: invalid prefix length in \"10.0.0.0/33\" (0-32)\n");
	BAD(RULE("{ dst: \"2001:db8::/129\" }"),
	    "t.yaml:4:19: error: match.dst: invalid prefix length in \"2001:db8::/129\" (0-128)\n");
	BAD(RULE("{ src: [10.0.0.0/, 10.0.0.0/x, 10.0.0.0/-1, 10.0.0.0/0008] }"),
	    "t.yaml:4:20: error: match.src: invalid prefix length in \"10.0.0.0/\" (0-32)\n"
	    "t.yaml:4:31: error: match.src: invalid prefix length in \"10.0.0.0/x\" (0-32)\n"
	    "t.yaml:4:43: error: match.src: invalid prefix length in \"10.0.0.0/-1\" (0-32)\n"
	    "t.yaml:4:56: error: match.src: invalid prefix length in \"10.0.0.0/0008\" (0-32)\n");
	BAD(RULE("{ src: [10.0.0.256, \"2001:db8:::1\", \"fe80::1%eth0\", foo, 10.1/16, /8] }"),
	    "t.yaml:4:20: error: match.src: invalid address \"10.0.0.256\"\n"
	    "t.yaml:4:32: error: match.src: invalid address \"2001:db8:::1\"\n"
	    "t.yaml:4:48: error: match.src: invalid address \"fe80::1%eth0\"\n"
	    "t.yaml:4:64: error: match.src: invalid address \"foo\"\n"
	    "t.yaml:4:69: error: match.src: invalid address \"10.1/16\"\n"
	    "t.yaml:4:78: error: match.src: invalid address \"/8\"\n");
}

static void test_host_bits(void)
{
	struct pc_config *c = parse(RULE("{ src: 10.0.0.1/8, dst: \"2001:db8::1/32\" }"),
				    "t.yaml:4:19: warning: match.src: 10.0.0.1/8 has host bits set; "
				    "using 10.0.0.0/8\n"
				    "t.yaml:4:36: warning: match.dst: 2001:db8::1/32 has host bits "
				    "set; using 2001:db8::/32\n", 0, __LINE__);
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	CHECK(c && c->n_rules == 1);
	if (!c)
		return;
	CHECK(c->rules[0].match.src.n == 1);
	CHECK(c->rules[0].match.src.v[0].family == 4 && c->rules[0].match.src.v[0].len == 8);
	CHECK(!memcmp(c->rules[0].match.src.v[0].addr, "\x0a\0\0\0", 4));
	CHECK(c->rules[0].match.dst.v[0].family == 6 && c->rules[0].match.dst.v[0].len == 32);
	CHECK(!memcmp(c->rules[0].match.dst.v[0].addr, v6, 16));
	pc_config_free(c);
}

static void test_ranges(void)
{
	BAD(RULE("{ proto: tcp, dst_port: 7000-6000 }"),
	    "t.yaml:4:36: error: match.dst_port: inverted range \"7000-6000\"\n");
	BAD(RULE("{ vlan: 20-10 }"), "t.yaml:4:20: error: match.vlan: inverted range \"20-10\"\n");
	BAD(RULE("{ length: 1500-64 }"),
	    "t.yaml:4:22: error: match.length: inverted range \"1500-64\"\n");
	BAD(RULE("{ src_port: [80-, -80, 1-2-3, \" 80\", 0x] }"),
	    "t.yaml:4:25: error: match.src_port: invalid port \"80-\"\n"
	    "t.yaml:4:30: error: match.src_port: invalid port \"-80\"\n"
	    "t.yaml:4:35: error: match.src_port: invalid port \"1-2-3\"\n"
	    "t.yaml:4:42: error: match.src_port: invalid port \" 80\"\n"
	    "t.yaml:4:49: error: match.src_port: invalid port \"0x\"\n");
}

static void test_out_of_range(void)
{
	BAD(RULE("{ vlan: [4096, 0-5000] }"),
	    "t.yaml:4:21: error: match.vlan: VLAN id 4096 is out of range (0-4095)\n"
	    "t.yaml:4:27: error: match.vlan: VLAN id 0-5000 is out of range (0-4095)\n");
	BAD(RULE("{ dscp: 64 }"), "t.yaml:4:20: error: match.dscp: DSCP value 64 is out of range "
	    "(0-63)\n");
	BAD(RULE("{ proto: 256 }"), "t.yaml:4:21: error: match.proto: protocol 256 is out of "
	    "range (0-255)\n");
	BAD(RULE("{ dst_port: [65536, 99999999999] }"),
	    "t.yaml:4:25: error: match.dst_port: port 65536 is out of range (0-65535)\n"
	    "t.yaml:4:32: error: match.dst_port: port 99999999999 is out of range (0-65535)\n");
	BAD(RULE("{ l3: 0x10000 }"),
	    "t.yaml:4:18: error: match.l3: ethertype 0x10000 is out of range (0-65535)\n");
	BAD(RULE("{ length: 65576 }"),
	    "t.yaml:4:22: error: match.length: length 65576 is out of range (0-65575)\n");
	BAD(V1 "rules: [{ name: a, set: { mark: 0x100000000 } }]\n",
	    "t.yaml:2:33: error: set.mark: 0x100000000 is out of range (0-4294967295)\n");
	BAD(V1 "rules: [{ name: a, set: { priority: \"10000:1\" } }]\n",
	    "t.yaml:2:37: error: set.priority: \"10000:1\" is out of range (MAJ and MIN 0-ffff, "
	    "or a number 0-4294967295)\n");
	BAD(V1 "rules: [{ name: a, set: { dscp: 64 } }]\n",
	    "t.yaml:2:33: error: set.dscp: DSCP value 64 is out of range (0-63)\n");
	BAD(V1 "settings: { log_rate: 4294967296 }\n",
	    "t.yaml:2:23: error: settings.log_rate: 4294967296 is out of range (0-4294967295)\n");
}

static void test_bad_values(void)
{
	BAD(RULE("{ dscp: [ef, af44, cs8, best] }"),
	    "t.yaml:4:25: error: match.dscp: invalid DSCP value \"af44\" (cs0-cs7, af11-af43, "
	    "ef or a number)\n"
	    "t.yaml:4:31: error: match.dscp: invalid DSCP value \"cs8\" (cs0-cs7, af11-af43, "
	    "ef or a number)\n"
	    "t.yaml:4:36: error: match.dscp: invalid DSCP value \"best\" (cs0-cs7, af11-af43, "
	    "ef or a number)\n");
	BAD(RULE("{ proto: ip }"), "t.yaml:4:21: error: match.proto: invalid protocol \"ip\" (tcp, "
	    "udp, udplite, icmp, icmpv6, sctp, gre, esp, ah or a number)\n");
	BAD(RULE("{ l3: ipx }"), "t.yaml:4:18: error: match.l3: invalid ethertype \"ipx\" (ipv4, "
	    "ipv6, arp or a number)\n");
	BAD(RULE("{ direction: in }"),
	    "t.yaml:4:25: error: match.direction: expected ingress or egress, got \"in\"\n");
	BAD(RULE("{ proto: tcp, tcp_flags: [syn, \"!foo\", \"!syn\"] }"),
	    "t.yaml:4:43: error: match.tcp_flags: invalid flag \"!foo\" (syn ack fin rst psh urg "
	    "ece cwr, optionally with !)\n"
	    "t.yaml:4:51: error: match.tcp_flags: flag \"syn\" given twice\n");
	BAD(V1 "rules: [{ name: a, action: reject }]\n",
	    "t.yaml:2:28: error: action: expected pass or drop, got \"reject\"\n");
	BAD(V1 "rules: [{ name: a, set: { priority: \"1:x\" } }]\n",
	    "t.yaml:2:37: error: set.priority: invalid priority \"1:x\" (\"MAJ:MIN\" in hex, or a "
	    "number)\n");
	BAD(V1 "default: { class: \"a b\", action: redirect }\n",
	    "t.yaml:2:19: error: default.class: invalid name \"a b\" (1-63 of A-Z a-z 0-9 _ . -)\n"
	    "t.yaml:2:34: error: default.action: expected pass or drop, got \"redirect\"\n");
	BAD(V1 "settings:\n  stats_interval: 60\n",
	    "t.yaml:3:19: error: settings.stats_interval: invalid duration \"60\" (a number with "
	    "unit ms, s, m or h, or \"0\")\n");
	BAD(V1 "settings: { stats_interval: 5d }\n",
	    "t.yaml:2:29: error: settings.stats_interval: invalid duration \"5d\" (a number with "
	    "unit ms, s, m or h, or \"0\")\n");
	BAD(V1 "settings: { pin_path: sys/fs/bpf/x }\n",
	    "t.yaml:2:23: error: settings.pin_path: \"sys/fs/bpf/x\" is not an absolute path\n");
}

static void test_names(void)
{
	BAD(V1 "rules: [{ match: { proto: tcp } }]\n",
	    "t.yaml:2:9: error: rule: missing required key \"name\"\n");
	BAD(V1 "rules:\n  - name: \"has space\"\n  - name: \"\"\n  - name: "
	    "a123456789012345678901234567890123456789012345678901234567890123\n",
	    "t.yaml:3:11: error: name: invalid name \"has space\" (1-63 of A-Z a-z 0-9 _ . -)\n"
	    "t.yaml:4:11: error: name: invalid name \"\" (1-63 of A-Z a-z 0-9 _ . -)\n"
	    "t.yaml:5:11: error: name: invalid name "
	    "\"a123456789012345678901234567890123456789012345678901234567890123\" "
	    "(1-63 of A-Z a-z 0-9 _ . -)\n");
	BAD(V1 "rules:\n  - name: web\n  - name: dns\n  - name: web\n  - name: web\n",
	    "t.yaml:5:11: error: duplicate rule name \"web\" (first at line 3)\n"
	    "t.yaml:6:11: error: duplicate rule name \"web\" (first at line 3)\n");
	BAD(V1 "rules: [{ name: a, class: \"x/y\" }]\n",
	    "t.yaml:2:27: error: class: invalid name \"x/y\" (1-63 of A-Z a-z 0-9 _ . -)\n");
	BAD(V1 "classes:\n  - name: voice\n  - name: voice\n  - description: x\n",
	    "t.yaml:4:11: error: duplicate class \"voice\" (first at line 3)\n"
	    "t.yaml:5:5: error: class: missing required key \"name\"\n");
}

static void test_proto_deps(void)
{
	BAD(RULE("{ proto: icmp, dst_port: 80 }"),
	    "t.yaml:4:27: error: match.dst_port: none of the rule's protocols has ports (tcp, "
	    "udp, udplite, sctp)\n");
	BAD(RULE("{ proto: [gre, esp, 1], src_port: 1, dst_port: 2 }"),
	    "t.yaml:4:36: error: match.src_port: none of the rule's protocols has ports (tcp, "
	    "udp, udplite, sctp)\n"
	    "t.yaml:4:49: error: match.dst_port: none of the rule's protocols has ports (tcp, "
	    "udp, udplite, sctp)\n");
	BAD(RULE("{ proto: udp, tcp_flags: syn }"),
	    "t.yaml:4:26: error: match.tcp_flags: implies tcp, which the rule's proto "
	    "excludes\n");
	pc_config_free(GOOD(RULE("{ proto: [icmp, sctp], dst_port: 80 }")));
	pc_config_free(GOOD(RULE("{ proto: [udp, 6], tcp_flags: syn }")));
	pc_config_free(GOOD(RULE("{ dst_port: 80, tcp_flags: [syn] }")));
}

static void test_redirect(void)
{
	struct pc_config *c;

	BAD(V1 "rules:\n  - name: a\n    action: drop\n    redirect: eth1\n",
	    "t.yaml:5:5: error: redirect: not allowed with action: drop (line 4)\n");
	BAD(V1 "rules: [{ name: a, redirect: \"eth*\" }, { name: b, redirect: eth0123456789abc }]\n",
	    "t.yaml:2:30: error: redirect: invalid interface name \"eth*\"\n"
	    "t.yaml:2:61: error: redirect: interface name \"eth0123456789abc\" is longer than 15 "
	    "characters\n");
	c = GOOD(V1 "rules: [{ name: a, redirect: veth1, action: pass }]\n");
	if (c) {
		CHECK(c->rules[0].action == PC_ACT_REDIRECT);
		CHECK(!strcmp(c->rules[0].redirect, "veth1"));
	}
	pc_config_free(c);
}

static void test_interfaces(void)
{
	struct pc_config *c;

	BAD(V1 "interfaces:\n  - name: eth0\n    hooks: [ingress, tc]\n",
	    "t.yaml:4:22: error: hooks: unknown hook \"tc\" (ingress, egress or monitor)\n");
	BAD(V1 "interfaces:\n  - name: eth0\n    hooks: []\n",
	    "t.yaml:4:12: error: hooks: empty list\n");
	BAD(V1 "interfaces:\n  - name: eth0\n    hooks: [egress, monitor, egress]\n",
	    "t.yaml:4:30: error: hooks: \"egress\" given twice\n");
	BAD(V1 "interfaces:\n  - name: eth0\n  - hooks: ingress\n",
	    "t.yaml:3:5: error: interface: missing required key \"hooks\"\n"
	    "t.yaml:4:5: error: interface: missing required key \"name\"\n");
	BAD(V1 "interfaces:\n  - { name: eth0, hooks: ingress }\n  - { name: eth0, hooks: egress }\n",
	    "t.yaml:4:13: error: duplicate interface \"eth0\" (first at line 3)\n");
	BAD(V1 "interfaces:\n  - { name: a/b, hooks: ingress }\n"
	    "  - { name: a-very-long-name0, hooks: ingress }\n  - { name: \"\", hooks: ingress }\n",
	    "t.yaml:3:13: error: name: invalid interface name \"a/b\"\n"
	    "t.yaml:4:13: error: name: interface name \"a-very-long-name0\" is longer than 15 "
	    "characters\n"
	    "t.yaml:5:13: error: name: invalid interface name \"\"\n");
	BAD(RULE("{ iface: [eth0, \"x y\"] }"),
	    "t.yaml:4:28: error: match.iface: invalid interface name \"x y\"\n");
	c = GOOD(V1 "interfaces:\n  - { name: \"vlan1??\", hooks: [monitor] }\n"
		 "  - { name: eth0, hooks: egress }\n");
	if (c) {
		CHECK(c->n_ifaces == 2);
		CHECK(!strcmp(c->ifaces[0].name, "vlan1??"));
		CHECK(c->ifaces[0].hooks == 1u << PC_HOOK_MONITOR);
		CHECK(c->ifaces[1].hooks == 1u << PC_HOOK_EGRESS);
		CHECK(c->ifaces[1].pos.line == 4 && c->ifaces[1].pos.col == 5);
	}
	pc_config_free(c);
}

/* 33 distinct patterns among the rules; repeating one does not count. */
static void test_iface_pattern_limit(void)
{
	char *yaml = NULL, expect[256];
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);

	fprintf(f, V1 "rules:\n");
	for (unsigned i = 0; i <= PC_MAX_IFACE_PATTERNS; i++)
		fprintf(f, "  - { name: r%u, match: { iface: [eth0, \"x%u*\"] } }\n", i, i);
	fclose(f);
	snprintf(expect, sizeof(expect), "t.yaml:%u:41: error: match.iface: too many distinct "
		 "interface patterns (limit %u)\n", 3 + PC_MAX_IFACE_PATTERNS - 1,
		 PC_MAX_IFACE_PATTERNS);
	BAD(yaml, expect);
	free(yaml);
}

static void test_rule_limit(void)
{
	char *yaml = NULL, expect[256];
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);

	fprintf(f, V1 "rules:\n");
	for (unsigned i = 0; i <= PC_MAX_RULES; i++)
		fprintf(f, "- name: r%u\n", i);
	fclose(f);
	snprintf(expect, sizeof(expect), "t.yaml:%u:3: error: rules: too many rules, %u (limit "
		 "%u)\n", 3 + PC_MAX_RULES, PC_MAX_RULES + 1, PC_MAX_RULES);
	BAD(yaml, expect);
	free(yaml);
}

static void test_defaults(void)
{
	struct pc_config *c = GOOD(V1 "rules:\n  - name: web\n");

	if (!c)
		return;
	CHECK(c->settings.stats_interval_usec == 60000000);
	CHECK(!strcmp(c->settings.pin_path, "/sys/fs/bpf/pktclassd"));
	CHECK(c->settings.log_rate == 20);
	CHECK(!c->settings.keep_on_exit);
	CHECK(!strcmp(c->default_class, "default"));
	CHECK(c->default_action == PC_ACT_PASS);
	CHECK(c->n_rules == 1 && c->n_ifaces == 0 && c->n_classes == 0);
	CHECK(c->rules[0].action == PC_ACT_PASS);
	CHECK(!strcmp(c->rules[0].class_name, "web"));
	CHECK(c->rules[0].match.direction == PC_MATCH_DIR_ANY);
	CHECK(!c->rules[0].match.has_tcp_flags && c->rules[0].match.src.n == 0);
	CHECK(!c->rules[0].set_mark && !c->rules[0].set_priority && !c->rules[0].set_dscp);
	CHECK(!c->rules[0].log);
	CHECK(!strcmp(c->path, "t.yaml"));
	pc_config_free(c);

	c = GOOD(V1 "settings:\ninterfaces:\nclasses:\nrules:\ndefault:\n");
	CHECK(c && c->n_rules == 0 && c->settings.log_rate == 20);
	pc_config_free(c);
}

static void test_settings(void)
{
	struct pc_config *c = GOOD(V1 "settings:\n  stats_interval: 500ms\n  pin_path: /sys/fs/bpf/x\n"
				   "  log_rate: 0\n  keep_on_exit: true\n");

	if (c) {
		CHECK(c->settings.stats_interval_usec == 500000);
		CHECK(!strcmp(c->settings.pin_path, "/sys/fs/bpf/x"));
		CHECK(c->settings.log_rate == 0);
		CHECK(c->settings.keep_on_exit);
	}
	pc_config_free(c);
	c = GOOD(V1 "settings: { stats_interval: \"0\" }\n");
	CHECK(c && c->settings.stats_interval_usec == 0);
	pc_config_free(c);
}

static bool range_is(const struct pc_ranges *r, size_t i, uint32_t lo, uint32_t hi)
{
	return i < r->n && r->v[i].lo == lo && r->v[i].hi == hi;
}

static void check_rule_values(const struct pc_rule *r)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	CHECK(r->match.src.n == 3);
	CHECK(r->match.src.v[0].family == 4 && r->match.src.v[0].len == 8);
	CHECK(r->match.src.v[1].family == 6 && r->match.src.v[1].len == 128);
	CHECK(!memcmp(r->match.src.v[1].addr, v6, 16));
	CHECK(r->match.src.v[2].family == 4 && r->match.src.v[2].len == 32);
	CHECK(!memcmp(r->match.src.v[2].addr, "\xc0\xa8\x01\x02", 4));
	CHECK(r->match.src.v[2].pos.line == 6);
	CHECK(r->match.proto.n == 3 && range_is(&r->match.proto, 0, 6, 6));
	CHECK(range_is(&r->match.proto, 1, 136, 136) && range_is(&r->match.proto, 2, 132, 132));
	CHECK(r->match.dst_port.n == 3 && range_is(&r->match.dst_port, 0, 80, 80));
	CHECK(range_is(&r->match.dst_port, 1, 443, 443));
	CHECK(range_is(&r->match.dst_port, 2, 8000, 8099));
	CHECK(r->match.src_port.n == 1 && range_is(&r->match.src_port, 0, 1024, 65535));
	CHECK(r->match.vlan.n == 2 && range_is(&r->match.vlan, 1, 20, 30));
	CHECK(r->match.l3.n == 2 && range_is(&r->match.l3, 0, 0x86dd, 0x86dd));
	CHECK(range_is(&r->match.l3, 1, 0x88cc, 0x88cc));
	CHECK(r->match.dscp.n == 4 && range_is(&r->match.dscp, 0, 46, 46));
	CHECK(range_is(&r->match.dscp, 1, 34, 34) && range_is(&r->match.dscp, 2, 56, 56));
	CHECK(range_is(&r->match.dscp, 3, 63, 63));
	CHECK(r->match.length.n == 1 && range_is(&r->match.length, 0, 64, 1500));
	CHECK(r->match.has_tcp_flags);
	CHECK(r->match.tcp_flags_mask == (PC_TCP_SYN | PC_TCP_ACK | PC_TCP_RST));
	CHECK(r->match.tcp_flags_value == PC_TCP_SYN);
	CHECK(r->match.direction == PC_DIR_EGRESS);
	CHECK(r->match.iface.n == 2 && !strcmp(r->match.iface.v[1], "br-*"));
}

static void test_rule_values(void)
{
	struct pc_config *c = GOOD(
		V1 "rules:\n"
		"  - name: all.keys_1\n"
		"    match:\n"
		"      src: [10.0.0.0/8, \"2001:db8::1\",\n"
		"            192.168.1.2]\n"
		"      proto: [tcp, udplite, 132]\n"
		"      dst_port: [80, 443, 8000-8099]\n"
		"      src_port: 1024-65535\n"
		"      vlan: [10, 20-30]\n"
		"      l3: [ipv6, 0x88cc]\n"
		"      dscp: [ef, af41, cs7, 63]\n"
		"      length: 64-1500\n"
		"      tcp_flags:\n"
		"        - syn\n"
		"        - !ack\n"
		"        - \"!rst\"\n"
		"      direction: egress\n"
		"      iface: [eth0, br-*]\n"
		"    set: { mark: 0xffffffff, priority: \"1:10\", dscp: af11 }\n"
		"    class: voice\n"
		"    action: drop\n"
		"    log: true\n"
		"  - { name: b, set: { mark: 4294967295, priority: 0x10, dscp: 0 }, log: false }\n"
		"  - { name: c, set: { priority: \"ffff:\" }, match: { length: 40 } }\n"
		"  - { name: d, set: { priority: 7 }, match: { dst: \"::/0\" } }\n");

	if (!c)
		return;
	CHECK(c->n_rules == 4);
	check_rule_values(&c->rules[0]);
	CHECK(c->rules[0].pos.line == 3 && c->rules[0].pos.col == 5);
	CHECK(c->rules[0].set_mark && c->rules[0].mark == 0xffffffffu);
	CHECK(c->rules[0].set_priority && c->rules[0].priority == 0x10010);
	CHECK(c->rules[0].set_dscp && c->rules[0].dscp == 10);
	CHECK(!strcmp(c->rules[0].class_name, "voice"));
	CHECK(c->rules[0].action == PC_ACT_DROP && c->rules[0].log);
	CHECK(c->rules[1].mark == 0xffffffffu && c->rules[1].priority == 0x10);
	CHECK(c->rules[1].set_dscp && c->rules[1].dscp == 0 && !c->rules[1].log);
	CHECK(c->rules[2].priority == 0xffff0000u && range_is(&c->rules[2].match.length, 0, 40, 40));
	CHECK(c->rules[3].priority == 7 && c->rules[3].match.dst.v[0].len == 0);
	CHECK(c->rules[3].match.dst.v[0].family == 6);
	pc_config_free(c);
}

/* The configuration example of the specification, verbatim. */
static const char spec_example[] =
	"version: 1\n"
	"settings:\n"
	"  stats_interval: 60s\n"
	"  pin_path: /sys/fs/bpf/pktclassd\n"
	"  log_rate: 20\n"
	"  keep_on_exit: false\n"
	"interfaces:\n"
	"  - name: eth0\n"
	"    hooks: [ingress, egress]\n"
	"  - name: \"br-*\"\n"
	"    hooks: [monitor]\n"
	"classes:\n"
	"  - name: voice\n"
	"    description: SIP signalling and RTP media\n"
	"rules:\n"
	"  - name: drop-bogons\n"
	"    match:\n"
	"      direction: ingress\n"
	"      src: [0.0.0.0/8, 169.254.0.0/16, \"fe80::/10\"]\n"
	"    action: drop\n"
	"  - name: sip\n"
	"    match: { proto: udp, dst_port: [5060, 5061] }\n"
	"    class: voice\n"
	"    set: { priority: \"1:10\", dscp: ef }\n"
	"  - name: web\n"
	"    match: { proto: tcp, dst_port: [80, 443, 8000-8099] }\n"
	"    class: web\n"
	"    set: { mark: 0x20 }\n"
	"    log: true\n"
	"default:\n"
	"  class: other\n"
	"  action: pass\n";

static void test_spec_example(void)
{
	struct pc_config *c = GOOD(spec_example);
	const struct pc_rule *r;

	if (!c)
		return;
	CHECK(c->settings.stats_interval_usec == 60000000 && c->settings.log_rate == 20);
	CHECK(c->n_ifaces == 2 && c->ifaces[0].hooks == 3 && !strcmp(c->ifaces[1].name, "br-*"));
	CHECK(c->n_classes == 1 && !strcmp(c->classes[0].name, "voice"));
	CHECK(!strcmp(c->classes[0].description, "SIP signalling and RTP media"));
	CHECK(c->n_rules == 3);
	r = &c->rules[0];
	CHECK(!strcmp(r->name, "drop-bogons") && r->action == PC_ACT_DROP);
	CHECK(r->match.direction == PC_DIR_INGRESS && r->match.src.n == 3);
	CHECK(r->match.src.v[2].family == 6 && r->match.src.v[2].len == 10);
	CHECK(r->match.src.v[2].addr[0] == 0xfe && r->match.src.v[2].addr[1] == 0x80);
	CHECK(!strcmp(r->class_name, "drop-bogons"));
	r = &c->rules[1];
	CHECK(range_is(&r->match.proto, 0, 17, 17) && r->match.dst_port.n == 2);
	CHECK(r->priority == 0x10010 && r->dscp == 46 && !strcmp(r->class_name, "voice"));
	r = &c->rules[2];
	CHECK(r->mark == 0x20 && r->log && r->match.dst_port.n == 3);
	CHECK(!strcmp(c->default_class, "other") && c->default_action == PC_ACT_PASS);
	pc_config_free(c);
}

static void test_value_parsers(void)
{
	struct pc_prefix p;
	uint64_t us;
	uint32_t v;
	char pb[16];

	CHECK(pc_parse_prefix("10.1.2.3/16", &p) == 0 && p.len == 16);
	CHECK(!memcmp(p.addr, "\x0a\x01\0\0", 4));
	CHECK(pc_parse_prefix("::1", &p) == 0 && p.family == 6 && p.len == 128 && p.addr[15] == 1);
	CHECK(pc_parse_prefix("1.2.3.4", &p) == 0 && p.family == 4 && p.len == 32);
	CHECK(pc_parse_prefix("1.2.3.4/33", &p) == -EINVAL);
	CHECK(pc_parse_prefix("1.2.3", &p) == -EINVAL);
	CHECK(pc_parse_prefix("", &p) == -EINVAL);
	CHECK(pc_parse_proto("udp", &v) == 0 && v == 17);
	CHECK(pc_parse_proto("icmpv6", &v) == 0 && v == 58);
	CHECK(pc_parse_proto("udplite", &v) == 0 && v == 136);
	CHECK(pc_parse_proto("0x2f", &v) == 0 && v == 47);
	CHECK(pc_parse_proto("255", &v) == 0 && v == 255);
	CHECK(pc_parse_proto("256", &v) == -EINVAL);
	CHECK(pc_parse_proto("tcpx", &v) == -EINVAL);
	CHECK(!strcmp(pc_proto_name(136, pb, sizeof(pb)), "udplite"));
	CHECK(!strcmp(pc_proto_name(200, pb, sizeof(pb)), "200") && pc_proto_name(200, pb, 4) == pb);
	CHECK(pc_parse_duration_usec("0", &us) == 0 && us == 0);
	CHECK(pc_parse_duration_usec("0s", &us) == 0 && us == 0);
	CHECK(pc_parse_duration_usec("250ms", &us) == 0 && us == 250000);
	CHECK(pc_parse_duration_usec("5m", &us) == 0 && us == 300000000);
	CHECK(pc_parse_duration_usec("2h", &us) == 0 && us == 7200000000ull);
	CHECK(pc_parse_duration_usec("60", &us) == -EINVAL);
	CHECK(pc_parse_duration_usec("s", &us) == -EINVAL);
	CHECK(pc_parse_duration_usec("-1s", &us) == -EINVAL);
	CHECK(pc_parse_duration_usec("1.5s", &us) == -EINVAL);
	CHECK(pc_parse_duration_usec("99999999999999999999h", &us) == -EINVAL);
	CHECK(pc_parse_duration_usec("9999999999999h", &us) == -EINVAL);
}

static void test_diags(void)
{
	struct pc_diags d;
	char buf[128];

	pc_diags_init(&d, "f.yaml");
	pc_diags_add(&d, PC_SEV_ERROR, (struct pc_pos){ .line = 3, .col = 1 }, "c%d", 1);
	pc_diags_add(&d, PC_SEV_WARNING, (struct pc_pos){ .line = 1, .col = 5 }, "a");
	pc_diags_add(&d, PC_SEV_ERROR, (struct pc_pos){ .line = 3, .col = 1 }, "c2");
	pc_diags_add(&d, PC_SEV_ERROR, (struct pc_pos){}, "top");
	pc_diags_sort(&d);
	CHECK(d.n == 4 && d.nerrors == 3 && d.nwarnings == 1);
	CHECK(pc_diag_format(&d, 0, buf, sizeof(buf)) > 0 && !strcmp(buf, "f.yaml: error: top"));
	pc_diag_format(&d, 1, buf, sizeof(buf));
	CHECK(!strcmp(buf, "f.yaml:1:5: warning: a"));
	pc_diag_format(&d, 2, buf, sizeof(buf));
	CHECK(!strcmp(buf, "f.yaml:3:1: error: c1"));
	pc_diag_format(&d, 3, buf, sizeof(buf));
	CHECK(!strcmp(buf, "f.yaml:3:1: error: c2"));
	CHECK(pc_diag_format(&d, 4, buf, sizeof(buf)) == -EINVAL);
	pc_diags_clear(&d);
	CHECK(d.n == 0 && d.v == NULL && d.file == NULL);
}

/* Nesting: an error at the first collection past the limit, whatever
 * the depth behind it (100,000 levels took 33 s in libyaml's scanner). */
static void test_depth(void)
{
	size_t n = 100000, len = 0;
	char *yaml = malloc(2 * n + 64), buf[256];
	struct pc_config *c = NULL;
	struct pc_diags d;
	int r;

	len += (size_t)sprintf(yaml, V1 "x: ");
	memset(yaml + len, '[', n);
	memset(yaml + len + n, ']', n);
	len += 2 * n;
	yaml[len++] = '\n';
	pc_diags_init(&d, "deep.yaml");
	r = pc_config_parse("deep.yaml", yaml, len, &c, &d);
	CHECK(r == -EINVAL && !c && d.n == 1);
	pc_diag_format(&d, 0, buf, sizeof(buf));
	/* "x: " is 3 columns: the 64th '[' is the 64th collection (the root
	 * mapping is the first), so the 64th bracket, column 67, is too deep */
	CHECK(!strcmp(buf, "deep.yaml:2:67: error: nested deeper than 64 levels"));
	pc_diags_clear(&d);

	/* block style, mappings: the same limit */
	len = (size_t)sprintf(yaml, V1 "x:\n");
	for (unsigned i = 1; i < 70; i++)
		len += (size_t)sprintf(yaml + len, "%*sa:\n", (int)i, "");
	pc_diags_init(&d, "deep.yaml");
	r = pc_config_parse("deep.yaml", yaml, len, &c, &d);
	CHECK(r == -EINVAL && !c && d.nerrors == 1 && strstr(d.v[0].msg, "nested deeper than 64"));
	pc_diags_clear(&d);
	/* 63 levels are parsed (and x is then an unknown key) */
	len = (size_t)sprintf(yaml, V1 "x: ");
	memset(yaml + len, '[', 62);
	memset(yaml + len + 62, ']', 62);
	len += 124;
	yaml[len++] = '\n';
	yaml[len] = 0;
	BAD(yaml, "t.yaml:2:1: error: unknown key \"x\" in configuration\n");
	pc_config_free(GOOD(RULE("{ src: [10.0.0.0/8] }")));
	free(yaml);
}

/* 100,000 errors: all counted, 10,000 kept, 100 printed and a line for
 * the rest. */
static void test_many_errors(void)
{
	size_t n = 100000, len = 0, lines = 0;
	char *yaml = malloc(n * 40 + 64), *out = NULL, more[128];
	struct pc_config *c = NULL;
	struct pc_diags d;
	size_t outlen = 0;
	FILE *f;
	int r;

	len += (size_t)sprintf(yaml, V1 "rules:\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(yaml + len, "  - {name: r%zu, bogus: 1}\n", i);
	pc_diags_init(&d, "many.yaml");
	r = pc_config_parse("many.yaml", yaml, len, &c, &d);
	CHECK(r == -EINVAL && d.nerrors == n && d.n == PC_DIAGS_KEEP);
	f = open_memstream(&out, &outlen);
	pc_diags_print(&d, f);
	fclose(f);
	for (char *p = out; p && *p; p++)
		lines += *p == '\n';
	CHECK(lines == PC_DIAGS_PRINT_MAX + 1);
	CHECK(strstr(out, "many.yaml:3:16: error: unknown key \"bogus\" in rule\n") == out);
	snprintf(more, sizeof(more), "\nmany.yaml: %zu more errors not shown\n",
		 n - PC_DIAGS_PRINT_MAX);
	CHECK(strstr(out, more) && strlen(strstr(out, more)) == strlen(more));
	free(out);
	pc_diags_clear(&d);
	free(yaml);

	/* errors first: 150 warnings and 3 errors show the 3 errors and 97
	 * warnings */
	pc_diags_init(&d, "w.yaml");
	for (unsigned i = 0; i < 150; i++)
		pc_diags_add(&d, PC_SEV_WARNING, (struct pc_pos){ .line = i + 1, .col = 1 }, "w%u", i);
	for (unsigned i = 0; i < 3; i++)
		pc_diags_add(&d, PC_SEV_ERROR, (struct pc_pos){ .line = 200 + i, .col = 1 }, "e%u", i);
	CHECK(pc_diags_format_more(&d, more, sizeof(more)) > 0);
	CHECK(!strcmp(more, "w.yaml: 53 more warnings not shown"));
	out = NULL;
	f = open_memstream(&out, &outlen);
	pc_diags_print(&d, f);
	fclose(f);
	CHECK(strstr(out, "w.yaml:96:1: warning: w95\n") && !strstr(out, "w.yaml:98:1:") &&
	      strstr(out, "w.yaml:202:1: error: e2\n"));
	free(out);
	pc_diags_clear(&d);
}

/* A scalar with a newline cannot forge a line of check's output. */
static void test_diag_escape(void)
{
	struct pc_config *c = NULL;
	struct pc_diags d;
	const char *yaml = V1 "interfaces:\n  - name: \"a\\nt.yaml:9:9: error: forged\"\n"
			   "    hooks: [ingress]\n";
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	pc_diags_init(&d, "t.yaml");
	CHECK(pc_config_parse("t.yaml", yaml, strlen(yaml), &c, &d) == -EINVAL);
	CHECK(d.n == 1 && strchr(d.v[0].msg, '\n')); /* the message keeps it (JSON escapes) */
	f = open_memstream(&out, &outlen);
	pc_diags_print(&d, f);
	fclose(f);
	CHECK(!strcmp(out, "t.yaml:3:11: error: name: invalid interface name "
		      "\"a\\nt.yaml:9:9: error: forged\"\n"));
	free(out);
	pc_diags_clear(&d);
}

static void test_load(void)
{
	struct pc_config *c = NULL;
	struct pc_diags d;
	char path[] = "/tmp/test-config-XXXXXX", buf[256];
	int fd, r;

	pc_diags_init(&d, "/nonexistent/pktclassd.yaml");
	r = pc_config_load("/nonexistent/pktclassd.yaml", &c, &d);
	CHECK(r == -ENOENT && !c && d.n == 1);
	pc_diag_format(&d, 0, buf, sizeof(buf));
	CHECK(!strcmp(buf, "/nonexistent/pktclassd.yaml: error: cannot read: No such file or "
		      "directory"));
	pc_diags_clear(&d);

	fd = mkstemp(path);
	CHECK(fd >= 0 && ftruncate(fd, (64 << 20) + 1) == 0);
	close(fd);
	pc_diags_init(&d, path);
	r = pc_config_load(path, &c, &d);
	CHECK(r == -EFBIG && !c && d.n == 1 && strstr(d.v[0].msg, "cannot read: File too large"));
	pc_diags_clear(&d);
	unlink(path);

	pc_diags_init(&d, "conf/examples/every-key.yaml");
	r = pc_config_load("conf/examples/every-key.yaml", &c, &d);
	pc_diags_print(&d, stderr);
	CHECK(r == 0 && c && d.n == 0);
	CHECK(c && c->n_rules >= 5 && c->n_ifaces >= 2 && c->n_classes >= 1);
	pc_config_free(c);
	pc_diags_clear(&d);
}

int main(void)
{
	test_syntax();
	test_version();
	test_unknown_and_duplicate_keys();
	test_types();
	test_prefixes();
	test_host_bits();
	test_ranges();
	test_out_of_range();
	test_bad_values();
	test_names();
	test_proto_deps();
	test_redirect();
	test_interfaces();
	test_iface_pattern_limit();
	test_rule_limit();
	test_defaults();
	test_settings();
	test_rule_values();
	test_spec_example();
	test_value_parsers();
	test_diags();
	test_depth();
	test_many_errors();
	test_diag_escape();
	test_load();
	if (failures) {
		fprintf(stderr, "%u check(s) failed\n", failures);
		return 1;
	}
	printf("all config checks passed\n");
	return 0;
}
