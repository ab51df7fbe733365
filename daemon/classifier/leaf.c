/* SPDX-License-Identifier: GPL-2.0-only */
/* leaf.c - leaf entries: what the datapath's leaf scan reads of each box
 * (bpf/pktclass.h, struct pc_leaf_ent and struct pc_leaf_ext). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/leaf.h"
#include "lib/u64map.h"
#include "lib/util.h"

#define NONE UINT32_MAX

/* ---- how common each check is ------------------------------------------------- */

static uint64_t chk_key(const struct pc_check *c)
{
	return ((uint64_t)c->word << 58 ^ (uint64_t)c->a << 26 ^ c->b) | 1;
}

/* RANGE checks are ranked by how common they are in the rule set: a check
 * most boxes share (an IPv6 /32, proto == 6) tells them apart less than one
 * few have (a /24). */
static bool chk_ranked(const struct pc_check *c)
{
	return c->op == PC_OP_RANGE;
}

/* How many boxes have each RANGE check. */
static int chk_count_make(const struct pc_ruleset *rs, struct pc_u64map *cc)
{
	for (size_t i = 0; i < rs->nboxes; i++)
		for (uint32_t c = 0; c < rs->boxes[i].nchecks && c < PC_BOX_CHECKS; c++) {
			const struct pc_check *k = &rs->boxes[i].c[c];
			uint32_t *n;

			if (!chk_ranked(k))
				continue;
			n = pc_u64map_get(cc, chk_key(k));
			if (!n)
				return -ENOMEM;
			(*n)++;
		}
	return 0;
}

static uint32_t chk_common(const struct pc_u64map *cc, const struct pc_check *c)
{
	const uint32_t *n = chk_ranked(c) ? pc_u64map_find(cc, chk_key(c)) : NULL;

	return n ? *n : 0;
}

/* ---- one box ------------------------------------------------------------------ */

/* An "l3 is IPv4" or "l3 is IPv6" check: a flag in the entry. */
static uint8_t leaf_l3_flag(const struct pc_check *c)
{
	if (c->word != PC_W_L3 || c->op != PC_OP_RANGE || c->a != c->b)
		return 0;
	return c->a == PC_ETH_P_IP ? PC_LE_IPV4 : c->a == PC_ETH_P_IPV6 ? PC_LE_IPV6 : 0;
}

/* Which of b's checks go inline: the PC_LEAF_CHECKS least common RANGE
 * checks (ties: the earlier), the first l3 check being a flag. */
static void pick_inline(const struct pc_box *b, const struct pc_u64map *cc, bool *inl)
{
	uint32_t idx[PC_BOX_CHECKS], com[PC_BOX_CHECKS], n = 0;

	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		inl[i] = false;
		if (b->c[i].op != PC_OP_RANGE || leaf_l3_flag(&b->c[i]))
			continue;
		idx[n] = i;
		com[n++] = chk_common(cc, &b->c[i]);
	}
	for (uint32_t i = 1; i < n; i++)  /* insertion sort by commonness, stable */
		for (uint32_t j = i; j > 0 && com[j - 1] > com[j]; j--) {
			uint32_t t = com[j], u = idx[j];

			com[j] = com[j - 1];
			idx[j] = idx[j - 1];
			com[j - 1] = t;
			idx[j - 1] = u;
		}
	for (uint32_t i = 0; i < n && i < PC_LEAF_CHECKS; i++)
		inl[idx[i]] = true;
}

/* A check that the entry does not hold, into x. */
static void ext_add(struct pc_leaf_ext *x, const struct pc_check *c)
{
	if (c->op == PC_OP_RANGE && x->n < PC_LEAF_XCHECKS) {
		x->word[x->n] = c->word;
		x->r[x->n].lo = c->a;
		x->r[x->n].hi = c->b;
		x->n++;
	} else if (c->op == PC_OP_MASK && c->word == PC_W_TCPFLAGS && !(x->flags & PC_LX_TCPFL) &&
		   c->a <= 0xffff && c->b <= 0xffff) {
		x->flags |= PC_LX_TCPFL;
		x->tf_mask = (uint16_t)c->a;
		x->tf_value = (uint16_t)c->b;
	} else if (c->op == PC_OP_ANY && c->word == PC_W_IFBITS && !(x->flags & PC_LX_IFANY)) {
		x->flags |= PC_LX_IFANY;
		x->if_any = c->a;
	} else if (c->op == PC_OP_MASK && c->word == PC_W_SETS && c->a == c->b &&
		   !(x->flags & PC_LX_SETS)) {
		x->flags |= PC_LX_SETS; /* the set references looked up before the walk */
		x->sets = c->a;
	} else
		x->flags |= PC_LX_MORE;
}

/* The entry's checks (in the box's order) and, false when not needed, the
 * rest in x. */
static bool box_encode(const struct pc_box *b, const struct pc_u64map *cc, struct pc_leaf_ent *e,
		       struct pc_leaf_ext *x)
{
	bool inl[PC_BOX_CHECKS], ext = false;

	memset(x, 0, sizeof(*x));
	pick_inline(b, cc, inl);
	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];
		uint8_t l3 = leaf_l3_flag(c);

		if (l3 && !(e->flags & (PC_LE_IPV4 | PC_LE_IPV6))) {
			e->flags |= l3;
		} else if (inl[i]) {
			e->word[e->n] = c->word;
			e->r[e->n].lo = c->a;
			e->r[e->n].hi = c->b;
			e->n++;
		} else {
			ext_add(x, c);
			ext = true;
		}
	}
	return ext;
}

/* ---- the tables --------------------------------------------------------------- */

/* A leaf entry carries its rule's outcome when that is plain pass or drop. */
static void leaf_out(struct pc_leaf_ent *e, const struct pc_rule_out *o)
{
	e->slot = o->slot;
	e->class_slot = o->class_slot;
	e->action = o->action;
	if (o->flags || (o->action != PC_ACT_PASS && o->action != PC_ACT_DROP))
		e->flags |= PC_LE_FULL_OUT;
}

/* The entry template of box bi, its extension and whole box appended when
 * it needs them. */
static int box_add(struct pc_leaf_tab *lt, const struct pc_ruleset *rs,
		   const struct pc_rule_out *outs, const struct pc_u64map *cc,
		   uint32_t bi, struct pc_leaf_ent *e, size_t *cap_ext, size_t *cap_box)
{
	const struct pc_box *b = &rs->boxes[bi];
	struct pc_leaf_ext x;
	int r;

	memset(e, 0, sizeof(*e));
	e->rule = b->rule;
	e->box = bi;
	leaf_out(e, &outs[b->rule]);
	if (!box_encode(b, cc, e, &x))
		return 0;
	if (x.flags & PC_LX_MORE) {
		r = pc_grow((void **)&lt->box, cap_box, lt->nbox + 1, sizeof(*lt->box));
		if (r < 0)
			return r;
		lt->box[lt->nbox] = *b;
		x.box = (uint32_t)lt->nbox++;
	}
	r = pc_grow((void **)&lt->ext, cap_ext, lt->next + 1, sizeof(*lt->ext));
	if (r < 0)
		return r;
	lt->ext[lt->next] = x;
	e->flags |= PC_LE_EXT;
	e->box = (uint32_t)lt->next++;
	return 0;
}

int pc_leaf_build(const struct pc_ruleset *rs, const struct pc_rule_out *outs,
		  const struct pc_tree *t, struct pc_leaf_tab *lt)
{
	_cleanup_free_ uint32_t *tmpl = NULL;   /* box -> template + 1 */
	_cleanup_free_ struct pc_leaf_ent *te = NULL;
	struct pc_u64map cc = { 0 };
	size_t cap_ext = 0, cap_box = 0, nt = 0;
	int r;

	memset(lt, 0, sizeof(*lt));
	if (!t->nleaf)
		return 0;
	tmpl = calloc(rs->nboxes + 1, sizeof(*tmpl));
	te = calloc(rs->nboxes + 1, sizeof(*te));
	lt->ent = calloc(t->nleaf, sizeof(*lt->ent));
	r = tmpl && te && lt->ent ? chk_count_make(rs, &cc) : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < t->nleaf; i++) {
		uint32_t bi = t->leaf[i];

		if (bi >= rs->nboxes || rs->boxes[bi].rule > rs->nrules) {
			r = -EINVAL;
			break;
		}
		if (!tmpl[bi]) {
			r = box_add(lt, rs, outs, &cc, bi, &te[nt], &cap_ext, &cap_box);
			tmpl[bi] = (uint32_t)++nt;
		}
		lt->ent[i] = te[tmpl[bi] - 1];
	}
	pc_u64map_free(&cc);
	if (r < 0) {
		pc_leaf_tab_clear(lt);
		return r;
	}
	lt->nent = t->nleaf;
	return 0;
}

void pc_leaf_tab_clear(struct pc_leaf_tab *lt)
{
	free(lt->ent);
	free(lt->ext);
	free(lt->box);
	memset(lt, 0, sizeof(*lt));
}
