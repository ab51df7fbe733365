/* SPDX-License-Identifier: GPL-2.0-only */
/* rsdiff.h - what a reload changes, rule by rule name: added, removed, and
 * changed (same name, different match or outcome; a move alone is not a
 * change).  For the reload journal record.  Pure computation. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "classifier/compile.h"

struct pc_rs_diff {
	size_t added, removed, changed;
};

/* old may be NULL (start: every rule is added).  0 or -ENOMEM. */
int pc_ruleset_diff(const struct pc_ruleset *old, const struct pc_ruleset *new,
		    struct pc_rs_diff *ret);

/* ---- the same by digest, for `pktclassctl check` against a running daemon ---- */
/* A rule's name and a 64-bit digest of what it does (its boxes and
 * outcome, interface patterns by their text): equal digests, same rule. */
struct pc_rule_digest {
	char name[PC_NAME_MAX];
	uint64_t digest;
};

/* rs's rules (not the default) into a new array of rs->nrules. */
int pc_ruleset_digests(const struct pc_ruleset *rs, struct pc_rule_digest **ret);

enum pc_rs_change { PC_RS_ADDED, PC_RS_REMOVED, PC_RS_CHANGED };
typedef void (*pc_rs_change_fn)(enum pc_rs_change what, const char *name, void *userdata);

/* Compare two digest lists (each sorted by name here): fn for every rule
 * added, removed or changed, in name order, and the counts into *ret. */
void pc_rule_digests_diff(struct pc_rule_digest *old, size_t nold, struct pc_rule_digest *new,
			  size_t nnew, pc_rs_change_fn fn, void *userdata, struct pc_rs_diff *ret);

/* The live rules' file (pktclassd writes it at each commit, pktclassctl
 * check reads it):
 *   pktclassd-rules 1
 *   generation N PID
 *   rule NAME DIGEST       (hex; one per rule, in rule order)  */
int pc_rule_digests_print(FILE *f, const struct pc_rule_digest *v, size_t n, uint32_t generation,
			  uint32_t pid);
/* -EPROTO when f holds no such file. */
int pc_rule_digests_read(FILE *f, struct pc_rule_digest **ret, size_t *n, uint32_t *generation,
			 uint32_t *pid);
