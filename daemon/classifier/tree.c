/* SPDX-License-Identifier: GPL-2.0-only */
/* tree.c - one decision tree over a list of boxes (see daemon/classifier/README.md).
 *
 * A tree node cuts one key word by its next top bits (HiCuts with a space
 * factor), so the region of a node is an aligned block per word.  At every
 * node the region is first shrunk to the aligned hull of its boxes (a key
 * outside that hull matches none of them, wherever it lands), then the box
 * list is cut short after the first box covering the whole region.  Grouping
 * and the fallbacks are forest.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/tree.h"
#include "classifier/treebuild.h"
#include "lib/util.h"

#define W TB_W
#define MAX_BITS 16      /* fan-out of one cut node: at most 2^16 children */
#define MAX_BITS_SET 8   /* ... when the word has MASK/ANY checks */
#define BINTH 4          /* a node with this many boxes or fewer is a leaf */
#define LEAF_SOFT 12     /* ... up to this many when the best cut hardly separates */

static const uint8_t word_width[W] = PC_WORD_WIDTHS;

static uint32_t lowmask(unsigned m)
{
	return m >= 32 ? UINT32_MAX : (1u << m) - 1;
}

/* notcover() of an opaque box: no word to cut, but not covering either. */
#define NC_OPAQUE (1u << 31)
_Static_assert(W < 31, "NC_OPAQUE is no word");

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
static bool can_hold(const struct tb_box *b, unsigned w, uint32_t lo, unsigned m)
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
static bool covers(const struct tb_box *b, unsigned w, uint32_t lo, unsigned m)
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
static uint32_t notcover(const struct tb_box *b, const struct region *R)
{
	uint32_t ws = b->words, nc = 0;

	while (ws) {
		unsigned w = (unsigned)__builtin_ctz(ws);

		ws &= ws - 1;
		if (!covers(b, w, R->lo[w], R->m[w]))
			nc |= 1u << w;
	}
	return b->opaque ? nc | NC_OPAQUE : nc;
}

void tb_box_from(struct tb_box *x, const struct pc_box *b)
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
		if (c->op == PC_OP_SET) {
			x->opaque = true; /* the lookup decides, not the region */
			continue;
		}
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

unsigned tb_fixed_bits(const struct tb_box *b, unsigned w0, unsigned nw)
{
	unsigned bits = 0;

	for (unsigned w = w0; w < w0 + nw; w++) {
		uint32_t span;

		if (!(b->words & (1u << w)) || (b->anyw & (1u << w)))
			continue;
		if (b->maskw & (1u << w)) {
			bits += (unsigned)__builtin_popcount(b->lo[w] & lowmask(word_width[w]));
			continue;
		}
		span = b->hi[w] - b->lo[w];
		bits += word_width[w] - (span ? 32 - (unsigned)__builtin_clz(span) : 0);
	}
	return bits;
}

/* ---- leaf storage, shared between identical lists -------------------------- */

static uint64_t list_hash(const uint32_t *v, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;

	for (size_t i = 0; i < n; i++)
		h = (h ^ v[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

/* The leaf map at capacity cap, with only the lists stored below leaf
 * position `below` (all of them: B->nleaf). */
static int leafmap_rehash(struct tb_builder *B, size_t cap, size_t below)
{
	struct tb_leafmap nm = { .cap = cap };

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

		if (!s || s - 1 >= below)
			continue;
		j = list_hash(B->leaf + s - 1, B->lm.len[i]) & (nm.cap - 1);
		while (nm.slot[j])
			j = (j + 1) & (nm.cap - 1);
		nm.slot[j] = s;
		nm.len[j] = B->lm.len[i];
		nm.n++;
	}
	free(B->lm.slot);
	free(B->lm.len);
	B->lm = nm;
	return 0;
}

/* Store a leaf list (or find an identical one); returns its base. */
static int leaf_store(struct tb_builder *B, const uint32_t *v, uint32_t n, uint32_t *base)
{
	size_t j;
	int r;

	if (n == 0) {
		*base = 0;
		return 0;
	}
	if (B->lm.n * 2 >= B->lm.cap) {
		r = leafmap_rehash(B, B->lm.cap ? B->lm.cap * 2 : 4096, B->nleaf);
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

/* The tree being built, in kernel memory: nodes and leaf entries. */
static bool over_budget(const struct tb_builder *B)
{
	return (B->nnodes - B->mark_nodes) * sizeof(struct pc_node) +
	       (B->nleaf - B->mark_leaf) * sizeof(struct pc_leaf_ent) > B->budget_bytes;
}

/* A leaf; over PC_MAX_LEAF boxes a slow one, which the datapath scans with
 * a bpf_loop() callback instead of its unrolled leaf scan. */
static int make_leaf(struct tb_builder *B, uint32_t slot, const uint32_t *v, uint32_t n,
		     unsigned depth)
{
	uint32_t base;
	int r;

	r = leaf_store(B, v, n, &base);
	if (r < 0)
		return r;
	B->nodes[slot] = (struct pc_node) { .kind = n > PC_MAX_LEAF ? PC_NODE_SLOW : PC_NODE_LEAF,
					    .base = base, .count = n };
	if (depth > B->max_depth)
		B->max_depth = depth;
	if (n > B->max_leaf && n <= PC_MAX_LEAF)
		B->max_leaf = n;
	return over_budget(B) ? -E2BIG : 0;
}

/* ---- region shrinking ------------------------------------------------------ */

/* Aligned block of box b's values on w inside R: [*lo, *hi]. False: whole R. */
static bool box_hull(const struct tb_box *b, const struct region *R, unsigned w,
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
static void shrink(const struct tb_builder *B, struct region *R, const uint32_t *v, uint32_t n)
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
static bool child_span(const struct tb_box *b, const struct region *R, unsigned w, unsigned bits,
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
static void child_counts(const struct tb_builder *B, const struct region *R, unsigned w,
			 unsigned bits, const uint32_t *v, uint32_t n, uint32_t *cnt)
{
	uint32_t nch = 1u << bits, c0, c1;
	unsigned shift = R->m[w] - bits;

	memset(cnt, 0, (nch + 1) * sizeof(*cnt));
	for (uint32_t i = 0; i < n; i++) {
		const struct tb_box *b = &B->bx[v[i]];

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
static unsigned pick_bits(const struct tb_builder *B, const struct region *R, unsigned w,
			  const uint32_t *v, uint32_t n, bool setw)
{
	unsigned m = R->m[w], maxb = setw ? MAX_BITS_SET : MAX_BITS;
	uint64_t sum[MAX_BITS + 1] = { 0 }, whole = 0;
	uint32_t lo = R->lo[w], hi = reg_hi(R, w);

	if (maxb > m)
		maxb = m;
	for (uint32_t i = 0; i < n; i++) {
		const struct tb_box *b = &B->bx[v[i]];
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

static int choose_cut(const struct tb_builder *B, const struct region *R, const uint32_t *v,
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

static int build_node(struct tb_builder *B, uint32_t slot, struct region R, uint32_t *v,
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

static int children_fill(const struct tb_builder *B, const struct region *R, const struct cut *c,
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
		const struct tb_box *b = &B->bx[v[i]];

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

static int build_cut(struct tb_builder *B, uint32_t slot, const struct region *R,
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
					    .base = base, .mask = (1u << c->bits) - 1 };
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
static int build_node(struct tb_builder *B, uint32_t slot, struct region R, uint32_t *v,
		      uint32_t n, unsigned depth)
{
	uint32_t candidates = 0;
	struct cut c = { 0 };
	int r;

	B->work += n;
	if (B->work > B->budget_work || over_budget(B))
		return -E2BIG;
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
		return make_leaf(B, slot, v, n, depth);
	/* A leaf that fits beats a cut that does not separate the boxes, or
	 * (up to LEAF_SOFT boxes) hardly does.  Leaves stay short: the
	 * datapath's leaf scan is verified once per possible entry. */
	if (n <= PC_MAX_LEAF && (c.maxchild == n || (n <= LEAF_SOFT && c.maxchild * 8 > n * 7)))
		return make_leaf(B, slot, v, n, depth);
	return build_cut(B, slot, &R, v, n, &c, depth);
}

/* ---- one tree, and undoing one ---------------------------------------------- */

void tb_begin(struct tb_builder *B, double spfac, size_t budget_bytes, uint64_t budget_work)
{
	B->spfac = spfac;
	B->budget_bytes = budget_bytes;
	B->budget_work = budget_work;
	B->work = 0;
	B->mark_nodes = B->nnodes;
	B->mark_leaf = B->nleaf;
	B->max_depth = B->max_leaf = 0;
}

static int new_root(struct tb_builder *B, uint32_t *root)
{
	int r = pc_grow((void **)&B->nodes, &B->cap_nodes, B->nnodes + 1, sizeof(*B->nodes));

	if (r < 0)
		return r;
	*root = (uint32_t)B->nnodes++;
	return 0;
}

int tb_build(struct tb_builder *B, uint32_t *v, uint32_t n, uint32_t *root)
{
	struct region R = { 0 };
	int r;

	for (unsigned w = 0; w < W; w++)
		R.m[w] = word_width[w];
	r = new_root(B, root);
	return r < 0 ? r : build_node(B, *root, R, v, n, 1);
}

int tb_build_linear(struct tb_builder *B, const uint32_t *v, uint32_t n, uint32_t *root)
{
	int r = new_root(B, root);

	if (r < 0)
		return r;
	r = make_leaf(B, *root, v, n, 1);
	return r == -E2BIG ? 0 : r;
}

int tb_rollback(struct tb_builder *B)
{
	B->nnodes = B->mark_nodes;
	B->nleaf = B->mark_leaf;
	B->max_depth = B->max_leaf = 0;
	return B->lm.cap ? leafmap_rehash(B, B->lm.cap, B->nleaf) : 0;
}

/* pc_node.min_rule, bottom up: children always come after their parent. */
void tb_set_min_rules(struct tb_builder *B)
{
	for (size_t i = B->nnodes; i-- > 0;) {
		struct pc_node *nd = &B->nodes[i];
		uint32_t m = UINT32_MAX;

		if (nd->kind != PC_NODE_CUT) {
			if (nd->count)
				m = B->bx[B->leaf[nd->base]].rule;
		} else
			for (uint32_t c = 0; c < (1u << nd->bits); c++)
				if (B->nodes[nd->base + c].min_rule < m)
					m = B->nodes[nd->base + c].min_rule;
		nd->min_rule = m;
	}
}

void tb_free(struct tb_builder *B)
{
	free(B->nodes);
	free(B->leaf);
	free(B->lm.slot);
	free(B->lm.len);
	free(B->scratch);
	*B = (struct tb_builder) { 0 };
}
