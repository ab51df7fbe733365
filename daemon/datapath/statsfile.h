/* SPDX-License-Identifier: GPL-2.0-only */
/* statsfile.h - the daemon's counters as a file in its runtime directory,
 * for whoever may not open the pins: members of the group pktclassd
 * (bpffs is mounted mode 0700, so no one but root reaches a pin).  The
 * file also carries what only the daemon counts (reloads, suppressed
 * log records), which pktclassctl adds to the pinned counters' metrics.
 *
 *   pktclassd-stats 1
 *   written USEC PID running|stopped
 *   daemon RELOADS_OK RELOADS_FAILED LOG_SUPPRESSED LOG_SUPPRESSED_DAEMON
 *   meta GENERATION LOADED_USEC NRULES NCLASSES SLOT_CAP FLAGS PID
 *   config PATH            (the rest of the line; control bytes as '?')
 *   status TEXT            (the same)
 *   slot INDEX KIND RULE_INDEX NAME CLASS   (CLASS "-" when empty)
 *   att SLOT IFINDEX HOOK FLAGS PROG_ID IFNAME
 *   cnt ATT_SLOT SLOT PACKETS BYTES          (non-zero counters only)
 *   set NAME FAMILY ELEMENTS   (ipv4, ipv6 or port: pktclass_set_elements)
 *   end
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "datapath/metrics.h"
#include "datapath/stats.h"

struct pc_statsfile {
	uint64_t written_usec;          /* CLOCK_REALTIME */
	uint32_t pid;
	bool running;                   /* false: written by a daemon that stopped */
	struct pc_daemon_counters daemon;
	struct pc_set_count *sets;      /* owned */
	size_t nsets;
};

/* The file's text for s (and the daemon's part, sf). */
int pc_statsfile_print(FILE *f, const struct pc_stats *s, const struct pc_statsfile *sf);
/* Read what pc_statsfile_print() wrote at path into a new pc_stats (as
 * pc_stats_read() fills it) and *sf.  -ENOENT, -EACCES, -EPROTO (not such
 * a file), -ENOMEM. */
int pc_statsfile_read(const char *path, struct pc_stats **ret, struct pc_statsfile *sf);
void pc_statsfile_clear(struct pc_statsfile *sf);
