/* SPDX-License-Identifier: GPL-2.0-only */
/* records.h - the daemon's structured journal records (spec section 5):
 * start / reload, and the per-class stats records with their deltas. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsdiff.h"
#include "stats.h"

/* PC_MID_START (start) or PC_MID_RELOAD, with msg as MESSAGE. */
void pc_record_generation(bool start, bool ok, uint32_t generation, uint32_t rules,
			  uint64_t usec, const struct pc_rs_diff *diff, const char *msg);

struct pc_class_count {
	char name[PC_NAME_MAX];
	struct pc_count c;
};

/* The counters of the last snapshot, the base of the next deltas. */
struct pc_stats_log {
	struct pc_class_count *prev;
	size_t nprev;
};

/* Read the counters under pin_path; with emit, one PC_MID_STATS record
 * per class.  Either way the snapshot becomes the base of the deltas. */
void pc_stats_log_snapshot(struct pc_stats_log *sl, const char *pin_path, bool emit);
void pc_stats_log_clear(struct pc_stats_log *sl);
