/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl check: validate a config as the daemon would (parse,
 * compile, build the lookup trees) and summarize it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "classifier/compile.h"
#include "classifier/shadow.h"
#include "ctl/ctl.h"
#include "lib/diag.h"
#include "lib/json.h"

struct summary {
	const char *path;
	size_t errors, warnings;
	const struct pc_config *cfg;
	const struct pc_ruleset *rs;
	const struct pc_tree *t;
	size_t classes;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct class names over the rules and the default. */
static int count_classes(const struct pc_ruleset *rs, size_t *ret)
{
	const char **v = calloc(rs->nrules + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i <= rs->nrules; i++)
		v[i] = rs->class_name[i];
	qsort(v, rs->nrules + 1, sizeof(*v), cmp_str);
	for (uint32_t i = 0; i <= rs->nrules; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			n++;
	free(v);
	*ret = n;
	return 0;
}

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
	printf("warnings:         %zu\n", s->warnings);
	printf("trees:            %" PRIu32 " (%zu nodes, depth %" PRIu32 ", largest leaf %" PRIu32
	       ", %zu leaf entries)\n", g->ntrees, s->t->nnodes, g->max_depth, g->max_leaf,
	       s->t->nleaf);
	printf("memory:           %" PRIu64 " bytes of trees, %" PRIu64 " bytes of tables in all\n",
	       tree_bytes(s->t), table_bytes(s));
	printf("compile time:     %.3f ms, tree build %.3f ms\n", s->rs->compile_usec / 1000.0,
	       s->t->build_usec / 1000.0);
}

static void summary_json(const struct summary *s)
{
	struct pc_json j;

	pc_json_init(&j, stdout, true);
	pc_json_object_begin(&j);
	pc_json_kv_string(&j, "config", s->path);
	pc_json_kv_bool(&j, "valid", s->t != NULL);
	pc_json_kv_u64(&j, "errors", s->errors);
	pc_json_kv_u64(&j, "warnings", s->warnings);
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

static const char *tree_error(int r)
{
	return r == -E2BIG ? "the rules do not fit the lookup limits (trees, depth, leaf size)"
			   : strerror(-r);
}

static int check(struct ctl *c, const char *path, struct pc_diags *d)
{
	__attribute__((cleanup(pc_config_freep))) struct pc_config *cfg = NULL;
	__attribute__((cleanup(pc_ruleset_freep))) struct pc_ruleset *rs = NULL;
	__attribute__((cleanup(pc_tree_freep))) struct pc_tree *t = NULL;
	struct summary s = { .path = path };
	int r;

	r = pc_config_load(path, &cfg, d);
	if (r >= 0)
		r = pc_compile(cfg, &rs, d);
	if (r >= 0)
		r = pc_shadow_check(cfg, rs, d);
	pc_diags_sort(d);
	pc_diags_print(d, stderr);
	if (r < 0 && d->nerrors == 0)
		fprintf(stderr, "%s: error: %s\n", path, strerror(-r));
	if (r >= 0) {
		r = pc_tree_build(rs, &t);
		if (r < 0)
			fprintf(stderr, "%s: error: cannot build the lookup trees: %s\n", path,
				tree_error(r));
	}
	if (r >= 0)
		r = count_classes(rs, &s.classes);
	s.errors = d->nerrors + (r < 0 && d->nerrors == 0);
	s.warnings = d->nwarnings;
	s.cfg = cfg;
	s.rs = rs;
	s.t = r < 0 ? NULL : t;
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
