/* SPDX-License-Identifier: GPL-2.0-only */
/* setmatch.c - set membership on the element lists: the reference that the
 * datapath's set lookups are compared against, and what explain names. */
#include <string.h>

#include "classifier/compile.h"

/* The address of field (PC_SF_SRC / _DST) in key, as an element of family. */
static void key_prefix(const struct pc_key *k, unsigned field, uint8_t family,
		       struct pc_set_elem *e)
{
	unsigned w0 = field == PC_SF_SRC ? PC_W_SRC0 : PC_W_DST0;

	memset(e, 0, sizeof(*e));
	e->family = family;
	for (unsigned i = 0; i < (family == 4 ? 1u : 4u); i++) {
		uint32_t v = k->w[w0 + i];

		e->addr[4 * i] = (uint8_t)(v >> 24);
		e->addr[4 * i + 1] = (uint8_t)(v >> 16);
		e->addr[4 * i + 2] = (uint8_t)(v >> 8);
		e->addr[4 * i + 3] = (uint8_t)v;
	}
}

/* e's address with the bits past len cleared. */
static void mask_to(struct pc_set_elem *e, unsigned len)
{
	unsigned bytes = e->family == 4 ? 4 : 16;

	e->len = (uint8_t)len;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;

		e->addr[i] &= keep ? (uint8_t)(0xff00u >> keep) : 0;
	}
}

static long find_exact(const struct pc_set_view *s, const struct pc_set_elem *e)
{
	size_t i = pc_set_elem_lower_bound(s->v, s->n, e);

	return i < s->n && !pc_set_elem_cmp(&s->v[i], e) ? (long)i : -1;
}

/* The longest prefix holding the address: one exact search per length. */
static long find_prefix(const struct pc_set_view *s, const struct pc_key *k, unsigned field)
{
	uint32_t l3 = k->w[PC_W_L3];
	uint8_t family = l3 == PC_ETH_P_IP ? 4 : l3 == PC_ETH_P_IPV6 ? 6 : 0;
	struct pc_set_elem e;

	if (!family)
		return -1;
	for (int len = family == 4 ? 32 : 128; len >= 0; len--) {
		long i;

		key_prefix(k, field, family, &e);
		mask_to(&e, (unsigned)len);
		i = find_exact(s, &e);
		if (i >= 0)
			return i;
	}
	return -1;
}

/* The narrowest range holding the port. */
static long find_port(const struct pc_set_view *s, uint32_t port)
{
	long best = -1;

	if (port > 0xffff)
		return -1;
	for (size_t i = 0; i < s->n && s->v[i].port.lo <= port; i++)
		if (s->v[i].family == 0 && s->v[i].port.hi >= port &&
		    (best < 0 || s->v[i].port.hi - s->v[i].port.lo <
				 s->v[best].port.hi - s->v[best].port.lo))
			best = (long)i;
	return best;
}

long pc_set_find(const struct pc_set_view *s, const struct pc_key *k, unsigned field)
{
	if (!s || !s->n)
		return -1;
	switch (field) {
	case PC_SF_SRC:
	case PC_SF_DST:
		return find_prefix(s, k, field);
	case PC_SF_SPORT:
		return find_port(s, k->w[PC_W_SPORT]);
	case PC_SF_DPORT:
		return find_port(s, k->w[PC_W_DPORT]);
	}
	return -1;
}

uint32_t pc_set_bits(const struct pc_ruleset *rs, const struct pc_set_view *sets,
		     const struct pc_key *k, uint32_t *lazy)
{
	uint32_t bits = 0;

	if (lazy)
		memset(lazy, 0, (rs->nsetrefs + 31) / 32 * sizeof(*lazy));
	for (size_t i = 0; i < rs->nsetrefs; i++) {
		const struct pc_set_ref *r = &rs->setrefs[i];

		if (r->set >= rs->nsets || pc_set_find(&sets[r->set], k, r->field) < 0)
			continue;
		if (i < PC_SET_REFS_EAGER)
			bits |= 1u << i;
		else if (lazy)
			lazy[i / 32] |= 1u << (i % 32);
	}
	return bits;
}
