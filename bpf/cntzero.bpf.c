// SPDX-License-Identifier: GPL-2.0-only
/* cntzero.bpf.c - zero counter slots on one CPU, leaving the other slots of
 * their chunks alone.
 *
 * A counter array element is a chunk of PC_CNT_CHUNK slots (pktclass.h);
 * user space can only write an element whole, for every CPU at once, which
 * would lose what the classifier counts into the chunk's other slots
 * meanwhile.  The daemon runs pc_cnt_zero with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_RUN_ON_CPU on each CPU in turn: it stores zeros into the
 * listed slots of that CPU's values only (the slots are free, so nothing
 * counts into them meanwhile).  "cnt" is the daemon's pinned array of maps
 * (bpf_map__reuse_fd). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pktclass.h"

char LICENSE[] SEC("license") = "GPL";

#define PC_ZERO_LIST 1024

#include "cnt-map.h"

/* The slots to zero, written by the daemon before each run. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_ZERO_LIST);
	__type(key, __u32);
	__type(value, __u32);
} zero_list SEC(".maps");

/* args[0]: the attach slot; args[1]: how many zero_list entries to zero.
 * Returns the slots zeroed. */
SEC("raw_tp")
int pc_cnt_zero(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 a = ctx->args[0], n = ctx->args[1], done = 0;
	void *inner = bpf_map_lookup_elem(&cnt, &a);

	if (!inner)
		return 0;
	for (__u32 i = 0; i < PC_ZERO_LIST && i < n; i++) {
		__u32 *slot = bpf_map_lookup_elem(&zero_list, &i), k;
		struct pc_counter *c;
		struct pc_cnt_chunk *ch;

		if (!slot)
			break;
		k = *slot / PC_CNT_CHUNK;
		ch = bpf_map_lookup_elem(inner, &k);
		if (!ch)
			continue;
		c = &ch->c[*slot & (PC_CNT_CHUNK - 1)];
		c->packets = 0;
		c->bytes = 0;
		done++;
	}
	return done;
}
