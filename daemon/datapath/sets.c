/* SPDX-License-Identifier: GPL-2.0-only */
/* sets.c - the sets of the live generation and of the one being prepared:
 * their elements, their lookup structures and element stores in the pool,
 * and the directories that the classifiers read (pktclass.h, "sets";
 * daemon/datapath/README.md, "Sets").
 *
 * A set is an object shared by every directory that holds it unchanged.
 * A run-time change makes a new object of the set (copy on write of the
 * blocks on the way to what changed), a new directory, and publishes it in
 * the live generation's slot: one 4-byte store.  A reload stages a new
 * directory in the other slot, which the new generation's classifier reads;
 * the old one is released once the jump tables point at the new
 * generation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "config/config.h"
#include "datapath/internal.h"
#include "datapath/metrics.h"
#include "datapath/setpool.h"
#include "datapath/setstore.h"
#include "datapath/settrie.h"

struct set_obj {
	int refs;
	bool owns;                 /* its blocks are its own, not a pending
				    * transaction's */
	char name[PC_SET_NAME_MAX];
	uint32_t type, flags;
	struct pc_set_elems elems; /* sorted, no duplicates */
	uint64_t lens[2][3];       /* IPv4, IPv6: lengths that may be there */
	struct pc_set_root root;
	struct pc_store store;
};

struct setstate {
	struct set_obj **v;
	size_t n;
	uint32_t dir;              /* its directory block, 0: none */
};

struct pc_sets {
	struct pc_pool *pool;
	struct setstate live;      /* read through head.dir[live_slot] */
	struct setstate other;     /* adopted from the other slot, until the
				    * first commit */
	struct setstate staged;
	unsigned live_slot, staged_slot;
	bool staging;
	bool staged_published;     /* head.dir[staged_slot] is staged.dir */
	uint32_t staged_prev;      /* head.dir[staged_slot] before staging */
	struct pc_pool_txn txn;    /* of the staging */
	uint64_t version;
	int stale_slot;            /* to be emptied after a grace period, -1 */
	bool stale_armed;          /* the running grace period began after
				    * the commit that made it stale */
	bool adopt_failed;         /* an adopted pool did not add up */
};

/* ---- objects ------------------------------------------------------------------------ */
static void obj_unref(struct pc_sets *s, struct set_obj *o)
{
	if (!o || --o->refs > 0)
		return;
	if (o->owns) {
		if (o->type == PC_SET_PREFIX) {
			pc_trie_free(s->pool, 4, o->root.a);
			pc_trie_free(s->pool, 6, o->root.b);
		} else if (o->root.a)
			pc_pool_free(s->pool, o->root.a, PC_BITMAP_ORDER);
		pc_store_free(s->pool, &o->store);
	}
	pc_set_elems_clear(&o->elems);
	free(o);
}

static struct set_obj *obj_new(const char *name, uint32_t type, uint32_t flags)
{
	struct set_obj *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->refs = 1;
	strscpy_ok(o->name, sizeof(o->name), name);
	o->type = type;
	o->flags = flags;
	return o;
}

static void state_clear(struct pc_sets *s, struct setstate *st)
{
	for (size_t i = 0; i < st->n; i++)
		obj_unref(s, st->v[i]);
	free(st->v);
	*st = (struct setstate){};
}

static struct set_obj *state_find(const struct setstate *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->v[i]->name, name))
			return st->v[i];
	return NULL;
}

/* The elements of one family: a slice of the sorted list. */
static struct pc_trie_src family_src(const struct set_obj *o, uint8_t family)
{
	struct pc_set_elem lo = { .family = family }, hi = { .family = (uint8_t)(family + 1) };
	size_t i = pc_set_elem_lower_bound(o->elems.v, o->elems.n, &lo);
	size_t j = pc_set_elem_lower_bound(o->elems.v, o->elems.n, &hi);
	struct pc_trie_src s = { .v = o->elems.v + i, .n = j - i, .family = family };

	memcpy(s.lens, o->lens[family == 6], sizeof(s.lens));
	return s;
}

static void obj_lens(struct set_obj *o)
{
	memset(o->lens, 0, sizeof(o->lens));
	for (uint8_t f = 4; f <= 6; f += 2) {
		struct pc_trie_src s = family_src(o, f);

		pc_trie_lens(s.v, s.n, o->lens[f == 6]);
	}
}

/* The lookup structure and store of o's elements, anew. */
static int obj_build(struct pc_pool_txn *txn, struct set_obj *o)
{
	struct pc_trie_src s4, s6;
	int r;

	obj_lens(o);
	s4 = family_src(o, 4);
	s6 = family_src(o, 6);
	if (o->type == PC_SET_PREFIX) {
		r = pc_trie_build(txn, &s4, &o->root.a);
		if (r >= 0)
			r = pc_trie_build(txn, &s6, &o->root.b);
	} else
		r = pc_bitmap_build(txn, o->elems.v, o->elems.n, &o->root.a);
	return r < 0 ? r : pc_store_build(txn, o->elems.v, o->elems.n, &o->store);
}

/* o (the elements now) from old (of the elements before): keys are the
 * elements either has and the other not, stored those and the ones whose
 * flags changed. */
static int obj_update(struct pc_pool_txn *txn, struct set_obj *o, const struct set_obj *old,
		      const struct pc_set_elems *keys, const struct pc_set_elems *stored)
{
	struct pc_trie_src s4, s6;
	int r = 0;

	/* what was there, and what came: a superset of the lengths */
	memcpy(o->lens, old->lens, sizeof(o->lens));
	for (size_t i = 0; i < keys->n; i++)
		pc_trie_lens(&keys->v[i], 1, o->lens[keys->v[i].family == 6]);
	s4 = family_src(o, 4);
	s6 = family_src(o, 6);
	o->root = old->root;
	if (keys->n && o->type == PC_SET_PREFIX) {
		r = pc_trie_update(txn, &s4, old->root.a, keys->v, keys->n, &o->root.a);
		if (r >= 0)
			r = pc_trie_update(txn, &s6, old->root.b, keys->v, keys->n, &o->root.b);
	} else if (keys->n) {
		pc_pool_txn_drop(txn, old->root.a, PC_BITMAP_ORDER);
		r = pc_bitmap_build(txn, o->elems.v, o->elems.n, &o->root.a);
	}
	return r < 0 ? r : pc_store_update(txn, &old->store, o->elems.v, o->elems.n, stored->v,
					   stored->n, &o->store);
}

static uint64_t obj_bytes(const struct pc_sets *s, const struct set_obj *o)
{
	uint64_t a = 0, b = 0;

	if (o->type == PC_SET_PREFIX) {
		pc_trie_size(s->pool, 4, o->root.a, &a);
		pc_trie_size(s->pool, 6, o->root.b, &b);
	} else if (o->root.a)
		a = PC_SET_BITMAP_SIZE;
	if (o->store.index)
		b += (uint64_t)o->store.nchunks * (PC_SET_CHUNK_SIZE + 4);
	return a + b;
}

/* ---- element lists ------------------------------------------------------------------ */
/* a merged with b (both sorted, no duplicates): flags of both or-ed. */
static int elems_union(const struct pc_set_elems *a, const struct pc_set_elems *b,
		       struct pc_set_elems *out)
{
	size_t i = 0, j = 0;

	out->n = 0;
	if (pc_grow((void **)&out->v, &out->cap, a->n + b->n + 1, sizeof(*out->v)) < 0)
		return -ENOMEM;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : pc_set_elem_cmp(&a->v[i], &b->v[j]);

		if (c < 0)
			out->v[out->n++] = a->v[i++];
		else if (c > 0)
			out->v[out->n++] = b->v[j++];
		else {
			out->v[out->n] = a->v[i++];
			out->v[out->n++].flags |= b->v[j++].flags;
		}
	}
	return 0;
}

/* The elements of a that b lacks, and of b that a lacks (sorted); with
 * flags, also those in both with other flags (in out only, as in a). */
static int elems_diff(const struct pc_set_elems *a, const struct pc_set_elems *b,
		      struct pc_set_elems *out, size_t *only_a, size_t *only_b, bool flags)
{
	size_t i = 0, j = 0;

	*only_a = *only_b = 0;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : pc_set_elem_cmp(&a->v[i], &b->v[j]);

		if (c == 0) {
			if (flags && out && a->v[i].flags != b->v[j].flags &&
			    pc_set_elems_add(out, &a->v[i]) < 0)
				return -ENOMEM;
			i++, j++;
			continue;
		}
		if (out && pc_set_elems_add(out, c < 0 ? &a->v[i] : &b->v[j]) < 0)
			return -ENOMEM;
		if (c < 0)
			i++, (*only_a)++;
		else
			j++, (*only_b)++;
	}
	return 0;
}

static bool elems_same(const struct pc_set_elems *a, const struct pc_set_elems *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (pc_set_elem_cmp(&a->v[i], &b->v[i]) || a->v[i].flags != b->v[i].flags)
			return false;
	return true;
}

/* ---- directories -------------------------------------------------------------------- */
static size_t dir_size(size_t n)
{
	return sizeof(struct pc_set_dir) + n * (sizeof(struct pc_set_root) + sizeof(struct pc_set_cat));
}

static int dir_write(struct pc_sets *s, struct pc_pool_txn *txn, struct setstate *st)
{
	struct pc_set_root *root;
	struct pc_set_cat *cat;
	struct pc_set_dir *d;
	uint32_t ref;
	int r;

	r = pc_pool_txn_alloc(txn, pc_pool_order(dir_size(st->n)), &ref);
	if (r < 0)
		return r;
	d = pc_pool_ptr(s->pool, ref);
	root = (void *)(d + 1);
	cat = (void *)(root + st->n);
	d->nsets = (uint32_t)st->n;
	d->version = ++s->version;
	for (size_t i = 0; i < st->n; i++) {
		const struct set_obj *o = st->v[i];

		root[i] = o->root;
		strscpy_ok(cat[i].name, sizeof(cat[i].name), o->name);
		cat[i].type = o->type;
		cat[i].flags = o->flags;
		cat[i].nelems = (uint32_t)o->elems.n;
		cat[i].index = o->store.index;
		cat[i].nchunks = o->store.nchunks;
	}
	d->magic = PC_SET_DIR_MAGIC;
	st->dir = ref;
	return 0;
}

static void dir_drop(struct pc_pool_txn *txn, const struct setstate *st)
{
	if (st->dir)
		pc_pool_txn_drop(txn, st->dir, pc_pool_order(dir_size(st->n)));
}

static void dir_free(struct pc_sets *s, const struct setstate *st)
{
	if (st->dir)
		pc_pool_free(s->pool, st->dir, pc_pool_order(dir_size(st->n)));
}

/* ---- adopting a pool ----------------------------------------------------------------- */
/* The directory at ref, if it is one: its header. */
static const struct pc_set_dir *dir_at(const struct pc_sets *s, uint32_t ref)
{
	const struct pc_set_dir *d = ref ? pc_pool_ptr(s->pool, ref) : NULL;
	size_t room;

	if (!d || d->magic != PC_SET_DIR_MAGIC || d->nsets > PC_MAX_SETS)
		return NULL;
	room = PC_SET_SEG_SIZE - ((size_t)(ref & PC_SET_UNIT_MASK) << PC_SET_UNIT_SHIFT);
	return dir_size(d->nsets) <= room ? d : NULL;
}

static int obj_mark(struct pc_sets *s, const struct set_obj *o)
{
	int r;

	if (o->type == PC_SET_PREFIX) {
		r = pc_trie_mark(s->pool, 4, o->root.a);
		if (r >= 0)
			r = pc_trie_mark(s->pool, 6, o->root.b);
	} else
		r = o->root.a ? pc_pool_mark(s->pool, o->root.a, PC_BITMAP_ORDER) : 0;
	return r < 0 ? r : pc_store_mark(s->pool, &o->store);
}

/* The state of directory d (at ref), sharing the objects of `with` that
 * are the same (the other slot's directory). */
static int state_adopt(struct pc_sets *s, const struct pc_set_dir *d, uint32_t ref,
		       const struct setstate *with, struct setstate *st)
{
	const struct pc_set_root *root = (const void *)(d + 1);
	const struct pc_set_cat *cat = (const void *)(root + d->nsets);
	int r;

	st->v = calloc(d->nsets ? d->nsets : 1, sizeof(*st->v));
	if (!st->v)
		return -ENOMEM;
	st->dir = ref;
	r = pc_pool_mark(s->pool, ref, pc_pool_order(dir_size(d->nsets)));
	for (uint32_t i = 0; i < d->nsets && r >= 0; i++) {
		struct set_obj *o = with ? state_find(with, cat[i].name) : NULL;

		if (o && o->root.a == root[i].a && o->root.b == root[i].b &&
		    o->store.index == cat[i].index) {
			o->refs++;
			st->v[st->n++] = o;
			continue;
		}
		if (cat[i].type != PC_SET_PREFIX && cat[i].type != PC_SET_PORT)
			return -EPROTO;
		o = obj_new(cat[i].name, cat[i].type, cat[i].flags);
		if (!o)
			return -ENOMEM;
		st->v[st->n++] = o;
		o->owns = true;
		o->root = root[i];
		o->store = (struct pc_store){ .index = cat[i].index, .nchunks = cat[i].nchunks };
		r = obj_mark(s, o);
		if (r >= 0)
			r = pc_store_read(s->pool, &o->store, &o->elems.v, &o->elems.n, &o->elems.cap);
		if (r >= 0 && o->elems.n != cat[i].nelems)
			r = -EPROTO;
		obj_lens(o);
	}
	return r;
}

/* The newer directory is live, the other one is kept until the first
 * commit.  Anything that does not add up: the pool is taken as empty (the
 * elements added at run time are lost; adopt_failed says so). */
static int sets_adopt(struct pc_sets *s)
{
	volatile struct pc_set_head *h = pc_pool_head(s->pool);
	const struct pc_set_dir *d[2] = { dir_at(s, h->dir[0]), dir_at(s, h->dir[1]) };
	unsigned l = d[1] && (!d[0] || d[1]->version > d[0]->version) ? 1 : 0;
	int r = 0;

	pc_pool_reset(s->pool);
	if (d[l]) {
		s->live_slot = l;
		s->version = d[l]->version;
		r = state_adopt(s, d[l], h->dir[l], NULL, &s->live);
		if (r >= 0 && d[!l] && h->dir[!l] != h->dir[l])
			r = state_adopt(s, d[!l], h->dir[!l], &s->live, &s->other);
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* what it could not make sense of is not freed: taken as empty */
		for (size_t i = 0; i < s->live.n; i++)
			s->live.v[i]->owns = false;
		for (size_t i = 0; i < s->other.n; i++)
			s->other.v[i]->owns = false;
		state_clear(s, &s->live);
		state_clear(s, &s->other);
		pc_pool_reset(s->pool);
		s->adopt_failed = true;
	}
	return 0;
}

/* ---- open, close -------------------------------------------------------------------- */
int pc_sets_open(const char *pin_path, struct pc_sets **ret)
{
	struct pc_sets *s = calloc(1, sizeof(*s));
	enum pc_pool_found found = PC_POOL_NONE;
	int r;

	if (!s)
		return -ENOMEM;
	s->stale_slot = -1;
	r = pc_pool_open(pin_path, &s->pool, &found);
	if (r >= 0 && found == PC_POOL_ADOPTED)
		r = sets_adopt(s);
	/* another version's pool: replaced by the first commit with sets */
	if (r >= 0 && found == PC_POOL_UNUSABLE)
		s->adopt_failed = true;
	if (r < 0) {
		pc_sets_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

void pc_sets_close(struct pc_sets *s)
{
	if (!s)
		return;
	if (s->staging)
		pc_sets_abort(s);
	/* nothing is freed: the blocks stay in the pinned pool */
	for (struct setstate *st = &s->live; st <= &s->other; st++)
		for (size_t i = 0; i < st->n; i++)
			st->v[i]->owns = false;
	state_clear(s, &s->live);
	state_clear(s, &s->other);
	pc_pool_close(s->pool);
	free(s);
}

int pc_sets_segs_fd(const struct pc_sets *s)
{
	return pc_pool_present(s->pool) ? pc_pool_segs_fd(s->pool) : -1;
}

int pc_sets_head_fd(const struct pc_sets *s)
{
	return pc_pool_present(s->pool) ? pc_pool_head_fd(s->pool) : -1;
}

bool pc_sets_adopt_failed(const struct pc_sets *s)
{
	return s->adopt_failed;
}

/* ---- staging a generation's sets ------------------------------------------------------- */
/* The elements the new config gives set c: its own, and the run-time ones of
 * the live set when both are dynamic and of one type. */
static int stage_elems(const struct pc_set_cfg *c, const struct set_obj *old,
		       struct pc_set_elems *out, size_t *lost)
{
	struct pc_set_elems rt = {};
	int r;

	*lost = 0;
	for (size_t i = 0; old && i < old->elems.n; i++) {
		struct pc_set_elem e = old->elems.v[i];

		if (!(e.flags & PC_SE_F_RUNTIME))
			continue;
		if (!c->dynamic || old->type != c->type || !(old->flags & PC_SET_F_DYNAMIC)) {
			(*lost)++;
			continue;
		}
		e.flags = PC_SE_F_RUNTIME;
		if (pc_set_elems_add(&rt, &e) < 0) {
			pc_set_elems_clear(&rt);
			return -ENOMEM;
		}
	}
	r = elems_union(&c->elems, &rt, out);
	pc_set_elems_clear(&rt);
	return r;
}

static int change_add(struct pc_set_changes *ch, const char *name, size_t added, size_t removed,
		      size_t elements, size_t lost, bool gone)
{
	struct pc_set_change *v;

	if (!ch)
		return 0;
	v = reallocarray(ch->v, ch->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ch->v = v;
	v[ch->n] = (struct pc_set_change){ .added = added, .removed = removed, .elements = elements,
					   .lost = lost, .gone = gone };
	strscpy_ok(v[ch->n].name, sizeof(v[ch->n].name), name);
	ch->n++;
	return 0;
}

static int stage_one(struct pc_sets *s, const struct pc_set_cfg *c, struct pc_set_changes *ch)
{
	struct set_obj *old = state_find(&s->live, c->name), *o;
	uint32_t flags = c->dynamic ? PC_SET_F_DYNAMIC : 0;
	size_t lost, added, removed;
	int r;

	o = obj_new(c->name, c->type, flags);
	if (!o)
		return -ENOMEM;
	s->staged.v[s->staged.n++] = o;
	r = stage_elems(c, old, &o->elems, &lost);
	if (r < 0)
		return r;
	if (old && old->type == c->type && old->flags == flags && elems_same(&old->elems, &o->elems)) {
		s->staged.v[s->staged.n - 1] = old;
		old->refs++;
		obj_unref(s, o);
		return 0;
	}
	if (old && old->type == c->type)
		r = elems_diff(&o->elems, &old->elems, NULL, &added, &removed, false);
	else
		added = o->elems.n, removed = old ? old->elems.n : 0, r = 0;
	if (r >= 0)
		r = change_add(ch, c->name, added, removed, o->elems.n, lost, false);
	return r < 0 ? r : obj_build(&s->txn, o);
}

void pc_set_changes_clear(struct pc_set_changes *ch)
{
	free(ch->v);
	*ch = (struct pc_set_changes){};
}

int pc_sets_stage(struct pc_sets *s, const struct pc_config *cfg, uint32_t generation,
		  struct pc_set_changes *ch)
{
	volatile struct pc_set_head *h;
	int r = 0;

	if (s->staging)
		pc_sets_abort(s);
	/* no pool is made, and nothing pinned, before a config has sets */
	if (!pc_pool_present(s->pool)) {
		if (!cfg->n_sets)
			return 0;
		r = pc_pool_create(s->pool);
		if (r < 0)
			return r;
	}
	h = pc_pool_head(s->pool);
	/* a slot emptied for the generation before the live one: once no
	 * classifier of that generation can still read it */
	if (s->stale_slot == (int)(generation & 1)) {
		r = pc_sets_sync(s);
		if (r < 0)
			return r;
	}
	pc_pool_txn_begin(s->pool, &s->txn);
	s->staging = true;
	s->staged_slot = generation & 1;
	s->staged_prev = h->dir[s->staged_slot];
	s->staged.v = calloc(cfg->n_sets ? cfg->n_sets : 1, sizeof(*s->staged.v));
	if (!s->staged.v)
		r = -ENOMEM;
	for (size_t i = 0; i < cfg->n_sets && r >= 0; i++)
		r = stage_one(s, &cfg->sets[i], ch);
	for (size_t i = 0; i < s->live.n && r >= 0; i++)
		if (!pc_config_find_set(cfg, s->live.v[i]->name))
			r = change_add(ch, s->live.v[i]->name, 0, s->live.v[i]->elems.n, 0, 0, true);
	if (r >= 0)
		r = dir_write(s, &s->txn, &s->staged);
	if (r < 0) {
		pc_sets_abort(s);
		return r;
	}
	s->staged_published = false;
	return 0;
}

int pc_sets_publish(struct pc_sets *s)
{
	int r;

	if (!s->staging || s->staged_published)
		return 0;
	if (!pc_pool_pinned(s->pool) && s->staged.n) {
		r = pc_pool_pin(s->pool);
		if (r < 0)
			return r;
	}
	pc_pool_publish(s->pool, s->staged_slot, s->staged.dir);
	s->staged_published = true;
	return 0;
}

void pc_sets_abort(struct pc_sets *s)
{
	if (!s->staging)
		return;
	if (s->staged_published)
		pc_pool_publish(s->pool, s->staged_slot, s->staged_prev);
	s->staged_published = false;
	/* the new objects' blocks are the transaction's (they do not own them) */
	pc_pool_txn_abort(&s->txn);
	state_clear(s, &s->staged);
	s->staging = false;
}

/* The jump tables point at the staged generation: the staged sets are the
 * live ones; what only the old directories had goes once no classifier can
 * still read it. */
int pc_sets_commit(struct pc_sets *s)
{
	int r;

	if (!s->staging)
		return 0;
	r = pc_sets_publish(s);
	if (r < 0) {
		pc_sets_abort(s);
		return r;
	}
	for (size_t i = 0; i < s->staged.n; i++)
		s->staged.v[i]->owns = true;
	r = pc_pool_txn_commit(&s->txn);
	if (s->live.dir != s->staged.dir)
		dir_free(s, &s->live);
	if (s->other.dir && s->other.dir != s->staged.dir)
		dir_free(s, &s->other);
	state_clear(s, &s->live);
	state_clear(s, &s->other);
	s->live = s->staged;
	s->staged = (struct setstate){};
	s->live_slot = s->staged_slot;
	s->staging = false;
	s->stale_slot = (int)!s->live_slot;
	s->stale_armed = false;
	return r;
}

/* ---- run-time changes ------------------------------------------------------------------- */
static int op_elems(const struct set_obj *old, enum pc_set_op op, const struct pc_set_elems *in,
		    struct pc_set_elems *out, struct pc_set_result *res)
{
	size_t only_in, only_old;
	int r = 0;

	switch (op) {
	case PC_SET_OP_ADD:
		r = elems_union(&old->elems, in, out);
		break;
	case PC_SET_OP_DEL:
		for (size_t i = 0, j = 0; i < old->elems.n && r >= 0; i++) {
			while (j < in->n && pc_set_elem_cmp(&in->v[j], &old->elems.v[i]) < 0)
				j++;
			if (j < in->n && !pc_set_elem_cmp(&in->v[j], &old->elems.v[i]))
				continue;
			r = pc_set_elems_add(out, &old->elems.v[i]);
		}
		break;
	case PC_SET_OP_LOAD:
		/* the elements, each marked as in the config when it was (a
		 * merge of the two sorted lists) */
		if (pc_grow((void **)&out->v, &out->cap, in->n + 1, sizeof(*out->v)) < 0)
			return -ENOMEM;
		for (size_t i = 0, j = 0; i < in->n; i++) {
			struct pc_set_elem x = in->v[i];
			int c = -1;

			while (j < old->elems.n && (c = pc_set_elem_cmp(&old->elems.v[j], &x)) < 0)
				j++;
			if (j < old->elems.n && c == 0)
				x.flags |= old->elems.v[j].flags & PC_SE_F_CONFIG;
			out->v[out->n++] = x;
		}
		break;
	case PC_SET_OP_FLUSH:
		break;
	}
	if (r < 0)
		return r;
	r = elems_diff(out, &old->elems, NULL, &only_in, &only_old, false);
	res->added = only_in;
	res->removed = only_old;
	res->elements = out->n;
	return r;
}

/* A new live directory of st, with o for old: published, old's blocks o's
 * or dropped in txn. */
static int change_publish(struct pc_sets *s, struct pc_pool_txn *txn, struct set_obj *old,
			  struct set_obj *o)
{
	struct setstate st = s->live;
	int r;

	st.v = malloc((st.n ? st.n : 1) * sizeof(*st.v));
	if (!st.v)
		return -ENOMEM;
	memcpy(st.v, s->live.v, st.n * sizeof(*st.v));
	for (size_t i = 0; i < st.n; i++)
		if (st.v[i] == old)
			st.v[i] = o;
	r = dir_write(s, txn, &st);
	if (r < 0) {
		free(st.v);
		return r;
	}
	pc_pool_publish(s->pool, s->live_slot, st.dir);
	dir_drop(txn, &s->live);
	o->owns = true;
	old->owns = false; /* its blocks are o's now, or dropped in txn */
	free(s->live.v);
	s->live = st;
	obj_unref(s, old);
	return 0;
}

/* The new elements of the set in in (sorted, flags RUNTIME). */
static int change_input(const struct set_obj *old, const struct pc_set_elem *e, size_t n,
			struct pc_set_elems *in)
{
	for (size_t i = 0; i < n; i++) {
		if ((old->type == PC_SET_PORT) != (e[i].family == 0))
			return -EINVAL;
		if (pc_set_elems_add(in, &e[i]) < 0)
			return -ENOMEM;
		in->v[in->n - 1].flags = PC_SE_F_RUNTIME;
	}
	pc_set_elems_normalize(in);
	return 0;
}

/* Few elements added or deleted: found by binary search (keys: those that
 * come or go, stored: those and the ones that only get PC_SE_F_RUNTIME),
 * then applied to the element array in place, which o takes over from
 * old; change_undo() gives it back as it was. */
#define SMALL_CHANGE 64

static int small_diff(const struct set_obj *old, enum pc_set_op op, const struct pc_set_elems *in,
		      struct pc_set_elems *keys, struct pc_set_elems *stored)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct pc_set_elem *x = &in->v[i];
		size_t j = pc_set_elem_lower_bound(old->elems.v, old->elems.n, x);
		const struct pc_set_elem *y = j < old->elems.n && !pc_set_elem_cmp(&old->elems.v[j], x) ?
					      &old->elems.v[j] : NULL;
		struct pc_set_elem e;

		if (op == PC_SET_OP_ADD && !y) {
			if (pc_set_elems_add(keys, x) < 0 || pc_set_elems_add(stored, x) < 0)
				return -ENOMEM;
		} else if (op == PC_SET_OP_ADD && !(y->flags & PC_SE_F_RUNTIME)) {
			e = *y;
			e.flags |= PC_SE_F_RUNTIME;
			if (pc_set_elems_add(stored, &e) < 0)
				return -ENOMEM;
		} else if (op == PC_SET_OP_DEL && y) {
			if (pc_set_elems_add(keys, y) < 0 || pc_set_elems_add(stored, y) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Insert (or, del, remove) each of stored into the sorted array; one that
 * is there already gets its flags. */
static int array_apply(struct pc_set_elems *a, const struct pc_set_elems *stored, bool del)
{
	for (size_t i = 0; i < stored->n; i++) {
		const struct pc_set_elem *x = &stored->v[i];
		size_t j = pc_set_elem_lower_bound(a->v, a->n, x);
		bool there = j < a->n && !pc_set_elem_cmp(&a->v[j], x);

		if (del) {
			if (there)
				memmove(a->v + j, a->v + j + 1, (--a->n - j) * sizeof(*a->v));
			continue;
		}
		if (there) {
			a->v[j].flags = x->flags;
			continue;
		}
		if (pc_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v)) < 0)
			return -ENOMEM;
		memmove(a->v + j + 1, a->v + j, (a->n - j) * sizeof(*a->v));
		a->v[j] = *x;
		a->n++;
	}
	return 0;
}

/* The array as it was before array_apply(a, stored, del): keys went in or
 * out, the others of stored had their RUNTIME flag set. */
static void change_undo(struct pc_set_elems *a, const struct pc_set_elems *keys,
			const struct pc_set_elems *stored, bool del)
{
	if (del) {
		/* the removed elements back: memory for them is there */
		array_apply(a, keys, false);
		return;
	}
	array_apply(a, keys, true);
	for (size_t i = 0; i < stored->n; i++) {
		size_t j = pc_set_elem_lower_bound(a->v, a->n, &stored->v[i]);

		if (j < a->n && !pc_set_elem_cmp(&a->v[j], &stored->v[i]))
			a->v[j].flags &= (uint8_t)~PC_SE_F_RUNTIME;
	}
}

/* The new object's lookup structure, store and directory, published; old
 * released.  Either all of it, or nothing and old as it was. */
static int change_commit(struct pc_sets *s, struct set_obj *old, struct set_obj *o,
			 const struct pc_set_elems *keys, const struct pc_set_elems *stored)
{
	struct pc_pool_txn txn;
	int r;

	pc_pool_txn_begin(s->pool, &txn);
	r = obj_update(&txn, o, old, keys, stored);
	if (r >= 0)
		r = change_publish(s, &txn, old, o);
	if (r < 0) {
		pc_pool_txn_abort(&txn);
		return r;
	}
	return pc_pool_txn_commit(&txn);
}

static int change_small(struct pc_sets *s, struct set_obj *old, enum pc_set_op op,
			const struct pc_set_elems *in, struct pc_set_result *res)
{
	struct pc_set_elems keys = {}, stored = {};
	bool del = op == PC_SET_OP_DEL;
	struct set_obj *o = NULL;
	int r;

	r = small_diff(old, op, in, &keys, &stored);
	if (r >= 0 && stored.n && !(o = obj_new(old->name, old->type, old->flags)))
		r = -ENOMEM;
	if (r >= 0 && o) {
		o->elems = old->elems; /* taken over; given back on failure */
		old->elems = (struct pc_set_elems){};
		r = array_apply(&o->elems, &stored, del);
		if (r >= 0)
			r = change_commit(s, old, o, &keys, &stored);
		if (r < 0) {
			old->elems = o->elems;
			o->elems = (struct pc_set_elems){};
			change_undo(&old->elems, &keys, &stored, del);
			obj_unref(s, o);
		}
	}
	res->added = del ? 0 : keys.n;
	res->removed = del ? keys.n : 0;
	pc_set_elems_clear(&keys);
	pc_set_elems_clear(&stored);
	return r;
}

int pc_sets_change(struct pc_sets *s, const char *name, enum pc_set_op op,
		   const struct pc_set_elem *e, size_t n, struct pc_set_result *res)
{
	struct set_obj *old = state_find(&s->live, name), *o = NULL;
	struct pc_set_elems in = {}, keys = {}, stored = {};
	size_t a, b;
	int r;

	memset(res, 0, sizeof(*res));
	if (!old)
		return -ENOENT;
	if (!(old->flags & PC_SET_F_DYNAMIC))
		return -EPERM;
	r = change_input(old, e, n, &in);
	if (r >= 0 && (op == PC_SET_OP_ADD || op == PC_SET_OP_DEL) && in.n <= SMALL_CHANGE) {
		r = change_small(s, old, op, &in, res);
		pc_set_elems_clear(&in);
		if (r >= 0)
			res->elements = state_find(&s->live, name)->elems.n;
		return r;
	}
	if (r >= 0 && !(o = obj_new(old->name, old->type, old->flags)))
		r = -ENOMEM;
	if (r >= 0)
		r = op_elems(old, op, &in, &o->elems, res);
	if (r >= 0)
		r = elems_diff(&o->elems, &old->elems, &keys, &a, &b, false);
	if (r >= 0)
		r = elems_diff(&o->elems, &old->elems, &stored, &a, &b, true);
	pc_set_elems_clear(&in);
	if (r >= 0 && stored.n) {
		r = change_commit(s, old, o, &keys, &stored);
		if (r >= 0)
			o = NULL;
	}
	pc_set_elems_clear(&keys);
	pc_set_elems_clear(&stored);
	obj_unref(s, o);
	return r;
}

/* ---- grace periods ---------------------------------------------------------------------- */
/* After a grace period: the stale slot can be emptied (no classifier of the
 * old generation runs any more), then the blocks in limbo reused. */
static void grace_over(struct pc_sets *s)
{
	if (s->stale_slot >= 0 && s->stale_armed) {
		pc_pool_publish(s->pool, (unsigned)s->stale_slot, 0);
		s->stale_slot = -1;
	}
	pc_pool_release(s->pool);
}

int pc_sets_sync(struct pc_sets *s)
{
	int r;

	/* one in the background first: it began before what is to be covered */
	if (pc_pool_grace_running(s->pool))
		pc_sets_grace_done(s);
	s->stale_armed = s->stale_slot >= 0;
	r = pc_pool_grace(s->pool);
	if (r >= 0)
		grace_over(s);
	return r;
}

int pc_sets_grace_start(struct pc_sets *s)
{
	int r;

	if (pc_pool_grace_running(s->pool))
		return -EALREADY;
	if (!pc_pool_limbo(s->pool) && s->stale_slot < 0)
		return -ENODATA;
	r = pc_pool_grace_start(s->pool);
	if (r >= 0)
		s->stale_armed = s->stale_slot >= 0;
	return r;
}

int pc_sets_grace_fd(const struct pc_sets *s)
{
	return pc_pool_grace_fd(s->pool);
}

int pc_sets_grace_done(struct pc_sets *s)
{
	int r = pc_pool_grace_wait(s->pool);

	if (r >= 0)
		grace_over(s);
	return r;
}

/* ---- reading -------------------------------------------------------------------------- */
int pc_sets_list(const struct pc_sets *s, struct pc_set_info **ret, size_t *n)
{
	struct pc_set_info *v = calloc(s->live.n ? s->live.n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->live.n; i++) {
		const struct set_obj *o = s->live.v[i];

		strscpy_ok(v[i].name, sizeof(v[i].name), o->name);
		v[i].type = o->type;
		v[i].flags = o->flags;
		v[i].elements = o->elems.n;
		v[i].bytes = obj_bytes(s, o);
	}
	*ret = v;
	*n = s->live.n;
	return 0;
}

static void count_one(struct pc_set_count *c, const char *name, const char *family, size_t n)
{
	strscpy_ok(c->name, sizeof(c->name), name);
	strscpy_ok(c->family, sizeof(c->family), family);
	c->elements = n;
}

int pc_sets_counts(const struct pc_sets *s, struct pc_set_count **ret, size_t *n)
{
	struct pc_set_count *v = calloc(2 * s->live.n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->live.n; i++) {
		const struct set_obj *o = s->live.v[i];

		if (o->type != PC_SET_PREFIX) {
			count_one(&v[k++], o->name, "port", o->elems.n);
			continue;
		}
		count_one(&v[k++], o->name, "ipv4", family_src(o, 4).n);
		count_one(&v[k++], o->name, "ipv6", family_src(o, 6).n);
	}
	*ret = v;
	*n = k;
	return 0;
}

int pc_sets_get(const struct pc_sets *s, const char *name, struct pc_set_info *info,
		struct pc_set_view *view)
{
	const struct set_obj *o = state_find(&s->live, name);

	if (!o)
		return -ENOENT;
	if (info) {
		strscpy_ok(info->name, sizeof(info->name), o->name);
		info->type = o->type;
		info->flags = o->flags;
		info->elements = o->elems.n;
		info->bytes = 0; /* a walk of the whole structure: pc_sets_list() only */
	}
	if (view)
		*view = (struct pc_set_view){ .v = o->elems.v, .n = o->elems.n };
	return 0;
}

const struct pc_pool *pc_sets_pool(const struct pc_sets *s)
{
	return s->pool;
}

uint32_t pc_sets_live_dir(const struct pc_sets *s)
{
	return s->live.dir;
}

bool pc_sets_has_runtime(const struct pc_sets *s)
{
	for (size_t i = 0; i < s->live.n; i++)
		for (size_t j = 0; j < s->live.v[i]->elems.n; j++)
			if (s->live.v[i]->elems.v[j].flags & PC_SE_F_RUNTIME)
				return true;
	return false;
}

int pc_dp_set_member(const struct pc_dp *dp, uint32_t set, uint32_t field, const struct pc_key *k)
{
	return pc_pool_member(dp->sets->pool, dp->sets->live.dir, set, field, k->w);
}
