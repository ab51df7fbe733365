/* SPDX-License-Identifier: GPL-2.0-only */
/* publish.h - what the daemon writes beside its pins, for readers other
 * than root and for Prometheus:
 *
 * - the stats file, RUNDIR/<pin path>.stats (datapath/statsfile.h), mode
 *   0640 and group pktclassd when that group exists: at start, after each
 *   reload, every stats_interval, and whenever someone opens it (the
 *   runtime directory is watched with inotify; at most every 250 ms), so
 *   that `pktclassctl stats` of a group member shows fresh counts;
 * - the rules file, RUNDIR/<pin path>.rules (a digest per live rule), at
 *   each commit, for `pktclassctl check`'s "what a reload would change";
 * - settings.metrics_file (datapath/metrics.h, rules included), mode 0644,
 *   at start, after each reload and every stats_interval.
 *
 * Each is replaced atomically (a temporary file beside it, renamed).  A
 * failure is a warning, once until the next success: none of this stops
 * the daemon from classifying. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "classifier/compile.h"
#include "datapath/metrics.h"

struct pc_publish;

/* For the daemon at pin_path; the daemon's counters of an earlier run
 * (the stats file it left) are read into *carried. */
int pc_publish_new(sd_event *e, const char *pin_path, struct pc_publish **ret,
		   struct pc_daemon_counters *carried);
void pc_publish_free(struct pc_publish *p);

/* Where the daemon's own counters come from at each write. */
typedef void (*pc_publish_counters_fn)(struct pc_daemon_counters *ret, void *userdata);
void pc_publish_set_counters(struct pc_publish *p, pc_publish_counters_fn fn, void *userdata);
/* Where the sets' element counts (pktclass_set_elements, the stats file's
 * "set" lines) come from at each write: a new array in *ret. */
typedef int (*pc_publish_sets_fn)(struct pc_set_count **ret, size_t *n, void *userdata);
void pc_publish_set_sets(struct pc_publish *p, pc_publish_sets_fn fn, void *userdata);
/* settings.metrics_file of the live config ("" for none).  A file given
 * up on is removed. */
void pc_publish_set_metrics_file(struct pc_publish *p, const char *path);
/* Write the stats file, and with metrics the metrics file too. */
void pc_publish_now(struct pc_publish *p, bool metrics);
/* The live rules after a commit. */
void pc_publish_rules(struct pc_publish *p, const struct pc_ruleset *rs, uint32_t generation);
/* Stopping: the stats file says so (its daemon counters carry over to the
 * next start), the rules and metrics files go. */
void pc_publish_stop(struct pc_publish *p);
