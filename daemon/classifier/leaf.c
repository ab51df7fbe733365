/* SPDX-License-Identifier: GPL-2.0-only */
/* leaf.c - leaf entries: what the datapath's leaf scan reads of each box. */
#include <errno.h>
#include <stdlib.h>

#include "classifier/leaf.h"
#include "lib/util.h"

#define ETH_P_IPV4 0x0800u
#define ETH_P_IPV6 0x86ddu

/* A leaf entry carries its rule's outcome when that is plain pass or drop. */
static void leaf_out(struct pc_leaf_ent *e, const struct pc_rule_out *o)
{
	e->slot = o->slot;
	e->class_slot = o->class_slot;
	e->action = o->action;
	if (o->flags || (o->action != PC_ACT_PASS && o->action != PC_ACT_DROP))
		e->flags |= PC_LE_FULL_OUT;
}

/* An "l3 is IPv4" or "l3 is IPv6" check: a flag in the entry. */
static uint8_t leaf_l3_flag(const struct pc_check *c)
{
	if (c->word != PC_W_L3 || c->op != PC_OP_RANGE || c->a != c->b)
		return 0;
	return c->a == ETH_P_IPV4 ? PC_LE_IPV4 : c->a == ETH_P_IPV6 ? PC_LE_IPV6 : 0;
}

/* The box's checks, as many as the entry holds; PC_LE_MORE if not all. */
static void leaf_checks(struct pc_leaf_ent *e, const struct pc_box *b)
{
	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];
		uint8_t l3 = leaf_l3_flag(c);

		if (l3 && !(e->flags & (PC_LE_IPV4 | PC_LE_IPV6)))
			e->flags |= l3;
		else if (c->op == PC_OP_RANGE && e->n < PC_LEAF_CHECKS) {
			e->word[e->n] = c->word;
			e->r[e->n].lo = c->a;
			e->r[e->n].hi = c->b;
			e->n++;
		} else
			e->flags |= PC_LE_MORE;
	}
}

int pc_leaf_build(const struct pc_ruleset *rs, const struct pc_rule_out *outs,
		  const struct pc_tree *t, struct pc_leaf_ent **ret)
{
	_cleanup_free_ struct pc_leaf_ent *e = NULL;

	*ret = NULL;
	if (!t->nleaf)
		return 0;
	e = calloc(t->nleaf, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < t->nleaf; i++) {
		const struct pc_box *b;

		if (t->leaf[i] >= rs->nboxes)
			return -EINVAL;
		b = &rs->boxes[t->leaf[i]];
		if (b->rule > rs->nrules)
			return -EINVAL;
		e[i].box = t->leaf[i];
		e[i].rule = b->rule;
		leaf_checks(&e[i], b);
		leaf_out(&e[i], &outs[b->rule]);
	}
	*ret = TAKE_PTR(e);
	return 0;
}
