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
	/* Distinct (set, field) pairs the rules use, in order of first use;
	 * set indexes the config's sets.  Reference i < PC_SET_REFS_EAGER is
	 * bit i of PC_W_SETS (boxes: PC_OP_MASK on the bits they need), the
	 * others are PC_OP_SET checks with a = i, b = the set, word = the
	 * field's first word. */
	struct pc_set_ref *setrefs;
	size_t nsetrefs;
	uint32_t nsets;                   /* the config's sets */
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

/* The largest value of key word w (PC_WORD_WIDTHS): all its bits. */
uint32_t pc_word_max(unsigned w);

/* The bits of each key word that some check of rs can look at (for the
 * datapath's flow cache key, pktclass.h): two keys equal on them get the
 * same rule.  A RANGE check looks at the bits above the largest aligned
 * block its bounds are made of, MASK and ANY at their mask; a word no box
 * checks is 0; the fields of set references (and l3, for addresses) are
 * whole. */
void pc_flow_masks(const struct pc_ruleset *rs, uint32_t mask[PC_KEY_WORDS]);

/* One box against one key.  PC_OP_SET checks never hold here: see
 * pc_box_match_sets(). */
bool pc_box_match(const struct pc_box *b, const struct pc_key *k);
/* The same, with the membership of the references past PC_SET_REFS_EAGER:
 * bit i of lazy[i / 32] (NULL: none holds). */
bool pc_box_match_sets(const struct pc_box *b, const struct pc_key *k, const uint32_t *lazy);

/* The reference classifier: plain first match over the boxes, in order.
 * Returns the rule index, or rs->nrules for the default. */
uint32_t pc_ref_classify(const struct pc_ruleset *rs, const struct pc_key *k);
uint32_t pc_ref_classify_sets(const struct pc_ruleset *rs, const struct pc_key *k,
			      const uint32_t *lazy);

/* ---- set membership (setmatch.c) ------------------------------------------- */
/* A set's elements, sorted as pc_set_elems_normalize() leaves them. */
struct pc_set_view {
	const struct pc_set_elem *v;
	size_t n;
};

/* The most specific element of s holding the key's field (enum
 * pc_set_field), or -1.  A prefix holds only addresses of its family; a
 * port range only real ports (not PC_PORT_NONE). */
long pc_set_find(const struct pc_set_view *s, const struct pc_key *k, unsigned field);
/* PC_W_SETS of k for rs, sets[] being the config's sets in order (the
 * contents the packet meets); the references past PC_SET_REFS_EAGER into
 * lazy (bit i of lazy[i / 32], nsetrefs bits) when not NULL. */
uint32_t pc_set_bits(const struct pc_ruleset *rs, const struct pc_set_view *sets,
		     const struct pc_key *k, uint32_t *lazy);

