/* SPDX-License-Identifier: GPL-2.0-only */
/* load.c - config -> rule set -> trees, for startup, reload and --check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/diag.h"
#include "pktclassd/load.h"
#include "lib/log.h"
#include "lib/util.h"

/* Every diagnostic that is shown (PC_DIAGS_PRINT_MAX, then a line for
 * the rest), each a log line of its own. */
static void log_diags(const struct pc_diags *d)
{
	struct pc_diags_iter it = {};
	char buf[1024];
	int i;

	while ((i = pc_diags_next_shown(d, &it)) >= 0) {
		pc_diag_format(d, (size_t)i, buf, sizeof(buf));
		pc_log_full(d->v[i].sev == PC_SEV_ERROR ? LOG_ERR : LOG_WARNING, 0, "%s", buf);
	}
	if (pc_diags_format_more(d, buf, sizeof(buf)) > 0)
		pc_log_full(d->nerrors ? LOG_ERR : LOG_WARNING, 0, "%s", buf);
}

int pc_load_config(const char *path, struct pc_loaded *ret, size_t *nwarnings,
		   char *why, size_t whylen)
{
	struct pc_diags d;
	int r;

	pc_diags_init(&d, path);
	r = pc_config_verdict(path, geteuid(), ret, &d);
	log_diags(&d);
	*nwarnings = d.nwarnings;
	if (r < 0 && d.nerrors > 0)
		snprintf(why, whylen, "%zu error%s in %s", d.nerrors, d.nerrors == 1 ? "" : "s",
			 path);
	else if (r < 0)
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
	pc_diags_clear(&d);
	return r;
}

void pc_print_summary(FILE *f, const char *path, const struct pc_loaded *l, size_t nwarnings)
{
	const struct pc_tree *t = l->tree;
	char slow[160];

	fprintf(f, "config:            %s\n", path);
	fprintf(f, "rules:             %u\n", l->rs->nrules);
	fprintf(f, "boxes:             %zu\n", l->rs->nboxes);
	fprintf(f, "classes:           %zu\n", pc_count_classes(l->rs));
	fprintf(f, "interface entries: %zu\n", l->cfg->n_ifaces);
	fprintf(f, "iface patterns:    %zu\n", l->rs->n_iface_patterns);
	fprintf(f, "sets:              %zu (%zu references)\n", l->cfg->n_sets, l->rs->nsetrefs);
	fprintf(f, "warnings:          %zu\n", nwarnings);
	fprintf(f, "trees:             %u (%zu nodes, %zu leaf entries, depth %u, largest leaf %u)\n",
		t->cfg.ntrees, t->nnodes, t->nleaf, t->cfg.max_depth, t->cfg.max_leaf);
	pc_tree_slow_summary(t, slow, sizeof(slow));
	fprintf(f, "slow path:         %s\n", slow);
	fprintf(f, "build time:        compile %.1f ms, trees %.1f ms\n",
		(double)l->rs->compile_usec / 1000.0, (double)t->build_usec / 1000.0);
}
