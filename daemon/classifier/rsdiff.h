/* SPDX-License-Identifier: GPL-2.0-only */
/* rsdiff.h - what a reload changes, rule by rule name: added, removed, and
 * changed (same name, different match or outcome; a move alone is not a
 * change).  For the reload journal record.  Pure computation. */
#pragma once

#include <stddef.h>

#include "classifier/compile.h"

struct pc_rs_diff {
	size_t added, removed, changed;
};

/* old may be NULL (start: every rule is added).  0 or -ENOMEM. */
int pc_ruleset_diff(const struct pc_ruleset *old, const struct pc_ruleset *new,
		    struct pc_rs_diff *ret);
