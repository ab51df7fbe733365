/* SPDX-License-Identifier: GPL-2.0-only */
/* treebuild.h - inside the tree builder: tree.c builds one decision tree over
 * a list of boxes (HiCuts cuts, region shrinking, shadow pruning, shared
 * leaves); forest.c groups the boxes, gives each group its tree and its
 * memory, and falls back (lower space factor, split groups, slow leaves) so
 * that every rule set gets trees. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktclass.h"
#include "classifier/compile.h"

#define TB_W PC_KEY_WORDS

/* A box, as one interval per word (lo/hi), except words whose check is
 * MASK (lo = a, hi = b) or ANY (lo = a, hi unused). */
struct tb_box {
	uint32_t lo[TB_W], hi[TB_W];
	uint32_t words;  /* words with a check */
	uint32_t maskw;  /* of which MASK */
	uint32_t anyw;   /* of which ANY */
	uint32_t rule;
	bool opaque;     /* has a PC_OP_SET check: may hold anywhere, covers nothing */
};

struct tb_leafmap {
	uint32_t *slot;   /* leaf base + 1, 0 = empty */
	uint32_t *len;
	size_t cap, n;
};

/* The nodes and leaf lists of all trees, and what the tree being built may use. */
struct tb_builder {
	const struct tb_box *bx;
	struct pc_node *nodes;
	size_t nnodes, cap_nodes;
	uint32_t *leaf;
	size_t nleaf, cap_leaf;
	struct tb_leafmap lm;
	uint32_t *scratch;       /* (1 << 16) + 1 counters for choosing a cut */
	double spfac;            /* space factor of the tree being built */
	size_t mark_nodes, mark_leaf; /* where the tree being built started */
	size_t budget_bytes;     /* its nodes and leaf entries, at most */
	uint64_t work, budget_work; /* box-list entries its nodes went through, at most */
	uint32_t max_depth, max_leaf; /* of the tree being built (fast leaves) */
	size_t slow_leaves, slow_entries, slow_max; /* of the tree being built */
};

/* The box's intervals from its checks. */
void tb_box_from(struct tb_box *x, const struct pc_box *b);
/* Bits of the word's value space that the box fixes, over words w0 .. w0 + nw - 1
 * (a /24 IPv4 prefix: 24); MASK checks count their mask bits. */
unsigned tb_fixed_bits(const struct tb_box *b, unsigned w0, unsigned nw);

/* Build one tree over boxes v[0 .. n) (sorted by box index; v is reordered)
 * into B, its root at *root.  -E2BIG when it would pass B->budget_bytes or
 * B->budget_work: then tb_rollback() undoes it.  Leaves over PC_MAX_LEAF boxes, and what is left at
 * depth PC_MAX_DEPTH, become slow leaves (PC_NODE_SLOW). */
int tb_build(struct tb_builder *B, uint32_t *v, uint32_t n, uint32_t *root);
/* One slow leaf of all of v as a tree of its own (never over budget). */
int tb_build_linear(struct tb_builder *B, const uint32_t *v, uint32_t n, uint32_t *root);
/* Start a tree: its stats and where it starts, its limits of memory and of
 * work (the sum of the box-list lengths of its nodes: what building costs). */
void tb_begin(struct tb_builder *B, double spfac, size_t budget_bytes, uint64_t budget_work);
/* Undo everything since tb_begin(). */
int tb_rollback(struct tb_builder *B);
/* pc_node.min_rule of every node, bottom up. */
void tb_set_min_rules(struct tb_builder *B);
void tb_free(struct tb_builder *B);
