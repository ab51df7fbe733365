/* SPDX-License-Identifier: GPL-2.0-only */
/* testrules.h - rule sets and decision trees built by hand for the BPF
 * tests (independent of compile.c / tree.c): a small rule builder, the
 * reference first-match classifier, a simple cutting tree builder and the
 * tree walk in C, plus a ClassBench loader. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "classifier/compile.h"
#include "classifier/tree.h"

struct tr_set {
	struct pc_ruleset rs;
	struct pc_tree t;
	size_t cap_rules, cap_boxes, cap_nodes, cap_leaf;
};

void tr_init(struct tr_set *s);
void tr_free(struct tr_set *s);
/* New rule (index returned); its outcome is rs.outs[index]. */
int tr_rule(struct tr_set *s, const char *name, const char *class_name);
/* New box of the last rule; then add checks to it. */
int tr_box(struct tr_set *s);
void tr_check(struct tr_set *s, unsigned word, unsigned op, uint32_t a, uint32_t b);
/* Finish: sets the default outcome (class "default", pass). */
int tr_finish(struct tr_set *s);

bool tr_box_match(const struct pc_box *b, const struct pc_key *k);
uint32_t tr_ref(const struct tr_set *s, const struct pc_key *k);
/* Build trees; leaf_max: boxes per leaf to aim for.  0 or -E2BIG. */
int tr_build(struct tr_set *s, unsigned leaf_max);
/* Every tree's own depth and leaf limit (pc_gen_cfg.depth, .leaf) set to the
 * deepest and largest of all, and every packet class walking every tree
 * (call it after the trees' min_rule are set). */
void tr_tree_limits(struct pc_gen_cfg *cfg);

/* One more tree: a slow leaf (PC_NODE_SLOW) of every box, scanned by the
 * datapath's bpf_loop() path. */
int tr_add_slow_tree(struct tr_set *s);

/* Hand-made: one tree, one leaf, every box (<= PC_MAX_LEAF boxes). */
int tr_build_one_leaf(struct tr_set *s);
uint32_t tr_walk(const struct tr_set *s, const struct pc_key *k);

/* ClassBench file -> rules "r<line>" (class "c<line % 7>"), IPv4 boxes. */
int tr_load_classbench(struct tr_set *s, const char *path);
