/* SPDX-License-Identifier: GPL-2.0-only */
/* test-set-datapath.c - sets in the datapath, against the element lists.
 *
 * Root, a private network namespace and pin path.  For configs with sets:
 * the classifier (BPF_PROG_TEST_RUN, traced) must give every packet the
 * rule of the reference classifier with the set bits computed from the
 * element lists (pc_set_bits), and PC_W_SETS must be those bits; the pool's
 * lookup in user space (bpf/setlookup.h, the classifier's own code) must
 * agree with the element lists on random and boundary addresses after
 * building, after each of many random run-time changes (copy on write),
 * after a flush and a load, after a reload (the config's elements, plus the
 * run-time ones of dynamic sets) and after the pool is adopted by a new
 * open (as after a restart).  Also: more than PC_SET_REFS_EAGER references
 * (the lazy PC_OP_SET checks), sets among rules on every key through the
 * trees and a slow leaf, refused changes, and the pool's blocks all coming
 * back once the sets are gone.  The flow cache: every packet runs twice, the
 * packets of earlier checks run again after each change (their cached
 * answers must follow it), and a cached flow sees a set change at its very
 * next packet.
 *
 * Without root or bpf(): exit 77 (skip), or failure when CI=true. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "classifier/compile.h"
#include "config/config.h"
#include "datapath/datapath.h"
#include "lib/pktgen.h"
#include "lib/util.h"
#include "../lib/privtest.h"

#define IFINDEX 1 /* lo of the private netns */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static struct pc_dp *dp;
static char pin[128];
static int ncpus;
static uint32_t att[PC_HOOK_MAX];
static uint32_t gen_no;
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 16);
}

static void cleanup(void)
{
	if (dp) {
		pc_dp_close(dp, false);
		dp = NULL;
	}
	if (pin[0]) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pin);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", pin);
	}
}

/* ---- a loaded config ---------------------------------------------------------------- */
struct loaded {
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	struct pc_tree *t;
	struct pc_gen *g;
	struct pc_set_changes ch;
};

static void loaded_free(struct loaded *l)
{
	pc_tree_freep(&l->t);
	pc_ruleset_freep(&l->rs);
	pc_config_freep(&l->cfg);
	pc_set_changes_clear(&l->ch);
	*l = (struct loaded){};
}

/* One more tree for t: a slow leaf (PC_NODE_SLOW) of every box of rs, which
 * the datapath scans in its bpf_loop() path, for every packet class. */
static int add_slow_tree(const struct pc_ruleset *rs, struct pc_tree *t)
{
	struct pc_gen_cfg *c = &t->cfg;
	struct pc_node *nodes;
	uint32_t *leaf, k = c->ntrees;

	if (k >= PC_MAX_TREES || !rs->nboxes)
		return -E2BIG;
	nodes = reallocarray(t->nodes, t->nnodes + 1, sizeof(*nodes));
	if (nodes)
		t->nodes = nodes;
	leaf = reallocarray(t->leaf, t->nleaf + rs->nboxes, sizeof(*leaf));
	if (leaf)
		t->leaf = leaf;
	if (!nodes || !leaf)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nboxes; i++)
		t->leaf[t->nleaf + i] = (uint32_t)i;
	t->nodes[t->nnodes] = (struct pc_node){ .kind = PC_NODE_SLOW, .base = (uint32_t)t->nleaf,
						.count = (uint32_t)rs->nboxes,
						.min_rule = rs->boxes[0].rule };
	c->root[k] = (uint32_t)t->nnodes++;
	c->min_rule[k] = rs->boxes[0].rule;
	c->depth[k] = 1;
	c->leaf[k] = 0;
	if (!c->max_depth)
		c->max_depth = 1;
	for (unsigned cls = 0; cls < ELEMENTSOF(c->cmin[k]); cls++)
		c->cmin[k][cls] = rs->boxes[0].rule;
	c->ntrees++;
	t->nleaf += rs->nboxes;
	t->slow_leaves++;
	t->slow_entries += rs->nboxes;
	return 0;
}

/* Parse, compile, stage, load and commit yaml: the live generation; slow:
 * with a slow leaf of every box besides the trees. */
static int load_opt(const char *yaml, struct loaded *l, bool slow)
{
	struct pc_iface ifc = { .attach = { att[0], att[1], att[2] } };
	struct pc_diags d;
	int r;

	memset(l, 0, sizeof(*l));
	pc_diags_init(&d, "/test/sets.yaml");
	r = pc_config_parse("/test/sets.yaml", yaml, strlen(yaml), &l->cfg, &d);
	if (r >= 0)
		r = pc_compile(l->cfg, &l->rs, &d);
	if (r < 0)
		pc_diags_print(&d, stderr);
	pc_diags_clear(&d);
	if (r >= 0)
		r = pc_tree_build(l->rs, &l->t);
	if (r >= 0 && slow)
		r = add_slow_tree(l->rs, l->t);
	if (r >= 0)
		r = pc_dp_sets_stage(dp, l->cfg, ++gen_no, &l->ch);
	if (r >= 0) {
		r = pc_dp_gen_prepare(dp, l->rs, l->t, gen_no, &l->g);
		if (r < 0) {
			fprintf(stderr, "%s\n", pc_dp_verifier_log(dp));
			pc_dp_sets_abort(dp);
		}
	}
	if (r >= 0) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(pc_dp_gen_prog_fd(l->g, PC_HOOK_INGRESS), &info, &len) == 0)
			printf("# %zu set references: verified_insns %u, xlated %u bytes\n",
			       l->rs->nsetrefs, info.verified_insns, info.xlated_prog_len);
		ifc.ifbits = pc_ifbits(l->rs, "lo");
		r = pc_dp_gen_set_iface(l->g, IFINDEX, &ifc);
	}
	if (r >= 0)
		r = pc_dp_gen_commit(dp, l->g, "/test/sets.yaml");
	CHECK(r == 0, "load: %s", strerror(-r));
	return r;
}

static int load(const char *yaml, struct loaded *l)
{
	return load_opt(yaml, l, false);
}

/* The live contents of every set of l's config, as views. */
static void live_views(const struct loaded *l, struct pc_set_view *v)
{
	for (size_t i = 0; i < l->cfg->n_sets; i++) {
		int r = pc_dp_set_get(dp, l->cfg->sets[i].name, NULL, &v[i]);

		CHECK(r == 0, "set %s: %s", l->cfg->sets[i].name, strerror(-r));
	}
}

/* ---- packets ---------------------------------------------------------------------------- */
struct run {
	int err;
	uint32_t retval;
	struct pc_trace tr;
};

static int trace_take(int fd, struct pc_trace *ret)
{
	struct pc_trace *v = calloc(ncpus, sizeof(*v));
	uint32_t zero = 0;
	int r = 0;

	if (!v)
		return -ENOMEM;
	if (ret && bpf_map_lookup_elem(fd, &zero, v) == 0)
		for (int i = 0; i < ncpus; i++)
			if (v[i].runs)
				*ret = v[i];
	memset(v, 0, ncpus * sizeof(*v));
	if (bpf_map_update_elem(fd, &zero, v, BPF_ANY) < 0)
		r = -errno;
	free(v);
	return r;
}

static void run_pkt(const struct loaded *l, const struct pg_pkt *p, struct run *r)
{
	uint8_t buf[PG_FRAME_MAX], out[PG_FRAME_MAX + 64];
	int len = pg_build(p, buf, sizeof(buf));
	struct __sk_buff in = { .ifindex = IFINDEX, .cb[PC_CB_HOOK] = PC_HOOK_INGRESS };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &in,
		    .ctx_size_in = sizeof(in), .repeat = 1);

	memset(r, 0, sizeof(*r));
	trace_take(pc_dp_gen_trace_fd(l->g), NULL);
	r->err = bpf_prog_test_run_opts(pc_dp_gen_prog_fd(l->g, PC_HOOK_INGRESS), &o) < 0 ? -errno : 0;
	r->retval = o.retval;
	trace_take(pc_dp_gen_trace_fd(l->g), &r->tr);
}

/* A random address: in or next to an element of the list (most of the
 * time), or anywhere. */
static void rnd_addr(const struct pc_set_view *v, uint8_t family, uint32_t *w)
{
	unsigned nw = family == 4 ? 1 : 4;

	for (unsigned i = 0; i < 4; i++)
		w[i] = i < nw ? rnd() << 16 ^ rnd() : 0;
	if (family == 6 && rnd() % 2)
		w[0] = 0x20010db8u;
	if (v && v->n && rnd() % 4) {
		const struct pc_set_elem *e = &v->v[rnd() % v->n];
		unsigned len = e->len;

		if (e->family != family)
			return;
		if (rnd() % 4 == 0 && len > 0)
			len -= 1 + rnd() % (len < 8 ? len : 8); /* near it, maybe outside */
		for (unsigned i = 0; i < nw; i++) {
			uint32_t a = (uint32_t)e->addr[4 * i] << 24 | (uint32_t)e->addr[4 * i + 1] << 16 |
				     (uint32_t)e->addr[4 * i + 2] << 8 | e->addr[4 * i + 3];
			int bits = (int)len - 32 * (int)i;
			uint32_t keep = bits >= 32 ? ~0u : bits <= 0 ? 0 : ~(~0u >> bits);

			w[i] = (a & keep) | (w[i] & ~keep);
		}
	}
}

static struct pg_pkt rnd_pkt(const struct pc_set_view *v)
{
	struct pg_pkt p;
	bool v6 = rnd() % 3 == 0;
	uint8_t protos[] = { 6, 17, 1 };
	uint8_t proto = protos[rnd() % 3];

	p = v6 ? pg_ipv6("::1", "::2", proto, 0, 0) : pg_ipv4(1, 2, proto, 0, 0);
	rnd_addr(v, v6 ? 6 : 4, p.src);
	rnd_addr(v, v6 ? 6 : 4, p.dst);
	if (proto != 1) {
		uint16_t hot[] = { 22, 53, 80, 443, 5060, 8000, 8080, 8099, 8100 };

		p.sport = (uint16_t)(rnd() % 2 ? hot[rnd() % ELEMENTSOF(hot)] : rnd());
		p.dport = (uint16_t)(rnd() % 2 ? hot[rnd() % ELEMENTSOF(hot)] : rnd());
	}
	return p;
}

/* A packet for rules on every key: its addresses near the elements of any
 * of the views v[0 .. nv), maybe a VLAN tag (QinQ too), DSCP, TCP flags and
 * a length of their values in the rules of test_mixed_keys(). */
static struct pg_pkt rnd_pkt_mixed(const struct pc_set_view *v, size_t nv)
{
	static const uint16_t vids[] = { 100, 250, 300, 4000, 7 };
	static const uint8_t dscps[] = { 0, 8, 10, 34, 46, 63 };
	static const unsigned lens[] = { 0, 10, 40, 100, 160, 960, 1200 };
	struct pg_pkt p = rnd_pkt(nv ? &v[rnd() % nv] : NULL);

	if (nv && rnd() % 2)
		rnd_addr(&v[rnd() % nv], p.ethertype == 0x86dd ? 6 : 4, p.dst);
	if (rnd() % 3 == 0) {
		p.ntags = 1 + rnd() % 2;
		for (unsigned i = 0; i < p.ntags; i++)
			p.vid[i] = vids[rnd() % ELEMENTSOF(vids)];
	}
	p.dscp = rnd() % 4 ? dscps[rnd() % ELEMENTSOF(dscps)] : (uint8_t)(rnd() % 64);
	p.tcp_flags = (uint8_t)rnd();
	p.payload = lens[rnd() % ELEMENTSOF(lens)] + rnd() % 8;
	return p;
}

/* Packets checked before, run again by every check: their answers may sit
 * in the flow cache from before a set change, and must follow the change. */
#define RECENT 512
static struct pg_pkt recent[RECENT];
static unsigned nrecent, recent_at;

/* One packet: the program's rule and set bits against the reference's;
 * true when they agree.  *hit: the flow cache answered. */
static bool check_one(const struct loaded *l, const struct pc_set_view *v, const struct pg_pkt *p,
		      const char *what, unsigned i, bool *hit)
{
	struct pc_key k;
	uint32_t off, want, bits, lazy[8];
	struct run r;

	pg_expect(p, &k, &off);
	k.w[PC_W_DIR] = PC_DIR_INGRESS;
	k.w[PC_W_IFBITS] = pc_ifbits(l->rs, "lo");
	bits = pc_set_bits(l->rs, v, &k, lazy);
	k.w[PC_W_SETS] = bits;
	want = pc_ref_classify_sets(l->rs, &k, lazy);
	run_pkt(l, p, &r);
	*hit = r.tr.flags & PC_TRACE_FC_HIT;
	if (!r.err && r.tr.rule == want && r.tr.key.w[PC_W_SETS] == bits)
		return true;
	fprintf(stderr, "  %s: packet %u: rule %u (want %u), set bits %#x (want %#x), %s, err %d\n",
		what, i, r.tr.rule, want, r.tr.key.w[PC_W_SETS], bits, *hit ? "cached" : "walked",
		r.err);
	return false;
}

/* n random packets (addresses near the elements of the views vs[hint];
 * hint SIZE_MAX: near any, on every key, rnd_pkt_mixed()), each twice (the
 * second answer from the flow cache), and the packets of the checks before
 * (cached under the sets as they were): the program's rule and set bits
 * against the reference's. */
static void check_packets(const struct loaded *l, unsigned n, size_t hint, const char *what)
{
	struct pc_set_view v[64];
	unsigned bad = 0, hits = 0, again = 0;
	bool hit;

	CHECK(l->cfg->n_sets <= ELEMENTSOF(v));
	live_views(l, v);
	for (unsigned i = 0; i < nrecent; i++) {
		bad += !check_one(l, v, &recent[i], what, i, &hit) && bad < 5;
		again += hit;
	}
	for (unsigned i = 0; i < n; i++) {
		struct pg_pkt p = hint == SIZE_MAX ? rnd_pkt_mixed(v, l->cfg->n_sets) :
				  rnd_pkt(hint < l->cfg->n_sets ? &v[hint] : NULL);

		for (int rep = 0; rep < 2; rep++) {
			bad += !check_one(l, v, &p, what, i, &hit) && bad < 5;
			hits += hit;
		}
		recent[recent_at] = p;
		recent_at = (recent_at + 1) % RECENT;
		nrecent += nrecent < RECENT;
	}
	CHECK(bad == 0, "%s: packets differ from the reference", what);
	CHECK(hits >= n / 2, "%s: %u flow cache hits for %u packets run twice", what, hits, n);
	printf("# %s: %u packets twice (%u answers from the flow cache) and %u of the checks before "
	       "again (%u from the cache), %u differ\n", what, n, hits, nrecent, again, bad);
}

/* n random addresses (and one per element boundary) of set index set: the
 * pool's lookup against the element list. */
static void check_member(const struct loaded *l, size_t set, unsigned n, const char *what)
{
	struct pc_set_view v;
	unsigned bad = 0, in = 0;

	CHECK(pc_dp_set_get(dp, l->cfg->sets[set].name, NULL, &v) == 0);
	for (unsigned i = 0; i < n + 2 * v.n && i < n + 20000; i++) {
		struct pc_key k = {};
		uint8_t fam = rnd() % 2 ? 4 : 6;
		int want, got;

		k.w[PC_W_L3] = fam == 4 ? PC_ETH_P_IP : PC_ETH_P_IPV6;
		rnd_addr(&v, fam, &k.w[PC_W_SRC0]);
		want = pc_set_find(&v, &k, PC_SF_SRC) >= 0;
		got = pc_dp_set_member(dp, (uint32_t)set, PC_SF_SRC, &k);
		in += want;
		if (want != got && bad++ < 5)
			fprintf(stderr, "  %s: %08x:%08x:%08x:%08x (v%u): pool %d, list %d\n", what,
				k.w[0], k.w[1], k.w[2], k.w[3], fam, got, want);
	}
	CHECK(bad == 0, "%s: %u addresses where the pool and the list disagree", what, bad);
	printf("# %s: %zu elements, %u addresses checked (%u in), %u disagree\n", what, v.n,
	       n + (unsigned)(2 * v.n < 20000 ? 2 * v.n : 20000), in, bad);
}

/* ---- random elements ------------------------------------------------------------------- */
static struct pc_set_elem rnd_prefix(void)
{
	struct pc_set_elem e = {};
	static const uint8_t len4[] = { 8, 12, 16, 20, 22, 24, 24, 24, 28, 30, 32, 32, 32, 32 };
	static const uint8_t len6[] = { 16, 24, 29, 32, 40, 48, 48, 56, 64, 64, 96, 127, 128, 128 };
	bool v6 = rnd() % 3 == 0;
	unsigned bytes = v6 ? 16 : 4;

	e.family = v6 ? 6 : 4;
	e.len = v6 ? len6[rnd() % ELEMENTSOF(len6)] : len4[rnd() % ELEMENTSOF(len4)];
	for (unsigned i = 0; i < bytes; i++)
		e.addr[i] = (uint8_t)rnd();
	if (v6 && rnd() % 2) { /* clustered, like real ones */
		e.addr[0] = 0x20, e.addr[1] = 0x01, e.addr[2] = 0x0d, e.addr[3] = 0xb8;
		if (rnd() % 2)
			e.addr[4] = 0, e.addr[5] = (uint8_t)(rnd() % 4);
	}
	if (!v6 && rnd() % 2)
		e.addr[0] = 10, e.addr[1] = (uint8_t)(rnd() % 8);
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = e.len >= 8 * (i + 1) ? 8 : e.len > 8 * i ? e.len - 8 * i : 0;

		e.addr[i] &= keep ? (uint8_t)(0xff00u >> keep) : 0;
	}
	return e;
}

static void rnd_prefixes(struct pc_set_elem *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = rnd_prefix();
}

static void change(const char *set, enum pc_set_op op, const struct pc_set_elem *e, size_t n,
		   struct pc_set_result *res)
{
	int r = pc_dp_set_change(dp, set, op, e, n, res);

	CHECK(r == 0, "change of %s (op %d, %zu elements): %s", set, op, n, strerror(-r));
}

/* ---- the tests ----------------------------------------------------------------------------- */
static const char *cfg_basic =
	"version: 1\n"
	"sets:\n"
	"  bl: { type: prefix, dynamic: true, elements: [10.1.0.0/16, 192.0.2.0/24, 192.0.2.7,\n"
	"        \"2001:db8:bad::/48\", 10.0.0.0/8, 0.0.0.0/1] }\n"
	"  ok: { type: prefix, elements: [10.2.3.0/24, \"2001:db8::/32\"] }\n"
	"  web: { type: port, elements: [80, 443, 8000-8099] }\n"
	"  empty: { type: prefix, dynamic: true }\n"
	"rules:\n"
	"  - { name: allow, match: { src: \"@ok\", dst_port: [22, \"@web\"] } }\n"
	"  - { name: drop-bl, match: { src: [\"@bl\", 203.0.113.0/24] }, action: drop }\n"
	"  - { name: to-bl, match: { dst: \"@bl\", proto: udp } }\n"
	"  - { name: web-sport, match: { proto: tcp, src_port: \"@web\", dst: \"@ok\" } }\n"
	"  - { name: none, match: { dst: \"@empty\" } }\n"
	"  - { name: tcp, match: { proto: tcp } }\n";

static void test_basic(void)
{
	struct loaded l;
	struct pc_set_result res;
	struct pc_set_elem e[4];
	bool host;

	if (load(cfg_basic, &l) < 0)
		return;
	CHECK_EQ(l.rs->nsetrefs, 7);
	CHECK_EQ(l.ch.n, 4); /* every set is new */
	check_packets(&l, 3000, 0, "basic");
	for (size_t s = 0; s < l.cfg->n_sets; s++)
		if (l.cfg->sets[s].type == PC_SET_PREFIX)
			check_member(&l, s, 2000, l.cfg->sets[s].name);

	/* a change is seen by the next packet */
	pc_set_elem_parse(PC_SET_PREFIX, "198.51.100.0/24", &e[0], &host);
	pc_set_elem_parse(PC_SET_PREFIX, "2001:db8:beef::1", &e[1], &host);
	change("empty", PC_SET_OP_ADD, e, 2, &res);
	CHECK(res.added == 2 && res.removed == 0 && res.elements == 2, "add: %zu %zu %zu",
	      res.added, res.removed, res.elements);
	check_packets(&l, 1500, 3, "after an add");
	change("empty", PC_SET_OP_ADD, e, 2, &res);
	CHECK(res.added == 0 && res.elements == 2, "the same add again: added %zu", res.added);
	change("bl", PC_SET_OP_DEL, e, 1, &res);
	CHECK(res.removed == 0 && res.elements == 6, "del of a missing element: %zu %zu",
	      res.removed, res.elements);
	pc_set_elem_parse(PC_SET_PREFIX, "10.0.0.0/8", &e[2], &host);
	change("bl", PC_SET_OP_DEL, &e[2], 1, &res);
	CHECK(res.removed == 1 && res.elements == 5, "del: %zu %zu", res.removed, res.elements);
	check_packets(&l, 1500, 0, "after a del");

	/* refused, and nothing changes */
	CHECK(pc_dp_set_change(dp, "ok", PC_SET_OP_ADD, e, 1, &res) == -EPERM,
	      "a set that is not dynamic changed");
	CHECK(pc_dp_set_change(dp, "nope", PC_SET_OP_ADD, e, 1, &res) == -ENOENT, "unknown set");
	pc_set_elem_parse(PC_SET_PORT, "99", &e[3], &host);
	CHECK(pc_dp_set_change(dp, "bl", PC_SET_OP_ADD, &e[2], 2, &res) == -EINVAL,
	      "a port into a prefix set");
	CHECK(pc_dp_set_change(dp, "web", PC_SET_OP_ADD, &e[3], 1, &res) == -EPERM);
	check_packets(&l, 500, 0, "after refused changes");
	check_member(&l, 0, 1000, "bl after refused changes");

	/* flush, then load */
	change("bl", PC_SET_OP_FLUSH, NULL, 0, &res);
	CHECK(res.removed == 5 && res.elements == 0, "flush: %zu %zu", res.removed, res.elements);
	check_packets(&l, 500, 0, "after a flush");
	change("bl", PC_SET_OP_LOAD, e, 2, &res);
	CHECK(res.added == 2 && res.elements == 2, "load: %zu %zu", res.added, res.elements);
	check_packets(&l, 1000, 0, "after a load");
	pc_dp_sets_sync(dp);
	loaded_free(&l);
}

/* Many random changes to a big dynamic set, each checked. */
static void test_changes(void)
{
	static const char *cfg =
		"version: 1\n"
		"sets:\n"
		"  big: { type: prefix, dynamic: true }\n"
		"rules:\n"
		"  - { name: a, match: { src: \"@big\" } }\n"
		"  - { name: b, match: { dst: [\"@big\", 172.16.0.0/12] } }\n";
	size_t n = 60000;
	_cleanup_free_ struct pc_set_elem *v = calloc(n, sizeof(*v));
	struct pc_set_result res;
	struct loaded l;

	if (!v || load(cfg, &l) < 0)
		return;
	rnd_prefixes(v, n);
	change("big", PC_SET_OP_LOAD, v, n, &res);
	CHECK(res.elements > n / 2, "load of %zu random prefixes: %zu elements", n, res.elements);
	check_member(&l, 0, 20000, "big after a load");
	check_packets(&l, 2000, 0, "big after a load");
	for (int round = 0; round < 40; round++) {
		struct pc_set_elem e[8];
		size_t k = 1 + rnd() % ELEMENTSOF(e);
		struct pc_set_view cur;

		pc_dp_set_get(dp, "big", NULL, &cur);
		for (size_t i = 0; i < k; i++)
			e[i] = rnd() % 2 && cur.n ? cur.v[rnd() % cur.n] : rnd_prefix();
		change("big", round % 3 ? PC_SET_OP_ADD : PC_SET_OP_DEL, e, k, &res);
		if (round % 8 == 7)
			pc_dp_sets_sync(dp); /* and reuse what was given back */
		check_member(&l, 0, 3000, "big after a change");
	}
	check_packets(&l, 2000, 0, "big after the changes");
	loaded_free(&l);
}

/* A flow whose answer the flow cache holds: a set change that moves it is
 * seen by the very next packet (a walk, under the new set version), and
 * the packet after that is a hit again; a change that does not touch it
 * still starts it anew (the version moved); a refused change does not. */
static void test_fc_next_packet(void)
{
	static const char *cfg =
		"version: 1\n"
		"sets:\n"
		"  bl: { type: prefix, dynamic: true, elements: [192.0.2.0/24] }\n"
		"rules:\n"
		"  - { name: blocked, match: { src: \"@bl\" }, action: drop }\n"
		"  - { name: web, match: { proto: tcp, dst_port: 80 } }\n";
	struct pg_pkt p = pg_ipv4(IP4(198, 51, 100, 7), IP4(10, 0, 0, 1), 6, 40000, 80);
	struct pc_set_elem e, other;
	struct pc_set_result res;
	struct loaded l;
	struct run r;
	bool hb;

	if (load(cfg, &l) < 0)
		return;
	CHECK(pc_set_elem_parse(PC_SET_PREFIX, "198.51.100.0/24", &e, &hb) == 0 &&
	      pc_set_elem_parse(PC_SET_PREFIX, "203.0.113.0/24", &other, &hb) == 0, "elements");
	for (int i = 0; i < 3; i++)
		run_pkt(&l, &p, &r);
	CHECK(r.err == 0 && r.tr.rule == 1 && (r.tr.flags & PC_TRACE_FC_HIT), "web, from the cache");
	change("bl", PC_SET_OP_ADD, &e, 1, &res);
	run_pkt(&l, &p, &r);
	CHECK(r.err == 0 && r.tr.rule == 0 && r.retval == TC_ACT_SHOT && !(r.tr.flags & PC_TRACE_FC_HIT),
	      "the next packet after set add: blocked (rule %u, flags %#x)", r.tr.rule, r.tr.flags);
	run_pkt(&l, &p, &r);
	CHECK(r.tr.rule == 0 && (r.tr.flags & PC_TRACE_FC_HIT), "then blocked from the cache");
	change("bl", PC_SET_OP_ADD, &other, 1, &res);
	run_pkt(&l, &p, &r);
	CHECK(r.tr.rule == 0 && !(r.tr.flags & PC_TRACE_FC_HIT),
	      "a change elsewhere in the set: walked again (flags %#x)", r.tr.flags);
	CHECK(pc_dp_set_change(dp, "nosuch", PC_SET_OP_ADD, &e, 1, &res) < 0, "unknown set refused");
	run_pkt(&l, &p, &r);
	CHECK(r.tr.rule == 0 && (r.tr.flags & PC_TRACE_FC_HIT), "a refused change: still cached");
	change("bl", PC_SET_OP_DEL, &e, 1, &res);
	run_pkt(&l, &p, &r);
	CHECK(r.err == 0 && r.tr.rule == 1 && r.retval == (uint32_t)TC_ACT_UNSPEC,
	      "the next packet after set del: web again (rule %u)", r.tr.rule);
	change("bl", PC_SET_OP_FLUSH, NULL, 0, &res);
	run_pkt(&l, &p, &r);
	CHECK(r.tr.rule == 1 && !(r.tr.flags & PC_TRACE_FC_HIT), "after a flush: walked, web");
	loaded_free(&l);
}

/* A reload: config elements anew, run-time ones kept by dynamic sets only. */
static void test_reload(void)
{
	static const char *cfg1 =
		"version: 1\n"
		"sets:\n"
		"  d: { type: prefix, dynamic: true, elements: [10.0.0.0/24] }\n"
		"  s: { type: prefix, elements: [10.9.0.0/16] }\n"
		"  t: { type: prefix, dynamic: true }\n"
		"  gone: { type: port, elements: [1] }\n"
		"rules:\n"
		"  - { name: a, match: { src: \"@d\" } }\n"
		"  - { name: b, match: { src: \"@s\" } }\n"
		"  - { name: c, match: { src: \"@t\" } }\n";
	static const char *cfg2 =
		"version: 1\n"
		"sets:\n"
		"  t: { type: port, dynamic: true }\n"
		"  s: { type: prefix, elements: [10.8.0.0/16] }\n"
		"  d: { type: prefix, dynamic: true, elements: [10.0.1.0/24] }\n"
		"rules:\n"
		"  - { name: c, match: { dst_port: \"@t\" } }\n"
		"  - { name: a, match: { src: \"@d\" } }\n"
		"  - { name: b, match: { src: \"@s\" } }\n";
	struct pc_set_elem e[2];
	struct pc_set_result res;
	struct pc_set_info info;
	struct loaded l1, l2;
	bool host;

	if (load(cfg1, &l1) < 0)
		return;
	pc_set_elem_parse(PC_SET_PREFIX, "192.0.2.0/24", &e[0], &host);
	pc_set_elem_parse(PC_SET_PREFIX, "10.0.0.0/24", &e[1], &host);
	change("d", PC_SET_OP_ADD, e, 2, &res);
	CHECK(res.added == 1, "added %zu", res.added);
	change("t", PC_SET_OP_ADD, e, 1, &res);
	if (load(cfg2, &l2) < 0)
		goto out;
	/* d: its new config element and the run-time one (10.0.0.0/24 was in
	 * the config and added at run time: kept) */
	CHECK(pc_dp_set_get(dp, "d", &info, NULL) == 0 && info.elements == 3,
	      "d after the reload: %zu elements", info.elements);
	CHECK(pc_dp_set_get(dp, "s", &info, NULL) == 0 && info.elements == 1);
	CHECK(pc_dp_set_get(dp, "t", &info, NULL) == 0 && info.elements == 0 &&
	      info.type == PC_SET_PORT, "t retyped: %zu elements", info.elements);
	CHECK(pc_dp_set_get(dp, "gone", &info, NULL) == -ENOENT);
	for (size_t i = 0; i < l2.ch.n; i++) {
		const struct pc_set_change *c = &l2.ch.v[i];

		if (!strcmp(c->name, "t"))
			CHECK(c->lost == 1, "t: lost %zu", c->lost);
		if (!strcmp(c->name, "gone"))
			CHECK(c->gone, "gone not reported gone");
		if (!strcmp(c->name, "d"))
			CHECK(c->added == 1 && c->removed == 0, "d: +%zu -%zu", c->added, c->removed);
	}
	check_packets(&l2, 1500, 2, "after a reload");
	check_member(&l2, 2, 2000, "d after a reload");
	/* an unchanged config: nothing to report */
	{
		struct loaded l3;

		if (load(cfg2, &l3) == 0)
			CHECK(l3.ch.n == 0, "the same config again reported %zu set changes", l3.ch.n);
		check_packets(&l3, 500, 2, "the same config again");
		loaded_free(&l3);
	}
	loaded_free(&l2);
out:
	loaded_free(&l1);
}

/* More references than PC_W_SETS has bits: the rest are lazy checks. */
static void test_many_refs(void)
{
	size_t cap = 8192, n = 0;
	_cleanup_free_ char *y = malloc(cap);
	struct loaded l;

	if (!y)
		return;
	n += (size_t)snprintf(y + n, cap - n, "version: 1\nsets:\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "  s%d: { type: prefix, elements: [10.%d.0.0/16, \"2001:db8:%x::/48\"] }\n",
				      i, i, i);
	n += (size_t)snprintf(y + n, cap - n, "  p: { type: port, elements: [7000-7999] }\nrules:\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "  - { name: r%d, match: { src: \"@s%d\", dst: \"@s%d\" } }\n", i, i,
				      (i + 1) % 40);
	n += (size_t)snprintf(y + n, cap - n,
			      "  - { name: late, match: { dst: \"@s3\", dst_port: \"@p\" } }\n");
	CHECK(n < cap);
	if (load(y, &l) < 0)
		return;
	CHECK(l.rs->nsetrefs > PC_SET_REFS_EAGER, "%zu references", l.rs->nsetrefs);
	check_packets(&l, 3000, 5, "81 references");
	/* each rule by a packet made for it, eager and lazy references alike */
	for (uint32_t i = 0; i <= 40; i++) {
		uint32_t a = i == 40 ? 3 : i, b = i == 40 ? 3 : (i + 1) % 40;
		struct pg_pkt p = pg_ipv4(IP4(10, a, 1, 2), IP4(10, b, 3, 4), 17, 1000, 7100);
		struct run r;

		if (i == 40)
			p.src[0] = IP4(192, 0, 2, 1);
		run_pkt(&l, &p, &r);
		CHECK(r.err == 0 && r.tr.rule == i, "rule r%u: got rule %u", i, r.tr.rule);
		p = pg_ipv6("2001:db8::1", "2001:db8::2", 17, 1000, 7100);
		p.src[1] = a << 16;
		p.dst[1] = b << 16;
		if (i == 40)
			p.src[0] = 0x20010db9;
		run_pkt(&l, &p, &r);
		CHECK(r.err == 0 && r.tr.rule == i, "rule r%u (IPv6): got rule %u", i, r.tr.rule);
	}
	loaded_free(&l);
}

/* Sets among rules on every key (tcp_flags with "!", dscp, length, VLAN, l3,
 * lists of literals and sets), eager and lazy references, through the trees
 * the builder makes for them and then through a slow leaf of every box too
 * (the bpf_loop() path); one rule per packet class. */
static void test_mixed_keys(void)
{
	size_t cap = 16384, n = 0;
	_cleanup_free_ char *y = malloc(cap);
	struct pc_set_result res;
	struct pc_set_elem e[2];
	bool host;

	if (!y)
		return;
	n += (size_t)snprintf(y + n, cap - n,
		"version: 1\n"
		"sets:\n"
		"  bl: { type: prefix, dynamic: true, elements: [10.0.0.0/9, 192.0.2.0/24,\n"
		"        \"2001:db8:bad::/48\", 198.51.100.7] }\n"
		"  ok: { type: prefix, elements: [10.2.0.0/16, \"2001:db8::/33\"] }\n"
		"  web: { type: port, elements: [80, 443, 8000-8099] }\n"
		"  hi: { type: port, dynamic: true, elements: [1024-65535] }\n"
		"  lz: { type: prefix, elements: [172.16.0.0/12, \"2001:db8:1::/48\", 10.2.3.0/24] }\n");
	for (int i = 0; i < 28; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "  s%d: { type: prefix, elements: [10.%d.0.0/16] }\n", i, 100 + i);
	n += (size_t)snprintf(y + n, cap - n,
		"rules:\n"
		"  - { name: m0, match: { src: \"@bl\", tcp_flags: [syn, \"!ack\"] }, action: drop }\n"
		"  - { name: m1, match: { dst: [\"@ok\", 203.0.113.0/24], dscp: [ef, af41],\n"
		"      length: \"60-200\" } }\n"
		"  - { name: m2, match: { vlan: [100, 200-300], src_port: \"@web\" } }\n"
		"  - { name: m3, match: { dst_port: [\"@web\", 22], tcp_flags: [\"!rst\"], l3: [ipv6] } }\n"
		"  - { name: m4, match: { src: \"@ok\", dst: \"@bl\", length: \"40-100\" } }\n"
		"  - { name: m5, match: { dscp: [cs1], dst: \"@bl\" }, set: { mark: 5 } }\n"
		"  - { name: m6, match: { vlan: [100], l3: [ipv4], proto: [udp, tcp] } }\n");
	for (int i = 0; i < 28; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "  - { name: f%d, match: { src: \"@s%d\", dst_port: %d } }\n", i, i,
				      1000 + i);
	/* the references from here on are past PC_SET_REFS_EAGER: lazy */
	n += (size_t)snprintf(y + n, cap - n,
		"  - { name: z0, match: { src: \"@lz\", tcp_flags: [syn], length: \"40-80\" } }\n"
		"  - { name: z1, match: { dst: [\"@lz\", 10.9.0.0/16], vlan: [100, 4000],\n"
		"      dscp: [ef, cs0] } }\n"
		"  - { name: z2, match: { src_port: \"@hi\", dst_port: [\"@web\"], l3: [ipv4] } }\n"
		"  - { name: z3, match: { dst_port: \"@hi\", tcp_flags: [\"!syn\", ack], dst: \"@bl\" } }\n"
		"  - { name: z4, match: { src: [\"@bl\", \"@lz\"], dscp: [af11, cs0], vlan: [250] } }\n"
		"  - { name: z5, match: { length: \"1000-1500\", src: \"@ok\" } }\n"
		"  - { name: tcp, match: { proto: tcp } }\n");
	CHECK(n < cap);
	for (int slow = 0; slow < 2; slow++) {
		const char *what = slow ? "every key, a slow leaf" : "every key";
		struct loaded l;

		if (load_opt(y, &l, slow) < 0)
			return;
		CHECK(l.rs->nsetrefs > PC_SET_REFS_EAGER, "%zu references", l.rs->nsetrefs);
		CHECK(!slow || l.t->slow_leaves, "no slow leaf");
		check_packets(&l, 6000, SIZE_MAX, what);
		/* a change, seen through the trees and the slow leaf alike */
		pc_set_elem_parse(PC_SET_PREFIX, "172.16.0.0/12", &e[0], &host);
		pc_set_elem_parse(PC_SET_PREFIX, "2001:db8:1::/48", &e[1], &host);
		change("bl", PC_SET_OP_ADD, e, 2, &res);
		pc_set_elem_parse(PC_SET_PORT, "1024-65535", &e[0], &host);
		pc_set_elem_parse(PC_SET_PORT, "2000-2999", &e[1], &host);
		change("hi", PC_SET_OP_LOAD, &e[1], 1, &res);
		CHECK(res.elements == 1 && res.removed == 1, "hi after a load: %zu elements",
		      res.elements);
		check_packets(&l, 3000, SIZE_MAX, slow ? "every key, a slow leaf, changed" :
						     "every key, changed");
		pc_set_elem_parse(PC_SET_PREFIX, "172.16.0.0/12", &e[0], &host);
		pc_set_elem_parse(PC_SET_PREFIX, "2001:db8:1::/48", &e[1], &host);
		change("bl", PC_SET_OP_DEL, e, 2, &res);
		pc_set_elem_parse(PC_SET_PORT, "1024-65535", &e[0], &host);
		change("hi", PC_SET_OP_LOAD, e, 1, &res);
		loaded_free(&l);
	}
}

/* The pool adopted by a new open, as after a restart (kill -9 included:
 * nothing is written at close). */
static void test_adopt(void)
{
	static const char *cfg =
		"version: 1\n"
		"sets:\n"
		"  dyn: { type: prefix, dynamic: true, elements: [10.0.0.0/8] }\n"
		"  p: { type: port, dynamic: true, elements: [80] }\n"
		"rules:\n"
		"  - { name: a, match: { src: \"@dyn\", dst_port: \"@p\" } }\n";
	struct pc_dp_opts o = { .pin_path = pin };
	size_t n = 5000;
	_cleanup_free_ struct pc_set_elem *v = calloc(n, sizeof(*v));
	struct pc_set_elem port;
	struct pc_set_result res;
	struct pc_set_info info;
	struct loaded l, l2;
	bool host;
	int r;

	if (!v || load(cfg, &l) < 0)
		return;
	rnd_prefixes(v, n);
	change("dyn", PC_SET_OP_ADD, v, n, &res);
	pc_set_elem_parse(PC_SET_PORT, "8000-8010", &port, &host);
	change("p", PC_SET_OP_ADD, &port, 1, &res);
	pc_dp_set_get(dp, "dyn", &info, NULL);
	n = info.elements;
	pc_dp_close(dp, true);
	dp = NULL;
	r = pc_dp_open(&o, &dp);
	CHECK(r == 0, "reopen: %s", strerror(-r));
	if (r < 0)
		goto out;
	CHECK(!pc_dp_sets_adopt_failed(dp), "the pool was not adopted");
	CHECK(pc_dp_set_get(dp, "dyn", &info, NULL) == 0 && info.elements == n,
	      "dyn after adoption: %zu elements, expected %zu", info.elements, n);
	pc_dp_set_trace(dp, true);
	for (int h = 0; h < PC_HOOK_MAX; h++)
		att[h] = (uint32_t)pc_dp_attach_slot_get(dp, "lo", IFINDEX, h, pc_dp_entry_id(dp, h), 0);
	/* the first generation of the new run: the sets carry on unchanged */
	if (load(cfg, &l2) == 0) {
		CHECK(l2.ch.n == 0, "adopted sets reported %zu changes", l2.ch.n);
		CHECK(pc_dp_set_get(dp, "p", &info, NULL) == 0 && info.elements == 2);
		check_member(&l2, 0, 5000, "dyn adopted");
		check_packets(&l2, 1500, 0, "adopted");
		loaded_free(&l2);
	}
out:
	loaded_free(&l);
}

/* Every block comes back once no set needs it. */
static void test_pool_drains(void)
{
	struct loaded l;

	if (load("version: 1\n", &l) < 0)
		return;
	CHECK(pc_dp_sets_sync(dp) == 0);
	CHECK(pc_dp_sets_sync(dp) == 0);
	{
		struct pc_set_info *v = NULL;
		size_t n = 1;

		CHECK(pc_dp_sets_list(dp, &v, &n) == 0 && n == 0, "%zu sets left", n);
		free(v);
	}
	loaded_free(&l);
}

static bool pinned(const char *name)
{
	char p[PC_PATH_MAX + 32];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", pin, name);
	return stat(p, &st) == 0;
}

/* No pool is made or pinned before a config has sets; the commit that
 * makes the first sets live pins it. */
static void test_no_sets_no_pool(void)
{
	struct loaded l;

	if (load("version: 1\nrules:\n  - { name: a, match: { proto: udp } }\n", &l) < 0)
		return;
	CHECK(!pinned("set_head") && !pinned("set_segs") && !pinned("setseg_0"),
	      "a config without sets pinned the sets' pool");
	loaded_free(&l);
}

static int run_tests(void)
{
	struct pc_dp_opts o = { .pin_path = pin };
	struct stat st;
	int r;

	if (unshare(CLONE_NEWNET) < 0)
		return pt_unavailable("unshare(CLONE_NEWNET) failed");
	ncpus = libbpf_num_possible_cpus();
	r = pc_dp_open(&o, &dp);
	if (r < 0) {
		fprintf(stderr, "pc_dp_open: %s\n", strerror(-r));
		return pt_unavailable("bpf datapath unavailable");
	}
	pc_dp_set_trace(dp, true);
	for (int h = 0; h < PC_HOOK_MAX; h++)
		att[h] = (uint32_t)pc_dp_attach_slot_get(dp, "lo", IFINDEX, h, pc_dp_entry_id(dp, h), 0);
	test_no_sets_no_pool();
	test_basic();
	CHECK(pinned("set_head") && pinned("set_segs") && pinned("setseg_0"),
	      "the first config with sets did not pin the pool");
	test_changes();
	test_fc_next_packet();
	test_reload();
	test_many_refs();
	test_mixed_keys();
	test_adopt();
	test_pool_drains();
	if (dp) {
		pc_dp_close(dp, false);
		dp = NULL;
	}
	CHECK(stat(pin, &st) < 0 && errno == ENOENT, "pin path left behind after close");
	printf("# %u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		return pt_unavailable("needs root");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-test-setdp-%d", (int)getpid());
	return pt_run_forked(run_tests, cleanup);
}
