/* SPDX-License-Identifier: GPL-2.0-only */
/* u64map.h - a hash map from 64-bit keys (never 0) to 32-bit values, open
 * addressing, growing; for the classifier's counting and indexing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pc_u64map {
	uint64_t *key;   /* 0 = empty */
	uint32_t *val;
	size_t cap, used;
};

/* The value of key, added (as 0) when missing; NULL: out of memory.  The
 * pointer is good until the next call. */
uint32_t *pc_u64map_get(struct pc_u64map *m, uint64_t key);
/* The value of key, or NULL when missing (no change). */
const uint32_t *pc_u64map_find(const struct pc_u64map *m, uint64_t key);
void pc_u64map_free(struct pc_u64map *m);
