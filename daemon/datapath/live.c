/* SPDX-License-Identifier: GPL-2.0-only */
/* live.c - a private copy of the live generation's classifier,
 * for `pktclassctl capture`.
 *
 * The live socket program is found in the pinned jump table "jmp_sock"
 * (a prog array looked up from user space gives the program id), or, when
 * the live configuration has no monitor hook, the TC program in "jmp_tc";
 * its map ids lead to the rule tables (nodes, leaf, leafx, boxes, outs,
 * ifaces) and the sets (set_segs, set_head), which the copy reuses, and to
 * its .rodata (the only map with BPF_F_RDONLY_PROG), whose content the copy
 * starts from.  Counters, trace and packet log of
 * the copy are its own, so a capture changes no statistics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "classifier.skel.h"

#define LIVE_MAPS_MAX 32

struct live_maps {
	int fd[LIVE_MAPS_MAX];
	struct bpf_map_info info[LIVE_MAPS_MAX];
	size_t n;
};

static void live_maps_close(struct live_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		close(m->fd[i]);
	m->n = 0;
}

/* The program in slot key of the pinned jump table, -ENOENT when empty. */
static int jump_prog(const char *pin_path, const char *table, __u32 key)
{
	char p[PC_PATH_MAX + 32];
	_cleanup_close_ int jmp = -1;
	__u32 id = 0;
	int fd;

	if (snprintf(p, sizeof(p), "%s/%s", pin_path, table) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	jmp = bpf_obj_get(p);
	if (jmp < 0)
		return -errno;
	if (bpf_map_lookup_elem(jmp, &key, &id) < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	fd = bpf_prog_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

/* A program of the live generation: its socket program, or its TC program
 * when the configuration has no monitor hook (no socket program is loaded
 * then; every program of a generation has the same tables and .rodata). */
static int live_prog(const char *pin_path)
{
	int fd = jump_prog(pin_path, "jmp_sock", PC_JMP_SOCK);

	if (fd == -ENOENT)
		fd = jump_prog(pin_path, "jmp_tc", PC_JMP_TC_INGRESS);
	return fd; /* -ENOENT: no generation loaded */
}

static int live_maps_get(int prog_fd, struct live_maps *m)
{
	__u32 ids[LIVE_MAPS_MAX] = {};
	struct bpf_prog_info info = {
		.nr_map_ids = LIVE_MAPS_MAX,
		.map_ids = (__u64)(unsigned long)ids,
	};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return -errno;
	if (info.nr_map_ids > LIVE_MAPS_MAX)
		return -E2BIG;
	for (__u32 i = 0; i < info.nr_map_ids; i++) {
		__u32 ilen = sizeof(m->info[0]);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			return -errno;
		m->fd[m->n] = fd;
		m->info[m->n] = (struct bpf_map_info){};
		if (bpf_obj_get_info_by_fd(fd, &m->info[m->n], &ilen) < 0) {
			close(fd);
			return -errno;
		}
		m->n++;
	}
	return 0;
}

static int live_find(const struct live_maps *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strncmp(m->info[i].name, name, sizeof(m->info[i].name) - 1) == 0)
			return m->fd[i];
	return -ESTALE;
}

/* The copy starts from the live .rodata: same trees, same rule count. */
static int copy_rodata(struct pc_classifier *s, const struct live_maps *m)
{
	size_t size = 0;
	__u32 zero = 0;

	bpf_map__initial_value(s->maps.rodata, &size);
	for (size_t i = 0; i < m->n; i++) {
		if (!(m->info[i].map_flags & BPF_F_RDONLY_PROG))
			continue;
		if (m->info[i].value_size != size)
			return -ESTALE;
		return bpf_map_lookup_elem(m->fd[i], &zero, (void *)s->rodata) < 0 ? -errno : 0;
	}
	return -ESTALE;
}

static int reuse_tables(struct pc_classifier *s, const struct live_maps *m)
{
	struct bpf_map *maps[] = {
		s->maps.nodes, s->maps.leaf, s->maps.leafx, s->maps.boxes, s->maps.outs,
		s->maps.ifaces, s->maps.set_segs, s->maps.set_head,
	};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(maps); i++) {
		int fd = live_find(m, bpf_map__name(maps[i]));

		if (fd < 0)
			return fd;
		r = bpf_map__reuse_fd(maps[i], fd);
		if (r < 0)
			return r;
	}
	return 0;
}

static int capture_setup(struct pc_classifier *s, const struct live_maps *m, uint32_t slot)
{
	int r;

	r = copy_rodata(s, m);
	if (r < 0)
		return r;
	s->rodata->pc_capture_slot = slot;
	s->rodata->pc_trace_on = 0;
	s->rodata->pc_log_cost_ns = 0;
	bpf_program__set_autoload(s->progs.pc_tc, false);
	r = bpf_map__set_max_entries(s->maps.log_ring, 4096);
	return r ?: reuse_tables(s, m);
}

int pc_dp_live_capture(const char *pin_path, uint32_t capture_slot, struct pc_gen **ret)
{
	struct live_maps m = {};
	_cleanup_close_ int prog = -1;
	struct pc_gen *g;
	int r;

	prog = live_prog(pin_path);
	if (prog < 0)
		return prog;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = live_maps_get(prog, &m);
	if (r >= 0) {
		g->skel = pc_classifier__open();
		r = g->skel ? 0 : -errno;
	}
	r = r ?: capture_setup(g->skel, &m, capture_slot);
	r = r ?: pc_classifier__load(g->skel);
	live_maps_close(&m);
	if (r < 0) {
		pc_dp_gen_free(g);
		return r;
	}
	*ret = g;
	return 0;
}
