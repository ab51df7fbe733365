/* SPDX-License-Identifier: GPL-2.0-only */
/* test-migrate.c - a state pinned by an ABI version 1 build is adopted, and
 * its counters are carried into the chunked counter arrays of version 2.
 *
 * In a private pin dir: pc_dp_open() creates a state (slot names, two
 * attachments, a live generation), which is then turned into what a
 * version 1 build pins: every other pin is the same in both versions, so
 * only the counters are redone by hand: cnt_<a> as a per-CPU array of
 * slot_cap 16-byte struct pc_counter with known per-CPU counts, "cnt" an
 * array of maps of that inner shape, and meta's abi_version 1.  Reopened,
 * the state must be adopted (entry programs, attachments, slot names), the
 * counts summed over CPUs into CPU 0 of the new arrays, pktclassctl's
 * reader must see the totals, and the classifier must count on top of
 * them.  A version 1 state whose slot_cap is not whole chunks is not
 * adopted (created afresh).
 *
 * Entry programs of a build from before the shared TC classifier (they put
 * no hook in cb: legacy_entry.bpf.c) are adopted as they are, and each
 * hook's tail call must reach a classifier of that hook.
 *
 * Root, a private network namespace; otherwise exit 77 (or fail when
 * CI=true). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../daemon/datapath.h"
#include "../../daemon/stats.h"
#include "../lib/pktgen.h"
#include "../lib/testrules.h"
#include "../lib/privtest.h"
#include "legacy_entry.skel.h"

#define SLOT_CAP (2 * PC_CNT_CHUNK)
#define IFINDEX 1 /* lo of the private netns */

static char pin[128];
static int ncpus;

static void cleanup(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pin);
	if (pin[0] && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", pin);
}

/* What the version 1 state counted: attachment a, slot s, CPU c. */
static uint64_t v1_packets(uint32_t a, uint32_t s, int c)
{
	return 1000000ull * (a + 1) + 1000ull * s + (uint64_t)c + 1;
}

static uint64_t v1_bytes(uint32_t a, uint32_t s, int c)
{
	return 100 * v1_packets(a, s, c) + 7;
}

static struct pc_counter v1_sum(uint32_t a, uint32_t s)
{
	struct pc_counter t = {};

	for (int c = 0; c < ncpus; c++) {
		t.packets += v1_packets(a, s, c);
		t.bytes += v1_bytes(a, s, c);
	}
	return t;
}

static int pin_replace(int fd, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", pin, name);
	if (unlink(p) < 0 && errno != ENOENT)
		return -errno;
	return bpf_obj_pin(fd, p) < 0 ? -errno : 0;
}

static int pinned_get(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", pin, name);
	return bpf_obj_get(p);
}

static struct bpf_map_info map_info(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		memset(&info, 0, sizeof(info));
	return info;
}

/* A version 1 counter array of attachment a, filled with v1_packets(). */
static int v1_counters(uint32_t a)
{
	struct pc_counter *v = calloc(ncpus, sizeof(*v));
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "v1_counters", 4, sizeof(*v), SLOT_CAP,
				NULL);

	for (uint32_t s = 0; v && fd >= 0 && s < SLOT_CAP; s++) {
		for (int c = 0; c < ncpus; c++) {
			v[c].packets = v1_packets(a, s, c);
			v[c].bytes = v1_bytes(a, s, c);
		}
		if (bpf_map_update_elem(fd, &s, v, BPF_ANY) < 0) {
			close(fd);
			fd = -1;
		}
	}
	free(v);
	return fd;
}

static int set_meta(uint32_t abi_version, uint32_t slot_cap)
{
	int fd = pinned_get("meta"), r = 0;
	struct pc_meta m;
	__u32 k = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &k, &m) < 0)
		r = -1;
	m.abi_version = abi_version;
	m.slot_cap = slot_cap;
	if (r == 0 && bpf_map_update_elem(fd, &k, &m, BPF_ANY) < 0)
		r = -1;
	if (fd >= 0)
		close(fd);
	return r;
}

/* Turn the pinned (version 2) state into what a version 1 build pins. */
static int make_v1(const uint32_t *att, int natt)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd[PC_HOOK_MAX], outer = -1, r = 0;

	for (int i = 0; i < natt; i++) {
		char name[32];

		fd[i] = v1_counters(att[i]);
		snprintf(name, sizeof(name), "cnt_%u", att[i]);
		if (fd[i] < 0 || pin_replace(fd[i], name) < 0)
			r = -1;
	}
	o.inner_map_fd = fd[0];
	if (r == 0)
		outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "v1_cnt", 4, 4, PC_MAX_ATTACH, &o);
	for (int i = 0; i < natt && outer >= 0; i++)
		if (bpf_map_update_elem(outer, &att[i], &fd[i], BPF_ANY) < 0)
			r = -1;
	if (outer < 0 || pin_replace(outer, "cnt") < 0 || set_meta(1, SLOT_CAP) < 0)
		r = -1;
	for (int i = 0; i < natt; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	if (outer >= 0)
		close(outer);
	return r;
}

static void rules(struct tr_set *s)
{
	tr_init(s);
	tr_rule(s, "ssh", "remote");
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 6, 6);
	tr_check(s, PC_W_DPORT, PC_OP_RANGE, 22, 22);
	tr_rule(s, "web", NULL);
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 6, 6);
	tr_check(s, PC_W_DPORT, PC_OP_RANGE, 80, 80);
	tr_finish(s);
}

static int commit(struct pc_dp *dp, struct tr_set *s, const uint32_t *att, uint32_t generation)
{
	struct pc_iface ifc = { .attach = { att[0], att[1], PC_ATTACH_NONE },
				.ifbits = PC_IFBITS_ALWAYS };
	struct pc_gen *g = NULL;
	int r;

	r = pc_dp_assign_slots(dp, &s->rs);
	r = r ?: pc_dp_gen_prepare(dp, &s->rs, &s->t, generation, &g);
	r = r ?: pc_dp_gen_set_iface(g, IFINDEX, &ifc);
	r = r ?: pc_dp_gen_commit(dp, g, &s->rs, "/test/migrate.yaml");
	if (r < 0 && g)
		pc_dp_gen_free(g);
	return r;
}

/* Every slot of attachment a's array: CPU 0 holds the version 1 sum, the
 * other CPUs zero.  The pin cnt_<a> is that array, and "cnt" holds it. */
static void check_carried(struct pc_dp *dp, uint32_t a)
{
	struct pc_cnt_chunk *v = calloc(ncpus, sizeof(*v));
	int fd = pc_dp_attach_counters_fd(dp, a), cnt = pinned_get("cnt"), pinned, bad = 0;
	struct bpf_map_info info = map_info(fd);
	char name[32];
	__u32 id = 0;

	snprintf(name, sizeof(name), "cnt_%u", a);
	pinned = pinned_get(name);
	CHECK(info.value_size == sizeof(struct pc_cnt_chunk) && info.max_entries == 2,
	      "attachment %u: value size %u, %u entries", a, info.value_size, info.max_entries);
	CHECK(info.id && map_info(pinned).id == info.id, "cnt_%u is not the adopted array", a);
	CHECK(cnt >= 0 && bpf_map_lookup_elem(cnt, &a, &id) == 0 && id == info.id,
	      "\"cnt\"[%u] holds map %u, not %u", a, id, info.id);
	for (__u32 k = 0; v && k < SLOT_CAP / PC_CNT_CHUNK; k++) {
		CHECK(bpf_map_lookup_elem(fd, &k, v) == 0, "read chunk %u", k);
		for (uint32_t i = 0; i < PC_CNT_CHUNK; i++) {
			struct pc_counter want = v1_sum(a, k * PC_CNT_CHUNK + i);

			bad += v[0].c[i].packets != want.packets || v[0].c[i].bytes != want.bytes;
			for (int c = 1; c < ncpus; c++)
				bad += v[c].c[i].packets || v[c].c[i].bytes;
		}
	}
	CHECK(v && bad == 0, "attachment %u: %d slots not carried over", a, bad);
	free(v);
	if (cnt >= 0)
		close(cnt);
	if (pinned >= 0)
		close(pinned);
}

/* What pktclassctl reads: the sums of both attachments, names kept. */
static void check_stats(const struct tr_set *s, const uint32_t *att)
{
	struct pc_stats *st = NULL;
	int r = pc_stats_read(pin, &st), bad = 0;

	CHECK(r == 0, "stats after migration: %s", strerror(-r));
	if (r < 0)
		return;
	CHECK(st->meta.abi_version == PC_ABI_VERSION && st->natt == 2 && st->slot_cap == SLOT_CAP,
	      "stats: abi %u, %zu attachments, slot_cap %u", st->meta.abi_version, st->natt,
	      st->slot_cap);
	for (uint32_t i = 0; st->natt == 2 && i < SLOT_CAP; i++) {
		struct pc_counter a = v1_sum(att[0], i), b = v1_sum(att[1], i);

		bad += st->total[i].packets != a.packets + b.packets ||
		       st->total[i].bytes != a.bytes + b.bytes;
	}
	CHECK(bad == 0, "stats: %d slots without the version 1 totals", bad);
	CHECK(!strcmp(st->slots[s->rs.outs[0].slot].name, "ssh") &&
	      !strcmp(st->slots[s->rs.outs[0].class_slot].name, "remote"), "slot names not kept");
	pc_stats_free(st);
}

static struct pc_counter counter(struct pc_dp *dp, uint32_t a, uint32_t slot)
{
	struct pc_cnt_chunk *v = calloc(ncpus, sizeof(*v));
	__u32 k = slot / PC_CNT_CHUNK;
	struct pc_counter t = {};

	if (v && bpf_map_lookup_elem(pc_dp_attach_counters_fd(dp, a), &k, v) == 0)
		for (int c = 0; c < ncpus; c++) {
			t.packets += v[c].c[slot % PC_CNT_CHUNK].packets;
			t.bytes += v[c].c[slot % PC_CNT_CHUNK].bytes;
		}
	free(v);
	return t;
}

/* An ssh packet through the adopted entry program: counted on top. */
static void check_counts_on(struct pc_dp *dp, struct tr_set *s, const uint32_t *att)
{
	struct pg_pkt p = pg_ipv4(0xc0000201, 0xc0000202, 6, 40000, 22);
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf));
	uint32_t rs = s->rs.outs[0].slot, cs = s->rs.outs[0].class_slot;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .repeat = 1);
	struct pc_counter r, c, r0 = v1_sum(att[0], rs), c0 = v1_sum(att[0], cs);
	int e;

	e = commit(dp, s, att, 11);
	CHECK(e == 0, "generation after migration: %s", strerror(-e));
	e = bpf_prog_test_run_opts(pc_dp_entry_fd(dp, PC_HOOK_INGRESS), &o);
	CHECK(e == 0 && len > 0, "test run: %s", strerror(errno));
	r = counter(dp, att[0], rs);
	c = counter(dp, att[0], cs);
	CHECK(r.packets == r0.packets + 1 && r.bytes == r0.bytes + (uint64_t)len,
	      "rule slot %u: %llu packets, want %llu + 1", rs, (unsigned long long)r.packets,
	      (unsigned long long)r0.packets);
	CHECK(c.packets == c0.packets + 1 && c.bytes == c0.bytes + (uint64_t)len,
	      "class slot %u: %llu packets, want %llu + 1", cs, (unsigned long long)c.packets,
	      (unsigned long long)c0.packets);
}

static struct pc_dp *open_dp(uint32_t slot_cap)
{
	struct pc_dp_opts o = { .pin_path = pin, .slot_cap = slot_cap };
	struct pc_dp *dp = NULL;
	int r = pc_dp_open(&o, &dp);

	CHECK(r == 0, "open %s: %s", pin, strerror(-r));
	return r == 0 ? dp : NULL;
}

/* A version 2 state with slot names, two attachments and a generation;
 * left pinned.  0, or -1 (checks failed). */
static int make_state(struct tr_set *s, uint32_t *att, uint32_t *entry_id)
{
	struct pc_dp *dp = open_dp(SLOT_CAP);
	int r = 0;

	if (!dp)
		return -1;
	for (int h = 0; h < 2; h++) {
		entry_id[h] = pc_dp_entry_id(dp, h);
		r = pc_dp_attach_slot_get(dp, "lo", IFINDEX, h, entry_id[h], 0);
		CHECK(r >= 0, "attach slot: %s", strerror(-r));
		att[h] = r;
	}
	r = r < 0 ? r : commit(dp, s, att, 10);
	CHECK(r == 0, "first generation: %s", strerror(-r));
	pc_dp_close(dp, true);
	return r < 0 ? -1 : 0;
}

static void test_migrate(void)
{
	uint32_t att[2], entry_id[2], rs;
	struct pc_stats *st = NULL;
	struct pc_dp *dp;
	struct tr_set s;
	int r;

	rules(&s);
	CHECK(tr_build(&s, 2) == 0, "tree");
	if (make_state(&s, att, entry_id) < 0)
		goto out;
	rs = s.rs.outs[0].slot;
	CHECK(make_v1(att, 2) == 0, "make the version 1 pins: %m");
	r = pc_stats_read(pin, &st);
	CHECK(r == -EPROTO, "a version 1 state read as version 2: %d", r);
	pc_stats_free(st);

	dp = open_dp(4 * PC_CNT_CHUNK); /* meta's slot_cap wins */
	if (!dp)
		goto out;
	CHECK(pc_dp_slot_cap(dp) == SLOT_CAP, "slot_cap %u", pc_dp_slot_cap(dp));
	for (int h = 0; h < 2; h++) {
		CHECK(pc_dp_entry_id(dp, h) == entry_id[h], "entry program %d not adopted", h);
		CHECK(pc_dp_attach_slot_find(dp, IFINDEX, h, NULL) == (int)att[h],
		      "attachment %d not adopted", h);
		check_carried(dp, att[h]);
	}
	check_stats(&s, att);
	check_counts_on(dp, &s, att);
	CHECK(s.rs.outs[0].slot == rs, "rule slot changed: %u -> %u", rs, s.rs.outs[0].slot);
	pc_dp_close(dp, true);

	/* version 1 with a slot_cap that is not whole chunks: created afresh */
	CHECK(set_meta(1, SLOT_CAP - 1) == 0, "write meta");
	dp = open_dp(0);
	if (!dp)
		goto out;
	CHECK(pc_dp_attach_slot_find(dp, IFINDEX, PC_HOOK_INGRESS, NULL) == -ENOENT &&
	      pc_dp_entry_id(dp, PC_HOOK_INGRESS) != entry_id[0],
	      "a version 1 state of %u slots was adopted", SLOT_CAP - 1);
	pc_dp_close(dp, false);
out:
	tr_free(&s);
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

/* The ssh packet through entry program fd with the other hook in cb: counted
 * on attachment att[h], not on att[!h]. */
static void check_hook(struct pc_dp *dp, struct tr_set *s, const uint32_t *att, int fd, int h)
{
	struct pg_pkt p = pg_ipv4(0xc0000201, 0xc0000202, 6, 40000, 22);
	struct __sk_buff ctx = { .ifindex = IFINDEX };
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	uint32_t rs = s->rs.outs[0].slot;
	struct pc_counter mine = counter(dp, att[h], rs), other = counter(dp, att[!h], rs), c;

	ctx.cb[PC_CB_HOOK] = h == PC_HOOK_INGRESS ? PC_HOOK_EGRESS : PC_HOOK_INGRESS;
	CHECK(len > 0 && bpf_prog_test_run_opts(fd, &o) == 0, "legacy entry %d: test run: %m", h);
	c = counter(dp, att[h], rs);
	CHECK(c.packets == mine.packets + 1, "legacy entry %d: %llu packets on its attachment, "
	      "want %llu + 1", h, (unsigned long long)c.packets, (unsigned long long)mine.packets);
	c = counter(dp, att[!h], rs);
	CHECK(c.packets == other.packets, "legacy entry %d: counted on the other hook's attachment",
	      h);
}

static void test_legacy_entry(void)
{
	struct legacy_entry *le = NULL;
	uint32_t att[2], entry_id[2];
	struct pc_dp *dp = NULL;
	struct tr_set s;
	int fd[2], jmp, r;

	rules(&s);
	CHECK(tr_build(&s, 2) == 0, "tree");
	if (make_state(&s, att, entry_id) < 0)
		goto out;
	le = legacy_entry__open();
	jmp = pinned_get("jmp_tc");
	r = le && jmp >= 0 ? bpf_map__reuse_fd(le->maps.jmp_tc, jmp) : -ENOENT;
	r = r ?: legacy_entry__load(le);
	if (jmp >= 0)
		close(jmp);
	CHECK(r == 0, "load the legacy entry programs: %s", strerror(-r));
	if (r < 0)
		goto out;
	fd[0] = bpf_program__fd(le->progs.legacy_ingress);
	fd[1] = bpf_program__fd(le->progs.legacy_egress);
	CHECK(pin_replace(fd[0], "entry_ingress") == 0 && pin_replace(fd[1], "entry_egress") == 0,
	      "pin the legacy entry programs");
	dp = open_dp(0);
	if (!dp)
		goto out;
	for (int h = 0; h < 2; h++)
		CHECK(pc_dp_entry_id(dp, h) == prog_id(fd[h]) && prog_id(fd[h]),
		      "legacy entry program %d not adopted", h);
	r = commit(dp, &s, att, 12);
	CHECK(r == 0, "generation on legacy entry programs: %s", strerror(-r));
	for (int h = 0; r == 0 && h < 2; h++)
		check_hook(dp, &s, att, fd[h], h);
	pc_dp_close(dp, false);
out:
	legacy_entry__destroy(le);
	tr_free(&s);
}

static int run(void)
{
	struct stat st;

	if (unshare(CLONE_NEWNET) < 0)
		return pt_unavailable("unshare(CLONE_NEWNET) failed");
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return pt_unavailable("no CPU count");
	test_migrate();
	test_legacy_entry();
	CHECK(stat(pin, &st) < 0 && errno == ENOENT, "pin dir left behind");
	printf("# %u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}

int main(void)
{
	struct pc_dp_opts o = { .pin_path = pin };
	struct pc_dp *dp = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		return pt_unavailable("needs root");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-test-migrate-%d", (int)getpid());
	/* bpf() and bpffs at all? */
	if (pc_dp_open(&o, &dp) < 0)
		return pt_unavailable("bpf datapath unavailable");
	pc_dp_close(dp, false);
	return pt_run_forked(run, cleanup);
}
