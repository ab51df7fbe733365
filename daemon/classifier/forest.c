/* SPDX-License-Identifier: GPL-2.0-only */
/* forest.c - the boxes of a rule set into groups, one tree each (EffiCuts,
 * CutSplit), and the fallbacks that make every rule set fit: a group whose tree
 * outgrows its memory is rebuilt with a smaller space factor, then split in
 * two (two trees), and at last made one slow leaf.  Design and limits:
 * daemon/classifier/README.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/tree.h"
#include "classifier/treebuild.h"
#include "lib/util.h"

#define ETH_P_IPV6 0x86ddu

/* The defaults of struct pc_tree_opts: kernel memory for the nodes and leaf
 * entries of all trees, and per tree at most its boxes' share or a floor,
 * whichever is more; build work (box-list entries over a tree's nodes) per
 * box of its group (ClassBench trees take 2 to 70, the mixed trees that blow
 * up thousands) plus a floor. */
static const struct pc_tree_opts defaults = {
	.mem_max = 80u << 20,
	.mem_per_box = 4096,
	.mem_min = 8u << 20,
	.work_per_box = 32,
	.work_min = 256u << 10,
};

enum {
	G_SRC_DST, G_SRC, G_DST, G_DPORT, G_SPORT, /* the 5-tuple groups */
	G_VLAN, G_DSCP, G_LEN, G_TCPFL,            /* narrow on one more key only */
	G_REST,
	N_GROUPS
};

/* Narrow on an address: 16 bits fixed (IPv4), 48 for IPv6, whose /32s are
 * what an IPv4 /0 is. */
static bool addr_narrow(const struct tb_box *b, unsigned w0)
{
	bool v6 = (b->words & (1u << PC_W_L3)) && b->lo[PC_W_L3] == ETH_P_IPV6 &&
		  b->hi[PC_W_L3] == ETH_P_IPV6;

	return tb_fixed_bits(b, w0, 4) >= (v6 ? 48u : 16u);
}

/* The key beyond the 5-tuple that the box fixes the most bits of beyond a
 * minimum (so that a VLAN id wins over a length range), if it fixes any. */
static unsigned extra_group(const struct tb_box *b)
{
	static const struct { uint8_t word, min, group; } keys[] = {
		{ PC_W_VLAN, 1, G_VLAN }, { PC_W_DSCP, 1, G_DSCP }, { PC_W_LEN, 1, G_LEN },
		{ PC_W_TCPFLAGS, 1, G_TCPFL },
	};
	unsigned best = G_REST, most = 0;

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		unsigned f = tb_fixed_bits(b, keys[i].word, 1);

		if (keys[i].word == PC_W_TCPFLAGS)
			f = (b->maskw >> PC_W_TCPFLAGS & 1) ?
				    (unsigned)__builtin_popcount(b->lo[PC_W_TCPFLAGS] & 0xffu) : 0;
		if (f >= keys[i].min && f - keys[i].min + 1 > most) {
			most = f - keys[i].min + 1;
			best = keys[i].group;
		}
	}
	return best;
}

static unsigned box_group(const struct tb_box *b)
{
	bool s = addr_narrow(b, PC_W_SRC0), d = addr_narrow(b, PC_W_DST0);

	if (s && d)
		return G_SRC_DST;
	if (s)
		return G_SRC;
	if (d)
		return G_DST;
	if (tb_fixed_bits(b, PC_W_DPORT, 1) >= 7)   /* at most 1024 ports */
		return G_DPORT;
	if (tb_fixed_bits(b, PC_W_SPORT, 1) >= 7)
		return G_SPORT;
	return extra_group(b);
}

/* ---- packet classes -------------------------------------------------------- */

/* Whether [lo, hi] holds a value other than those of v[0 .. n). */
static bool range_has_other(uint32_t lo, uint32_t hi, const uint32_t *v, unsigned n)
{
	uint64_t in = 0;

	for (unsigned i = 0; i < n; i++)
		in += lo <= v[i] && v[i] <= hi;
	return (uint64_t)hi - lo + 1 > in;
}

static void word_range(const struct tb_box *b, unsigned w, uint32_t full, uint32_t *lo,
		       uint32_t *hi)
{
	*lo = 0;
	*hi = full;
	if ((b->words & (1u << w)) && !((b->maskw | b->anyw) & (1u << w))) {
		*lo = b->lo[w];
		*hi = b->hi[w];
	}
}

/* The packet classes (pktclass.h, PC_PKT_CLASSES) in which the box can hold. */
static uint32_t box_classes(const struct tb_box *b)
{
	static const uint32_t ip[] = { 0x0800, 0x86dd }, l4[] = { 6, 17, 132, 136 };
	uint32_t lo, hi, l3s = 0, l4s = 0, tags = 3, cls = 0;

	word_range(b, PC_W_L3, 0xffff, &lo, &hi);
	l3s = (lo <= ip[0] && ip[0] <= hi) | (lo <= ip[1] && ip[1] <= hi) << 1 |
	      range_has_other(lo, hi, ip, 2) << 2;
	word_range(b, PC_W_PROTO, 0x1ff, &lo, &hi);
	l4s = (lo <= 6 && 6 <= hi) | (lo <= 17 && 17 <= hi) << 1 |
	      ((lo <= 132 && 132 <= hi) || (lo <= 136 && 136 <= hi)) << 2 |
	      range_has_other(lo, hi, l4, 4) << 3;
	word_range(b, PC_W_VLAN, 0x1fff, &lo, &hi);
	if (hi < 0x1000)
		tags = 2;           /* tagged only */
	else if (lo >= 0x1000)
		tags = 1;           /* untagged only */
	for (unsigned a = 0; a < 3; a++)
		for (unsigned c = 0; c < 4; c++)
			for (unsigned t = 0; t < 2; t++)
				if ((l3s >> a & 1) && (l4s >> c & 1) && (tags >> t & 1))
					cls |= 1u << ((a * 4 + c) * 2 + t);
	return cls;
}

struct group {
	uint32_t *v;
	uint32_t n;
};

static int groups_make(const struct tb_box *bx, size_t nboxes, struct group *g)
{
	uint8_t *of = malloc(nboxes + 1);
	uint32_t cnt[N_GROUPS] = { 0 };

	if (!of)
		return -ENOMEM;
	for (size_t i = 0; i < nboxes; i++)
		cnt[of[i] = (uint8_t)box_group(&bx[i])]++;
	for (unsigned k = 0; k < N_GROUPS; k++) {
		g[k].v = malloc((cnt[k] + 1) * sizeof(uint32_t));
		if (!g[k].v) {
			free(of);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < nboxes; i++) {
		struct group *gg = &g[of[i]];

		gg->v[gg->n++] = (uint32_t)i;
	}
	free(of);
	return 0;
}

/* ---- one group's trees ------------------------------------------------------ */

/* A tree of the forest, until they are sorted into pc_gen_cfg. */
struct tree_info {
	uint32_t min_rule, root, depth, leaf;
	uint32_t cmin[32];
};

struct forest {
	struct tb_builder B;
	const struct pc_tree_opts *o;
	struct pc_gen_cfg *gc;
	struct tree_info order[PC_MAX_TREES];
	size_t mem_left;
	uint32_t depth, leaf;           /* over all trees */
};

/* Per packet class the best rule of the boxes v (in rule order). */
static void list_classes(const struct tb_builder *B, const uint32_t *v, uint32_t n, uint32_t *cmin)
{
	uint32_t left = (1u << PC_PKT_CLASSES) - 1;

	for (unsigned c = 0; c < 32; c++)
		cmin[c] = UINT32_MAX;
	for (uint32_t i = 0; i < n && left; i++) {
		uint32_t cls = box_classes(&B->bx[v[i]]) & left;

		left &= ~cls;
		for (; cls; cls &= cls - 1)
			cmin[__builtin_ctz(cls)] = B->bx[v[i]].rule;
	}
}

static int tree_add(struct forest *F, uint32_t root, const uint32_t *v, uint32_t n)
{
	struct tree_info *ti = &F->order[F->gc->ntrees];

	if (F->gc->ntrees >= PC_MAX_TREES)
		return -E2BIG;
	*ti = (struct tree_info){ .min_rule = F->B.bx[v[0]].rule, .root = root,
				  .depth = F->B.max_depth, .leaf = F->B.max_leaf };
	list_classes(&F->B, v, n, ti->cmin);
	F->gc->ntrees++;
	if (F->B.max_depth > F->depth)
		F->depth = F->B.max_depth;
	if (F->B.max_leaf > F->leaf)
		F->leaf = F->B.max_leaf;
	return 0;
}

static size_t tree_bytes(const struct tb_builder *B)
{
	return (B->nnodes - B->mark_nodes) * sizeof(struct pc_node) +
	       (B->nleaf - B->mark_leaf) * sizeof(struct pc_leaf_ent);
}

/* One tree over v, with the largest space factor that keeps it within budget. */
static int tree_fit(struct forest *F, uint32_t *v, uint32_t n, size_t budget)
{
	static const double spfacs[] = { 16.0, 2.0, 1.2 };
	_cleanup_free_ uint32_t *copy = malloc((n + 1) * sizeof(*v));
	uint32_t root;
	int r = -E2BIG;

	if (!copy)
		return -ENOMEM;
	for (size_t a = 0; a < ELEMENTSOF(spfacs) && r == -E2BIG; a++) {
		memcpy(copy, v, n * sizeof(*v));
		tb_begin(&F->B, spfacs[a], budget, (uint64_t)n * F->o->work_per_box + F->o->work_min);
		r = tb_build(&F->B, copy, n, &root);
		if (r == -E2BIG && tb_rollback(&F->B) < 0)
			return -ENOMEM;
	}
	if (r < 0)
		return r;
	F->mem_left -= tree_bytes(&F->B) < F->mem_left ? tree_bytes(&F->B) : F->mem_left;
	return tree_add(F, root, v, n);
}

/* Trees for v, with `spare` tree slots beyond the one it has: one tree if it
 * fits, else its two halves (box order) apart, else one slow leaf. */
static int group_fit(struct forest *F, uint32_t *v, uint32_t n, uint32_t spare)
{
	size_t budget = (size_t)n * F->o->mem_per_box;
	uint32_t root, half = n / 2;
	int r;

	if (budget < F->o->mem_min)
		budget = F->o->mem_min;
	if (budget > F->mem_left)
		budget = F->mem_left;
	r = tree_fit(F, v, n, budget);
	if (r != -E2BIG)
		return r;
	if (spare && half) {
		r = group_fit(F, v, half, (spare - 1) / 2);
		if (r >= 0)
			r = group_fit(F, v + half, n - half, (spare - 1) - (spare - 1) / 2);
		return r;
	}
	tb_begin(&F->B, 1.0, SIZE_MAX, UINT64_MAX);
	r = tb_build_linear(&F->B, v, n, &root);
	return r < 0 ? r : tree_add(F, root, v, n);
}

static int tree_cmp_min_rule(const void *a, const void *b)
{
	const struct tree_info *x = a, *y = b;

	return x->min_rule < y->min_rule ? -1 : x->min_rule > y->min_rule;
}

static int build_trees(struct forest *F, struct group *g)
{
	uint32_t used = 0, spare;
	int r;

	for (unsigned i = 0; i < N_GROUPS; i++)
		used += g[i].n > 0;
	spare = PC_MAX_TREES - used;
	for (unsigned i = 0; i < N_GROUPS; i++) {
		uint32_t before = F->gc->ntrees;

		if (!g[i].n)
			continue;
		r = group_fit(F, g[i].v, g[i].n, spare);
		if (r < 0)
			return r;
		spare -= F->gc->ntrees - before - 1;
	}
	qsort(F->order, F->gc->ntrees, sizeof(F->order[0]), tree_cmp_min_rule);
	for (uint32_t t = 0; t < F->gc->ntrees; t++) {
		F->gc->min_rule[t] = F->order[t].min_rule;
		F->gc->root[t] = F->order[t].root;
		F->gc->depth[t] = (uint8_t)F->order[t].depth;
		F->gc->leaf[t] = (uint8_t)F->order[t].leaf;
		memcpy(F->gc->cmin[t], F->order[t].cmin, sizeof(F->gc->cmin[t]));
	}
	F->gc->max_depth = F->depth;
	F->gc->max_leaf = F->leaf;
	return 0;
}

/* What the slow leaves hold: leaves, entries (each stored list once), the
 * longest, and the rules with a box in one. */
static int slow_stats(const struct pc_ruleset *rs, struct pc_tree *t)
{
	_cleanup_free_ bool *seen = calloc(t->nleaf + 1, sizeof(bool));
	_cleanup_free_ bool *rule = calloc(rs->nrules + 1, sizeof(bool));

	if (!seen || !rule)
		return -ENOMEM;
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct pc_node *nd = &t->nodes[i];

		if (nd->kind != PC_NODE_SLOW || seen[nd->base])
			continue;
		seen[nd->base] = true;
		t->slow_leaves++;
		t->slow_entries += nd->count;
		if (nd->count > t->slow_max)
			t->slow_max = nd->count;
		for (uint32_t j = 0; j < nd->count; j++) {
			uint32_t ri = rs->boxes[t->leaf[nd->base + j]].rule;

			t->slow_rules += !rule[ri];
			rule[ri] = true;
		}
	}
	return 0;
}

int pc_tree_build(const struct pc_ruleset *rs, struct pc_tree **ret)
{
	return pc_tree_build_opts(rs, &defaults, ret);
}

int pc_tree_build_opts(const struct pc_ruleset *rs, const struct pc_tree_opts *o,
		       struct pc_tree **ret)
{
	uint64_t start = pc_now_usec(CLOCK_MONOTONIC);
	struct group g[N_GROUPS] = { 0 };
	_cleanup_free_ struct tb_box *bx = NULL;
	struct pc_tree *t = NULL;
	struct forest F = { .o = o, .mem_left = o->mem_max };
	int r;

	if (rs->nboxes > UINT32_MAX / 2)
		return -E2BIG;
	t = calloc(1, sizeof(*t));
	bx = malloc((rs->nboxes + 1) * sizeof(*bx));
	F.B.scratch = malloc(((1u << 16) + 1) * sizeof(uint32_t));
	if (!t || !bx || !F.B.scratch) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rs->nboxes; i++)
		tb_box_from(&bx[i], &rs->boxes[i]);
	F.B.bx = bx;
	F.gc = &t->cfg;
	r = groups_make(bx, rs->nboxes, g);
	r = r ?: build_trees(&F, g);
	if (r < 0)
		goto out;
	tb_set_min_rules(&F.B);
	t->cfg.nrules = rs->nrules;
	t->nodes = TAKE_PTR(F.B.nodes);
	t->nnodes = F.B.nnodes;
	t->leaf = TAKE_PTR(F.B.leaf);
	t->nleaf = F.B.nleaf;
	r = slow_stats(rs, t);
	if (r < 0)
		goto out;
	t->build_usec = pc_now_usec(CLOCK_MONOTONIC) - start;
	*ret = TAKE_PTR(t);
out:
	for (unsigned k = 0; k < N_GROUPS; k++)
		free(g[k].v);
	tb_free(&F.B);
	pc_tree_free(t);
	return r;
}

void pc_tree_free(struct pc_tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->leaf);
	free(t);
}

void pc_tree_slow_summary(const struct pc_tree *t, char *buf, size_t len)
{
	if (!t->slow_leaves)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "%u rule%s: %zu boxes in %zu slow leaves (longest %zu), scanned "
			 "one by one", t->slow_rules, t->slow_rules == 1 ? "" : "s", t->slow_entries,
			 t->slow_leaves, t->slow_max);
}

uint32_t pc_pkt_class(const struct pc_key *k)
{
	uint32_t l3 = k->w[PC_W_L3], p = k->w[PC_W_PROTO], c;

	c = l3 == 0x0800 ? 0 : l3 == 0x86dd ? 4 : 8;
	c += p == 6 ? 0 : p == 17 ? 1 : p == 132 || p == 136 ? 2 : 3;
	return c * 2 + (k->w[PC_W_VLAN] != PC_VLAN_NONE);
}

/* The leaf scan: the first box that matches, unless a rule not better than
 * best comes first. */
static uint32_t scan(const struct pc_tree *t, const struct pc_box *boxes, const struct pc_node *nd,
		     const struct pc_key *k, uint32_t best)
{
	for (uint32_t j = 0; j < nd->count; j++) {
		const struct pc_box *b = &boxes[t->leaf[nd->base + j]];

		if (b->rule >= best)
			break;
		if (pc_box_match(b, k))
			return b->rule;
	}
	return best;
}

uint32_t pc_tree_classify(const struct pc_tree *t, const struct pc_box *boxes,
			  const struct pc_key *k)
{
	uint32_t best = t->cfg.nrules;

	for (uint32_t i = 0; i < t->cfg.ntrees && i < PC_MAX_TREES; i++) {
		const struct pc_node *nd;
		uint32_t idx = t->cfg.root[i];

		if (t->cfg.cmin[i][pc_pkt_class(k) & 31] >= best)
			continue;
		for (unsigned d = 0; d < PC_MAX_DEPTH; d++) {
			nd = &t->nodes[idx];
			if (nd->kind != PC_NODE_CUT || nd->min_rule >= best)
				break;
			idx = nd->base + ((k->w[nd->word] >> nd->shift) & ((1u << nd->bits) - 1));
		}
		nd = &t->nodes[idx];
		if (nd->kind == PC_NODE_CUT || nd->min_rule >= best)
			continue;
		best = scan(t, boxes, nd, k, best);
	}
	return best;
}
