/* SPDX-License-Identifier: GPL-2.0-only */
/* test-flowkey: pc_flow_masks(), the key bits the datapath's flow cache
 * keeps.  Exact masks for a small config; and for configs in the whole rule
 * language, two keys equal on the masked bits get the same rule from the
 * reference classifier (keys drawn inside the rules' boxes, then every bit
 * outside the masks changed at random); set references keep their fields
 * whole. */
#include "testlib.h"

static struct pc_ruleset *compile_yaml(const char *yaml)
{
	struct pc_config *cfg = NULL;
	struct pc_ruleset *rs = NULL;
	struct pc_diags d;
	int r;

	pc_diags_init(&d, "flowkey.yaml");
	r = pc_config_parse("flowkey.yaml", yaml, strlen(yaml), &cfg, &d);
	r = r ?: pc_compile(cfg, &rs, &d);
	if (r < 0)
		pc_diags_print(&d, stderr);
	pc_diags_clear(&d);
	pc_config_free(cfg);
	CHECK(r == 0 && rs, "compile: %s", strerror(-r));
	return r == 0 ? rs : NULL;
}

static const char head[] = "version: 1\n"
			   "interfaces: [ { name: \"eth*\", hooks: [ingress, egress] } ]\n"
			   "rules:\n";

static void test_exact(void)
{
	char yaml[1024];
	struct pc_ruleset *rs;
	uint32_t m[PC_KEY_WORDS];

	snprintf(yaml, sizeof(yaml), "%s"
		 "  - { name: r1, match: { src: 10.0.0.0/8, proto: tcp, dst_port: 1024-65535 } }\n"
		 "  - { name: r2, match: { dst: 192.0.2.0/24, tcp_flags: [syn, \"!ack\"] } }\n"
		 "  - { name: r3, match: { vlan: 100, l3: arp } }\n", head);
	rs = compile_yaml(yaml);
	if (!rs)
		return;
	pc_flow_masks(rs, m);
	CHECK_EQ(m[PC_W_SRC0], 0xff000000u);
	CHECK_EQ(m[PC_W_DST0], 0xffffff00u);
	for (unsigned w = 1; w < 4; w++) {
		CHECK_EQ(m[PC_W_SRC0 + w], 0u);
		CHECK_EQ(m[PC_W_DST0 + w], 0u);
	}
	/* 1024-65535: blocks of 1024 (and bit 16 tells PC_PORT_NONE apart) */
	CHECK_EQ(m[PC_W_DPORT], 0x1fc00u);
	CHECK_EQ(m[PC_W_SPORT], 0u);
	CHECK_EQ(m[PC_W_PROTO], 0x1ffu);
	/* syn and ack, and the bit of PC_TCPFL_NONE */
	CHECK_EQ(m[PC_W_TCPFLAGS], PC_TCP_SYN | PC_TCP_ACK | PC_TCPFL_NONE);
	CHECK_EQ(m[PC_W_VLAN], 0x1fffu);
	CHECK_EQ(m[PC_W_L3], 0xffffu);
	CHECK_EQ(m[PC_W_DSCP], 0u);
	CHECK_EQ(m[PC_W_LEN], 0u);
	CHECK_EQ(m[PC_W_DIR], 0u);
	pc_ruleset_free(rs);

	/* no rule: nothing to tell apart; a rule on everything: one bit of dir */
	snprintf(yaml, sizeof(yaml), "%s  - { name: all, match: { direction: egress } }\n", head);
	rs = compile_yaml(yaml);
	if (!rs)
		return;
	pc_flow_masks(rs, m);
	CHECK_EQ(m[PC_W_DIR], 1u);
	for (unsigned w = 0; w < PC_KEY_WORDS; w++)
		if (w != PC_W_DIR)
			CHECK(m[w] == 0, "word %u: mask %#x with a direction rule only", w, m[w]);
	pc_ruleset_free(rs);
}

/* A set reference: its field whole (and l3 for an address), whatever the
 * set holds, since its contents change without a new mask. */
static void test_sets(void)
{
	static const char yaml[] = "version: 1\n"
		"interfaces: [ { name: \"eth*\", hooks: [ingress] } ]\n"
		"sets:\n"
		"  bl: { type: prefix, elements: [10.0.0.0/8] }\n"
		"  web: { type: port, elements: [80, 443] }\n"
		"rules:\n"
		"  - { name: s1, match: { src: \"@bl\" } }\n"
		"  - { name: s2, match: { proto: tcp, dst_port: [\"@web\", 8080] } }\n";
	struct pc_ruleset *rs = compile_yaml(yaml);
	uint32_t m[PC_KEY_WORDS];

	if (!rs)
		return;
	pc_flow_masks(rs, m);
	for (unsigned w = 0; w < 4; w++) {
		CHECK_EQ(m[PC_W_SRC0 + w], 0xffffffffu);
		CHECK_EQ(m[PC_W_DST0 + w], 0u);
	}
	CHECK_EQ(m[PC_W_L3], 0xffffu);
	CHECK_EQ(m[PC_W_DPORT], 0x1ffffu);
	CHECK_EQ(m[PC_W_SPORT], 0u);
	pc_ruleset_free(rs);
}

/* A random IPv4 prefix, host bits clear, as text. */
static void rand_v4(char *b, size_t n, uint32_t hi, unsigned minlen, unsigned maxlen)
{
	unsigned len = rnd_in(minlen, maxlen);
	uint32_t a = (hi << 24 | (rnd() & 0xffffff)) & (len ? ~0u << (32 - len) : 0);

	snprintf(b, n, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
}

/* A random rule in the whole language, as a YAML flow mapping; a valid one
 * (ports on port protocols, tcp_flags on TCP, each flag once). */
static void rand_rule(char *b, size_t n, unsigned i)
{
	static const char *const flags[] = { "syn", "!ack", "fin", "rst", "!psh", "urg", "ece", "cwr" };
	static const char *const protos[] = { "icmp", "gre", "47", "esp" };
	size_t o = (size_t)snprintf(b, n, "  - { name: r%u, match: { ", i);
	unsigned pick = rnd(), f1 = rnd() % 8, f2 = (f1 + 1 + rnd() % 7) % 8;
	char p1[32], p2[32];

#define ADD(...) (o += (size_t)snprintf(b + o, n - o, __VA_ARGS__))
	rand_v4(p1, sizeof(p1), rnd_in(1, 20), 8, 32);
	rand_v4(p2, sizeof(p2), 10, 9, 30);
	if (pick & 1)
		ADD("src: %s, ", p1);
	if (pick & 2)
		ADD("dst: [\"2001:db8:%x::/48\", %s], ", rnd_in(0, 7), p2);
	if (pick & 4) {
		uint32_t lo = rnd_in(0, 4000);

		ADD("dst_port: [%u-%u, %u], ", lo, lo + rnd_in(0, 3000), rnd_in(0, 65535));
	}
	if (pick & 8)
		ADD("src_port: %u, ", rnd_in(0, 2000));
	if (pick & 32)
		ADD("tcp_flags: [\"%s\", \"%s\"], ", flags[f1], flags[f2]);
	if (pick & 32)
		ADD("proto: tcp, ");
	else if (pick & 12)
		ADD("proto: %s, ", rnd() & 1 ? "udp" : "[tcp, sctp]");
	else if (pick & 16)
		ADD("proto: %s, ", protos[rnd() % ELEMENTSOF(protos)]);
	if (pick & 64)
		ADD("dscp: [%u, af41], ", rnd_in(0, 63));
	if (pick & 128) {
		uint32_t lo = rnd_in(20, 900);

		ADD("length: \"%u-%u\", ", lo, lo + rnd_in(0, 400));
	}
	if (pick & 256)
		ADD("vlan: [%u, 10-30], ", rnd_in(0, 4095));
	if (pick & 512)
		ADD("iface: \"eth%u\", ", rnd_in(0, 3));
	if (pick & 1024)
		ADD("direction: %s, ", rnd() & 1 ? "ingress" : "egress");
	ADD("l3: [ipv4, ipv6, arp] } }\n");
#undef ADD
}

static const uint8_t width[PC_KEY_WORDS] = PC_WORD_WIDTHS;

/* A key inside box b: every checked word in its check (MASK: the fixed bits),
 * the others anything within their width. */
static struct pc_key point_in(const struct pc_box *b)
{
	struct pc_key k;

	for (unsigned w = 0; w < PC_KEY_WORDS; w++)
		k.w[w] = rnd() & pc_word_max(w);
	for (uint32_t j = 0; j < b->nchecks; j++) {
		const struct pc_check *c = &b->c[j];

		if (c->op == PC_OP_RANGE)
			k.w[c->word] = rnd_in(c->a, c->b);
		else if (c->op == PC_OP_MASK)
			k.w[c->word] = (k.w[c->word] & ~c->a) | c->b;
		else
			k.w[c->word] |= c->a & (1u << (rnd() % 32)) ?: c->a & -c->a;
	}
	return k;
}

static void test_same_answer(unsigned nrules, unsigned keys)
{
	size_t len = sizeof(head) + nrules * 400, o;
	char *yaml = xcalloc(len, 1);
	struct pc_ruleset *rs;
	uint32_t m[PC_KEY_WORDS];
	unsigned diff = 0, moved = 0, hit = 0;

	o = (size_t)snprintf(yaml, len, "%s", head);
	for (unsigned i = 0; i < nrules; i++)
		rand_rule(yaml + o, len - o, i), o += strlen(yaml + o);
	rs = compile_yaml(yaml);
	free(yaml);
	if (!rs)
		return;
	pc_flow_masks(rs, m);
	for (unsigned w = 0; w < PC_KEY_WORDS; w++)
		CHECK((m[w] & ~pc_word_max(w)) == 0, "word %u: mask %#x past its width %u", w, m[w],
		      width[w]);
	for (unsigned i = 0; i < keys; i++) {
		struct pc_key a = point_in(&rs->boxes[rnd() % rs->nboxes]), b = a;
		uint32_t ra, rb;

		for (unsigned w = 0; w < PC_KEY_WORDS; w++)
			b.w[w] = (a.w[w] & m[w]) | (rnd() & ~m[w] & pc_word_max(w));
		moved += memcmp(&a, &b, sizeof(a)) != 0;
		ra = pc_ref_classify(rs, &a);
		rb = pc_ref_classify(rs, &b);
		hit += ra < rs->nrules;
		if (ra != rb && diff++ < 5)
			fprintf(stderr, "  key %u: rule %u, and %u with the unmasked bits changed\n", i,
				ra, rb);
	}
	CHECK(diff == 0, "%u rules: %u of %u keys changed rule with bits outside the masks", nrules,
	      diff, keys);
	CHECK(moved > keys / 2 && hit > keys / 2, "%u rules: the test proves little (%u moved, %u hit)",
	      nrules, moved, hit);
	printf("# %u rules, %zu boxes: %u keys, %u of them changed outside the masks, %u matched a "
	       "rule, %u changed rule\n", nrules, rs->nboxes, keys, moved, hit, diff);
	pc_ruleset_free(rs);
}

int main(void)
{
	test_exact();
	test_sets();
	test_same_answer(5, 20000);
	test_same_answer(40, 20000);
	test_same_answer(400, 20000);
	printf("# %u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}
