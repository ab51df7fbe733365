/* SPDX-License-Identifier: GPL-2.0-only */
/* livecopy.c - private copies of the live generation's classifier, for
 * `pktclassctl explain --live` and `pktclassctl capture`.
 *
 * The jump tables under the pin path hold the live classifier programs.
 * From any one of them (every program of a generation has the same maps
 * and .rodata) come its rule tables (nodes, leaf, leafx, boxes, outs,
 * ifaces, the sets' set_segs and set_head), found by name, and its .rodata.
 * This build's classifier object is then loaded with that .rodata, reusing
 * those tables, with private cnt, trace, work and packet-log maps: a packet
 * run through the copy gets the live decision and counts nothing live.
 * The two users differ only in what they switch in the copy's .rodata:
 * explain --live traces (pc_trace_on), capture accepts one class slot on
 * its socket program (pc_capture_slot).  The copy runs this build's code;
 * the program tags tell whether the live programs are the same code (a tag
 * depends on neither the map fds nor .rodata). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "lib/util.h"
#include "classifier.skel.h"

enum { T_NODES, T_LEAF, T_LEAFX, T_BOXES, T_OUTS, T_IFACES, T_SET_SEGS, T_SET_HEAD, T_RODATA,
       T_MAX };

/* What a copy is made from: the live generation as found under a pin path. */
struct live_src {
	struct pc_meta meta;            /* the pinned "meta" */
	uint32_t prog_id[PC_HOOK_MAX];  /* live classifier per hook, 0: slot empty */
	int fds[T_MAX];                 /* its tables and .rodata */
};

struct pc_live {
	struct pc_classifier *skel;
	struct pc_live_info info;
	int slots_fd;
	int ncpus;
};

static int pin_get(const char *pin_path, const char *name)
{
	char p[PC_PATH_MAX + 32];
	int fd;

	if (snprintf(p, sizeof(p), "%s/%s", pin_path, name) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(p);
	return fd < 0 ? -errno : fd;
}

static int read_meta(const char *pin_path, struct pc_meta *m)
{
	_cleanup_close_ int fd = pin_get(pin_path, "meta");
	__u32 zero = 0;

	if (fd < 0)
		return fd == -ENOENT ? -ENOENT : fd;
	if (bpf_map_lookup_elem(fd, &zero, m) < 0)
		return -errno;
	if (m->magic != PC_META_MAGIC || m->abi_version != PC_ABI_VERSION)
		return -EPROTO;
	return 0;
}

/* Program id in a jump table slot, 0 when empty. */
static uint32_t jump_slot_id(const char *pin_path, const char *table, uint32_t slot)
{
	_cleanup_close_ int fd = pin_get(pin_path, table);
	__u32 id = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &slot, &id) < 0)
		return 0;
	return id;
}

static int prog_info(int fd, struct bpf_prog_info *info, __u32 *map_ids, __u32 nmaps)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	info->nr_map_ids = nmaps;
	info->map_ids = (__u64)(uintptr_t)map_ids;
	return bpf_obj_get_info_by_fd(fd, info, &len) < 0 ? -errno : 0;
}

static int table_kind(const char *name)
{
	static const char *const names[] = { "nodes", "leaf", "leafx", "boxes", "outs", "ifaces",
					     "set_segs", "set_head" };
	size_t n = strlen(name);

	for (int i = 0; i < (int)ELEMENTSOF(names); i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return n >= 7 && strcmp(name + n - 7, ".rodata") == 0 ? T_RODATA : -1;
}

/* The tables of live program id into src->fds[T_*], all found or -EPROTO. */
static int src_tables(struct live_src *src, uint32_t id)
{
	__u32 ids[32];
	struct bpf_prog_info info;
	_cleanup_close_ int pfd = bpf_prog_get_fd_by_id(id);
	int r;

	if (pfd < 0)
		return -errno;
	r = prog_info(pfd, &info, ids, ELEMENTSOF(ids));
	if (r < 0)
		return r;
	if (info.nr_map_ids > ELEMENTSOF(ids))
		return -EPROTO;
	for (__u32 i = 0; i < info.nr_map_ids; i++) {
		struct bpf_map_info mi = {};
		__u32 len = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]), k;

		if (fd < 0)
			return -errno;
		k = bpf_obj_get_info_by_fd(fd, &mi, &len) < 0 ? -1 : table_kind(mi.name);
		if (k < 0 || src->fds[k] >= 0) {
			close(fd);
			continue;
		}
		src->fds[k] = fd;
	}
	for (int k = 0; k < T_MAX; k++)
		if (src->fds[k] < 0)
			return -EPROTO;
	return 0;
}

static void src_close(struct live_src *src)
{
	for (int k = 0; k < T_MAX; k++)
		if (src->fds[k] >= 0)
			close(src->fds[k]);
}

/* -ENOENT: nothing pinned under pin_path; -ENODATA: no generation in the
 * jump tables; -EPROTO: the pins or programs are not ours (other ABI).
 * Close with src_close() whatever it returns. */
static int src_open(struct live_src *src, const char *pin_path)
{
	uint32_t any = 0;
	int r;

	*src = (struct live_src){};
	for (int k = 0; k < T_MAX; k++)
		src->fds[k] = -1;
	r = read_meta(pin_path, &src->meta);
	if (r < 0)
		return r;
	src->prog_id[PC_HOOK_INGRESS] = jump_slot_id(pin_path, "jmp_tc", PC_JMP_TC_INGRESS);
	src->prog_id[PC_HOOK_EGRESS] = jump_slot_id(pin_path, "jmp_tc", PC_JMP_TC_EGRESS);
	src->prog_id[PC_HOOK_MONITOR] = jump_slot_id(pin_path, "jmp_sock", PC_JMP_SOCK);
	for (int h = PC_HOOK_MAX - 1; h >= 0; h--)
		any = src->prog_id[h] ?: any;
	return any ? src_tables(src, any) : -ENODATA;
}

/* The live .rodata into the copy s (not loaded yet). */
static int copy_rodata(struct pc_classifier *s, int fd)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), zero = 0;
	size_t size = 0;
	void *init = (void *)bpf_map__initial_value(s->maps.rodata, &size);

	if (!init || bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return -EPROTO;
	if (mi.value_size != size || size < sizeof(*s->rodata))
		return -EPROTO;
	return bpf_map_lookup_elem(fd, &zero, init) < 0 ? -errno : 0;
}

static int copy_tables(struct pc_classifier *s, const struct live_src *src)
{
	struct bpf_map *m[] = { s->maps.nodes, s->maps.leaf, s->maps.leafx, s->maps.boxes,
				s->maps.outs, s->maps.ifaces, s->maps.set_segs, s->maps.set_head };
	int r = 0;

	for (int k = 0; k < (int)ELEMENTSOF(m) && r >= 0; k++)
		r = bpf_map__reuse_fd(m[k], src->fds[k]);
	return r;
}

/* Open this build's classifier as a copy of src: the live .rodata (for the
 * caller to adjust before pc_classifier__load()) and the live tables. */
static int copy_open(const struct live_src *src, struct pc_classifier **ret)
{
	struct pc_classifier *s = pc_classifier__open();
	int r;

	if (!s)
		return negative_errno();
	r = copy_rodata(s, src->fds[T_RODATA]);
	/* no flow cache: it would be the copy's own, empty, and the walk gives
	 * the answer the live cache holds */
	memset((void *)&s->rodata->pc_fc, 0, sizeof(s->rodata->pc_fc));
	r = r ?: copy_tables(s, src);
	if (r < 0) {
		pc_classifier__destroy(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- explain --live: a traced copy of every hook ---------------------------- */

static struct bpf_program *copy_prog(const struct pc_live *l, int hook)
{
	switch (hook) {
	case PC_HOOK_INGRESS:
	case PC_HOOK_EGRESS:
		return l->skel->progs.pc_tc;
	case PC_HOOK_MONITOR:
		return bpf_program__autoload(l->skel->progs.pc_sock) ? l->skel->progs.pc_sock : NULL;
	}
	return NULL;
}

/* Same code: every live program's tag equals the copy's. */
static bool same_code(const struct pc_live *l)
{
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		struct bpf_prog_info a, b;
		_cleanup_close_ int fd = -1;

		if (!l->info.prog_id[h])
			continue;
		fd = bpf_prog_get_fd_by_id(l->info.prog_id[h]);
		if (fd < 0 || prog_info(fd, &a, NULL, 0) < 0 ||
		    prog_info(bpf_program__fd(copy_prog(l, h)), &b, NULL, 0) < 0 ||
		    memcmp(a.tag, b.tag, sizeof(a.tag)) != 0)
			return false;
	}
	return true;
}

/* The first live classifier program's id, 0 when no jump table slot holds one. */
static uint32_t live_any_prog(const char *pin_path)
{
	uint32_t id = jump_slot_id(pin_path, "jmp_tc", PC_JMP_TC_INGRESS);

	return id ?: jump_slot_id(pin_path, "jmp_sock", PC_JMP_SOCK);
}

int pc_dp_live_map(const char *pin_path, const char *name, int *fd)
{
	__u32 ids[32];
	struct bpf_prog_info info;
	_cleanup_close_ int pfd = -1;
	uint32_t id = live_any_prog(pin_path);
	size_t n = strlen(name);
	int r;

	if (!id)
		return -ENODATA;
	pfd = bpf_prog_get_fd_by_id(id);
	if (pfd < 0)
		return -errno;
	r = prog_info(pfd, &info, ids, ELEMENTSOF(ids));
	if (r < 0)
		return r;
	for (__u32 i = 0; i < info.nr_map_ids && i < ELEMENTSOF(ids); i++) {
		struct bpf_map_info mi = {};
		__u32 len = sizeof(mi);
		int f = bpf_map_get_fd_by_id(ids[i]);
		size_t m;

		if (f < 0)
			return -errno;
		m = bpf_obj_get_info_by_fd(f, &mi, &len) < 0 ? 0 : strlen(mi.name);
		if (m && (strcmp(mi.name, name) == 0 ||
			  (name[0] == '.' && m >= n && strcmp(mi.name + m - n, name) == 0))) {
			*fd = f;
			return 0;
		}
		close(f);
	}
	return -ENOENT;
}

static int explain_load(struct pc_live *l, const struct live_src *src)
{
	int r = copy_open(src, &l->skel);

	if (r < 0)
		return r;
	l->info.cfg = l->skel->rodata->pc_cfg;
	l->skel->rodata->pc_trace_on = 1;
	/* the socket program only when the live generation has one */
	bpf_program__set_autoload(l->skel->progs.pc_sock, src->prog_id[PC_HOOK_MONITOR] != 0);
	return pc_classifier__load(l->skel) < 0 ? negative_errno() : 0;
}

static int live_open(struct pc_live *l, const char *pin_path)
{
	struct live_src src;
	int r;

	r = src_open(&src, pin_path);
	if (r >= 0) {
		l->info.meta = src.meta;
		memcpy(l->info.prog_id, src.prog_id, sizeof(l->info.prog_id));
		l->slots_fd = pin_get(pin_path, "slots");
		r = l->slots_fd < 0 ? l->slots_fd : explain_load(l, &src);
	}
	src_close(&src);
	if (r < 0)
		return r;
	l->info.same_code = same_code(l);
	return 0;
}

int pc_dp_live_open(const char *pin_path, struct pc_live **ret)
{
	struct pc_live *l;
	int r;

	if (!pin_path || pin_path[0] != '/' || strlen(pin_path) >= PC_PATH_MAX)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->slots_fd = -1;
	l->ncpus = libbpf_num_possible_cpus();
	r = l->ncpus > 0 ? live_open(l, pin_path) : l->ncpus;
	if (r < 0) {
		pc_dp_live_close(l);
		return r;
	}
	*ret = l;
	return 0;
}

void pc_dp_live_close(struct pc_live *l)
{
	if (!l)
		return;
	pc_classifier__destroy(l->skel);
	if (l->slots_fd >= 0)
		close(l->slots_fd);
	free(l);
}

const struct pc_live_info *pc_dp_live_info(const struct pc_live *l)
{
	return &l->info;
}

int pc_dp_live_prog_fd(const struct pc_live *l, int hook)
{
	struct bpf_program *p = copy_prog(l, hook);

	if (hook == PC_HOOK_MONITOR && !p)
		return -ENOENT; /* the live generation has no socket program */
	return p ? bpf_program__fd(p) : -EINVAL;
}

/* Zero every CPU's trace entry; with read, first take the one that ran. */
static int trace_take(const struct pc_live *l, struct pc_trace *ret)
{
	_cleanup_free_ struct pc_trace *v = calloc(l->ncpus, sizeof(*v));
	int fd = bpf_map__fd(l->skel->maps.trace);
	__u32 zero = 0;

	if (!v)
		return -ENOMEM;
	if (ret) {
		if (bpf_map_lookup_elem(fd, &zero, v) < 0)
			return -errno;
		for (int i = 0; i < l->ncpus; i++)
			if (v[i].runs)
				*ret = v[i];
		memset(v, 0, l->ncpus * sizeof(*v));
	}
	return bpf_map_update_elem(fd, &zero, v, BPF_ANY) < 0 ? -errno : 0;
}

int pc_dp_live_run(struct pc_live *l, int hook, uint32_t ifindex, const void *frame, uint32_t len,
		   struct pc_live_run *ret)
{
	struct __sk_buff in = { .ifindex = ifindex, .cb[PC_CB_HOOK] = (__u32)hook }, out = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .data_out = ret->data, .data_size_out = sizeof(ret->data), .ctx_in = &in,
		    .ctx_size_in = sizeof(in), .ctx_out = &out, .ctx_size_out = sizeof(out),
		    .repeat = 1);
	int fd = pc_dp_live_prog_fd(l, hook), r;

	if (fd < 0)
		return fd;
	if (len > sizeof(ret->data))
		return -E2BIG;
	r = trace_take(l, NULL);
	if (r < 0)
		return r;
	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	memset(&ret->trace, 0, sizeof(ret->trace));
	r = trace_take(l, &ret->trace);
	if (r < 0)
		return r;
	if (ret->trace.runs != 1)
		return -EPROTO; /* the classifier did not run exactly once */
	ret->retval = o.retval;
	ret->mark = out.mark;
	ret->priority = out.priority;
	ret->data_len = o.data_size_out;
	return 0;
}

int pc_dp_live_rule(const struct pc_live *l, uint32_t rule, struct pc_rule_out *out,
		    struct pc_slot_name *name, struct pc_slot_name *class_name)
{
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.outs), &rule, out) < 0)
		return -errno;
	if (bpf_map_lookup_elem(l->slots_fd, &out->slot, name) < 0 ||
	    bpf_map_lookup_elem(l->slots_fd, &out->class_slot, class_name) < 0)
		return -errno;
	return 0;
}

/* ---- capture: the socket program, accepting one class ------------------------ */

int pc_dp_live_capture(const char *pin_path, uint32_t capture_slot, struct pc_gen **ret)
{
	struct live_src src;
	struct pc_gen *g;
	int r;

	if (!pin_path || pin_path[0] != '/' || strlen(pin_path) >= PC_PATH_MAX)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = src_open(&src, pin_path);
	r = r ?: copy_open(&src, &g->skel);
	src_close(&src);
	if (r >= 0) {
		struct pc_classifier *s = g->skel;

		s->rodata->pc_capture_slot = capture_slot;
		s->rodata->pc_trace_on = 0;
		s->rodata->pc_log_cost_ns = 0;
		bpf_program__set_autoload(s->progs.pc_tc, false);
		r = bpf_map__set_max_entries(s->maps.log_ring, 4096);
		r = r ?: pc_classifier__load(s);
	}
	if (r < 0) {
		pc_dp_gen_free(g);
		return r;
	}
	*ret = g;
	return 0;
}
