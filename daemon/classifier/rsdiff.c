/* SPDX-License-Identifier: GPL-2.0-only */
/* rsdiff.c - added / removed / changed rules between two rule sets. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/rsdiff.h"
#include "lib/util.h"

/* A rule set's rules in name order, and where each rule's boxes start. */
struct rs_index {
	const struct pc_ruleset *rs;
	uint32_t *by_name;  /* rule indices sorted by name */
	size_t *first_box;  /* nrules + 2 entries */
};

static int cmp_name(const void *a, const void *b, void *userdata)
{
	const struct pc_ruleset *rs = userdata;

	return strcmp(rs->rule_name[*(const uint32_t *)a], rs->rule_name[*(const uint32_t *)b]);
}

static void rs_index_free(struct rs_index *x)
{
	free(x->by_name);
	free(x->first_box);
}

static int rs_index_build(const struct pc_ruleset *rs, struct rs_index *x)
{
	size_t b = 0;

	*x = (struct rs_index){ .rs = rs };
	x->by_name = calloc(rs->nrules + 1, sizeof(*x->by_name));
	x->first_box = calloc(rs->nrules + 2, sizeof(*x->first_box));
	if (!x->by_name || !x->first_box) {
		rs_index_free(x);
		return -ENOMEM;
	}
	for (uint32_t r = 0; r < rs->nrules; r++)
		x->by_name[r] = r;
	qsort_r(x->by_name, rs->nrules, sizeof(*x->by_name), cmp_name, (void *)rs);
	for (uint32_t r = 0; r <= rs->nrules + 1; r++) {
		while (b < rs->nboxes && rs->boxes[b].rule < r)
			b++;
		x->first_box[r] = b;
	}
	return 0;
}

static bool checks_equal(const struct pc_box *a, const struct pc_box *b)
{
	if (a->nchecks != b->nchecks)
		return false;
	for (uint32_t i = 0; i < a->nchecks && i < PC_BOX_CHECKS; i++)
		if (a->c[i].word != b->c[i].word || a->c[i].op != b->c[i].op ||
		    a->c[i].a != b->c[i].a || a->c[i].b != b->c[i].b)
			return false;
	return true;
}

static bool outcome_equal(const struct pc_ruleset *x, uint32_t i, const struct pc_ruleset *y,
			  uint32_t j)
{
	const struct pc_rule_out *a = &x->outs[i], *b = &y->outs[j];

	return a->action == b->action && a->flags == b->flags && a->dscp == b->dscp &&
	       a->mark == b->mark && a->priority == b->priority &&
	       strcmp(x->class_name[i], y->class_name[j]) == 0 &&
	       strcmp(x->redirect[i], y->redirect[j]) == 0;
}

static bool rule_equal(const struct rs_index *x, uint32_t i, const struct rs_index *y, uint32_t j)
{
	size_t n = x->first_box[i + 1] - x->first_box[i];

	if (!outcome_equal(x->rs, i, y->rs, j))
		return false;
	if (n != y->first_box[j + 1] - y->first_box[j])
		return false;
	for (size_t k = 0; k < n; k++)
		if (!checks_equal(&x->rs->boxes[x->first_box[i] + k], &y->rs->boxes[y->first_box[j] + k]))
			return false;
	return true;
}

int pc_ruleset_diff(const struct pc_ruleset *old, const struct pc_ruleset *new,
		    struct pc_rs_diff *ret)
{
	struct rs_index x, y;
	size_t i = 0, j = 0;
	int r;

	*ret = (struct pc_rs_diff){};
	if (!old) {
		ret->added = new->nrules;
		return 0;
	}
	r = rs_index_build(old, &x);
	if (r < 0)
		return r;
	r = rs_index_build(new, &y);
	if (r < 0) {
		rs_index_free(&x);
		return r;
	}
	while (i < old->nrules || j < new->nrules) {
		int c = i == old->nrules ? 1 : j == new->nrules ? -1 :
			strcmp(old->rule_name[x.by_name[i]], new->rule_name[y.by_name[j]]);

		if (c < 0) {
			ret->removed++;
			i++;
		} else if (c > 0) {
			ret->added++;
			j++;
		} else {
			ret->changed += !rule_equal(&x, x.by_name[i], &y, y.by_name[j]);
			i++;
			j++;
		}
	}
	rs_index_free(&x);
	rs_index_free(&y);
	return 0;
}

/* ---- digests -------------------------------------------------------------------- */
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * FNV_PRIME;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

static uint64_t fnv_u32(uint64_t h, uint32_t v)
{
	return fnv(h, &v, sizeof(v));
}

/* An interface check by the patterns behind its bits: a bit's number
 * depends on the other rules. */
static uint64_t digest_ifbits(uint64_t h, const struct pc_ruleset *rs, uint32_t bits)
{
	for (size_t b = 0; b < rs->n_iface_patterns && b < 31; b++)
		if (bits & (1u << b))
			h = fnv_str(h, rs->iface_patterns[b]);
	return fnv_u32(h, bits & PC_IFBITS_ALWAYS);
}

static uint64_t digest_box(uint64_t h, const struct pc_ruleset *rs, const struct pc_box *b)
{
	h = fnv_u32(h, b->nchecks);
	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];

		h = fnv_u32(fnv_u32(h, c->word), c->op);
		if (c->word == PC_W_IFBITS)
			h = digest_ifbits(digest_ifbits(h, rs, c->a), rs, c->b);
		else
			h = fnv_u32(fnv_u32(h, c->a), c->b);
	}
	return h;
}

static uint64_t digest_outcome(const struct pc_ruleset *rs, uint32_t i)
{
	const struct pc_rule_out *o = &rs->outs[i];
	uint64_t h = FNV_OFFSET;

	h = fnv_u32(fnv_u32(fnv_u32(h, o->action), o->flags), o->dscp);
	h = fnv_u32(fnv_u32(h, o->mark), o->priority);
	return fnv_str(fnv_str(h, rs->class_name[i]), rs->redirect[i]);
}

int pc_ruleset_digests(const struct pc_ruleset *rs, struct pc_rule_digest **ret)
{
	struct pc_rule_digest *v = calloc(rs->nrules ? rs->nrules : 1, sizeof(*v));
	size_t b = 0;

	if (!v)
		return -ENOMEM;
	for (uint32_t r = 0; r < rs->nrules; r++) {
		uint64_t h = digest_outcome(rs, r);

		for (; b < rs->nboxes && rs->boxes[b].rule == r; b++)
			h = digest_box(h, rs, &rs->boxes[b]);
		strscpy_ok(v[r].name, sizeof(v[r].name), rs->rule_name[r]);
		v[r].digest = h;
	}
	*ret = v;
	return 0;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct pc_rule_digest *)a)->name,
		      ((const struct pc_rule_digest *)b)->name);
}

void pc_rule_digests_diff(struct pc_rule_digest *old, size_t nold, struct pc_rule_digest *new,
			  size_t nnew, pc_rs_change_fn fn, void *userdata, struct pc_rs_diff *ret)
{
	size_t i = 0, j = 0;

	*ret = (struct pc_rs_diff){};
	qsort(old, nold, sizeof(*old), cmp_digest);
	qsort(new, nnew, sizeof(*new), cmp_digest);
	while (i < nold || j < nnew) {
		int c = i == nold ? 1 : j == nnew ? -1 : strcmp(old[i].name, new[j].name);

		if (c < 0) {
			ret->removed++;
			fn(PC_RS_REMOVED, old[i++].name, userdata);
		} else if (c > 0) {
			ret->added++;
			fn(PC_RS_ADDED, new[j++].name, userdata);
		} else {
			if (old[i].digest != new[j].digest) {
				ret->changed++;
				fn(PC_RS_CHANGED, new[j].name, userdata);
			}
			i++, j++;
		}
	}
}

#define DIGESTS_MAGIC "pktclassd-rules 1"

int pc_rule_digests_print(FILE *f, const struct pc_rule_digest *v, size_t n, uint32_t generation,
			  uint32_t pid)
{
	fprintf(f, DIGESTS_MAGIC "\ngeneration %u %u\n", generation, pid);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "rule %s %016llx\n", v[i].name, (unsigned long long)v[i].digest);
	return ferror(f) ? -EIO : 0;
}

int pc_rule_digests_read(FILE *f, struct pc_rule_digest **ret, size_t *n, uint32_t *generation,
			 uint32_t *pid)
{
	_cleanup_free_ struct pc_rule_digest *v = NULL;
	char line[256], name[PC_NAME_MAX];
	size_t cap = 0, k = 0;
	unsigned long long d;

	if (!fgets(line, sizeof(line), f) || strcmp(line, DIGESTS_MAGIC "\n") != 0 ||
	    !fgets(line, sizeof(line), f) || sscanf(line, "generation %u %u", generation, pid) != 2)
		return -EPROTO;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "rule %63s %llx", name, &d) != 2)
			return -EPROTO;
		if (pc_grow((void **)&v, &cap, k + 1, sizeof(*v)) < 0)
			return -ENOMEM;
		strscpy_ok(v[k].name, sizeof(v[k].name), name);
		v[k++].digest = d;
	}
	*ret = TAKE_PTR(v);
	*n = k;
	return 0;
}
