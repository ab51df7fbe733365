/* SPDX-License-Identifier: GPL-2.0-only */
/* flowkey.c - which key bits the rules can tell apart: the datapath's flow
 * cache keys a packet by those only, so that packets its rules cannot tell
 * apart (another length, other TCP flags when no rule looks at them) share
 * one cached answer.  PC_W_SETS is not in that key: the cache keys the fields
 * that set references look up, whole, and the set contents are its tag's. */
#include "classifier/compile.h"

/* The bits a check's answer depends on.  RANGE lo..hi: its answer is the
 * same across every aligned block of 2^k values when lo and hi + 1 are both
 * multiples of 2^k, so only the bits from k up count. */
static uint32_t check_bits(const struct pc_check *c)
{
	uint32_t wm = pc_word_max(c->word);
	uint64_t lo = c->a, end = (uint64_t)c->b + 1;
	unsigned k = 32;

	switch (c->op) {
	case PC_OP_RANGE:
		if (lo)
			k = (unsigned)__builtin_ctzll(lo);
		if (end <= wm && (unsigned)__builtin_ctzll(end) < k)
			k = (unsigned)__builtin_ctzll(end);
		return k >= 32 ? 0 : wm & ~((1u << k) - 1);
	case PC_OP_MASK:
	case PC_OP_ANY:
		return c->a & wm;
	}
	return wm;
}

/* A set reference's answer depends on its whole field, and for an address
 * on the family (l3), whatever the set holds now or later. */
static void setref_bits(const struct pc_set_ref *r, uint32_t mask[PC_KEY_WORDS])
{
	unsigned w0 = r->field == PC_SF_SRC ? PC_W_SRC0 : PC_W_DST0;

	switch (r->field) {
	case PC_SF_SRC:
	case PC_SF_DST:
		for (unsigned i = 0; i < 4; i++)
			mask[w0 + i] = pc_word_max(w0 + i);
		mask[PC_W_L3] = pc_word_max(PC_W_L3);
		break;
	case PC_SF_SPORT:
		mask[PC_W_SPORT] = pc_word_max(PC_W_SPORT);
		break;
	case PC_SF_DPORT:
		mask[PC_W_DPORT] = pc_word_max(PC_W_DPORT);
		break;
	}
}

void pc_flow_masks(const struct pc_ruleset *rs, uint32_t mask[PC_KEY_WORDS])
{
	for (unsigned w = 0; w < PC_KEY_WORDS; w++)
		mask[w] = 0;
	for (size_t i = 0; i < rs->nsetrefs; i++)
		setref_bits(&rs->setrefs[i], mask);
	for (size_t i = 0; i < rs->nboxes; i++) {
		const struct pc_box *b = &rs->boxes[i];

		for (uint32_t j = 0; j < b->nchecks && j < PC_BOX_CHECKS; j++)
			if (b->c[j].word < PC_KEY_WORDS)
				mask[b->c[j].word] |= check_bits(&b->c[j]);
	}
}
