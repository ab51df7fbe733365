/* SPDX-License-Identifier: GPL-2.0-only */
/* settrie.c - prefix tries and port bitmaps in the set pool.
 *
 * A node of the trie covers the addresses whose first `depth` bits are
 * fixed (its region).  Built from the set's elements in the region, with
 * those inside another one dropped (membership is all that counts): none is
 * EMPTY, one that covers the region is FULL, up to a leaf's worth is a LEAF
 * listing them, more is a TABLE of 256 entries (the root is one, at depth
 * 0), each child the region of the next 8 bits; an element of at most
 * depth + 8 bits covers 2^(depth + 8 - len) of them (FULL).
 * A change rebuilds only the entries the changed element falls in, in a copy
 * of each table on the path (copy on write). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "datapath/settrie.h"
#include "lib/util.h"

#define PC_SET_SEG(ctx, seg) pc_pool_seg((const struct pc_pool *)(ctx), (seg))
#include "setlookup.h"

#define ROOT_ORDER 4   /* PC_SET_ROOT_SIZE */
#define TABLE_ORDER 4  /* PC_SET_TABLE_SIZE */

static unsigned fam_bits(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

static unsigned leaf_cap(uint8_t family)
{
	return family == 4 ? PC_SET_LEAF4_N : PC_SET_LEAF6_N;
}

static unsigned leaf_order(uint8_t family)
{
	return family == 4 ? 0 : 1;
}

/* The 8 bits of the address from bit depth (a multiple of 8). */
static uint32_t addr_bits(const uint8_t *a, unsigned depth, unsigned stride)
{
	_Static_assert(PC_SET_ROOT_BITS == 8, "every table resolves a byte");
	return stride == 8 ? a[depth / 8] : 0;
}

static uint32_t be32(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* ---- the blocks -------------------------------------------------------------------- */
/* A build or update, in a transaction: the tables it made itself (written
 * in place; any other is copied before it changes) are in hash. */
struct build {
	struct pc_pool_txn *txn;
	struct pc_pool *pool;
	uint8_t family;
	uint32_t *hash;        /* open addressing, 0 = empty */
	size_t hcap, hn;
};

static size_t hslot(uint32_t ref, size_t cap)
{
	return (ref * 2654435761u) & (cap - 1);
}

static bool fresh_has(const struct build *b, uint32_t ref)
{
	if (!b->hcap)
		return false;
	for (size_t i = hslot(ref, b->hcap); b->hash[i]; i = (i + 1) & (b->hcap - 1))
		if (b->hash[i] == ref)
			return true;
	return false;
}

static void hash_put(uint32_t *h, size_t cap, uint32_t ref)
{
	size_t i = hslot(ref, cap);

	while (h[i])
		i = (i + 1) & (cap - 1);
	h[i] = ref;
}

static int fresh_add(struct build *b, uint32_t ref)
{
	if (2 * (b->hn + 1) > b->hcap) {
		size_t cap = b->hcap ? b->hcap * 2 : 256;
		uint32_t *h = calloc(cap, sizeof(*h));

		if (!h)
			return -ENOMEM;
		for (size_t i = 0; i < b->hcap; i++)
			if (b->hash[i])
				hash_put(h, cap, b->hash[i]);
		free(b->hash);
		b->hash = h;
		b->hcap = cap;
	}
	hash_put(b->hash, b->hcap, ref);
	b->hn++;
	return 0;
}

static int block_new(struct build *b, unsigned order, uint32_t *ref, void **mem)
{
	int r = pc_pool_txn_alloc(b->txn, order, ref);

	if (r < 0)
		return r;
	*mem = pc_pool_ptr(b->pool, *ref);
	return order == TABLE_ORDER ? fresh_add(b, *ref) : 0;
}

/* ---- building ---------------------------------------------------------------------- */
/* Drop the elements inside an earlier one (sorted: an element's container
 * comes before it, and is the last one kept). */
static size_t normalize(const struct pc_set_elem *in, size_t n, struct pc_set_elem *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pc_set_elem *e = &in[i];

		if (k) {
			const struct pc_set_elem *c = &out[k - 1];
			struct pc_set_elem m = *e;
			unsigned len = c->len;

			for (unsigned j = 0; j < 16; j++) {
				unsigned keep = len >= 8 * (j + 1) ? 8 : len > 8 * j ? len - 8 * j : 0;

				m.addr[j] &= keep ? (uint8_t)(0xff00u >> keep) : 0;
			}
			if (c->len <= e->len && !memcmp(m.addr, c->addr, 16))
				continue;
		}
		out[k++] = *e;
	}
	return k;
}

static int build_entry(struct build *b, const struct pc_set_elem *e, size_t n, unsigned depth,
		       uint32_t *ret);

static int build_leaf(struct build *b, const struct pc_set_elem *e, size_t n, uint32_t *ret)
{
	uint32_t ref;
	void *mem;
	int r = block_new(b, leaf_order(b->family), &ref, &mem);

	if (r < 0)
		return r;
	if (b->family == 4) {
		struct pc_set_leaf4 *l = mem;

		l->n = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			l->len[i] = e[i].len;
			l->v[i] = be32(e[i].addr);
		}
	} else {
		struct pc_set_leaf6 *l = mem;

		l->n = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			l->len[i] = e[i].len;
			for (unsigned w = 0; w < 4; w++)
				l->v[i][w] = be32(e[i].addr + 4 * w);
		}
	}
	*ret = ref << 2 | PC_SE_LEAF;
	return 0;
}

/* The entries of a table at depth of 2^stride entries, from the
 * normalized elements of its region. */
static int fill_table(struct build *b, uint32_t *t, const struct pc_set_elem *e, size_t n,
		      unsigned depth, unsigned stride)
{
	size_t i = 0;
	int r;

	while (i < n) {
		uint32_t idx = addr_bits(e[i].addr, depth, stride), end;
		size_t j = i + 1;

		if (e[i].len <= depth + stride) {
			end = idx + (1u << (depth + stride - e[i].len));
			for (uint32_t k = idx; k < end; k++)
				t[k] = PC_SE_FULL;
			i++;
			continue;
		}
		while (j < n && addr_bits(e[j].addr, depth, stride) == idx)
			j++;
		r = build_entry(b, e + i, j - i, depth + stride, &t[idx]);
		if (r < 0)
			return r;
		i = j;
	}
	return 0;
}

static int build_entry(struct build *b, const struct pc_set_elem *e, size_t n, unsigned depth,
		       uint32_t *ret)
{
	uint32_t ref;
	void *mem;
	int r;

	if (n == 0) {
		*ret = PC_SE_EMPTY;
		return 0;
	}
	if (e[0].len <= depth) {
		*ret = PC_SE_FULL;
		return 0;
	}
	if (n <= leaf_cap(b->family) || depth + 8 > fam_bits(b->family))
		return build_leaf(b, e, n, ret);
	r = block_new(b, TABLE_ORDER, &ref, &mem);
	if (r < 0)
		return r;
	*ret = ref << 2 | PC_SE_TABLE;
	return fill_table(b, mem, e, n, depth, 8);
}

static int build_root(struct build *b, const struct pc_set_elem *norm, size_t n, uint32_t *root)
{
	void *mem;
	int r;

	*root = 0;
	if (!n)
		return 0;
	r = block_new(b, ROOT_ORDER, root, &mem);
	return r < 0 ? r : fill_table(b, mem, norm, n, 0, PC_SET_ROOT_BITS);
}

int pc_trie_build(struct pc_pool_txn *txn, const struct pc_trie_src *src, uint32_t *root)
{
	_cleanup_free_ struct pc_set_elem *norm = NULL;
	struct build b = { .txn = txn, .pool = txn->pool, .family = src->family };
	size_t n;
	int r;

	*root = 0;
	if (!src->n)
		return 0;
	norm = malloc(src->n * sizeof(*norm));
	if (!norm)
		return -ENOMEM;
	n = normalize(src->v, src->n, norm);
	r = build_root(&b, norm, n, root);
	free(b.hash);
	return r;
}

/* ---- walking ------------------------------------------------------------------------ */
typedef void (*block_fn)(struct pc_pool *pool, uint32_t ref, unsigned order, void *arg);

static void walk_entry(struct pc_pool *pool, uint8_t family, uint32_t e, block_fn fn, void *arg)
{
	uint32_t ref = PC_SE_REF(e);
	const uint32_t *t;

	if (PC_SE_KIND(e) == PC_SE_LEAF) {
		fn(pool, ref, leaf_order(family), arg);
		return;
	}
	if (PC_SE_KIND(e) != PC_SE_TABLE || !(t = pc_pool_ptr(pool, ref)))
		return;
	for (unsigned i = 0; i < 256; i++)
		walk_entry(pool, family, t[i], fn, arg);
	fn(pool, ref, TABLE_ORDER, arg);
}

static void walk(struct pc_pool *pool, uint8_t family, uint32_t root, block_fn fn, void *arg)
{
	const uint32_t *t = root ? pc_pool_ptr(pool, root) : NULL;

	if (!t)
		return;
	for (uint32_t i = 0; i < 1u << PC_SET_ROOT_BITS; i++)
		walk_entry(pool, family, t[i], fn, arg);
	fn(pool, root, ROOT_ORDER, arg);
}

static void free_fn(struct pc_pool *pool, uint32_t ref, unsigned order, void *arg)
{
	pc_pool_free(pool, ref, order);
}

static void drop_fn(struct pc_pool *pool, uint32_t ref, unsigned order, void *arg)
{
	pc_pool_txn_drop(arg, ref, order);
}

static void mark_fn(struct pc_pool *pool, uint32_t ref, unsigned order, void *arg)
{
	int *r = arg;

	if (*r >= 0)
		*r = pc_pool_mark(pool, ref, order);
}

static void size_fn(struct pc_pool *pool, uint32_t ref, unsigned order, void *arg)
{
	*(uint64_t *)arg += (uint64_t)PC_SET_UNIT << order;
}

void pc_trie_free(struct pc_pool *pool, uint8_t family, uint32_t root)
{
	walk(pool, family, root, free_fn, NULL);
}

void pc_trie_drop(struct pc_pool_txn *txn, uint8_t family, uint32_t root)
{
	walk(txn->pool, family, root, drop_fn, txn);
}

int pc_trie_mark(struct pc_pool *pool, uint8_t family, uint32_t root)
{
	int r = 0;

	walk(pool, family, root, mark_fn, &r);
	return r;
}

void pc_trie_size(const struct pc_pool *pool, uint8_t family, uint32_t root, uint64_t *bytes)
{
	*bytes = 0;
	walk((struct pc_pool *)pool, family, root, size_fn, bytes);
}

/* ---- changing -------------------------------------------------------------------------- */
struct update {
	struct build b;
	const struct pc_trie_src *src;
};

/* The element: the first depth bits of a, the rest 0, length depth. */
static void region_key(const uint8_t *a, unsigned depth, uint8_t family, struct pc_set_elem *k)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	k->len = (uint8_t)depth;
	memcpy(k->addr, a, depth / 8);
}

/* An element of fewer than depth bits holds the region. */
static bool region_covered(const struct update *u, const uint8_t *a, unsigned depth)
{
	for (unsigned l = 0; l < depth; l++) {
		struct pc_set_elem k;
		size_t i;

		if (!(u->src->lens[l / 64] >> (l % 64) & 1))
			continue;
		region_key(a, 0, u->src->family, &k);
		memcpy(k.addr, a, (l + 7) / 8);
		if (l % 8)
			k.addr[l / 8] &= (uint8_t)(0xff00u >> (l % 8));
		k.len = (uint8_t)l;
		i = pc_set_elem_lower_bound(u->src->v, u->src->n, &k);
		if (i < u->src->n && !pc_set_elem_cmp(&u->src->v[i], &k))
			return true;
	}
	return false;
}

/* The entry of the region of depth bits of a, built from src. */
static int build_region(struct update *u, const uint8_t *a, unsigned depth, uint32_t *ret)
{
	_cleanup_free_ struct pc_set_elem *norm = NULL;
	struct pc_set_elem lo, hi;
	size_t i, j;

	if (region_covered(u, a, depth)) {
		*ret = PC_SE_FULL;
		return 0;
	}
	region_key(a, depth, u->src->family, &lo);
	lo.len = 0;
	hi = lo;
	memset(hi.addr + depth / 8, 0xff, 16 - depth / 8);
	hi.len = 0xff;
	i = pc_set_elem_lower_bound(u->src->v, u->src->n, &lo);
	j = pc_set_elem_lower_bound(u->src->v, u->src->n, &hi);
	if (i == j) {
		*ret = PC_SE_EMPTY;
		return 0;
	}
	norm = malloc((j - i) * sizeof(*norm));
	if (!norm)
		return -ENOMEM;
	return build_entry(&u->b, norm, normalize(u->src->v + i, j - i, norm), depth, ret);
}

/* Entry k of table t (at depth, of stride) gets its region rebuilt. */
static int rebuild_slot(struct update *u, uint32_t *t, uint32_t k, const uint8_t *a,
			unsigned depth, unsigned stride)
{
	uint8_t r[16];

	memcpy(r, a, 16);
	r[depth / 8] = (uint8_t)k;
	walk_entry(u->b.pool, u->src->family, t[k], drop_fn, u->b.txn);
	return build_region(u, r, depth + stride, &t[k]);
}

/* The table of entry *e, written in place if this update made it, else
 * copied first (and *e pointed at the copy). */
static int table_own(struct update *u, uint32_t *e, uint32_t **ret)
{
	uint32_t ref = PC_SE_REF(*e), nref;
	void *mem;
	int r;

	if (fresh_has(&u->b, ref)) {
		*ret = pc_pool_ptr(u->b.pool, ref);
		return *ret ? 0 : -EIO;
	}
	r = block_new(&u->b, TABLE_ORDER, &nref, &mem);
	if (r < 0)
		return r;
	memcpy(mem, pc_pool_ptr(u->b.pool, ref), PC_SET_TABLE_SIZE);
	pc_pool_txn_drop(u->b.txn, ref, TABLE_ORDER);
	*e = nref << 2 | PC_SE_TABLE;
	*ret = mem;
	return 0;
}

static int update_one(struct update *u, uint32_t *root, const struct pc_set_elem *p)
{
	unsigned depth = 0, stride = PC_SET_ROOT_BITS;
	uint32_t *t = root;
	int r;

	for (;;) {
		uint32_t idx = addr_bits(p->addr, depth, stride);

		if (p->len <= depth + stride) {
			uint32_t end = idx + (1u << (depth + stride - p->len));

			for (uint32_t k = idx; k < end; k++)
				if ((r = rebuild_slot(u, t, k, p->addr, depth, stride)) < 0)
					return r;
			return 0;
		}
		if (PC_SE_KIND(t[idx]) != PC_SE_TABLE)
			return rebuild_slot(u, t, idx, p->addr, depth, stride);
		r = table_own(u, &t[idx], &t);
		if (r < 0)
			return r;
		depth += stride;
		stride = 8;
	}
}

void pc_trie_lens(const struct pc_set_elem *e, size_t n, uint64_t lens[3])
{
	for (size_t i = 0; i < n; i++)
		lens[e[i].len / 64] |= 1ull << (e[i].len % 64);
}

int pc_trie_update(struct pc_pool_txn *txn, const struct pc_trie_src *src, uint32_t old,
		   const struct pc_set_elem *changed, size_t nchanged, uint32_t *root)
{
	struct update u = { .b = { .txn = txn, .pool = txn->pool, .family = src->family },
			    .src = src };
	uint32_t *t;
	void *mem;
	int r;

	/* many changes, or the root appears or goes: build anew */
	if (!old || !src->n || nchanged > src->n / 16 + 64) {
		r = pc_trie_build(txn, src, root);
		if (r >= 0)
			pc_trie_drop(txn, src->family, old);
		return r;
	}
	r = block_new(&u.b, ROOT_ORDER, root, &mem);
	if (r >= 0) {
		t = mem;
		memcpy(t, pc_pool_ptr(u.b.pool, old), PC_SET_ROOT_SIZE);
		pc_pool_txn_drop(txn, old, ROOT_ORDER);
	}
	for (size_t i = 0; i < nchanged && r >= 0; i++)
		if (changed[i].family == src->family)
			r = update_one(&u, t, &changed[i]);
	free(u.b.hash);
	return r;
}

/* ---- port bitmaps ------------------------------------------------------------------------ */
int pc_bitmap_build(struct pc_pool_txn *txn, const struct pc_set_elem *e, size_t n, uint32_t *ref)
{
	uint32_t *bm;
	int r;

	*ref = 0;
	if (!n)
		return 0;
	r = pc_pool_txn_alloc(txn, PC_BITMAP_ORDER, ref);
	if (r < 0)
		return r;
	bm = pc_pool_ptr(txn->pool, *ref);
	for (size_t i = 0; i < n; i++)
		for (uint32_t p = e[i].port.lo; p <= e[i].port.hi; p++)
			bm[p / 32] |= 1u << (p % 32);
	return 0;
}

int pc_pool_member(const struct pc_pool *pool, uint32_t dir, uint32_t set, uint32_t field,
		   const uint32_t *w)
{
	return pc_set_member(pool, dir, set, field, w);
}
