/* SPDX-License-Identifier: GPL-2.0-only */
/* ratelimit.h - a token bucket: rate tokens per second, at most burst in
 * store, starting full.  Integer arithmetic in millionths of a token, so
 * it is exact: over any stretch of t seconds it grants at most
 * burst + rate * t.  Pure: the caller passes the (monotonic) time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct pc_ratelimit {
	uint64_t rate;       /* tokens per second; 0 grants nothing */
	uint64_t burst;      /* tokens */
	uint64_t credit;     /* millionths of a token */
	uint64_t last_usec;
	bool started;
};

void pc_ratelimit_init(struct pc_ratelimit *rl, uint32_t rate, uint32_t burst);
/* New rate and burst; what is in store stays, up to the new burst. */
void pc_ratelimit_set(struct pc_ratelimit *rl, uint32_t rate, uint32_t burst);
/* One token at now_usec: true when granted. */
bool pc_ratelimit_take(struct pc_ratelimit *rl, uint64_t now_usec);
