/* SPDX-License-Identifier: GPL-2.0-only */
/* datapath.c - generations: a classifier and its tables, loaded beside the
 * live one, with the datapath's own outcome table (counter slots from
 * slots.c, redirect ifindexes), switched in through the jump tables. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "classifier/leaf.h"
#include "datapath/internal.h"
#include "classifier.skel.h"

void pc_dp_set_monitor(struct pc_dp *dp, bool on)
{
	dp->no_sock = !on;
}

void pc_dp_set_trace(struct pc_dp *dp, bool on)
{
	dp->trace = on;
}

const char *pc_dp_verifier_log(const struct pc_dp *dp)
{
	size_t n = strnlen(dp->log, sizeof(dp->log));
	const char *p;

	if (n <= PC_DP_LOG_TAIL)
		return dp->log;
	/* the last lines, starting at a line boundary */
	p = dp->log + n - PC_DP_LOG_TAIL;
	while (*p && *p != '\n')
		p++;
	return *p ? p + 1 : p;
}

/* ---- generations ---------------------------------------------------------- */

/* Copy n values of vsize bytes into an mmapable array (elements are 8-byte
 * aligned in the map). */
static int map_fill(struct bpf_map *m, const void *src, size_t n, size_t vsize)
{
	size_t stride = (vsize + 7) & ~(size_t)7, len, page = sysconf(_SC_PAGESIZE);
	size_t total = (size_t)((bpf_map__value_size(m) + 7) & ~7u) * bpf_map__max_entries(m);
	uint8_t *p;

	if (!n)
		return 0;
	if (n * stride > total)
		return -E2BIG;
	len = (total + page - 1) & ~(page - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		return -errno;
	for (size_t i = 0; i < n; i++)
		memcpy(p + i * stride, (const uint8_t *)src + i * vsize, vsize);
	munmap(p, len);
	return 0;
}

static int fill_outs(struct pc_gen *g)
{
	return map_fill(g->skel->maps.outs, g->outs, (size_t)g->nrules + 1, sizeof(*g->outs));
}

/* The leaf tables (classifier/leaf.c), each the whole table in one element. */
static int fill_leaf(struct pc_gen *g, const struct pc_leaf_tab *lt)
{
	struct pc_classifier *s = g->skel;
	int r;

	r = lt->nent ? map_fill(s->maps.leaf, lt->ent, 1, lt->nent * sizeof(*lt->ent)) : 0;
	r = r ?: lt->next ? map_fill(s->maps.leafx, lt->ext, 1, lt->next * sizeof(*lt->ext)) : 0;
	return r ?: lt->nbox ? map_fill(s->maps.boxes, lt->box, 1, lt->nbox * sizeof(*lt->box)) : 0;
}

static int gen_check(const struct pc_ruleset *rs, const struct pc_tree *t)
{
	if (!rs || !t || !rs->outs || t->cfg.ntrees > PC_MAX_TREES ||
	    t->cfg.max_depth > PC_MAX_DEPTH || t->cfg.max_leaf > PC_MAX_LEAF ||
	    t->cfg.nrules != rs->nrules)
		return -EINVAL;
	for (uint32_t i = 0; i < t->cfg.ntrees; i++)
		if (t->cfg.depth[i] > t->cfg.max_depth || t->cfg.leaf[i] > t->cfg.max_leaf)
			return -EINVAL;
	if (t->nnodes > UINT32_MAX || t->nleaf > UINT32_MAX || rs->nboxes > UINT32_MAX)
		return -E2BIG;
	return 0;
}

/* A tree built by hand (tests) has no slow-leaf count: look. */
static bool tree_has_slow(const struct pc_tree *t)
{
	for (size_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i].kind == PC_NODE_SLOW)
			return true;
	return false;
}

static int gen_size_maps(struct pc_gen *g, const struct pc_ruleset *rs, const struct pc_tree *t,
			 const struct pc_leaf_tab *lt)
{
	struct pc_classifier *s = g->skel;
	int r = 0;

	/* nodes, leaf, leafx, boxes: one element holding the whole table */
	size_t nn = t->nnodes ?: 1, nl = lt->nent ?: 1, nx = lt->next ?: 1, nb = lt->nbox ?: 1;

	if (nn * sizeof(struct pc_node) > INT_MAX || nl * sizeof(struct pc_leaf_ent) > INT_MAX ||
	    nx * sizeof(struct pc_leaf_ext) > INT_MAX || nb * sizeof(struct pc_box) > INT_MAX)
		return -E2BIG;
	s->rodata->pc_nnodes = (uint32_t)nn;
	s->rodata->pc_nleaf = (uint32_t)nl;
	s->rodata->pc_nleafx = (uint32_t)nx;
	s->rodata->pc_nboxes = (uint32_t)nb;
	s->rodata->pc_has_slow = t->slow_leaves > 0 || tree_has_slow(t);
	r = r ?: bpf_map__set_value_size(s->maps.nodes, (uint32_t)(nn * sizeof(struct pc_node)));
	r = r ?: bpf_map__set_value_size(s->maps.leaf, (uint32_t)(nl * sizeof(struct pc_leaf_ent)));
	r = r ?: bpf_map__set_value_size(s->maps.leafx, (uint32_t)(nx * sizeof(struct pc_leaf_ext)));
	r = r ?: bpf_map__set_value_size(s->maps.boxes, (uint32_t)(nb * sizeof(struct pc_box)));
	r = r ?: bpf_map__set_max_entries(s->maps.outs, rs->nrules + 1);
	return r;
}

/* The set references looked up before the walk, the directory slot of the
 * generation's parity, and the pinned pool. */
static int gen_set_sets(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs)
{
	struct pc_classifier *s = g->skel;
	size_t n = rs->nsetrefs < PC_SET_REFS_EAGER ? rs->nsetrefs : PC_SET_REFS_EAGER;
	int r;

	s->rodata->pc_nsetrefs = (uint32_t)n;
	s->rodata->pc_set_dir_slot = g->generation & 1;
	for (size_t i = 0; i < n; i++)
		s->rodata->pc_setref[i] = rs->setrefs[i];
	/* no pool yet (no set anywhere): the generation's own empty maps */
	if (pc_sets_segs_fd(dp->sets) < 0)
		return 0;
	r = bpf_map__reuse_fd(s->maps.set_segs, pc_sets_segs_fd(dp->sets));
	return r < 0 ? r : bpf_map__reuse_fd(s->maps.set_head, pc_sets_head_fd(dp->sets));
}

static void gen_set_log(struct pc_dp *dp, struct pc_gen *g)
{
	struct bpf_program *p;

	dp->log[0] = '\0';
	bpf_object__for_each_program(p, g->skel->obj)
		bpf_program__set_log_buf(p, dp->log, sizeof(dp->log));
}

/* One TC program for both hooks; the socket program only for monitor hooks. */
static void gen_set_progs(const struct pc_dp *dp, struct pc_gen *g)
{
	struct pc_classifier *s = g->skel;

	bpf_program__set_autoload(s->progs.pc_sock, !dp->no_sock);
}

/* The generation's own outcome table: the rule set's outcomes; slots and
 * redirect ifindexes are the datapath's to fill. */
static int gen_outs(struct pc_gen *g, const struct pc_ruleset *rs)
{
	size_t n = (size_t)rs->nrules + 1;

	g->nrules = rs->nrules;
	g->outs = malloc(n * sizeof(*g->outs));
	if (!g->outs)
		return -ENOMEM;
	memcpy(g->outs, rs->outs, n * sizeof(*g->outs));
	for (size_t i = 0; i < n; i++)
		g->outs[i].slot = g->outs[i].class_slot = g->outs[i].redirect_ifindex = 0;
	return 0;
}

/* A larger capacity: half again what is needed, at least twice the old. */
static uint32_t grown_cap(uint64_t need, uint32_t old)
{
	uint64_t cap = need + need / 2;

	if (cap < 2ull * old)
		cap = 2ull * old;
	cap = (cap + PC_CNT_CHUNK - 1) / PC_CNT_CHUNK * PC_CNT_CHUNK;
	return cap > UINT32_MAX / 2 ? 0 : (uint32_t)cap;
}

/* The live counter set when g's slots fit it, else a larger one. */
static int gen_cset(struct pc_dp *dp, struct pc_gen *g)
{
	uint64_t need = (uint64_t)g->max_slot + 1;
	uint32_t cap;
	int r;

	if (need <= dp->cs->slot_cap) {
		g->cs = pc_cset_ref(dp->cs);
		return 0;
	}
	cap = grown_cap(need, dp->cs->slot_cap);
	if (!cap)
		return -E2BIG;
	r = pc_dp_slots_mirror(dp, cap);
	return r < 0 ? r : pc_cset_new(dp, cap, &g->cs);
}

static int gen_load_tabs(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs,
			 const struct pc_tree *t, const struct pc_leaf_tab *lt)
{
	struct pc_gen_cfg cfg = t->cfg;
	int r;

	g->skel = pc_classifier__open();
	if (!g->skel)
		return -errno;
	cfg.generation = g->generation;
	g->skel->rodata->pc_cfg = cfg;
	g->skel->rodata->pc_trace_on = dp->trace;
	g->skel->rodata->pc_log_cost_ns = dp->log_rate ? PC_NSEC_PER_SEC / dp->log_rate : 0;
	r = gen_size_maps(g, rs, t, lt);
	if (r >= 0)
		r = pc_dp_gen_fc_setup(dp, g, rs);
	if (r >= 0)
		r = bpf_map__reuse_fd(g->skel->maps.cnt, g->cs->outer_fd);
	if (r >= 0)
		r = bpf_map__reuse_fd(g->skel->maps.log_ring, dp->log_fd);
	if (r >= 0)
		r = bpf_map__reuse_fd(g->skel->maps.log_limit, dp->log_limit_fd);
	if (r >= 0)
		r = gen_set_sets(dp, g, rs);
	if (r < 0)
		return r;
	gen_set_log(dp, g);
	gen_set_progs(dp, g);
	r = pc_classifier__load(g->skel);
	if (r < 0)
		return r;
	r = map_fill(g->skel->maps.nodes, t->nodes, t->nnodes, sizeof(struct pc_node));
	r = r ?: fill_leaf(g, lt);
	return r ?: fill_outs(g);
}

/* The leaf tables need g's slots: after they are assigned. */
static int gen_load(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs,
		    const struct pc_tree *t)
{
	struct pc_leaf_tab lt;
	int r;

	r = pc_leaf_build(rs, g->outs, t, &lt);
	if (r < 0)
		return r;
	r = gen_load_tabs(dp, g, rs, t, &lt);
	pc_leaf_tab_clear(&lt);
	return r;
}

int pc_dp_gen_prepare(struct pc_dp *dp, const struct pc_ruleset *rs, const struct pc_tree *t,
		      uint32_t generation, struct pc_gen **ret)
{
	struct pc_gen *g;
	int r;

	r = gen_check(rs, t);
	if (r < 0)
		return r;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->generation = generation;
	dp->log[0] = '\0';
	r = pc_dp_gen_pending(dp, g);
	if (r >= 0)
		r = gen_outs(g, rs);
	if (r >= 0)
		r = pc_dp_slots_assign(dp, g, rs);
	if (r >= 0)
		r = pc_dp_gen_targets(g, rs);
	if (r >= 0)
		r = gen_cset(dp, g);
	if (r >= 0)
		r = gen_load(dp, g, rs, t);
	if (r < 0) {
		pc_dp_gen_free(g);
		return r;
	}
	*ret = g;
	return 0;
}

const struct pc_rule_out *pc_dp_gen_outs(const struct pc_gen *g)
{
	return g->outs;
}

uint32_t pc_dp_gen_slot_cap(const struct pc_gen *g)
{
	return g->cs ? g->cs->slot_cap : 0;
}

/* ifindex < PC_IFACE_ARRAY: its "ifarr" entry too (ifbits 0 = absent, so
 * an entry with ifbits 0 lives in "ifaces" only). */
static int ifarr_set(struct pc_gen *g, uint32_t ifindex, const struct pc_iface *v)
{
	static const struct pc_iface none = { .ifbits = 0 };
	int fd = bpf_map__fd(g->skel->maps.ifarr);

	if (ifindex >= PC_IFACE_ARRAY)
		return 0;
	return bpf_map_update_elem(fd, &ifindex, v ?: &none, BPF_ANY) < 0 ? -errno : 0;
}

/* The attach slots of v: counter arrays in g's set, published at once
 * when g is live (before the entry names them), else at g's commit. */
static int gen_iface_slots(struct pc_gen *g, const struct pc_iface *v)
{
	for (int h = 0; g->dp && h < PC_HOOK_MAX; h++) {
		uint32_t a = v->attach[h];
		int r;

		if (a == PC_ATTACH_NONE)
			continue;
		r = pc_dp_gen_att_add(g, a);
		if (r >= 0)
			r = pc_cset_array(g->dp, g->cs, a);
		if (r >= 0 && g->live)
			r = pc_dp_att_publish(g->dp, a);
		if (r < 0)
			return r;
	}
	return 0;
}

int pc_dp_gen_set_iface(struct pc_gen *g, uint32_t ifindex, const struct pc_iface *v)
{
	int fd = bpf_map__fd(g->skel->maps.ifaces), r;

	r = gen_iface_slots(g, v);
	if (r < 0)
		return r;
	if (bpf_map_update_elem(fd, &ifindex, v, BPF_ANY) < 0)
		return -errno;
	return ifarr_set(g, ifindex, v);
}

int pc_dp_gen_del_iface(struct pc_gen *g, uint32_t ifindex)
{
	int fd = bpf_map__fd(g->skel->maps.ifaces), r;

	r = ifarr_set(g, ifindex, NULL);
	if (r < 0)
		return r;
	return bpf_map_delete_elem(fd, &ifindex) < 0 ? -errno : 0;
}

static struct bpf_program *gen_prog(const struct pc_gen *g, int hook)
{
	const struct pc_classifier *s = g->skel;
	struct bpf_program *p = NULL;

	switch (hook) {
	case PC_HOOK_INGRESS:
	case PC_HOOK_EGRESS:
		p = s->progs.pc_tc;
		break;
	case PC_HOOK_MONITOR:
		p = s->progs.pc_sock;
		break;
	}
	return p;
}

/* -ENOENT: the generation has no program for hook (pc_sock not loaded). */
int pc_dp_gen_prog_fd(const struct pc_gen *g, int hook)
{
	struct bpf_program *p = gen_prog(g, hook);

	if (!p)
		return -EINVAL;
	return bpf_program__autoload(p) ? bpf_program__fd(p) : -ENOENT;
}

int pc_dp_gen_trace_fd(const struct pc_gen *g)
{
	return bpf_map__fd(g->skel->maps.trace);
}

int pc_dp_jump_to(struct pc_dp *dp, const struct pc_gen *g)
{
	static const struct { int hook; uint32_t slot; bool tc; } j[] = {
		{ PC_HOOK_INGRESS, PC_JMP_TC_INGRESS, true },
		{ PC_HOOK_EGRESS, PC_JMP_TC_EGRESS, true },
		{ PC_HOOK_MONITOR, PC_JMP_SOCK, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(j); i++) {
		int fd = pc_dp_gen_prog_fd(g, j[i].hook), map = j[i].tc ? dp->jmp_tc_fd : dp->jmp_sock_fd;

		/* no program for the hook: the slot is emptied */
		if (fd == -ENOENT) {
			if (bpf_map_delete_elem(map, &j[i].slot) < 0 && errno != ENOENT)
				return -errno;
			continue;
		}
		if (bpf_map_update_elem(map, &j[i].slot, &fd, BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

/* ---- sets ------------------------------------------------------------------- */
int pc_dp_sets_stage(struct pc_dp *dp, const struct pc_config *cfg, uint32_t generation,
		     struct pc_set_changes *ch)
{
	return pc_sets_stage(dp->sets, cfg, generation, ch);
}

void pc_dp_sets_abort(struct pc_dp *dp)
{
	pc_sets_abort(dp->sets);
}

int pc_dp_set_change(struct pc_dp *dp, const char *name, enum pc_set_op op,
		     const struct pc_set_elem *e, size_t n, struct pc_set_result *res)
{
	return pc_sets_change(dp->sets, name, op, e, n, res);
}

int pc_dp_sets_list(const struct pc_dp *dp, struct pc_set_info **ret, size_t *n)
{
	return pc_sets_list(dp->sets, ret, n);
}

int pc_dp_set_counts(const struct pc_dp *dp, struct pc_set_count **ret, size_t *n)
{
	return pc_sets_counts(dp->sets, ret, n);
}

int pc_dp_set_get(const struct pc_dp *dp, const char *name, struct pc_set_info *info,
		  struct pc_set_view *view)
{
	return pc_sets_get(dp->sets, name, info, view);
}

int pc_dp_sets_sync(struct pc_dp *dp)
{
	return pc_sets_sync(dp->sets);
}

int pc_dp_sets_grace_start(struct pc_dp *dp)
{
	return pc_sets_grace_start(dp->sets);
}

int pc_dp_sets_grace_fd(const struct pc_dp *dp)
{
	return pc_sets_grace_fd(dp->sets);
}

int pc_dp_sets_grace_done(struct pc_dp *dp)
{
	return pc_sets_grace_done(dp->sets);
}

bool pc_dp_sets_adopt_failed(const struct pc_dp *dp)
{
	return pc_sets_adopt_failed(dp->sets);
}
