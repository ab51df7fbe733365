/* SPDX-License-Identifier: GPL-2.0-only */
/* cbset.h - ClassBench rule files and 5-tuple traces (scripts/classbench-trace)
 * for the ClassBench test and the benchmark: a rule file becomes a pktclassd
 * config in memory (rule i named r<i>, the mapping of scripts/classbench2yaml),
 * a trace line becomes an IPv4 packet. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pktclass.h"

#include "config/config.h"

struct cb_rule {
	uint32_t src, dst;
	uint8_t slen, dlen;
	uint16_t sp[2], dp[2];
	uint8_t proto, pmask;
};

struct cb_pkt {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	int32_t from_rule; /* the rule it was drawn from, -1: random */
};

/* Rules of a ClassBench file, in order: count or a negative errno. */
ssize_t cb_load(const char *path, struct cb_rule **ret);
/* Packets of a trace file: count or a negative errno. */
ssize_t cb_trace_load(const char *path, struct cb_pkt **ret);

/* The config of the first n rules, on every interface, ingress.  Rule i gets
 * mark i + 1 (the verdict can be read from skb->mark), the default none. */
struct pc_config *cb_config(const struct cb_rule *v, size_t n);
