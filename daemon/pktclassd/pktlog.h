/* SPDX-License-Identifier: GPL-2.0-only */
/* pktlog.h - the packet log: reads the records that rules with `log: true`
 * put into the pinned ring buffer, lets settings.log_rate of them per
 * second through (a daemon-wide token bucket, one second of burst) as
 * PC_MID_PKTLOG journal records, and reports the suppressed ones (by the
 * bucket here, or by the per-CPU buckets and a full ring in the kernel) in
 * one PC_MID_PKTLOG_SUPPRESSED record per interval in which there were any. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "datapath/datapath.h"

struct pc_pktlog;

int pc_pktlog_new(sd_event *e, struct pc_dp *dp, uint32_t rate, uint64_t interval_usec,
		  struct pc_pktlog **ret);
/* After a reload: the new log_rate and summary interval. */
void pc_pktlog_set(struct pc_pktlog *p, uint32_t rate, uint64_t interval_usec);
/* Read what is in the ring now, then report what was suppressed so far. */
void pc_pktlog_flush(struct pc_pktlog *p);
/* Records our own bucket held back since pc_pktlog_new() (the kernel's
 * count is pc_dp_log_suppressed()). */
uint64_t pc_pktlog_suppressed(const struct pc_pktlog *p);
void pc_pktlog_free(struct pc_pktlog *p);
