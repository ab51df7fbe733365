/* SPDX-License-Identifier: GPL-2.0-only */
/* test-ratelimit - the token bucket of the packet log (daemon/lib/ratelimit.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/check.h"
#include "lib/ratelimit.h"



static unsigned take_n(struct pc_ratelimit *rl, uint64_t now, unsigned n)
{
	unsigned granted = 0;

	for (unsigned i = 0; i < n; i++)
		granted += pc_ratelimit_take(rl, now);
	return granted;
}

/* It starts full: burst tokens at once, then nothing until time passes. */
static void test_burst(void)
{
	struct pc_ratelimit rl;

	pc_ratelimit_init(&rl, 20, 20);
	CHECK(take_n(&rl, 1000, 100) == 20);
	CHECK(!pc_ratelimit_take(&rl, 1000));
	/* 1/20 s later exactly one more, not a microsecond earlier */
	CHECK(!pc_ratelimit_take(&rl, 1000 + 49999));
	CHECK(pc_ratelimit_take(&rl, 1000 + 50000));
	CHECK(!pc_ratelimit_take(&rl, 1000 + 50000));
	/* a long pause fills it up to burst, not more */
	CHECK(take_n(&rl, 1000 + 50000 + 3600ull * 1000000, 1000) == 20);
}

/* A flood: one attempt every millisecond for 10 s grants burst + what
 * 9.999 s of refill add up to (199.98 tokens: 199). */
static void test_flood_exact(void)
{
	struct pc_ratelimit rl;
	unsigned granted = 0;

	pc_ratelimit_init(&rl, 20, 20);
	for (uint64_t ms = 0; ms < 10000; ms++)
		granted += take_n(&rl, ms * 1000, 5);
	CHECK(granted == 20 + 199);
}

/* Fractions of a token carry over between calls. */
static void test_fractions(void)
{
	struct pc_ratelimit rl;
	unsigned granted = 0;

	pc_ratelimit_init(&rl, 3, 10);
	CHECK(take_n(&rl, 0, 10) == 10);
	/* 3 per second, asked every 100 ms for 2 s: 6 more */
	for (uint64_t t = 100000; t <= 2000000; t += 100000)
		granted += pc_ratelimit_take(&rl, t);
	CHECK(granted == 6);
}

static void test_zero_and_backwards(void)
{
	struct pc_ratelimit rl;

	pc_ratelimit_init(&rl, 0, 20);
	CHECK(take_n(&rl, 0, 10) == 0);
	CHECK(take_n(&rl, 10000000, 10) == 0);

	/* the clock going back grants nothing, and does not break the bucket */
	pc_ratelimit_init(&rl, 10, 1);
	CHECK(pc_ratelimit_take(&rl, 5000000));
	CHECK(!pc_ratelimit_take(&rl, 1000000));
	CHECK(!pc_ratelimit_take(&rl, 5050000));
	CHECK(pc_ratelimit_take(&rl, 5100000));
}

/* Huge rates and pauses do not overflow. */
static void test_extremes(void)
{
	struct pc_ratelimit rl;

	pc_ratelimit_init(&rl, UINT32_MAX, UINT32_MAX);
	CHECK(take_n(&rl, 0, 1000) == 1000);
	CHECK(take_n(&rl, UINT64_MAX / 2, 1000) == 1000);
	CHECK(rl.credit <= (uint64_t)UINT32_MAX * 1000000);

	pc_ratelimit_init(&rl, 1, 1);
	CHECK(pc_ratelimit_take(&rl, 0));
	CHECK(pc_ratelimit_take(&rl, UINT64_MAX));
	CHECK(!pc_ratelimit_take(&rl, UINT64_MAX));
}

/* A new rate keeps what is in store, trimmed to the new burst. */
static void test_set(void)
{
	struct pc_ratelimit rl;

	pc_ratelimit_init(&rl, 100, 100);
	CHECK(take_n(&rl, 0, 10) == 10);
	pc_ratelimit_set(&rl, 5, 5);
	CHECK(take_n(&rl, 0, 100) == 5);
	CHECK(!pc_ratelimit_take(&rl, 199999));
	CHECK(pc_ratelimit_take(&rl, 200000));
	pc_ratelimit_set(&rl, 1000, 1000);
	/* nothing in store: a rise of the burst gives nothing at once */
	CHECK(!pc_ratelimit_take(&rl, 200000));
	CHECK(take_n(&rl, 210000, 100) == 10);
}

int main(void)
{
	test_burst();
	test_flood_exact();
	test_fractions();
	test_zero_and_backwards();
	test_extremes();
	test_set();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
