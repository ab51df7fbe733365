/* SPDX-License-Identifier: GPL-2.0-only */
/* load.h - a config file turned into everything a generation needs (config,
 * rule set, trees), with its diagnostics logged; and the --check summary. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "classifier/compile.h"
#include "classifier/tree.h"
#include "classifier/verdict.h"
#include "config/config.h"

/* pc_config_verdict() with the daemon's euid, every diagnostic shown
 * logged; why gets a short reason on failure; *nwarnings the warnings. */
int pc_load_config(const char *path, struct pc_loaded *ret, size_t *nwarnings,
		   char *why, size_t whylen);

/* The --check summary. */
void pc_print_summary(FILE *f, const char *path, const struct pc_loaded *l, size_t nwarnings);
