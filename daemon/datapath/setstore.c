/* SPDX-License-Identifier: GPL-2.0-only */
/* setstore.c - a set's elements in chunk blocks of the pool.
 *
 * Chunk c holds the elements from its first one up to the first of chunk
 * c + 1.  After a change, a chunk whose range holds no changed element is
 * kept as it is; the others are cut anew from the elements now in their
 * range (split when too many, dropped when none). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "datapath/setstore.h"
#include "lib/util.h"

#define CHUNK_ORDER 6 /* PC_SET_CHUNK_SIZE */
/* A rewritten chunk is filled to 3/4, so that adds nearby fit. */
#define CHUNK_FILL (PC_SET_CHUNK_N * 3 / 4)

static unsigned index_order(uint32_t nchunks)
{
	return pc_pool_order((size_t)nchunks * sizeof(uint32_t));
}

static const uint32_t *index_refs(const struct pc_pool *pool, const struct pc_store *s)
{
	return s->index ? pc_pool_ptr(pool, s->index) : NULL;
}

/* ---- writing ---------------------------------------------------------------------- */
struct refs {
	uint32_t *v;
	size_t n, cap;
};

static int refs_add(struct refs *r, uint32_t ref)
{
	if (pc_grow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v)) < 0)
		return -ENOMEM;
	r->v[r->n++] = ref;
	return 0;
}

/* e[0 .. n) into new chunks of at most fill elements, appended to out. */
static int chunks_write(struct pc_pool_txn *txn, const struct pc_set_elem *e, size_t n,
			size_t fill, struct refs *out)
{
	for (size_t i = 0; i < n;) {
		size_t k = n - i > fill ? fill : n - i;
		struct pc_set_chunk *c;
		uint32_t ref;
		int r;

		/* the last piece not tiny: split the rest evenly */
		if (n - i > fill && n - i < fill + fill / 2)
			k = (n - i) / 2;
		r = pc_pool_txn_alloc(txn, CHUNK_ORDER, &ref);
		if (r >= 0)
			r = refs_add(out, ref);
		if (r < 0)
			return r;
		c = pc_pool_ptr(txn->pool, ref);
		c->n = (uint32_t)k;
		memcpy(c->e, e + i, k * sizeof(*e));
		i += k;
	}
	return 0;
}

static int index_write(struct pc_pool_txn *txn, const struct refs *r, struct pc_store *ret)
{
	uint32_t ref;
	int e;

	ret->nchunks = (uint32_t)r->n;
	ret->index = 0;
	if (!r->n)
		return 0;
	e = pc_pool_txn_alloc(txn, index_order(ret->nchunks), &ref);
	if (e < 0)
		return e;
	memcpy(pc_pool_ptr(txn->pool, ref), r->v, r->n * sizeof(*r->v));
	ret->index = ref;
	return 0;
}

int pc_store_build(struct pc_pool_txn *txn, const struct pc_set_elem *e, size_t n,
		   struct pc_store *ret)
{
	struct refs out = {};
	int r = chunks_write(txn, e, n, PC_SET_CHUNK_N, &out);

	if (r >= 0)
		r = index_write(txn, &out, ret);
	free(out.v);
	return r;
}

/* ---- changing ---------------------------------------------------------------------- */
/* First element of chunk c (where its range starts), NULL for the first
 * chunk (its range starts below every element).  Chunks are never empty. */
static const struct pc_set_elem *chunk_start(const struct pc_pool *pool, const uint32_t *refs,
					     uint32_t c)
{
	const struct pc_set_chunk *ch;

	if (c == 0)
		return NULL;
	ch = pc_pool_ptr(pool, refs[c]);
	return ch && ch->n ? &ch->e[0] : NULL;
}

static int store_update(struct pc_pool_txn *txn, const struct pc_store *old,
			const struct pc_set_elem *e, size_t n, const struct pc_set_elem *changed,
			size_t nchanged, struct refs *out)
{
	const uint32_t *refs = index_refs(txn->pool, old);
	size_t ci = 0;
	int r;

	if (!refs)
		return -EPROTO;
	for (uint32_t c = 0; c < old->nchunks; c++) {
		const struct pc_set_elem *lo = chunk_start(txn->pool, refs, c);
		const struct pc_set_elem *hi =
			c + 1 < old->nchunks ? chunk_start(txn->pool, refs, c + 1) : NULL;
		bool touched = false;
		size_t a, b;

		/* the changed elements below hi fall in this chunk's range */
		while (ci < nchanged && (!hi || pc_set_elem_cmp(&changed[ci], hi) < 0)) {
			touched = true;
			ci++;
		}
		if (!touched) {
			if ((r = refs_add(out, refs[c])) < 0)
				return r;
			continue;
		}
		a = lo ? pc_set_elem_lower_bound(e, n, lo) : 0;
		b = hi ? pc_set_elem_lower_bound(e, n, hi) : n;
		pc_pool_txn_drop(txn, refs[c], CHUNK_ORDER);
		if ((r = chunks_write(txn, e + a, b - a, CHUNK_FILL, out)) < 0)
			return r;
	}
	return 0;
}

int pc_store_update(struct pc_pool_txn *txn, const struct pc_store *old,
		    const struct pc_set_elem *e, size_t n, const struct pc_set_elem *changed,
		    size_t nchanged, struct pc_store *ret)
{
	struct refs out = {};
	int r;

	if (!old->index || !n) {
		r = pc_store_build(txn, e, n, ret);
		if (r >= 0)
			pc_store_drop(txn, old);
		return r;
	}
	r = store_update(txn, old, e, n, changed, nchanged, &out);
	if (r >= 0)
		r = index_write(txn, &out, ret);
	if (r >= 0)
		pc_pool_txn_drop(txn, old->index, index_order(old->nchunks));
	free(out.v);
	return r;
}

void pc_store_drop(struct pc_pool_txn *txn, const struct pc_store *s)
{
	const uint32_t *refs = index_refs(txn->pool, s);

	if (!refs)
		return;
	for (uint32_t c = 0; c < s->nchunks; c++)
		pc_pool_txn_drop(txn, refs[c], CHUNK_ORDER);
	pc_pool_txn_drop(txn, s->index, index_order(s->nchunks));
}

/* ---- reading ---------------------------------------------------------------------- */
void pc_store_free(struct pc_pool *pool, const struct pc_store *s)
{
	const uint32_t *refs = index_refs(pool, s);

	if (!refs)
		return;
	for (uint32_t c = 0; c < s->nchunks; c++)
		pc_pool_free(pool, refs[c], CHUNK_ORDER);
	pc_pool_free(pool, s->index, index_order(s->nchunks));
}

int pc_store_mark(struct pc_pool *pool, const struct pc_store *s)
{
	const uint32_t *refs = index_refs(pool, s);
	int r;

	if (!s->index)
		return 0;
	if (!refs)
		return -EPROTO;
	r = pc_pool_mark(pool, s->index, index_order(s->nchunks));
	for (uint32_t c = 0; c < s->nchunks && r >= 0; c++)
		r = pc_pool_mark(pool, refs[c], CHUNK_ORDER);
	return r;
}

int pc_store_read(const struct pc_pool *pool, const struct pc_store *s, struct pc_set_elem **v,
		  size_t *n, size_t *cap)
{
	const uint32_t *refs = index_refs(pool, s);

	if (!s->index)
		return 0;
	if (!refs)
		return -EPROTO;
	for (uint32_t c = 0; c < s->nchunks; c++) {
		const struct pc_set_chunk *ch = pc_pool_ptr(pool, refs[c]);

		if (!ch || ch->n > PC_SET_CHUNK_N)
			return -EPROTO;
		if (pc_grow((void **)v, cap, *n + ch->n, sizeof(**v)) < 0)
			return -ENOMEM;
		memcpy(*v + *n, ch->e, ch->n * sizeof(**v));
		*n += ch->n;
	}
	return 0;
}
