/* SPDX-License-Identifier: GPL-2.0-only */
/* testlib.h - shared by the compile and tree tests: the counted checks of
 * check.h, a fixed-seed RNG and configs built in C. */
#pragma once

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier/compile.h"
#include "classifier/tree.h"
#include "config/config.h"
#include "lib/diag.h"
#include "lib/util.h"

#include "../lib/check.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static inline uint32_t rnd_in(uint32_t lo, uint32_t hi)
{
	uint64_t span = (uint64_t)hi - lo + 1;

	return lo + (uint32_t)(((uint64_t)rnd() << 32 | rnd()) % span);
}

/* ---- configs built in C ---------------------------------------------------- */

static inline void *xcalloc(size_t n, size_t s)
{
	void *p = calloc(n ? n : 1, s);

	assert(p);
	return p;
}

static inline void ranges_free(struct pc_ranges *r)
{
	free(r->v);
}

static inline void config_free(struct pc_config *c)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		struct pc_match *m = &c->rules[i].match;

		for (size_t j = 0; j < m->iface.n; j++)
			free(m->iface.v[j]);
		free(m->iface.v);
		free(m->iface.pos);
		free(m->src.v);
		free(m->dst.v);
		ranges_free(&m->vlan);
		ranges_free(&m->l3);
		ranges_free(&m->proto);
		ranges_free(&m->src_port);
		ranges_free(&m->dst_port);
		ranges_free(&m->dscp);
		ranges_free(&m->length);
	}
	free(c->rules);
	free(c);
}

static inline struct pc_config *config_new(size_t nrules)
{
	struct pc_config *c = xcalloc(1, sizeof(*c));

	c->rules = xcalloc(nrules, sizeof(*c->rules));
	c->n_rules = nrules;
	strcpy(c->default_class, "default");
	for (size_t i = 0; i < nrules; i++) {
		snprintf(c->rules[i].name, sizeof(c->rules[i].name), "r%zu", i);
		strcpy(c->rules[i].class_name, c->rules[i].name);
		c->rules[i].match.direction = PC_MATCH_DIR_ANY;
		c->rules[i].pos = (struct pc_pos){ .line = (unsigned)i + 1, .col = 1 };
	}
	return c;
}

static inline void ranges_add(struct pc_ranges *r, uint32_t lo, uint32_t hi)
{
	r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
	assert(r->v);
	r->v[r->n++] = (struct pc_range) { .lo = lo, .hi = hi };
}

static inline void prefixes_add(struct pc_prefixes *p, int family, const void *addr, unsigned len)
{
	struct pc_prefix *x;

	p->v = realloc(p->v, (p->n + 1) * sizeof(*p->v));
	assert(p->v);
	x = &p->v[p->n++];
	memset(x, 0, sizeof(*x));
	x->family = (uint8_t)family;
	x->len = (uint8_t)len;
	memcpy(x->addr, addr, family == 4 ? 4 : 16);
	/* clear host bits, as the parser does */
	for (unsigned i = 0; i < 16; i++) {
		int keep = (int)len - 8 * (int)i;

		if (keep <= 0)
			x->addr[i] = 0;
		else if (keep < 8)
			x->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

