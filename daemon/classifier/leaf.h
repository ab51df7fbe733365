/* SPDX-License-Identifier: GPL-2.0-only */
/* leaf.h - the entries of the datapath's "leaf" table (struct pc_leaf_ent,
 * bpf/pktclass.h): one per position of the trees' leaf lists, each a copy of
 * its box's rule, least common checks and the rule's plain outcome; the
 * extensions of boxes with more checks ("leafx"), and the few boxes even that
 * cannot hold ("boxes").  Pure computation; the datapath copies the result
 * into its maps. */
#pragma once

#include <stddef.h>

#include "pktclass.h"
#include "classifier/compile.h"
#include "classifier/tree.h"

/* The datapath's leaf tables of t over rs. */
struct pc_leaf_tab {
	struct pc_leaf_ent *ent;    /* one per position of t->leaf */
	size_t nent;
	struct pc_leaf_ext *ext;    /* "leafx": one per box whose entry needs one */
	size_t next;
	struct pc_box *box;         /* "boxes": the boxes an extension cannot hold */
	size_t nbox;
};

/* The tables for t->leaf[0 .. t->nleaf) (all empty when there are none).
 * outs: the rules' outcomes with their counter slots (rs->nrules + 1).
 * Returns 0, -EINVAL (a leaf names a box or rule rs does not have) or
 * -ENOMEM. */
int pc_leaf_build(const struct pc_ruleset *rs, const struct pc_rule_out *outs,
		  const struct pc_tree *t, struct pc_leaf_tab *lt);
void pc_leaf_tab_clear(struct pc_leaf_tab *lt);
