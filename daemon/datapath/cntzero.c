/* SPDX-License-Identifier: GPL-2.0-only */
/* cntzero.c - zero reused counter slots without losing counts.
 *
 * A slot lives in a chunk of PC_CNT_CHUNK (pktclass.h), and user space can
 * only write a chunk whole, every CPU's value at once: a read, clear and
 * write back would lose what the classifier counts into the chunk's other
 * slots between the two syscalls.  So the slots are zeroed by pc_cnt_zero
 * (bpf/cntzero.bpf.c), run with BPF_PROG_TEST_RUN on each CPU in turn
 * (BPF_F_TEST_RUN_ON_CPU; needs CAP_BPF and CAP_PERFMON), which stores
 * into those slots only.  Then every touched chunk is read back; a chunk in
 * which a slot is still not zero (the program did not load or run, or a
 * CPU is offline) is written back whole from user space, with that race. */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "cntzero.skel.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cntzero_load(struct pc_dp *dp)
{
	struct pc_cntzero *skel;
	int r;

	if (dp->cntzero)
		return 0;
	if (dp->cntzero_err < 0)
		return dp->cntzero_err;
	skel = pc_cntzero__open();
	if (!skel)
		return -errno;
	r = bpf_map__reuse_fd(skel->maps.cnt, dp->cnt_fd);
	if (r >= 0)
		r = pc_cntzero__load(skel);
	if (r < 0) {
		pc_cntzero__destroy(skel);
		dp->cntzero_err = r;
		return r;
	}
	dp->cntzero = skel;
	return 0;
}

bool pc_dp_cntzero_bpf(const struct pc_dp *dp)
{
	return dp->cntzero && dp->cntzero_err == 0;
}

int pc_dp_cntzero_state(const struct pc_dp *dp, uint64_t *rewrites)
{
	*rewrites = dp->cnt_rewrites;
	return dp->cntzero_err;
}

void pc_dp_cntzero_free(struct pc_dp *dp)
{
	pc_cntzero__destroy(dp->cntzero);
	dp->cntzero = NULL;
}

/* pc_cnt_zero over s[0..n) (n <= the list size) for attach slot a on every
 * CPU.  Errors are left to the check afterwards. */
static void zero_on_cpus(struct pc_dp *dp, uint32_t a, uint32_t n)
{
	int fd = bpf_program__fd(dp->cntzero->progs.pc_cnt_zero);

	for (int c = 0; c < dp->ncpus; c++) {
		__u64 args[2] = { a, n };
		LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args),
			    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = c);

		bpf_prog_test_run_opts(fd, &o);
	}
}

static void zero_bpf(struct pc_dp *dp, const uint32_t *s, uint32_t n)
{
	int list = bpf_map__fd(dp->cntzero->maps.zero_list);
	uint32_t max = bpf_map__max_entries(dp->cntzero->maps.zero_list);

	for (uint32_t off = 0; off < n; off += max) {
		uint32_t m = n - off < max ? n - off : max;

		for (uint32_t i = 0; i < m; i++)
			if (bpf_map_update_elem(list, &i, &s[off + i], BPF_ANY) < 0)
				return;
		for (uint32_t a = 0; a < PC_MAX_ATTACH; a++)
			if (dp->att_fd[a] >= 0)
				zero_on_cpus(dp, a, m);
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

int pc_dp_counters_zero(struct pc_dp *dp, uint32_t *s, uint32_t n)
{
	_cleanup_free_ struct pc_cnt_chunk *v = NULL;

	if (!n)
		return 0;
	qsort(s, n, sizeof(*s), cmp_u32);
	if (s[n - 1] >= dp->slot_cap)
		return -EINVAL;
	v = calloc(dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (cntzero_load(dp) == 0)
		zero_bpf(dp, s, n);
	for (int a = 0; a < PC_MAX_ATTACH; a++) {
		int r;

		if (dp->att_fd[a] < 0)
			continue;
		r = chunks_check(dp, dp->att_fd[a], s, n, v);
		if (r < 0)
			return r;
	}
	return 0;
}
