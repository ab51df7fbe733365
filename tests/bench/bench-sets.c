/* SPDX-License-Identifier: GPL-2.0-only */
/* bench-sets.c - what a set costs: per packet through BPF_PROG_TEST_RUN,
 * with a big set next to a small one in the same run, and the datapath's
 * own time to load a set and to add one element (scripts/bench-sets runs
 * it, and times the same through the daemon and pktclassctl).
 *
 *   bench-sets [-p PACKETS] [-r REPEAT] [-k ROUNDS] [-e MIB] [-a ADDS] [-o OUT.md]
 *              BIG.txt SMALL.txt [RULES.yaml]
 *
 * BIG.txt and SMALL.txt are element files (one prefix a line).  In a
 * private netns and pin path, three generations of one config: "none"
 * (RULES.yaml's rules: list items, as scripts/classbench2yaml writes them,
 * or no rule), "small" and "big" (those, then a rule `src: "@small"` or
 * `"@big"`, drop: last, so that the rules before it are walked alike).  The sets are dynamic: BIG.txt and SMALL.txt are loaded
 * into them with pc_dp_set_change (timed), then ADDS single elements added
 * to the big one (each timed).  Next to them, in the same interleaved runs:
 * an empty TC program and the kernel's LPM trie (tests/bench/bench_lpm.bpf.c)
 * holding BIG.txt's prefixes, one lookup a packet.  Packets: PACKETS, half
 * with a source inside a random element of BIG.txt, half random; IPv4 and
 * IPv6 as the set mixes them.  Each packet runs REPEAT times per call, all
 * programs in turn, for ROUNDS rounds; ns/packet is the mean.  -r 1 -e MIB
 * (MIB MiB written before every run, one byte a cache line, 4 KiB pages):
 * cold caches and TLBs (tests/bench/bench-classify.c says more). */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config/config.h"
#include "datapath/datapath.h"
#include "lib/pktgen.h"
#include "lib/readall.h"
#include "lib/util.h"
#include "bench_empty.skel.h"
#include "bench_lpm.skel.h"

#define IFINDEX 1
#define NPROG 5
enum { P_EMPTY, P_LPM, P_NONE, P_SMALL, P_BIG };
static const char *const prog_names[NPROG] = { "empty program", "kernel LPM trie (big)",
					       "classifier, no set", "classifier, small set",
					       "classifier, big set" };

struct opts {
	unsigned packets, repeat, rounds, evict_mib, adds;
	const char *out;
};

static char pin[128];
static uint8_t *evict_buf;
static size_t evict_len;
static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 16);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void evict(void)
{
	for (size_t i = 0; i < evict_len; i += 64)
		evict_buf[i]++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- inputs ------------------------------------------------------------------------ */
static int load_elems(const char *path, struct pc_set_elems *e)
{
	_cleanup_free_ char *buf = NULL;
	struct pc_diags d;
	size_t len;
	int r;

	r = pc_read_path(path, 1u << 30, &buf, &len);
	if (r < 0)
		return r;
	pc_diags_init(&d, path);
	r = pc_set_parse_text(PC_SET_PREFIX, path, buf, len, 0, e, &d);
	pc_diags_print(&d, stderr);
	pc_diags_clear(&d);
	if (r >= 0)
		pc_set_elems_normalize(e);
	return r;
}

/* The config: both sets (dynamic, empty), the set rule of variant, then
 * the rules of rules_yaml. */
static char *config_text(const char *variant, const char *rules_yaml)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "version: 1\nsets:\n  big: { type: prefix, dynamic: true }\n"
		   "  small: { type: prefix, dynamic: true }\nrules:\n");
	if (rules_yaml)
		fputs(rules_yaml, f);
	/* last: the rules before it are walked alike whatever the set holds */
	if (variant)
		fprintf(f, "  - { name: set, match: { src: \"@%s\" }, action: drop }\n", variant);
	else if (!rules_yaml)
		fprintf(f, "  - { name: never, match: { proto: 250 } }\n");
	fclose(f);
	return buf;
}

struct gen {
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	struct pc_tree *t;
	struct pc_gen *g;
};

static void gen_clear(struct gen *x)
{
	pc_tree_freep(&x->t);
	pc_ruleset_freep(&x->rs);
	pc_config_freep(&x->cfg);
}

/* Compile and load a generation (generation 1: they all read the same
 * directory); the first one also stages the sets and goes live. */
static int gen_make(struct pc_dp *dp, const char *variant, const char *rules, int att, bool first,
		    struct gen *x)
{
	_cleanup_free_ char *y = config_text(variant, rules);
	struct pc_iface ifc = { .attach = { PC_ATTACH_NONE, PC_ATTACH_NONE, PC_ATTACH_NONE } };
	struct pc_diags d;
	int r;

	if (!y)
		return -ENOMEM;
	pc_diags_init(&d, "bench.yaml");
	r = pc_config_parse("bench.yaml", y, strlen(y), &x->cfg, &d);
	if (r >= 0)
		r = pc_compile(x->cfg, &x->rs, &d);
	pc_diags_print(&d, stderr);
	pc_diags_clear(&d);
	r = r ?: pc_tree_build(x->rs, &x->t);
	if (r >= 0 && first)
		r = pc_dp_sets_stage(dp, x->cfg, 1, NULL);
	pc_dp_set_monitor(dp, false);
	r = r ?: pc_dp_gen_prepare(dp, x->rs, x->t, 1, &x->g);
	if (r < 0) {
		fprintf(stderr, "%s\n", pc_dp_verifier_log(dp));
		return r;
	}
	ifc.attach[PC_HOOK_INGRESS] = (uint32_t)att;
	ifc.ifbits = pc_ifbits(x->rs, "lo");
	r = pc_dp_gen_set_iface(x->g, IFINDEX, &ifc);
	if (r >= 0 && first)
		r = pc_dp_gen_commit(dp, x->g, "bench.yaml");
	return r;
}

/* ---- the kernel's LPM trie ------------------------------------------------------------- */
static int lpm_make(const struct pc_set_elems *e, struct bench_lpm **ret, double *fill_ms)
{
	struct bench_lpm *l = bench_lpm__open();
	size_t n4 = 0, n6 = 0;
	double t0;
	int r;

	if (!l)
		return -errno;
	for (size_t i = 0; i < e->n; i++)
		e->v[i].family == 4 ? n4++ : n6++;
	bpf_map__set_max_entries(l->maps.lpm4, (uint32_t)(n4 ? n4 : 1));
	bpf_map__set_max_entries(l->maps.lpm6, (uint32_t)(n6 ? n6 : 1));
	r = bench_lpm__load(l);
	if (r < 0) {
		bench_lpm__destroy(l);
		return r;
	}
	t0 = now_ms();
	for (size_t i = 0; i < e->n; i++) {
		struct { uint32_t len; uint8_t a[16]; } k = { .len = e->v[i].len };
		uint32_t one = 1;
		int fd = bpf_map__fd(e->v[i].family == 4 ? l->maps.lpm4 : l->maps.lpm6);

		memcpy(k.a, e->v[i].addr, 16);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) < 0) {
			r = -errno;
			bench_lpm__destroy(l);
			return r;
		}
	}
	*fill_ms = now_ms() - t0;
	*ret = l;
	return 0;
}

/* ---- packets ---------------------------------------------------------------------------- */
struct frames {
	uint8_t (*buf)[128];
	uint32_t *len;
	size_t n;
};

/* An address of e with random host bits, or random. */
static void pkt_addr(const struct pc_set_elems *e, bool inside, bool v6, uint32_t *w)
{
	for (int i = 0; i < 4; i++)
		w[i] = i < (v6 ? 4 : 1) ? rnd() << 16 ^ rnd() : 0;
	if (!inside || !e->n)
		return;
	for (int tries = 0; tries < 64; tries++) {
		const struct pc_set_elem *x = &e->v[rnd() % e->n];

		if (x->family != (v6 ? 6 : 4))
			continue;
		for (int i = 0; i < (v6 ? 4 : 1); i++) {
			uint32_t a = (uint32_t)x->addr[4 * i] << 24 | (uint32_t)x->addr[4 * i + 1] << 16 |
				     (uint32_t)x->addr[4 * i + 2] << 8 | x->addr[4 * i + 3];
			int bits = (int)x->len - 32 * i;
			uint32_t keep = bits >= 32 ? ~0u : bits <= 0 ? 0 : ~(~0u >> bits);

			w[i] = (a & keep) | (w[i] & ~keep);
		}
		return;
	}
}

static int frames_make(const struct pc_set_elems *big, size_t n, struct frames *f)
{
	size_t n6 = 0;

	for (size_t i = 0; i < big->n; i++)
		n6 += big->v[i].family == 6;
	f->buf = calloc(n, sizeof(*f->buf));
	f->len = calloc(n, sizeof(*f->len));
	if (!f->buf || !f->len)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool v6 = big->n && rnd() % big->n < n6;
		struct pg_pkt p = v6 ? pg_ipv6("::1", "::2", 17, 0, 0) : pg_ipv4(1, 2, 17, 0, 0);
		int l;

		pkt_addr(big, i % 2 == 0, v6, p.src);
		pkt_addr(big, false, v6, p.dst);
		p.sport = (uint16_t)rnd();
		p.dport = (uint16_t)rnd();
		l = pg_build(&p, f->buf[i], sizeof(f->buf[i]));
		if (l < 0)
			return -EINVAL;
		f->len[i] = (uint32_t)l;
	}
	f->n = n;
	return 0;
}

static int run_ns(int fd, const uint8_t *buf, uint32_t len, unsigned repeat, uint32_t *ns)
{
	struct __sk_buff in = { .ifindex = IFINDEX, .cb[PC_CB_HOOK] = PC_HOOK_INGRESS };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .ctx_in = &in,
		    .ctx_size_in = sizeof(in), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	*ns = o.duration;
	return 0;
}

static int measure(const int *fds, const struct frames *f, const struct opts *o, double *ns)
{
	uint64_t sum[NPROG] = { 0 };
	uint32_t d;
	int r;

	for (size_t i = 0; i < f->n && i < 200; i++) /* warm up */
		for (int k = 0; k < NPROG; k++)
			if ((r = run_ns(fds[k], f->buf[i], f->len[i], o->repeat, &d)) < 0)
				return r;
	for (unsigned round = 0; round < o->rounds; round++)
		for (size_t i = 0; i < f->n; i++)
			for (int k = 0; k < NPROG; k++) {
				/* the order of the programs turns with the packet */
				int p = (k + (int)i) % NPROG;

				if (evict_len)
					evict();
				if ((r = run_ns(fds[p], f->buf[i], f->len[i], o->repeat, &d)) < 0)
					return r;
				sum[p] += d;
			}
	for (int k = 0; k < NPROG; k++)
		ns[k] = (double)sum[k] / ((double)f->n * o->rounds);
	return 0;
}

/* ---- the datapath's own times ------------------------------------------------------------ */
struct times {
	double load_big_ms, load_small_ms, reload_big_ms;
	double add_med_ms, add_p90_ms, add_max_ms;
	double lpm_fill_ms;
	size_t big_n, small_n;
	uint64_t big_bytes;
};

static int set_times(struct pc_dp *dp, const struct pc_set_elems *big,
		     const struct pc_set_elems *small, const struct opts *o, struct times *t)
{
	_cleanup_free_ double *add = calloc(o->adds ? o->adds : 1, sizeof(double));
	struct pc_set_result res;
	struct pc_set_info info;
	double t0;
	int r;

	if (!add)
		return -ENOMEM;
	t0 = now_ms();
	r = pc_dp_set_change(dp, "big", PC_SET_OP_LOAD, big->v, big->n, &res);
	t->load_big_ms = now_ms() - t0;
	t0 = now_ms();
	r = r ?: pc_dp_set_change(dp, "small", PC_SET_OP_LOAD, small->v, small->n, &res);
	t->load_small_ms = now_ms() - t0;
	pc_dp_sets_sync(dp);
	/* a load that replaces a set as big */
	r = r ?: pc_dp_set_change(dp, "big", PC_SET_OP_FLUSH, NULL, 0, &res);
	pc_dp_sets_sync(dp);
	t0 = now_ms();
	r = r ?: pc_dp_set_change(dp, "big", PC_SET_OP_LOAD, big->v, big->n, &res);
	t->reload_big_ms = now_ms() - t0;
	for (unsigned i = 0; r >= 0 && i < o->adds; i++) {
		struct pc_set_elem e = { .family = 4, .len = 32 };

		for (int b = 0; b < 4; b++)
			e.addr[b] = (uint8_t)rnd();
		t0 = now_ms();
		r = pc_dp_set_change(dp, "big", PC_SET_OP_ADD, &e, 1, &res);
		add[i] = now_ms() - t0;
		if (i % 16 == 15)
			pc_dp_sets_sync(dp);
	}
	if (r < 0)
		return r;
	pc_dp_sets_sync(dp);
	qsort(add, o->adds, sizeof(*add), cmp_double);
	if (o->adds) {
		t->add_med_ms = add[o->adds / 2];
		t->add_p90_ms = add[o->adds * 9 / 10];
		t->add_max_ms = add[o->adds - 1];
	}
	{
		_cleanup_free_ struct pc_set_info *v = NULL;
		size_t n = 0;

		pc_dp_sets_list(dp, &v, &n);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(v[i].name, "big")) {
				t->big_n = v[i].elements;
				t->big_bytes = v[i].bytes;
			}
	}
	pc_dp_set_get(dp, "small", &info, NULL);
	t->small_n = info.elements;
	return 0;
}

/* ---- output ------------------------------------------------------------------------------- */
static void report(FILE *f, const struct opts *o, const struct times *t, const double *ns,
		   bool rules)
{
	struct utsname u;

	uname(&u);
	fprintf(f, "Kernel %s, %ld CPUs; BPF_PROG_TEST_RUN, %u packets, each run %u times a call, "
		   "%u rounds, programs interleaved packet by packet", u.release,
		sysconf(_SC_NPROCESSORS_ONLN), o->packets, o->repeat, o->rounds);
	if (o->evict_mib)
		fprintf(f, "; %u MiB written before every run (cold caches and TLBs)", o->evict_mib);
	fprintf(f, ". Big set: %zu prefixes (%.1f MiB of pool), small set: %zu. Rules around "
		   "the set rule: %s.\n\n", t->big_n, t->big_bytes / 1048576.0, t->small_n,
		rules ? "the given rule set" : "none");
	fprintf(f, "| program | ns/packet | over \"no set\" | ratio to the small set |\n");
	fprintf(f, "|---|---|---|---|\n");
	for (int k = 0; k < NPROG; k++) {
		fprintf(f, "| %s | %.1f |", prog_names[k], ns[k]);
		if (k >= P_NONE)
			fprintf(f, " %+.1f |", ns[k] - ns[P_NONE]);
		else
			fprintf(f, " |");
		if (k == P_BIG)
			fprintf(f, " %.3f |\n", ns[P_BIG] / ns[P_SMALL]);
		else
			fprintf(f, " |\n");
	}
	fprintf(f, "\n| datapath time | ms |\n|---|---|\n");
	fprintf(f, "| load %zu prefixes into an empty set | %.0f |\n", t->big_n, t->load_big_ms);
	fprintf(f, "| load them again (after a flush) | %.0f |\n", t->reload_big_ms);
	fprintf(f, "| load the small set | %.2f |\n", t->load_small_ms);
	fprintf(f, "| add one element to the big set: median / p90 / max of %u | %.3f / %.3f / %.3f |\n",
		o->adds, t->add_med_ms, t->add_p90_ms, t->add_max_ms);
	fprintf(f, "| fill the kernel LPM trie with the big set (one update a prefix) | %.0f |\n",
		t->lpm_fill_ms);
}

static int run(char **args, int nargs, const struct opts *o)
{
	struct pc_set_elems big = {}, small = {};
	_cleanup_free_ char *rules = NULL;
	struct pc_dp_opts dopts = { .pin_path = pin, .slot_cap = 1u << 17 };
	struct gen g[3] = {};
	struct bench_empty *e = NULL;
	struct bench_lpm *lpm = NULL;
	struct frames f = {};
	struct times t = {};
	struct pc_dp *dp = NULL;
	double ns[NPROG];
	int fds[NPROG], att, r;
	size_t rlen;

	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET)");
		return 1;
	}
	if (o->evict_mib) {
		evict_len = (size_t)o->evict_mib << 20;
		evict_buf = mmap(NULL, evict_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		if (evict_buf == MAP_FAILED)
			return 1;
		(void)madvise(evict_buf, evict_len, MADV_NOHUGEPAGE);
		memset(evict_buf, 1, evict_len);
	}
	r = load_elems(args[0], &big);
	r = r ?: load_elems(args[1], &small);
	if (r >= 0 && nargs > 2)
		r = pc_read_path(args[2], 1u << 30, &rules, &rlen);
	r = r ?: pc_dp_open(&dopts, &dp);
	if (r < 0)
		goto out;
	att = pc_dp_attach_slot_get(dp, "lo", IFINDEX, PC_HOOK_INGRESS,
				    pc_dp_entry_id(dp, PC_HOOK_INGRESS), 0);
	r = att < 0 ? att : gen_make(dp, "big", rules, att, true, &g[2]);
	r = r ?: gen_make(dp, "small", rules, att, false, &g[1]);
	r = r ?: gen_make(dp, NULL, rules, att, false, &g[0]);
	r = r ?: set_times(dp, &big, &small, o, &t);
	r = r ?: lpm_make(&big, &lpm, &t.lpm_fill_ms);
	e = r >= 0 ? bench_empty__open_and_load() : NULL;
	if (r >= 0 && !e)
		r = -errno;
	r = r ?: frames_make(&big, o->packets, &f);
	if (r < 0)
		goto out;
	fds[P_EMPTY] = bpf_program__fd(e->progs.bench_empty);
	fds[P_LPM] = bpf_program__fd(lpm->progs.bench_lpm);
	for (int k = 0; k < 3; k++)
		fds[P_NONE + k] = pc_dp_gen_prog_fd(g[k].g, PC_HOOK_INGRESS);
	r = measure(fds, &f, o, ns);
	if (r < 0)
		goto out;
	report(stdout, o, &t, ns, rules != NULL);
	if (o->out) {
		FILE *m = fopen(o->out, "we");

		if (m) {
			report(m, o, &t, ns, rules != NULL);
			fclose(m);
		}
	}
out:
	if (r < 0)
		fprintf(stderr, "bench-sets: %s\n", strerror(-r));
	free(f.buf);
	free(f.len);
	bench_empty__destroy(e);
	bench_lpm__destroy(lpm);
	for (int k = 0; k < 3; k++) {
		if (k != 2)
			pc_dp_gen_free(g[k].g);
		gen_clear(&g[k]);
	}
	if (dp)
		pc_dp_close(dp, false);
	pc_set_elems_clear(&big);
	pc_set_elems_clear(&small);
	return r < 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .packets = 4000, .repeat = 100, .rounds = 3, .adds = 100 };
	char cmd[200];
	int c, status;
	pid_t pid;

	while ((c = getopt(argc, argv, "p:r:k:e:a:o:")) != -1)
		switch (c) {
		case 'p': o.packets = (unsigned)atoi(optarg); break;
		case 'r': o.repeat = (unsigned)atoi(optarg); break;
		case 'k': o.rounds = (unsigned)atoi(optarg); break;
		case 'e': o.evict_mib = (unsigned)atoi(optarg); break;
		case 'a': o.adds = (unsigned)atoi(optarg); break;
		case 'o': o.out = optarg; break;
		default: goto usage;
		}
	if (argc - optind < 2 || argc - optind > 3 || !o.packets || !o.repeat || !o.rounds)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-bench-sets-%d", (int)getpid());
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(run(argv + optind, argc - optind, &o));
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pin);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", pin);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
usage:
	fprintf(stderr, "usage: %s [-p PACKETS] [-r REPEAT] [-k ROUNDS] [-e MIB] [-a ADDS] [-o OUT.md] "
			"BIG.txt SMALL.txt [RULES.yaml]\n", argv[0]);
	return 2;
}
