/* SPDX-License-Identifier: GPL-2.0-only */
/* diag.h - diagnostics collected while checking a config: errors and
 * warnings, each with a position, printed as FILE:LINE:COLUMN: KIND: MSG. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct pc_pos {
	unsigned line; /* 1-based; 0 = no position */
	unsigned col;  /* 1-based */
};

enum pc_severity {
	PC_SEV_ERROR = 0,
	PC_SEV_WARNING = 1,
};

struct pc_diag {
	enum pc_severity sev;
	struct pc_pos pos;
	char *msg;
};

struct pc_diags {
	char *file;            /* as given on the command line */
	struct pc_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};

void pc_diags_init(struct pc_diags *d, const char *file);
void pc_diags_clear(struct pc_diags *d);
/* Returns 0 or -ENOMEM. */
int pc_diags_add(struct pc_diags *d, enum pc_severity sev, struct pc_pos pos,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int pc_diags_addv(struct pc_diags *d, enum pc_severity sev, struct pc_pos pos,
		  const char *fmt, va_list ap);
/* Sort by position (stable), then print one line each. */
void pc_diags_sort(struct pc_diags *d);
void pc_diags_print(const struct pc_diags *d, FILE *f);
/* Format diagnostic i as "FILE:LINE:COL: error: MSG" into buf. */
int pc_diag_format(const struct pc_diags *d, size_t i, char *buf, size_t len);
