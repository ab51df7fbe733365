/* SPDX-License-Identifier: GPL-2.0-only */
/* datapath-migrate.c - carry the counters of an ABI version 1 state over.
 *
 * Version 1 pinned, per attach slot a, cnt_<a>: a per-CPU array of slot_cap
 * struct pc_counter.  Version 2 has slot_cap / PC_CNT_CHUNK entries of
 * struct pc_cnt_chunk; every other pin is the same.  Each version 1 array
 * is summed over CPUs into CPU 0's values of a new version 2 array (the
 * other CPUs' values are zero), which replaces the pin cnt_<a>; a new empty
 * "cnt" of the version 2 inner shape replaces the pinned "cnt", and
 * pc_dp_attach_load() then puts the pinned arrays into it.
 *
 * Limits: the old classifier keeps running (it is in the jump tables) and
 * counts into the old arrays until the next generation is committed; those
 * packets are not carried.  An attachment whose array a version 1 daemon
 * did not pin (reached through "cnt" by id) is not carried: its counts
 * restart at zero.  A pin already of the version 2 shape (a migration cut
 * short) is kept as it is. */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath-internal.h"

enum { V1_SKIP, V1_OLD, V1_DONE };

/* The pinned cnt_<a> and its shape: V1_OLD (version 1), V1_DONE (already
 * version 2) or V1_SKIP (no pin); -EPROTO for anything else. */
static int v1_open(const struct pc_dp *dp, uint32_t a, int *ret)
{
	struct bpf_map_info info;
	_cleanup_close_ int fd = pc_dp_cnt_pin_open(dp, a, &info);

	if (fd < 0)
		return fd == -ENOENT ? V1_SKIP : fd;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != sizeof(__u32))
		return -EPROTO;
	if (info.value_size == sizeof(struct pc_cnt_chunk) &&
	    info.max_entries == dp->slot_cap / PC_CNT_CHUNK)
		return V1_DONE;
	if (info.value_size != sizeof(struct pc_counter) || info.max_entries != dp->slot_cap)
		return -EPROTO;
	*ret = TAKE_FD(fd);
	return V1_OLD;
}

/* Chunk k of the version 1 array old, summed over CPUs, into v[0]; v holds
 * ncpus chunks, pcpu ncpus counters. */
static int v1_sum_chunk(const struct pc_dp *dp, int old, uint32_t k, struct pc_cnt_chunk *v,
			struct pc_counter *pcpu)
{
	memset(v, 0, sizeof(*v) * dp->ncpus);
	for (uint32_t i = 0; i < PC_CNT_CHUNK; i++) {
		uint32_t slot = k * PC_CNT_CHUNK + i;

		if (bpf_map_lookup_elem(old, &slot, pcpu) < 0)
			return -errno;
		for (int c = 0; c < dp->ncpus; c++) {
			v[0].c[i].packets += pcpu[c].packets;
			v[0].c[i].bytes += pcpu[c].bytes;
		}
	}
	return 0;
}

/* A version 2 array with the counts of the version 1 array old, pinned as
 * cnt_<a> in its place. */
static int v1_convert(struct pc_dp *dp, uint32_t a, int old)
{
	_cleanup_free_ struct pc_cnt_chunk *v = calloc(dp->ncpus, sizeof(*v));
	_cleanup_free_ struct pc_counter *pcpu = calloc(dp->ncpus, sizeof(*pcpu));
	_cleanup_close_ int fd = -1;
	int r;

	if (!v || !pcpu)
		return -ENOMEM;
	r = pc_dp_counters_create(dp, &fd);
	if (r < 0)
		return r;
	for (uint32_t k = 0; k < dp->slot_cap / PC_CNT_CHUNK; k++) {
		r = v1_sum_chunk(dp, old, k, v, pcpu);
		if (r < 0)
			return r;
		if (bpf_map_update_elem(fd, &k, v, BPF_ANY) < 0)
			return -errno;
	}
	return pc_dp_counters_pin(dp, a, fd);
}

static int cnt_replace(struct pc_dp *dp)
{
	char p[PC_PATH_MAX + 32];
	int fd, r;

	r = pc_dp_pin_file(dp, "cnt", p, sizeof(p));
	if (r < 0)
		return r;
	r = pc_dp_cnt_create(dp, &fd);
	if (r < 0)
		return r;
	if ((unlink(p) < 0 && errno != ENOENT) || bpf_obj_pin(fd, p) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (dp->cnt_fd >= 0)
		close(dp->cnt_fd);
	dp->cnt_fd = fd;
	return 0;
}

int pc_dp_migrate_v1(struct pc_dp *dp)
{
	if (dp->slot_cap % PC_CNT_CHUNK || dp->ncpus <= 0)
		return -EPROTO;
	for (uint32_t a = 0; a < PC_MAX_ATTACH; a++) {
		_cleanup_close_ int old = -1;
		int r = v1_open(dp, a, &old);

		if (r == V1_OLD)
			r = v1_convert(dp, a, old);
		if (r < 0)
			return r;
	}
	return cnt_replace(dp);
}
