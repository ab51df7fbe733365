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
