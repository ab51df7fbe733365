/* SPDX-License-Identifier: GPL-2.0-only */
/* schema.c - checks on document nodes against the schema's shapes
 * (mapping with known keys, list, scalar, boolean...), each failure a diag
 * at the node, and a string hash set for duplicate detection. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static void vdiag(struct pc_vctx *v, enum pc_severity sev, const struct pc_ynode *n,
		  const char *fmt, va_list ap)
{
	struct pc_pos pos = n ? n->pos : (struct pc_pos){};

	if (pc_diags_addv(v->d, sev, pos, fmt, ap) < 0)
		v->oom = true;
}

void pc_v_err(struct pc_vctx *v, const struct pc_ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(v, PC_SEV_ERROR, n, fmt, ap);
	va_end(ap);
}

void pc_v_warn(struct pc_vctx *v, const struct pc_ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(v, PC_SEV_WARNING, n, fmt, ap);
	va_end(ap);
}

/* A mismatch on a PC_Y_BAD node was reported already. */
static void type_error(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
		       const char *expected)
{
	if (n->kind != PC_Y_BAD)
		pc_v_err(v, n, "%s: expected %s, got %s", what, expected, pc_ykind_name(n));
}

static int field_index(const struct pc_vfield *f, size_t nf, const char *key)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].name, key))
			return (int)i;
	return -1;
}

bool pc_v_map(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
	      struct pc_vfield *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		f[i].key = f[i].val = NULL;
	if (pc_ynode_is_null(n))
		return true;
	if (n->kind != PC_Y_MAP) {
		type_error(v, n, what, "a mapping");
		return false;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct pc_ynode *k = pc_ymap_key(n, i);
		int j;

		if (k->kind != PC_Y_SCALAR) {
			type_error(v, k, what, "a scalar as key");
			continue;
		}
		j = field_index(f, nf, k->str);
		if (j < 0)
			pc_v_err(v, k, "unknown key \"%s\" in %s", k->str, what);
		else if (f[j].key)
			pc_v_err(v, k, "duplicate key \"%s\" (first at line %u)", k->str,
				 f[j].key->pos.line);
		else {
			f[j].key = k;
			f[j].val = pc_ymap_val(n, i);
		}
	}
	return true;
}

bool pc_v_seq(struct pc_vctx *v, const struct pc_ynode *n, const char *what)
{
	if (n->kind == PC_Y_SEQ || pc_ynode_is_null(n))
		return true;
	type_error(v, n, what, "a list");
	return false;
}

const char *pc_v_str(struct pc_vctx *v, const struct pc_ynode *n, const char *what)
{
	if (n->kind != PC_Y_SCALAR) {
		type_error(v, n, what, "a scalar");
		return NULL;
	}
	if (pc_ynode_is_null(n)) {
		pc_v_err(v, n, "%s: missing value", what);
		return NULL;
	}
	if (strlen(n->str) != n->n) {
		pc_v_err(v, n, "%s: value contains a NUL character", what);
		return NULL;
	}
	return n->str;
}

bool pc_v_bool(struct pc_vctx *v, const struct pc_ynode *n, const char *what, bool *ret)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	const char *s = pc_v_str(v, n, what);

	if (!s)
		return false;
	for (size_t i = 0; i < 3 && !n->quoted; i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*ret = !strcmp(s, yes[i]);
			return true;
		}
	}
	pc_v_err(v, n, "%s: expected true or false, got %s\"%s\"", what,
		 n->quoted ? "the string " : "", s);
	return false;
}

bool pc_v_u32(struct pc_vctx *v, const struct pc_ynode *n, const char *what, uint32_t *ret)
{
	const char *s = pc_v_str(v, n, what);
	int r;

	if (!s)
		return false;
	r = pc_cfg_parse_u32(s, ret);
	if (r == -ERANGE)
		pc_v_err(v, n, "%s: %s is out of range (0-4294967295)", what, s);
	else if (r < 0)
		pc_v_err(v, n, "%s: expected a number, got \"%s\"", what, s);
	return r == 0;
}

bool pc_v_name(struct pc_vctx *v, const struct pc_ynode *n, const char *what, char *buf)
{
	const char *s = pc_v_str(v, n, what);

	if (!s)
		return false;
	if (!pc_cfg_name_ok(s)) {
		pc_v_err(v, n, "%s: invalid name \"%s\" (1-%u of A-Z a-z 0-9 _ . -)", what, s,
			 PC_RULE_NAME_MAX);
		return false;
	}
	strcpy(buf, s);
	return true;
}

bool pc_v_list(struct pc_vctx *v, const struct pc_ynode *n, const char *what, struct pc_vlist *l)
{
	*l = (struct pc_vlist){ .node = n };
	if (n->kind == PC_Y_SCALAR) {
		if (pc_ynode_is_null(n)) {
			pc_v_err(v, n, "%s: missing value", what);
			return false;
		}
		l->n = 1;
		return true;
	}
	if (n->kind != PC_Y_SEQ) {
		type_error(v, n, what, "a scalar or a list");
		return false;
	}
	if (n->n == 0) {
		pc_v_err(v, n, "%s: empty list", what);
		return false;
	}
	l->n = n->n;
	return true;
}

/* ---- string set: open addressing, linear probing, load <= 1/2 ---------- */
static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct pc_strset_ent *find_slot(struct pc_strset_ent *v, size_t cap, const char *s,
				       uint32_t h)
{
	size_t i = h & (cap - 1);

	while (v[i].s && (v[i].hash != h || strcmp(v[i].s, s)))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int strset_grow(struct pc_strset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 64;
	struct pc_strset_ent *v;

	if (2 * (set->n + 1) <= set->cap)
		return 0;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < set->cap; i++)
		if (set->v[i].s)
			*find_slot(v, cap, set->v[i].s, set->v[i].hash) = set->v[i];
	free(set->v);
	set->v = v;
	set->cap = cap;
	return 0;
}

int pc_strset_add(struct pc_strset *set, const char *s, struct pc_pos pos, struct pc_pos *first)
{
	uint32_t h = hash_str(s);
	struct pc_strset_ent *e;

	if (strset_grow(set) < 0)
		return -ENOMEM;
	e = find_slot(set->v, set->cap, s, h);
	if (e->s) {
		*first = e->pos;
		return 1;
	}
	*e = (struct pc_strset_ent){ .s = s, .pos = pos, .hash = h };
	set->n++;
	return 0;
}

void pc_strset_free(struct pc_strset *set)
{
	free(set->v);
	*set = (struct pc_strset){};
}
