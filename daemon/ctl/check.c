/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl check: the daemon's own verdict on a config
 * (pc_config_verdict: who may change it, parse, compile, trees, redirect
 * targets) and a summary of it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "classifier/rsdiff.h"
#include "classifier/tree.h"
#include "classifier/verdict.h"
#include "ctl/ctl.h"
#include "lib/diag.h"
#include "lib/json.h"
#include "lib/rundir.h"
#include "lib/util.h"

/* What a reload of the checked config would change in the running daemon
 * (the rules file it keeps in the runtime directory). */
struct reload_diff {
	bool known;
	uint32_t generation, pid;
	struct pc_rs_diff n;
	const char **names[3];  /* added, removed, changed */
	size_t count[3];
};


struct summary {
	const char *path;
	const struct pc_diags *d;
	const struct pc_config *cfg;
	const struct pc_ruleset *rs;
	const struct pc_tree *t;    /* NULL: the config is refused */
	size_t classes;
	struct reload_diff *diff;
};

static void on_change(enum pc_rs_change what, const char *name, void *userdata)
{
	struct reload_diff *d = userdata;

	d->names[what][d->count[what]++] = name;
}

static int diff_alloc(struct reload_diff *d, size_t n)
{
	for (int k = 0; k < 3; k++) {
		d->names[k] = calloc(n ? n : 1, sizeof(char *));
		if (!d->names[k])
			return -ENOMEM;
	}
	return 0;
}

static void diff_free(struct reload_diff *d)
{
	for (int k = 0; k < 3; k++)
		free(d->names[k]);
}

/* The live rules of the daemon at pin_path against rs.  Nothing when no
 * daemon runs there; a note when its rules file cannot be read. */
static int reload_diff(const char *pin_path, const struct pc_ruleset *rs,
		       struct pc_rule_digest **old, struct pc_rule_digest **new, struct reload_diff *d)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[PATH_MAX];
	size_t nold = 0;
	int r;

	if (pc_runtime_file(pin_path, "rules", path, sizeof(path)) < 0)
		return 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			fprintf(stderr, "pktclassctl: cannot compare with the running pktclassd: %s: %s\n",
				path, strerror(errno));
		return 0;
	}
	r = pc_rule_digests_read(f, old, &nold, &d->generation, &d->pid);
	if (r < 0 || d->pid == 0 || (kill((pid_t)d->pid, 0) < 0 && errno != EPERM))
		return r == -ENOMEM ? r : 0; /* a file left by a daemon that died */
	r = pc_ruleset_digests(rs, new);
	if (r >= 0)
		r = diff_alloc(d, nold + rs->nrules);
	if (r < 0)
		return r;
	pc_rule_digests_diff(*old, nold, *new, rs->nrules, on_change, d, &d->n);
	d->known = true;
	return 0;
}

static const char *const change_name[3] = { "added", "removed", "changed" };

static void diff_text(const struct reload_diff *d)
{
	printf("reload:           against generation %" PRIu32 " of the running pktclassd (pid %" PRIu32
	       "): ", d->generation, d->pid);
	if (d->n.added + d->n.removed + d->n.changed == 0) {
		printf("no rule would change\n");
		return;
	}
	printf("%zu added, %zu removed, %zu changed\n", d->n.added, d->n.removed, d->n.changed);
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < d->count[k]; i++)
			printf("  %-8s %s\n", change_name[k], d->names[k][i]);
}

static void diff_json(struct pc_json *j, const struct reload_diff *d)
{
	pc_json_key(j, "reload");
	pc_json_object_begin(j);
	pc_json_kv_u64(j, "generation", d->generation);
	pc_json_kv_u64(j, "pid", d->pid);
	for (int k = 0; k < 3; k++) {
		pc_json_key(j, change_name[k]);
		pc_json_array_begin(j);
		for (size_t i = 0; i < d->count[k]; i++)
			pc_json_string(j, d->names[k][i]);
		pc_json_array_end(j);
	}
	pc_json_object_end(j);
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

static size_t set_elements(const struct pc_config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_sets; i++)
		n += c->sets[i].elems.n;
	return n;
}

static void summary_text(const struct summary *s)
{
	const struct pc_gen_cfg *g = &s->t->cfg;
	char slow[160];

	printf("%s: ok\n", s->path);
	printf("rules:            %" PRIu32 "\n", s->rs->nrules);
	printf("boxes:            %zu\n", s->rs->nboxes);
	printf("classes:          %zu (%zu declared)\n", s->classes, s->cfg->n_classes);
	printf("interfaces:       %zu entries, %zu match patterns\n", s->cfg->n_ifaces,
	       s->rs->n_iface_patterns);
	printf("sets:             %zu (%zu elements, %zu references in rules)\n", s->cfg->n_sets,
	       set_elements(s->cfg), s->rs->nsetrefs);
	printf("warnings:         %zu\n", s->d->nwarnings);
	printf("trees:            %" PRIu32 " (%zu nodes, depth %" PRIu32 ", largest leaf %" PRIu32
	       ", %zu leaf entries)\n", g->ntrees, s->t->nnodes, g->max_depth, g->max_leaf,
	       s->t->nleaf);
	pc_tree_slow_summary(s->t, slow, sizeof(slow));
	printf("slow path:        %s\n", slow);
	printf("memory:           %" PRIu64 " bytes of trees, %" PRIu64 " bytes of tables in all\n",
	       tree_bytes(s->t), table_bytes(s));
	printf("compile time:     %.3f ms, tree build %.3f ms\n", s->rs->compile_usec / 1000.0,
	       s->t->build_usec / 1000.0);
	if (s->cfg->n_includes)
		printf("included files:   %zu\n", s->cfg->n_includes);
	if (s->diff->known)
		diff_text(s->diff);
}

/* Every diagnostic kept (PC_DIAGS_KEEP of each kind), raw: JSON escapes. */
static void json_diags(struct pc_json *j, const struct pc_diags *d)
{
	pc_json_key(j, "diagnostics");
	pc_json_array_begin(j);
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *g = &d->v[i];

		pc_json_object_begin(j);
		pc_json_kv_string(j, "file", g->pos.file ? g->pos.file : d->file ? d->file : "");
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
		pc_json_kv_u64(&j, "sets", s->cfg->n_sets);
		pc_json_kv_u64(&j, "set_elements", set_elements(s->cfg));
		pc_json_kv_u64(&j, "set_references", s->rs->nsetrefs);
		pc_json_key(&j, "tree");
		pc_json_object_begin(&j);
		pc_json_kv_u64(&j, "trees", s->t->cfg.ntrees);
		pc_json_kv_u64(&j, "nodes", s->t->nnodes);
		pc_json_kv_u64(&j, "depth", s->t->cfg.max_depth);
		pc_json_kv_u64(&j, "max_leaf", s->t->cfg.max_leaf);
		pc_json_kv_u64(&j, "leaf_entries", s->t->nleaf);
		pc_json_kv_u64(&j, "slow_leaves", s->t->slow_leaves);
		pc_json_kv_u64(&j, "slow_entries", s->t->slow_entries);
		pc_json_kv_u64(&j, "slow_max", s->t->slow_max);
		pc_json_kv_u64(&j, "slow_rules", s->t->slow_rules);
		pc_json_kv_u64(&j, "memory_bytes", tree_bytes(s->t));
		pc_json_kv_u64(&j, "table_bytes", table_bytes(s));
		pc_json_object_end(&j);
		pc_json_kv_u64(&j, "compile_usec", s->rs->compile_usec);
		pc_json_kv_u64(&j, "build_usec", s->t->build_usec);
		pc_json_key(&j, "includes");
		pc_json_array_begin(&j);
		for (size_t i = 0; i < s->cfg->n_includes; i++)
			pc_json_string(&j, s->cfg->includes[i]);
		pc_json_array_end(&j);
		if (s->diff->known)
			diff_json(&j, s->diff);
	}
	pc_json_object_end(&j);
	pc_json_finish(&j);
}

static int check(struct ctl *c, const char *path, struct pc_diags *d)
{
	_cleanup_(pc_loaded_clear) struct pc_loaded l = {};
	_cleanup_free_ struct pc_rule_digest *old = NULL, *new = NULL;
	struct reload_diff diff = {};
	struct summary s = { .path = path, .d = d, .diff = &diff };
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
		r = reload_diff(c->pin_path ? c->pin_path : l.cfg->settings.pin_path, l.rs, &old,
				&new, &diff);
	}
	if (c->json)
		summary_json(&s);
	else if (r >= 0)
		summary_text(&s);
	diff_free(&diff);
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
