/* SPDX-License-Identifier: GPL-2.0-only */
/* compile.h - a validated config turned into classifier input: rules in
 * priority order, each expanded into boxes over the key words (see
 * bpf/pktclass.h), plus each rule's outcome.  Pure computation: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktclass.h"
#include "config/config.h"

#define PC_MAX_BOXES 4000000 /* after list expansion; more is an error */

struct pc_ruleset {
	uint32_t nrules;            /* rule index nrules = the default */
	struct pc_box *boxes;       /* sorted by rule index, then as expanded */
	size_t nboxes;
	/* nrules + 1 entries, the default last.  slot/class_slot are left 0:
	 * the slot allocator fills them.  redirect_ifindex is left 0: the
	 * daemon resolves redirect[] when it loads the generation. */
	struct pc_rule_out *outs;
	char (*rule_name)[PC_NAME_MAX];   /* nrules + 1; "(default)" last */
	char (*class_name)[PC_NAME_MAX];  /* nrules + 1 */
	char (*redirect)[16];             /* nrules + 1; "" unless redirect */
	char **iface_patterns;            /* pattern i <-> bit i of PC_W_IFBITS */
	size_t n_iface_patterns;
	uint64_t compile_usec;
};

/* Compile; a rule whose lists expand past PC_MAX_BOXES, or that can never
 * match (IPv4 src with IPv6 dst only...), is reported in diags (error or
 * warning).  Returns 0, -EINVAL (diags has errors) or -ENOMEM. */
int pc_compile(const struct pc_config *cfg, struct pc_ruleset **ret, struct pc_diags *diags);
void pc_ruleset_free(struct pc_ruleset *rs);
static inline void pc_ruleset_freep(struct pc_ruleset **rs) { if (*rs) pc_ruleset_free(*rs); }

/* PC_W_IFBITS value for an interface name (bit i: fnmatch pattern i).
 * Bit 31 is always set so that "any interface" is PC_OP_ANY 0x80000000. */
#define PC_IFBITS_ALWAYS 0x80000000u
uint32_t pc_ifbits(const struct pc_ruleset *rs, const char *ifname);

/* One box against one key. */
bool pc_box_match(const struct pc_box *b, const struct pc_key *k);

/* The reference classifier: plain first match over the boxes, in order.
 * Returns the rule index, or rs->nrules for the default. */
uint32_t pc_ref_classify(const struct pc_ruleset *rs, const struct pc_key *k);
