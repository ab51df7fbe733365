/* SPDX-License-Identifier: GPL-2.0-only */
/* slots.c - counter slot names: stable by (kind, name) across generations
 * and restarts, through the pinned "slots" table.
 *
 * The daemon keeps a mirror of the table.  Preparing a generation names
 * the slots of its new rules and classes in the mirror only
 * (pc_dp_slots_assign: the generation's own outcome table gets the slot
 * numbers); its commit writes the changed records into the pinned table
 * (pc_dp_slots_write) and frees the names that no generation uses any more
 * (pc_dp_slots_release).  A generation freed before it went live gives its
 * new names back the same way, so a rejected config leaves nothing in the
 * table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "datapath/internal.h"
#include "datapath/stats.h"

/* ---- (kind, name) -> slot, open addressing over the mirror ---------------- */
struct name_ix {
	uint32_t *v;      /* slot + 1, 0 = empty */
	size_t mask;
};

static uint64_t name_hash(uint32_t kind, const char *s)
{
	uint64_t h = 1469598103934665603ull ^ kind;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static int ix_init(struct name_ix *ix, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap <<= 1;
	ix->v = calloc(cap, sizeof(*ix->v));
	ix->mask = cap - 1;
	return ix->v ? 0 : -ENOMEM;
}

static uint32_t *ix_slot(const struct pc_dp *dp, const struct name_ix *ix, uint32_t kind,
			 const char *name)
{
	size_t i = name_hash(kind, name) & ix->mask;

	while (ix->v[i]) {
		const struct pc_slot_name *sn = &dp->slots[ix->v[i] - 1];

		if (sn->kind == kind && strcmp(sn->name, name) == 0)
			break;
		i = (i + 1) & ix->mask;
	}
	return &ix->v[i];
}

static int ix_of_mirror(const struct pc_dp *dp, struct name_ix *ix, size_t extra)
{
	int r = ix_init(ix, dp->mirror_cap + extra);

	if (r < 0)
		return r;
	for (uint32_t s = PC_SLOT_FIRST; s < dp->mirror_cap; s++)
		if (dp->slots[s].kind != PC_SLOT_FREE)
			*ix_slot(dp, ix, dp->slots[s].kind, dp->slots[s].name) = s + 1;
	return 0;
}

struct pc_slot_ix {
	struct name_ix ix;
};

int pc_dp_slot_ix_new(const struct pc_dp *dp, struct pc_slot_ix **ret)
{
	struct pc_slot_ix *x = calloc(1, sizeof(*x));
	int r;

	if (!x)
		return -ENOMEM;
	r = ix_of_mirror(dp, &x->ix, 0);
	if (r < 0) {
		free(x);
		return r;
	}
	*ret = x;
	return 0;
}

int64_t pc_dp_slot_ix_find(const struct pc_dp *dp, const struct pc_slot_ix *x, uint32_t kind,
			   const char *name)
{
	uint32_t e = *ix_slot(dp, &x->ix, kind, name);

	if (e)
		return e - 1;
	/* the reserved slots are not in the index */
	for (uint32_t s = 0; s < PC_SLOT_FIRST; s++)
		if (dp->slots[s].kind == kind && strcmp(dp->slots[s].name, name) == 0)
			return s;
	return -1;
}

void pc_dp_slot_ix_free(struct pc_slot_ix *x)
{
	if (x)
		free(x->ix.v);
	free(x);
}

/* ---- the mirror ---------------------------------------------------------------- */

int pc_dp_slots_mirror(struct pc_dp *dp, uint32_t cap)
{
	struct pc_slot_name *v;
	bool *d, *rd;

	if (cap <= dp->mirror_cap)
		return 0;
	v = realloc(dp->slots, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	dp->slots = v;
	d = realloc(dp->slot_dirty, cap * sizeof(*d));
	if (!d)
		return -ENOMEM;
	dp->slot_dirty = d;
	rd = realloc(dp->rec_dirty, cap * sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	dp->rec_dirty = rd;
	memset(v + dp->mirror_cap, 0, (size_t)(cap - dp->mirror_cap) * sizeof(*v));
	memset(d + dp->mirror_cap, 0, cap - dp->mirror_cap);
	memset(rd + dp->mirror_cap, 0, cap - dp->mirror_cap);
	dp->mirror_cap = cap;
	return 0;
}

static void slot_set(struct pc_slot_name *sn, uint32_t kind, const char *name, const char *class_name,
		     uint32_t rule_index)
{
	memset(sn, 0, sizeof(*sn));
	sn->kind = kind;
	snprintf(sn->name, sizeof(sn->name), "%s", name);
	snprintf(sn->class_name, sizeof(sn->class_name), "%s", class_name);
	sn->rule_index = rule_index;
}

int pc_dp_slots_fresh(struct pc_dp *dp)
{
	int r = pc_dp_slots_mirror(dp, dp->cs->slot_cap);

	if (r < 0)
		return r;
	slot_set(&dp->slots[PC_SLOT_DEFAULT], PC_SLOT_RULE, "(default)", "", 0);
	slot_set(&dp->slots[PC_SLOT_MALFORMED], PC_SLOT_RULE, "(malformed)", "", PC_TRACE_NO_RULE);
	slot_set(&dp->slots[PC_SLOT_WOULD_DROP], PC_SLOT_RESERVED, "(would drop)", "", 0);
	for (uint32_t s = 0; s < PC_SLOT_FIRST; s++)
		dp->rec_dirty[s] = true;
	return 0;
}

int pc_dp_slots_read(struct pc_dp *dp, int fd, uint32_t cap)
{
	int r = pc_dp_slots_mirror(dp, cap);

	if (r < 0)
		return r;
	r = pc_map_read_array(fd, cap, sizeof(*dp->slots), dp->slots);
	if (r < 0)
		return r;
	for (uint32_t s = 0; s < cap; s++) {
		dp->slots[s].name[PC_NAME_MAX - 1] = '\0';
		dp->slots[s].class_name[PC_NAME_MAX - 1] = '\0';
		/* a free slot may still hold what an earlier run counted */
		dp->slot_dirty[s] = dp->slots[s].kind == PC_SLOT_FREE;
	}
	return 0;
}

/* ---- assigning a generation's slots ------------------------------------------- */

struct slot_alloc {
	struct pc_dp *dp;
	struct pc_gen *g;
	struct name_ix ix;
	uint32_t next;    /* where to look for a free slot */
};

static int64_t slot_get(struct slot_alloc *a, uint32_t kind, const char *name)
{
	struct pc_dp *dp = a->dp;
	uint32_t *e = ix_slot(dp, &a->ix, kind, name), s;
	int r;

	if (*e) {
		s = *e - 1;
		goto out;
	}
	while (a->next < dp->mirror_cap && dp->slots[a->next].kind != PC_SLOT_FREE)
		a->next++;
	if (a->next >= dp->mirror_cap) {
		if (dp->mirror_cap >= UINT32_MAX / 2)
			return -ENOSPC;
		r = pc_dp_slots_mirror(dp, 2 * dp->mirror_cap);
		if (r < 0)
			return r;
	}
	s = a->next++;
	slot_set(&dp->slots[s], kind, name, "", 0);
	dp->rec_dirty[s] = true;
	*e = s + 1;
	a->g->fresh[a->g->nfresh++] = s;
out:
	if (s > a->g->max_slot)
		a->g->max_slot = s;
	return s;
}

static int assign_all(struct slot_alloc *a, const struct pc_ruleset *rs)
{
	struct pc_gen *g = a->g;
	int64_t s;

	for (uint32_t i = 0; i < rs->nrules; i++) {
		s = slot_get(a, PC_SLOT_RULE, rs->rule_name[i]);
		if (s < 0)
			return s;
		g->outs[i].slot = s;
	}
	g->outs[rs->nrules].slot = PC_SLOT_DEFAULT;
	for (uint32_t i = 0; i <= rs->nrules; i++) {
		s = slot_get(a, PC_SLOT_CLASS, rs->class_name[i]);
		if (s < 0)
			return s;
		g->outs[i].class_slot = s;
	}
	for (size_t i = 0; i < a->dp->ndecl; i++) {
		s = slot_get(a, PC_SLOT_CLASS, a->dp->decl[i]);
		if (s < 0)
			return s;
		g->classes[g->nclasses++] = s;
	}
	return 0;
}

static void unname(struct pc_dp *dp, const uint32_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&dp->slots[s[i]], 0, sizeof(dp->slots[0]));
		dp->rec_dirty[s[i]] = true;
	}
}

int pc_dp_slots_assign(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs)
{
	size_t want = 2 * ((size_t)rs->nrules + 1) + dp->ndecl;
	struct slot_alloc a = { .dp = dp, .g = g, .next = PC_SLOT_FIRST };
	int r;

	g->fresh = calloc(want, sizeof(*g->fresh));
	g->classes = calloc(dp->ndecl + 1, sizeof(*g->classes));
	if (!g->fresh || !g->classes)
		return -ENOMEM;
	g->max_slot = PC_SLOT_MALFORMED;
	r = ix_of_mirror(dp, &a.ix, want);
	if (r >= 0)
		r = assign_all(&a, rs);
	free(a.ix.v);
	if (r < 0) {
		unname(dp, g->fresh, g->nfresh);
		g->nfresh = 0;
	}
	return r;
}

/* ---- commit ---------------------------------------------------------------- */

static void rec_update(struct pc_dp *dp, uint32_t s, const char *class_name, uint32_t rule_index)
{
	struct pc_slot_name *sn = &dp->slots[s];

	if (sn->rule_index == rule_index && strcmp(sn->class_name, class_name) == 0)
		return;
	sn->rule_index = rule_index;
	snprintf(sn->class_name, sizeof(sn->class_name), "%s", class_name);
	dp->rec_dirty[s] = true;
}

void pc_dp_slots_apply(struct pc_dp *dp, const struct pc_gen *g)
{
	for (uint32_t i = 0; i <= g->nrules; i++)
		rec_update(dp, g->outs[i].slot, dp->slots[g->outs[i].class_slot].name, i);
}

static void keep_gen(const struct pc_gen *g, bool *keep, uint32_t cap)
{
	if (!g)
		return;
	for (uint32_t i = 0; i <= g->nrules; i++) {
		if (g->outs[i].slot < cap)
			keep[g->outs[i].slot] = true;
		if (g->outs[i].class_slot < cap)
			keep[g->outs[i].class_slot] = true;
	}
	for (uint32_t i = 0; i < g->nclasses; i++)
		if (g->classes[i] < cap)
			keep[g->classes[i]] = true;
}

/* keep[] also every name but the fresh ones of gone. */
static void keep_all_but(const struct pc_dp *dp, bool *keep, const struct pc_gen *gone)
{
	_cleanup_free_ bool *took = calloc(dp->mirror_cap + 1, sizeof(*took));

	for (uint32_t i = 0; took && gone && i < gone->nfresh; i++)
		took[gone->fresh[i]] = true;
	for (uint32_t s = 0; s < dp->mirror_cap; s++)
		keep[s] = keep[s] || !took || !took[s];
}

void pc_dp_slots_release(struct pc_dp *dp, bool dirty, const struct pc_gen *gone)
{
	_cleanup_free_ bool *keep = calloc(dp->mirror_cap + 1, sizeof(*keep));

	if (!keep)
		return; /* names stay until the next commit: harmless */
	keep_gen(dp->cur, keep, dp->mirror_cap);
	for (size_t i = 0; i < dp->npending; i++)
		keep_gen(dp->pending[i], keep, dp->mirror_cap);
	/* before our first commit the live names are an earlier run's (or
	 * none): only what gone took goes */
	if (!dp->cur)
		keep_all_but(dp, keep, gone);
	for (uint32_t s = PC_SLOT_FIRST; s < dp->mirror_cap; s++) {
		if (keep[s] || dp->slots[s].kind == PC_SLOT_FREE)
			continue;
		memset(&dp->slots[s], 0, sizeof(dp->slots[s]));
		dp->rec_dirty[s] = true;
		dp->slot_dirty[s] = dirty;
	}
}

int pc_dp_slots_write(struct pc_dp *dp, int fd, uint32_t cap, bool all)
{
	_cleanup_free_ uint32_t *keys = NULL;
	_cleanup_free_ struct pc_slot_name *vals = NULL;
	__u32 n = 0;

	if (cap > dp->mirror_cap)
		return -EINVAL;
	for (uint32_t s = 0; s < cap; s++)
		n += all || dp->rec_dirty[s];
	if (!n)
		return 0;
	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	if (!keys || !vals)
		return -ENOMEM;
	n = 0;
	for (uint32_t s = 0; s < cap; s++)
		if (all || dp->rec_dirty[s]) {
			keys[n] = s;
			vals[n++] = dp->slots[s];
		}
	if (bpf_map_update_batch(fd, keys, vals, &n, NULL) < 0)
		return -errno;
	for (uint32_t s = 0; s < cap; s++)
		dp->rec_dirty[s] = false;
	return 0;
}

int pc_dp_slots_carried(const struct pc_gen *g, uint32_t cap, uint32_t **ret, uint32_t *n)
{
	_cleanup_free_ bool *use = calloc(cap + 1, sizeof(*use));
	uint32_t *v, m = 0;

	if (!use)
		return -ENOMEM;
	keep_gen(g, use, cap);
	for (uint32_t s = 0; s < PC_SLOT_FIRST; s++)
		use[s] = true; /* the reserved slots */
	for (uint32_t i = 0; i < g->nfresh; i++)
		if (g->fresh[i] < cap)
			use[g->fresh[i]] = false;
	for (uint32_t s = 0; s < cap; s++)
		m += use[s];
	v = calloc(m + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	m = 0;
	for (uint32_t s = 0; s < cap; s++)
		if (use[s])
			v[m++] = s;
	*ret = v;
	*n = m;
	return 0;
}
