/* SPDX-License-Identifier: GPL-2.0-only */
/* metrics.h - the counters as Prometheus metrics (pktclassctl stats
 * --openmetrics, settings.metrics_file; the list is in pktclassctl(8)).
 *
 * One text for both: the Prometheus text exposition format (what the node
 * exporter's textfile collector and `promtool check metrics` parse), ended
 * by "# EOF", with counter families named by their samples (..._total), as
 * Prometheus' own OpenMetrics parser also reads them.  Library code: writes
 * to the FILE it is given, nothing else. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "datapath/stats.h"

/* What only the daemon counts (the pins do not hold it). */
struct pc_daemon_counters {
	uint64_t reloads_ok, reloads_failed; /* SIGHUP reloads */
	uint64_t log_suppressed;             /* packet-log records not written: the
					      * kernel's count and the daemon's part */
	uint64_t log_suppressed_daemon;      /* the daemon's part (its own bucket) */
};

/* The element count of one set and family, for pktclass_set_elements:
 * family "ipv4" and "ipv6" for a prefix set (both, 0 for none), "port" for a
 * port set. */
#define PC_SET_FAMILY_MAX 8
struct pc_set_count {
	char name[PC_NAME_MAX];
	char family[PC_SET_FAMILY_MAX];
	uint64_t elements;
};

struct pc_metrics {
	const struct pc_stats *s;
	const struct pc_daemon_counters *daemon; /* NULL: unknown, families without samples */
	const struct pc_set_count *sets;
	size_t nsets;
	bool rules;                              /* the pktclass_rule_* families too */
};

/* Write every family (HELP, TYPE, samples), then "# EOF".  Counters per
 * (class or rule, interface, hook); an interface seen with one hook in two
 * attachments (a name reused) is one sample, their sum.  0 or -EIO. */
int pc_metrics_write(FILE *f, const struct pc_metrics *m);

/* value written as a label value: backslash, double quote and newline
 * escaped. */
void pc_metrics_label(FILE *f, const char *value);
