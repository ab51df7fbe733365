/* SPDX-License-Identifier: GPL-2.0-only */
/* diag.c - collected diagnostics: errors and warnings with a position. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/escape.h"
#include "lib/util.h"

void pc_diags_init(struct pc_diags *d, const char *file)
{
	*d = (struct pc_diags){ .file = file ? strdup(file) : NULL };
}

/* Releases everything, file name included; pc_diags_init() again to reuse. */
void pc_diags_clear(struct pc_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].msg);
		free((char *)d->v[i].pos.file);
	}
	free(d->v);
	free(d->file);
	*d = (struct pc_diags){};
}

static int diags_grow(struct pc_diags *d)
{
	size_t cap = d->cap ? d->cap * 2 : 16;
	struct pc_diag *v;

	if (d->n < d->cap)
		return 0;
	v = reallocarray(d->v, cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->v = v;
	d->cap = cap;
	return 0;
}

int pc_diags_addv(struct pc_diags *d, enum pc_severity sev, struct pc_pos pos,
		  const char *fmt, va_list ap)
{
	size_t *kept = sev == PC_SEV_ERROR ? &d->kept_errors : &d->kept_warnings;
	char *msg;

	if (sev == PC_SEV_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	if (*kept >= PC_DIAGS_KEEP)
		return 0;
	if (pos.file && !(pos.file = strdup(pos.file)))
		msg = NULL;
	else if (diags_grow(d) < 0 || vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (!msg) {
		/* not counted after all: the caller fails with -ENOMEM */
		free((char *)pos.file);
		if (sev == PC_SEV_ERROR)
			d->nerrors--;
		else
			d->nwarnings--;
		return -ENOMEM;
	}
	d->v[d->n++] = (struct pc_diag){ .sev = sev, .pos = pos, .msg = msg };
	(*kept)++;
	return 0;
}

int pc_diags_add(struct pc_diags *d, enum pc_severity sev, struct pc_pos pos,
		 const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pc_diags_addv(d, sev, pos, fmt, ap);
	va_end(ap);
	return r;
}

/* The main file (no pos.file) first, then the others by name; in a file
 * by line and column. */
static int pos_cmp(struct pc_pos a, struct pc_pos b)
{
	int c;

	if (!a.file != !b.file)
		return a.file ? 1 : -1;
	if (a.file && (c = strcmp(a.file, b.file)) != 0)
		return c;
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	if (a.col != b.col)
		return a.col < b.col ? -1 : 1;
	return 0;
}

/* Stable: merge sort, bottom up, between v and tmp. */
static void merge_sort(struct pc_diag *v, struct pc_diag *tmp, size_t n)
{
	struct pc_diag *src = v, *dst = tmp, *t;

	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi) {
				if (pos_cmp(src[j].pos, src[i].pos) < 0)
					dst[k++] = src[j++];
				else
					dst[k++] = src[i++];
			}
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		t = src, src = dst, dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

static void insertion_sort(struct pc_diag *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct pc_diag x = v[i];
		size_t j = i;

		for (; j > 0 && pos_cmp(x.pos, v[j - 1].pos) < 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

void pc_diags_sort(struct pc_diags *d)
{
	struct pc_diag *tmp;

	if (d->n < 2)
		return;
	tmp = calloc(d->n, sizeof(*tmp));
	if (!tmp) {
		insertion_sort(d->v, d->n); /* slow but needs no memory */
		return;
	}
	merge_sort(d->v, tmp, d->n);
	free(tmp);
}

static const char *sev_name(enum pc_severity sev)
{
	return sev == PC_SEV_WARNING ? "warning" : "error";
}

/* Errors come first in the budget: warnings get what the errors leave. */
static size_t warnings_budget(const struct pc_diags *d)
{
	return d->nerrors >= PC_DIAGS_PRINT_MAX ? 0 : PC_DIAGS_PRINT_MAX - d->nerrors;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

int pc_diags_next_shown(const struct pc_diags *d, struct pc_diags_iter *it)
{
	while (it->i < d->n) {
		size_t i = it->i++;

		if (d->v[i].sev == PC_SEV_ERROR ? it->errors++ < PC_DIAGS_PRINT_MAX
						: it->warnings++ < warnings_budget(d))
			return (int)i;
	}
	return -1;
}

int pc_diags_format_more(const struct pc_diags *d, char *buf, size_t len)
{
	size_t me = d->nerrors - min_size(d->kept_errors, PC_DIAGS_PRINT_MAX);
	size_t mw = d->nwarnings - min_size(d->kept_warnings, warnings_budget(d));
	_cleanup_free_ char *file = pc_escape_dup(d->file ? d->file : "<config>");
	char e[64] = "", w[64] = "";

	if (len > 0)
		buf[0] = 0;
	if (me == 0 && mw == 0)
		return 0;
	if (me)
		snprintf(e, sizeof(e), "%zu more error%s", me, me == 1 ? "" : "s");
	if (mw)
		snprintf(w, sizeof(w), "%zu more warning%s", mw, mw == 1 ? "" : "s");
	return snprintf(buf, len, "%s: %s%s%s not shown", file ? file : "<config>", e,
			me && mw ? " and " : "", w);
}

int pc_diag_format(const struct pc_diags *d, size_t i, char *buf, size_t len)
{
	const struct pc_diag *g;
	const char *file;
	char raw[4096];

	if (i >= d->n)
		return -EINVAL;
	g = &d->v[i];
	file = g->pos.file ? g->pos.file : d->file ? d->file : "<config>";
	if (g->pos.line == 0)
		snprintf(raw, sizeof(raw), "%s: %s: %s", file, sev_name(g->sev), g->msg);
	else
		snprintf(raw, sizeof(raw), "%s:%u:%u: %s: %s", file, g->pos.line, g->pos.col,
			 sev_name(g->sev), g->msg);
	return (int)pc_escape(buf, len, raw);
}

void pc_diags_print(const struct pc_diags *d, FILE *f)
{
	struct pc_diags_iter it = {};
	char line[4096];
	int i;

	while ((i = pc_diags_next_shown(d, &it)) >= 0) {
		pc_diag_format(d, (size_t)i, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	if (pc_diags_format_more(d, line, sizeof(line)) > 0)
		fprintf(f, "%s\n", line);
}

void pc_pos_where(struct pc_pos pos, struct pc_pos here, const char *main_file, char *buf,
		  size_t len)
{
	const char *a = pos.file ? pos.file : main_file ? main_file : "<config>";
	const char *b = here.file ? here.file : main_file ? main_file : "<config>";

	if (strcmp(a, b) == 0)
		snprintf(buf, len, "line %u", pos.line);
	else
		snprintf(buf, len, "%s:%u:%u", a, pos.line, pos.col);
}
