/* SPDX-License-Identifier: GPL-2.0-only */
/* stats.c - read the pinned state maps and every attachment's per-CPU
 * counters (pinned as cnt_<attach slot>, chunks of PC_CNT_CHUNK slots).
 * The state arrays are read with BPF_MAP_LOOKUP_BATCH in chunks, falling
 * back to one lookup per element where the kernel lacks batch support; the
 * counter arrays one element (ncpus x 16 KiB) at a time. */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/stats.h"
#include "lib/util.h"

#define BATCH_CHUNK 4096u
#define ENOTSUPP_KERNEL 524 /* the kernel's internal ENOTSUPP can leak out */

static int open_pinned(const char *pin_path, const char *name)
{
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", pin_path, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len) < 0)
		return -errno;
	return 0;
}

/* Check an array map's shape; 0 or -EPROTO. */
static int check_array(int fd, __u32 type, __u32 value_size, __u32 *max_entries)
{
	struct bpf_map_info info;
	int r;

	r = map_info(fd, &info);
	if (r < 0)
		return r;
	if (info.type != type || info.key_size != sizeof(__u32) || info.value_size != value_size)
		return -EPROTO;
	*max_entries = info.max_entries;
	return 0;
}

/* One lookup per element: the fallback. */
static int read_each(int fd, uint32_t n, size_t elem, void *vals)
{
	for (uint32_t k = 0; k < n; k++)
		if (bpf_map_lookup_elem(fd, &k, (char *)vals + (size_t)k * elem) < 0)
			return -errno;
	return 0;
}

/* Batch lookup of every element of an array map of n entries into vals
 * (elem bytes each, as the kernel copies them out: per-CPU values are
 * ncpus * round_up(value_size, 8)).  -EOPNOTSUPP/-EINVAL from the first
 * call means: no batch support for this map type. */
static int read_batch(int fd, uint32_t n, size_t elem, void *vals)
{
	_cleanup_free_ uint32_t *keys = NULL;
	_cleanup_free_ char *buf = NULL;
	uint32_t chunk = n < BATCH_CHUNK ? n : BATCH_CHUNK, out = 0, done = 0;
	bool first = true;

	keys = calloc(chunk, sizeof(*keys));
	buf = calloc(chunk, elem);
	if (!keys || !buf)
		return -ENOMEM;
	for (;;) {
		__u32 count = chunk;
		int r = bpf_map_lookup_batch(fd, first ? NULL : &out, &out, keys, buf, &count, NULL);

		if (r < 0 && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < count; i++) {
			if (keys[i] >= n)
				return -EIO;
			memcpy((char *)vals + (size_t)keys[i] * elem, buf + (size_t)i * elem, elem);
		}
		done += count;
		first = false;
		if (r < 0) /* ENOENT: the end */
			break;
		if (count == 0 || done >= n)
			break;
	}
	return done == n ? 0 : -EIO;
}

int pc_map_read_array(int fd, uint32_t n, size_t elem, void *vals)
{
	int r;

	if (n == 0)
		return 0;
	r = read_batch(fd, n, elem, vals);
	if (r == -EINVAL || r == -EOPNOTSUPP || r == -ENOTSUPP_KERNEL)
		r = read_each(fd, n, elem, vals);
	return r;
}

static int read_meta(int fd, struct pc_meta *m)
{
	__u32 n, k = 0;
	int r;

	r = check_array(fd, BPF_MAP_TYPE_ARRAY, sizeof(*m), &n);
	if (r < 0)
		return r;
	if (n < 1)
		return -EPROTO;
	if (bpf_map_lookup_elem(fd, &k, m) < 0)
		return -errno;
	if (m->magic != PC_META_MAGIC || m->abi_version != PC_ABI_VERSION)
		return -EPROTO;
	m->config_path[sizeof(m->config_path) - 1] = 0;
	m->status[sizeof(m->status) - 1] = 0;
	return 0;
}

static int read_slots(int fd, struct pc_stats *s)
{
	__u32 n;
	int r;

	r = check_array(fd, BPF_MAP_TYPE_ARRAY, sizeof(struct pc_slot_name), &n);
	if (r < 0)
		return r;
	s->slots = calloc(n ? n : 1, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->slot_cap = n;
	r = pc_map_read_array(fd, n, sizeof(*s->slots), s->slots);
	if (r < 0)
		return r;
	for (__u32 i = 0; i < n; i++) {
		s->slots[i].name[PC_NAME_MAX - 1] = 0;
		s->slots[i].class_name[PC_NAME_MAX - 1] = 0;
	}
	return 0;
}

/* An attachment's counter array: its pin cnt_<slot>, or -ENOENT when it has
 * none (not published yet). */
static int open_counters(const char *pin_path, uint32_t slot)
{
	char name[32];

	snprintf(name, sizeof(name), "cnt_%u", slot);
	return open_pinned(pin_path, name);
}

/* Add chunk k (ncpus values of struct pc_cnt_chunk in v) to by_slot,
 * slots below slot_cap only. */
static void add_chunk(struct pc_count *by_slot, uint32_t k, const struct pc_cnt_chunk *v,
		      uint32_t slot_cap, int ncpus)
{
	uint64_t first = (uint64_t)k * PC_CNT_CHUNK;
	uint32_t n = first >= slot_cap ? 0 : slot_cap - first < PC_CNT_CHUNK ? slot_cap - first
									   : PC_CNT_CHUNK;

	for (int c = 0; c < ncpus; c++)
		for (uint32_t i = 0; i < n; i++) {
			by_slot[first + i].packets += v[c].c[i].packets;
			by_slot[first + i].bytes += v[c].c[i].bytes;
		}
}

/* Sum one attachment's per-CPU counters into a->by_slot, one chunk of
 * PC_CNT_CHUNK slots (ncpus x 16 KiB) at a time.  An inner array of fewer
 * than slot_cap slots leaves the remaining slots at zero. */
static int read_counters(const char *pin_path, struct pc_stats_attach *a,
			 uint32_t slot_cap, int ncpus)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ struct pc_cnt_chunk *v = NULL;
	__u32 n;
	int r;

	fd = open_counters(pin_path, a->slot);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	r = check_array(fd, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(struct pc_cnt_chunk), &n);
	if (r < 0)
		return r;
	if (n > ((uint64_t)slot_cap + PC_CNT_CHUNK - 1) / PC_CNT_CHUNK)
		n = ((uint64_t)slot_cap + PC_CNT_CHUNK - 1) / PC_CNT_CHUNK;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 k = 0; k < n; k++) {
		if (bpf_map_lookup_elem(fd, &k, v) < 0)
			return -errno;
		add_chunk(a->by_slot, k, v, slot_cap, ncpus);
	}
	return 0;
}

static int read_attachments(const char *pin_path, int att_fd, struct pc_stats *s)
{
	_cleanup_free_ struct pc_attach_info *all = NULL;
	__u32 n;
	int r, ncpus;

	r = check_array(att_fd, BPF_MAP_TYPE_ARRAY, sizeof(*all), &n);
	if (r < 0)
		return r;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EIO;
	all = calloc(n ? n : 1, sizeof(*all));
	s->att = calloc(n ? n : 1, sizeof(*s->att));
	if (!all || !s->att)
		return -ENOMEM;
	r = pc_map_read_array(att_fd, n, sizeof(*all), all);
	if (r < 0)
		return r;
	for (__u32 i = 0; i < n; i++) {
		struct pc_stats_attach *a = &s->att[s->natt];

		if (!(all[i].flags & PC_ATT_IN_USE))
			continue;
		a->info = all[i];
		a->info.ifname[sizeof(a->info.ifname) - 1] = 0;
		a->slot = i;
		a->by_slot = calloc(s->slot_cap ? s->slot_cap : 1, sizeof(*a->by_slot));
		if (!a->by_slot)
			return -ENOMEM;
		s->natt++;
		r = read_counters(pin_path, a, s->slot_cap, ncpus);
		if (r < 0)
			return r;
	}
	return 0;
}

int pc_stats_sum_totals(struct pc_stats *s)
{
	s->total = calloc(s->slot_cap ? s->slot_cap : 1, sizeof(*s->total));
	if (!s->total)
		return -ENOMEM;
	for (size_t a = 0; a < s->natt; a++)
		for (uint32_t i = 0; i < s->slot_cap; i++) {
			s->total[i].packets += s->att[a].by_slot[i].packets;
			s->total[i].bytes += s->att[a].by_slot[i].bytes;
		}
	return 0;
}

static int stats_read(const char *pin_path, struct pc_stats *s)
{
	_cleanup_close_ int meta = -1, slots = -1, att = -1;
	int r;

	meta = open_pinned(pin_path, "meta");
	if (meta < 0)
		return meta;
	slots = open_pinned(pin_path, "slots");
	if (slots < 0)
		return slots;
	att = open_pinned(pin_path, "attach");
	if (att < 0)
		return att;
	r = read_meta(meta, &s->meta);
	if (r < 0)
		return r;
	r = read_slots(slots, s);
	if (r < 0)
		return r;
	r = read_attachments(pin_path, att, s);
	if (r < 0)
		return r;
	return pc_stats_sum_totals(s);
}

int pc_stats_read(const char *pin_path, struct pc_stats **ret)
{
	struct pc_stats *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = stats_read(pin_path, s);
	if (r < 0) {
		pc_stats_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void pc_stats_free(struct pc_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->natt; i++)
		free(s->att[i].by_slot);
	free(s->att);
	free(s->slots);
	free(s->total);
	free(s);
}
