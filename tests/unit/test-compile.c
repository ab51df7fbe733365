/* SPDX-License-Identifier: GPL-2.0-only */
/* test-compile: rules -> boxes and outcomes, checked through the reference
 * classifier with hand-made keys (the semantics of pktclassd.yaml(5)). */
#include "testlib.h"

static void pfx(struct pc_prefixes *p, const char *s)
{
	char buf[64], *slash;
	uint8_t a[16] = { 0 };
	int family;
	unsigned len;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	family = strchr(buf, ':') ? 6 : 4;
	assert(inet_pton(family == 4 ? AF_INET : AF_INET6, buf, a) == 1);
	len = slash ? (unsigned)atoi(slash) : family == 4 ? 32 : 128;
	prefixes_add(p, family, a, len);
}

static void one(struct pc_ranges *r, uint32_t v)
{
	ranges_add(r, v, v);
}

/* An IPv4 TCP packet, ingress, untagged, no interface bits. */
static struct pc_key k4(const char *src, const char *dst, uint32_t proto, uint32_t sport,
			uint32_t dport)
{
	struct pc_key k = { 0 };
	struct in_addr a;

	assert(inet_pton(AF_INET, src, &a) == 1);
	k.w[PC_W_SRC0] = ntohl(a.s_addr);
	assert(inet_pton(AF_INET, dst, &a) == 1);
	k.w[PC_W_DST0] = ntohl(a.s_addr);
	k.w[PC_W_PROTO] = proto;
	k.w[PC_W_SPORT] = sport;
	k.w[PC_W_DPORT] = dport;
	k.w[PC_W_L3] = 0x0800;
	k.w[PC_W_VLAN] = PC_VLAN_NONE;
	k.w[PC_W_DSCP] = 0;
	k.w[PC_W_LEN] = 100;
	k.w[PC_W_TCPFLAGS] = proto == 6 ? PC_TCP_ACK : PC_TCPFL_NONE;
	k.w[PC_W_DIR] = PC_DIR_INGRESS;
	k.w[PC_W_IFBITS] = PC_IFBITS_ALWAYS;
	return k;
}

static struct pc_key k6(const char *src, const char *dst, uint32_t proto, uint32_t dport)
{
	struct pc_key k = k4("0.0.0.0", "0.0.0.0", proto, 40000, dport);
	uint8_t a[16];

	assert(inet_pton(AF_INET6, src, a) == 1);
	for (unsigned i = 0; i < 4; i++)
		k.w[PC_W_SRC0 + i] = (uint32_t)a[4 * i] << 24 | (uint32_t)a[4 * i + 1] << 16 |
				     (uint32_t)a[4 * i + 2] << 8 | a[4 * i + 3];
	assert(inet_pton(AF_INET6, dst, a) == 1);
	for (unsigned i = 0; i < 4; i++)
		k.w[PC_W_DST0 + i] = (uint32_t)a[4 * i] << 24 | (uint32_t)a[4 * i + 1] << 16 |
				     (uint32_t)a[4 * i + 2] << 8 | a[4 * i + 3];
	k.w[PC_W_L3] = 0x86dd;
	return k;
}

/* A non-IP (ARP) frame: every IP word at its sentinel. */
static struct pc_key karp(void)
{
	struct pc_key k = k4("0.0.0.0", "0.0.0.0", PC_PROTO_NONE, PC_PORT_NONE, PC_PORT_NONE);

	k.w[PC_W_L3] = 0x0806;
	k.w[PC_W_DSCP] = PC_DSCP_NONE;
	k.w[PC_W_LEN] = PC_LEN_NONE;
	return k;
}

struct result {
	struct pc_ruleset *rs;
	struct pc_diags d;
	int r;
};

static struct result compile(struct pc_config *c)
{
	struct result res = { 0 };

	pc_diags_init(&res.d, "test.yaml");
	res.r = pc_compile(c, &res.rs, &res.d);
	return res;
}

static void result_done(struct result *res, struct pc_config *c)
{
	pc_ruleset_free(res->rs);
	pc_diags_clear(&res->d);
	config_free(c);
}

/* Expect rule `want` (nrules = default) for k. */
#define EXPECT(rs, k, want) do {						\
		struct pc_key _k = (k);						\
		uint32_t _got = pc_ref_classify((rs), &_k);			\
		CHECK(_got == (uint32_t)(want), "classified as %u, want %u", _got, (uint32_t)(want)); \
	} while (0)

static void test_empty_match(void)
{
	struct pc_config *c = config_new(1);
	struct result res = compile(c);

	CHECK(res.r == 0 && res.rs->nboxes == 1 && res.rs->boxes[0].nchecks == 0,
	      "a rule without match: one box without checks");
	EXPECT(res.rs, k4("1.2.3.4", "5.6.7.8", 6, 1, 2), 0);
	EXPECT(res.rs, karp(), 0);
	result_done(&res, c);
}

static void test_prefix_v4(void)
{
	struct pc_config *c = config_new(3);
	struct result res;

	pfx(&c->rules[0].match.src, "10.0.0.0/8");
	pfx(&c->rules[1].match.dst, "192.168.1.7");
	pfx(&c->rules[2].match.src, "0.0.0.0/0");
	res = compile(c);
	CHECK(res.r == 0 && res.rs->nboxes == 3, "three boxes");
	/* addresses first, then l3 */
	CHECK(res.rs->boxes[0].nchecks == 2 && res.rs->boxes[0].c[0].word == PC_W_SRC0 &&
	      res.rs->boxes[0].c[0].a == 0x0a000000 && res.rs->boxes[0].c[0].b == 0x0affffff &&
	      res.rs->boxes[0].c[1].word == PC_W_L3 && res.rs->boxes[0].c[1].a == 0x0800,
	      "10/8: SRC0 range then l3");
	CHECK(res.rs->boxes[2].nchecks == 1 && res.rs->boxes[2].c[0].word == PC_W_L3,
	      "0/0: l3 only");
	EXPECT(res.rs, k4("10.255.1.1", "1.1.1.1", 17, 1, 1), 0);
	EXPECT(res.rs, k4("11.0.0.0", "192.168.1.7", 17, 1, 1), 1);
	EXPECT(res.rs, k4("11.0.0.0", "192.168.1.8", 17, 1, 1), 2);
	EXPECT(res.rs, karp(), 3);
	/* an IPv6 packet whose first word looks like 10/8 */
	{
		struct pc_key k = k6("a00::1", "::1", 6, 80);

		EXPECT(res.rs, k, 3);
	}
	CHECK(strcmp(res.rs->rule_name[3], "(default)") == 0, "default name");
	result_done(&res, c);
}

static void test_prefix_v6(void)
{
	struct pc_config *c = config_new(4);
	struct result res;

	pfx(&c->rules[0].match.src, "2001:db8:1::/48");
	pfx(&c->rules[1].match.src, "2001:db8::/32");
	pfx(&c->rules[2].match.dst, "2001:db8::1");
	pfx(&c->rules[3].match.src, "::/0");
	res = compile(c);
	CHECK(res.r == 0 && res.rs->nboxes == 4, "four boxes");
	/* /48: SRC0 exact, SRC1 range over its top 16 bits, SRC2/3 unchecked */
	CHECK(res.rs->boxes[0].nchecks == 3, "/48 has %u checks", res.rs->boxes[0].nchecks);
	CHECK(res.rs->boxes[0].c[0].word == PC_W_SRC0 && res.rs->boxes[0].c[0].a == 0x20010db8 &&
	      res.rs->boxes[0].c[0].b == 0x20010db8, "/48 word 0 exact");
	CHECK(res.rs->boxes[0].c[1].word == PC_W_SRC1 && res.rs->boxes[0].c[1].a == 0x00010000 &&
	      res.rs->boxes[0].c[1].b == 0x0001ffff, "/48 word 1 range");
	CHECK(res.rs->boxes[2].nchecks == 5, "/128: four words and l3");
	EXPECT(res.rs, k6("2001:db8:1:ffff::9", "::1", 6, 80), 0);
	EXPECT(res.rs, k6("2001:db8:2::9", "::1", 6, 80), 1);
	EXPECT(res.rs, k6("2001:db9::", "2001:db8::1", 6, 80), 2);
	EXPECT(res.rs, k6("2001:db9::", "2001:db8::2", 6, 80), 3);
	EXPECT(res.rs, k4("32.1.13.184", "1.2.3.4", 6, 1, 80), 4); /* 0x20010db8 as IPv4 */
	result_done(&res, c);
}

static void test_mixed_families(void)
{
	struct pc_config *c = config_new(3);
	struct result res;

	/* v4 src with v4 dst, v6 src with v6 dst: 2 of the 4 combinations */
	pfx(&c->rules[0].match.src, "10.0.0.0/8");
	pfx(&c->rules[0].match.src, "fe80::/10");
	pfx(&c->rules[0].match.dst, "fd00::/8");
	pfx(&c->rules[0].match.dst, "1.2.3.4");
	/* only v4 src, only v6 dst: can never match */
	pfx(&c->rules[1].match.src, "10.0.0.0/8");
	pfx(&c->rules[1].match.dst, "fd00::/8");
	/* v6 src with l3 ipv4: can never match */
	pfx(&c->rules[2].match.src, "fd00::/8");
	one(&c->rules[2].match.l3, 0x0800);
	res = compile(c);
	CHECK(res.r == 0, "warnings only: %d", res.r);
	CHECK(res.rs && res.rs->nboxes == 2, "2 boxes, got %zu", res.rs ? res.rs->nboxes : 0);
	CHECK(res.d.nwarnings == 2 && res.d.nerrors == 0, "two warnings: %zu", res.d.nwarnings);
	CHECK(res.d.n == 2 && res.d.v[0].pos.line == 2 && strstr(res.d.v[0].msg, "r1") &&
	      strstr(res.d.v[0].msg, "never match"), "warning names r1 at its position");
	EXPECT(res.rs, k4("10.1.1.1", "1.2.3.4", 6, 1, 1), 0);
	EXPECT(res.rs, k6("fe80::1", "fd00::1", 6, 1), 0);
	EXPECT(res.rs, k6("fe80::1", "fe00::1", 6, 1), 3);
	result_done(&res, c);
}

static void test_proto_ports(void)
{
	struct pc_config *c = config_new(4);
	struct result res;

	one(&c->rules[0].match.proto, 6);
	one(&c->rules[0].match.proto, 17);
	one(&c->rules[0].match.dst_port, 80);
	one(&c->rules[0].match.dst_port, 443);
	ranges_add(&c->rules[0].match.dst_port, 8000, 8099);
	/* no proto: any protocol with ports; port-less packets never */
	one(&c->rules[1].match.src_port, 53);
	/* icmp with a port: can never match */
	one(&c->rules[2].match.proto, 1);
	one(&c->rules[2].match.dst_port, 7);
	one(&c->rules[3].match.proto, 1);
	res = compile(c);
	CHECK(res.r == 0 && res.rs->nboxes == 2 * 3 + 1 + 1, "boxes: %zu", res.rs->nboxes);
	CHECK(res.d.nwarnings == 1, "icmp+port warned");
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 17, 999, 8050), 0);
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 6, 999, 443), 0);
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 6, 999, 444), 4);
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 132, 999, 80), 4); /* sctp: not in proto list */
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 132, 53, 80), 1);
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 17, 53, 1), 1);
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 1, PC_PORT_NONE, PC_PORT_NONE), 3);
	EXPECT(res.rs, k4("1.1.1.1", "2.2.2.2", 47, PC_PORT_NONE, PC_PORT_NONE), 4);
	/* port check before proto check */
	CHECK(res.rs->boxes[0].c[0].word == PC_W_DPORT && res.rs->boxes[0].c[1].word == PC_W_PROTO,
	      "ports before proto");
	result_done(&res, c);
}

static void test_list_merge(void)
{
	struct pc_config *c = config_new(1);
	struct result res;

	one(&c->rules[0].match.dst_port, 82);
	one(&c->rules[0].match.dst_port, 80);
	one(&c->rules[0].match.dst_port, 81);
	ranges_add(&c->rules[0].match.dst_port, 83, 90);
	ranges_add(&c->rules[0].match.dst_port, 85, 86);
	res = compile(c);
	CHECK(res.r == 0 && res.rs->nboxes == 1 && res.rs->boxes[0].c[0].a == 80 &&
	      res.rs->boxes[0].c[0].b == 90, "80,81,82,83-90,85-86 -> one range 80-90");
	result_done(&res, c);
}

static void test_tcp_flags(void)
{
	struct pc_config *c = config_new(3);
	struct result res;
	struct pc_key k;

	/* syn, !ack */
	c->rules[0].match.has_tcp_flags = true;
	c->rules[0].match.tcp_flags_mask = PC_TCP_SYN | PC_TCP_ACK;
	c->rules[0].match.tcp_flags_value = PC_TCP_SYN;
	/* tcp_flags with proto udp: never */
	c->rules[1].match.has_tcp_flags = true;
	c->rules[1].match.tcp_flags_mask = PC_TCP_FIN;
	c->rules[1].match.tcp_flags_value = PC_TCP_FIN;
	one(&c->rules[1].match.proto, 17);
	/* fin, listed with the tcp proto explicitly */
	c->rules[2].match.has_tcp_flags = true;
	c->rules[2].match.tcp_flags_mask = PC_TCP_FIN;
	c->rules[2].match.tcp_flags_value = PC_TCP_FIN;
	one(&c->rules[2].match.proto, 6);
	res = compile(c);
	CHECK(res.r == 0 && res.rs->nboxes == 2 && res.d.nwarnings == 1, "boxes %zu warnings %zu",
	      res.rs->nboxes, res.d.nwarnings);
	k = k4("1.1.1.1", "2.2.2.2", 6, 1, 2);
	k.w[PC_W_TCPFLAGS] = PC_TCP_SYN;
	EXPECT(res.rs, k, 0);
	k.w[PC_W_TCPFLAGS] = PC_TCP_SYN | PC_TCP_PSH;
	EXPECT(res.rs, k, 0);
	k.w[PC_W_TCPFLAGS] = PC_TCP_SYN | PC_TCP_ACK;
	EXPECT(res.rs, k, 3);
	k.w[PC_W_TCPFLAGS] = PC_TCP_SYN | PC_TCP_FIN;
	EXPECT(res.rs, k, 0);
	k.w[PC_W_TCPFLAGS] = PC_TCP_FIN | PC_TCP_ACK;
	EXPECT(res.rs, k, 2);
	k.w[PC_W_TCPFLAGS] = PC_TCPFL_NONE; /* flags unknown: never matches */
	EXPECT(res.rs, k, 3);
	k = k4("1.1.1.1", "2.2.2.2", 17, 1, 2);
	k.w[PC_W_TCPFLAGS] = PC_TCP_SYN; /* not TCP (only a parser bug could do this) */
	EXPECT(res.rs, k, 3);
	CHECK(res.rs->boxes[0].c[1].word == PC_W_TCPFLAGS && res.rs->boxes[0].c[1].op == PC_OP_MASK &&
	      res.rs->boxes[0].c[1].a == (PC_TCP_SYN | PC_TCP_ACK | PC_TCPFL_NONE) &&
	      res.rs->boxes[0].c[1].b == PC_TCP_SYN, "tcp_flags MASK check");
	result_done(&res, c);
}

static void strs_add(struct pc_strs *s, const char *v)
{
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->pos = realloc(s->pos, (s->n + 1) * sizeof(*s->pos));
	assert(s->v && s->pos);
	s->pos[s->n] = (struct pc_pos){ .line = 7, .col = (unsigned)s->n + 3 };
	s->v[s->n++] = strdup(v);
}

static void test_iface(void)
{
	struct pc_config *c = config_new(3);
	struct result res;
	struct pc_key k = k4("1.1.1.1", "2.2.2.2", 6, 1, 2);

	strs_add(&c->rules[0].match.iface, "eth0");
	strs_add(&c->rules[1].match.iface, "eth*");
	strs_add(&c->rules[1].match.iface, "br-*");
	strs_add(&c->rules[2].match.iface, "eth0"); /* same pattern, same bit */
	res = compile(c);
	CHECK(res.r == 0 && res.rs->n_iface_patterns == 3, "3 patterns");
	CHECK(pc_ifbits(res.rs, "eth0") == (PC_IFBITS_ALWAYS | 0x3), "eth0 bits %x",
	      pc_ifbits(res.rs, "eth0"));
	CHECK(pc_ifbits(res.rs, "eth1") == (PC_IFBITS_ALWAYS | 0x2), "eth1");
	CHECK(pc_ifbits(res.rs, "br-lan") == (PC_IFBITS_ALWAYS | 0x4), "br-lan");
	CHECK(pc_ifbits(res.rs, "lo") == PC_IFBITS_ALWAYS, "lo");
	CHECK(res.rs->boxes[1].nchecks == 1 && res.rs->boxes[1].c[0].op == PC_OP_ANY &&
	      res.rs->boxes[1].c[0].a == 0x6, "rule 1: ANY over bits 1 and 2");
	k.w[PC_W_IFBITS] = pc_ifbits(res.rs, "eth0");
	EXPECT(res.rs, k, 0);
	k.w[PC_W_IFBITS] = pc_ifbits(res.rs, "eth7");
	EXPECT(res.rs, k, 1);
	k.w[PC_W_IFBITS] = pc_ifbits(res.rs, "br-x");
	EXPECT(res.rs, k, 1);
	k.w[PC_W_IFBITS] = pc_ifbits(res.rs, "wlan0");
	EXPECT(res.rs, k, 3);
	result_done(&res, c);
}

static void test_too_many_ifaces(void)
{
	struct pc_config *c = config_new(32);
	struct result res;
	char name[16];

	for (unsigned i = 0; i < 32; i++) {
		snprintf(name, sizeof(name), "eth%u", i);
		strs_add(&c->rules[i].match.iface, name);
	}
	res = compile(c);
	CHECK(res.r == -EINVAL && !res.rs && res.d.nerrors == 1, "32 patterns: %d", res.r);
	CHECK(res.d.n && res.d.v[0].pos.line == 7 && strstr(res.d.v[0].msg, "interface patterns"),
	      "error at the pattern");
	result_done(&res, c);
}

static void test_other_keys(void)
{
	struct pc_config *c = config_new(6);
	struct result res;
	struct pc_key k = k4("1.1.1.1", "2.2.2.2", 17, 1, 2);

	c->rules[0].match.direction = PC_DIR_EGRESS;
	one(&c->rules[1].match.vlan, 10);
	ranges_add(&c->rules[1].match.vlan, 20, 30);
	one(&c->rules[2].match.dscp, 46);
	ranges_add(&c->rules[3].match.length, 1000, 1500);
	one(&c->rules[4].match.l3, 0x0806);
	one(&c->rules[5].match.vlan, 0); /* vlan 0: tagged, priority only */
	res = compile(c);
	CHECK(res.r == 0 && res.rs->nboxes == 7, "boxes %zu", res.rs->nboxes);
	EXPECT(res.rs, k, 6);
	k.w[PC_W_DIR] = PC_DIR_EGRESS;
	EXPECT(res.rs, k, 0);
	k.w[PC_W_DIR] = PC_DIR_INGRESS;
	k.w[PC_W_VLAN] = 25;
	EXPECT(res.rs, k, 1);
	k.w[PC_W_VLAN] = 10;
	EXPECT(res.rs, k, 1);
	k.w[PC_W_VLAN] = 11;
	EXPECT(res.rs, k, 6);
	k.w[PC_W_VLAN] = 0;
	EXPECT(res.rs, k, 5);
	k.w[PC_W_VLAN] = PC_VLAN_NONE;
	k.w[PC_W_DSCP] = 46;
	EXPECT(res.rs, k, 2);
	k.w[PC_W_DSCP] = 0;
	k.w[PC_W_LEN] = 1500;
	EXPECT(res.rs, k, 3);
	k.w[PC_W_LEN] = 1501;
	EXPECT(res.rs, k, 6);
	EXPECT(res.rs, karp(), 4);
	result_done(&res, c);
}

static void test_outcomes(void)
{
	struct pc_config *c = config_new(3);
	struct result res;

	c->default_action = PC_ACT_DROP;
	strcpy(c->default_class, "other");
	c->rules[0].action = PC_ACT_DROP;
	c->rules[0].log = true;
	strcpy(c->rules[0].class_name, "bulk");
	c->rules[1].set_mark = c->rules[1].set_priority = c->rules[1].set_dscp = true;
	c->rules[1].mark = 0x20;
	c->rules[1].priority = 0x10010;
	c->rules[1].dscp = 46;
	c->rules[2].action = PC_ACT_REDIRECT;
	strcpy(c->rules[2].redirect, "veth9");
	c->rules[2].class_name[0] = 0; /* absent: the rule's name */
	res = compile(c);
	CHECK(res.r == 0, "compiles");
	CHECK(res.rs->outs[0].action == PC_ACT_DROP && res.rs->outs[0].flags == PC_F_LOG, "r0");
	CHECK(strcmp(res.rs->class_name[0], "bulk") == 0 && strcmp(res.rs->rule_name[0], "r0") == 0,
	      "r0 names");
	CHECK(res.rs->outs[1].action == PC_ACT_PASS &&
	      res.rs->outs[1].flags == (PC_F_MARK | PC_F_PRIO | PC_F_DSCP) &&
	      res.rs->outs[1].mark == 0x20 && res.rs->outs[1].priority == 0x10010 &&
	      res.rs->outs[1].dscp == 46, "r1 set");
	CHECK(res.rs->outs[2].action == PC_ACT_REDIRECT && strcmp(res.rs->redirect[2], "veth9") == 0 &&
	      res.rs->redirect[1][0] == 0 && strcmp(res.rs->class_name[2], "r2") == 0, "r2 redirect");
	CHECK(res.rs->nrules == 3 && res.rs->outs[3].action == PC_ACT_DROP &&
	      strcmp(res.rs->class_name[3], "other") == 0 &&
	      strcmp(res.rs->rule_name[3], "(default)") == 0, "default outcome");
	CHECK(res.rs->outs[0].slot == 0 && res.rs->outs[0].redirect_ifindex == 0, "slots left 0");
	result_done(&res, c);
}

static void test_first_match(void)
{
	struct pc_config *c = config_new(3);
	struct result res;

	pfx(&c->rules[0].match.src, "10.1.0.0/16");
	one(&c->rules[0].match.dst_port, 22);
	pfx(&c->rules[1].match.src, "10.0.0.0/8");
	pfx(&c->rules[2].match.src, "10.1.2.3");
	res = compile(c);
	CHECK(res.r == 0, "compiles");
	EXPECT(res.rs, k4("10.1.2.3", "1.1.1.1", 6, 1, 22), 0);
	EXPECT(res.rs, k4("10.1.2.3", "1.1.1.1", 6, 1, 23), 1);
	EXPECT(res.rs, k4("10.2.2.3", "1.1.1.1", 6, 1, 22), 1);
	EXPECT(res.rs, k4("11.1.2.3", "1.1.1.1", 6, 1, 22), 3);
	for (size_t i = 1; i < res.rs->nboxes; i++)
		CHECK(res.rs->boxes[i - 1].rule <= res.rs->boxes[i].rule, "boxes sorted by rule");
	result_done(&res, c);
}

static void test_too_many_boxes(void)
{
	struct pc_config *c = config_new(2);
	struct result res;
	uint8_t a[4] = { 10, 0, 0, 0 };

	/* 2001 * 2001 = 4,004,001 combinations > PC_MAX_BOXES */
	for (unsigned i = 0; i < 2001; i++) {
		a[1] = (uint8_t)(i >> 8);
		a[2] = (uint8_t)i;
		prefixes_add(&c->rules[1].match.src, 4, a, 24);
		prefixes_add(&c->rules[1].match.dst, 4, a, 24);
	}
	res = compile(c);
	CHECK(res.r == -EINVAL && !res.rs && res.d.nerrors == 1, "too many boxes: %d", res.r);
	CHECK(res.d.n == 1 && res.d.v[0].pos.line == 2 && strstr(res.d.v[0].msg, "r1"),
	      "error names r1 at its position");
	result_done(&res, c);
}

static void test_box_match_ops(void)
{
	struct pc_box b = { .nchecks = 3 };
	struct pc_key k = { 0 };

	b.c[0] = (struct pc_check) { .word = PC_W_VLAN, .op = PC_OP_RANGE, .a = 5, .b = 9 };
	b.c[1] = (struct pc_check) { .word = PC_W_TCPFLAGS, .op = PC_OP_MASK, .a = 0x112, .b = 0x02 };
	b.c[2] = (struct pc_check) { .word = PC_W_IFBITS, .op = PC_OP_ANY, .a = 0x5 };
	k.w[PC_W_VLAN] = 5;
	k.w[PC_W_TCPFLAGS] = 0x03;
	k.w[PC_W_IFBITS] = 0x80000004;
	CHECK(pc_box_match(&b, &k), "all three hold");
	k.w[PC_W_VLAN] = 10;
	CHECK(!pc_box_match(&b, &k), "range fails above");
	k.w[PC_W_VLAN] = 4;
	CHECK(!pc_box_match(&b, &k), "range fails below");
	k.w[PC_W_VLAN] = 9;
	k.w[PC_W_TCPFLAGS] = 0x12;
	CHECK(!pc_box_match(&b, &k), "mask fails");
	k.w[PC_W_TCPFLAGS] = 0x102;
	CHECK(!pc_box_match(&b, &k), "mask fails on the sentinel bit");
	k.w[PC_W_TCPFLAGS] = 0x02;
	k.w[PC_W_IFBITS] = 0x80000002;
	CHECK(!pc_box_match(&b, &k), "any fails");
	b.c[0].op = 7;
	k.w[PC_W_IFBITS] = 0x1;
	CHECK(!pc_box_match(&b, &k), "unknown op never holds");
}

int main(void)
{
	test_empty_match();
	test_prefix_v4();
	test_prefix_v6();
	test_mixed_families();
	test_proto_ports();
	test_list_merge();
	test_tcp_flags();
	test_iface();
	test_too_many_ifaces();
	test_other_keys();
	test_outcomes();
	test_first_match();
	test_too_many_boxes();
	test_box_match_ops();
	printf("%u failures\n", failures);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
