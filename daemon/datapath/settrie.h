/* SPDX-License-Identifier: GPL-2.0-only */
/* settrie.h - the lookup structures of sets in the pool (pktclass.h,
 * "sets"): a trie per address family for prefix sets, a bitmap for port
 * sets; built whole, or changed by copying the few blocks on the way to
 * what changed (the old blocks go to the pool's limbo).  The trie of a set
 * is a function of the set's elements, whichever way it was made. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "datapath/setpool.h"

/* The elements of one family (4 or 6) of a prefix set, as the set keeps
 * them: sorted (pc_set_elem_cmp), possibly one inside another. */
struct pc_trie_src {
	const struct pc_set_elem *v;
	size_t n;
	uint8_t family;
	uint64_t lens[3];   /* bit l: an element of length l may be there (a
			     * superset will do: pc_trie_lens) */
};

/* The lengths of e[0 .. n) into lens (or-ed in). */
void pc_trie_lens(const struct pc_set_elem *e, size_t n, uint64_t lens[3]);

/* A new trie of src, in txn; *root 0 when src is empty. */
int pc_trie_build(struct pc_pool_txn *txn, const struct pc_trie_src *src, uint32_t *root);
/* The trie of src made from the trie at old (of src without the changed
 * elements, or with them: added or deleted alike), in new blocks where it
 * differs; old's blocks no longer used are dropped in txn.  changed is
 * sorted.  On failure abort txn. */
int pc_trie_update(struct pc_pool_txn *txn, const struct pc_trie_src *src, uint32_t old,
		   const struct pc_set_elem *changed, size_t nchanged, uint32_t *root);
/* Every block of the trie at root: given back now, dropped in txn, or
 * (adopting a pool) marked in use. */
void pc_trie_free(struct pc_pool *pool, uint8_t family, uint32_t root);
void pc_trie_drop(struct pc_pool_txn *txn, uint8_t family, uint32_t root);
int pc_trie_mark(struct pc_pool *pool, uint8_t family, uint32_t root);
/* Blocks and bytes of the trie. */
void pc_trie_size(const struct pc_pool *pool, uint8_t family, uint32_t root, uint64_t *bytes);

/* A port set's bitmap of the port ranges e[0 .. n). */
int pc_bitmap_build(struct pc_pool_txn *txn, const struct pc_set_elem *e, size_t n, uint32_t *ref);
#define PC_BITMAP_ORDER 7 /* PC_SET_BITMAP_SIZE in units */

/* Membership as the classifier computes it (bpf/setlookup.h), in user
 * space: key words w, set index set of directory dir. */
int pc_pool_member(const struct pc_pool *pool, uint32_t dir, uint32_t set, uint32_t field,
		   const uint32_t *w);
