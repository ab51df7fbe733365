/* SPDX-License-Identifier: GPL-2.0-only */
/* records.h - the daemon's structured journal records (systemd/pktclassd.catalog):
 * start / reload, the per-class stats records with their deltas, and the
 * packet log.  Each record is first built (pure: tested on its own), then
 * emitted through the logger. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktclass.h"
#include "classifier/rsdiff.h"
#include "datapath/stats.h"

#define PC_RECORD_FIELDS_MAX 16

struct pc_record {
	int level;
	const char *message_id;
	char message[320];
	char field[PC_RECORD_FIELDS_MAX][96];
	const char *fields[PC_RECORD_FIELDS_MAX + 1]; /* NULL-terminated */
	size_t n;
};

/* Add "NAME=value" (printf format); false when the record is full. */
bool pc_record_add(struct pc_record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pc_record_emit(const struct pc_record *r);
/* "1.1 MiB", "512 B" */
void pc_format_bytes(uint64_t bytes, char *buf, size_t len);

/* PC_MID_START (start) or PC_MID_RELOAD, with msg as MESSAGE. */
void pc_record_generation(bool start, bool ok, uint32_t generation, uint32_t rules,
			  uint64_t usec, const struct pc_rs_diff *diff, const char *msg);

/* What a set change was, for its PC_MID_SET record. */
struct pc_set_event {
	const char *set;
	const char *op;         /* add, del, load, flush, start, reload */
	bool ok;
	size_t added, removed, elements, lost;
	uint64_t usec;
	const char *why;        /* failed: the reason */
};
void pc_record_build_set(struct pc_record *r, const struct pc_set_event *ev);

/* One PC_MID_STATS record: totals now, deltas against before, over
 * elapsed_usec (0: unknown, left out of the message). */
void pc_record_build_stats(struct pc_record *r, const char *class_name, struct pc_count now,
			   struct pc_count before, uint32_t generation, uint64_t elapsed_usec);

/* One PC_MID_PKTLOG record for a ring buffer record.  rule / class_name /
 * iface: names resolved by the caller (NULL: unknown). */
void pc_record_build_pktlog(struct pc_record *r, const struct pc_log_rec *rec, const char *rule,
			    const char *class_name, const char *iface);
/* PC_MID_PKTLOG_SUPPRESSED: n records over log_rate in the last usec. */
void pc_record_build_suppressed(struct pc_record *r, uint64_t n, uint32_t log_rate,
				uint64_t usec);

struct pc_class_count {
	char name[PC_NAME_MAX];
	struct pc_count c;
};

/* The counters of the last snapshot, the base of the next deltas. */
struct pc_stats_log {
	struct pc_class_count *prev;
	size_t nprev;
	uint64_t prev_usec; /* CLOCK_MONOTONIC of the last snapshot, 0: none */
};

/* Read the counters under pin_path; with emit, one PC_MID_STATS record
 * per class.  Either way the snapshot becomes the base of the deltas. */
void pc_stats_log_snapshot(struct pc_stats_log *sl, const char *pin_path, bool emit);
void pc_stats_log_clear(struct pc_stats_log *sl);
