/* SPDX-License-Identifier: GPL-2.0-only */
/* test-classbench.c - ClassBench sets and traces through the whole pipeline
 * (config in memory -> pc_compile -> pc_tree_build -> pc_dp_gen_prepare) and
 * BPF_PROG_TEST_RUN of pc_tc_ingress, against pc_ref_classify: every packet
 * must get the reference's rule.
 *
 * Rule i sets mark i + 1, the default none, so the verdict is skb->mark in
 * ctx_out (the production program, no trace).  Every packet runs twice, so
 * that the second answer comes from the flow cache (where it holds one: a
 * bucket that is full keeps its flows, and a rule whose numbers do not fit
 * an entry is not cached).  The key the program derives
 * is checked by test-bpf; here pc_tree_classify is compared too, so that a
 * mismatch says whether the tree or the BPF walk is wrong.
 *
 *   test-classbench                  the 24 sets of $PC_CLASSBENCH_DIR, traces from
 *                                    $PC_CLASSBENCH_TRACE (scripts/classbench-trace):
 *                                    _1k sets whole, _10k sets $PC_CB_SAMPLE packets
 *   PC_GEN_MIXED=scripts/gen-mixed test-classbench
 *                                    a sample of gen-mixed: sets in the whole rule
 *                                    language, $PC_MIXED_DATA/issue17.yaml, IPv6
 *                                    acl1; the generator's labels are checked too
 *   test-classbench RULES TRACE ...  given rule files (ClassBench, or *.yaml) and traces
 *                                    (classbench-trace or gen-mixed; full runs)
 *
 * Root, private netns and pin path; exit 77 without them (failure when CI=true). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/datapath.h"
#include "lib/diag.h"
#include "lib/util.h"
#include "../lib/tset.h"
#include "lib/pktgen.h"
#include "../lib/privtest.h"

#define IFINDEX 1 /* lo of the private netns: what BPF_PROG_TEST_RUN uses */
#define SLOT_CAP (2 * 100000 + 64)

static char pin[128];


struct set {
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	struct pc_tree *t;
	struct pc_gen *g;
};

static void set_free(struct set *s)
{
	pc_dp_gen_free(s->g);
	pc_tree_free(s->t);
	pc_ruleset_free(s->rs);
	pc_config_free(s->cfg);
}

/* Small build budgets (groups split, slow leaves), to run the slow path on
 * small sets; o NULL: the defaults. */
static const struct pc_tree_opts tiny = {
	.mem_max = 2u << 20, .mem_per_box = 48, .mem_min = 4096, .work_per_box = 4, .work_min = 256,
};

static int set_load(struct pc_dp *dp, const char *rules, struct set *s, uint32_t *att,
		    const struct pc_tree_opts *o)
{
	struct pc_iface ifc = { .attach = { att[0], att[1], att[2] } };
	struct pc_diags d;
	int r;

	pc_diags_init(&d, rules);
	r = ts_config(rules, &s->cfg, &d);
	r = r ?: pc_compile(s->cfg, &s->rs, &d);
	if (r < 0)
		pc_diags_print(&d, stderr);
	pc_diags_clear(&d);
	r = r ?: o ? pc_tree_build_opts(s->rs, o, &s->t) : pc_tree_build(s->rs, &s->t);
	r = r ?: pc_dp_gen_prepare(dp, s->rs, s->t, 1, &s->g);
	if (r < 0)
		return r;
	ifc.ifbits = pc_ifbits(s->rs, "lo");
	return pc_dp_gen_set_iface(s->g, IFINDEX, &ifc);
}

/* Run one packet; the rule it got (nrules: the default), or a negative errno. */
static int64_t bpf_verdict(int fd, const struct set *s, const uint8_t *buf, int len, uint32_t hook)
{
	struct __sk_buff in = { .ifindex = IFINDEX, .cb[PC_CB_HOOK] = hook }, out = {};
	uint8_t dout[PG_FRAME_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .data_out = dout,
		    .data_size_out = sizeof(dout), .ctx_in = &in, .ctx_size_in = sizeof(in),
		    .ctx_out = &out, .ctx_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	if (o.retval != (uint32_t)TC_ACT_UNSPEC)
		return -EPROTO;
	return out.mark ? out.mark - 1 : s->rs->nrules;
}

/* The key the program derives, as the reference sees it. */
static int expected_key(const struct set *s, const struct ts_pkt *t, struct pc_key *k)
{
	uint32_t off;
	int st = pg_expect(&t->p, k, &off);

	k->w[PC_W_DIR] = t->hook == PC_HOOK_EGRESS ? PC_DIR_EGRESS : PC_DIR_INGRESS;
	k->w[PC_W_IFBITS] = pc_ifbits(s->rs, "lo");
	return st;
}

static void run_trace(const char *name, const struct set *s, const struct ts_pkt *p, size_t n)
{
	int fd = pc_dp_gen_prog_fd(s->g, PC_HOOK_INGRESS);
	size_t mism = 0, tree_mism = 0, label_mism = 0, labels = 0, hit = 0, bad = 0;
	struct pc_fc_stats fc = { 0 };

	for (size_t i = 0; i < n; i++) {
		uint8_t buf[PG_FRAME_MAX];
		int len = pg_build(&p[i].p, buf, sizeof(buf));
		struct pc_key k;
		uint32_t want;
		int64_t got;

		if (len < 0 || expected_key(s, &p[i], &k) == PC_PARSE_MALFORMED) {
			if (bad++ < 5)
				fprintf(stderr, "  %s packet %zu: not a well-formed packet\n", name, i);
			continue;
		}
		want = pc_ref_classify(s->rs, &k);
		hit += want < s->rs->nrules;
		tree_mism += pc_tree_classify(s->t, s->rs->boxes, &k) != want;
		if (p[i].rule != TS_NO_LABEL) {
			uint32_t lab = p[i].rule < 0 ? s->rs->nrules : (uint32_t)p[i].rule;

			labels++;
			if (lab != want && label_mism++ < 5)
				fprintf(stderr, "  %s packet %zu: generator says rule %d, reference %u\n",
					name, i, p[i].rule, want);
		}
		/* twice: the second answer is the flow cache's, where it holds one */
		for (int rep = 0; rep < 2; rep++) {
			got = bpf_verdict(fd, s, buf, len, p[i].hook);
			if (got != want && mism++ < 5)
				fprintf(stderr, "  %s packet %zu%s: bpf %lld, reference %u\n", name, i,
					rep ? " (again)" : "", (long long)got, want);
		}
	}
	CHECK(pc_dp_gen_fc_stats(s->g, &fc) == 0 && fc.hits > 0 && fc.hits + fc.misses == 2 * (n - bad),
	      "%s: flow cache: %llu hits, %llu misses for %zu runs", name,
	      (unsigned long long)fc.hits, (unsigned long long)fc.misses, 2 * (n - bad));
	CHECK(bad == 0, "%s: %zu packets of the trace are not well-formed", name, bad);
	CHECK(tree_mism == 0, "%s: pc_tree_classify differs from pc_ref_classify %zu times", name,
	      tree_mism);
	CHECK(label_mism == 0, "%s: the generator's label differs from pc_ref_classify %zu times",
	      name, label_mism);
	CHECK(mism == 0, "%s: %zu of %zu runs: BPF differs from pc_ref_classify", name, mism, 2 * n);
	printf("# %-14s %6u rules %7zu boxes %7zu nodes %2u trees %7zu slow entries: %7zu packets "
	       "(%zu match a rule, %zu labelled) twice, %llu answers from the flow cache, "
	       "%zu mismatches\n", name, s->rs->nrules, s->rs->nboxes, s->t->nnodes, s->t->cfg.ntrees,
	       s->t->slow_entries, n, hit, labels, (unsigned long long)fc.hits, mism);
}

static void run_set(struct pc_dp *dp, uint32_t *att, const char *name, const char *rules,
		    const struct ts_pkt *p, size_t n, const struct pc_tree_opts *o)
{
	struct set s = { 0 };
	int r = set_load(dp, rules, &s, att, o);

	CHECK(r == 0, "%s: load: %s", name, strerror(-r));
	if (r == 0 && o)
		CHECK(s.t->slow_leaves > 0, "%s: small budgets but no slow leaf", name);
	if (r == 0)
		run_trace(name, &s, p, n);
	set_free(&s);
}

/* RULES and TRACE files (made by a command whose result is made). */
static void run_file_pair(struct pc_dp *dp, uint32_t *att, const char *name, const char *rules,
			  const char *trace, int made, const struct pc_tree_opts *o)
{
	_cleanup_free_ struct ts_pkt *p = NULL;
	ssize_t n = made < 0 ? made : ts_trace_load(trace, &p);

	CHECK(n > 0, "%s: no trace: %s", name, strerror(n < 0 ? (int)-n : ENODATA));
	if (n > 0)
		run_set(dp, att, name, rules, p, (size_t)n, o);
}

/* Run a command; 0 when it exited 0. */
static int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return st == 0 ? 0 : -EIO;
}

/* Trace of a set from scripts/classbench-trace. */
static ssize_t trace_of(const char *path, unsigned count, struct ts_pkt **ret)
{
	const char *script = getenv("PC_CLASSBENCH_TRACE");
	char cmd[1024], tmp[] = "/tmp/pc-cb-trace-XXXXXX";
	ssize_t n;
	int fd;

	if (!script)
		return -ENOENT;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	close(fd);
	snprintf(cmd, sizeof(cmd), "'%s' --seed 7 --count %u -o '%s' '%s'", script, count, tmp, path);
	n = run_cmd(cmd) == 0 ? ts_trace_load(tmp, ret) : -EIO;
	unlink(tmp);
	return n;
}

static void run_builtin(struct pc_dp *dp, uint32_t *att)
{
	static const char *fam[] = { "acl1", "acl2", "acl3", "acl4", "acl5", "fw1", "fw2", "fw3",
				     "fw4", "fw5", "ipc1", "ipc2" };
	const char *dir = getenv("PC_CLASSBENCH_DIR"), *smp = getenv("PC_CB_SAMPLE");
	unsigned sample = smp ? (unsigned)atoi(smp) : 3000;

	for (int big = 0; big < 2; big++)
		for (size_t i = 0; i < ELEMENTSOF(fam); i++) {
			_cleanup_free_ struct ts_pkt *p = NULL;
			char name[32], path[512];
			ssize_t n;

			snprintf(name, sizeof(name), "%s_%s", fam[i], big ? "10k" : "1k");
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			n = trace_of(path, big ? sample : 0, &p);
			CHECK(n > 0, "%s: no trace: %s", name, strerror(n < 0 ? (int)-n : ENODATA));
			if (n > 0)
				run_set(dp, att, name, path, p, (size_t)n, NULL);
		}
}

/* A sample of scripts/gen-mixed in tmp: rule sets in the whole language with
 * labelled traces, the issue-17 config, and IPv6 equivalents of ClassBench sets. */
static void run_mixed(struct pc_dp *dp, uint32_t *att, const char *gen, const char *tmp)
{
	static const struct { const char *name, *args; } sets[] = {
		{ "mixed_300", "mixed --rules 300 --seed 1" },
		{ "mixed_3k", "mixed --rules 3000 --seed 2 --count 12000" },
		{ "mixed_3k_v6", "mixed --rules 3000 --seed 3 --v6 0.9 --count 12000" },
		{ "mixed_10k", "mixed --rules 10000 --seed 4 --count 6000" },
	};
	const char *dir = getenv("PC_CLASSBENCH_DIR"), *data = getenv("PC_MIXED_DATA");
	char cmd[8192], rules[600], trace[600];

	for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
		snprintf(rules, sizeof(rules), "%s/%s.yaml", tmp, sets[i].name);
		snprintf(trace, sizeof(trace), "%s/%s.trace", tmp, sets[i].name);
		snprintf(cmd, sizeof(cmd), "'%s' %s --label -o '%s' --trace '%s' 2>/dev/null", gen,
			 sets[i].args, rules, trace);
		run_file_pair(dp, att, sets[i].name, rules, trace, run_cmd(cmd), NULL);
	}
	if (data) {
		snprintf(rules, sizeof(rules), "%s/issue17.yaml", data);
		snprintf(trace, sizeof(trace), "%s/issue17.trace", tmp);
		snprintf(cmd, sizeof(cmd), "'%s' trace '%s' --seed 5 --repeat 40 --label -o '%s'",
			 gen, rules, trace);
		run_file_pair(dp, att, "issue17", rules, trace, run_cmd(cmd), NULL);
	}
	/* the slow path of a forest's own fallbacks, on a small set */
	snprintf(rules, sizeof(rules), "%s/mixed_300.yaml", tmp);
	snprintf(trace, sizeof(trace), "%s/mixed_300.trace", tmp);
	run_file_pair(dp, att, "mixed_300 tiny", rules, trace, 0, &tiny);
	for (int big = 0; dir && big < 2; big++) {
		char name[32], v4trace[600], v4[600];

		snprintf(name, sizeof(name), "acl1_%s_v6", big ? "10k" : "1k");
		snprintf(v4, sizeof(v4), "%s/acl1_%s", dir, big ? "10k" : "1k");
		snprintf(v4trace, sizeof(v4trace), "%s/%s.v4trace", tmp, name);
		snprintf(rules, sizeof(rules), "%s/%s.yaml", tmp, name);
		snprintf(trace, sizeof(trace), "%s/%s.trace", tmp, name);
		snprintf(cmd, sizeof(cmd), "'%s' --seed 7 --count %d -o '%s' '%s' && '%s' v6 '%s' "
			 "--trace-in '%s' --label -o '%s' --trace '%s'", getenv("PC_CLASSBENCH_TRACE"),
			 big ? 3000 : 0, v4trace, v4, gen, v4, v4trace, rules, trace);
		run_file_pair(dp, att, name, rules, trace, run_cmd(cmd), NULL);
	}
}

static int run_tests(int argc, char **argv)
{
	struct pc_dp_opts o = { .pin_path = pin, .slot_cap = SLOT_CAP };
	struct pc_dp *dp = NULL;
	uint32_t att[PC_HOOK_MAX];
	struct stat st;
	int r;

	if (unshare(CLONE_NEWNET) < 0)
		return pt_unavailable("unshare(CLONE_NEWNET) failed");
	r = pc_dp_open(&o, &dp);
	if (r < 0) {
		fprintf(stderr, "pc_dp_open: %s\n", strerror(-r));
		return pt_unavailable("bpf datapath unavailable");
	}
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		r = pc_dp_attach_slot_get(dp, "lo", IFINDEX, h, pc_dp_entry_id(dp, h), 0);
		CHECK(r >= 0, "attach slot %d: %s", h, strerror(-r));
		att[h] = r < 0 ? 0 : (uint32_t)r;
	}
	if (argc > 1) {
		for (int i = 1; i + 1 < argc; i += 2) {
			const char *b = strrchr(argv[i], '/');

			run_file_pair(dp, att, b ? b + 1 : argv[i], argv[i], argv[i + 1], 0, NULL);
		}
	} else if (getenv("PC_GEN_MIXED")) {
		char tmp[] = "/tmp/pc-mixed-XXXXXX", cmd[64];

		if (!mkdtemp(tmp))
			return pt_unavailable("mkdtemp");
		run_mixed(dp, att, getenv("PC_GEN_MIXED"), tmp);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	} else if (!getenv("PC_CLASSBENCH_DIR") || stat(getenv("PC_CLASSBENCH_DIR"), &st) < 0) {
		pc_dp_close(dp, false);
		return pt_unavailable("ClassBench sets not found (PC_CLASSBENCH_DIR)");
	} else
		run_builtin(dp, att);
	pc_dp_close(dp, false);
	printf("# %u failures\n", failures);
	return failures ? 1 : 0;
}

static int main_argc;
static char **main_argv;

static int run_main_args(void)
{
	return run_tests(main_argc, main_argv);
}

static void cleanup(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pin);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", pin);
}

/* The tests run in a child; the parent removes the pins however it ends. */
int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && argc % 2 == 0) {
		fprintf(stderr, "usage: %s [RULES TRACE]...\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0)
		return pt_unavailable("needs root");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-test-cb-%d", (int)getpid());
	main_argc = argc;
	main_argv = argv;
	return pt_run_forked(run_main_args, cleanup);
}
