/* SPDX-License-Identifier: GPL-2.0-only */
/* logring.c - the packet log's persistent maps: the ring buffer "log"
 * that every generation's classifier writes struct pc_log_rec to, and the
 * per-CPU token buckets "log_limit" in front of it (pktclass.h).  Both are
 * pinned beside the counters and adopted by a restarted daemon. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"

static int log_pin_path(const struct pc_dp *dp, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dp->pin_path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The pinned map name if it is there and has the expected type, else a
 * new one, pinned. */
static int log_map_get(const struct pc_dp *dp, const char *name, enum bpf_map_type type,
		       uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char p[PC_PATH_MAX + 32];
	_cleanup_close_ int fd = -1;
	int r;

	r = log_pin_path(dp, name, p, sizeof(p));
	if (r < 0)
		return r;
	fd = bpf_obj_get(p);
	if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == type &&
	    info.value_size == value_size && info.max_entries == max_entries)
		return TAKE_FD(fd);
	if (fd >= 0) {
		/* not ours to reuse: replace it */
		close(TAKE_FD(fd));
		if (unlink(p) < 0)
			return -errno;
	}
	fd = bpf_map_create(type, name, key_size, value_size, max_entries, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, p) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int pc_dp_log_open(struct pc_dp *dp)
{
	int fd;

	fd = log_map_get(dp, "log", BPF_MAP_TYPE_RINGBUF, 0, 0, PC_LOG_RING_SIZE);
	if (fd < 0)
		return fd;
	dp->log_fd = fd;
	fd = log_map_get(dp, "log_limit", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
			 sizeof(struct pc_log_limit), 1);
	if (fd < 0)
		return fd;
	dp->log_limit_fd = fd;
	return 0;
}

void pc_dp_set_log_rate(struct pc_dp *dp, uint32_t rate)
{
	dp->log_rate = rate;
}

int pc_dp_log_fd(const struct pc_dp *dp)
{
	return dp->log_fd >= 0 ? dp->log_fd : -EBADF;
}

int pc_dp_log_suppressed(const struct pc_dp *dp, uint64_t *ret)
{
	_cleanup_free_ struct pc_log_limit *v = NULL;
	uint64_t sum = 0;
	__u32 zero = 0;

	if (dp->log_limit_fd < 0 || dp->ncpus <= 0)
		return -EBADF;
	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(dp->log_limit_fd, &zero, v) < 0)
		return -errno;
	for (int i = 0; i < dp->ncpus; i++)
		sum += v[i].suppressed;
	*ret = sum;
	return 0;
}

const struct pc_slot_name *pc_dp_slot_name(const struct pc_dp *dp, uint32_t slot)
{
	if (!dp->slots || slot >= dp->mirror_cap || dp->slots[slot].kind == PC_SLOT_FREE)
		return NULL;
	return &dp->slots[slot];
}
