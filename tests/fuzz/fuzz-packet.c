/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz-packet.c - libFuzzer target: arbitrary bytes as an Ethernet frame
 * through the BPF classifier (BPF_PROG_TEST_RUN on pc_tc_ingress and
 * pc_sock, loaded with pc_trace_on) and through the userspace build of the
 * same parser plus the reference classifier (tests/lib/pktcheck.c).  Any
 * disagreement in the trace (key, status, rule), the return value, mark,
 * priority or rewritten bytes traps.  Needs root (BPF); run it in a network
 * namespace of its own: scripts/fuzz-packet does.  Nothing is pinned. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/pktcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pk_ctx *ctx;

static void close_ctx(void)
{
	pk_close(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[1024];
	int r;

	if (!ctx) {
		r = pk_open(&ctx);
		if (r < 0) {
			fprintf(stderr, "fuzz-packet: cannot load the classifier: %s (root?)\n",
				strerror(-r));
			exit(1);
		}
		atexit(close_ctx);
	}
	r = pk_check(ctx, data, size, why, sizeof(why));
	if (r == -EPROTO) {
		fprintf(stderr, "fuzz-packet: BPF and userspace disagree: %s\n", why);
		__builtin_trap();
	}
	if (r < 0) {
		fprintf(stderr, "fuzz-packet: check failed: %s\n", strerror(-r));
		__builtin_trap();
	}
	return 0;
}
