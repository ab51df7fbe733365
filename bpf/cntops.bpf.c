// SPDX-License-Identifier: GPL-2.0-only
/* cntops.bpf.c - change counter slots without losing what the classifier
 * counts into the rest of their chunks meanwhile.
 *
 * A counter array element is a chunk of PC_CNT_CHUNK slots (pktclass.h);
 * user space can only write an element whole, for every CPU at once, which
 * would lose what the classifier counts into the chunk's other slots
 * between the read and the write.  The daemon runs these programs with
 * BPF_PROG_TEST_RUN on the "cnt" array of maps of one counter set
 * (bpf_map__reuse_fd), so that they touch the listed slots only:
 *
 * pc_cnt_zero, run with BPF_F_TEST_RUN_ON_CPU on each CPU in turn, stores
 * zeros into the listed slots of that CPU's values (the slots are free:
 * nothing counts into them meanwhile).
 *
 * pc_cnt_add adds struct pc_cnt_delta values into slots that the live
 * classifier does count into: what an older counter array counted, carried
 * into a new, larger one.  It runs without BPF_F_TEST_RUN_ON_CPU, i.e. on
 * the calling CPU with preemption disabled, and adds with one atomic
 * instruction per field: the classifier's own increments on this CPU run
 * in softirq or with bottom halves off, so they never interleave with it,
 * and other CPUs count into their own values. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pktclass.h"

char LICENSE[] SEC("license") = "GPL";

#define PC_OPS_LIST 1024

#include "cnt-map.h"

/* The slots to zero, written by the daemon before each run. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_OPS_LIST);
	__type(key, __u32);
	__type(value, __u32);
} zero_list SEC(".maps");

/* The amounts to add, written by the daemon before each run. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_OPS_LIST);
	__type(key, __u32);
	__type(value, struct pc_cnt_delta);
} add_list SEC(".maps");

static __always_inline struct pc_counter *slot_of(void *inner, __u32 slot)
{
	__u32 k = slot / PC_CNT_CHUNK;
	struct pc_cnt_chunk *ch = bpf_map_lookup_elem(inner, &k);

	return ch ? &ch->c[slot & (PC_CNT_CHUNK - 1)] : NULL;
}

/* The loops go through bpf_loop(): the callback is verified once, not once
 * per list entry. */
struct ops_ctx {
	void *inner;
	__u32 done;
};

static long zero_one(__u32 i, void *data)
{
	struct ops_ctx *x = data;
	__u32 *slot = bpf_map_lookup_elem(&zero_list, &i);
	struct pc_counter *c;

	if (!slot)
		return 1;
	c = slot_of(x->inner, *slot);
	if (c) {
		c->packets = 0;
		c->bytes = 0;
		x->done++;
	}
	return 0;
}

static long add_one(__u32 i, void *data)
{
	struct ops_ctx *x = data;
	struct pc_cnt_delta *d = bpf_map_lookup_elem(&add_list, &i);
	struct pc_counter *c;

	if (!d)
		return 1;
	c = slot_of(x->inner, d->slot);
	if (c) {
		__sync_fetch_and_add(&c->packets, d->packets);
		__sync_fetch_and_add(&c->bytes, d->bytes);
		x->done++;
	}
	return 0;
}

/* args[0]: the attach slot; args[1]: how many list entries.  Returns the
 * entries done. */
static __always_inline int ops_run(struct bpf_raw_tracepoint_args *ctx, void *fn)
{
	__u32 a = ctx->args[0], n = ctx->args[1];
	struct ops_ctx x = { .inner = bpf_map_lookup_elem(&cnt, &a) };

	if (!x.inner)
		return 0;
	bpf_loop(n < PC_OPS_LIST ? n : PC_OPS_LIST, fn, &x, 0);
	return x.done;
}

SEC("raw_tp")
int pc_cnt_zero(struct bpf_raw_tracepoint_args *ctx)
{
	return ops_run(ctx, zero_one);
}

SEC("raw_tp")
int pc_cnt_add(struct bpf_raw_tracepoint_args *ctx)
{
	return ops_run(ctx, add_one);
}
