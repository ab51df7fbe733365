/* SPDX-License-Identifier: GPL-2.0-only */
/* load.h - a config file turned into everything a generation needs (config,
 * rule set, trees), with its diagnostics logged; and the --check summary. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "classifier/compile.h"
#include "config/config.h"

/* A config with everything derived from it, not yet live. */
struct pc_loaded {
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	struct pc_tree *tree;
};

void pc_loaded_clear(struct pc_loaded *l);

/* Parse, validate, compile and build the trees.  Every diagnostic is
 * logged; why gets a short reason on failure; *nwarnings the warnings. */
int pc_load_config(const char *path, struct pc_loaded *ret, size_t *nwarnings,
		   char *why, size_t whylen);

/* Distinct class names, the default's included. */
size_t pc_count_classes(const struct pc_ruleset *rs);

/* The --check summary. */
void pc_print_summary(FILE *f, const char *path, const struct pc_loaded *l, size_t nwarnings);
