/* SPDX-License-Identifier: GPL-2.0-only */
/* load.c - config -> rule set -> trees, for startup, reload and --check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/diag.h"
#include "pktclassd/load.h"
#include "lib/log.h"
#include "classifier/shadow.h"
#include "lib/util.h"

void pc_loaded_clear(struct pc_loaded *l)
{
	pc_tree_freep(&l->tree);
	pc_ruleset_freep(&l->rs);
	pc_config_freep(&l->cfg);
	*l = (struct pc_loaded){};
}

static void log_diags(struct pc_diags *d)
{
	char buf[1024];

	pc_diags_sort(d);
	for (size_t i = 0; i < d->n; i++) {
		pc_diag_format(d, i, buf, sizeof(buf));
		pc_log_full(d->v[i].sev == PC_SEV_ERROR ? LOG_ERR : LOG_WARNING, 0, "%s", buf);
	}
}

int pc_load_config(const char *path, struct pc_loaded *ret, size_t *nwarnings,
		   char *why, size_t whylen)
{
	struct pc_loaded l = {};
	struct pc_diags d;
	int r;

	pc_diags_init(&d, path);
	r = pc_config_check_perms(path, geteuid(), &d);
	if (r >= 0)
		r = pc_config_load(path, &l.cfg, &d);
	if (r >= 0)
		r = pc_compile(l.cfg, &l.rs, &d);
	if (r >= 0)
		r = pc_shadow_check(l.cfg, l.rs, &d);
	pc_diags_sort(&d);
	log_diags(&d);
	*nwarnings = d.nwarnings;
	if (r < 0) {
		if (d.nerrors > 0)
			snprintf(why, whylen, "%zu error%s in %s", d.nerrors,
				 d.nerrors == 1 ? "" : "s", path);
		else
			snprintf(why, whylen, "%s: %s", path, strerror(-r));
		pc_diags_clear(&d);
		pc_loaded_clear(&l);
		return r;
	}
	pc_diags_clear(&d);
	r = pc_tree_build(l.rs, &l.tree);
	if (r < 0) {
		snprintf(why, whylen, "building the lookup trees: %s",
			 r == -E2BIG ? "the rules exceed the classifier's limits" : strerror(-r));
		log_error("%s: %s", path, why);
		pc_loaded_clear(&l);
		return r;
	}
	*ret = l;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t pc_count_classes(const struct pc_ruleset *rs)
{
	_cleanup_free_ char **v = calloc(rs->nrules + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return rs->nrules + 1;
	for (uint32_t i = 0; i <= rs->nrules; i++)
		v[i] = rs->class_name[i];
	qsort(v, rs->nrules + 1, sizeof(char *), cmp_str);
	for (uint32_t i = 0; i <= rs->nrules; i++)
		n += i == 0 || strcmp(v[i], v[i - 1]) != 0;
	return n;
}

void pc_print_summary(FILE *f, const char *path, const struct pc_loaded *l, size_t nwarnings)
{
	const struct pc_tree *t = l->tree;

	fprintf(f, "config:            %s\n", path);
	fprintf(f, "rules:             %u\n", l->rs->nrules);
	fprintf(f, "boxes:             %zu\n", l->rs->nboxes);
	fprintf(f, "classes:           %zu\n", pc_count_classes(l->rs));
	fprintf(f, "interface entries: %zu\n", l->cfg->n_ifaces);
	fprintf(f, "iface patterns:    %zu\n", l->rs->n_iface_patterns);
	fprintf(f, "warnings:          %zu\n", nwarnings);
	fprintf(f, "trees:             %u (%zu nodes, %zu leaf entries, depth %u, largest leaf %u)\n",
		t->cfg.ntrees, t->nnodes, t->nleaf, t->cfg.max_depth, t->cfg.max_leaf);
	fprintf(f, "build time:        compile %.1f ms, trees %.1f ms\n",
		(double)l->rs->compile_usec / 1000.0, (double)t->build_usec / 1000.0);
}
