/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "testrules.h"

static const unsigned widths[PC_KEY_WORDS] = PC_WORD_WIDTHS;

void tr_init(struct tr_set *s)
{
	memset(s, 0, sizeof(*s));
}

void tr_free(struct tr_set *s)
{
	free(s->rs.boxes);
	free(s->rs.outs);
	free(s->rs.rule_name);
	free(s->rs.class_name);
	free(s->rs.redirect);
	free(s->t.nodes);
	free(s->t.leaf);
	memset(s, 0, sizeof(*s));
}

static int rules_grow(struct tr_set *s, size_t need)
{
	size_t c = s->cap_rules;
	int r;

	r = tl_grow((void **)&s->rs.outs, &c, need, sizeof(*s->rs.outs));
	c = s->cap_rules;
	r = r ?: tl_grow((void **)&s->rs.rule_name, &c, need, sizeof(*s->rs.rule_name));
	c = s->cap_rules;
	r = r ?: tl_grow((void **)&s->rs.class_name, &c, need, sizeof(*s->rs.class_name));
	c = s->cap_rules;
	r = r ?: tl_grow((void **)&s->rs.redirect, &c, need, sizeof(*s->rs.redirect));
	if (!r)
		s->cap_rules = c;
	return r;
}

int tr_rule(struct tr_set *s, const char *name, const char *class_name)
{
	uint32_t i = s->rs.nrules;

	if (rules_grow(s, (size_t)i + 2) < 0)
		return -ENOMEM;
	snprintf(s->rs.rule_name[i], PC_NAME_MAX, "%s", name);
	snprintf(s->rs.class_name[i], PC_NAME_MAX, "%s", class_name ? class_name : name);
	memset(&s->rs.outs[i], 0, sizeof(s->rs.outs[i]));
	s->rs.nrules++;
	return i;
}

int tr_box(struct tr_set *s)
{
	struct pc_box *b;

	if (tl_grow((void **)&s->rs.boxes, &s->cap_boxes, s->rs.nboxes + 1, sizeof(*b)) < 0)
		return -ENOMEM;
	b = &s->rs.boxes[s->rs.nboxes++];
	memset(b, 0, sizeof(*b));
	b->rule = s->rs.nrules - 1;
	return 0;
}

void tr_check(struct tr_set *s, unsigned word, unsigned op, uint32_t a, uint32_t b)
{
	struct pc_box *x = &s->rs.boxes[s->rs.nboxes - 1];
	struct pc_check *c = &x->c[x->nchecks++];

	c->word = word;
	c->op = op;
	c->a = a;
	c->b = b;
}

int tr_finish(struct tr_set *s)
{
	uint32_t i = s->rs.nrules;

	if (rules_grow(s, (size_t)i + 1) < 0)
		return -ENOMEM;
	snprintf(s->rs.rule_name[i], PC_NAME_MAX, "(default)");
	snprintf(s->rs.class_name[i], PC_NAME_MAX, "default");
	memset(&s->rs.outs[i], 0, sizeof(s->rs.outs[i]));
	return 0;
}

bool tr_box_match(const struct pc_box *b, const struct pc_key *k)
{
	for (uint32_t i = 0; i < b->nchecks; i++) {
		const struct pc_check *c = &b->c[i];
		uint32_t v = k->w[c->word];

		if ((c->op == PC_OP_RANGE && (v < c->a || v > c->b)) ||
		    (c->op == PC_OP_MASK && (v & c->a) != c->b) ||
		    (c->op == PC_OP_ANY && !(v & c->a)))
			return false;
	}
	return true;
}

uint32_t tr_ref(const struct tr_set *s, const struct pc_key *k)
{
	for (size_t i = 0; i < s->rs.nboxes; i++)
		if (tr_box_match(&s->rs.boxes[i], k))
			return s->rs.boxes[i].rule;
	return s->rs.nrules;
}

uint32_t tr_walk(const struct tr_set *s, const struct pc_key *k)
{
	const struct pc_gen_cfg *cfg = &s->t.cfg;
	uint32_t best = cfg->nrules;

	for (uint32_t t = 0; t < cfg->ntrees; t++) {
		uint32_t n = cfg->root[t];

		if (cfg->min_rule[t] >= best)
			continue;
		for (uint32_t d = 0; d < cfg->max_depth && n < s->t.nnodes; d++) {
			const struct pc_node *nd = &s->t.nodes[n];

			if (nd->kind == PC_NODE_LEAF || nd->kind == PC_NODE_SLOW) {
				for (uint32_t i = 0; i < nd->count; i++) {
					const struct pc_box *b = &s->rs.boxes[s->t.leaf[nd->base + i]];

					if (b->rule >= best)
						break;
					if (tr_box_match(b, k)) {
						best = b->rule;
						break;
					}
				}
				break;
			}
			n = nd->base + ((k->w[nd->word] >> nd->shift) & ((1u << nd->bits) - 1));
		}
	}
	return best;
}

/* ---- a simple cutting builder ---------------------------------------------- */
struct region {
	uint8_t c[PC_KEY_WORDS];  /* top bits fixed */
	uint32_t p[PC_KEY_WORDS]; /* their value */
};

static bool check_overlaps(const struct pc_check *ck, const struct region *r)
{
	unsigned w = ck->word, span = widths[w] - r->c[w];
	uint64_t lo = (uint64_t)r->p[w] << span, hi = lo + (1ull << span) - 1;
	uint64_t fixed = (((1ull << r->c[w]) - 1) << span), all = (1ull << widths[w]) - 1;

	switch (ck->op) {
	case PC_OP_RANGE:
		return ck->a <= hi && ck->b >= lo;
	case PC_OP_MASK:
		return !(ck->b & ~ck->a) && !((lo ^ ck->b) & ck->a & fixed);
	case PC_OP_ANY:
		return (ck->a & ~fixed & all) || (lo & ck->a);
	}
	return false;
}

static bool box_overlaps(const struct pc_box *b, const struct region *r)
{
	for (uint32_t i = 0; i < b->nchecks; i++)
		if (!check_overlaps(&b->c[i], r))
			return false;
	return true;
}

struct builder {
	struct tr_set *s;
	unsigned leaf_max;
	uint32_t max_depth, max_leaf;
};

static int new_nodes(struct builder *B, size_t n, uint32_t *ret)
{
	struct pc_tree *t = &B->s->t;

	if (tl_grow((void **)&t->nodes, &B->s->cap_nodes, t->nnodes + n, sizeof(*t->nodes)) < 0)
		return -ENOMEM;
	*ret = t->nnodes;
	t->nnodes += n;
	return 0;
}

static int make_leaf(struct builder *B, uint32_t node, const uint32_t *bx, size_t n, unsigned depth)
{
	struct pc_tree *t = &B->s->t;

	if (n > PC_MAX_LEAF)
		return -E2BIG;
	if (tl_grow((void **)&t->leaf, &B->s->cap_leaf, t->nleaf + n, sizeof(*t->leaf)) < 0)
		return -ENOMEM;
	t->nodes[node] = (struct pc_node){ .kind = PC_NODE_LEAF, .base = t->nleaf, .count = n };
	memcpy(t->leaf + t->nleaf, bx, n * sizeof(*bx));
	t->nleaf += n;
	if (depth + 1 > B->max_depth)
		B->max_depth = depth + 1;
	if (n > B->max_leaf)
		B->max_leaf = n;
	return 0;
}

static size_t child_boxes(const struct tr_set *s, const uint32_t *bx, size_t n, struct region *r,
			  unsigned w, unsigned bits, uint32_t j, uint32_t *out)
{
	struct region c = *r;
	size_t m = 0;

	c.c[w] += bits;
	c.p[w] = (r->p[w] << bits) | j;
	for (size_t i = 0; i < n; i++)
		if (box_overlaps(&s->rs.boxes[bx[i]], &c)) {
			if (out)
				out[m] = bx[i];
			m++;
		}
	return m;
}

static int build(struct builder *B, uint32_t node, const uint32_t *bx, size_t n, struct region *r,
		 unsigned depth)
{
	size_t best_max = SIZE_MAX, best_sum = SIZE_MAX;
	unsigned best_w = 0, best_bits = 0;
	uint32_t base, *sub;
	int ret = 0;

	if (n <= B->leaf_max || depth + 1 >= PC_MAX_DEPTH)
		return make_leaf(B, node, bx, n, depth);
	for (unsigned w = 0; w < PC_KEY_WORDS; w++) {
		unsigned rem = widths[w] - r->c[w], bits = rem < 4 ? rem : 4;
		size_t mx = 0, sum = 0;

		if (!rem)
			continue;
		for (uint32_t j = 0; j < (1u << bits); j++) {
			size_t m = child_boxes(B->s, bx, n, r, w, bits, j, NULL);

			mx = m > mx ? m : mx;
			sum += m;
		}
		if (sum == (size_t)n << bits)
			continue; /* every child gets every box: no progress at all */
		if (mx < best_max || (mx == best_max && sum < best_sum)) {
			best_max = mx;
			best_sum = sum;
			best_w = w;
			best_bits = bits;
		}
	}
	/* cut when it splits the set, or when the leaf would be too big */
	if (best_max == SIZE_MAX || (best_max >= n && n <= PC_MAX_LEAF))
		return make_leaf(B, node, bx, n, depth);
	if (new_nodes(B, 1u << best_bits, &base) < 0)
		return -ENOMEM;
	B->s->t.nodes[node] = (struct pc_node){ .kind = PC_NODE_CUT, .word = best_w,
		.shift = widths[best_w] - r->c[best_w] - best_bits, .bits = best_bits, .base = base,
		.mask = (1u << best_bits) - 1 };
	sub = malloc((n ? n : 1) * sizeof(*sub));
	if (!sub)
		return -ENOMEM;
	for (uint32_t j = 0; j < (1u << best_bits) && ret >= 0; j++) {
		struct region c = *r;
		size_t m = child_boxes(B->s, bx, n, r, best_w, best_bits, j, sub);

		c.c[best_w] += best_bits;
		c.p[best_w] = (r->p[best_w] << best_bits) | j;
		ret = build(B, base + j, sub, m, &c, depth + 1);
	}
	free(sub);
	return ret;
}

/* Which tree a box goes to: 0 src-specific, 1 dst-specific, 2 the rest. */
static unsigned box_group(const struct pc_box *b)
{
	for (unsigned want = 0; want < 2; want++)
		for (uint32_t i = 0; i < b->nchecks; i++) {
			const struct pc_check *c = &b->c[i];

			if (c->word != (want ? PC_W_DST0 : PC_W_SRC0))
				continue;
			if ((c->op == PC_OP_MASK && __builtin_popcount(c->a) >= 12) ||
			    (c->op == PC_OP_RANGE && c->b - c->a < (1u << 20)))
				return want;
		}
	return 2;
}

static int build_group(struct builder *B, const uint32_t *bx, size_t n)
{
	struct pc_gen_cfg *cfg = &B->s->t.cfg;
	struct region r = {};
	uint32_t root, t = cfg->ntrees;
	int ret;

	if (new_nodes(B, 1, &root) < 0)
		return -ENOMEM;
	ret = build(B, root, bx, n, &r, 0);
	if (ret < 0)
		return ret;
	cfg->root[t] = root;
	cfg->min_rule[t] = B->s->rs.boxes[bx[0]].rule;
	cfg->ntrees++;
	return 0;
}

static void sort_trees(struct pc_gen_cfg *cfg)
{
	for (uint32_t i = 1; i < cfg->ntrees; i++)
		for (uint32_t j = i; j > 0 && cfg->min_rule[j] < cfg->min_rule[j - 1]; j--) {
			uint32_t a = cfg->root[j], m = cfg->min_rule[j];

			cfg->root[j] = cfg->root[j - 1];
			cfg->min_rule[j] = cfg->min_rule[j - 1];
			cfg->root[j - 1] = a;
			cfg->min_rule[j - 1] = m;
		}
}

int tr_build(struct tr_set *s, unsigned leaf_max)
{
	struct builder B = { .s = s, .leaf_max = leaf_max };
	uint32_t *g[3];
	size_t n[3] = {};
	int ret = 0;

	memset(&s->t.cfg, 0, sizeof(s->t.cfg));
	s->t.nnodes = s->t.nleaf = 0;
	s->t.cfg.nrules = s->rs.nrules;
	for (int i = 0; i < 3; i++)
		g[i] = malloc((s->rs.nboxes + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < s->rs.nboxes; i++) {
		unsigned k = box_group(&s->rs.boxes[i]);

		g[k][n[k]++] = i;
	}
	for (int i = 0; i < 3 && ret >= 0; i++)
		if (n[i])
			ret = build_group(&B, g[i], n[i]);
	for (int i = 0; i < 3; i++)
		free(g[i]);
	s->t.cfg.max_depth = B.max_depth;
	s->t.cfg.max_leaf = B.max_leaf;
	sort_trees(&s->t.cfg);
	tr_tree_limits(&s->t.cfg);
	return ret;
}

int tr_build_one_leaf(struct tr_set *s)
{
	struct builder B = { .s = s };
	uint32_t root, *bx;
	int ret;

	memset(&s->t.cfg, 0, sizeof(s->t.cfg));
	s->t.nnodes = s->t.nleaf = 0;
	s->t.cfg.nrules = s->rs.nrules;
	if (!s->rs.nboxes)
		return 0;
	bx = malloc(s->rs.nboxes * sizeof(*bx));
	if (!bx || new_nodes(&B, 1, &root) < 0) {
		free(bx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->rs.nboxes; i++)
		bx[i] = i;
	ret = make_leaf(&B, root, bx, s->rs.nboxes, 0);
	free(bx);
	s->t.cfg.ntrees = 1;
	s->t.cfg.root[0] = root;
	s->t.cfg.min_rule[0] = s->rs.boxes[0].rule;
	s->t.cfg.max_depth = B.max_depth;
	s->t.cfg.max_leaf = B.max_leaf;
	tr_tree_limits(&s->t.cfg);
	return ret;
}

void tr_tree_limits(struct pc_gen_cfg *cfg)
{
	for (int i = 0; i < PC_MAX_TREES; i++) {
		cfg->depth[i] = (uint8_t)cfg->max_depth;
		cfg->leaf[i] = (uint8_t)cfg->max_leaf;
		for (int c = 0; c < 32; c++)
			cfg->cmin[i][c] = cfg->min_rule[i];
	}
}

/* ---- ClassBench ------------------------------------------------------------- */
static uint32_t prefix_mask(unsigned len)
{
	return len ? ~0u << (32 - len) : 0;
}

static void cb_rule(struct tr_set *s, const unsigned v[16])
{
	uint32_t src = v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3];
	uint32_t dst = v[5] << 24 | v[6] << 16 | v[7] << 8 | v[8];

	tr_check(s, PC_W_L3, PC_OP_RANGE, 0x0800, 0x0800);
	if (v[4])
		tr_check(s, PC_W_SRC0, PC_OP_MASK, prefix_mask(v[4]), src & prefix_mask(v[4]));
	if (v[9])
		tr_check(s, PC_W_DST0, PC_OP_MASK, prefix_mask(v[9]), dst & prefix_mask(v[9]));
	if (v[10] != 0 || v[11] != 65535)
		tr_check(s, PC_W_SPORT, PC_OP_RANGE, v[10], v[11]);
	if (v[12] != 0 || v[13] != 65535)
		tr_check(s, PC_W_DPORT, PC_OP_RANGE, v[12], v[13]);
	if (v[15] == 0xff)
		tr_check(s, PC_W_PROTO, PC_OP_RANGE, v[14], v[14]);
}

int tr_load_classbench(struct tr_set *s, const char *path)
{
	char line[512], name[32], cls[32];
	unsigned v[16];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
			   &v[12], &v[13], &v[14], &v[15]) != 16)
			continue;
		snprintf(name, sizeof(name), "r%u", s->rs.nrules);
		snprintf(cls, sizeof(cls), "c%u", s->rs.nrules % 7);
		if (tr_rule(s, name, cls) < 0 || tr_box(s) < 0) {
			fclose(f);
			return -ENOMEM;
		}
		cb_rule(s, v);
	}
	fclose(f);
	return tr_finish(s);
}

int tr_add_slow_tree(struct tr_set *s)
{
	struct pc_tree *t = &s->t;
	struct pc_gen_cfg *cfg = &t->cfg;
	size_t base = t->nleaf;

	if (cfg->ntrees >= PC_MAX_TREES || !s->rs.nboxes ||
	    tl_grow((void **)&t->leaf, &s->cap_leaf, t->nleaf + s->rs.nboxes, sizeof(*t->leaf)) < 0 ||
	    tl_grow((void **)&t->nodes, &s->cap_nodes, t->nnodes + 1, sizeof(*t->nodes)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->rs.nboxes; i++)
		t->leaf[t->nleaf++] = (uint32_t)i;
	t->nodes[t->nnodes] = (struct pc_node){ .kind = PC_NODE_SLOW, .base = (uint32_t)base,
						.count = (uint32_t)s->rs.nboxes,
						.min_rule = s->rs.boxes[0].rule };
	cfg->root[cfg->ntrees] = (uint32_t)t->nnodes++;
	cfg->min_rule[cfg->ntrees++] = s->rs.boxes[0].rule;
	if (!cfg->max_depth)
		cfg->max_depth = 1;
	sort_trees(cfg);
	tr_tree_limits(cfg);
	return 0;
}
