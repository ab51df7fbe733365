/* SPDX-License-Identifier: GPL-2.0-only */
/* shadow.c - rules that can never match because one earlier rule covers
 * them.  Box containment is decided word by word on the sets of values each
 * check admits; candidate outer boxes come from nested binary tries, one per
 * indexed word, on the smallest aligned blocks that hold each box's values. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/shadow.h"
#include "lib/u64map.h"
#include "lib/util.h"

static const uint8_t word_width[PC_KEY_WORDS] = PC_WORD_WIDTHS;

static uint32_t width_mask(unsigned w)
{
	return word_width[w] >= 32 ? UINT32_MAX : (1u << word_width[w]) - 1;
}

/* ---- one check as a set of values ----------------------------------------- */
/* Smallest and largest value the check admits; false when it admits none.
 * Both bounds belong to the set for every op but PC_OP_SET, whose values
 * depend on the set's contents of the moment: its hull is the whole word
 * (check_in() takes it for that range as an inner check, and as an outer one
 * for nothing but the same reference). */
static bool check_hull(const struct pc_check *c, uint32_t *lo, uint32_t *hi)
{
	uint32_t wm = width_mask(c->word), m;

	switch (c->op) {
	case PC_OP_SET:
		*lo = 0;
		*hi = wm;
		return true;
	case PC_OP_RANGE:
		*lo = c->a;
		*hi = c->b < wm ? c->b : wm;
		return *lo <= *hi;
	case PC_OP_MASK:
		if ((c->b & ~c->a) || (c->b & ~wm))
			return false;
		*lo = c->b;
		*hi = c->b | (~c->a & wm);
		return true;
	case PC_OP_ANY:
		m = c->a & wm;
		if (!m)
			return false;
		*lo = 1u << __builtin_ctz(m);
		*hi = wm;
		return true;
	default:
		return false;
	}
}

/* Smallest k >= l with (k & m) == 0; false when there is none below 2^32. */
static bool next_clear(uint32_t l, uint32_t m, uint32_t *ret)
{
	unsigned j;

	if (!(l & m)) {
		*ret = l;
		return true;
	}
	j = 31 - __builtin_clz(l & m);
	for (unsigned p = j + 1; p < 32; p++)
		if (!((l | m) >> p & 1)) {
			*ret = ((l >> p) | 1) << p;
			return true;
		}
	return false;
}

static bool range_in_mask(uint32_t l, uint32_t h, uint32_t m, uint32_t v)
{
	uint32_t varying;

	if (l == h)
		return (l & m) == v;
	/* Every bit at or below the highest differing one takes both values. */
	varying = UINT32_MAX >> __builtin_clz(l ^ h);
	return !(m & varying) && (l & m) == v;
}

static bool range_in_any(uint32_t l, uint32_t h, uint32_t m)
{
	uint32_t k;

	return !next_clear(l, m, &k) || k > h;
}

static bool any_in_mask(uint32_t m1, uint32_t m2, uint32_t v2, uint32_t wm)
{
	m1 &= wm;
	if (!(m2 & wm))
		return v2 == 0;
	return __builtin_popcount(m1) == 1 && (m2 & wm) == m1 && v2 == m1;
}

/* b (not empty) admits only values that a admits. */
static bool check_in(const struct pc_check *b, const struct pc_check *a)
{
	uint32_t wm = width_mask(a->word), lo, hi;
	struct pc_check whole = { .word = b->word, .op = PC_OP_RANGE, .b = width_mask(b->word) };

	if (a->op == PC_OP_SET)
		return b->op == PC_OP_SET && b->a == a->a && b->b == a->b;
	if (b->op == PC_OP_SET)
		b = &whole;
	if (!check_hull(b, &lo, &hi))
		return true;
	switch (a->op) {
	case PC_OP_RANGE:
		return a->a <= lo && hi <= a->b;
	case PC_OP_MASK:
		if (b->op == PC_OP_RANGE)
			return range_in_mask(lo, hi, a->a, a->b);
		if (b->op == PC_OP_MASK)
			return !(a->a & wm & ~b->a) && (b->b & a->a) == a->b;
		return any_in_mask(b->a, a->a, a->b, wm);
	case PC_OP_ANY:
		if (b->op == PC_OP_RANGE)
			return range_in_any(lo, hi, a->a);
		if (b->op == PC_OP_MASK)
			return (b->b & a->a) != 0;
		return !(b->a & wm & ~a->a);
	default:
		return false;
	}
}

/* ---- boxes ----------------------------------------------------------------- */
/* A check true for every key: bit 31 of PC_W_IFBITS is always set. */
static bool check_always(const struct pc_check *a)
{
	struct pc_check full = { .word = a->word, .op = PC_OP_RANGE, .b = width_mask(a->word) };

	if (a->word == PC_W_IFBITS && a->op == PC_OP_ANY && (a->a & PC_IFBITS_ALWAYS))
		return true;
	return check_in(&full, a);
}

/* Hull of the intersection of b's checks on word w (the full width without
 * any); false when that is empty. */
static bool word_hull(const struct pc_box *b, unsigned w, uint32_t *lo, uint32_t *hi)
{
	uint32_t l, h;

	*lo = 0;
	*hi = width_mask(w);
	for (uint32_t i = 0; i < b->nchecks; i++) {
		if (b->c[i].word != w)
			continue;
		if (!check_hull(&b->c[i], &l, &h))
			return false;
		*lo = l > *lo ? l : *lo;
		*hi = h < *hi ? h : *hi;
	}
	return *lo <= *hi;
}

static bool box_empty(const struct pc_box *b)
{
	uint32_t lo, hi;

	for (uint32_t i = 0; i < b->nchecks; i++)
		if (!word_hull(b, b->c[i].word, &lo, &hi))
			return true;
	return false;
}

/* Words and ops in range: everything below relies on it. */
static bool box_valid(const struct pc_box *b)
{
	if (b->nchecks > PC_BOX_CHECKS)
		return false;
	for (uint32_t i = 0; i < b->nchecks; i++)
		if (b->c[i].word >= PC_KEY_WORDS || b->c[i].op > PC_OP_SET)
			return false;
	return true;
}

/* inner's values on a's word (inner not empty) all pass a. */
static bool word_in(const struct pc_box *inner, const struct pc_check *a)
{
	struct pc_check hull = { .word = a->word, .op = PC_OP_RANGE };

	for (uint32_t i = 0; i < inner->nchecks; i++)
		if (inner->c[i].word == a->word && check_in(&inner->c[i], a))
			return true;
	word_hull(inner, a->word, &hull.a, &hull.b);
	return check_in(&hull, a);
}

static bool box_in(const struct pc_box *inner, const struct pc_box *outer)
{
	for (uint32_t i = 0; i < outer->nchecks; i++)
		if (!check_always(&outer->c[i]) && !word_in(inner, &outer->c[i]))
			return false;
	return true;
}

bool pc_box_contains(const struct pc_box *outer, const struct pc_box *inner)
{
	if (!box_valid(inner) || !box_valid(outer))
		return false;
	return box_empty(inner) || box_in(inner, outer);
}

/* ---- index: a trie per indexed word, each node holding the next word's ---- */
/* The index cuts on the INDEX_LEVELS words where the boxes are narrowest
 * (source, destination and a port for ClassBench-like sets; VLAN or DSCP
 * for sets that differ only there).  An outer box can only contain an inner
 * one when each of its blocks holds the inner one's, that is, lies on the
 * inner block's trie path. */
#define INDEX_LEVELS 3

struct block {
	uint32_t prefix; /* left-aligned in 32 bits */
	uint8_t len;
};

/* The smallest aligned block holding every value of word w in b (b not
 * empty).  Checks that every key passes are left out, as box_in() does. */
static struct block box_block(const struct pc_box *b, unsigned w)
{
	unsigned shift = 32 - word_width[w], len;
	uint32_t lo = 0, hi = width_mask(w), l, h;

	for (uint32_t i = 0; i < b->nchecks; i++)
		if (b->c[i].word == w && !check_always(&b->c[i]) && check_hull(&b->c[i], &l, &h)) {
			lo = l > lo ? l : lo;
			hi = h < hi ? h : hi;
		}
	lo <<= shift;
	hi <<= shift;
	if (lo == hi)
		return (struct block){ .prefix = lo, .len = word_width[w] };
	len = __builtin_clz(lo ^ hi);
	return (struct block){ .prefix = len ? lo & ~(UINT32_MAX >> len) : 0, .len = len };
}

static unsigned block_bit(struct block b, unsigned depth)
{
	return b.prefix >> (31 - depth) & 1;
}

struct tnode {
	uint32_t child[2]; /* node index, 0 = none (node 0 is never a child) */
	uint32_t sub;      /* inner levels: root of the next level's trie, or 0 */
	uint32_t list;     /* last level: first entry + 1, or 0 */
};

struct entry {
	uint32_t box;
	uint32_t next; /* entry + 1, or 0 */
};

/* Boxes wide on all INDEX_LEVELS words (rules without addresses and ports)
 * would all sit in one list and be tried against every box: they are filed
 * instead under their blocks on the first two words, in the order of distinct
 * blocks, where they are narrower than everything (a port and dscp, length,
 * VLAN...), and a query probes the prefix paths of its blocks on each such
 * pair of words, at the block lengths some box is filed under. */
#define NO_WORD PC_KEY_WORDS
struct index {
	unsigned words[INDEX_LEVELS];
	unsigned order[PC_KEY_WORDS];  /* every word by distinct blocks, most first */
	struct tnode *nodes;
	size_t nnodes, cap_nodes;
	struct entry *ents;
	size_t nents, cap_ents;
	/* per pair of words (the second NO_WORD: one narrow word only), bit l:
	 * a wide box filed under a length-l block of that word */
	uint64_t lens[PC_KEY_WORDS][PC_KEY_WORDS + 1][2];
	struct pc_u64map heads;        /* pair_key() -> first entry + 1 */
};

static uint64_t block_key(unsigned w, unsigned len, uint32_t prefix)
{
	uint32_t p = len ? prefix & ~(UINT32_MAX >> len) : 0;

	return (uint64_t)w << 40 | (uint64_t)len << 32 | p;
}

/* The key of blocks (w1, l1, p1) and (w2, l2, p2); never 0. */
static uint64_t pair_key(unsigned w1, unsigned l1, uint32_t p1, unsigned w2, unsigned l2,
			 uint32_t p2)
{
	uint64_t k = block_key(w1, l1, p1) * 0x100000001b3ull ^ block_key(w2, l2, p2);

	return (k ^ k >> 29) | 1;
}

static int new_node(struct index *ix, uint32_t *ret)
{
	if (pc_grow((void **)&ix->nodes, &ix->cap_nodes, ix->nnodes + 1, sizeof(*ix->nodes)) < 0)
		return -ENOMEM;
	ix->nodes[ix->nnodes] = (struct tnode){};
	*ret = (uint32_t)ix->nnodes++;
	return 0;
}
/* The node for block b under root, created as needed. */
static int trie_walk(struct index *ix, uint32_t root, struct block b, uint32_t *ret)
{
	uint32_t n = root, c;

	for (unsigned d = 0; d < b.len; d++) {
		unsigned bit = block_bit(b, d);

		if (!ix->nodes[n].child[bit]) {
			if (new_node(ix, &c) < 0)
				return -ENOMEM;
			ix->nodes[n].child[bit] = c;
		}
		n = ix->nodes[n].child[bit];
	}
	*ret = n;
	return 0;
}

/* A box wide on every trie word: into the block index, under its first two
 * narrow words. */
static int bucket_add(struct index *ix, const struct pc_box *b, uint32_t box)
{
	unsigned w[2] = { ix->order[0], NO_WORD }, n = 0;
	struct block bl[2] = { { 0 }, { 0 } };
	uint32_t *head;

	for (unsigned i = 0; i < PC_KEY_WORDS && n < 2; i++) {
		struct block x = box_block(b, ix->order[i]);

		if (x.len) {
			w[n] = ix->order[i];
			bl[n++] = x;
		}
	}
	head = pc_u64map_get(&ix->heads, pair_key(w[0], bl[0].len, bl[0].prefix, w[1], bl[1].len,
						  bl[1].prefix));
	if (!head || pc_grow((void **)&ix->ents, &ix->cap_ents, ix->nents + 1, sizeof(*ix->ents)) < 0)
		return -ENOMEM;
	ix->ents[ix->nents] = (struct entry){ .box = box, .next = *head };
	*head = (uint32_t)++ix->nents;
	ix->lens[w[0]][w[1]][0] |= 1ull << bl[0].len;
	ix->lens[w[0]][w[1]][1] |= 1ull << bl[1].len;
	return 0;
}

static bool wide_on_trie_words(const struct index *ix, const struct pc_box *b)
{
	for (unsigned l = 0; l < INDEX_LEVELS; l++)
		if (box_block(b, ix->words[l]).len)
			return false;
	return true;
}

static int index_add(struct index *ix, const struct pc_box *b, uint32_t box)
{
	uint32_t n = 0, sub;

	if (wide_on_trie_words(ix, b))
		return bucket_add(ix, b, box);

	for (unsigned l = 0;; l++) {
		if (trie_walk(ix, n, box_block(b, ix->words[l]), &n) < 0)
			return -ENOMEM;
		if (l == INDEX_LEVELS - 1)
			break;
		if (!ix->nodes[n].sub) {
			if (new_node(ix, &sub) < 0)
				return -ENOMEM;
			ix->nodes[n].sub = sub;
		}
		n = ix->nodes[n].sub;
	}
	if (pc_grow((void **)&ix->ents, &ix->cap_ents, ix->nents + 1, sizeof(*ix->ents)) < 0)
		return -ENOMEM;
	ix->ents[ix->nents] = (struct entry){ .box = box, .next = ix->nodes[n].list };
	ix->nodes[n].list = (uint32_t)++ix->nents;
	return 0;
}

/* Pick the words with the most distinct blocks (counted roughly, as bits set
 * in a hashed bitmap), so that the trie paths split the boxes finely. */
#define DISTINCT_BITS 16

static unsigned distinct_blocks(const struct pc_ruleset *rs, unsigned w, uint64_t *bitmap)
{
	size_t words = (1u << DISTINCT_BITS) / 64;
	unsigned n = 0;

	memset(bitmap, 0, words * sizeof(*bitmap));
	for (size_t i = 0; i < rs->nboxes; i++) {
		struct block b = box_block(&rs->boxes[i], w);
		uint64_t h = ((uint64_t)b.prefix << 8 | b.len) * 0x9e3779b97f4a7c15ull;

		h >>= 64 - DISTINCT_BITS;
		bitmap[h / 64] |= 1ull << (h % 64);
	}
	for (size_t i = 0; i < words; i++)
		n += (unsigned)__builtin_popcountll(bitmap[i]);
	return n;
}

static int index_pick_words(struct index *ix, const struct pc_ruleset *rs)
{
	uint64_t *bitmap = malloc((1u << DISTINCT_BITS) / 8);
	unsigned score[PC_KEY_WORDS];
	bool taken[PC_KEY_WORDS] = {};

	if (!bitmap)
		return -ENOMEM;
	for (unsigned w = 0; w < PC_KEY_WORDS; w++) {
		score[w] = distinct_blocks(rs, w, bitmap);
		ix->order[w] = w;
	}
	free(bitmap);
	for (unsigned i = 1; i < PC_KEY_WORDS; i++) /* insertion sort, most first */
		for (unsigned j = i; j > 0 && score[ix->order[j]] > score[ix->order[j - 1]]; j--) {
			unsigned t = ix->order[j];

			ix->order[j] = ix->order[j - 1];
			ix->order[j - 1] = t;
		}
	for (unsigned l = 0; l < INDEX_LEVELS; l++) {
		unsigned best = 0;

		while (taken[best])
			best++;
		for (unsigned w = best + 1; w < PC_KEY_WORDS; w++)
			if (!taken[w] && score[w] > score[best])
				best = w;
		taken[best] = true;
		ix->words[l] = best;
	}
	return 0;
}

/* ---- the check --------------------------------------------------------------- */
struct shadow {
	const struct pc_ruleset *rs;
	struct index ix;
	uint32_t *cnt;     /* per rule: boxes of the current rule it covers */
	uint32_t *stamp;   /* per rule: current rule + 1 when cnt is valid */
	uint32_t *touched; /* rules that cover the current rule's first box */
	size_t ntouched;
	uint32_t cur;
};

/* Outer box ob covers the current rule's box i: count it for ob's rule. */
static void visit(struct shadow *s, uint32_t ob, const struct pc_box *inner, uint32_t i)
{
	uint32_t y = s->rs->boxes[ob].rule;

	if (i == 0 && s->stamp[y] != s->cur + 1) {
		if (!box_in(inner, &s->rs->boxes[ob]))
			return;
		s->stamp[y] = s->cur + 1;
		s->cnt[y] = 1;
		s->touched[s->ntouched++] = y;
	} else if (i > 0 && s->stamp[y] == s->cur + 1 && s->cnt[y] == i &&
		   box_in(inner, &s->rs->boxes[ob]))
		s->cnt[y] = i + 1;
}

static void visit_list(struct shadow *s, uint32_t list, const struct pc_box *b, uint32_t i)
{
	for (uint32_t e = list; e; e = s->ix.ents[e - 1].next)
		visit(s, s->ix.ents[e - 1].box, b, i);
}

/* Every indexed box under the level-l trie at root whose blocks hold bl's. */
static void query(struct shadow *s, const struct block *bl, unsigned l, uint32_t root,
		  const struct pc_box *b, uint32_t i)
{
	const struct tnode *nodes = s->ix.nodes;

	/* node 0 is the first level's root and never anyone's child */
	for (uint32_t n = root, d = 0;; d++) {
		if (l < INDEX_LEVELS - 1 && nodes[n].sub)
			query(s, bl, l + 1, nodes[n].sub, b, i);
		else if (l == INDEX_LEVELS - 1)
			visit_list(s, nodes[n].list, b, i);
		if (d == bl[l].len || !(n = nodes[n].child[block_bit(bl[l], d)]))
			break;
	}
}

/* Block lengths in lens no longer than bl's. */
static uint64_t lens_upto(uint64_t lens, struct block bl)
{
	return bl.len < 63 ? lens & ((2ull << bl.len) - 1) : lens;
}

/* Every box of the block index filed under blocks on the prefix paths of b's
 * blocks on one pair of words. */
static void query_pair(struct shadow *s, const struct pc_box *b, uint32_t i, unsigned w1,
		       unsigned w2)
{
	const struct index *ix = &s->ix;
	struct block b1 = box_block(b, w1), b2 = { 0 };
	uint64_t l1s = lens_upto(ix->lens[w1][w2][0], b1), l2s;

	if (w2 != NO_WORD)
		b2 = box_block(b, w2);
	l2s = lens_upto(ix->lens[w1][w2][1], b2);
	for (; l1s; l1s &= l1s - 1)
		for (uint64_t m = l2s; m; m &= m - 1) {
			unsigned l1 = (unsigned)__builtin_ctzll(l1s), l2 = (unsigned)__builtin_ctzll(m);
			const uint32_t *head = pc_u64map_find(&ix->heads, pair_key(w1, l1, b1.prefix,
										w2, l2, b2.prefix));

			if (head)
				visit_list(s, *head, b, i);
		}
}

static void query_buckets(struct shadow *s, const struct pc_box *b, uint32_t i)
{
	if (!s->ix.heads.used)
		return;
	for (unsigned w1 = 0; w1 < PC_KEY_WORDS; w1++)
		for (unsigned w2 = 0; w2 <= PC_KEY_WORDS; w2++)
			if (s->ix.lens[w1][w2][0])
				query_pair(s, b, i, w1, w2);
}

static void query_box(struct shadow *s, const struct pc_box *b, uint32_t i)
{
	struct block bl[INDEX_LEVELS];

	for (unsigned l = 0; l < INDEX_LEVELS; l++)
		bl[l] = box_block(b, s->ix.words[l]);
	query(s, bl, 0, 0, b, i);
	query_buckets(s, b, i);
}

/* The first rule covering boxes [first, end) of the current rule, or UINT32_MAX. */
static uint32_t covering_rule(struct shadow *s, size_t first, size_t end)
{
	uint32_t best = UINT32_MAX, n = 0;

	s->ntouched = 0;
	for (size_t i = first; i < end; i++) {
		if (box_empty(&s->rs->boxes[i]))
			continue;
		query_box(s, &s->rs->boxes[i], n++);
		if (s->ntouched == 0)
			return UINT32_MAX;
	}
	for (size_t t = 0; t < s->ntouched; t++) {
		uint32_t y = s->touched[t];

		if (s->cnt[y] == n && y < best)
			best = y;
	}
	return n ? best : UINT32_MAX;
}

static int warn(const struct pc_config *cfg, struct pc_diags *diags, uint32_t r, uint32_t y)
{
	char where[PC_METRICS_PATH_MAX + 32];

	pc_pos_where(cfg->rules[y].pos, cfg->rules[r].pos, diags->file, where, sizeof(where));
	return pc_diags_add(diags, PC_SEV_WARNING, cfg->rules[r].pos,
			    "rule '%s' can never match: rule '%s' (%s) matches every "
			    "packet it would", cfg->rules[r].name, cfg->rules[y].name, where);
}

static int add_rule(struct shadow *s, size_t first, size_t end)
{
	for (size_t i = first; i < end; i++)
		if (!box_empty(&s->rs->boxes[i]) && index_add(&s->ix, &s->rs->boxes[i], i) < 0)
			return -ENOMEM;
	return 0;
}

static int run(struct shadow *s, const struct pc_config *cfg, struct pc_diags *diags)
{
	const struct pc_ruleset *rs = s->rs;
	size_t first = 0, end;
	int nwarn = 0;
	uint32_t y;

	for (; first < rs->nboxes; first = end) {
		s->cur = rs->boxes[first].rule;
		if (s->cur >= rs->nrules || (first && rs->boxes[first - 1].rule > s->cur))
			return -EINVAL;
		for (end = first + 1; end < rs->nboxes && rs->boxes[end].rule == s->cur; end++)
			;
		y = covering_rule(s, first, end);
		if (y != UINT32_MAX) {
			if (warn(cfg, diags, s->cur, y) < 0)
				return -ENOMEM;
			nwarn++;
		}
		if (add_rule(s, first, end) < 0)
			return -ENOMEM;
	}
	return nwarn;
}

int pc_shadow_check(const struct pc_config *cfg, const struct pc_ruleset *rs,
		    struct pc_diags *diags)
{
	struct shadow s = { .rs = rs };
	uint32_t root;
	int r = -ENOMEM;

	if (rs->nrules > cfg->n_rules)
		return -EINVAL;
	for (size_t i = 0; i < rs->nboxes; i++)
		if (!box_valid(&rs->boxes[i]))
			return -EINVAL;
	s.cnt = calloc(rs->nrules + 1, sizeof(*s.cnt));
	s.stamp = calloc(rs->nrules + 1, sizeof(*s.stamp));
	s.touched = calloc(rs->nrules + 1, sizeof(*s.touched));
	if (s.cnt && s.stamp && s.touched && index_pick_words(&s.ix, rs) == 0 &&
	    new_node(&s.ix, &root) == 0)
		r = run(&s, cfg, diags);
	free(s.ix.nodes);
	free(s.ix.ents);
	pc_u64map_free(&s.ix.heads);
	free(s.cnt);
	free(s.stamp);
	free(s.touched);
	return r;
}
