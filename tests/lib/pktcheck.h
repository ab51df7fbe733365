/* SPDX-License-Identifier: GPL-2.0-only */
/* pktcheck.h - one frame through the BPF classifier and through the
 * userspace build of the same parser (bpf/parse.h) plus the reference
 * classifier: they must agree.  Shared by the libFuzzer target
 * (tests/fuzz/fuzz-packet.c) and the deterministic random-frame test
 * (tests/bpf/test-packet-random.c).
 *
 * pk_open() loads a generation of a small rule set that touches every key
 * word (with pc_trace_on) for interface index 1 (lo) through the datapath
 * API, in a private pin directory that it unpins at once: the objects live
 * as long as the fds, and nothing is left behind however the process ends.
 * The generation is never committed and no traffic is sent: frames go in
 * through BPF_PROG_TEST_RUN. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Frames longer than this are cut to it (what the test runner takes). */
#define PK_FRAME_MAX 3500

struct pk_ctx;

/* 0 or -errno (no root, no BPF: the caller skips). */
int pk_open(struct pk_ctx **ret);
void pk_close(struct pk_ctx *c);

/* Run the frame through pc_tc_ingress (twice: the second run may be answered
 * by the flow cache) and pc_sock and compare the trace
 * (status, rule, key, L3 offset, attach slot), the return value, the mark
 * and priority and, when the rule rewrites DSCP, the bytes afterwards.
 * Returns 0 when everything agrees, -EPROTO with a description in why
 * when it does not, another -errno when the check itself failed. */
int pk_check(struct pk_ctx *c, const uint8_t *frame, size_t len, char *why, size_t whylen);

/* Runs so far: frames the kernel ran, and frames it refused (too short for
 * the IP header that their ethertype announces; refusal is checked too). */
struct pk_stats {
	uint64_t runs, refused;
	uint64_t status[3];  /* by parse status of the TC run */
	uint64_t rules;      /* TC runs that some rule (not the default) matched */
	uint64_t fc_hits;    /* second TC runs answered by the flow cache */
};
const struct pk_stats *pk_stats(const struct pk_ctx *c);
