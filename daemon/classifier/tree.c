/* SPDX-License-Identifier: GPL-2.0-only */
/* tree.c - decision trees over the boxes of a rule set (see daemon/classifier/README.md).
 *
 * Boxes are split into up to PC_MAX_TREES groups by which address and port
 * fields they constrain narrowly (EffiCuts/CutSplit), one tree per group.  A
 * tree node cuts one key word by its next top bits (HiCuts with a space
 * factor), so the region of a node is an aligned block per word.  At every
 * node the region is first shrunk to the aligned hull of its boxes (a key
 * outside that hull matches none of them, wherever it lands), then the box
 * list is cut short after the first box covering the whole region. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classifier/tree.h"
#include "lib/util.h"

#define W PC_KEY_WORDS
#define MAX_BITS 16      /* fan-out of one cut node: at most 2^16 children */
#define MAX_BITS_SET 8   /* ... when the word has MASK/ANY checks */
#define BINTH 4          /* a node with this many boxes or fewer is a leaf */
#define LEAF_SOFT 12     /* ... up to this many when the best cut hardly separates */
#define N_GROUPS 6

static const uint8_t word_width[W] = PC_WORD_WIDTHS;

static uint32_t lowmask(unsigned m)
{
	return m >= 32 ? UINT32_MAX : (1u << m) - 1;
}

/* A box, as one interval per word (lo/hi), except words in `setw` whose
 * check is MASK (lo = a, hi = b) or ANY (lo = a, hi unused). */
struct bx {
	uint32_t lo[W], hi[W];
	uint32_t words;  /* words with a check */
	uint32_t maskw;  /* of which MASK */
	uint32_t anyw;   /* of which ANY */
	uint32_t rule;
};

/* Node region: per word the aligned block [lo, lo + 2^m - 1]. */
struct region {
	uint32_t lo[W];
	uint8_t m[W];
};

static uint32_t reg_hi(const struct region *R, unsigned w)
{
	return R->lo[w] | lowmask(R->m[w]);
}

/* Can the box's check on w hold somewhere in block [lo, lo | lowmask(m)]? */
static bool can_hold(const struct bx *b, unsigned w, uint32_t lo, unsigned m)
{
	uint32_t free = lowmask(m), a = b->lo[w];

	if (!(b->words & (1u << w)))
		return true;
	if (b->maskw & (1u << w))
		return (lo & a & ~free) == (b->hi[w] & ~free) && !(b->hi[w] & ~a);
	if (b->anyw & (1u << w))
		return (lo & a & ~free) || (a & free);
	return b->lo[w] <= (lo | free) && b->hi[w] >= lo;
}

/* Does the check on w hold everywhere in the block? */
static bool covers(const struct bx *b, unsigned w, uint32_t lo, unsigned m)
{
	uint32_t free = lowmask(m), a = b->lo[w];

	if (!(b->words & (1u << w)))
		return true;
	if (b->maskw & (1u << w))
		return !(a & free) && (lo & a) == b->hi[w];
	if (b->anyw & (1u << w))
		return (lo & a & ~free) != 0;
	return b->lo[w] <= lo && b->hi[w] >= (lo | free);
}

/* Words where the box does not cover the region. */
static uint32_t notcover(const struct bx *b, const struct region *R)
{
	uint32_t ws = b->words, nc = 0;

	while (ws) {
		unsigned w = (unsigned)__builtin_ctz(ws);

		ws &= ws - 1;
		if (!covers(b, w, R->lo[w], R->m[w]))
			nc |= 1u << w;
	}
	return nc;
}

static void bx_from_box(struct bx *x, const struct pc_box *b)
{
	memset(x, 0, sizeof(*x));
	x->rule = b->rule;
	for (unsigned w = 0; w < W; w++)
		x->hi[w] = lowmask(word_width[w]);
	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];
		unsigned w = c->word;

		if (w >= W)
			continue;
		if (x->words & (1u << w)) {
			/* Two checks on one word (not produced by pc_compile):
			 * keep the interval hull; leaves still run pc_box_match. */
			if (c->op == PC_OP_RANGE && !((x->maskw | x->anyw) & (1u << w))) {
				if (c->a > x->lo[w])
					x->lo[w] = c->a;
				if (c->b < x->hi[w])
					x->hi[w] = c->b;
			}
			continue;
		}
		x->words |= 1u << w;
		x->lo[w] = c->a;
		x->hi[w] = c->b;
		if (c->op == PC_OP_MASK)
			x->maskw |= 1u << w;
		else if (c->op == PC_OP_ANY)
			x->anyw |= 1u << w;
		else if (c->op != PC_OP_RANGE)
			x->lo[w] = 1, x->hi[w] = 0; /* unknown op: never holds */
	}
}

/* ---- leaf storage, shared between identical lists -------------------------- */

struct leafmap {
	uint32_t *slot;   /* leaf base + 1, 0 = empty */
	uint32_t *len;
	size_t cap, n;
};

static uint64_t list_hash(const uint32_t *v, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;

	for (size_t i = 0; i < n; i++)
		h = (h ^ v[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

struct builder {
	const struct bx *bx;
	struct pc_node *nodes;
	size_t nnodes, cap_nodes;
	uint32_t *leaf;
	size_t nleaf, cap_leaf;
	struct leafmap lm;
	uint32_t *scratch;  /* (1 << MAX_BITS) + 1 counters for choose_cut */
	double spfac;
	size_t budget_bytes;
	uint32_t max_depth, max_leaf;
};

static int leafmap_rehash(struct builder *B)
{
	struct leafmap nm = { .cap = B->lm.cap ? B->lm.cap * 2 : 4096 };

	nm.slot = calloc(nm.cap, sizeof(*nm.slot));
	nm.len = calloc(nm.cap, sizeof(*nm.len));
	if (!nm.slot || !nm.len) {
		free(nm.slot);
		free(nm.len);
		return -ENOMEM;
	}
	for (size_t i = 0; i < B->lm.cap; i++) {
		uint32_t s = B->lm.slot[i];
		size_t j;

		if (!s)
			continue;
		j = list_hash(B->leaf + s - 1, B->lm.len[i]) & (nm.cap - 1);
		while (nm.slot[j])
			j = (j + 1) & (nm.cap - 1);
		nm.slot[j] = s;
		nm.len[j] = B->lm.len[i];
	}
	nm.n = B->lm.n;
	free(B->lm.slot);
	free(B->lm.len);
	B->lm = nm;
	return 0;
}

/* Store a leaf list (or find an identical one); returns its base. */
static int leaf_store(struct builder *B, const uint32_t *v, uint32_t n, uint32_t *base)
{
	size_t j;
	int r;

	if (n == 0) {
		*base = 0;
		return 0;
	}
	if (B->lm.n * 2 >= B->lm.cap) {
		r = leafmap_rehash(B);
		if (r < 0)
			return r;
	}
	j = list_hash(v, n) & (B->lm.cap - 1);
	for (; B->lm.slot[j]; j = (j + 1) & (B->lm.cap - 1))
		if (B->lm.len[j] == n && !memcmp(B->leaf + B->lm.slot[j] - 1, v, n * sizeof(*v))) {
			*base = B->lm.slot[j] - 1;
			return 0;
		}
	r = pc_grow((void **)&B->leaf, &B->cap_leaf, B->nleaf + n, sizeof(*B->leaf));
	if (r < 0)
		return r;
	memcpy(B->leaf + B->nleaf, v, n * sizeof(*v));
	*base = (uint32_t)B->nleaf;
	B->nleaf += n;
	B->lm.slot[j] = *base + 1;
	B->lm.len[j] = n;
	B->lm.n++;
	return 0;
}

static bool over_budget(const struct builder *B)
{
	return B->nnodes * sizeof(struct pc_node) + B->nleaf * sizeof(struct pc_leaf_ent) > B->budget_bytes;
}

static int make_leaf(struct builder *B, uint32_t slot, const uint32_t *v, uint32_t n,
		     unsigned depth)
{
	uint32_t base;
	int r;

	if (n > PC_MAX_LEAF)
		return -E2BIG;
	r = leaf_store(B, v, n, &base);
	if (r < 0)
		return r;
	B->nodes[slot] = (struct pc_node) { .kind = PC_NODE_LEAF, .base = base, .count = n };
	if (depth > B->max_depth)
		B->max_depth = depth;
	if (n > B->max_leaf)
		B->max_leaf = n;
	return over_budget(B) ? -E2BIG : 0;
}

/* ---- region shrinking ------------------------------------------------------ */

/* Aligned block of box b's values on w inside R: [*lo, *hi]. False: whole R. */
static bool box_hull(const struct bx *b, const struct region *R, unsigned w,
		     uint32_t *lo, uint32_t *hi)
{
	unsigned m = R->m[w], k = m;

	if (!(b->words & (1u << w)) || (b->anyw & (1u << w)))
		return false;
	if (b->maskw & (1u << w)) {
		while (k > 0 && (b->lo[w] >> (k - 1) & 1))
			k--;
		if (k == m)
			return false;
		*lo = (R->lo[w] & ~lowmask(m)) | (b->hi[w] & lowmask(m) & ~lowmask(k));
		*hi = *lo | lowmask(k);
		return true;
	}
	*lo = b->lo[w] > R->lo[w] ? b->lo[w] : R->lo[w];
	*hi = b->hi[w] < reg_hi(R, w) ? b->hi[w] : reg_hi(R, w);
	return true;
}

/* Shrink R to the aligned hull of the boxes on every word.  Sound because a
 * key outside the hull matches none of the boxes, whatever leaf it reaches. */
static void shrink(const struct builder *B, struct region *R, const uint32_t *v, uint32_t n)
{
	for (unsigned w = 0; w < W; w++) {
		uint32_t hl = UINT32_MAX, hh = 0, lo, hi;
		bool full = false;
		unsigned m;

		if (R->m[w] == 0)
			continue;
		for (uint32_t i = 0; i < n && !full; i++) {
			if (!box_hull(&B->bx[v[i]], R, w, &lo, &hi)) {
				full = true;
				break;
			}
			if (lo > hi)
				continue; /* empty: cannot happen for boxes in the list */
			hl = lo < hl ? lo : hl;
			hh = hi > hh ? hi : hh;
		}
		if (full || hl > hh)
			continue;
		m = (hl ^ hh) ? 32 - (unsigned)__builtin_clz(hl ^ hh) : 0;
		R->m[w] = (uint8_t)m;
		R->lo[w] = hl & ~lowmask(m);
	}
}

/* ---- choosing a cut -------------------------------------------------------- */

struct cut {
	unsigned word, bits;
	size_t maxchild, sum;
};

/* Children a box spans when word w of R is cut into 2^b: [*c0, *c1], or
 * false when not an interval (MASK/ANY: ask can_hold per child). */
static bool child_span(const struct bx *b, const struct region *R, unsigned w, unsigned bits,
		       uint32_t *c0, uint32_t *c1)
{
	unsigned shift = R->m[w] - bits;
	uint32_t lo = R->lo[w], hi = reg_hi(R, w);

	if (!(b->words & (1u << w))) {
		*c0 = 0;
		*c1 = lowmask(bits);
		return true;
	}
	if ((b->maskw | b->anyw) & (1u << w))
		return false;
	*c0 = ((b->lo[w] > lo ? b->lo[w] : lo) - lo) >> shift;
	*c1 = ((b->hi[w] < hi ? b->hi[w] : hi) - lo) >> shift;
	return true;
}

/* Per-child box counts of cutting w by `bits`, into cnt[0 .. 2^bits]. */
static void child_counts(const struct builder *B, const struct region *R, unsigned w,
			 unsigned bits, const uint32_t *v, uint32_t n, uint32_t *cnt)
{
	uint32_t nch = 1u << bits, c0, c1;
	unsigned shift = R->m[w] - bits;

	memset(cnt, 0, (nch + 1) * sizeof(*cnt));
	for (uint32_t i = 0; i < n; i++) {
		const struct bx *b = &B->bx[v[i]];

		if (child_span(b, R, w, bits, &c0, &c1)) {
			cnt[c0]++;
			cnt[c1 + 1]--;
			continue;
		}
		for (uint32_t c = 0; c < nch; c++)
			if (can_hold(b, w, R->lo[w] + (c << shift), shift)) {
				cnt[c]++;
				cnt[c + 1]--;
			}
	}
	for (uint32_t c = 1; c <= nch; c++)
		cnt[c] += cnt[c - 1];
}

/* HiCuts: the most bits whose space measure (children plus box copies)
 * stays within spfac * n. */
static unsigned pick_bits(const struct builder *B, const struct region *R, unsigned w,
			  const uint32_t *v, uint32_t n, bool setw)
{
	unsigned m = R->m[w], maxb = setw ? MAX_BITS_SET : MAX_BITS;
	uint64_t sum[MAX_BITS + 1] = { 0 }, whole = 0;
	uint32_t lo = R->lo[w], hi = reg_hi(R, w);

	if (maxb > m)
		maxb = m;
	for (uint32_t i = 0; i < n; i++) {
		const struct bx *b = &B->bx[v[i]];
		uint32_t ol, oh;

		if (!(b->words & (1u << w)) || ((b->maskw | b->anyw) & (1u << w))) {
			whole++; /* in every child (MASK/ANY: at worst) */
			continue;
		}
		ol = (b->lo[w] > lo ? b->lo[w] : lo) - lo;
		oh = (b->hi[w] < hi ? b->hi[w] : hi) - lo;
		for (unsigned bits = 1; bits <= maxb; bits++)
			sum[bits] += (oh >> (m - bits)) - (ol >> (m - bits)) + 1;
	}
	for (unsigned bits = maxb; bits > 1; bits--)
		if ((double)(sum[bits] + (whole + 1) * (1u << bits)) <= B->spfac * n)
			return bits;
	return 1;
}

static int choose_cut(const struct builder *B, const struct region *R, const uint32_t *v,
		      uint32_t n, uint32_t candidates, struct cut *best)
{
	uint32_t *cnt = B->scratch;
	bool found = false;

	for (unsigned w = 0; w < W; w++) {
		struct cut c = { .word = w };
		bool setw = false;

		if (!(candidates & (1u << w)) || R->m[w] == 0)
			continue;
		for (uint32_t i = 0; i < n && !setw; i++)
			setw = ((B->bx[v[i]].maskw | B->bx[v[i]].anyw) >> w) & 1;
		c.bits = pick_bits(B, R, w, v, n, setw);
		child_counts(B, R, w, c.bits, v, n, cnt);
		for (uint32_t ch = 0; ch < (1u << c.bits); ch++) {
			c.sum += cnt[ch];
			if (cnt[ch] > c.maxchild)
				c.maxchild = cnt[ch];
		}
		if (!found || c.maxchild < best->maxchild ||
		    (c.maxchild == best->maxchild && c.sum < best->sum)) {
			*best = c;
			found = true;
		}
	}
	return found ? 0 : -E2BIG;
}

/* ---- building -------------------------------------------------------------- */

static int build_node(struct builder *B, uint32_t slot, struct region R, uint32_t *v,
		      uint32_t n, unsigned depth);

/* Children of one cut: flat list storage, and which boxes go where. */
struct children {
	uint32_t nch;
	uint32_t *off;    /* nch + 1 offsets into list */
	uint32_t *list;
	uint64_t *hash;   /* per child, for sibling sharing */
	bool *wfree;      /* every box of the child covers its block on the word */
};

static void children_free(struct children *ch)
{
	free(ch->off);
	free(ch->list);
	free(ch->hash);
	free(ch->wfree);
}

static int children_fill(const struct builder *B, const struct region *R, const struct cut *c,
			 const uint32_t *v, uint32_t n, struct children *ch)
{
	unsigned w = c->word, shift = R->m[w] - c->bits;
	uint32_t c0, c1, *pos;

	ch->nch = 1u << c->bits;
	ch->off = malloc((ch->nch + 1) * sizeof(*ch->off));
	ch->hash = malloc(ch->nch * sizeof(*ch->hash));
	ch->wfree = malloc(ch->nch * sizeof(*ch->wfree));
	if (!ch->off || !ch->hash || !ch->wfree)
		return -ENOMEM;
	child_counts(B, R, w, c->bits, v, n, ch->off);
	/* counts -> start offsets */
	for (uint32_t i = 0, acc = 0; i <= ch->nch; i++) {
		uint32_t k = i < ch->nch ? ch->off[i] : 0;

		ch->off[i] = acc;
		acc += k;
	}
	ch->list = malloc((ch->off[ch->nch] + 1) * sizeof(*ch->list));
	pos = malloc(ch->nch * sizeof(*pos));
	if (!ch->list || !pos) {
		free(pos);
		return -ENOMEM;
	}
	memcpy(pos, ch->off, ch->nch * sizeof(*pos));
	for (uint32_t i = 0; i < n; i++) {
		const struct bx *b = &B->bx[v[i]];

		if (child_span(b, R, w, c->bits, &c0, &c1)) {
			for (uint32_t k = c0; k <= c1; k++)
				ch->list[pos[k]++] = v[i];
			continue;
		}
		for (uint32_t k = 0; k < ch->nch; k++)
			if (can_hold(b, w, R->lo[w] + (k << shift), shift))
				ch->list[pos[k]++] = v[i];
	}
	free(pos);
	for (uint32_t k = 0; k < ch->nch; k++) {
		uint32_t *l = ch->list + ch->off[k], cnt = ch->off[k + 1] - ch->off[k];

		ch->hash[k] = list_hash(l, cnt);
		ch->wfree[k] = true;
		for (uint32_t i = 0; i < cnt && ch->wfree[k]; i++)
			ch->wfree[k] = covers(&B->bx[l[i]], w, R->lo[w] + (k << shift), shift);
	}
	return 0;
}

/* An earlier sibling whose subtree child k can share: same list, and no box
 * of it depends on the cut word within either block, so the subtree built
 * for one block classifies the other exactly alike. */
static int64_t sibling_twin(const struct children *ch, uint32_t k, const uint32_t *tab,
			    uint32_t tabmask)
{
	uint32_t len = ch->off[k + 1] - ch->off[k];

	if (!ch->wfree[k])
		return -1;
	for (uint32_t j = ch->hash[k] & tabmask; tab[j]; j = (j + 1) & tabmask) {
		uint32_t o = tab[j] - 1;

		if (ch->hash[o] == ch->hash[k] && ch->off[o + 1] - ch->off[o] == len &&
		    !memcmp(ch->list + ch->off[o], ch->list + ch->off[k], len * sizeof(uint32_t)))
			return o;
	}
	return -1;
}

static void twin_insert(const struct children *ch, uint32_t k, uint32_t *tab, uint32_t tabmask)
{
	uint32_t j = ch->hash[k] & tabmask;

	while (tab[j])
		j = (j + 1) & tabmask;
	tab[j] = k + 1;
}

static int build_cut(struct builder *B, uint32_t slot, const struct region *R,
		     const uint32_t *v, uint32_t n, const struct cut *c, unsigned depth)
{
	struct children ch = { 0 };
	uint32_t base, tabmask, *tab = NULL;
	unsigned shift = R->m[c->word] - c->bits;
	int r;

	r = children_fill(B, R, c, v, n, &ch);
	if (r < 0)
		goto out;
	r = pc_grow((void **)&B->nodes, &B->cap_nodes, B->nnodes + ch.nch, sizeof(*B->nodes));
	if (r < 0)
		goto out;
	base = (uint32_t)B->nnodes;
	B->nnodes += ch.nch;
	B->nodes[slot] = (struct pc_node) { .kind = PC_NODE_CUT, .word = (uint8_t)c->word,
					    .shift = (uint8_t)shift, .bits = (uint8_t)c->bits,
					    .base = base };
	tabmask = 2 * ch.nch - 1;
	tab = calloc(2 * ch.nch, sizeof(*tab));
	if (!tab) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < ch.nch; k++) {
		struct region cr = *R;
		int64_t twin = sibling_twin(&ch, k, tab, tabmask);

		if (twin >= 0) {
			B->nodes[base + k] = B->nodes[base + twin];
			continue;
		}
		cr.lo[c->word] = R->lo[c->word] + (k << shift);
		cr.m[c->word] = (uint8_t)shift;
		r = build_node(B, base + k, cr, ch.list + ch.off[k], ch.off[k + 1] - ch.off[k],
			       depth + 1);
		if (r < 0)
			goto out;
		if (ch.wfree[k])
			twin_insert(&ch, k, tab, tabmask);
	}
out:
	free(tab);
	children_free(&ch);
	return r;
}

/* v is this node's own copy, sorted by box index; it may be reordered. */
static int build_node(struct builder *B, uint32_t slot, struct region R, uint32_t *v,
		      uint32_t n, unsigned depth)
{
	uint32_t candidates = 0;
	struct cut c = { 0 };
	int r;

	shrink(B, &R, v, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nc = notcover(&B->bx[v[i]], &R);

		if (!nc) {
			n = i + 1; /* shadows everything after it */
			break;
		}
		candidates |= nc;
	}
	if (n <= BINTH || depth >= PC_MAX_DEPTH)
		return make_leaf(B, slot, v, n, depth);
	/* A box list this long has a box not covering R: some word to cut. */
	r = choose_cut(B, &R, v, n, candidates, &c);
	if (r < 0)
		return r;
	/* A leaf that fits beats a cut that does not separate the boxes, or
	 * (up to LEAF_SOFT boxes) hardly does.  Leaves stay short: the
	 * datapath's leaf scan is verified once per possible entry. */
	if (n <= PC_MAX_LEAF && (c.maxchild == n || (n <= LEAF_SOFT && c.maxchild * 8 > n * 7)))
		return make_leaf(B, slot, v, n, depth);
	return build_cut(B, slot, &R, v, n, &c, depth);
}

/* ---- grouping -------------------------------------------------------------- */

/* Bits a box fixes over words w0..w0+nw-1 (a /24 IPv4 prefix: 24). */
static unsigned fixed_bits(const struct bx *b, unsigned w0, unsigned nw)
{
	unsigned bits = 0;

	for (unsigned w = w0; w < w0 + nw; w++) {
		uint32_t span;

		if (!(b->words & (1u << w)) || ((b->maskw | b->anyw) & (1u << w)))
			continue;
		span = b->hi[w] - b->lo[w];
		bits += word_width[w] - (span ? 32 - (unsigned)__builtin_clz(span) : 0);
	}
	return bits;
}

/* Group of a box: 0 src and dst narrow, 1 src narrow, 2 dst narrow,
 * 3 dst port narrow, 4 src port narrow, 5 the rest. */
static unsigned box_group(const struct bx *b)
{
	bool s = fixed_bits(b, PC_W_SRC0, 4) >= 16;
	bool d = fixed_bits(b, PC_W_DST0, 4) >= 16;

	if (s && d)
		return 0;
	if (s)
		return 1;
	if (d)
		return 2;
	if (fixed_bits(b, PC_W_DPORT, 1) >= 7)   /* at most 1024 ports */
		return 3;
	if (fixed_bits(b, PC_W_SPORT, 1) >= 7)
		return 4;
	return 5;
}

struct group {
	uint32_t *v;
	uint32_t n;
};

static int tree_cmp_min_rule(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b; /* {min_rule, root} */

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int build_trees(struct builder *B, struct group *g, uint32_t ngroups, struct pc_gen_cfg *gc)
{
	uint32_t order[PC_MAX_TREES][2];
	int r;

	gc->ntrees = 0;
	for (uint32_t i = 0; i < ngroups; i++) {
		struct region R = { 0 };
		uint32_t root;

		if (!g[i].n)
			continue;
		for (unsigned w = 0; w < W; w++)
			R.m[w] = word_width[w];
		r = pc_grow((void **)&B->nodes, &B->cap_nodes, B->nnodes + 1, sizeof(*B->nodes));
		if (r < 0)
			return r;
		root = (uint32_t)B->nnodes++;
		r = build_node(B, root, R, g[i].v, g[i].n, 1);
		if (r < 0)
			return r;
		order[gc->ntrees][0] = B->bx[g[i].v[0]].rule;
		order[gc->ntrees][1] = root;
		gc->ntrees++;
	}
	qsort(order, gc->ntrees, sizeof(order[0]), tree_cmp_min_rule);
	for (uint32_t t = 0; t < gc->ntrees; t++) {
		gc->min_rule[t] = order[t][0];
		gc->root[t] = order[t][1];
	}
	gc->max_depth = B->max_depth;
	gc->max_leaf = B->max_leaf;
	return 0;
}

/* pc_node.min_rule, bottom up: children always come after their parent. */
static void set_min_rules(struct builder *B)
{
	for (size_t i = B->nnodes; i-- > 0;) {
		struct pc_node *nd = &B->nodes[i];
		uint32_t m = UINT32_MAX;

		if (nd->kind == PC_NODE_LEAF) {
			if (nd->count)
				m = B->bx[B->leaf[nd->base]].rule;
		} else
			for (uint32_t c = 0; c < (1u << nd->bits); c++)
				if (B->nodes[nd->base + c].min_rule < m)
					m = B->nodes[nd->base + c].min_rule;
		nd->min_rule = m;
	}
}

static void builder_reset(struct builder *B)
{
	free(B->nodes);
	free(B->leaf);
	free(B->lm.slot);
	free(B->lm.len);
	B->nodes = NULL;
	B->leaf = NULL;
	B->lm = (struct leafmap) { 0 };
	B->nnodes = B->cap_nodes = B->nleaf = B->cap_leaf = 0;
	B->max_depth = B->max_leaf = 0;
}

/* Kernel memory we allow for nodes and leaves, beside the boxes. */
#define PC_TREE_MEM_MAX (64ull << 20)

static int groups_make(const struct bx *bx, size_t nboxes, struct group *g)
{
	uint32_t cnt[N_GROUPS] = { 0 };

	for (size_t i = 0; i < nboxes; i++)
		cnt[box_group(&bx[i])]++;
	for (unsigned k = 0; k < N_GROUPS; k++) {
		g[k].v = malloc((cnt[k] + 1) * sizeof(uint32_t));
		if (!g[k].v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < nboxes; i++) {
		struct group *gg = &g[box_group(&bx[i])];

		gg->v[gg->n++] = (uint32_t)i;
	}
	return 0;
}

int pc_tree_build(const struct pc_ruleset *rs, struct pc_tree **ret)
{
	static const double spfacs[] = { 16.0, 4.0, 2.0, 1.2 };
	uint64_t start = pc_now_usec(CLOCK_MONOTONIC);
	struct group g[N_GROUPS] = { 0 };
	struct builder B = { 0 };
	_cleanup_free_ struct bx *bx = NULL;
	struct pc_tree *t = NULL;
	size_t box_bytes = rs->nboxes * sizeof(struct pc_box);
	int r = -E2BIG;

	if (rs->nboxes > UINT32_MAX / 2 || box_bytes >= PC_TREE_MEM_MAX)
		return -E2BIG;
	t = calloc(1, sizeof(*t));
	bx = malloc((rs->nboxes + 1) * sizeof(*bx));
	B.scratch = malloc(((1u << MAX_BITS) + 1) * sizeof(uint32_t));
	if (!t || !bx || !B.scratch) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rs->nboxes; i++)
		bx_from_box(&bx[i], &rs->boxes[i]);
	r = groups_make(bx, rs->nboxes, g);
	if (r < 0)
		goto out;
	B.bx = bx;
	B.budget_bytes = PC_TREE_MEM_MAX - box_bytes;
	for (size_t a = 0; a < ELEMENTSOF(spfacs); a++) {
		B.spfac = spfacs[a];
		builder_reset(&B);
		r = build_trees(&B, g, N_GROUPS, &t->cfg);
		if (r != -E2BIG)
			break;
	}
	if (r < 0)
		goto out;
	set_min_rules(&B);
	t->cfg.nrules = rs->nrules;
	t->nodes = TAKE_PTR(B.nodes);
	t->nnodes = B.nnodes;
	t->leaf = TAKE_PTR(B.leaf);
	t->nleaf = B.nleaf;
	t->build_usec = pc_now_usec(CLOCK_MONOTONIC) - start;
	*ret = TAKE_PTR(t);
out:
	for (unsigned k = 0; k < N_GROUPS; k++)
		free(g[k].v);
	builder_reset(&B);
	free(B.scratch);
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

uint32_t pc_tree_classify(const struct pc_tree *t, const struct pc_box *boxes,
			  const struct pc_key *k)
{
	uint32_t best = t->cfg.nrules;

	for (uint32_t i = 0; i < t->cfg.ntrees && i < PC_MAX_TREES; i++) {
		const struct pc_node *nd;
		uint32_t idx = t->cfg.root[i];

		if (t->cfg.min_rule[i] >= best)
			continue;
		for (unsigned d = 0; d < PC_MAX_DEPTH; d++) {
			nd = &t->nodes[idx];
			if (nd->kind != PC_NODE_CUT || nd->min_rule >= best)
				break;
			idx = nd->base + ((k->w[nd->word] >> nd->shift) & ((1u << nd->bits) - 1));
		}
		nd = &t->nodes[idx];
		if (nd->kind != PC_NODE_LEAF || nd->min_rule >= best)
			continue;
		for (uint32_t j = 0; j < nd->count && j < PC_MAX_LEAF; j++) {
			const struct pc_box *b = &boxes[t->leaf[nd->base + j]];

			if (b->rule >= best)
				break;
			if (pc_box_match(b, k)) {
				best = b->rule;
				break;
			}
		}
	}
	return best;
}
