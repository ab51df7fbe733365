/* SPDX-License-Identifier: GPL-2.0-only */
/* bench-classify.c - per-packet cost of the TC classifier through
 * BPF_PROG_TEST_RUN, next to two yardsticks measured the same way in the
 * same run: an empty TC program and a one-hash-lookup 5-tuple program.
 * Sets are ClassBench files with scripts/classbench-trace traces, or configs
 * (*.yaml) with scripts/gen-mixed traces (tests/lib/tset.c).
 *
 *   bench-classify [-p PACKETS] [-r REPEAT] [-k ROUNDS] [-e MIB] [-w WARMUP] [-C ENTRIES]
 *                  [-o OUT.md] NAME RULES TRACE ...
 *
 * Per set: the ClassBench rules become a config in memory (tests/lib/cbset.c),
 * timed through pc_compile, pc_tree_build and pc_dp_gen_prepare (slot
 * assignment, program load, map creation and fill) in a private netns
 * with a private pin path.  Then the first PACKETS packets of the trace,
 * each run REPEAT times in one BPF_PROG_TEST_RUN (the kernel reports the
 * mean per run), for ROUNDS rounds; within a round every packet goes through
 * the empty program, the one-lookup program, the classifier and the same
 * classifier without its flow cache (a second generation of the same set,
 * loaded with pc_dp_set_flow_cache(dp, 0)) in turn, so drift hits all four
 * alike, and a round goes over all sets in turn (all are
 * loaded first, each with its own pin path), so drift hits all sets alike.  ns/packet = mean over packets and rounds.
 * With -e MIB, every run is preceded by writing one byte per cache line of
 * a MIB MiB buffer in 4 KiB pages (use -r 1): the tables are then as cold in
 * the caches and TLBs as on a real path, where much else runs between two
 * packets; a low-noise stand-in for scripts/bench-peers when comparing data
 * layouts (daemon/datapath/README.md, "Real traffic").
 * Map memory: the "memlock" of every map the classifier uses (fdinfo), plus
 * the counter array of its attachment (sized 2 slots a rule).
 * -C ENTRIES: the flow cache's entries per CPU (default PC_FC_ENTRIES).
 * -w WARMUP: frames run before each round (default 200).  -F (flood): the
 * warm-up frames are the WARMUP after the first PACKETS of the trace, run
 * once; with -r 1 -k 1 and a trace of distinct packets no frame runs twice,
 * the cache is full when the measured frames come (WARMUP above its size),
 * and the hit rate column says what it got.
 *
 * The process stays on the CPU it starts on (the flow cache is per CPU).
 * Writes a markdown table to OUT.md and the raw numbers to OUT.dat. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/datapath.h"
#include "lib/diag.h"
#include "lib/util.h"
#include "../lib/tset.h"
#include "lib/pktgen.h"
#include "bench_empty.skel.h"
#include "bench_onelookup.skel.h"

#define IFINDEX 1

#define NPROG 4 /* empty, one lookup, classifier, classifier without cache */

struct opts {
	unsigned packets, repeat, rounds, evict_mib, warmup, fc_entries;
	bool flood;
	const char *out;
};

static uint8_t *evict_buf;
static size_t evict_len;

static int evict_init(unsigned mib)
{
	evict_len = (size_t)mib << 20;
	evict_buf = mmap(NULL, evict_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (evict_buf == MAP_FAILED)
		return -errno;
	/* small pages, so that the TLBs are swept too */
	(void)madvise(evict_buf, evict_len, MADV_NOHUGEPAGE);
	memset(evict_buf, 1, evict_len);
	return 0;
}

static void evict(void)
{
	for (size_t i = 0; i < evict_len; i += 64)
		evict_buf[i]++;
}

struct row {
	char name[48];
	uint32_t rules;
	size_t boxes, nodes;
	unsigned trees, depth;
	size_t packets;
	double ns[NPROG];    /* empty, one lookup, classifier, without cache */
	double hit_pct;      /* flow cache hits of the classifier's runs */
	double bypass_pct;   /* runs the cache did not look up (flood mode) */
	double mem_mib, cnt_mib;
	double compile_ms, tree_ms, load_ms;
	uint32_t insns;      /* verified instructions of the TC program */
	size_t slow;         /* entries in slow leaves */
};

static char pin[128];
static char set_pin[160]; /* the set being loaded: pin-<i> */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t fd_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* memlock of every map the program uses. */
static uint64_t prog_maps_memlock(int prog_fd)
{
	uint32_t ids[64];
	struct bpf_prog_info info = { .nr_map_ids = ELEMENTSOF(ids), .map_ids = (uintptr_t)ids };
	uint32_t len = sizeof(info);
	uint64_t sum = 0;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return 0;
	for (uint32_t i = 0; i < info.nr_map_ids && i < ELEMENTSOF(ids); i++) {
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		sum += fd_memlock(fd);
		close(fd);
	}
	return sum;
}

static uint32_t verified_insns(int prog_fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0 ? 0 : info.verified_insns;
}

/* Mean ns per run of the program on this frame, over `repeat` runs. */
static int run_ns(int fd, const uint8_t *buf, uint32_t len, uint32_t hook, unsigned repeat,
		  uint32_t *ns)
{
	struct __sk_buff in = { .ifindex = IFINDEX, .cb[PC_CB_HOOK] = hook };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .ctx_in = &in,
		    .ctx_size_in = sizeof(in), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	*ns = o.duration;
	return 0;
}

struct frames {
	uint8_t (*buf)[PG_FRAME_MAX];
	uint32_t *len, *hook;
	size_t n;      /* measured: the first n */
	size_t nwarm;  /* -F: warm-up frames after them, never measured */
};

/* The trace's packets as frames (a ClassBench trace's without payload, as
 * gen-mixed's IPv6 equivalents of them). */
static int frames_make(const struct ts_pkt *p, size_t n, struct frames *f)
{
	f->buf = calloc(n, sizeof(*f->buf));
	f->len = calloc(n, sizeof(*f->len));
	f->hook = calloc(n, sizeof(*f->hook));
	if (!f->buf || !f->len || !f->hook)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct pg_pkt k = p[i].p;
		int l;

		if (p[i].classbench)
			k.payload = 0;
		l = pg_build(&k, f->buf[i], sizeof(f->buf[i]));
		if (l < 0)
			return -EINVAL;
		f->len[i] = (uint32_t)l;
		f->hook[i] = p[i].hook;
	}
	f->n = n;
	f->nwarm = 0;
	return 0;
}

static void frames_free(struct frames *f)
{
	free(f->buf);
	free(f->len);
	free(f->hook);
}

/* The IPv4 flows of the trace, so that the yardstick's lookups hit (it
 * parses untagged IPv4 only: its cost on other packets is a parse). */
static int flows_fill(struct bench_onelookup *o, const struct ts_pkt *p, size_t n)
{
	int fd = bpf_map__fd(o->maps.flows);

	for (size_t i = 0; i < n; i++) {
		const struct pg_pkt *k = &p[i].p;
		struct { uint32_t src, dst; uint16_t sport, dport; uint32_t proto; } t = {
			k->src[0], k->dst[0], 0, 0, k->proto };
		uint32_t v = (uint32_t)i + 1;

		if (k->ethertype != 0x0800 || k->ntags)
			continue;
		if (k->proto == 6 || k->proto == 17) {
			t.sport = k->sport;
			t.dport = k->dport;
		}
		if (bpf_map_update_elem(fd, &t, &v, BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

/* One round over the first f->n frames (after a warm-up of 200): the three
 * programs in turn per frame, their ns added to sum. */
static int measure_round(const int fds[NPROG], const struct frames *f, const struct opts *o,
			 uint64_t sum[NPROG])
{
	uint32_t d;
	int r;

	/* -F: the frames after the measured ones, so that none of these runs twice */
	size_t w0 = f->nwarm ? f->n : 0, w1 = f->nwarm ? f->n + f->nwarm : f->n;

	for (size_t i = w0; i < w1 && i - w0 < o->warmup; i++)
		for (int k = 0; k < NPROG; k++)
			if ((r = run_ns(fds[k], f->buf[i], f->len[i], f->hook[i], o->repeat, &d)) < 0)
				return r;
	for (size_t i = 0; i < f->n; i++)
		for (int k = 0; k < NPROG; k++) {
			if (evict_len)
				evict();
			r = run_ns(fds[k], f->buf[i], f->len[i], f->hook[i], o->repeat, &d);
			if (r < 0)
				return r;
			sum[k] += d;
		}
	return 0;
}

struct gen {
	struct pc_dp *dp;
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	struct pc_tree *t;
	struct pc_gen *g;
	struct pc_gen *g_nofc; /* the same without a flow cache */
	int att;
};

static void gen_free(struct gen *x)
{
	pc_dp_gen_free(x->g);
	pc_dp_gen_free(x->g_nofc);
	pc_tree_free(x->t);
	pc_ruleset_free(x->rs);
	pc_config_free(x->cfg);
	if (x->dp)
		pc_dp_close(x->dp, false);
}

/* Compile, build and load one set, timing each step. */
static int gen_make(const char *rules, struct gen *x, struct row *w, const struct opts *op)
{
	struct pc_iface ifc = { .attach = { PC_ATTACH_NONE, PC_ATTACH_NONE, PC_ATTACH_NONE } };
	struct pc_dp_opts o = { .pin_path = set_pin };
	struct pc_diags d;
	double t0, t1, t2, t3;
	int r;

	pc_diags_init(&d, rules);
	r = ts_config(rules, &x->cfg, &d);
	if (r < 0) {
		pc_diags_print(&d, stderr);
		pc_diags_clear(&d);
		return r;
	}
	o.slot_cap = 2 * (uint32_t)x->cfg->n_rules + 16;
	r = pc_dp_open(&o, &x->dp);
	if (r < 0)
		return r;
	x->att = pc_dp_attach_slot_get(x->dp, "lo", IFINDEX, PC_HOOK_INGRESS,
				       pc_dp_entry_id(x->dp, PC_HOOK_INGRESS), 0);
	if (x->att < 0)
		return x->att;
	t0 = now_ms();
	r = pc_compile(x->cfg, &x->rs, &d);
	t1 = now_ms();
	pc_diags_clear(&d);
	r = r ?: pc_tree_build(x->rs, &x->t);
	t2 = now_ms();
	/* as the daemon: the socket program only for monitor hooks (the
	 * ClassBench config has ingress only); PC_BENCH_SOCK=1 loads it anyway */
	pc_dp_set_monitor(x->dp, (x->cfg->ifaces[0].hooks & (1u << PC_HOOK_MONITOR)) ||
					 getenv("PC_BENCH_SOCK"));
	pc_dp_set_flow_cache(x->dp, op->fc_entries);
	r = r ?: pc_dp_gen_prepare(x->dp, x->rs, x->t, 1, &x->g);
	t3 = now_ms();
	pc_dp_set_flow_cache(x->dp, 0);
	r = r ?: pc_dp_gen_prepare(x->dp, x->rs, x->t, 2, &x->g_nofc);
	if (r < 0)
		return r;
	w->compile_ms = t1 - t0;
	w->tree_ms = t2 - t1;
	w->load_ms = t3 - t2;
	w->rules = x->rs->nrules;
	w->boxes = x->rs->nboxes;
	w->nodes = x->t->nnodes;
	w->trees = x->t->cfg.ntrees;
	w->depth = x->t->cfg.max_depth;
	w->slow = x->t->slow_entries;
	ifc.attach[PC_HOOK_INGRESS] = ifc.attach[PC_HOOK_EGRESS] = (uint32_t)x->att;
	ifc.ifbits = pc_ifbits(x->rs, "lo");
	r = pc_dp_gen_set_iface(x->g, IFINDEX, &ifc);
	return r ?: pc_dp_gen_set_iface(x->g_nofc, IFINDEX, &ifc);
}

/* A set loaded and ready to measure. */
struct bset {
	struct row w;
	struct gen x;
	struct frames f;
	struct bench_empty *e;
	struct bench_onelookup *one;
	int fds[NPROG];
	uint64_t sum[NPROG];
	int err;
};

static void bset_free(struct bset *b)
{
	frames_free(&b->f);
	bench_onelookup__destroy(b->one);
	bench_empty__destroy(b->e);
	gen_free(&b->x);
}

static int bset_load(struct bset *b, const char *name, const char *rules, const char *trace,
		     const struct opts *o)
{
	_cleanup_free_ struct ts_pkt *p = NULL;
	struct row *w = &b->w;
	ssize_t n;
	int r;

	snprintf(w->name, sizeof(w->name), "%s", name);
	n = ts_trace_load(trace, &p);
	if (n <= 0)
		return n < 0 ? (int)n : -ENODATA;
	if ((size_t)n > o->packets + (o->flood ? o->warmup : 0))
		n = o->packets + (o->flood ? o->warmup : 0);
	w->packets = (size_t)n > o->packets ? o->packets : (size_t)n;
	r = gen_make(rules, &b->x, w, o);
	b->e = bench_empty__open_and_load();
	b->one = bench_onelookup__open_and_load();
	if (r >= 0 && (!b->e || !b->one))
		r = -errno;
	r = r ?: flows_fill(b->one, p, w->packets);
	r = r ?: frames_make(p, (size_t)n, &b->f);
	if (r < 0)
		return r;
	b->f.nwarm = (size_t)n - w->packets;
	b->f.n = w->packets;
	b->fds[0] = bpf_program__fd(b->e->progs.bench_empty);
	b->fds[1] = bpf_program__fd(b->one->progs.bench_onelookup);
	b->fds[2] = pc_dp_gen_prog_fd(b->x.g, PC_HOOK_INGRESS);
	b->fds[3] = pc_dp_gen_prog_fd(b->x.g_nofc, PC_HOOK_INGRESS);
	w->mem_mib = prog_maps_memlock(b->fds[2]) / 1048576.0;
	w->insns = verified_insns(b->fds[2]);
	w->cnt_mib = fd_memlock(pc_dp_attach_counters_fd(b->x.dp, (uint32_t)b->x.att)) / 1048576.0;
	return 0;
}

/* Hits, and runs not looked up, over the runs of g's classifier (warm-up
 * and rounds), %. */
static void fc_pct(const struct pc_gen *g, struct row *w)
{
	struct pc_fc_stats st;
	uint64_t n;

	w->hit_pct = w->bypass_pct = 0;
	if (pc_dp_gen_fc_stats(g, &st) < 0)
		return;
	n = st.hits + st.misses + st.bypassed;
	w->hit_pct = pc_fc_hit_pct(&st);
	w->bypass_pct = n ? 100.0 * (double)st.bypassed / (double)n : 0;
}

static void header(FILE *f, const struct opts *o)
{
	struct utsname u;
	char model[128] = "?", line[256];
	FILE *c = fopen("/proc/cpuinfo", "re");

	while (c && fgets(line, sizeof(line), c))
		if (sscanf(line, "model name : %127[^\n]", model) == 1)
			break;
	if (c)
		fclose(c);
	uname(&u);
	fprintf(f, "Kernel %s, %s, %ld CPUs. BPF_PROG_TEST_RUN of the TC programs, %u packets of "
		   "the trace each run %u times in one call, %u rounds; ns/packet is the mean over "
		   "packets and rounds, %u warm-up frames a round. ns/packet: with the flow cache "
		   "(%u entries a CPU), no-cache ns: the same set loaded without it, in the same "
		   "rounds; hits: the share of the classifier's runs the cache answered. Map "
		   "memory: memlock of the classifier's maps (MiB) + its counter array.", u.release,
		model, sysconf(_SC_NPROCESSORS_ONLN), o->packets, o->repeat, o->rounds, o->warmup,
		o->fc_entries);
	if (o->evict_mib)
		fprintf(f, " Before each run %u MiB were written (one byte a cache line, 4 KiB "
			   "pages): cold caches and TLBs.", o->evict_mib);
	fprintf(f, "\n\n");
	fprintf(f, "| set | rules | boxes | trees | nodes | depth | ns/packet | empty ns | one-lookup ns "
		   "| ratio to one-lookup | no-cache ns | cache / no cache | hits | not looked up | map MiB "
		   "| counters MiB | compile ms | tree ms | load ms | compile+tree+load ms "
		   "| verified insns | slow entries |\n");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

static void print_row(FILE *f, const struct row *w)
{
	fprintf(f, "| %s | %u | %zu | %u | %zu | %u | %.1f | %.1f | %.1f | %.2f | %.1f | %.2f | %.0f%% "
		   "| %.0f%% | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f | %u | %zu |\n", w->name, w->rules,
		w->boxes, w->trees, w->nodes, w->depth, w->ns[2], w->ns[0], w->ns[1],
		w->ns[2] / w->ns[1], w->ns[3], w->ns[2] / w->ns[3], w->hit_pct, w->bypass_pct, w->mem_mib,
		w->cnt_mib, w->compile_ms, w->tree_ms, w->load_ms,
		w->compile_ms + w->tree_ms + w->load_ms, w->insns, w->slow);
}

/* Stay on the CPU we started on: a test run uses the flow cache region of
 * the CPU it runs on, and a migration would find the other one cold. */
static int pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int run(int argc, char **argv, const struct opts *o)
{
	FILE *md = NULL, *dat = NULL;
	struct bset *sets;
	size_t nsets;
	int failed = 0;

	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET)");
		return 1;
	}
	if (pin_cpu() < 0)
		perror("sched_setaffinity");
	if (o->evict_mib && evict_init(o->evict_mib) < 0) {
		perror("mmap");
		return 1;
	}
	if (o->out) {
		char path[1024];

		snprintf(path, sizeof(path), "%s.md", o->out);
		md = fopen(path, "we");
		snprintf(path, sizeof(path), "%s.dat", o->out);
		dat = fopen(path, "we");
		if (!md || !dat) {
			perror(path);
			return 1;
		}
		header(md, o);
		fprintf(dat, "# set rules ns empty onelookup ratio map_mib counters_mib compile_ms "
			     "tree_ms load_ms verified_insns slow_entries nocache_ns hit_pct\n");
	}
	header(stdout, o);
	nsets = argc / 3;
	sets = calloc(nsets + 1, sizeof(*sets));
	if (!sets)
		return 1;
	for (size_t i = 0; i < nsets; i++) {
		snprintf(set_pin, sizeof(set_pin), "%s-%zu", pin, i);
		sets[i].err = bset_load(&sets[i], argv[3 * i], argv[3 * i + 1], argv[3 * i + 2], o);
		if (sets[i].err < 0)
			fprintf(stderr, "%s: %s\n", argv[3 * i], strerror(-sets[i].err));
	}
	/* rounds over all sets in turn: drift hits every set alike */
	for (unsigned round = 0; round < o->rounds; round++)
		for (size_t i = 0; i < nsets; i++)
			if (sets[i].err >= 0)
				sets[i].err = measure_round(sets[i].fds, &sets[i].f, o, sets[i].sum);
	for (size_t i = 0; i < nsets; i++) {
		struct row *w = &sets[i].w;

		failed |= sets[i].err < 0;
		if (sets[i].err < 0)
			continue;
		for (int k = 0; k < NPROG; k++)
			w->ns[k] = (double)sets[i].sum[k] / ((double)sets[i].f.n * o->rounds);
		fc_pct(sets[i].x.g, w);
		print_row(stdout, w);
		if (md)
			print_row(md, w);
		if (dat)
			fprintf(dat, "%s %u %.2f %.2f %.2f %.3f %.3f %.3f %.2f %.2f %.2f %u %zu %.2f "
				     "%.1f\n", w->name, w->rules, w->ns[2], w->ns[0], w->ns[1],
				w->ns[2] / w->ns[1], w->mem_mib, w->cnt_mib, w->compile_ms, w->tree_ms,
				w->load_ms, w->insns, w->slow, w->ns[3], w->hit_pct);
	}
	for (size_t i = 0; i < nsets; i++)
		bset_free(&sets[i]);
	free(sets);
	if (md)
		fclose(md);
	if (dat)
		fclose(dat);
	return failed;
}

int main(int argc, char **argv)
{
	struct opts o = { .packets = 4000, .repeat = 100, .rounds = 3, .warmup = 200,
			  .fc_entries = PC_FC_ENTRIES };
	char cmd[400];
	int c, status;
	pid_t pid;

	while ((c = getopt(argc, argv, "p:r:k:e:w:C:Fo:")) != -1)
		switch (c) {
		case 'p':
			o.packets = (unsigned)atoi(optarg);
			break;
		case 'r':
			o.repeat = (unsigned)atoi(optarg);
			break;
		case 'k':
			o.rounds = (unsigned)atoi(optarg);
			break;
		case 'e':
			o.evict_mib = (unsigned)atoi(optarg);
			break;
		case 'w':
			o.warmup = (unsigned)atoi(optarg);
			break;
		case 'C':
			o.fc_entries = (unsigned)atoi(optarg);
			break;
		case 'F':
			o.flood = true;
			break;
		case 'o':
			o.out = optarg;
			break;
		default:
			goto usage;
		}
	if (optind >= argc || (argc - optind) % 3 || !o.packets || !o.repeat || !o.rounds ||
	    (o.flood && o.rounds != 1))
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-bench-%d", (int)getpid());
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(run(argc - optind, argv + optind, &o));
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'-*", pin, pin);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", pin);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
usage:
	fprintf(stderr, "usage: %s [-p PACKETS] [-r REPEAT] [-k ROUNDS] [-e MIB] [-w WARMUP] "
			"[-C ENTRIES] [-F] [-o OUT] NAME RULES TRACE...\n",
		argv[0]);
	return 2;
}
