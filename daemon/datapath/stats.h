/* SPDX-License-Identifier: GPL-2.0-only */
/* stats.h - reading what the datapath counted, from the pinned maps under
 * pin_path.  Used by pktclassctl and by the daemon's journal records.
 * Library code: returns 0 or -errno, prints nothing. */
#pragma once

#include <stdint.h>
#include <stddef.h>

#include "pktclass.h"

struct pc_count {
	uint64_t packets, bytes;
};

struct pc_stats_attach {
	struct pc_attach_info info;
	uint32_t slot;
	struct pc_count *by_slot;    /* slot_cap entries, summed over CPUs */
};

struct pc_stats {
	struct pc_meta meta;
	struct pc_slot_name *slots;  /* slot_cap entries */
	uint32_t slot_cap;
	struct pc_stats_attach *att; /* attachments in use */
	size_t natt;
	struct pc_count *total;      /* slot_cap entries, summed over attachments */
};

/* Every element of an array map of n entries into vals (elem bytes each,
 * as the kernel copies them out), by BPF_MAP_LOOKUP_BATCH where the kernel
 * has it. */
int pc_map_read_array(int fd, uint32_t n, size_t elem, void *vals);

/* Read everything at once from pin_path.  -ENOENT: no daemon state there. */
int pc_stats_read(const char *pin_path, struct pc_stats **ret);
void pc_stats_free(struct pc_stats *s);
/* s->total from the attachments' counters (allocates it). */
int pc_stats_sum_totals(struct pc_stats *s);
static inline void pc_stats_freep(struct pc_stats **s) { if (*s) pc_stats_free(*s); }
