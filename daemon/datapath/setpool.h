/* SPDX-License-Identifier: GPL-2.0-only */
/* setpool.h - the set pool (pktclass.h, "sets"): segments in the kernel,
 * mmapped here, and a buddy allocator of blocks over them.
 *
 * Pins under pin_path: set_segs (the array of maps of segments), setseg_<n>
 * (each segment), set_head (the live directories).  A block given back is
 * not reused until no classifier can still be reading it: it waits in limbo
 * for a grace period (pc_pool_sync*).  The allocator's state is not pinned:
 * an adopted pool is told which blocks are in use (pc_pool_mark) and the rest
 * is free. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktclass.h"

#define PC_POOL_MAX_ORDER PC_SET_UNIT_BITS /* a whole segment */

struct pc_pool;

enum pc_pool_found {
	PC_POOL_ADOPTED,  /* the pinned pool, in use */
	PC_POOL_NONE,     /* nothing pinned */
	PC_POOL_UNUSABLE, /* something pinned that is not a pool of ours
			   * (another version): left as it is */
};

/* Adopt the pool pinned under pin_path (reading only), or a pool without
 * maps yet (pc_pool_create).  A lack of resources while adopting fails and
 * touches nothing. */
int pc_pool_open(const char *pin_path, struct pc_pool **ret, enum pc_pool_found *found);
/* Whether the pool has its maps; whether they are pinned. */
bool pc_pool_present(const struct pc_pool *p);
bool pc_pool_pinned(const struct pc_pool *p);
/* Make the maps of an empty pool, not pinned. */
int pc_pool_create(struct pc_pool *p);
/* Pin a pool that is not (over what was pinned there); set_head last.  From
 * then on new segments are pinned as they come. */
int pc_pool_pin(struct pc_pool *p);
void pc_pool_close(struct pc_pool *p);
/* Remove the pins (the pool goes when the last classifier using it goes). */
int pc_pool_unpin(const char *pin_path);

/* -1 when not present. */
int pc_pool_segs_fd(const struct pc_pool *p);
int pc_pool_head_fd(const struct pc_pool *p);
/* The mmapped head: dir[] is what the classifiers read. */
volatile struct pc_set_head *pc_pool_head(const struct pc_pool *p);
/* Publish directory block ref for generations of parity slot. */
void pc_pool_publish(struct pc_pool *p, unsigned slot, uint32_t dir);

/* The block's memory, or NULL for a reference outside the pool. */
void *pc_pool_ptr(const struct pc_pool *p, uint32_t ref);
/* The segment's base, for setlookup.h (PC_SET_SEG). */
const uint8_t *pc_pool_seg(const struct pc_pool *p, uint32_t seg);

/* The order (log2 units) of a block of size bytes. */
unsigned pc_pool_order(size_t size);
/* A block of 2^order units, zeroed.  Grows the pool by a segment when it
 * is full.  -ENOMEM, -ENOSPC (PC_SET_SEGS_MAX reached). */
int pc_pool_alloc(struct pc_pool *p, unsigned order, uint32_t *ret);
/* Give a block back: reusable after the next grace period. */
void pc_pool_free(struct pc_pool *p, uint32_t ref, unsigned order);
/* Make sure about units more are free without growing on the way (one
 * grace period for all the segments that takes). */
int pc_pool_reserve(struct pc_pool *p, size_t units);

/* Adoption: every block in use is marked, then pc_pool_mark_done(). */
int pc_pool_mark(struct pc_pool *p, uint32_t ref, unsigned order);
void pc_pool_mark_done(struct pc_pool *p);
/* Forget all allocations (the blocks of an adopted pool that are not to be
 * adopted). */
void pc_pool_reset(struct pc_pool *p);

/* Grace periods.  A block freed before a change is published must not be
 * reused before the end of a grace period that began after the publish, so
 * only start one (pc_pool_grace, pc_pool_grace_start) after publishing.
 * pc_pool_release() then makes the blocks freed before that grace period
 * began reusable. */
int pc_pool_grace(struct pc_pool *p);
/* The same in the background: pc_pool_grace_fd() becomes readable when it is
 * over; then pc_pool_grace_done() says whether it succeeded.  -EALREADY
 * while one runs. */
int pc_pool_grace_start(struct pc_pool *p);
int pc_pool_grace_fd(const struct pc_pool *p);
bool pc_pool_grace_running(const struct pc_pool *p);
int pc_pool_grace_done(struct pc_pool *p);
/* The same, waiting for it to be over. */
int pc_pool_grace_wait(struct pc_pool *p);
void pc_pool_release(struct pc_pool *p);
/* Blocks in limbo. */
size_t pc_pool_limbo(const struct pc_pool *p);

/* A transaction: what it allocates (given back if it aborts) and what it
 * no longer needs (given back once it committed and published). */
struct pc_pool_blk {
	uint32_t ref;
	uint8_t order;
};
struct pc_pool_txn {
	struct pc_pool *pool;
	struct pc_pool_blk *fresh, *dead;
	size_t nfresh, capfresh, ndead, capdead;
	int err;                 /* a dead block that did not fit the list */
};
void pc_pool_txn_begin(struct pc_pool *p, struct pc_pool_txn *t);
int pc_pool_txn_alloc(struct pc_pool_txn *t, unsigned order, uint32_t *ret);
void pc_pool_txn_drop(struct pc_pool_txn *t, uint32_t ref, unsigned order);
/* The dead blocks go to limbo (-ENOMEM: one of them could not be listed:
 * it is leaked, never reused early). */
int pc_pool_txn_commit(struct pc_pool_txn *t);
void pc_pool_txn_abort(struct pc_pool_txn *t);

struct pc_pool_stats {
	uint32_t segments;
	uint64_t used_bytes;    /* allocated blocks */
	uint64_t limbo_bytes;   /* freed, waiting for a grace period */
};
void pc_pool_stats(const struct pc_pool *p, struct pc_pool_stats *ret);
