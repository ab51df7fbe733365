/* SPDX-License-Identifier: GPL-2.0-only */
/* explain.c - a private, traced copy of the live generation, for
 * `pktclassctl explain --live`.
 *
 * The jump tables under the pin path hold the live classifier programs.
 * From one of them come its maps (found by name) and its .rodata.  This
 * build's classifier object is then loaded with that .rodata (and
 * pc_trace_on set), reusing the live tables nodes, leaf, leafx, boxes, outs,
 * ifaces and the sets (set_segs, set_head), with private cnt, trace and work
 * maps: a packet run through the copy with BPF_PROG_TEST_RUN gets the live
 * decision and counts nothing live.  The copy runs this build's code; the program tags tell whether the
 * live programs are the same code (a tag depends on neither the map fds
 * nor .rodata).  pc_tc serves both TC hooks: a run passes the hook in
 * cb[PC_CB_HOOK], as the entry programs do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/datapath.h"
#include "lib/util.h"
#include "classifier.skel.h"

enum { T_NODES, T_LEAF, T_LEAFX, T_BOXES, T_OUTS, T_IFACES, T_SET_SEGS, T_SET_HEAD, T_RODATA,
       T_MAX };

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

/* The live tables of program id: fds[T_*], all found or -EPROTO. */
static int live_tables(uint32_t id, int fds[T_MAX])
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
		if (k < 0 || fds[k] >= 0) {
			close(fd);
			continue;
		}
		fds[k] = fd;
	}
	for (int k = 0; k < T_MAX; k++)
		if (fds[k] < 0)
			return -EPROTO;
	return 0;
}

/* The live .rodata into the copy, with the trace switched on. */
static int copy_rodata(struct pc_live *l, int fd)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), zero = 0;
	size_t size = 0;
	void *init = (void *)bpf_map__initial_value(l->skel->maps.rodata, &size);

	if (!init || bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return -EPROTO;
	if (mi.value_size != size || size < sizeof(*l->skel->rodata))
		return -EPROTO;
	if (bpf_map_lookup_elem(fd, &zero, init) < 0)
		return -errno;
	l->info.cfg = l->skel->rodata->pc_cfg;
	l->skel->rodata->pc_trace_on = 1;
	return 0;
}

static int load_copy(struct pc_live *l, const int fds[T_MAX])
{
	struct pc_classifier *s = l->skel;
	struct bpf_map *m[] = { s->maps.nodes, s->maps.leaf, s->maps.leafx, s->maps.boxes,
				s->maps.outs, s->maps.ifaces, s->maps.set_segs, s->maps.set_head };
	int r;

	r = copy_rodata(l, fds[T_RODATA]);
	/* the socket program only when the live generation has one */
	bpf_program__set_autoload(s->progs.pc_sock, l->info.prog_id[PC_HOOK_MONITOR] != 0);
	for (int k = 0; k < (int)ELEMENTSOF(m) && r >= 0; k++)
		r = bpf_map__reuse_fd(m[k], fds[k]);
	if (r < 0)
		return r;
	return pc_classifier__load(s) < 0 ? negative_errno() : 0;
}

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

static int live_open(struct pc_live *l, const char *pin_path)
{
	int fds[T_MAX], r;
	uint32_t any = 0;

	for (int k = 0; k < T_MAX; k++)
		fds[k] = -1;
	r = read_meta(pin_path, &l->info.meta);
	if (r < 0)
		return r;
	l->info.prog_id[PC_HOOK_INGRESS] = jump_slot_id(pin_path, "jmp_tc", PC_JMP_TC_INGRESS);
	l->info.prog_id[PC_HOOK_EGRESS] = jump_slot_id(pin_path, "jmp_tc", PC_JMP_TC_EGRESS);
	l->info.prog_id[PC_HOOK_MONITOR] = jump_slot_id(pin_path, "jmp_sock", PC_JMP_SOCK);
	for (int h = PC_HOOK_MAX - 1; h >= 0; h--)
		any = l->info.prog_id[h] ?: any;
	if (!any)
		return -ENODATA;
	l->slots_fd = pin_get(pin_path, "slots");
	if (l->slots_fd < 0)
		return l->slots_fd;
	r = live_tables(any, fds);
	if (r >= 0) {
		l->skel = pc_classifier__open();
		r = l->skel ? load_copy(l, fds) : negative_errno();
	}
	for (int k = 0; k < T_MAX; k++)
		if (fds[k] >= 0)
			close(fds[k]);
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
