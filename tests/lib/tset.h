/* SPDX-License-Identifier: GPL-2.0-only */
/* tset.h - rule sets and traces for the set tests and the benchmark, in either
 * format: a ClassBench file with a scripts/classbench-trace trace (IPv4
 * 5-tuples), or a pktclassd config (*.yaml, e.g. from scripts/gen-mixed) with a
 * trace of described packets (scripts/gen-mixed, "Trace lines").  Either way
 * rule i passes with mark i + 1 (the verdict can be read from skb->mark), the
 * default none, and every packet becomes a struct pg_pkt. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "lib/diag.h"
#include "lib/pktgen.h"

#define TS_NO_LABEL (-2)

struct ts_pkt {
	struct pg_pkt p;
	uint32_t hook;     /* PC_HOOK_INGRESS or PC_HOOK_EGRESS */
	int32_t from;      /* the rule the packet was made for, -1: random */
	int32_t rule;      /* the generator's first match (-1: default), or TS_NO_LABEL */
	bool classbench;   /* from a ClassBench 5-tuple trace */
};

/* The config of a rule file (ClassBench, or YAML when the name ends in .yaml;
 * its diagnostics go to d).  0 or a negative errno. */
int ts_config(const char *path, struct pc_config **ret, struct pc_diags *d);
/* The packets of a trace file of either format: count or a negative errno. */
ssize_t ts_trace_load(const char *path, struct ts_pkt **ret);
