/* SPDX-License-Identifier: GPL-2.0-only */
/* records.c - start / reload and stats records for the journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "records.h"
#include "util.h"

void pc_record_generation(bool start, bool ok, uint32_t generation, uint32_t rules,
			  uint64_t usec, const struct pc_rs_diff *diff, const char *msg)
{
	char f[7][64];
	const char *fields[] = { f[0], f[1], f[2], f[3], f[4], f[5], f[6], NULL };

	snprintf(f[0], sizeof(f[0]), "PKTCLASS_GENERATION=%u", generation);
	snprintf(f[1], sizeof(f[1]), "PKTCLASS_RULES=%u", rules);
	snprintf(f[2], sizeof(f[2]), "PKTCLASS_RESULT=%s", ok ? "ok" : "failed");
	snprintf(f[3], sizeof(f[3]), "PKTCLASS_DURATION_USEC=%llu", (unsigned long long)usec);
	snprintf(f[4], sizeof(f[4]), "PKTCLASS_ADDED=%zu", diff->added);
	snprintf(f[5], sizeof(f[5]), "PKTCLASS_REMOVED=%zu", diff->removed);
	snprintf(f[6], sizeof(f[6]), "PKTCLASS_CHANGED=%zu", diff->changed);
	pc_log_struct(ok ? LOG_INFO : LOG_ERR, start ? PC_MID_START : PC_MID_RELOAD, fields,
		      "%s", msg);
}

static struct pc_count find_prev(const struct pc_stats_log *sl, const char *name)
{
	for (size_t i = 0; i < sl->nprev; i++)
		if (strcmp(sl->prev[i].name, name) == 0)
			return sl->prev[i].c;
	return (struct pc_count){};
}

/* A counter that went down was reset: the delta is all of it. */
static uint64_t delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

static void log_class(const struct pc_stats *s, const char *name, struct pc_count now,
		      struct pc_count before)
{
	char f[6][96];
	const char *fields[] = { f[0], f[1], f[2], f[3], f[4], f[5], NULL };

	snprintf(f[0], sizeof(f[0]), "PKTCLASS_CLASS=%s", name);
	snprintf(f[1], sizeof(f[1]), "PKTCLASS_PACKETS=%llu", (unsigned long long)now.packets);
	snprintf(f[2], sizeof(f[2]), "PKTCLASS_BYTES=%llu", (unsigned long long)now.bytes);
	snprintf(f[3], sizeof(f[3]), "PKTCLASS_PACKETS_DELTA=%llu",
		 (unsigned long long)delta(now.packets, before.packets));
	snprintf(f[4], sizeof(f[4]), "PKTCLASS_BYTES_DELTA=%llu",
		 (unsigned long long)delta(now.bytes, before.bytes));
	snprintf(f[5], sizeof(f[5]), "PKTCLASS_GENERATION=%u", s->meta.generation);
	pc_log_struct(LOG_INFO, PC_MID_STATS, fields, "class %s: %llu packets, %llu bytes", name,
		      (unsigned long long)now.packets, (unsigned long long)now.bytes);
}

void pc_stats_log_snapshot(struct pc_stats_log *sl, const char *pin_path, bool emit)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = NULL;
	struct pc_class_count *v;
	size_t n = 0;
	int r;

	r = pc_stats_read(pin_path, &s);
	if (r < 0) {
		if (emit)
			log_warning_errno(r, "reading the counters under %s", pin_path);
		return;
	}
	v = calloc(s->slot_cap + 1, sizeof(*v));
	if (!v)
		return;
	for (uint32_t i = 0; i < s->slot_cap; i++) {
		if (s->slots[i].kind != PC_SLOT_CLASS)
			continue;
		strscpy_ok(v[n].name, sizeof(v[n].name), s->slots[i].name);
		v[n].c = s->total[i];
		if (emit)
			log_class(s, v[n].name, v[n].c, find_prev(sl, v[n].name));
		n++;
	}
	free(sl->prev);
	sl->prev = v;
	sl->nprev = n;
}

void pc_stats_log_clear(struct pc_stats_log *sl)
{
	free(sl->prev);
	*sl = (struct pc_stats_log){};
}
