/* SPDX-License-Identifier: GPL-2.0-only */
/* diag.h - diagnostics collected while checking a config: errors and
 * warnings, each with a position, printed as FILE:LINE:COLUMN: KIND: MSG. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pc_pos {
	unsigned line; /* 1-based; 0 = no position */
	unsigned col;  /* 1-based */
	const char *file; /* another file than pc_diags.file (an included
			   * one; not owned), or NULL */
};

enum pc_severity {
	PC_SEV_ERROR = 0,
	PC_SEV_WARNING = 1,
};

struct pc_diag {
	enum pc_severity sev;
	struct pc_pos pos;     /* pos.file: a copy, owned */
	char *msg;
};

struct pc_diags {
	char *file;            /* as given on the command line */
	struct pc_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings; /* all that were added, kept or not */
	size_t kept_errors, kept_warnings;
};

/* At most this many errors, and as many warnings, are kept (in the order
 * they are found); the counts above go on.  A 64 MiB file of broken rules
 * would otherwise take gigabytes of messages. */
#define PC_DIAGS_KEEP 10000
/* pc_diags_print() and pc_diags_next_shown() stop at this many lines (errors
 * first), then one line says how many more there are. */
#define PC_DIAGS_PRINT_MAX 100

void pc_diags_init(struct pc_diags *d, const char *file);
void pc_diags_clear(struct pc_diags *d);
/* Returns 0 or -ENOMEM. */
int pc_diags_add(struct pc_diags *d, enum pc_severity sev, struct pc_pos pos,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int pc_diags_addv(struct pc_diags *d, enum pc_severity sev, struct pc_pos pos,
		  const char *fmt, va_list ap);
/* Sort by file (d->file first, then the others by name) and position
 * (stable). */
void pc_diags_sort(struct pc_diags *d);
/* Walk the diagnostics that are shown: the first PC_DIAGS_PRINT_MAX
 * errors, and as many of the first warnings as the errors leave room for,
 * in their order.  Start with a zeroed iterator; returns an index, or -1
 * at the end. */
struct pc_diags_iter {
	size_t i, errors, warnings;
};
int pc_diags_next_shown(const struct pc_diags *d, struct pc_diags_iter *it);
/* "FILE: N more errors and M more warnings not shown" into buf when some
 * were not shown (returns its length), else 0 and buf is "". */
int pc_diags_format_more(const struct pc_diags *d, char *buf, size_t len);
/* The diagnostics that are shown, one line each (control characters
 * escaped), then the "more" line if any. */
void pc_diags_print(const struct pc_diags *d, FILE *f);
/* Format diagnostic i as "FILE:LINE:COL: error: MSG" into buf, control
 * characters in FILE and MSG escaped; FILE is the diagnostic's own file
 * (pos.file) or d->file. */
int pc_diag_format(const struct pc_diags *d, size_t i, char *buf, size_t len);
/* Where pos is, for a message about another place: "line N" in the same
 * file as here, else "FILE:LINE:COLUMN". */
void pc_pos_where(struct pc_pos pos, struct pc_pos here, const char *main_file, char *buf,
		  size_t len);
