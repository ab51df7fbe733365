/* SPDX-License-Identifier: GPL-2.0-only */
/* shadow.h - warn about rules that can never match because one earlier rule
 * matches every packet they would (pktclassd.yaml(5), DIAGNOSTICS). */
#pragma once

#include <stdbool.h>

#include "classifier/compile.h"
#include "config/config.h"
#include "lib/diag.h"

/* For each rule R of rs (boxes sorted by rule) that is covered by one earlier
 * rule Y (every box of R lies inside some box of Y), adds at R's position:
 *   rule 'R' can never match: rule 'Y' (line N) matches every packet it would
 * naming the first such Y.  Rules without boxes are skipped.  Containment is
 * exact for range checks and never claimed when unsure for mask/any checks,
 * so a warning is always true.  cfg gives positions (rule i of rs is
 * cfg->rules[i]).  Returns the number of warnings added, -EINVAL when rs and
 * cfg disagree, or -ENOMEM. */
int pc_shadow_check(const struct pc_config *cfg, const struct pc_ruleset *rs,
		    struct pc_diags *diags);

/* Whether every key that inner matches also matches outer, treating each key
 * word on its own (PC_WORD_WIDTHS).  An inner box that matches nothing is
 * contained in anything.  false when unsure, never wrongly true. */
bool pc_box_contains(const struct pc_box *outer, const struct pc_box *inner);
