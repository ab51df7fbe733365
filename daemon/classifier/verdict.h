/* SPDX-License-Identifier: GPL-2.0-only */
/* verdict.h - the one judgement of a config file that pktclassctl check,
 * pktclassd --check, the daemon's start and its reload all share, so that
 * they accept and refuse the same files for the same reasons. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "classifier/compile.h"
#include "config/config.h"
#include "lib/diag.h"

/* A config with everything derived from it, not yet live. */
struct pc_loaded {
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	struct pc_tree *tree;
};

void pc_loaded_clear(struct pc_loaded *l);

/* Judge the config at path, every problem a diag in d, in file order:
 * open it once (pc_config_open: a regular file, no blocking), judge who
 * may change it by fstat on that descriptor and its directories
 * (pc_config_check_perms, with euid the caller's), parse what that same
 * descriptor reads, compile, look for rules that can never match, build
 * the lookup trees (a warning when some rules need slow leaves), and look
 * up each redirect target among the interfaces that exist now (a missing
 * one is a warning: the rule passes its packets until the interface
 * appears).  Parsing goes on after a refusal of the
 * file's permissions, so that every error is listed at once.
 * 0 with *ret filled when d holds no error; else a negative errno and *ret
 * untouched. */
int pc_config_verdict(const char *path, uid_t euid, struct pc_loaded *ret, struct pc_diags *d);

/* Count the redirect rules of rs whose target interface does not exist now
 * (the datapath passes their packets until it does; it resolves the
 * targets itself when it loads a generation).  With d, each is a warning at
 * its rule (cfg gives the positions).  Returns how many, or -ENOMEM. */
int pc_ruleset_check_redirects(const struct pc_config *cfg, const struct pc_ruleset *rs,
			       struct pc_diags *d);

/* Distinct class names of rs, the default's included. */
size_t pc_count_classes(const struct pc_ruleset *rs);
