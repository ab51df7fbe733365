/* SPDX-License-Identifier: GPL-2.0-only */
/* cset.c - counter sets: the array of maps "cnt", a per-CPU counter array
 * of slot_cap slots per attach slot in it, and the name table "slots".
 *
 * A set's capacity is fixed; a generation that needs more slots gets a new
 * set (pc_cset_new), whose arrays start empty.  Its commit switches the
 * jump tables, waits until no program of the old generation runs
 * (pc_dp_sync: an update of an array of maps waits for an RCU grace
 * period), adds what the old arrays counted to the new ones (pc_cset_carry,
 * through pc_cnt_add: race-free against the new generation counting
 * meanwhile) and only then pins the new set over the old one, so that a
 * reader of the pins never sees a count go down. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"

static int counters_create(uint32_t cap, int *ret)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pc_counters", 4, sizeof(struct pc_cnt_chunk),
				cap / PC_CNT_CHUNK, NULL);

	if (fd < 0)
		return -errno;
	*ret = fd;
	return 0;
}

/* An empty "cnt" whose inner maps are counter arrays of cap slots. */
static int outer_create(uint32_t cap, int *ret)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	_cleanup_close_ int tmpl = -1;
	int r, fd;

	r = counters_create(cap, &tmpl);
	if (r < 0)
		return r;
	opts.inner_map_fd = tmpl;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "pc_cnt", 4, 4, PC_MAX_ATTACH, &opts);
	if (fd < 0)
		return -errno;
	*ret = fd;
	return 0;
}

static struct pc_cset *cset_alloc(uint32_t cap)
{
	struct pc_cset *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	cs->refs = 1;
	cs->slot_cap = cap;
	cs->outer_fd = cs->slots_fd = -1;
	return cs;
}

int pc_cset_new(struct pc_dp *dp, uint32_t cap, struct pc_cset **ret)
{
	struct pc_cset *cs;
	int r;

	if (!cap || cap % PC_CNT_CHUNK)
		return -EINVAL;
	cs = cset_alloc(cap);
	if (!cs)
		return -ENOMEM;
	r = outer_create(cap, &cs->outer_fd);
	if (r >= 0) {
		cs->slots_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_slots", 4,
					      sizeof(struct pc_slot_name), cap, NULL);
		if (cs->slots_fd < 0)
			r = -errno;
	}
	if (r < 0) {
		pc_cset_unref(cs);
		return r;
	}
	*ret = cs;
	return 0;
}

struct pc_cset *pc_cset_ref(struct pc_cset *cs)
{
	if (cs)
		cs->refs++;
	return cs;
}

void pc_cset_unref(struct pc_cset *cs)
{
	if (!cs || --cs->refs > 0)
		return;
	pc_cset_ops_free(cs);
	for (uint32_t a = 0; a < cs->narr; a++)
		if (cs->arr[a] >= 0)
			close(cs->arr[a]);
	if (cs->outer_fd >= 0)
		close(cs->outer_fd);
	if (cs->slots_fd >= 0)
		close(cs->slots_fd);
	free(cs->arr);
	free(cs->in_outer);
	free(cs);
}

int pc_cset_reserve(struct pc_cset *cs, uint32_t a)
{
	uint32_t n = cs->narr;
	int *arr;
	bool *in;

	if (a >= PC_MAX_ATTACH)
		return -ENOSPC;
	if (a < n)
		return 0;
	while (n <= a)
		n = n ? 2 * n : 64;
	if (n > PC_MAX_ATTACH)
		n = PC_MAX_ATTACH;
	arr = realloc(cs->arr, n * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	cs->arr = arr;
	in = realloc(cs->in_outer, n * sizeof(*in));
	if (!in)
		return -ENOMEM;
	cs->in_outer = in;
	for (uint32_t i = cs->narr; i < n; i++) {
		cs->arr[i] = -1;
		cs->in_outer[i] = false;
	}
	cs->narr = n;
	return 0;
}

int pc_cset_array(struct pc_dp *dp, struct pc_cset *cs, uint32_t a)
{
	int r = pc_cset_reserve(cs, a);

	if (r < 0)
		return r;
	if (cs->arr[a] >= 0)
		return cs->arr[a];
	r = counters_create(cs->slot_cap, &cs->arr[a]);
	return r < 0 ? r : cs->arr[a];
}

int pc_cset_fill(struct pc_cset *cs, const uint32_t *a, size_t n)
{
	_cleanup_free_ uint32_t *keys = calloc(n + 1, sizeof(*keys));
	_cleanup_free_ int *fds = calloc(n + 1, sizeof(*fds));
	__u32 m = 0;

	if (!keys || !fds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (a[i] >= cs->narr || cs->arr[a[i]] < 0 || cs->in_outer[a[i]])
			continue;
		keys[m] = a[i];
		fds[m++] = cs->arr[a[i]];
	}
	if (!m)
		return 0;
	if (bpf_map_update_batch(cs->outer_fd, keys, fds, &m, NULL) < 0)
		return -errno;
	for (__u32 i = 0; i < m; i++)
		cs->in_outer[keys[i]] = true;
	return 0;
}

void pc_cset_drop(struct pc_cset *cs, uint32_t a)
{
	if (!cs || a >= cs->narr)
		return;
	if (cs->arr[a] >= 0)
		close(cs->arr[a]);
	cs->arr[a] = -1;
	cs->in_outer[a] = false;
}

/* The sync map: an array of maps of one entry, rewritten with the same
 * inner map.  Made before a switch that needs it, so that nothing after
 * the switch needs a new file descriptor. */
int pc_dp_sync_prepare(struct pc_dp *dp)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);

	if (dp->sync_fd >= 0)
		return 0;
	if (dp->sync_inner_fd < 0)
		dp->sync_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_sync_in", 4, 4, 1, NULL);
	if (dp->sync_inner_fd < 0)
		return -errno;
	opts.inner_map_fd = dp->sync_inner_fd;
	dp->sync_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "pc_sync", 4, 4, 1, &opts);
	return dp->sync_fd < 0 ? -errno : 0;
}

int pc_dp_sync(struct pc_dp *dp)
{
	__u32 zero = 0;
	int r = pc_dp_sync_prepare(dp);

	if (r < 0)
		return r;
	return bpf_map_update_elem(dp->sync_fd, &zero, &dp->sync_inner_fd, BPF_ANY) < 0 ? -errno : 0;
}

/* ---- pins ------------------------------------------------------------------- */

int pc_cnt_pin_name(uint32_t a, char *buf, size_t len)
{
	int n = snprintf(buf, len, "cnt_%u", a);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pc_dp_cnt_unpin(const struct pc_dp *dp, uint32_t a)
{
	char name[32], p[PC_PATH_MAX + 32];
	int r = pc_cnt_pin_name(a, name, sizeof(name));

	if (r >= 0)
		r = pc_dp_pin_file(dp, name, p, sizeof(p));
	if (r < 0)
		return r;
	return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

static int pin_one(const struct pc_dp *dp, int fd, const char *name, bool replace)
{
	return replace ? pc_dp_pin_replace(dp, fd, name) : pc_dp_obj_pin(dp, fd, name);
}

/* The arrays of published attach slots first, then "slots" and "cnt". */
int pc_cset_pin(struct pc_dp *dp, struct pc_cset *cs, bool replace)
{
	char name[32];
	int r;

	for (uint32_t a = 0; a < cs->narr; a++) {
		if (cs->arr[a] < 0 || !pc_dp_att_in_use(dp, a) || a >= dp->natt || !dp->att_pub[a])
			continue;
		r = pc_cnt_pin_name(a, name, sizeof(name));
		if (r >= 0)
			r = pc_dp_pin_replace(dp, cs->arr[a], name);
		if (r < 0)
			return r;
	}
	r = pin_one(dp, cs->slots_fd, "slots", replace);
	if (r >= 0)
		r = pin_one(dp, cs->outer_fd, "cnt", replace);
	if (r >= 0)
		cs->pinned = true;
	return r;
}

/* ---- adoption ------------------------------------------------------------------ */

static bool shape_is(int fd, enum bpf_map_type type, uint32_t value_size, uint32_t max_entries)
{
	struct bpf_map_info info;

	return pc_dp_map_info(fd, &info) == 0 && info.type == type && info.key_size == sizeof(__u32) &&
	       info.value_size == value_size && info.max_entries == max_entries;
}

/* The pinned cnt_<a> of a record in use: -EPROTO when it is not a counter
 * array of the set's capacity.  A record without counters (an earlier run
 * died between the two) gets an empty array at its next publication. */
static int adopt_array(struct pc_dp *dp, struct pc_cset *cs, uint32_t a)
{
	char name[32];
	int fd, r;

	r = pc_cnt_pin_name(a, name, sizeof(name));
	if (r < 0)
		return r;
	fd = pc_dp_obj_get(dp, name);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (!shape_is(fd, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(struct pc_cnt_chunk),
		      cs->slot_cap / PC_CNT_CHUNK)) {
		close(fd);
		return -EPROTO;
	}
	r = pc_cset_reserve(cs, a);
	if (r < 0) {
		close(fd);
		return r;
	}
	cs->arr[a] = fd;
	cs->in_outer[a] = true;
	return 0;
}

int pc_cset_adopt(struct pc_dp *dp, struct pc_cset **ret)
{
	struct pc_cset *cs = cset_alloc(dp->meta.slot_cap);
	int r = 0;

	if (!cs)
		return -ENOMEM;
	cs->pinned = true;
	cs->outer_fd = pc_dp_obj_get(dp, "cnt");
	cs->slots_fd = pc_dp_obj_get(dp, "slots");
	if (cs->outer_fd < 0 || cs->slots_fd < 0)
		r = cs->outer_fd == -ENOENT || cs->slots_fd == -ENOENT ? -EPROTO :
		    cs->outer_fd < 0 ? cs->outer_fd : cs->slots_fd;
	else if (!shape_is(cs->slots_fd, BPF_MAP_TYPE_ARRAY, sizeof(struct pc_slot_name), cs->slot_cap) ||
	    !shape_is(cs->outer_fd, BPF_MAP_TYPE_ARRAY_OF_MAPS, sizeof(__u32), PC_MAX_ATTACH))
		r = -EPROTO;
	for (uint32_t a = 0; r >= 0 && a < dp->natt; a++) {
		if (!pc_dp_att_in_use(dp, a))
			continue;
		r = adopt_array(dp, cs, a);
		/* without its counters: published again, with an empty array */
		if (r >= 0 && (a >= cs->narr || cs->arr[a] < 0))
			dp->att_pub[a] = false;
	}
	if (r < 0) {
		pc_cset_unref(cs);
		return r;
	}
	*ret = cs;
	return 0;
}

/* ---- carrying counts into a new set --------------------------------------------- */

static void chunk_sum(const struct pc_cnt_chunk *v, int ncpus, uint32_t i, struct pc_cnt_delta *d)
{
	d->packets = d->bytes = 0;
	for (int c = 0; c < ncpus; c++) {
		d->packets += v[c].c[i].packets;
		d->bytes += v[c].c[i].bytes;
	}
}

int pc_cset_carry(struct pc_dp *dp, struct pc_cset *from, struct pc_cset *to, uint32_t a,
		  const uint32_t *s, uint32_t n)
{
	_cleanup_free_ struct pc_cnt_chunk *v = calloc(dp->ncpus, sizeof(*v));
	_cleanup_free_ struct pc_cnt_delta *d = calloc(n + 1, sizeof(*d));
	uint32_t nd = 0;

	if (!v || !d)
		return -ENOMEM;
	if (a >= from->narr || from->arr[a] < 0)
		return 0;
	for (uint32_t i = 0; i < n;) {
		uint32_t k = s[i] / PC_CNT_CHUNK;

		if (s[i] >= from->slot_cap)
			break;
		if (bpf_map_lookup_elem(from->arr[a], &k, v) < 0)
			return -errno;
		for (; i < n && s[i] / PC_CNT_CHUNK == k; i++) {
			d[nd].slot = s[i];
			chunk_sum(v, dp->ncpus, s[i] % PC_CNT_CHUNK, &d[nd]);
			nd += d[nd].packets || d[nd].bytes;
		}
	}
	return pc_cset_add(dp, to, a, d, nd);
}
