/* SPDX-License-Identifier: GPL-2.0-only */
/* ratelimit.c - token bucket (see ratelimit.h). */
#include "lib/ratelimit.h"

#define TOKEN 1000000u /* a token in credit units; refill: rate units per usec */

void pc_ratelimit_init(struct pc_ratelimit *rl, uint32_t rate, uint32_t burst)
{
	*rl = (struct pc_ratelimit){ .rate = rate, .burst = burst,
				     .credit = (uint64_t)burst * TOKEN };
}

void pc_ratelimit_set(struct pc_ratelimit *rl, uint32_t rate, uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * TOKEN;

	rl->rate = rate;
	rl->burst = burst;
	if (rl->credit > cap)
		rl->credit = cap;
}

static void refill(struct pc_ratelimit *rl, uint64_t now_usec)
{
	uint64_t cap = rl->burst * TOKEN, elapsed;

	if (!rl->started) {
		rl->started = true;
		rl->last_usec = now_usec;
		return;
	}
	if (now_usec <= rl->last_usec)
		return;
	elapsed = now_usec - rl->last_usec;
	rl->last_usec = now_usec;
	/* elapsed * rate could overflow: a long pause simply fills it */
	if (rl->rate == 0 || elapsed >= (cap - rl->credit) / rl->rate + 1)
		rl->credit = cap;
	else
		rl->credit += elapsed * rl->rate;
}

bool pc_ratelimit_take(struct pc_ratelimit *rl, uint64_t now_usec)
{
	refill(rl, now_usec);
	if (rl->rate == 0 || rl->credit < TOKEN)
		return false;
	rl->credit -= TOKEN;
	return true;
}
