/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl check: the daemon's own verdict on a config
 * (pc_config_verdict: who may change it, parse, compile, trees, redirect
 * targets) and a summary of it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "classifier/verdict.h"
#include "ctl/ctl.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/util.h"

struct summary {
	const char *path;
	const struct pc_diags *d;
	const struct pc_config *cfg;
	const struct pc_ruleset *rs;
	const struct pc_tree *t;    /* NULL: the config is refused */
	size_t classes;
};

static uint64_t tree_bytes(const struct pc_tree *t)
{
	return t->nnodes * sizeof(struct pc_node) + t->nleaf * sizeof(uint32_t);
}

static uint64_t table_bytes(const struct summary *s)
{
	return tree_bytes(s->t) + s->rs->nboxes * sizeof(struct pc_box) +
	       (s->rs->nrules + 1) * sizeof(struct pc_rule_out);
}

static void summary_text(const struct summary *s)
{
	const struct pc_gen_cfg *g = &s->t->cfg;

	printf("%s: ok\n", s->path);
	printf("rules:            %" PRIu32 "\n", s->rs->nrules);
	printf("boxes:            %zu\n", s->rs->nboxes);
	printf("classes:          %zu (%zu declared)\n", s->classes, s->cfg->n_classes);
	printf("interfaces:       %zu entries, %zu match patterns\n", s->cfg->n_ifaces,
	       s->rs->n_iface_patterns);
	printf("warnings:         %zu\n", s->d->nwarnings);
	printf("trees:            %" PRIu32 " (%zu nodes, depth %" PRIu32 ", largest leaf %" PRIu32
	       ", %zu leaf entries)\n", g->ntrees, s->t->nnodes, g->max_depth, g->max_leaf,
	       s->t->nleaf);
	printf("memory:           %" PRIu64 " bytes of trees, %" PRIu64 " bytes of tables in all\n",
	       tree_bytes(s->t), table_bytes(s));
	printf("compile time:     %.3f ms, tree build %.3f ms\n", s->rs->compile_usec / 1000.0,
	       s->t->build_usec / 1000.0);
}

/* Every diagnostic kept (PC_DIAGS_KEEP of each kind), raw: JSON escapes. */
static void json_diags(struct pc_json *j, const struct pc_diags *d)
{
	pc_json_key(j, "diagnostics");
	pc_json_array_begin(j);
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *g = &d->v[i];

		pc_json_object_begin(j);
		pc_json_kv_string(j, "file", d->file ? d->file : "");
		pc_json_kv_u64(j, "line", g->pos.line);
		pc_json_kv_u64(j, "column", g->pos.col);
		pc_json_kv_string(j, "severity", g->sev == PC_SEV_ERROR ? "error" : "warning");
		pc_json_kv_string(j, "message", g->msg);
		pc_json_object_end(j);
	}
	pc_json_array_end(j);
	pc_json_kv_u64(j, "diagnostics_omitted", d->nerrors + d->nwarnings - d->n);
}

static void summary_json(const struct summary *s)
{
	struct pc_json j;

	pc_json_init(&j, stdout, true);
	pc_json_object_begin(&j);
	pc_json_kv_string(&j, "config", s->path);
	pc_json_kv_bool(&j, "valid", s->t != NULL);
	pc_json_kv_u64(&j, "errors", s->d->nerrors);
	pc_json_kv_u64(&j, "warnings", s->d->nwarnings);
	json_diags(&j, s->d);
	if (s->t) {
		pc_json_kv_u64(&j, "rules", s->rs->nrules);
		pc_json_kv_u64(&j, "boxes", s->rs->nboxes);
		pc_json_kv_u64(&j, "classes", s->classes);
		pc_json_kv_u64(&j, "declared_classes", s->cfg->n_classes);
		pc_json_kv_u64(&j, "interfaces", s->cfg->n_ifaces);
		pc_json_kv_u64(&j, "iface_patterns", s->rs->n_iface_patterns);
		pc_json_key(&j, "tree");
		pc_json_object_begin(&j);
		pc_json_kv_u64(&j, "trees", s->t->cfg.ntrees);
		pc_json_kv_u64(&j, "nodes", s->t->nnodes);
		pc_json_kv_u64(&j, "depth", s->t->cfg.max_depth);
		pc_json_kv_u64(&j, "max_leaf", s->t->cfg.max_leaf);
		pc_json_kv_u64(&j, "leaf_entries", s->t->nleaf);
		pc_json_kv_u64(&j, "memory_bytes", tree_bytes(s->t));
		pc_json_kv_u64(&j, "table_bytes", table_bytes(s));
		pc_json_object_end(&j);
		pc_json_kv_u64(&j, "compile_usec", s->rs->compile_usec);
		pc_json_kv_u64(&j, "build_usec", s->t->build_usec);
	}
	pc_json_object_end(&j);
	pc_json_finish(&j);
}

static int check(struct ctl *c, const char *path, struct pc_diags *d)
{
	_cleanup_(pc_loaded_clear) struct pc_loaded l = {};
	struct summary s = { .path = path, .d = d };
	int r;

	r = pc_config_verdict(path, geteuid(), &l, d);
	pc_diags_print(d, stderr);
	if (r < 0 && d->nerrors == 0) /* out of memory, say */
		fprintf(stderr, "%s: error: %s\n", path, strerror(-r));
	if (r >= 0) {
		s.cfg = l.cfg;
		s.rs = l.rs;
		s.t = l.tree;
		s.classes = pc_count_classes(l.rs);
	}
	if (c->json)
		summary_json(&s);
	else if (r >= 0)
		summary_text(&s);
	return r < 0 ? CTL_ERROR : CTL_OK;
}

int ctl_check(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = { CTL_COMMON_LONGOPTS, {} };
	struct pc_diags d;
	const char *path;
	int stop, r;

	if (ctl_getopt(c, argc, argv, "", longopts, &stop) != -1 || stop >= 0)
		return stop >= 0 ? stop : CTL_USAGE;
	if (argc - optind > 1)
		return ctl_usage_error("check: one config file at most");
	if (optind < argc && c->config)
		return ctl_usage_error("check: give the config file either with -c or as argument");
	path = optind < argc ? argv[optind] : c->config ? c->config : PC_DEFAULT_CONFIG;
	pc_diags_init(&d, path);
	r = check(c, path, &d);
	pc_diags_clear(&d);
	return r;
}
