/* SPDX-License-Identifier: GPL-2.0-only */
/* verdict.c - a config file judged once for everyone (see verdict.h).
 * The one file of this layer that does I/O: it opens the config and asks
 * the kernel which interfaces exist. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/shadow.h"
#include "classifier/tree.h"
#include "classifier/verdict.h"
#include "lib/util.h"

void pc_loaded_clear(struct pc_loaded *l)
{
	pc_tree_freep(&l->tree);
	pc_ruleset_freep(&l->rs);
	pc_config_freep(&l->cfg);
	*l = (struct pc_loaded){};
}

int pc_ruleset_check_redirects(const struct pc_config *cfg, const struct pc_ruleset *rs,
			       struct pc_diags *d)
{
	int missing = 0;

	for (uint32_t i = 0; i < rs->nrules; i++) {
		if (!rs->redirect[i][0] || if_nametoindex(rs->redirect[i]))
			continue;
		missing++;
		if (d && pc_diags_add(d, PC_SEV_WARNING, i < cfg->n_rules ? cfg->rules[i].pos
									 : (struct pc_pos){},
				      "rule '%s': redirect interface %s does not exist (yet): the "
				      "rule passes its packets until it does", rs->rule_name[i],
				      rs->redirect[i]) < 0)
			return -ENOMEM;
	}
	return missing;
}

static int tree_diag(struct pc_diags *d, int r)
{
	if (r == -ENOMEM)
		return r;
	return pc_diags_add(d, PC_SEV_ERROR, (struct pc_pos){}, "cannot build the lookup trees: %s",
			    strerror(-r)) ?: r;
}

/* Rules some of whose boxes are in slow leaves: a warning, never a refusal. */
static int slow_diag(struct pc_diags *d, const struct pc_tree *t)
{
	char slow[160];

	if (!t->slow_leaves)
		return 0;
	pc_tree_slow_summary(t, slow, sizeof(slow));
	return pc_diags_add(d, PC_SEV_WARNING, (struct pc_pos){}, "slower lookups for %s", slow);
}

/* Element files are read as root too: refused, as the config is, when
 * someone else could change or replace them.  Each problem an error at
 * its set. */
static int check_set_files(const struct pc_config *c, uid_t euid, struct pc_diags *d)
{
	int ret = 0;

	for (size_t i = 0; i < c->n_sets; i++) {
		const struct pc_set_cfg *s = &c->sets[i];
		_cleanup_close_ int fd = -1;
		struct pc_diags fd_d;
		int r;

		if (!s->file)
			continue;
		pc_diags_init(&fd_d, s->file);
		r = pc_config_open(s->file, &fd, &fd_d);
		if (r >= 0)
			r = pc_config_check_perms(fd, s->file, euid, &fd_d);
		for (size_t j = 0; r < 0 && j < fd_d.n; j++)
			if (pc_diags_add(d, PC_SEV_ERROR, s->pos, "set \"%s\": file %s: %s", s->name,
					 s->file, fd_d.v[j].msg) < 0)
				r = -ENOMEM;
		pc_diags_clear(&fd_d);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			ret = -EPERM;
	}
	return ret;
}

/* Compile and everything after it; 0 or -errno. */
static int derive(struct pc_loaded *l, struct pc_diags *d)
{
	int r;

	r = pc_compile(l->cfg, &l->rs, d);
	if (r >= 0)
		r = pc_shadow_check(l->cfg, l->rs, d);
	if (r >= 0) {
		r = pc_tree_build(l->rs, &l->tree);
		r = r < 0 ? tree_diag(d, r) : slow_diag(d, l->tree);
	}
	if (r >= 0)
		r = pc_ruleset_check_redirects(l->cfg, l->rs, d);
	return r < 0 ? r : 0;
}

int pc_config_verdict(const char *path, uid_t euid, struct pc_loaded *ret, struct pc_diags *d)
{
	_cleanup_(pc_loaded_clear) struct pc_loaded l = {};
	_cleanup_close_ int fd = -1;
	int r, perms;

	if (!d->file)
		d->file = strdup(path);
	r = pc_config_open(path, &fd, d);
	if (r < 0)
		return r;
	perms = pc_config_check_perms(fd, path, euid, d);
	if (perms == -ENOMEM)
		return perms;
	r = pc_config_load_fd(fd, path, &l.cfg, d);
	if (r >= 0 && (r = check_set_files(l.cfg, euid, d)) == -EPERM)
		r = 0; /* refused, but the rest is judged too: every error at once */
	if (r >= 0)
		r = derive(&l, d);
	pc_diags_sort(d);
	if (r >= 0 && perms < 0)
		r = perms;
	if (r >= 0 && d->nerrors > 0)
		r = -EINVAL;
	if (r < 0)
		return r;
	*ret = l;
	l = (struct pc_loaded){};
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
