/* SPDX-License-Identifier: GPL-2.0-only */
/* fcache.c - a generation's flow cache (bpf/flowcache.h): its size, key
 * masks and hash key in the classifier's .rodata, the table's size, and
 * what it did (struct pc_fc_count, first in the per-CPU scratch map). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "classifier.skel.h"

void pc_dp_set_flow_cache(struct pc_dp *dp, uint32_t entries)
{
	dp->fc_entries = entries;
}

/* Entries per CPU: a power of two of at most want, halved until the table
 * fits PC_FC_MAX_BYTES; 0 when not even 2 a CPU fit. */
static uint32_t fc_size(uint32_t want, uint32_t ncpu)
{
	uint32_t n = 2;

	if (want < 2 || !ncpu)
		return 0;
	while (n <= want / 2)
		n *= 2;
	while (n > 2 && (uint64_t)n * ncpu * sizeof(struct pc_fc_ent) > PC_FC_MAX_BYTES)
		n /= 2;
	return (uint64_t)n * ncpu * sizeof(struct pc_fc_ent) > PC_FC_MAX_BYTES ? 0 : n;
}

/* A random hash key, so that nobody can aim a flood of flows at a bucket;
 * failing that, one from the clock and the addresses is still a key. */
static void fc_seed(uint32_t *seed, size_t n)
{
	if (getrandom(seed, n * sizeof(*seed), GRND_NONBLOCK) == (ssize_t)(n * sizeof(*seed)))
		return;
	srandom((unsigned)time(NULL) ^ (unsigned)(uintptr_t)seed);
	for (size_t i = 0; i < n; i++)
		seed[i] = (uint32_t)random();
}

int pc_dp_gen_fc_setup(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs)
{
	struct pc_fc_cfg c = { .inv_prob = PC_FC_INV_PROB };
	uint32_t ncpu = dp->ncpus > 0 ? (uint32_t)dp->ncpus : 0;

	c.nent = fc_size(dp->fc_entries, ncpu);
	if (c.nent) {
		c.ncpu = ncpu;
		c.total = c.nent * ncpu;
		pc_flow_masks(rs, c.mask);
		fc_seed(c.seed, ELEMENTSOF(c.seed));
	}
	g->skel->rodata->pc_fc = c;
	return bpf_map__set_value_size(g->skel->maps.fcache,
				       (c.total ?: 1) * (uint32_t)sizeof(struct pc_fc_ent));
}

/* The struct pc_fc_count of every CPU in the scratch map fd (values of
 * value_size bytes), summed into st. */
static int work_counts(int fd, uint32_t value_size, struct pc_fc_stats *st)
{
	size_t vsize = ((size_t)value_size + 7) & ~(size_t)7;
	int n = libbpf_num_possible_cpus();
	_cleanup_free_ uint8_t *v = NULL;
	uint32_t zero = 0;

	if (n <= 0 || vsize < sizeof(struct pc_fc_count))
		return -EINVAL;
	v = calloc((size_t)n, vsize);
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, v) < 0)
		return -errno;
	for (int c = 0; c < n; c++) {
		struct pc_fc_count x;

		memcpy(&x, v + (size_t)c * vsize, sizeof(x));
		st->hits += x.hits;
		st->misses += x.misses;
		st->inserts += x.inserts;
		st->bypassed += x.bypassed;
	}
	return 0;
}

double pc_fc_hit_pct(const struct pc_fc_stats *st)
{
	uint64_t n = st->hits + st->misses + st->bypassed;

	return n ? 100.0 * (double)st->hits / (double)n : 0.0;
}

int pc_dp_gen_fc_stats(const struct pc_gen *g, struct pc_fc_stats *st)
{
	const struct pc_classifier *s = g->skel;

	memset(st, 0, sizeof(*st));
	st->entries_per_cpu = s->rodata->pc_fc.nent;
	st->ncpu = s->rodata->pc_fc.ncpu;
	return work_counts(bpf_map__fd(s->maps.work), bpf_map__value_size(s->maps.work), st);
}

/* The live .rodata's pc_fc: only when it is laid out as this build's. */
static int live_fc_cfg(const char *pin_path, struct pc_fc_cfg *c)
{
	struct pc_classifier__rodata *ro = NULL;
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), zero = 0;
	_cleanup_close_ int fd = -1;
	int r = pc_dp_live_map(pin_path, ".rodata", &fd);

	if (r < 0)
		return r;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return -errno;
	if (mi.value_size != sizeof(*ro))
		return -EPROTO;
	ro = malloc(sizeof(*ro));
	if (!ro)
		return -ENOMEM;
	r = bpf_map_lookup_elem(fd, &zero, ro) < 0 ? -errno : 0;
	if (r == 0)
		memcpy(c, (const void *)&ro->pc_fc, sizeof(*c));
	free(ro);
	return r;
}

int pc_dp_live_fc_stats(const char *pin_path, struct pc_fc_stats *st)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	_cleanup_close_ int fd = -1;
	struct pc_fc_cfg c;
	int r;

	memset(st, 0, sizeof(*st));
	r = live_fc_cfg(pin_path, &c);
	r = r ?: pc_dp_live_map(pin_path, "work", &fd);
	if (r < 0)
		return r;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return -errno;
	st->entries_per_cpu = c.nent;
	st->ncpu = c.ncpu;
	return work_counts(fd, mi.value_size, st);
}
