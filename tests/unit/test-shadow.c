/* SPDX-License-Identifier: GPL-2.0-only */
/* test-shadow.c - shadowed-rule warnings: hand-made boxes with the exact
 * warnings, box containment against enumeration on narrow words, random
 * rule sets against a plain quadratic search, and ClassBench sets (against
 * the quadratic search for the 1k ones; timings printed, never asserted). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/check.h"
#include "lib/util.h"
#include "pktclass.h"
#include "classifier/compile.h"
#include "config/config.h"
#include "classifier/shadow.h"



#define RG(w, lo, hi) { .word = (w), .op = PC_OP_RANGE, .a = (lo), .b = (hi) }
#define MK(w, m, v) { .word = (w), .op = PC_OP_MASK, .a = (m), .b = (v) }
#define AN(w, m) { .word = (w), .op = PC_OP_ANY, .a = (m) }
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define HOSTS(len) ((len) >= 32 ? 0 : UINT32_MAX >> (len))
#define NET(a, b, c, d, len) RG(PC_W_SRC0, IP(a, b, c, d), IP(a, b, c, d) | HOSTS(len))

static struct pc_box mkbox(uint32_t rule, size_t n, const struct pc_check *c)
{
	struct pc_box b = { .rule = rule, .nchecks = (uint32_t)n };

	memcpy(b.c, c, n * sizeof(*c));
	return b;
}

#define BOX(rule, ...) mkbox(rule, ELEMENTSOF(((struct pc_check[]){ __VA_ARGS__ })), \
			     (struct pc_check[]){ __VA_ARGS__ })
#define BOX0(rule) mkbox(rule, 0, NULL)

/* A config and a ruleset for nrules rules named r0, r1...; rule i at line
 * 10 * (i + 1). */
struct fixture {
	struct pc_config cfg;
	struct pc_ruleset rs;
};

static void fixture_init(struct fixture *f, uint32_t nrules, const struct pc_box *boxes,
			 size_t nboxes)
{
	*f = (struct fixture){};
	f->cfg.rules = calloc(nrules ? nrules : 1, sizeof(*f->cfg.rules));
	f->cfg.n_rules = nrules;
	for (uint32_t i = 0; i < nrules; i++) {
		snprintf(f->cfg.rules[i].name, sizeof(f->cfg.rules[i].name), "r%u", i);
		f->cfg.rules[i].pos = (struct pc_pos){ .line = 10 * (i + 1), .col = 5 };
	}
	f->rs.nrules = nrules;
	f->rs.boxes = malloc((nboxes ? nboxes : 1) * sizeof(*boxes));
	memcpy(f->rs.boxes, boxes, nboxes * sizeof(*boxes));
	f->rs.nboxes = nboxes;
}

static void fixture_done(struct fixture *f)
{
	free(f->cfg.rules);
	free(f->rs.boxes);
}

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

static void expect(int line, uint32_t nrules, const struct pc_box *boxes, size_t nboxes,
		   int want_r, const char *want)
{
	struct fixture f;
	struct pc_diags d;
	char *got;
	int r;

	fixture_init(&f, nrules, boxes, nboxes);
	pc_diags_init(&d, "t.yaml");
	r = pc_shadow_check(&f.cfg, &f.rs, &d);
	got = diags_text(&d);
	if (r != want_r || strcmp(got, want)) {
		fprintf(stderr, "test-shadow.c:%d: r=%d (want %d)\n--- got:\n%s--- want:\n%s---\n",
			line, r, want_r, got, want);
		failures++;
	}
	free(got);
	pc_diags_clear(&d);
	fixture_done(&f);
}

#define EXPECT(nrules, boxes, r, want) expect(__LINE__, nrules, boxes, ELEMENTSOF(boxes), r, want)
#define W10 "t.yaml:20:5: warning: rule 'r1' can never match: rule 'r0' (line 10) matches " \
	"every packet it would\n"

static void test_ranges(void)
{
	struct pc_box inside[] = {
		BOX(0, NET(10, 0, 0, 0, 8)),
		BOX(1, NET(10, 1, 0, 0, 16), RG(PC_W_DPORT, 80, 80)),
	};
	struct pc_box outside[] = {
		BOX(0, NET(10, 1, 0, 0, 16)),
		BOX(1, NET(10, 0, 0, 0, 8)),
	};
	struct pc_box equal[] = {
		BOX(0, RG(PC_W_PROTO, 6, 6), RG(PC_W_DPORT, 22, 22)),
		BOX(1, RG(PC_W_DPORT, 22, 22), RG(PC_W_PROTO, 6, 6)),
	};
	struct pc_box overlap[] = {
		BOX(0, RG(PC_W_DPORT, 0, 100)),
		BOX(1, RG(PC_W_DPORT, 50, 150)),
	};
	struct pc_box extra_key[] = { /* r0 constrains a key that r1 leaves open */
		BOX(0, RG(PC_W_DPORT, 0, 1000), RG(PC_W_PROTO, 6, 6)),
		BOX(1, RG(PC_W_DPORT, 80, 80)),
	};

	EXPECT(2, inside, 1, W10);
	EXPECT(2, outside, 0, "");
	EXPECT(2, equal, 1, W10);
	EXPECT(2, overlap, 0, "");
	EXPECT(2, extra_key, 0, "");
}

/* The warning text for rule r shadowed by rule y (lines 10 * (i + 1)). */
static char *w(uint32_t r, uint32_t y)
{
	char *s;

	CHECK(asprintf(&s, "t.yaml:%u:5: warning: rule 'r%u' can never match: rule 'r%u' "
		       "(line %u) matches every packet it would\n", 10 * (r + 1), r, y,
		       10 * (y + 1)) > 0);
	return s;
}

static void expect_pairs(int line, uint32_t nrules, const struct pc_box *boxes, size_t nboxes,
			 const uint32_t *pairs, size_t npairs)
{
	char *want = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&want, &len);

	for (size_t i = 0; i < npairs; i += 2) {
		char *s = w(pairs[i], pairs[i + 1]);

		fputs(s, f);
		free(s);
	}
	fclose(f);
	expect(line, nrules, boxes, nboxes, (int)npairs / 2, want);
	free(want);
}

#define PAIRS(nrules, boxes, ...) expect_pairs(__LINE__, nrules, boxes, ELEMENTSOF(boxes), \
	(uint32_t[]){ __VA_ARGS__ }, ELEMENTSOF(((uint32_t[]){ __VA_ARGS__ })))
#define NONE(nrules, boxes) expect(__LINE__, nrules, boxes, ELEMENTSOF(boxes), 0, "")

static void test_multi_box(void)
{
	struct pc_box union_only[] = { /* r0's two boxes together cover r1: no warning */
		BOX(0, RG(PC_W_DPORT, 0, 100)),
		BOX(0, RG(PC_W_DPORT, 101, 200)),
		BOX(1, RG(PC_W_DPORT, 50, 150)),
	};
	struct pc_box all_boxes[] = { /* both of r1's boxes inside r0's one */
		BOX(0, RG(PC_W_DPORT, 0, 1000)),
		BOX(1, RG(PC_W_DPORT, 80, 80)),
		BOX(1, RG(PC_W_DPORT, 443, 443)),
	};
	struct pc_box box_by_box[] = { /* each of r1's boxes in a different box of r0 */
		BOX(0, RG(PC_W_DPORT, 80, 80)),
		BOX(0, RG(PC_W_DPORT, 443, 443)),
		BOX(1, RG(PC_W_DPORT, 443, 443)),
		BOX(1, RG(PC_W_DPORT, 80, 80)),
	};
	struct pc_box two_rules[] = { /* r0 and r1 each cover half of r2: no warning */
		BOX(0, RG(PC_W_DPORT, 80, 80)),
		BOX(1, RG(PC_W_DPORT, 443, 443)),
		BOX(2, RG(PC_W_DPORT, 80, 80)),
		BOX(2, RG(PC_W_DPORT, 443, 443)),
	};
	struct pc_box one_box_out[] = {
		BOX(0, NET(10, 0, 0, 0, 8)),
		BOX(1, NET(10, 1, 0, 0, 16)),
		BOX(1, NET(11, 1, 0, 0, 16)),
	};

	NONE(2, union_only);
	PAIRS(2, all_boxes, 1, 0);
	PAIRS(2, box_by_box, 1, 0);
	NONE(3, two_rules);
	NONE(2, one_box_out);
}

static void test_first_and_match_all(void)
{
	struct pc_box first[] = { /* r2 is inside r0 and r1: r0 is named */
		BOX(0, NET(10, 0, 0, 0, 8)),
		BOX(1, NET(10, 0, 0, 0, 8)),
		BOX(2, NET(10, 1, 0, 0, 16)),
	};
	struct pc_box all[] = { /* r1 matches everything */
		BOX(0, NET(1, 0, 0, 0, 8)),
		BOX0(1),
		BOX(2, RG(PC_W_DPORT, 80, 80)),
		BOX(3, NET(1, 2, 0, 0, 16)),
		BOX0(4),
	};
	struct pc_box no_boxes[] = { /* r1 has no box (compile dropped it) */
		BOX(0, RG(PC_W_DPORT, 22, 22)),
		BOX(2, RG(PC_W_DPORT, 22, 22)),
	};
	struct pc_box empty_box[] = { /* a box that admits nothing is no rule */
		BOX(0, RG(PC_W_DPORT, 22, 22)),
		BOX(1, RG(PC_W_DPORT, 30, 20)),
		BOX(2, RG(PC_W_DSCP, 0, 63), RG(PC_W_DSCP, 64, 70)),
		BOX(3, MK(PC_W_PROTO, 0x0f, 0x10)),
		BOX(4, RG(PC_W_DPORT, 22, 22)),
		BOX(4, RG(PC_W_DPORT, 30, 20)),
	};

	PAIRS(3, first, 1, 0, 2, 0);
	PAIRS(5, all, 2, 1, 3, 0, 4, 1);
	PAIRS(3, no_boxes, 2, 0);
	PAIRS(5, empty_box, 4, 0);
}

static void test_sentinels(void)
{
	struct pc_box vlan_any[] = { /* r0 has no vlan key: r1's vlan 100 is inside */
		BOX(0, RG(PC_W_DPORT, 80, 80)),
		BOX(1, RG(PC_W_DPORT, 80, 80), RG(PC_W_VLAN, 100, 100)),
	};
	struct pc_box vlan_all[] = { /* vlan 0-4095 leaves out untagged packets */
		BOX(0, RG(PC_W_VLAN, 0, 4095)),
		BOX(1, RG(PC_W_DPORT, 80, 80)),
	};
	struct pc_box ports[] = { /* 0-65535 leaves out the port-less sentinel */
		BOX(0, RG(PC_W_DPORT, 0, 65535)),
		BOX(1, RG(PC_W_DPORT, 0, 0x1ffff)), /* the whole word: no constraint */
		BOX(2, RG(PC_W_PROTO, 1, 1)),
	};

	PAIRS(2, vlan_any, 1, 0);
	NONE(2, vlan_all);
	PAIRS(3, ports, 2, 1);
}

static void test_mask_any(void)
{
	struct pc_box flags[] = { /* syn !ack, then syn !ack !fin: inside */
		BOX(0, MK(PC_W_TCPFLAGS, PC_TCP_SYN | PC_TCP_ACK, PC_TCP_SYN)),
		BOX(1, MK(PC_W_TCPFLAGS, PC_TCP_SYN | PC_TCP_ACK | PC_TCP_FIN, PC_TCP_SYN)),
	};
	struct pc_box flags_rev[] = {
		BOX(0, MK(PC_W_TCPFLAGS, PC_TCP_SYN | PC_TCP_ACK | PC_TCP_FIN, PC_TCP_SYN)),
		BOX(1, MK(PC_W_TCPFLAGS, PC_TCP_SYN | PC_TCP_ACK, PC_TCP_SYN)),
	};
	struct pc_box any_ifaces[] = { /* iface bit 0 or 1, then bit 0 only */
		BOX(0, AN(PC_W_IFBITS, 0x3)),
		BOX(1, AN(PC_W_IFBITS, 0x1), RG(PC_W_DPORT, 80, 80)),
		BOX(2, AN(PC_W_IFBITS, 0x7)),
	};
	struct pc_box always[] = { /* bit 31 of IFBITS is always set */
		BOX(0, AN(PC_W_IFBITS, PC_IFBITS_ALWAYS), RG(PC_W_DPORT, 80, 80)),
		BOX(1, RG(PC_W_DPORT, 80, 80)),
	};
	struct pc_box mask_range[] = {
		BOX(0, MK(PC_W_DSCP, 0x38, 0x28)),         /* 40..47 */
		BOX(1, RG(PC_W_DSCP, 46, 46)),             /* ef */
		BOX(2, RG(PC_W_DSCP, 40, 47)),
		BOX(3, RG(PC_W_DSCP, 40, 48)),
		BOX(4, MK(PC_W_DSCP, 0x3c, 0x2c)),         /* 44..47: inside r0 */
	};
	struct pc_box any_range[] = {
		BOX(0, AN(PC_W_TCPFLAGS, PC_TCP_SYN | PC_TCP_ACK)),
		BOX(1, RG(PC_W_TCPFLAGS, 0x10, 0x13)),     /* all have ack */
		BOX(2, RG(PC_W_TCPFLAGS, 0x01, 0x02)),     /* 0x01 has neither */
		BOX(3, MK(PC_W_TCPFLAGS, 0x02, 0x02)),     /* syn set */
	};

	PAIRS(2, flags, 1, 0);
	NONE(2, flags_rev);
	PAIRS(3, any_ifaces, 1, 0);
	PAIRS(2, always, 1, 0);
	PAIRS(5, mask_range, 1, 0, 2, 0, 4, 0);
	PAIRS(4, any_range, 1, 0, 3, 0);
}

/* Set references past PC_SET_REFS_EAGER (PC_OP_SET: a = the reference, b =
 * the set): what they hold changes at run time, so such a check covers only
 * the same reference, and within another box stands for its whole word. */
#define SET(w, ref, set) { .word = (w), .op = PC_OP_SET, .a = (ref), .b = (set) }
static void test_lazy_sets(void)
{
	struct pc_box set_first[] = { /* a set shadows no literal, nor another set */
		BOX(0, SET(PC_W_SRC0, 40, 3)),
		BOX(1, NET(10, 0, 0, 0, 8)),
		BOX(2, SET(PC_W_SRC0, 41, 4)),
		BOX(3, SET(PC_W_DST0, 42, 3)),
	};
	struct pc_box literal_first[] = { /* nor is shadowed by a literal on its word */
		BOX(0, NET(0, 0, 0, 0, 1)),
		BOX(1, SET(PC_W_SRC0, 40, 3), RG(PC_W_DPORT, 80, 80)),
	};
	struct pc_box other_words[] = { /* r0 holds wherever r1 can: shadowed */
		BOX(0, RG(PC_W_DPORT, 80, 80)),
		BOX(1, SET(PC_W_SRC0, 40, 3), RG(PC_W_DPORT, 80, 80)),
	};
	struct pc_box same_ref[] = { /* the same reference, and narrower elsewhere */
		BOX(0, SET(PC_W_SRC0, 40, 3)),
		BOX(1, SET(PC_W_SRC0, 40, 3), RG(PC_W_PROTO, 6, 6)),
		BOX(2, SET(PC_W_SRC0, 40, 3), NET(10, 0, 0, 0, 8)),
	};

	NONE(4, set_first);
	NONE(2, literal_first);
	PAIRS(2, other_words, 1, 0);
	PAIRS(3, same_ref, 1, 0, 2, 0);
}

static void test_bad_input(void)
{
	struct pc_box unsorted[] = { BOX(1, RG(PC_W_DPORT, 1, 1)), BOX(0, RG(PC_W_DPORT, 1, 1)) };
	struct pc_box bad_word[] = { BOX(0, RG(PC_KEY_WORDS, 1, 1)) };
	struct pc_box bad_op[] = { BOX(0, { .word = PC_W_DPORT, .op = 7 }) };
	struct pc_box bad_rule[] = { BOX(3, RG(PC_W_DPORT, 1, 1)) };
	struct pc_box none[1];
	struct fixture f;
	struct pc_diags d;

	EXPECT(2, unsorted, -EINVAL, "");
	EXPECT(1, bad_word, -EINVAL, "");
	EXPECT(1, bad_op, -EINVAL, "");
	EXPECT(2, bad_rule, -EINVAL, "");
	expect(__LINE__, 0, none, 0, 0, "");
	/* more rules in the ruleset than in the config */
	fixture_init(&f, 1, unsorted, 1);
	f.rs.nrules = 2;
	pc_diags_init(&d, "t.yaml");
	CHECK(pc_shadow_check(&f.cfg, &f.rs, &d) == -EINVAL);
	CHECK(d.n == 0);
	pc_diags_clear(&d);
	fixture_done(&f);
}

/* ---- containment against enumeration, on narrow words ---------------------- */
static uint32_t rnd(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ull;

	s ^= s << 13, s ^= s >> 7, s ^= s << 17;
	return (uint32_t)(s >> 16);
}

static struct pc_check random_check(unsigned w, unsigned width)
{
	uint32_t span = (1u << width) + (rnd() % 4 == 0 ? 4 : 0);
	struct pc_check c = { .word = (uint8_t)w, .op = (uint8_t)(rnd() % 3) };
	uint32_t x = rnd() % span, y = rnd() % span;

	if (c.op == PC_OP_RANGE) {
		c.a = x < y ? x : y;
		c.b = x < y ? y : x;
	} else if (c.op == PC_OP_MASK) {
		c.a = x;
		c.b = rnd() % 8 ? y & x : y;
	} else {
		c.a = rnd() % 4 ? 1u << (rnd() % width) | (rnd() % 2 ? x : 0) : x;
	}
	return c;
}

static bool check_holds(const struct pc_check *c, uint32_t k)
{
	switch (c->op) {
	case PC_OP_RANGE:
		return c->a <= k && k <= c->b;
	case PC_OP_MASK:
		return (k & c->a) == c->b;
	default:
		return (k & c->a) != 0;
	}
}

static bool box_holds(const struct pc_box *b, uint32_t k)
{
	for (uint32_t i = 0; i < b->nchecks; i++)
		if (!check_holds(&b->c[i], k))
			return false;
	return true;
}

static void test_containment_enumerated(void)
{
	static const unsigned words[] = { PC_W_DSCP, PC_W_TCPFLAGS, PC_W_DIR, PC_W_PROTO };
	static const uint8_t widths[PC_KEY_WORDS] = PC_WORD_WIDTHS;
	unsigned wrong = 0, inexact = 0, yes = 0;

	for (unsigned t = 0; t < 200000; t++) {
		unsigned w = words[t % ELEMENTSOF(words)], width = widths[w];
		struct pc_box in = { .nchecks = 1 + (t / 4 % 5 == 0) }, out = { .nchecks = 1 + (t / 4 % 7 == 0) };
		bool exact = true, got;

		for (uint32_t i = 0; i < in.nchecks; i++)
			in.c[i] = random_check(w, width);
		for (uint32_t i = 0; i < out.nchecks; i++)
			out.c[i] = random_check(w, width);
		for (uint32_t k = 0; k < 1u << width && exact; k++)
			if (box_holds(&in, k) && !box_holds(&out, k))
				exact = false;
		got = pc_box_contains(&out, &in);
		yes += got;
		if (got && !exact)
			wrong++;
		/* one inner check, or two ranges: the answer must be exact */
		if (got != exact && (in.nchecks == 1 || (in.c[0].op == PC_OP_RANGE &&
							 in.c[1].op == PC_OP_RANGE)))
			inexact++;
	}
	CHECK(wrong == 0);
	CHECK(inexact == 0);
	CHECK(yes > 10000);
	printf("containment: 200000 random pairs, %u contained, %u wrong, %u inexact\n", yes,
	       wrong, inexact);
}

/* ---- whole rule sets against the quadratic search --------------------------- */
/* Only a box that admits nothing is inside one that admits nothing. */
static bool box_is_empty(const struct pc_box *b)
{
	struct pc_box nothing = BOX(0, RG(PC_W_DIR, 1, 0));

	return pc_box_contains(&nothing, b);
}

static bool rule_covers(const struct pc_ruleset *rs, const size_t *start, uint32_t y, uint32_t r)
{
	bool any = false;

	for (size_t i = start[r]; i < start[r + 1]; i++) {
		bool in = false;

		if (box_is_empty(&rs->boxes[i]))
			continue;
		any = true;
		for (size_t j = start[y]; j < start[y + 1] && !in; j++)
			in = pc_box_contains(&rs->boxes[j], &rs->boxes[i]);
		if (!in)
			return false;
	}
	return any;
}

/* The warnings the quadratic search expects, as text. */
static char *naive_text(const struct pc_ruleset *rs)
{
	size_t *start = calloc(rs->nrules + 2, sizeof(*start)), b = 0, len = 0;
	char *out = NULL;
	FILE *f = open_memstream(&out, &len);

	for (uint32_t r = 0; r <= rs->nrules; r++) {
		start[r] = b;
		while (b < rs->nboxes && rs->boxes[b].rule == r)
			b++;
	}
	start[rs->nrules + 1] = b;
	for (uint32_t r = 0; r < rs->nrules; r++)
		for (uint32_t y = 0; y < r; y++)
			if (rule_covers(rs, start, y, r)) {
				char *s = w(r, y);

				fputs(s, f);
				free(s);
				break;
			}
	fclose(f);
	free(start);
	return out;
}

static void compare_naive(const char *what, struct fixture *f)
{
	struct pc_diags d;
	char *got, *want;
	int r;

	pc_diags_init(&d, "t.yaml");
	r = pc_shadow_check(&f->cfg, &f->rs, &d);
	got = diags_text(&d);
	want = naive_text(&f->rs);
	CHECK(r >= 0 && (size_t)r == d.n);
	if (strcmp(got, want)) {
		fprintf(stderr, "%s: warnings differ from the quadratic search\n--- got:\n%s"
			"--- want:\n%s---\n", what, got, want);
		failures++;
	}
	free(got);
	free(want);
	pc_diags_clear(&d);
}

/* A check on word w drawn from a few nested values, so that rules overlap. */
static struct pc_check random_rule_check(unsigned w)
{
	static const uint32_t nets[][2] = {
		{ 0, UINT32_MAX }, { IP(10, 0, 0, 0), IP(10, 255, 255, 255) },
		{ IP(10, 1, 0, 0), IP(10, 1, 255, 255) }, { IP(10, 1, 2, 3), IP(10, 1, 2, 3) },
		{ IP(10, 2, 0, 0), IP(10, 2, 255, 255) }, { IP(9, 0, 0, 0), IP(11, 0, 0, 0) },
	};
	static const uint32_t ports[][2] = {
		{ 0, 65535 }, { 80, 80 }, { 0, 1023 }, { 1024, 65535 }, { 443, 443 }, { 70, 90 },
	};
	unsigned i = rnd() % 6;

	if (w == PC_W_SRC0 || w == PC_W_DST0)
		return (struct pc_check)RG(w, nets[i][0], nets[i][1]);
	if (w == PC_W_DPORT)
		return (struct pc_check)RG(w, ports[i][0], ports[i][1]);
	if (w == PC_W_TCPFLAGS)
		return rnd() % 2 ? (struct pc_check)MK(w, rnd() % 4, rnd() % 4) :
				   (struct pc_check)AN(w, 1 + rnd() % 3);
	return (struct pc_check)RG(w, 6 + rnd() % 2 * 11, 6 + rnd() % 2 * 11);
}

static void test_random_rulesets(void)
{
	static const unsigned words[] = {
		PC_W_SRC0, PC_W_DST0, PC_W_DPORT, PC_W_PROTO, PC_W_TCPFLAGS,
	};

	for (unsigned set = 0; set < 300; set++) {
		uint32_t nrules = 1 + rnd() % 40;
		struct pc_box *boxes = calloc(nrules * 3, sizeof(*boxes));
		size_t n = 0;
		struct fixture f;
		char what[32];

		for (uint32_t r = 0; r < nrules; r++)
			for (unsigned nb = rnd() % 3 + (rnd() % 8 == 0 ? 0 : 1); nb > 0; nb--) {
				boxes[n].rule = r;
				for (unsigned k = 0; k < ELEMENTSOF(words); k++)
					if (rnd() % 3 == 0)
						boxes[n].c[boxes[n].nchecks++] =
							random_rule_check(words[k]);
				n++;
			}
		fixture_init(&f, nrules, boxes, n);
		snprintf(what, sizeof(what), "random set %u", set);
		compare_naive(what, &f);
		fixture_done(&f);
		free(boxes);
	}
}

/* ---- through the parser and pc_compile ------------------------------------- */
/* Parse and compile yaml as "t.yaml"; the shadow warnings must be want. */
static void expect_yaml(int line, const char *yaml, const char *want)
{
	struct pc_config *c = NULL;
	struct pc_ruleset *rs = NULL;
	struct pc_diags d;
	char *got = NULL;
	int r;

	pc_diags_init(&d, "t.yaml");
	r = pc_config_parse("t.yaml", yaml, strlen(yaml), &c, &d);
	if (r == 0)
		r = pc_compile(c, &rs, &d);
	if (r == 0) {
		pc_diags_clear(&d);
		pc_diags_init(&d, "t.yaml");
		r = pc_shadow_check(c, rs, &d);
		got = diags_text(&d);
	}
	if (!got || strcmp(got, want) || r != (int)d.n) {
		fprintf(stderr, "test-shadow.c:%d: r=%d\n--- got:\n%s--- want:\n%s---\n", line, r,
			got ? got : "(no result)\n", want);
		failures++;
	}
	free(got);
	pc_diags_clear(&d);
	pc_ruleset_free(rs);
	pc_config_free(c);
}

#define YAML(rules, want) expect_yaml(__LINE__, "version: 1\nrules:\n" rules, want)
#define WY(rline, rname, yname, yline) "t.yaml:" #rline ":5: warning: rule '" rname "' can " \
	"never match: rule '" yname "' (line " #yline ") matches every packet it would\n"

static void test_compiled(void)
{
	YAML("  - { name: web, match: { proto: tcp, dst_port: [80, 443] } }\n"
	     "  - { name: https, match: { proto: tcp, dst_port: 443, dst: 192.0.2.0/24 } }\n",
	     WY(4, "https", "web", 3));
	YAML("  - { name: https, match: { proto: tcp, dst_port: 443 } }\n"
	     "  - { name: web, match: { proto: tcp, dst_port: [80, 443] } }\n", "");
	YAML("  - { name: a, match: { src: 10.0.0.0/8 } }\n"
	     "  - { name: all }\n"
	     "  - { name: b, match: { src: 10.1.0.0/16 } }\n"
	     "  - { name: c, match: { proto: udp } }\n",
	     WY(5, "b", "a", 3) WY(6, "c", "all", 4));
	/* both families in one list; the other family is not covered */
	YAML("  - { name: a, match: { src: [10.0.0.0/8, \"2001:db8::/32\"] } }\n"
	     "  - { name: b, match: { src: [10.1.0.0/16, \"2001:db8:1::/48\"] } }\n"
	     "  - { name: c, match: { src: [10.1.0.0/16, \"2001:db9::/48\"] } }\n",
	     WY(4, "b", "a", 3));
	/* only the union of two earlier rules covers c: no warning */
	YAML("  - { name: a, match: { dst_port: 0-1000 } }\n"
	     "  - { name: b, match: { dst_port: 1001-65535 } }\n"
	     "  - { name: c, match: { proto: tcp, dst_port: 80-2000 } }\n", "");
	/* ports imply a protocol with ports, not the other way round */
	YAML("  - { name: a, match: { dst_port: 53 } }\n"
	     "  - { name: b, match: { proto: udp, dst_port: 53 } }\n", WY(4, "b", "a", 3));
	YAML("  - { name: a, match: { proto: udp, dst_port: 53 } }\n"
	     "  - { name: b, match: { dst_port: 53 } }\n", "");
	YAML("  - { name: a, match: { dst_port: 0-65535 } }\n"
	     "  - { name: b, match: { proto: icmp } }\n", "");
	/* vlan: a rule without vlan covers tagged packets, 0-4095 not the untagged */
	YAML("  - { name: a, match: { proto: tcp } }\n"
	     "  - { name: b, match: { proto: tcp, vlan: 10 } }\n"
	     "  - { name: c, match: { vlan: 0-4095 } }\n"
	     "  - { name: d, match: { proto: udp } }\n", WY(4, "b", "a", 3));
	YAML("  - { name: a, match: { tcp_flags: [syn, \"!ack\"] } }\n"
	     "  - { name: b, match: { proto: tcp, tcp_flags: [syn, \"!ack\", \"!fin\"] } }\n"
	     "  - { name: c, match: { tcp_flags: syn } }\n",
	     WY(4, "b", "a", 3));
	YAML("  - { name: a, match: { iface: \"eth*\", direction: ingress } }\n"
	     "  - { name: b, match: { iface: \"eth*\", direction: ingress, proto: icmp } }\n"
	     "  - { name: c, match: { iface: eth0, direction: ingress } }\n"
	     "  - { name: d, match: { direction: egress } }\n",
	     WY(4, "b", "a", 3));
	YAML("  - { name: a, match: { dscp: [ef, af41], length: 0-1500 } }\n"
	     "  - { name: b, match: { dscp: ef, length: 100-200 } }\n"
	     "  - { name: c, match: { dscp: ef, length: 100-2000 } }\n",
	     WY(4, "b", "a", 3));
}

/* A port range with a protocol without ports: the config rejects it. */
static bool cb_skip(unsigned splo, unsigned sphi, unsigned dplo, unsigned dphi, unsigned proto,
		    unsigned pmask)
{
	bool ports = splo != 0 || sphi != 65535 || dplo != 0 || dphi != 65535;

	return ports && pmask == 0xff && proto != 6 && proto != 17 && proto != 132 && proto != 136;
}

static bool load_classbench(const char *path, struct fixture *f, uint32_t max, bool strict);

/* A ClassBench file as YAML rules named r0, r1... */
static char *classbench_yaml(const char *path)
{
	unsigned s[4], d[4], sl, dl, splo, sphi, dplo, dphi, proto, pmask;
	FILE *in = fopen(path, "re"), *out;
	char line[512], *yaml = NULL;
	size_t len = 0, n = 0;

	if (!in)
		return NULL;
	out = open_memstream(&yaml, &len);
	fputs("version: 1\nrules:\n", out);
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &s[0],
			   &s[1], &s[2], &s[3], &sl, &d[0], &d[1], &d[2], &d[3], &dl, &splo, &sphi,
			   &dplo, &dphi, &proto, &pmask) != 16 ||
		    cb_skip(splo, sphi, dplo, dphi, proto, pmask))
			continue;
		fprintf(out, "  - name: r%zu\n    match: { src: %u.%u.%u.%u/%u, dst: %u.%u.%u.%u/%u",
			n++, s[0], s[1], s[2], s[3], sl, d[0], d[1], d[2], d[3], dl);
		if (splo != 0 || sphi != 65535)
			fprintf(out, ", src_port: %u-%u", splo, sphi);
		if (dplo != 0 || dphi != 65535)
			fprintf(out, ", dst_port: %u-%u", dplo, dphi);
		if (pmask == 0xff)
			fprintf(out, ", proto: %u", proto);
		fputs(" }\n", out);
	}
	fclose(in);
	fclose(out);
	return yaml;
}

/* "r5 r3\n" for each warning: shadowed rule and the rule named. */
static char *pairs_text(const struct pc_diags *d)
{
	char *out = NULL, a[64], b[64];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	for (size_t i = 0; i < d->n; i++)
		if (sscanf(d->v[i].msg, "rule '%63[^']' can never match: rule '%63[^']'", a, b) == 2)
			fprintf(f, "%s %s\n", a, b);
	fclose(f);
	return out;
}

/* The same file through the parser and pc_compile, and as hand-made boxes:
 * the same rules are reported. */
static void compare_compiled(const char *path)
{
	char *yaml = classbench_yaml(path);
	struct pc_config *c = NULL;
	struct pc_ruleset *rs = NULL;
	struct fixture f = {};
	struct pc_diags d1, d2;
	char *p1, *p2;

	if (!yaml) {
		CHECK(yaml != NULL);
		return;
	}
	pc_diags_init(&d1, "cb.yaml");
	pc_diags_init(&d2, "cb.yaml");
	CHECK(pc_config_parse("cb.yaml", yaml, strlen(yaml), &c, &d1) == 0);
	CHECK(c && pc_compile(c, &rs, &d1) == 0);
	CHECK(load_classbench(path, &f, UINT32_MAX, true));
	if (c && rs) {
		pc_diags_clear(&d1);
		pc_diags_init(&d1, "cb.yaml");
		CHECK(pc_shadow_check(c, rs, &d1) >= 0);
	}
	CHECK(pc_shadow_check(&f.cfg, &f.rs, &d2) >= 0);
	p1 = pairs_text(&d1);
	p2 = pairs_text(&d2);
	if (strcmp(p1, p2)) {
		fprintf(stderr, "%s: compiled and hand-made boxes differ\n--- compiled:\n%s"
			"--- hand-made:\n%s---\n", path, p1, p2);
		failures++;
	}
	else
		printf("%s: %zu shadowed, the same through pc_compile\n", path, d2.n);
	free(p1);
	free(p2);
	pc_diags_clear(&d1);
	pc_diags_clear(&d2);
	fixture_done(&f);
	pc_ruleset_free(rs);
	pc_config_free(c);
	free(yaml);
}

/* ---- ClassBench ---------------------------------------------------------------- */
static void add_range(struct pc_box *b, unsigned w, uint32_t lo, uint32_t hi, uint32_t full)
{
	if (lo != 0 || hi != full)
		b->c[b->nchecks++] = (struct pc_check)RG(w, lo, hi);
}

/* strict: skip the rules that the config would reject (see cb_skip). */
static bool parse_line(const char *line, uint32_t rule, bool strict, struct pc_box *b)
{
	unsigned s[4], d[4], sl, dl, splo, sphi, dplo, dphi, proto, pmask;
	uint32_t src, dst;

	if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &s[0], &s[1],
		   &s[2], &s[3], &sl, &d[0], &d[1], &d[2], &d[3], &dl, &splo, &sphi, &dplo,
		   &dphi, &proto, &pmask) != 16 || sl > 32 || dl > 32 ||
	    (strict && cb_skip(splo, sphi, dplo, dphi, proto, pmask)))
		return false;
	*b = (struct pc_box){ .rule = rule };
	src = IP(s[0], s[1], s[2], s[3]);
	dst = IP(d[0], d[1], d[2], d[3]);
	b->c[b->nchecks++] = (struct pc_check)RG(PC_W_L3, 0x0800, 0x0800);
	if (sl)
		add_range(b, PC_W_SRC0, src, src | HOSTS(sl), UINT32_MAX);
	if (dl)
		add_range(b, PC_W_DST0, dst, dst | HOSTS(dl), UINT32_MAX);
	add_range(b, PC_W_SPORT, splo, sphi, 65535);
	add_range(b, PC_W_DPORT, dplo, dphi, 65535);
	if (pmask == 0xff)
		add_range(b, PC_W_PROTO, proto, proto, 256);
	return true;
}

/* Append the rules of ClassBench file path to f, up to max rules. */
static bool load_classbench(const char *path, struct fixture *f, uint32_t max, bool strict)
{
	FILE *in = fopen(path, "re");
	char line[512];
	size_t cap = f->rs.nboxes;

	if (!in)
		return false;
	while (f->rs.nrules < max && fgets(line, sizeof(line), in)) {
		uint32_t r = f->rs.nrules;

		if (r >= cap) {
			cap = cap ? cap * 2 : 1024;
			f->rs.boxes = reallocarray(f->rs.boxes, cap, sizeof(*f->rs.boxes));
			f->cfg.rules = reallocarray(f->cfg.rules, cap, sizeof(*f->cfg.rules));
		}
		if (!parse_line(line, r, strict, &f->rs.boxes[r]))
			continue;
		f->cfg.rules[r] = (struct pc_rule){ .pos = { .line = 10 * (r + 1), .col = 5 } };
		snprintf(f->cfg.rules[r].name, sizeof(f->cfg.rules[r].name), "r%u", r);
		f->rs.nrules = f->rs.nboxes = f->cfg.n_rules = r + 1;
	}
	fclose(in);
	return true;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *const families[] = {
	"acl1", "acl2", "acl3", "acl4", "acl5", "fw1", "fw2", "fw3", "fw4", "fw5", "ipc1", "ipc2",
};

static int timed_check(struct fixture *f, double *ms)
{
	struct pc_diags d;
	double t0 = now_ms();
	int r;

	pc_diags_init(&d, "t.yaml");
	r = pc_shadow_check(&f->cfg, &f->rs, &d);
	*ms = now_ms() - t0;
	CHECK(r >= 0 && (size_t)r == d.n);
	pc_diags_clear(&d);
	return r;
}

static void test_classbench(const char *dir)
{
	struct fixture all = {};
	uint32_t first;
	char path[512];
	double ms;
	int r, total = 0;

	for (size_t i = 0; i < ELEMENTSOF(families); i++) {
		struct fixture f = {};

		snprintf(path, sizeof(path), "%s/%s_1k", dir, families[i]);
		CHECK(load_classbench(path, &f, UINT32_MAX, false) && f.rs.nrules > 500);
		compare_naive(path, &f);
		fixture_done(&f);
		compare_compiled(path);

		f = (struct fixture){};
		snprintf(path, sizeof(path), "%s/%s_10k", dir, families[i]);
		CHECK(load_classbench(path, &f, UINT32_MAX, false) && f.rs.nrules > 5000);
		r = timed_check(&f, &ms);
		printf("%-8s %6u rules: %5d shadowed, %7.1f ms\n", families[i], f.rs.nrules, r, ms);
		fixture_done(&f);
		/* each family on its own VLAN: no family covers another's rules */
		first = all.rs.nrules;
		CHECK(load_classbench(path, &all, 100000, false));
		for (uint32_t b = first; b < all.rs.nrules; b++)
			all.rs.boxes[b].c[all.rs.boxes[b].nchecks++] =
				(struct pc_check)RG(PC_W_VLAN, (uint32_t)i, (uint32_t)i);
		total += r;
	}
	r = timed_check(&all, &ms);
	printf("all_10k  %6u rules: %5d shadowed, %7.1f ms\n", all.rs.nrules, r, ms);
	CHECK(all.rs.nrules == 100000);
	CHECK(r <= total);
	fixture_done(&all);
}

int main(void)
{
	const char *cb = getenv("PC_CLASSBENCH_DIR");
	char probe[512];

	test_ranges();
	test_multi_box();
	test_first_and_match_all();
	test_sentinels();
	test_mask_any();
	test_lazy_sets();
	test_bad_input();
	test_containment_enumerated();
	test_random_rulesets();
	test_compiled();
	if (!cb)
		cb = "tests/data/classbench";
	snprintf(probe, sizeof(probe), "%s/acl1_1k", cb);
	if (access(probe, R_OK) == 0) {
		test_classbench(cb);
	} else {
		fprintf(stderr, "classbench: %s not found (PC_CLASSBENCH_DIR)\n", cb);
		failures++;
	}
	if (failures)
		fprintf(stderr, "%u check(s) failed\n", failures);
	return failures ? 1 : 0;
}
