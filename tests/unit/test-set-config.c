/* SPDX-License-Identifier: GPL-2.0-only */
/* test-set-config.c - sets in the config and the compiler: every kind of error
 * with its exact diagnostic (unknown set, wrong type, bad elements inline
 * and in element files at FILE:LINE:COLUMN), what good sets hold, "@NAME"
 * in lists with literals as boxes, shadow warnings that treat a set as
 * opaque, and the membership reference (pc_set_find, pc_set_bits). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "classifier/compile.h"
#include "classifier/shadow.h"
#include "config/config.h"
#include "lib/util.h"

#define CFG "tests/data/sets/t.yaml" /* element files are relative to it */
#define V1 "version: 1\n"

static char *diags_text(const struct pc_diags *d)
{
	char *out = NULL, line[1024];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	for (size_t i = 0; i < d->n; i++) {
		pc_diag_format(d, i, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	return out;
}

/* Parse (and with compile, compile and shadow-check) yaml; the diagnostics
 * must be exactly expect. */
static struct pc_config *run(const char *yaml, const char *expect, int expect_r, bool compile,
			     int line)
{
	struct pc_config *c = NULL;
	struct pc_ruleset *rs = NULL;
	struct pc_diags d;
	char *got;
	int r;

	pc_diags_init(&d, CFG);
	r = pc_config_parse(CFG, yaml, strlen(yaml), &c, &d);
	if (r == 0 && compile) {
		r = pc_compile(c, &rs, &d);
		if (r == 0 && (r = pc_shadow_check(c, rs, &d)) > 0)
			r = 0; /* the warnings it found */
		pc_diags_sort(&d);
	}
	got = diags_text(&d);
	if (strcmp(got, expect) || r != expect_r) {
		fprintf(stderr, "test-set-config.c:%d: r=%d (want %d)\n--- got:\n%s--- want:\n%s---\n", line,
			r, expect_r, got, expect);
		failures++;
	}
	checks++;
	free(got);
	pc_diags_clear(&d);
	pc_ruleset_freep(&rs);
	if (r < 0)
		pc_config_freep(&c);
	return c;
}

#define BAD(yaml, expect) pc_config_free(run(yaml, expect, -EINVAL, false, __LINE__))
#define GOOD(yaml) run(yaml, "", 0, false, __LINE__)
#define WARNS(yaml, expect) pc_config_free(run(yaml, expect, 0, true, __LINE__))

static void test_errors(void)
{
	/* references */
	BAD(V1 "rules:\n  - { name: a, match: { src: \"@nope\" } }\n",
	    CFG ":3:30: error: match.src: unknown set \"nope\"\n");
	BAD(V1 "sets: { p: { type: port, elements: [80] } }\n"
	    "rules:\n  - { name: a, match: { dst: [10.0.0.0/8, \"@p\"] } }\n",
	    CFG ":4:43: error: match.dst: set \"p\" is a port set, match.dst takes a prefix set\n");
	BAD(V1 "sets: { b: { type: prefix } }\n"
	    "rules:\n  - { name: a, match: { proto: tcp, dst_port: \"@b\" } }\n",
	    CFG ":4:47: error: match.dst_port: set \"b\" is a prefix set, match.dst_port takes a "
	    "port set\n");
	BAD(V1 "sets: { b: { type: prefix } }\n"
	    "rules:\n  - { name: a, match: { proto: \"@b\" } }\n",
	    CFG ":4:32: error: match.proto: invalid protocol \"@b\" (tcp, udp, udplite, icmp, "
	    "icmpv6, sctp, gre, esp, ah or a number)\n");
	/* the section */
	BAD(V1 "sets: { b: { elements: [1.2.3.4] } }\n",
	    CFG ":2:9: error: set \"b\": missing required key \"type\" (prefix or port)\n");
	BAD(V1 "sets: { b: { type: address } }\n",
	    CFG ":2:20: error: type: expected prefix or port, got \"address\"\n");
	BAD(V1 "sets: { b: { type: prefix, size: 3 } }\n",
	    CFG ":2:28: error: unknown key \"size\" in set\n");
	BAD(V1 "sets: { b: { type: prefix, dynamic: yes } }\n",
	    CFG ":2:37: error: dynamic: expected true or false, got \"yes\"\n");
	BAD(V1 "sets: { \"b c\": { type: prefix } }\n",
	    CFG ":2:9: error: sets: invalid name \"b c\" (1-63 of A-Z a-z 0-9 _ . -)\n");
	BAD(V1 "sets:\n  b: { type: prefix }\n  b: { type: port }\n",
	    CFG ":4:3: error: duplicate set \"b\" (first at line 3)\n");
	BAD(V1 "sets: [a, b]\n", CFG ":2:7: error: sets: expected a mapping of set names, got a list\n");
	/* inline elements */
	BAD(V1 "sets: { b: { type: prefix, elements: [10.0.0.0/8, 10.0.0.300, \"::1/200\"] } }\n",
	    CFG ":2:51: error: elements: invalid address \"10.0.0.300\"\n"
	    CFG ":2:63: error: elements: invalid prefix length \"::1/200\"\n");
	BAD(V1 "sets: { p: { type: port, elements: [80, 70000, 9-3, http] } }\n",
	    CFG ":2:41: error: elements: port out of range (0-65535) \"70000\"\n"
	    CFG ":2:48: error: elements: inverted port range \"9-3\"\n"
	    CFG ":2:53: error: elements: invalid port \"http\"\n");
	/* element files: the error is at the element, in the file */
	BAD(V1 "sets: { b: { type: prefix, file: bad.txt } }\n",
	    "tests/data/sets/bad.txt:2:3: error: invalid address \"10.0.0.300\"\n"
	    "tests/data/sets/bad.txt:3:1: error: invalid prefix length \"2001:db8::/129\"\n"
	    "tests/data/sets/bad.txt:5:4: error: invalid address \"ok-this-is-not\"\n");
	BAD(V1 "sets: { p: { type: port, file: bad-ports.txt } }\n",
	    "tests/data/sets/bad-ports.txt:2:1: error: port out of range (0-65535) \"70000\"\n"
	    "tests/data/sets/bad-ports.txt:3:1: error: inverted port range \"9-3\"\n"
	    "tests/data/sets/bad-ports.txt:4:1: error: invalid port \"http\"\n");
	BAD(V1 "sets: { b: { type: prefix, file: missing.txt } }\n",
	    CFG ":2:34: error: file: tests/data/sets/missing.txt: cannot read: No such file or "
	    "directory\n");
	BAD(V1 "sets: { b: { type: prefix, file: . } }\n",
	    CFG ":2:34: error: file: tests/data/sets/.: not a regular file\n");
	/* a broken file says the first errors and counts the rest */
	{
		struct pc_config *c = NULL;
		struct pc_diags d;
		const char *y = V1 "sets: { b: { type: prefix, file: many-bad.txt } }\n";
		int r;

		pc_diags_init(&d, CFG);
		r = pc_config_parse(CFG, y, strlen(y), &c, &d);
		CHECK(r == -EINVAL && d.nerrors == PC_SET_FILE_ERRORS + 1, "%zu errors", d.nerrors);
		for (size_t i = 0; i < d.n; i++)
			r = strstr(d.v[i].msg, "5 more bad elements") ? 1 : r;
		CHECK(r == 1, "no \"5 more bad elements\"");
		pc_diags_clear(&d);
	}
}

static void test_good(void)
{
	struct pc_config *c;
	char buf[64];

	c = GOOD(V1 "sets:\n"
		 "  bl: { type: prefix, dynamic: true, elements: [203.0.113.0/24], file: good.txt }\n"
		 "  web: { type: port, elements: [8080], file: ports.txt }\n"
		 "  empty: { type: prefix }\n"
		 "rules:\n"
		 "  - { name: a, match: { src: [10.0.0.0/8, \"@bl\"], dst_port: [\"@web\", 22] } }\n");
	if (!c)
		return;
	CHECK(c->n_sets == 3 && c->sets[0].dynamic && !c->sets[1].dynamic);
	CHECK(c->sets[0].type == PC_SET_PREFIX && c->sets[1].type == PC_SET_PORT);
	/* sorted, the duplicate merged, all from the config */
	CHECK(c->sets[0].elems.n == 5, "bl: %zu elements", c->sets[0].elems.n);
	CHECK(!strcmp(pc_set_elem_str(&c->sets[0].elems.v[0], buf, sizeof(buf)), "10.0.0.0/8"), "%s", buf);
	CHECK(!strcmp(pc_set_elem_str(&c->sets[0].elems.v[4], buf, sizeof(buf)), "2001:db8:bad::/48"));
	CHECK(c->sets[0].elems.v[2].flags == PC_SE_F_CONFIG);
	CHECK(c->sets[1].elems.n == 4 &&
	      !strcmp(pc_set_elem_str(&c->sets[1].elems.v[2], buf, sizeof(buf)), "8000-8099"));
	CHECK(c->sets[2].elems.n == 0);
	CHECK(c->rules[0].match.src.n == 1 && c->rules[0].match.src_sets.n == 1 &&
	      c->rules[0].match.src_sets.v[0] == 0);
	CHECK(c->rules[0].match.dst_port.n == 1 && c->rules[0].match.dport_sets.v[0] == 1);
	CHECK(c->sets[0].file && !strcmp(c->sets[0].file, "tests/data/sets/good.txt"));
	pc_config_free(c);

	/* host bits: a warning, once per file */
	WARNS(V1 "sets: { b: { type: prefix, file: hostbits.txt, elements: [10.9.9.9/16] } }\n",
	      CFG ":2:59: warning: elements: 10.9.9.9/16 has host bits set; using 10.9.0.0/16\n"
	      "tests/data/sets/hostbits.txt:1:1: warning: 2 elements with host bits set, used "
	      "with those bits cleared\n");
}

static void test_compile(void)
{
	const char *y = V1 "sets:\n"
			"  bl: { type: prefix, elements: [192.0.2.0/24, \"2001:db8::/32\"] }\n"
			"  p: { type: port, elements: [80, 8000-8099] }\n"
			"rules:\n"
			"  - { name: a, match: { src: [10.0.0.0/8, \"@bl\"] } }\n"
			"  - { name: b, match: { dst: \"@bl\", dst_port: \"@p\" } }\n"
			"  - { name: c, match: { src: \"@bl\", proto: icmp } }\n";
	struct pc_config *c = GOOD(y);
	struct pc_ruleset *rs = NULL;
	struct pc_set_view v[2];
	struct pc_diags d;
	struct pc_key k = {};

	pc_diags_init(&d, CFG);
	CHECK(c && pc_compile(c, &rs, &d) == 0);
	pc_diags_clear(&d);
	if (!rs)
		goto out;
	/* a: one box of the literal, one of the set; b: dst and port bits; c */
	CHECK(rs->nboxes == 4, "%zu boxes", rs->nboxes);
	CHECK(rs->nsetrefs == 3 && rs->setrefs[0].field == PC_SF_SRC &&
	      rs->setrefs[1].field == PC_SF_DST && rs->setrefs[2].field == PC_SF_DPORT);
	CHECK(rs->boxes[1].nchecks == 1 && rs->boxes[1].c[0].word == PC_W_SETS &&
	      rs->boxes[1].c[0].op == PC_OP_MASK && rs->boxes[1].c[0].a == 1);
	CHECK(rs->boxes[2].c[rs->boxes[2].nchecks - 1].a == 0x6, "b's bits");
	for (size_t i = 0; i < 2; i++)
		v[i] = (struct pc_set_view){ .v = c->sets[i].elems.v, .n = c->sets[i].elems.n };
	k.w[PC_W_L3] = PC_ETH_P_IP;
	k.w[PC_W_SRC0] = 0xc0000207; /* 192.0.2.7 */
	k.w[PC_W_DST0] = 0x0a000001;
	k.w[PC_W_SPORT] = PC_PORT_NONE;
	k.w[PC_W_DPORT] = 8050;
	k.w[PC_W_PROTO] = 6;
	k.w[PC_W_SETS] = pc_set_bits(rs, v, &k, NULL);
	CHECK(k.w[PC_W_SETS] == 0x5, "bits %#x", k.w[PC_W_SETS]);
	CHECK(pc_ref_classify(rs, &k) == 0);
	CHECK(pc_set_find(&v[0], &k, PC_SF_SRC) == 0);
	k.w[PC_W_SRC0] = 0x08080808;
	k.w[PC_W_DST0] = 0xc0000201;
	k.w[PC_W_SETS] = pc_set_bits(rs, v, &k, NULL);
	CHECK(k.w[PC_W_SETS] == 0x6 && pc_ref_classify(rs, &k) == 1);
	k.w[PC_W_DPORT] = PC_PORT_NONE; /* no ports: never in a port set */
	k.w[PC_W_SETS] = pc_set_bits(rs, v, &k, NULL);
	CHECK(k.w[PC_W_SETS] == 0x2 && pc_ref_classify(rs, &k) == 3);
	k.w[PC_W_L3] = PC_ETH_P_ARP; /* not IP: in no prefix set */
	CHECK(pc_set_bits(rs, v, &k, NULL) == 0);
	k.w[PC_W_L3] = PC_ETH_P_IPV6;
	k.w[PC_W_DST0] = 0x20010db8;
	CHECK(pc_set_bits(rs, v, &k, NULL) == 0x2);
	pc_ruleset_free(rs);
out:
	pc_config_free(c);
}

static void test_shadow(void)
{
	/* a set is opaque: no rule after it is shadowed by it, unless it is
	 * the same set on the same field with nothing else */
	WARNS(V1 "sets: { a: { type: prefix, elements: [0.0.0.0/0, \"::/0\"] }, b: { type: prefix } }\n"
	      "rules:\n"
	      "  - { name: r1, match: { src: \"@a\" } }\n"
	      "  - { name: r2, match: { src: 10.0.0.1 } }\n"
	      "  - { name: r3, match: { src: \"@b\" } }\n"
	      "  - { name: r4, match: { dst: \"@a\" } }\n"
	      "  - { name: r5, match: { src: \"@a\", proto: tcp } }\n",
	      CFG ":8:5: warning: rule 'r5' can never match: rule 'r1' (line 4) matches every packet "
	      "it would\n");
	/* in a list with literals, the literal part can shadow, the set cannot */
	WARNS(V1 "sets: { a: { type: prefix } }\n"
	      "rules:\n"
	      "  - { name: r1, match: { src: [\"@a\", 10.0.0.0/8] } }\n"
	      "  - { name: r2, match: { src: 10.1.0.0/16 } }\n"
	      "  - { name: r3, match: { src: 11.1.0.0/16 } }\n",
	      CFG ":5:5: warning: rule 'r2' can never match: rule 'r1' (line 4) matches every packet "
	      "it would\n");
}

/* More references than PC_W_SETS has bits: the lazy ones (PC_OP_SET
 * checks) are as opaque to the shadow analysis as the others. */
static void test_shadow_lazy(void)
{
	size_t cap = 8192, n = 0;
	_cleanup_free_ char *y = malloc(cap);
	char want[256];

	CHECK(y);
	if (!y)
		return;
	n += (size_t)snprintf(y + n, cap - n, V1 "sets:\n");
	for (int i = 0; i < 34; i++)
		n += (size_t)snprintf(y + n, cap - n, "  s%d: { type: prefix }\n", i);
	n += (size_t)snprintf(y + n, cap - n, "rules:\n");
	for (int i = 0; i < 34; i++) /* line 38 + i */
		n += (size_t)snprintf(y + n, cap - n, "  - { name: r%d, match: { src: \"@s%d\" } }\n",
				      i, i);
	n += (size_t)snprintf(y + n, cap - n,
			      "  - { name: lit, match: { src: 10.0.0.1 } }\n"
			      "  - { name: other, match: { dst: \"@s33\" } }\n"
			      "  - { name: same, match: { src: \"@s33\", proto: tcp } }\n");
	CHECK(n < cap);
	snprintf(want, sizeof(want),
		 CFG ":74:5: warning: rule 'same' can never match: rule 'r33' (line 71) matches "
		 "every packet it would\n");
	pc_config_free(run(y, want, 0, true, __LINE__));
}

static void test_find(void)
{
	struct pc_set_elems e = {};
	const char *in[] = { "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "2001:db8::/32", "::/0" };
	struct pc_set_elem x;
	struct pc_set_view v;
	struct pc_key k = {};
	char buf[64];
	bool host;

	for (size_t i = 0; i < 5; i++) {
		CHECK(pc_set_elem_parse(PC_SET_PREFIX, in[i], &x, &host) == 0);
		pc_set_elems_add(&e, &x);
	}
	pc_set_elems_normalize(&e);
	v = (struct pc_set_view){ .v = e.v, .n = e.n };
	k.w[PC_W_L3] = PC_ETH_P_IP;
	k.w[PC_W_SRC0] = 0x0a010203;
	CHECK(!strcmp(pc_set_elem_str(&v.v[pc_set_find(&v, &k, PC_SF_SRC)], buf, sizeof(buf)),
		      "10.1.2.3/32"), "most specific: %s", buf);
	k.w[PC_W_SRC0] = 0x0a010909;
	CHECK(!strcmp(pc_set_elem_str(&v.v[pc_set_find(&v, &k, PC_SF_SRC)], buf, sizeof(buf)),
		      "10.1.0.0/16"));
	k.w[PC_W_SRC0] = 0x0b000000;
	CHECK(pc_set_find(&v, &k, PC_SF_SRC) == -1, "::/0 holds no IPv4 address");
	k.w[PC_W_L3] = PC_ETH_P_IPV6;
	CHECK(pc_set_find(&v, &k, PC_SF_SRC) >= 0 &&
	      !strcmp(pc_set_elem_str(&v.v[pc_set_find(&v, &k, PC_SF_SRC)], buf, sizeof(buf)), "::/0"));
	pc_set_elems_clear(&e);

	CHECK(pc_set_elem_parse(PC_SET_PORT, "8000-8099", &x, &host) == 0 && x.port.lo == 8000 &&
	      x.port.hi == 8099 && x.family == 0);
	CHECK(pc_set_elem_parse(PC_SET_PORT, "65536", &x, &host) == -ERANGE);
	CHECK(pc_set_elem_parse(PC_SET_PREFIX, "10.0.0.1/33", &x, &host) == -EDOM);
	CHECK(pc_set_elem_parse(PC_SET_PREFIX, "10.0.0.1/8", &x, &host) == 0 && host &&
	      !strcmp(pc_set_elem_str(&x, buf, sizeof(buf)), "10.0.0.0/8"));
}

/* The radix sort of pc_set_elems_normalize against pc_set_elem_cmp. */
static void test_sort(void)
{
	struct pc_set_elems e = {};
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t n = 20000, ports = 0;

	for (size_t i = 0; i < n; i++) {
		struct pc_set_elem el = {};

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		el.family = (uint8_t[]){ 4, 6, 0, 4 }[x % 4];
		if (el.family == 0) {
			el.port.lo = (uint16_t)(x >> 8) % 100;
			el.port.hi = (uint16_t)(el.port.lo + (x >> 24) % 50);
			ports++;
		} else {
			el.len = (uint8_t)((x >> 32) % (el.family == 4 ? 33 : 129));
			for (unsigned b = 0; b < (el.family == 4 ? 4u : 16u); b++)
				el.addr[b] = (uint8_t)((x >> (b * 3)) % 4); /* many alike */
		}
		el.flags = (uint8_t)(1 + i % 2);
		pc_set_elems_add(&e, &el);
	}
	pc_set_elems_normalize(&e);
	CHECK(e.n > 100 && e.n < n, "%zu left of %zu", e.n, n);
	for (size_t i = 1; i < e.n; i++)
		if (pc_set_elem_cmp(&e.v[i - 1], &e.v[i]) >= 0) {
			CHECK(false, "not sorted at %zu", i);
			break;
		}
	pc_set_elems_clear(&e);
}

int main(void)
{
	test_sort();
	test_errors();
	test_good();
	test_compile();
	test_shadow();
	test_shadow_lazy();
	test_find();
	return check_exit();
}
