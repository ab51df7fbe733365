/* SPDX-License-Identifier: GPL-2.0-only */
/* tree.h - the lookup trees over a rule set's boxes (tree.c; design in
 * daemon/classifier/README.md), and the datapath's walk of them in C. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pktclass.h"
#include "classifier/compile.h"

struct pc_tree {
	struct pc_node *nodes;
	size_t nnodes;
	uint32_t *leaf;             /* box indices, referenced by leaf nodes */
	size_t nleaf;
	struct pc_gen_cfg cfg;      /* ntrees, root, min_rule, max_depth, max_leaf,
				     * nrules; generation is left for the caller */
	/* The slow path: leaves longer than PC_MAX_LEAF (kind PC_NODE_SLOW),
	 * scanned by a bpf_loop() callback, and what they hold. */
	size_t slow_leaves;
	size_t slow_entries;        /* leaf positions in slow leaves */
	size_t slow_max;            /* the longest slow leaf */
	uint32_t slow_rules;        /* rules with a box in a slow leaf */
	uint64_t build_usec;
};

/* Build the lookup structure for rs: trees within PC_MAX_TREES, PC_MAX_DEPTH
 * and PC_MAX_LEAF (and slow leaves beyond), first-match semantics exactly,
 * for every rule set.  Returns 0 or -ENOMEM. */
int pc_tree_build(const struct pc_ruleset *rs, struct pc_tree **ret);

/* What a build may spend before it falls back (a smaller space factor, a
 * group split in two, one slow leaf): kernel memory of all trees' nodes and
 * leaf entries, and per tree its group's boxes times mem_per_box, at least
 * mem_min; build work (box-list entries over a tree's nodes) per box plus
 * work_min.  pc_tree_build() uses defaults; tests pass small ones to reach
 * every fallback with small rule sets. */
struct pc_tree_opts {
	size_t mem_max, mem_per_box, mem_min;
	uint64_t work_per_box, work_min;
};
int pc_tree_build_opts(const struct pc_ruleset *rs, const struct pc_tree_opts *o,
		       struct pc_tree **ret);
void pc_tree_free(struct pc_tree *t);
static inline void pc_tree_freep(struct pc_tree **t) { if (*t) pc_tree_free(*t); }

/* How much of the rule set the slow path holds, one line for the summaries
 * of pktclassctl check and pktclassd --check ("none" when nothing). */
void pc_tree_slow_summary(const struct pc_tree *t, char *buf, size_t len);

/* The key's packet class (pktclass.h, PC_PKT_CLASSES). */
uint32_t pc_pkt_class(const struct pc_key *k);

/* The BPF walk, in C: what the datapath computes for k.  Used by tests to
 * check the builder and by explain.  Returns the rule index or nrules. */
uint32_t pc_tree_classify(const struct pc_tree *t, const struct pc_box *boxes,
			  const struct pc_key *k);
