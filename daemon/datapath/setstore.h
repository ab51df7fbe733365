/* SPDX-License-Identifier: GPL-2.0-only */
/* setstore.h - a set's elements kept in the pool, so that they survive the
 * daemon (kill -9 included): sorted, in chunk blocks of PC_SET_CHUNK_N
 * listed by an index block (pktclass.h, struct pc_set_cat).  A change
 * rewrites only the chunks whose range of elements changed, and the index. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "datapath/setpool.h"

struct pc_store {
	uint32_t index;    /* index block, 0 when there are no elements */
	uint32_t nchunks;
};

/* Store e[0 .. n) (sorted) anew, in txn. */
int pc_store_build(struct pc_pool_txn *txn, const struct pc_set_elem *e, size_t n,
		   struct pc_store *ret);
/* The store of e[0 .. n) (the elements now, sorted) from old, which held
 * them without the changed elements (sorted) or with them; what old no
 * longer needs is dropped in txn. */
int pc_store_update(struct pc_pool_txn *txn, const struct pc_store *old,
		    const struct pc_set_elem *e, size_t n, const struct pc_set_elem *changed,
		    size_t nchanged, struct pc_store *ret);
/* Every block of s: dropped in txn, given back now, or marked in use. */
void pc_store_drop(struct pc_pool_txn *txn, const struct pc_store *s);
void pc_store_free(struct pc_pool *pool, const struct pc_store *s);
int pc_store_mark(struct pc_pool *pool, const struct pc_store *s);
/* Append the stored elements to *v (grown with pc_grow); -EPROTO when the
 * store is not consistent. */
int pc_store_read(const struct pc_pool *pool, const struct pc_store *s, struct pc_set_elem **v,
		  size_t *n, size_t *cap);
