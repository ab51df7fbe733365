/* SPDX-License-Identifier: GPL-2.0-only */
/* test-tree: the decision trees give exactly the reference classifier's
 * answer, on ClassBench sets and on random synthetic rule sets. */
#include "testlib.h"

/* The ClassBench sets: $PC_CLASSBENCH_DIR (meson sets it), else the copy in
 * the source tree, relative to the source root the test runs from. */
static const char *cb_dir(void)
{
	const char *d = getenv("PC_CLASSBENCH_DIR");

	return d ? d : "tests/data/classbench";
}

/* ---- ClassBench ------------------------------------------------------------ */

struct cb_rule {
	uint32_t src, dst;
	unsigned slen, dlen;
	uint32_t sp[2], dp[2];
	uint32_t proto, pmask;
};

static size_t cb_load(const char *path, struct cb_rule **ret)
{
	FILE *f = fopen(path, "re");
	struct cb_rule *v = NULL;
	size_t n = 0, cap = 0;
	char line[512];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned s[4], d[4], fl, fm;
		struct cb_rule r;

		if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x %x/%x",
			   &s[0], &s[1], &s[2], &s[3], &r.slen, &d[0], &d[1], &d[2], &d[3],
			   &r.dlen, &r.sp[0], &r.sp[1], &r.dp[0], &r.dp[1], &r.proto, &r.pmask,
			   &fl, &fm) != 18)
			continue;
		r.src = s[0] << 24 | s[1] << 16 | s[2] << 8 | s[3];
		r.dst = d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			v = realloc(v, cap * sizeof(*v));
			assert(v);
		}
		v[n++] = r;
	}
	fclose(f);
	*ret = v;
	return n;
}

/* The same mapping as scripts/classbench2yaml: /0 and 0:65535 and proto
 * mask 0 leave the key out. */
static void cb_to_rule(const struct cb_rule *r, struct pc_rule *out)
{
	struct pc_match *m = &out->match;
	uint32_t a;

	if (r->slen) {
		a = htonl(r->src);
		prefixes_add(&m->src, 4, &a, r->slen);
	}
	if (r->dlen) {
		a = htonl(r->dst);
		prefixes_add(&m->dst, 4, &a, r->dlen);
	}
	if (!(r->sp[0] == 0 && r->sp[1] == 65535))
		ranges_add(&m->src_port, r->sp[0], r->sp[1]);
	if (!(r->dp[0] == 0 && r->dp[1] == 65535))
		ranges_add(&m->dst_port, r->dp[0], r->dp[1]);
	if (r->pmask)
		ranges_add(&m->proto, r->proto, r->proto);
}

static struct pc_config *cb_config(const struct cb_rule *v, size_t n)
{
	struct pc_config *c = config_new(n);

	for (size_t i = 0; i < n; i++)
		cb_to_rule(&v[i], &c->rules[i]);
	return c;
}

/* ---- keys ------------------------------------------------------------------ */

static const uint8_t widths[PC_KEY_WORDS] = PC_WORD_WIDTHS;

static uint32_t wmax(unsigned w)
{
	return widths[w] >= 32 ? UINT32_MAX : (1u << widths[w]) - 1;
}

/* A packet-like key: IPv4 mostly, some IPv6 and ARP; or, now and then,
 * any value within each word's width. */
static void key_random(struct pc_key *k, const struct pc_ruleset *rs)
{
	static const uint32_t protos[] = { 6, 17, 1, 58, 132, 47, 136 };
	uint32_t l3 = rnd() % 10;

	if (rnd() % 8 == 0) {
		for (unsigned w = 0; w < PC_KEY_WORDS; w++)
			k->w[w] = rnd() & wmax(w);
		return;
	}
	memset(k, 0, sizeof(*k));
	k->w[PC_W_L3] = l3 < 7 ? 0x0800 : l3 < 9 ? 0x86dd : 0x0806;
	for (unsigned w = PC_W_SRC0; w <= PC_W_DST3; w++)
		if (k->w[PC_W_L3] == 0x86dd || w == PC_W_SRC0 || w == PC_W_DST0)
			k->w[w] = k->w[PC_W_L3] == 0x0806 ? 0 : rnd();
	k->w[PC_W_PROTO] = protos[rnd() % 7];
	if (k->w[PC_W_L3] == 0x0806)
		k->w[PC_W_PROTO] = PC_PROTO_NONE;
	if (PC_PROTO_HAS_PORTS(k->w[PC_W_PROTO])) {
		k->w[PC_W_SPORT] = rnd() & 0xffff;
		k->w[PC_W_DPORT] = rnd() % 2 ? rnd() & 0xffff : rnd() % 1100;
	} else {
		k->w[PC_W_SPORT] = k->w[PC_W_DPORT] = PC_PORT_NONE;
	}
	k->w[PC_W_TCPFLAGS] = k->w[PC_W_PROTO] == 6 ? rnd() & 0xff : PC_TCPFL_NONE;
	k->w[PC_W_VLAN] = rnd() % 3 ? PC_VLAN_NONE : rnd() % 8;
	k->w[PC_W_DSCP] = k->w[PC_W_L3] == 0x0806 ? PC_DSCP_NONE : rnd() % 64;
	k->w[PC_W_LEN] = k->w[PC_W_L3] == 0x0806 ? PC_LEN_NONE : 20 + rnd() % 1500;
	k->w[PC_W_DIR] = rnd() & 1;
	k->w[PC_W_IFBITS] = PC_IFBITS_ALWAYS | (rnd() & ((1u << rs->n_iface_patterns) - 1));
}

/* A key inside box b: mode 0 = every low corner, 1 = every high corner,
 * else random points; the unconstrained words stay as in k. */
static void key_in_box(struct pc_key *k, const struct pc_box *b, int mode)
{
	for (uint32_t i = 0; i < b->nchecks; i++) {
		const struct pc_check *c = &b->c[i];
		uint32_t *v = &k->w[c->word];

		switch (c->op) {
		case PC_OP_RANGE:
			*v = mode == 0 ? c->a : mode == 1 ? c->b : rnd_in(c->a, c->b);
			break;
		case PC_OP_MASK:
			*v = c->b | (rnd() & ~c->a & wmax(c->word));
			break;
		case PC_OP_ANY: {
			uint32_t bits = c->a, pick;

			do
				pick = 1u << (rnd() % 32);
			while (!(pick & bits));
			*v = (rnd() & wmax(c->word)) | pick;
			break;
		}
		}
	}
}

/* Just outside one check of the box (off by one), the rest inside. */
static void key_edge(struct pc_key *k, const struct pc_box *b)
{
	const struct pc_check *c;

	key_in_box(k, b, 2);
	if (!b->nchecks)
		return;
	c = &b->c[rnd() % b->nchecks];
	if (c->op != PC_OP_RANGE)
		return;
	if (rnd() % 2 && c->a > 0)
		k->w[c->word] = c->a - 1;
	else if (c->b < wmax(c->word))
		k->w[c->word] = c->b + 1;
}

/* ---- checking -------------------------------------------------------------- */

struct walk_stats {
	uint64_t keys, nodes, boxes;
	uint32_t max_nodes, max_boxes;
};

/* pc_tree_classify's walk, counting node reads and box checks. */
static void walk_count(const struct pc_tree *t, const struct pc_box *boxes, const struct pc_key *k,
		       struct walk_stats *st)
{
	uint32_t best = t->cfg.nrules, nodes = 0, nb = 0;

	for (uint32_t i = 0; i < t->cfg.ntrees; i++) {
		const struct pc_node *nd;
		uint32_t idx = t->cfg.root[i];

		if (t->cfg.min_rule[i] >= best)
			continue;
		for (nd = &t->nodes[idx]; nd->kind == PC_NODE_CUT; nd = &t->nodes[idx]) {
			idx = nd->base + ((k->w[nd->word] >> nd->shift) & ((1u << nd->bits) - 1));
			nodes++;
		}
		nodes++;
		for (uint32_t j = 0; j < nd->count; j++) {
			const struct pc_box *b = &boxes[t->leaf[nd->base + j]];

			if (b->rule >= best)
				break;
			nb++;
			if (pc_box_match(b, k)) {
				best = b->rule;
				break;
			}
		}
	}
	st->keys++;
	st->nodes += nodes;
	st->boxes += nb;
	st->max_nodes = nodes > st->max_nodes ? nodes : st->max_nodes;
	st->max_boxes = nb > st->max_boxes ? nb : st->max_boxes;
}

static unsigned mismatches;

static void check_key(const struct pc_ruleset *rs, const struct pc_tree *t, const struct pc_key *k,
		      const char *what, struct walk_stats *st)
{
	uint32_t want = pc_ref_classify(rs, k), got = pc_tree_classify(t, rs->boxes, k);

	if (want != got) {
		if (mismatches++ < 10) {
			fprintf(stderr, "%s: tree says %u, reference %u; key", what, got, want);
			for (unsigned w = 0; w < PC_KEY_WORDS; w++)
				fprintf(stderr, " %x", k->w[w]);
			fputc('\n', stderr);
		}
		failures++;
	}
	if (st)
		walk_count(t, rs->boxes, k, st);
}

/* The tree's structural invariants: limits, in-range indices, sorted leaves. */
static void check_structure(const struct pc_ruleset *rs, const struct pc_tree *t, const char *what)
{
	CHECK(t->cfg.ntrees <= PC_MAX_TREES, "%s", what);
	CHECK(t->cfg.max_depth <= PC_MAX_DEPTH, "%s: depth %u", what, t->cfg.max_depth);
	CHECK(t->cfg.max_leaf <= PC_MAX_LEAF, "%s: leaf %u", what, t->cfg.max_leaf);
	CHECK(t->cfg.nrules == rs->nrules, "%s", what);
	for (uint32_t i = 0; i < t->cfg.ntrees; i++) {
		CHECK(t->cfg.root[i] < t->nnodes, "%s", what);
		CHECK(i == 0 || t->cfg.min_rule[i - 1] <= t->cfg.min_rule[i], "%s", what);
	}
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct pc_node *n = &t->nodes[i];

		if (n->kind == PC_NODE_CUT) {
			CHECK(n->bits >= 1 && n->bits <= 16 && n->word < PC_KEY_WORDS &&
			      n->base + (1u << n->bits) <= t->nnodes, "%s: node %zu", what, i);
			continue;
		}
		CHECK(n->kind == PC_NODE_LEAF || n->kind == PC_NODE_SLOW, "%s: node %zu kind %u", what,
		      i, n->kind);
		CHECK((n->kind == PC_NODE_SLOW) == (n->count > PC_MAX_LEAF), "%s: leaf %zu: kind %u, "
		      "%u boxes", what, i, n->kind, n->count);
		CHECK(n->count == 0 || n->base + n->count <= t->nleaf, "%s: leaf %zu", what, i);
		for (uint32_t j = 1; j < n->count; j++)
			CHECK(t->leaf[n->base + j - 1] < t->leaf[n->base + j], "%s: leaf order", what);
	}
	for (size_t i = 0; i < t->nleaf; i++)
		CHECK(t->leaf[i] < rs->nboxes, "%s", what);
}

static void report(const char *what, const struct pc_ruleset *rs, const struct pc_tree *t,
		   const struct walk_stats *st)
{
	size_t bytes = t->nnodes * sizeof(struct pc_node) + t->nleaf * sizeof(uint32_t);

	printf("%-14s rules %6u boxes %6zu | trees %u nodes %8zu leaf-entries %8zu depth %2u "
	       "max-leaf %2u | tree %6.2f MiB + boxes %6.2f MiB | compile %4.0f ms build %5.0f ms",
	       what, rs->nrules, rs->nboxes, t->cfg.ntrees, t->nnodes, t->nleaf, t->cfg.max_depth,
	       t->cfg.max_leaf, bytes / 1048576.0, rs->nboxes * sizeof(struct pc_box) / 1048576.0,
	       rs->compile_usec / 1000.0, t->build_usec / 1000.0);
	if (st && st->keys)
		printf(" | per key: nodes %.1f (max %u) boxes %.1f (max %u)",
		       (double)st->nodes / st->keys, st->max_nodes, (double)st->boxes / st->keys,
		       st->max_boxes);
	printf("\n");
}

/* Compare tree and reference on keys in (and at the edge of) `sample` boxes,
 * mixtures of two boxes, and random keys. */
static void compare(const struct pc_ruleset *rs, const struct pc_tree *t, const char *what,
		    size_t sample, size_t nrandom, struct walk_stats *st)
{
	struct pc_key k, k2;

	for (size_t s = 0; s < sample && rs->nboxes; s++) {
		size_t i = sample >= rs->nboxes ? s % rs->nboxes : rnd() % rs->nboxes;
		const struct pc_box *b = &rs->boxes[i];

		for (int mode = 0; mode < 4; mode++) {
			key_random(&k, rs);
			key_in_box(&k, b, mode);
			check_key(rs, t, &k, what, st);
		}
		key_random(&k, rs);
		key_edge(&k, b);
		check_key(rs, t, &k, what, st);
		/* words of one box, the others of another */
		key_random(&k2, rs);
		key_in_box(&k2, &rs->boxes[rnd() % rs->nboxes], 2);
		for (unsigned w = 0; w < PC_KEY_WORDS; w++)
			if (rnd() % 2)
				k.w[w] = k2.w[w];
		check_key(rs, t, &k, what, st);
	}
	for (size_t s = 0; s < nrandom; s++) {
		key_random(&k, rs);
		check_key(rs, t, &k, what, st);
	}
}

static struct pc_ruleset *compile_ok_warn(const struct pc_config *c, const char *what,
					  size_t *nwarn)
{
	struct pc_ruleset *rs = NULL;
	struct pc_diags d;
	int r;

	pc_diags_init(&d, what);
	r = pc_compile(c, &rs, &d);
	CHECK(r == 0, "%s: compile: %d (%zu errors)", what, r, d.nerrors);
	if (nwarn)
		*nwarn = d.nwarnings;
	pc_diags_clear(&d);
	return rs;
}

static struct pc_ruleset *compile_ok(const struct pc_config *c, const char *what)
{
	return compile_ok_warn(c, what, NULL);
}

/* Small budgets: groups split, trees fall back to slow leaves, even for small
 * rule sets. */
static const struct pc_tree_opts tiny = {
	.mem_max = 2u << 20, .mem_per_box = 48, .mem_min = 4096, .work_per_box = 4, .work_min = 256,
};

/* A tree of rs (with opts, NULL: the defaults) that holds the invariants and
 * classifies like the reference.  want_fallback: slow leaves and more trees
 * than groups must have been needed. */
static void check_build(const struct pc_ruleset *rs, const char *what, size_t sample,
			const struct pc_tree_opts *o, bool want_fallback, bool stats)
{
	struct walk_stats st = { 0 };
	struct pc_tree *t = NULL;
	int r = o ? pc_tree_build_opts(rs, o, &t) : pc_tree_build(rs, &t);

	CHECK(r == 0, "%s: tree build: %d", what, r);
	if (r < 0)
		return;
	check_structure(rs, t, what);
	if (want_fallback)
		CHECK(t->slow_leaves > 0 && t->slow_rules > 0 && t->slow_max > PC_MAX_LEAF &&
		      t->cfg.ntrees > 6, "%s: tiny budgets: %zu slow leaves, %u trees", what,
		      t->slow_leaves, t->cfg.ntrees);
	compare(rs, t, what, sample, sample, stats ? &st : NULL);
	if (stats)
		report(what, rs, t, &st);
	pc_tree_free(t);
}

/* A config file of tests/data/mixed (scripts/gen-mixed's format). */
static void run_config(const char *path, const struct pc_tree_opts *o, bool want_fallback)
{
	struct pc_config *c = NULL;
	struct pc_ruleset *rs = NULL;
	struct pc_diags d;
	char what[128];
	int r;

	snprintf(what, sizeof(what), "%s%s", strrchr(path, '/') + 1, o ? " (tiny budgets)" : "");
	pc_diags_init(&d, path);
	r = pc_config_load(path, &c, &d);
	CHECK(r == 0, "%s: load: %d", path, r);
	if (r == 0)
		rs = compile_ok(c, what);
	if (rs) {
		check_build(rs, what, 4 * rs->nboxes, o, want_fallback, true);
		pc_ruleset_free(rs);
	}
	pc_config_free(c);
	pc_diags_clear(&d);
}

static void run_classbench_opts(const char *name, size_t sample, bool stats,
				const struct pc_tree_opts *o)
{
	_cleanup_free_ char *path = NULL;
	struct cb_rule *v = NULL;
	struct pc_ruleset *rs;
	struct pc_config *c;
	size_t n, nwarn = 0;

	assert(asprintf(&path, "%s/%s", cb_dir(), name) > 0);
	n = cb_load(path, &v);
	CHECK(n > 500, "%s: %zu rules loaded (run from the source root)", path, n);
	if (n == 0)
		return;
	c = cb_config(v, n);
	rs = compile_ok_warn(c, name, &nwarn);
	if (rs) {
		/* one box a rule, but ICMP-with-port rules (fw2, fw4) can never match */
		CHECK(rs->nboxes + nwarn == n, "%s: %zu boxes + %zu warnings for %zu rules", name,
		      rs->nboxes, nwarn, n);
		check_build(rs, o ? "tiny budgets" : name, sample, o, o != NULL, stats);
		pc_ruleset_free(rs);
	}
	config_free(c);
	free(v);
}

static void run_classbench(const char *name, size_t sample, bool stats)
{
	run_classbench_opts(name, sample, stats, NULL);
}

/* ---- synthetic rule sets --------------------------------------------------- */

static void rand_prefix(struct pc_prefixes *p, bool v6)
{
	uint8_t a[16];

	for (unsigned i = 0; i < 16; i++)
		a[i] = (uint8_t)rnd();
	if (v6) {
		a[0] = 0x20;
		a[1] = rnd() % 2 ? 0x01 : 0x0d;
		prefixes_add(p, 6, a, rnd() % 4 == 0 ? 128 : 16 + rnd() % 100);
	} else {
		a[0] = (uint8_t)(10 + rnd() % 4);
		prefixes_add(p, 4, a, rnd() % 4 == 0 ? 32 : 8 + rnd() % 25);
	}
}

static void rand_rule(struct pc_rule *r)
{
	static const char *pats[] = { "eth0", "eth*", "veth?", "br-*", "wlan0", "*" };
	struct pc_match *m = &r->match;
	bool v6 = rnd() % 3 == 0;
	unsigned k;

	if (rnd() % 3)
		for (k = 1 + (rnd() % 5 == 0); k--;)
			rand_prefix(&m->src, v6 != (rnd() % 10 == 0));
	if (rnd() % 3)
		for (k = 1 + (rnd() % 5 == 0); k--;)
			rand_prefix(&m->dst, v6);
	if (rnd() % 2)
		for (k = 1 + (rnd() % 4 == 0); k--;)
			ranges_add(&m->proto, (uint32_t[]){ 6, 17, 1, 58 }[rnd() % 4], 0);
	for (size_t i = 0; i < m->proto.n; i++)
		m->proto.v[i].hi = m->proto.v[i].lo;
	if (rnd() % 3 == 0) {
		uint32_t lo = rnd() % 1100;

		ranges_add(&m->dst_port, lo, rnd() % 4 ? lo : lo + rnd() % 3000);
	}
	if (rnd() % 6 == 0)
		ranges_add(&m->src_port, 1024, 65535);
	if (rnd() % 5 == 0) {
		m->has_tcp_flags = true;
		m->tcp_flags_mask = (uint8_t)(rnd() & 0x17);
		m->tcp_flags_value = (uint8_t)(rnd() & m->tcp_flags_mask);
	}
	if (rnd() % 6 == 0)
		ranges_add(&m->vlan, rnd() % 8, rnd() % 8);
	if (m->vlan.n && m->vlan.v[0].lo > m->vlan.v[0].hi)
		m->vlan.v[0].hi = m->vlan.v[0].lo;
	if (rnd() % 8 == 0)
		ranges_add(&m->dscp, rnd() % 64, 0), m->dscp.v[0].hi = m->dscp.v[0].lo;
	if (rnd() % 10 == 0)
		ranges_add(&m->length, 0, 100 + rnd() % 1000);
	if (rnd() % 12 == 0)
		ranges_add(&m->l3, 0x0806, 0x0806);
	if (rnd() % 4 == 0)
		m->direction = (int)(rnd() % 2);
	if (rnd() % 5 == 0) {
		m->iface.n = 1 + rnd() % 2;
		m->iface.v = xcalloc(m->iface.n, sizeof(char *));
		for (size_t i = 0; i < m->iface.n; i++)
			m->iface.v[i] = strdup(pats[rnd() % 6]);
	}
}

static void run_synthetic(size_t nrules, unsigned round)
{
	char what[64];
	struct pc_config *c = config_new(nrules);
	struct pc_ruleset *rs;
	struct pc_tree *t = NULL;
	int r;

	snprintf(what, sizeof(what), "synthetic-%zu-%u", nrules, round);
	for (size_t i = 0; i < nrules; i++)
		rand_rule(&c->rules[i]);
	rs = compile_ok(c, what);
	if (rs) {
		r = pc_tree_build(rs, &t);
		CHECK(r == 0, "%s: tree build: %d", what, r);
		if (r == 0) {
			check_structure(rs, t, what);
			compare(rs, t, what, rs->nboxes, 4000, NULL);
			report(what, rs, t, NULL);
			pc_tree_free(t);
		}
		pc_ruleset_free(rs);
	}
	config_free(c);
}

/* Many overlapping ranges over a few small value spaces, and keys drawn
 * from the same small spaces: every box boundary gets exercised. */
static void rand_range(struct pc_ranges *r, uint32_t max)
{
	uint32_t a = rnd() % (max + 1), b = rnd() % (max + 1);

	ranges_add(r, a < b ? a : b, a < b ? b : a);
}

static void run_dense(size_t nrules, unsigned round)
{
	char what[64];
	struct pc_config *c = config_new(nrules);
	struct pc_ruleset *rs;
	struct pc_tree *t = NULL;
	struct pc_key k;
	int r;

	snprintf(what, sizeof(what), "dense-%zu-%u", nrules, round);
	for (size_t i = 0; i < nrules; i++) {
		struct pc_match *m = &c->rules[i].match;

		do {
			if (rnd() % 2)
				rand_range(&m->dscp, 63);
			if (rnd() % 3 == 0)
				rand_range(&m->vlan, 15);
			if (rnd() % 2)
				rand_range(&m->length, 255);
			if (rnd() % 2)
				rand_range(&m->dst_port, 63);
			if (rnd() % 4 == 0)
				rand_range(&m->dst_port, 63);
		} while (!m->dscp.n && !m->vlan.n && !m->length.n && !m->dst_port.n);
	}
	rs = compile_ok(c, what);
	if (rs) {
		r = pc_tree_build(rs, &t);
		CHECK(r == 0, "%s: tree build: %d", what, r);
		if (r == 0) {
			check_structure(rs, t, what);
			for (unsigned i = 0; i < 20000; i++) {
				memset(&k, 0, sizeof(k));
				k.w[PC_W_DSCP] = rnd() % 64;
				k.w[PC_W_VLAN] = rnd() % 17;
				k.w[PC_W_LEN] = rnd() % 256;
				k.w[PC_W_DPORT] = rnd() % 65;
				check_key(rs, t, &k, what, NULL);
			}
			report(what, rs, t, NULL);
			pc_tree_free(t);
		}
		pc_ruleset_free(rs);
	}
	config_free(c);
}

/* ---- 100,000 rules ------------------------------------------------------- */

/* A 10k set, then perturbed copies of it: prefixes moved within their top
 * byte, exact destination ports changed, until `total` rules. */
static void run_scale(const char *base, size_t total)
{
	char what[64], path[128];
	struct cb_rule *v = NULL, *big;
	struct pc_ruleset *rs;
	struct pc_config *c;
	struct pc_tree *t = NULL;
	struct walk_stats st = { 0 };
	size_t n;
	int r;

	snprintf(what, sizeof(what), "%s-100k", base);
	snprintf(path, sizeof(path), "%s/%s_10k", cb_dir(), base);
	n = cb_load(path, &v);
	CHECK(n > 0, "%s", path);
	if (!n)
		return;
	big = xcalloc(total, sizeof(*big));
	for (size_t i = 0; i < total; i++) {
		struct cb_rule x = v[i % n];

		if (i >= n) {
			uint32_t keep = x.slen < 8 ? x.slen : 8;
			uint32_t hm = keep ? ~(UINT32_MAX >> keep) : 0;

			x.src = (x.src & hm) | (rnd() & ~hm);
			keep = x.dlen < 8 ? x.dlen : 8;
			hm = keep ? ~(UINT32_MAX >> keep) : 0;
			x.dst = (x.dst & hm) | (rnd() & ~hm);
			if (x.dp[0] == x.dp[1] && rnd() % 2)
				x.dp[0] = x.dp[1] = rnd() % 65536;
		}
		big[i] = x;
	}
	c = cb_config(big, total);
	rs = compile_ok(c, what);
	if (rs) {
		r = pc_tree_build(rs, &t);
		CHECK(r == 0, "%s: tree build: %d", what, r);
		if (r == 0) {
			check_structure(rs, t, what);
			compare(rs, t, what, 300, 300, &st);
			report(what, rs, t, &st);
			pc_tree_free(t);
		}
		pc_ruleset_free(rs);
	}
	config_free(c);
	free(big);
	free(v);
}

static void test_empty(void)
{
	struct pc_config *c = config_new(0);
	struct pc_ruleset *rs = compile_ok(c, "empty");
	struct pc_tree *t = NULL;
	struct pc_key k = { 0 };

	CHECK(rs && pc_tree_build(rs, &t) == 0, "empty");
	if (t) {
		CHECK(t->cfg.ntrees == 0, "empty: %u trees", t->cfg.ntrees);
		CHECK(pc_tree_classify(t, rs->boxes, &k) == 0, "empty: default is rule 0");
		pc_tree_free(t);
	}
	pc_ruleset_free(rs);
	config_free(c);
}

/* Many identical catch-alls and overlapping rules: shadowed boxes must go. */
static void test_overlap(void)
{
	struct pc_config *c = config_new(200);
	struct pc_ruleset *rs;
	struct pc_tree *t = NULL;

	for (size_t i = 0; i < 200; i++)
		if (i % 2)
			ranges_add(&c->rules[i].match.proto, 6, 6);
	rs = compile_ok(c, "overlap");
	CHECK(rs && pc_tree_build(rs, &t) == 0, "overlap builds");
	if (t) {
		check_structure(rs, t, "overlap");
		compare(rs, t, "overlap", 200, 1000, NULL);
		CHECK(t->nleaf <= 2, "overlap: %zu leaf entries, shadowed boxes kept", t->nleaf);
		pc_tree_free(t);
	}
	pc_ruleset_free(rs);
	config_free(c);
}

int main(int argc, char **argv)
{
	static const char *families[] = { "acl1", "acl2", "acl3", "acl4", "acl5", "fw1", "fw2",
					  "fw3", "fw4", "fw5", "ipc1", "ipc2" };
	char name[64];

	if (argc == 3 && strcmp(argv[1], "--only") == 0) {
		/* one ClassBench file, for tuning: test-tree --only fw5_10k */
		run_classbench(argv[2], 2000, true);
		printf("%u mismatches, %u failures\n", mismatches, failures);
		return failures ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	test_empty();
	test_overlap();
	/* issue 17: refused before slow leaves and the groups beyond the 5-tuple */
	run_config("tests/data/mixed/issue17.yaml", NULL, false);
	run_config("tests/data/mixed/issue17.yaml", &tiny, false);
	run_classbench_opts("acl1_1k", 1000, true, &tiny);
	run_classbench_opts("fw1_1k", 1000, true, &tiny);
	for (unsigned i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "%s_1k", families[i]);
		run_classbench(name, 1000, true);
	}
	for (unsigned i = 0; i < 12; i++) {
		bool dev = i == 0 || i == 5 || i == 10; /* acl1 fw1 ipc1 */

		snprintf(name, sizeof(name), "%s_10k", families[i]);
		run_classbench(name, dev ? 600 : 150, true);
	}
	for (unsigned round = 0; round < 6; round++)
		run_synthetic(round < 3 ? 300 : 2000, round);
	for (unsigned round = 0; round < 6; round++)
		run_dense(round < 3 ? 60 : 400, round);
	if (argc < 2 || strcmp(argv[1], "--no-scale"))
		for (unsigned i = 0; i < 3; i++)
			run_scale((const char *[]){ "acl1", "fw1", "ipc1" }[i], 100000);
	printf("%u mismatches, %u failures\n", mismatches, failures);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
