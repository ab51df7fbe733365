/* SPDX-License-Identifier: GPL-2.0-only */
/* compile.c - config rules -> boxes over the key words, plus outcomes.
 *
 * A rule is the conjunction of its match keys, each key "any of" its list.
 * It becomes the cross product of its lists; each combination is first
 * collected as one interval per key word (intersecting whatever several keys
 * imply for the same word: l3 from a prefix and from `l3`, proto from `proto`
 * and from `tcp_flags`), so a combination that can never match shows up as an
 * empty interval and is dropped.  Then the intervals become checks, most
 * selective first. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classifier/compile.h"
#include "lib/util.h"

static const uint8_t word_width[PC_KEY_WORDS] = PC_WORD_WIDTHS;


uint32_t pc_word_max(unsigned w)
{
	return word_width[w] >= 32 ? UINT32_MAX : (1u << word_width[w]) - 1;
}

/* One combination of list entries, as one interval per word, and the set
 * references it needs. */
struct pbox {
	uint32_t lo[PC_KEY_WORDS], hi[PC_KEY_WORDS];
	uint32_t used;    /* words with an interval */
	uint32_t setmask; /* PC_W_SETS bits (references < PC_SET_REFS_EAGER) */
	uint32_t lazy[4]; /* the other references, one per set dimension */
	unsigned nlazy;
};

static bool pbox_range(struct pbox *p, unsigned w, uint32_t lo, uint32_t hi)
{
	if (p->used & (1u << w)) {
		if (lo < p->lo[w])
			lo = p->lo[w];
		if (hi > p->hi[w])
			hi = p->hi[w];
	}
	p->lo[w] = lo;
	p->hi[w] = hi;
	p->used |= 1u << w;
	return lo <= hi;
}

static uint32_t be32_at(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* A prefix: the l3 check plus one interval per address word it constrains. */
static bool pbox_prefix(struct pbox *p, unsigned w0, const struct pc_prefix *pf)
{
	unsigned nwords = pf->family == 4 ? 1 : 4;

	if (!pbox_range(p, PC_W_L3, pf->family == 4 ? PC_ETH_P_IP : PC_ETH_P_IPV6,
			pf->family == 4 ? PC_ETH_P_IP : PC_ETH_P_IPV6))
		return false;
	for (unsigned i = 0; i < nwords; i++) {
		int bits = (int)pf->len - 32 * (int)i;
		uint32_t v = be32_at(pf->addr + 4 * i), host;

		if (bits <= 0)
			break;
		host = bits >= 32 ? 0 : UINT32_MAX >> bits;
		if (!pbox_range(p, w0 + i, v & ~host, v | host))
			return false;
	}
	return true;
}

static bool proto_has_ports(uint32_t lo, uint32_t hi)
{
	static const uint32_t port_protos[] = {
		PC_IPPROTO_TCP, PC_IPPROTO_UDP, PC_IPPROTO_SCTP, PC_IPPROTO_UDPLITE,
	};

	for (size_t i = 0; i < ELEMENTSOF(port_protos); i++)
		if (lo <= port_protos[i] && port_protos[i] <= hi)
			return true;
	return false;
}

/* ---- list handling --------------------------------------------------------- */

static int range_cmp(const void *a, const void *b)
{
	const struct pc_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorted, merged copy of a range list (adjacent and overlapping entries
 * joined): fewer boxes, same set. */
static int ranges_normalize(const struct pc_ranges *in, struct pc_range **ret, size_t *n)
{
	struct pc_range *v;
	size_t k = 0;

	*ret = NULL;
	*n = 0;
	if (in->n == 0)
		return 0;
	v = malloc(in->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, in->v, in->n * sizeof(*v));
	qsort(v, in->n, sizeof(*v), range_cmp);
	for (size_t i = 1; i < in->n; i++) {
		if (v[i].lo <= v[k].hi || v[i].lo - v[k].hi == 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else
			v[++k] = v[i];
	}
	*ret = v;
	*n = k + 1;
	return 0;
}

/* The dimensions a rule's cross product runs over. */
enum {
	D_SRC, D_DST, D_PROTO, D_SPORT, D_DPORT, D_VLAN, D_L3, D_DSCP, D_LEN, D_MAX
};

static const uint8_t dim_word[D_MAX] = {
	[D_SRC] = PC_W_SRC0, [D_DST] = PC_W_DST0, [D_PROTO] = PC_W_PROTO,
	[D_SPORT] = PC_W_SPORT, [D_DPORT] = PC_W_DPORT, [D_VLAN] = PC_W_VLAN,
	[D_L3] = PC_W_L3, [D_DSCP] = PC_W_DSCP, [D_LEN] = PC_W_LEN,
};

/* Dimension d's set references ("@NAME" items): what field they look at. */
static const int8_t dim_set_field[D_MAX] = {
	[D_SRC] = PC_SF_SRC, [D_DST] = PC_SF_DST, [D_SPORT] = PC_SF_SPORT, [D_DPORT] = PC_SF_DPORT,
	[D_PROTO] = -1, [D_VLAN] = -1, [D_L3] = -1, [D_DSCP] = -1, [D_LEN] = -1,
};

/* A dimension's items: nlit literals (prefixes or normalized ranges), then
 * the set references ref[0 .. n - nlit). */
struct expansion {
	const struct pc_prefix *pf[2];   /* D_SRC, D_DST */
	struct pc_range *r[D_MAX];       /* the range dimensions, normalized */
	uint32_t *ref[D_MAX];            /* set reference indexes */
	size_t nlit[D_MAX];
	size_t n[D_MAX];                 /* 0 = unconstrained */
};

static void expansion_done(struct expansion *e)
{
	for (unsigned d = 0; d < D_MAX; d++) {
		free(e->r[d]);
		free(e->ref[d]);
	}
}

/* The index of reference (set, field), added when new. */
static int setref_index(struct pc_ruleset *rs, uint32_t set, unsigned field, uint32_t *ret)
{
	struct pc_set_ref *v;

	for (size_t i = 0; i < rs->nsetrefs; i++)
		if (rs->setrefs[i].set == set && rs->setrefs[i].field == field) {
			*ret = (uint32_t)i;
			return 0;
		}
	v = reallocarray(rs->setrefs, rs->nsetrefs + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->setrefs = v;
	v[rs->nsetrefs] = (struct pc_set_ref){ .set = (uint16_t)set, .field = (uint8_t)field };
	*ret = (uint32_t)rs->nsetrefs++;
	return 0;
}

static int expansion_sets(struct pc_ruleset *rs, struct expansion *e, unsigned d,
			  const struct pc_setrefs *sets)
{
	if (!sets->n)
		return 0;
	e->ref[d] = calloc(sets->n, sizeof(*e->ref[d]));
	if (!e->ref[d])
		return -ENOMEM;
	for (size_t i = 0; i < sets->n; i++) {
		int r = setref_index(rs, sets->v[i], (unsigned)dim_set_field[d], &e->ref[d][i]);

		if (r < 0)
			return r;
	}
	e->n[d] += sets->n;
	return 0;
}

static int expansion_init(struct pc_ruleset *rs, struct expansion *e, const struct pc_match *m)
{
	const struct pc_ranges *lists[D_MAX] = {
		[D_PROTO] = &m->proto, [D_SPORT] = &m->src_port, [D_DPORT] = &m->dst_port,
		[D_VLAN] = &m->vlan, [D_L3] = &m->l3, [D_DSCP] = &m->dscp, [D_LEN] = &m->length,
	};
	const struct pc_setrefs *sets[D_MAX] = {
		[D_SRC] = &m->src_sets, [D_DST] = &m->dst_sets, [D_SPORT] = &m->sport_sets,
		[D_DPORT] = &m->dport_sets,
	};
	int r;

	memset(e, 0, sizeof(*e));
	e->pf[D_SRC] = m->src.v;
	e->n[D_SRC] = m->src.n;
	e->pf[D_DST] = m->dst.v;
	e->n[D_DST] = m->dst.n;
	for (unsigned d = D_PROTO; d < D_MAX; d++) {
		r = ranges_normalize(lists[d], &e->r[d], &e->n[d]);
		if (r < 0)
			return r;
	}
	for (unsigned d = 0; d < D_MAX; d++) {
		e->nlit[d] = e->n[d];
		if (sets[d] && (r = expansion_sets(rs, e, d, sets[d])) < 0)
			return r;
	}
	return 0;
}

/* Number of combinations, saturating at limit + 1. */
static size_t expansion_count(const struct expansion *e, size_t limit)
{
	size_t total = 1;

	for (unsigned d = 0; d < D_MAX; d++) {
		size_t n = e->n[d] ? e->n[d] : 1;

		if (total > (limit + 1) / n)
			return limit + 1;
		total *= n;
	}
	return total;
}

/* ---- box output ------------------------------------------------------------ */

/* Check order: addresses (narrowest first), ports, then the rest by how
 * selective the word usually is.  Lower rank first. */
static unsigned check_rank(const struct pbox *p, unsigned w)
{
	static const uint8_t rest_rank[PC_KEY_WORDS] = {
		[PC_W_PROTO] = 0, [PC_W_VLAN] = 1, [PC_W_DSCP] = 2, [PC_W_LEN] = 3,
		[PC_W_TCPFLAGS] = 4, [PC_W_L3] = 5, [PC_W_DIR] = 6, [PC_W_IFBITS] = 7,
		[PC_W_SETS] = 8,
	};
	uint32_t span = p->hi[w] - p->lo[w];
	unsigned log = span ? 32 - (unsigned)__builtin_clz(span) : 0;

	if (w <= PC_W_DST3)
		return log;                    /* 0..32 */
	if (w == PC_W_SPORT || w == PC_W_DPORT)
		return 100 + log;
	return 200 + rest_rank[w];
}

struct rule_extra {
	bool tcp_flags;
	uint32_t tf_mask, tf_value;
	uint32_t ifbits; /* 0 = no iface match */
};

/* The first key word of a set reference's field. */
static const uint8_t set_field_word[] = {
	[PC_SF_SRC] = PC_W_SRC0, [PC_SF_DST] = PC_W_DST0, [PC_SF_SPORT] = PC_W_SPORT,
	[PC_SF_DPORT] = PC_W_DPORT,
};

/* Set checks go last: PC_W_SETS is a MASK on the bits looked up before the
 * walk, a PC_OP_SET check a lookup of its own. */
static unsigned box_sets(struct pc_check *c, const struct pc_ruleset *rs, const struct pbox *p)
{
	unsigned n = 0;

	if (p->setmask)
		c[n++] = (struct pc_check){ .word = PC_W_SETS, .op = PC_OP_MASK, .a = p->setmask,
					    .b = p->setmask };
	for (unsigned i = 0; i < p->nlazy; i++)
		c[n++] = (struct pc_check){ .word = set_field_word[rs->setrefs[p->lazy[i]].field],
					    .op = PC_OP_SET, .a = p->lazy[i],
					    .b = rs->setrefs[p->lazy[i]].set };
	return n;
}

static void box_emit(struct pc_box *b, uint32_t rule, const struct pbox *p,
		     const struct rule_extra *x, const struct pc_ruleset *rs)
{
	unsigned rank[PC_KEY_WORDS];
	unsigned n = 0;

	memset(b, 0, sizeof(*b));
	b->rule = rule;
	for (unsigned w = 0; w < PC_KEY_WORDS; w++) {
		struct pc_check *c;

		if (w == PC_W_TCPFLAGS && x->tcp_flags) {
			c = &b->c[n];
			*c = (struct pc_check) { .word = w, .op = PC_OP_MASK,
						 .a = x->tf_mask | PC_TCPFL_NONE, .b = x->tf_value };
		} else if (w == PC_W_IFBITS && x->ifbits) {
			c = &b->c[n];
			*c = (struct pc_check) { .word = w, .op = PC_OP_ANY, .a = x->ifbits };
		} else if ((p->used & (1u << w)) && !(p->lo[w] == 0 && p->hi[w] >= pc_word_max(w))) {
			c = &b->c[n];
			*c = (struct pc_check) { .word = w, .op = PC_OP_RANGE,
						 .a = p->lo[w], .b = p->hi[w] };
		} else
			continue;
		rank[n++] = check_rank(p, w);
	}
	/* Insertion sort by rank: at most PC_KEY_WORDS entries. */
	for (unsigned i = 1; i < n; i++) {
		struct pc_check c = b->c[i];
		unsigned r = rank[i], j = i;

		for (; j > 0 && rank[j - 1] > r; j--) {
			b->c[j] = b->c[j - 1];
			rank[j] = rank[j - 1];
		}
		b->c[j] = c;
		rank[j] = r;
	}
	b->nchecks = n + box_sets(&b->c[n], rs, p);
}

/* ---- the rule set ---------------------------------------------------------- */

static int boxes_reserve(struct pc_ruleset *rs, size_t *cap, size_t more)
{
	struct pc_box *v;
	size_t ncap;

	if (rs->nboxes + more <= *cap)
		return 0;
	ncap = *cap ? *cap : 256;
	while (ncap < rs->nboxes + more)
		ncap *= 2;
	v = realloc(rs->boxes, ncap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->boxes = v;
	*cap = ncap;
	return 0;
}

/* The base interval set every combination of a rule starts from. */
static bool rule_base(const struct pc_rule *r, struct pbox *base, const struct rule_extra *x)
{
	const struct pc_match *m = &r->match;

	memset(base, 0, sizeof(*base));
	if (m->direction != PC_MATCH_DIR_ANY &&
	    !pbox_range(base, PC_W_DIR, (uint32_t)m->direction, (uint32_t)m->direction))
		return false;
	if (x->tcp_flags) {
		if (x->tf_value & ~x->tf_mask)
			return false;
		if (!pbox_range(base, PC_W_PROTO, PC_IPPROTO_TCP, PC_IPPROTO_TCP))
			return false;
	}
	return true;
}

/* A set reference item: a bit of PC_W_SETS, or a lazy check. */
static void combo_set(struct pbox *p, uint32_t ref)
{
	if (ref < PC_SET_REFS_EAGER)
		p->setmask |= 1u << ref;
	else
		p->lazy[p->nlazy++] = ref;
}

/* Apply the choice idx[d] of every dimension to p.  False: empty. */
static bool combo_apply(struct pbox *p, const struct expansion *e, const size_t *idx)
{
	bool ports = false;

	for (unsigned d = 0; d < D_MAX; d++) {
		if (!e->n[d])
			continue;
		if (idx[d] >= e->nlit[d]) {
			combo_set(p, e->ref[d][idx[d] - e->nlit[d]]);
			ports |= d == D_SPORT || d == D_DPORT;
			continue;
		}
		if (d == D_SRC || d == D_DST) {
			if (!pbox_prefix(p, d == D_SRC ? PC_W_SRC0 : PC_W_DST0, &e->pf[d][idx[d]]))
				return false;
			continue;
		}
		if (!pbox_range(p, dim_word[d], e->r[d][idx[d]].lo, e->r[d][idx[d]].hi))
			return false;
		if (d == D_SPORT || d == D_DPORT)
			ports = true;
	}
	/* A port match never matches a protocol without ports. */
	if (ports && (p->used & (1u << PC_W_PROTO)) &&
	    !proto_has_ports(p->lo[PC_W_PROTO], p->hi[PC_W_PROTO]))
		return false;
	return true;
}

static bool odometer_next(const struct expansion *e, size_t *idx)
{
	for (unsigned d = 0; d < D_MAX; d++) {
		if (e->n[d] <= 1)
			continue;
		if (++idx[d] < e->n[d])
			return true;
		idx[d] = 0;
	}
	return false;
}

static int rule_expand(struct pc_ruleset *rs, size_t *cap, uint32_t ri, const struct pc_rule *r,
		       const struct rule_extra *x, struct pc_diags *diags)
{
	struct expansion e;
	struct pbox base;
	size_t idx[D_MAX] = { 0 }, count, before = rs->nboxes;
	int ret = 0;

	ret = expansion_init(rs, &e, &r->match);
	if (ret < 0)
		goto out;
	count = expansion_count(&e, PC_MAX_BOXES - rs->nboxes);
	if (count > PC_MAX_BOXES - rs->nboxes) {
		ret = pc_diags_add(diags, PC_SEV_ERROR, r->pos,
				   "rule '%s': its lists expand to too many combinations "
				   "(the rule set is limited to %d boxes)", r->name, PC_MAX_BOXES);
		goto out;
	}
	if (rule_base(r, &base, x))
		do {
			struct pbox p = base;

			if (!combo_apply(&p, &e, idx))
				continue;
			ret = boxes_reserve(rs, cap, 1);
			if (ret < 0)
				goto out;
			box_emit(&rs->boxes[rs->nboxes++], ri, &p, x, rs);
		} while (odometer_next(&e, idx));
	if (rs->nboxes == before)
		ret = pc_diags_add(diags, PC_SEV_WARNING, r->pos,
				   "rule '%s' can never match: its match keys contradict each other",
				   r->name);
out:
	expansion_done(&e);
	return ret;
}

static int iface_pattern_bit(struct pc_ruleset *rs, const char *pat)
{
	char **v;

	for (size_t i = 0; i < rs->n_iface_patterns; i++)
		if (strcmp(rs->iface_patterns[i], pat) == 0)
			return (int)i;
	if (rs->n_iface_patterns >= 31)
		return -E2BIG;
	v = realloc(rs->iface_patterns, (rs->n_iface_patterns + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rs->iface_patterns = v;
	v[rs->n_iface_patterns] = strdup(pat);
	if (!v[rs->n_iface_patterns])
		return -ENOMEM;
	return (int)rs->n_iface_patterns++;
}

static int rule_extra(struct pc_ruleset *rs, const struct pc_rule *r, struct rule_extra *x,
		      struct pc_diags *diags)
{
	const struct pc_match *m = &r->match;

	memset(x, 0, sizeof(*x));
	x->tcp_flags = m->has_tcp_flags;
	x->tf_mask = m->tcp_flags_mask;
	x->tf_value = m->tcp_flags_value;
	for (size_t i = 0; i < m->iface.n; i++) {
		int bit = iface_pattern_bit(rs, m->iface.v[i]);

		if (bit == -E2BIG)
			return pc_diags_add(diags, PC_SEV_ERROR,
					    m->iface.pos ? m->iface.pos[i] : r->pos,
					    "too many distinct interface patterns in rules (at most 31)");
		if (bit < 0)
			return bit;
		x->ifbits |= 1u << bit;
	}
	return 0;
}

static void rule_out(struct pc_ruleset *rs, uint32_t i, const struct pc_rule *r)
{
	struct pc_rule_out *o = &rs->outs[i];

	o->action = (uint8_t)r->action;
	if (r->action == PC_ACT_REDIRECT)
		strscpy_ok(rs->redirect[i], sizeof(rs->redirect[i]), r->redirect);
	if (r->set_mark) {
		o->flags |= PC_F_MARK;
		o->mark = r->mark;
	}
	if (r->set_priority) {
		o->flags |= PC_F_PRIO;
		o->priority = r->priority;
	}
	if (r->set_dscp) {
		o->flags |= PC_F_DSCP;
		o->dscp = r->dscp;
	}
	if (r->log)
		o->flags |= PC_F_LOG;
	strscpy_ok(rs->rule_name[i], PC_NAME_MAX, r->name);
	strscpy_ok(rs->class_name[i], PC_NAME_MAX, r->class_name[0] ? r->class_name : r->name);
}

static int ruleset_alloc(size_t nrules, struct pc_ruleset **ret)
{
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return -ENOMEM;
	rs->nrules = (uint32_t)nrules;
	rs->outs = calloc(nrules + 1, sizeof(*rs->outs));
	rs->rule_name = calloc(nrules + 1, sizeof(*rs->rule_name));
	rs->class_name = calloc(nrules + 1, sizeof(*rs->class_name));
	rs->redirect = calloc(nrules + 1, sizeof(*rs->redirect));
	if (!rs->outs || !rs->rule_name || !rs->class_name || !rs->redirect) {
		pc_ruleset_free(rs);
		return -ENOMEM;
	}
	*ret = rs;
	return 0;
}

int pc_compile(const struct pc_config *cfg, struct pc_ruleset **ret, struct pc_diags *diags)
{
	struct pc_ruleset *rs = NULL;
	uint64_t start = pc_now_usec(CLOCK_MONOTONIC);
	size_t cap = 0, nerrors = diags->nerrors;
	int r;

	if (cfg->n_rules > PC_MAX_RULES)
		return pc_diags_add(diags, PC_SEV_ERROR, (struct pc_pos){},
				    "too many rules: %zu (at most %d)", cfg->n_rules,
				    PC_MAX_RULES) ?: -EINVAL;
	r = ruleset_alloc(cfg->n_rules, &rs);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *rule = &cfg->rules[i];
		struct rule_extra x;

		r = rule_extra(rs, rule, &x, diags);
		if (r >= 0)
			r = rule_expand(rs, &cap, (uint32_t)i, rule, &x, diags);
		if (r < 0)
			goto fail;
		rule_out(rs, (uint32_t)i, rule);
	}
	rs->nsets = (uint32_t)cfg->n_sets;
	rs->outs[cfg->n_rules].action = (uint8_t)cfg->default_action;
	strscpy_ok(rs->rule_name[cfg->n_rules], PC_NAME_MAX, "(default)");
	strscpy_ok(rs->class_name[cfg->n_rules], PC_NAME_MAX, cfg->default_class);
	if (diags->nerrors > nerrors) {
		r = -EINVAL;
		goto fail;
	}
	rs->compile_usec = pc_now_usec(CLOCK_MONOTONIC) - start;
	*ret = rs;
	return 0;
fail:
	pc_ruleset_free(rs);
	return r;
}

void pc_ruleset_free(struct pc_ruleset *rs)
{
	if (!rs)
		return;
	free(rs->boxes);
	free(rs->outs);
	free(rs->rule_name);
	free(rs->class_name);
	free(rs->redirect);
	for (size_t i = 0; i < rs->n_iface_patterns; i++)
		free(rs->iface_patterns[i]);
	free(rs->iface_patterns);
	free(rs->setrefs);
	free(rs);
}

uint32_t pc_ifbits(const struct pc_ruleset *rs, const char *ifname)
{
	uint32_t bits = PC_IFBITS_ALWAYS;

	for (size_t i = 0; i < rs->n_iface_patterns; i++)
		if (fnmatch(rs->iface_patterns[i], ifname, 0) == 0)
			bits |= 1u << i;
	return bits;
}

bool pc_box_match_sets(const struct pc_box *b, const struct pc_key *k, const uint32_t *lazy)
{
	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];
		uint32_t v = c->word < PC_KEY_WORDS ? k->w[c->word] : 0;

		switch (c->op) {
		case PC_OP_RANGE:
			if (v < c->a || v > c->b)
				return false;
			break;
		case PC_OP_MASK:
			if ((v & c->a) != c->b)
				return false;
			break;
		case PC_OP_ANY:
			if (!(v & c->a))
				return false;
			break;
		case PC_OP_SET:
			if (!lazy || !(lazy[c->a / 32] >> (c->a % 32) & 1))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

bool pc_box_match(const struct pc_box *b, const struct pc_key *k)
{
	return pc_box_match_sets(b, k, NULL);
}

uint32_t pc_ref_classify_sets(const struct pc_ruleset *rs, const struct pc_key *k,
			      const uint32_t *lazy)
{
	for (size_t i = 0; i < rs->nboxes; i++)
		if (pc_box_match_sets(&rs->boxes[i], k, lazy))
			return rs->boxes[i].rule;
	return rs->nrules;
}

uint32_t pc_ref_classify(const struct pc_ruleset *rs, const struct pc_key *k)
{
	return pc_ref_classify_sets(rs, k, NULL);
}
