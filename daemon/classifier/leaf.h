/* SPDX-License-Identifier: GPL-2.0-only */
/* leaf.h - the entries of the datapath's "leaf" table (struct pc_leaf_ent,
 * bpf/pktclass.h): one per position of the trees' leaf lists, each a copy of
 * its box's rule, leading checks and the rule's plain outcome.  Pure
 * computation; the datapath copies the result into its map. */
#pragma once

#include <stddef.h>

#include "pktclass.h"
#include "classifier/compile.h"
#include "classifier/tree.h"

/* The entries for t->leaf[0 .. t->nleaf): *ret gets t->nleaf entries (NULL
 * when there are none).  outs: the rules' outcomes with their counter slots
 * (rs->nrules + 1).  Returns 0, -EINVAL (a leaf names a box or rule rs does
 * not have) or -ENOMEM. */
int pc_leaf_build(const struct pc_ruleset *rs, const struct pc_rule_out *outs,
		  const struct pc_tree *t, struct pc_leaf_ent **ret);
