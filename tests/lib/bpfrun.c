/* SPDX-License-Identifier: GPL-2.0-only */
/* bpfrun.c - see bpfrun.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/datapath.h"
#include "bpfrun.h"

void bt_run(int prog_fd, uint32_t cb, uint32_t ifindex, const uint8_t *data, uint32_t len,
	    struct bt_run *r)
{
	struct __sk_buff in = { .ifindex = ifindex, .cb[PC_CB_HOOK] = cb };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .ctx_in = &in, .ctx_size_in = sizeof(in),
		    .ctx_out = &r->ctx, .ctx_size_out = sizeof(r->ctx), .repeat = 1);

	memset(&r->ctx, 0, sizeof(r->ctx));
	r->err = bpf_prog_test_run_opts(prog_fd, &o) < 0 ? -errno : 0;
	r->retval = o.retval;
	r->out_len = o.data_size_out;
}

int bt_trace_read(int fd, int ncpus, struct pc_trace *ret, uint32_t *total)
{
	struct pc_trace *v = calloc(ncpus, sizeof(*v));
	uint32_t zero = 0, sum = 0, best = 0;

	if (!v || bpf_map_lookup_elem(fd, &zero, v) < 0) {
		free(v);
		return -errno;
	}
	for (int i = 0; i < ncpus; i++) {
		sum += v[i].runs;
		if (v[i].runs > v[best].runs)
			best = i;
	}
	*ret = v[best];
	*total = sum;
	/* reset, so the next run's CPU stands out */
	memset(v, 0, ncpus * sizeof(*v));
	bpf_map_update_elem(fd, &zero, v, BPF_ANY);
	free(v);
	return 0;
}

int bt_slot_read_cpus(int fd, int ncpus, uint32_t slot, struct pc_counter *v)
{
	struct pc_cnt_chunk *chunk = calloc(ncpus, sizeof(*chunk));
	uint32_t k = slot / PC_CNT_CHUNK;
	int r = 0;

	if (fd < 0 || !chunk || bpf_map_lookup_elem(fd, &k, chunk) < 0)
		r = -ENOENT;
	for (int i = 0; r == 0 && i < ncpus; i++)
		v[i] = chunk[i].c[slot % PC_CNT_CHUNK];
	free(chunk);
	return r;
}

int bt_counter_read(struct pc_dp *dp, int ncpus, uint32_t a, uint32_t slot,
		    struct pc_counter *ret)
{
	struct pc_counter *v = calloc(ncpus, sizeof(*v));

	memset(ret, 0, sizeof(*ret));
	if (!v || bt_slot_read_cpus(pc_dp_attach_counters_fd(dp, a), ncpus, slot, v) < 0) {
		free(v);
		return -ENOENT;
	}
	for (int i = 0; i < ncpus; i++) {
		ret->packets += v[i].packets;
		ret->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}
