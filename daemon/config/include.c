/* SPDX-License-Identifier: GPL-2.0-only */
/* include.c - `include: [GLOB, ...]`: the files that fleet tools drop in
 * beside the main config.  Each is a YAML document of `rules:`,
 * `interfaces:` and `sets:` only, judged as the main file is (who may
 * change it) and parsed into a document whose every position names the
 * file, so that its errors read FILE:LINE:COLUMN of its own. */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/internal.h"
#include "lib/readall.h"

#define PC_INCLUDE_MAX_SIZE (64u << 20)

/* Files already read (and the main file): one of them matched twice is
 * read once. */
struct seen {
	struct { dev_t dev; ino_t ino; } *v;
	size_t n, cap;
};

static int seen_add(struct seen *s, const struct stat *st)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino)
			return 1;
	if (pc_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
		return -ENOMEM;
	s->v[s->n].dev = st->st_dev;
	s->v[s->n++].ino = st->st_ino;
	return 0;
}

/* Every node of an included document names its file. */
static void stamp(struct pc_ynode *n, const char *file)
{
	if (!n)
		return;
	n->pos.file = file;
	if (n->kind == PC_Y_SEQ || n->kind == PC_Y_MAP)
		for (uint32_t i = 0; i < (n->kind == PC_Y_MAP ? 2 * n->n : n->n); i++)
			stamp(n->items[i], file);
}

/* Diagnostics made for the file alone (its parser, its permissions) move
 * to v->d, each naming the file. */
static void take_diags(struct pc_vctx *v, struct pc_diags *sub, const char *file)
{
	for (size_t i = 0; i < sub->n; i++) {
		struct pc_pos pos = sub->v[i].pos;

		pos.file = file;
		if (pc_diags_add(v->d, sub->v[i].sev, pos, "%s", sub->v[i].msg) < 0)
			v->oom = true;
	}
	pc_diags_clear(sub);
}

static void file_err(struct pc_vctx *v, const char *file, const char *fmt, const char *arg)
{
	if (pc_diags_add(v->d, PC_SEV_ERROR, (struct pc_pos){ .file = file }, fmt, arg) < 0)
		v->oom = true;
}

/* The file's sections, or nothing after an error (a diag). */
static void v_doc(struct pc_vctx *v, struct pc_vdoc *d, const char *file)
{
	struct pc_vfield f[] = { PC_VF("rules"), PC_VF("interfaces"), PC_VF("sets") };
	const struct pc_ynode *root = d->doc->root;

	if (!root || pc_ynode_is_null(root))
		return; /* an empty drop-in adds nothing */
	if (root->kind != PC_Y_MAP) {
		pc_v_err(v, root, "included file: expected a mapping, got %s", pc_ykind_name(root));
		return;
	}
	if (!pc_v_map(v, root, "an included file (rules, interfaces and sets only)", f,
		      ELEMENTSOF(f)))
		return;
	d->rules = f[0].val;
	d->interfaces = f[1].val;
	d->sets = f[2].val;
}

/* Judge, read and parse one file into a new entry of docs. */
static void load_one(struct pc_vctx *v, const char *file, struct pc_vdocs *docs)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct pc_diags sub;
	struct pc_vdoc *d;
	size_t len = 0;
	int r;

	pc_diags_init(&sub, file);
	/* opened once and judged as the main file is (pc_config_verdict(),
	 * whose callers judge for the euid they run as); parsed even when
	 * refused, so that every error shows at once */
	r = pc_config_open(file, &fd, &sub);
	if (r >= 0 && pc_config_check_perms(fd, file, geteuid(), &sub) == -ENOMEM)
		r = -ENOMEM;
	if (r >= 0 && (r = pc_read_all(fd, PC_INCLUDE_MAX_SIZE, &buf, &len)) < 0)
		file_err(v, file, "cannot read: %s", strerror(-r));
	take_diags(v, &sub, file);
	if (r < 0) {
		if (r == -ENOMEM)
			v->oom = true;
		return;
	}
	d = reallocarray(docs->v, docs->n + 1, sizeof(*docs->v));
	if (!d) {
		v->oom = true;
		return;
	}
	docs->v = d;
	d = &docs->v[docs->n];
	*d = (struct pc_vdoc){};
	pc_diags_init(&sub, file);
	r = pc_ydoc_parse(buf, len, &d->doc, &sub);
	take_diags(v, &sub, file);
	if (r < 0)
		return;
	docs->n++;
	stamp(d->doc->root, file);
	v_doc(v, d, file);
}

/* A name for v->c->includes, which the positions of the file point at. */
static const char *keep_name(struct pc_vctx *v, const char *path)
{
	struct pc_config *c = v->c;
	char **p = reallocarray(c->includes, c->n_includes + 1, sizeof(*c->includes));

	if (!p) {
		v->oom = true;
		return NULL;
	}
	c->includes = p;
	p[c->n_includes] = strdup(path);
	if (!p[c->n_includes]) {
		v->oom = true;
		return NULL;
	}
	return p[c->n_includes++];
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* One include pattern, relative ones against dir. */
static void v_pattern(struct pc_vctx *v, const struct pc_ynode *n, const char *dir,
		      struct seen *seen, struct pc_vdocs *docs)
{
	const char *s = pc_v_str(v, n, "include");
	char pat[PATH_MAX];
	glob_t g = {};
	int r;

	if (!s)
		return;
	if (s[0] == '/' || !dir)
		dir = "";
	if ((size_t)snprintf(pat, sizeof(pat), "%s%s%s", dir, dir[0] ? "/" : "", s) >=
	    sizeof(pat)) {
		pc_v_err(v, n, "include: \"%s\": the path is too long", s);
		return;
	}
	r = glob(pat, GLOB_NOSORT, NULL, &g);
	if (r == GLOB_NOMATCH && !has_magic(s))
		pc_v_err(v, n, "include: %s: %s", pat, strerror(ENOENT));
	else if (r == GLOB_NOSPACE)
		v->oom = true;
	else if (r != 0 && r != GLOB_NOMATCH)
		pc_v_err(v, n, "include: \"%s\": cannot read the directory", s);
	if (r != 0) {
		globfree(&g);
		return;
	}
	/* file-name order, whatever the locale */
	qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_path);
	for (size_t i = 0; i < g.gl_pathc && !v->oom; i++) {
		struct stat st;
		const char *name;

		if (stat(g.gl_pathv[i], &st) == 0 && (r = seen_add(seen, &st)) != 0) {
			if (r < 0)
				v->oom = true;
			continue;
		}
		name = keep_name(v, g.gl_pathv[i]);
		if (name)
			load_one(v, name, docs);
	}
	globfree(&g);
}

void pc_v_includes(struct pc_vctx *v, const struct pc_ynode *n, struct pc_vdocs *docs)
{
	_cleanup_free_ char *copy = strdup(v->c->path);
	struct seen seen = {};
	struct pc_vlist l;
	struct stat st;
	const char *dir;

	if (!copy) {
		v->oom = true;
		return;
	}
	/* relative globs are relative to the main file's directory */
	dir = strchr(v->c->path, '/') ? dirname(copy) : NULL;
	/* the main file itself, should a glob match it, is not read again */
	if (stat(v->c->path, &st) == 0 && seen_add(&seen, &st) < 0)
		v->oom = true;
	if (!v->oom && pc_v_list(v, n, "include", &l))
		for (size_t i = 0; i < l.n; i++)
			v_pattern(v, pc_vlist_at(&l, i), dir, &seen, docs);
	free(seen.v);
}

void pc_vdocs_free(struct pc_vdocs *docs)
{
	for (size_t i = 0; i < docs->n; i++)
		pc_ydoc_free(docs->v[i].doc);
	free(docs->v);
	*docs = (struct pc_vdocs){};
}

const char *pc_v_where(struct pc_vctx *v, struct pc_pos pos, const struct pc_ynode *at,
		       char *buf, size_t len)
{
	pc_pos_where(pos, at ? at->pos : (struct pc_pos){}, v->d->file, buf, len);
	return buf;
}
