/* SPDX-License-Identifier: GPL-2.0-only */
/* cntops.c - zero reused counter slots, and add carried counts, without
 * losing what the classifier counts meanwhile (bpf/cntops.bpf.c says why
 * user space cannot).
 *
 * The programs are loaded per counter set (they reach its arrays through
 * its "cnt") and run with BPF_PROG_TEST_RUN, which needs CAP_BPF and
 * CAP_PERFMON.  Zeroing runs on each CPU in turn; then every touched chunk
 * is read back, and a chunk in which a slot is still not zero (the program
 * did not load or run, or a CPU is offline) is written back whole from user
 * space, with that race (counted in cnt_rewrites, which the daemon
 * reports).  Adding runs on the calling CPU; without the program the
 * counts are added by a chunk rewrite, with the same race. */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "cntops.skel.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A lack of files or memory is tried again next time; anything else (no
 * raw_tp test runs here) is for good. */
static int ops_failed(struct pc_cset *cs, int r)
{
	if (r != -EMFILE && r != -ENFILE && r != -ENOMEM)
		cs->ops_err = r;
	return r;
}

static int ops_load(struct pc_cset *cs)
{
	struct pc_cntops *skel;
	int r;

	if (cs->ops)
		return 0;
	if (cs->ops_err < 0)
		return cs->ops_err;
	skel = pc_cntops__open();
	if (!skel)
		return ops_failed(cs, -errno);
	r = bpf_map__reuse_fd(skel->maps.cnt, cs->outer_fd);
	if (r >= 0)
		r = pc_cntops__load(skel);
	if (r < 0) {
		pc_cntops__destroy(skel);
		return ops_failed(cs, r);
	}
	cs->ops = skel;
	return 0;
}

void pc_cset_ops_prepare(struct pc_cset *cs)
{
	ops_load(cs);
}

void pc_cset_ops_free(struct pc_cset *cs)
{
	pc_cntops__destroy(cs->ops);
	cs->ops = NULL;
}

bool pc_dp_cntzero_bpf(const struct pc_dp *dp)
{
	return dp->cs && dp->cs->ops && dp->cs->ops_err == 0;
}

int pc_dp_cntzero_state(const struct pc_dp *dp, uint64_t *rewrites)
{
	*rewrites = dp->cnt_rewrites;
	return dp->cs ? dp->cs->ops_err : 0;
}

static int run_prog(const struct bpf_program *p, uint32_t a, uint32_t n, int cpu)
{
	__u64 args[2] = { a, n };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args));

	if (cpu >= 0) {
		o.flags = BPF_F_TEST_RUN_ON_CPU;
		o.cpu = cpu;
	}
	if (bpf_prog_test_run_opts(bpf_program__fd(p), &o) < 0)
		return -errno;
	return (int)o.retval;
}

/* ---- zeroing -------------------------------------------------------------- */

static void zero_bpf(struct pc_dp *dp, struct pc_cset *cs, const uint32_t *s, uint32_t n)
{
	int list = bpf_map__fd(cs->ops->maps.zero_list);
	uint32_t max = bpf_map__max_entries(cs->ops->maps.zero_list);

	for (uint32_t off = 0; off < n; off += max) {
		uint32_t m = n - off < max ? n - off : max;

		for (uint32_t i = 0; i < m; i++)
			if (bpf_map_update_elem(list, &i, &s[off + i], BPF_ANY) < 0)
				return;
		for (uint32_t a = 0; a < cs->narr; a++)
			if (cs->arr[a] >= 0 && cs->in_outer[a])
				for (int c = 0; c < dp->ncpus; c++)
					run_prog(cs->ops->progs.pc_cnt_zero, a, m, c);
	}
}

/* Read each chunk holding a slot of s[0..n) (ascending); where one of them
 * is not zero on some CPU, clear them and write the chunk back whole.  v
 * holds one chunk per CPU. */
static int chunks_check(struct pc_dp *dp, int fd, const uint32_t *s, uint32_t n,
			struct pc_cnt_chunk *v)
{
	static const struct pc_counter zero;

	for (uint32_t i = 0; i < n;) {
		uint32_t k = s[i] / PC_CNT_CHUNK;
		bool dirty = false;

		if (bpf_map_lookup_elem(fd, &k, v) < 0)
			return -errno;
		for (; i < n && s[i] / PC_CNT_CHUNK == k; i++)
			for (int c = 0; c < dp->ncpus; c++) {
				struct pc_counter *x = &v[c].c[s[i] % PC_CNT_CHUNK];

				dirty |= memcmp(x, &zero, sizeof(zero)) != 0;
				*x = zero;
			}
		if (!dirty)
			continue;
		if (bpf_map_update_elem(fd, &k, v, BPF_EXIST) < 0)
			return -errno;
		dp->cnt_rewrites++;
	}
	return 0;
}

int pc_cset_zero(struct pc_dp *dp, struct pc_cset *cs, uint32_t *s, uint32_t n)
{
	_cleanup_free_ struct pc_cnt_chunk *v = NULL;

	if (!n)
		return 0;
	qsort(s, n, sizeof(*s), cmp_u32);
	if (s[n - 1] >= cs->slot_cap)
		return -EINVAL;
	v = calloc(dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (ops_load(cs) == 0)
		zero_bpf(dp, cs, s, n);
	for (uint32_t a = 0; a < cs->narr; a++) {
		int r;

		if (cs->arr[a] < 0)
			continue;
		r = chunks_check(dp, cs->arr[a], s, n, v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- adding --------------------------------------------------------------- */

/* Without the program: add by rewriting the chunk (CPU 0's value). */
static int add_rewrite(struct pc_dp *dp, int fd, const struct pc_cnt_delta *d, uint32_t n)
{
	_cleanup_free_ struct pc_cnt_chunk *v = calloc(dp->ncpus, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = d[i].slot / PC_CNT_CHUNK;
		struct pc_counter *c = &v[0].c[d[i].slot % PC_CNT_CHUNK];

		if (bpf_map_lookup_elem(fd, &k, v) < 0)
			return -errno;
		c->packets += d[i].packets;
		c->bytes += d[i].bytes;
		if (bpf_map_update_elem(fd, &k, v, BPF_EXIST) < 0)
			return -errno;
		dp->cnt_rewrites++;
	}
	return 0;
}

static int add_bpf(struct pc_cset *cs, uint32_t a, const struct pc_cnt_delta *d, uint32_t n)
{
	int list = bpf_map__fd(cs->ops->maps.add_list);
	uint32_t max = bpf_map__max_entries(cs->ops->maps.add_list);

	for (uint32_t off = 0; off < n; off += max) {
		uint32_t m = n - off < max ? n - off : max;
		int r;

		for (uint32_t i = 0; i < m; i++)
			if (bpf_map_update_elem(list, &i, &d[off + i], BPF_ANY) < 0)
				return -errno;
		r = run_prog(cs->ops->progs.pc_cnt_add, a, m, -1);
		if (r < 0)
			return r;
		if ((uint32_t)r != m)
			return -EIO;
	}
	return 0;
}

int pc_cset_add(struct pc_dp *dp, struct pc_cset *cs, uint32_t a, const struct pc_cnt_delta *d,
		uint32_t n)
{
	if (!n)
		return 0;
	if (a >= cs->narr || cs->arr[a] < 0)
		return -ENOENT;
	if (cs->in_outer[a] && ops_load(cs) == 0)
		return add_bpf(cs, a, d, n);
	return add_rewrite(dp, cs->arr[a], d, n);
}
