/* SPDX-License-Identifier: GPL-2.0-only */
/* datapath.c - persistent BPF objects (pins), entry programs, generations.
 *
 * Pins under pin_path: the maps jmp_tc, jmp_sock, cnt, meta, slots, attach,
 * each attachment's counter array as cnt_<attach slot> (slots.c), and the
 * entry programs entry_ingress, entry_egress, entry_sock.  "meta" is
 * pinned last, so a half-created directory is never adopted: without it, or
 * with another magic or ABI version, the old pins are removed and everything
 * is created afresh. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/magic.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "entry.skel.h"
#include "classifier.skel.h"

#define PC_DEFAULT_SLOT_CAP 16384u

static const char *const pin_names[] = {
	"meta", "jmp_tc", "jmp_sock", "cnt", "slots", "attach",
	"entry_ingress", "entry_egress", "entry_sock", "log", "log_limit",
};

int pc_dp_pin_file(const struct pc_dp *dp, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dp->pin_path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int obj_get(const struct pc_dp *dp, const char *name)
{
	char p[PC_PATH_MAX + 32];
	int fd, r;

	r = pc_dp_pin_file(dp, name, p, sizeof(p));
	if (r < 0)
		return r;
	fd = bpf_obj_get(p);
	return fd < 0 ? -errno : fd;
}

static int obj_pin(const struct pc_dp *dp, int fd, const char *name)
{
	char p[PC_PATH_MAX + 32];
	int r;

	r = pc_dp_pin_file(dp, name, p, sizeof(p));
	if (r < 0)
		return r;
	return bpf_obj_pin(fd, p) < 0 ? -errno : 0;
}

static int unpin_all(const struct pc_dp *dp)
{
	char p[PC_PATH_MAX + 32];
	int ret = 0;

	for (size_t i = 0; i < ELEMENTSOF(pin_names); i++) {
		if (pc_dp_pin_file(dp, pin_names[i], p, sizeof(p)) < 0)
			return -ENAMETOOLONG;
		if (unlink(p) < 0 && errno != ENOENT)
			ret = -errno;
	}
	return pc_dp_counters_unpin_all(dp) ?: ret;
}

static bool is_bpffs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

/* mkdir -p, 0700 for what it creates. */
static int mkdir_p(const char *path)
{
	char p[PC_PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/* bpffs is mounted on /sys/fs/bpf when it is not; pin_path is created and
 * must be on a bpffs. */
static int ensure_bpffs(const char *pin_path)
{
#define PC_BPFFS "/sys/fs/bpf"
	static const char bpffs[] = PC_BPFFS;
	int r;

	if (!strncmp(pin_path, PC_BPFFS "/", sizeof(bpffs)) && !is_bpffs(bpffs) &&
	    mount("bpf", bpffs, "bpf", 0, "mode=0700") < 0)
		return -errno;
	r = mkdir_p(pin_path);
	if (r < 0)
		return r;
	if (!is_bpffs(pin_path)) {
		rmdir(pin_path); /* only if empty */
		return -ENOTSUP;
	}
	return 0;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	return info.id;
}

static int map_max_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	return (int)info.max_entries;
}

static int meta_write(struct pc_dp *dp)
{
	__u32 zero = 0;

	return bpf_map_update_elem(dp->meta_fd, &zero, &dp->meta, BPF_ANY) < 0 ? -errno : 0;
}

static int entry_create(struct pc_dp *dp)
{
	struct pc_entry *skel;
	int r;

	skel = pc_entry__open_and_load();
	if (!skel)
		return -errno;
	dp->jmp_tc_fd = fcntl(bpf_map__fd(skel->maps.jmp_tc), F_DUPFD_CLOEXEC, 3);
	dp->jmp_sock_fd = fcntl(bpf_map__fd(skel->maps.jmp_sock), F_DUPFD_CLOEXEC, 3);
	dp->entry_fd[PC_HOOK_INGRESS] = fcntl(bpf_program__fd(skel->progs.pc_entry_ingress), F_DUPFD_CLOEXEC, 3);
	dp->entry_fd[PC_HOOK_EGRESS] = fcntl(bpf_program__fd(skel->progs.pc_entry_egress), F_DUPFD_CLOEXEC, 3);
	dp->entry_fd[PC_HOOK_MONITOR] = fcntl(bpf_program__fd(skel->progs.pc_entry_sock), F_DUPFD_CLOEXEC, 3);
	pc_entry__destroy(skel);
	if (dp->jmp_tc_fd < 0 || dp->jmp_sock_fd < 0 || dp->entry_fd[0] < 0 ||
	    dp->entry_fd[1] < 0 || dp->entry_fd[2] < 0)
		return -EMFILE;
	if ((r = obj_pin(dp, dp->jmp_tc_fd, "jmp_tc")) < 0 ||
	    (r = obj_pin(dp, dp->jmp_sock_fd, "jmp_sock")) < 0 ||
	    (r = obj_pin(dp, dp->entry_fd[PC_HOOK_INGRESS], "entry_ingress")) < 0 ||
	    (r = obj_pin(dp, dp->entry_fd[PC_HOOK_EGRESS], "entry_egress")) < 0 ||
	    (r = obj_pin(dp, dp->entry_fd[PC_HOOK_MONITOR], "entry_sock")) < 0)
		return r;
	return 0;
}

static int create_all(struct pc_dp *dp)
{
	int r;

	dp->meta_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_meta", 4, sizeof(struct pc_meta), 1, NULL);
	dp->slots_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_slots", 4, sizeof(struct pc_slot_name),
				      dp->slot_cap, NULL);
	dp->attach_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_attach", 4, sizeof(struct pc_attach_info),
				       PC_MAX_ATTACH, NULL);
	if (dp->meta_fd < 0 || dp->slots_fd < 0 || dp->attach_fd < 0)
		return -errno;
	r = pc_dp_cnt_create(dp, &dp->cnt_fd);
	if (r < 0)
		return r;
	r = entry_create(dp);
	if (r < 0)
		return r;
	r = pc_dp_slots_init(dp, true);
	if (r >= 0)
		r = pc_dp_log_open(dp);
	if (r < 0)
		return r;
	dp->meta.magic = PC_META_MAGIC;
	dp->meta.abi_version = PC_ABI_VERSION;
	dp->meta.slot_cap = dp->slot_cap;
	dp->meta.pid = getpid();
	r = meta_write(dp);
	if (r < 0)
		return r;
	if ((r = obj_pin(dp, dp->cnt_fd, "cnt")) < 0 ||
	    (r = obj_pin(dp, dp->slots_fd, "slots")) < 0 ||
	    (r = obj_pin(dp, dp->attach_fd, "attach")) < 0)
		return r;
	return obj_pin(dp, dp->meta_fd, "meta");
}

/* Our magic and ABI version; slot_cap in whole chunks. */
static bool meta_adoptable(const struct pc_meta *m)
{
	return m->magic == PC_META_MAGIC && m->abi_version == PC_ABI_VERSION &&
	       m->slot_cap > PC_SLOT_FIRST && m->slot_cap % PC_CNT_CHUNK == 0;
}

/* 0, -ENOENT (nothing pinned) or -EPROTO (pins not usable). */
static int adopt_all(struct pc_dp *dp)
{
	static const char *const entry_pins[PC_HOOK_MAX] = {
		"entry_ingress", "entry_egress", "entry_sock",
	};
	__u32 zero = 0;
	int r;

	dp->meta_fd = obj_get(dp, "meta");
	if (dp->meta_fd < 0)
		return dp->meta_fd == -ENOENT ? -ENOENT : -EPROTO;
	if (bpf_map_lookup_elem(dp->meta_fd, &zero, &dp->meta) < 0 || !meta_adoptable(&dp->meta))
		return -EPROTO;
	dp->slot_cap = dp->meta.slot_cap;
	dp->jmp_tc_fd = obj_get(dp, "jmp_tc");
	dp->jmp_sock_fd = obj_get(dp, "jmp_sock");
	dp->cnt_fd = obj_get(dp, "cnt");
	dp->slots_fd = obj_get(dp, "slots");
	dp->attach_fd = obj_get(dp, "attach");
	for (int h = 0; h < PC_HOOK_MAX; h++)
		if ((dp->entry_fd[h] = obj_get(dp, entry_pins[h])) < 0)
			return -EPROTO;
	if (dp->jmp_tc_fd < 0 || dp->jmp_sock_fd < 0 || dp->cnt_fd < 0 || dp->slots_fd < 0 ||
	    dp->attach_fd < 0)
		return -EPROTO;
	if (map_max_entries(dp->slots_fd) != (int)dp->slot_cap)
		return -EPROTO;
	r = pc_dp_slots_init(dp, false);
	if (r < 0)
		return r == -ENOMEM ? r : -EPROTO;
	r = pc_dp_attach_load(dp);
	if (r < 0)
		return r == -ENOMEM ? r : -EPROTO;
	r = pc_dp_log_open(dp);
	if (r < 0)
		return r;
	dp->meta.pid = getpid();
	return meta_write(dp);
}

static void close_fds(struct pc_dp *dp)
{
	int *fds[] = { &dp->jmp_tc_fd, &dp->jmp_sock_fd, &dp->cnt_fd, &dp->meta_fd,
		       &dp->slots_fd, &dp->attach_fd, &dp->entry_fd[0], &dp->entry_fd[1],
		       &dp->entry_fd[2], &dp->log_fd, &dp->log_limit_fd };

	for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	for (int i = 0; i < PC_MAX_ATTACH; i++) {
		if (dp->att_fd[i] >= 0)
			close(dp->att_fd[i]);
		dp->att_fd[i] = -1;
	}
	pc_dp_cntzero_free(dp);
	free(dp->slots);
	dp->slots = NULL;
	free(dp->slot_dirty);
	dp->slot_dirty = NULL;
}

/* Counter slots per attachment for a new state: as asked (or the default),
 * rounded up to whole chunks of PC_CNT_CHUNK (> PC_SLOT_FIRST). */
static uint32_t slot_cap_of(const struct pc_dp_opts *o)
{
	uint64_t cap = o->slot_cap ? o->slot_cap : PC_DEFAULT_SLOT_CAP;

	cap = (cap + PC_CNT_CHUNK - 1) / PC_CNT_CHUNK * PC_CNT_CHUNK;
	return cap > UINT32_MAX ? UINT32_MAX / PC_CNT_CHUNK * PC_CNT_CHUNK : (uint32_t)cap;
}

static struct pc_dp *dp_new(const struct pc_dp_opts *o)
{
	struct pc_dp *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return NULL;
	dp->jmp_tc_fd = dp->jmp_sock_fd = dp->cnt_fd = -1;
	dp->meta_fd = dp->slots_fd = dp->attach_fd = -1;
	dp->log_fd = dp->log_limit_fd = -1;
	for (int h = 0; h < PC_HOOK_MAX; h++)
		dp->entry_fd[h] = -1;
	for (int i = 0; i < PC_MAX_ATTACH; i++)
		dp->att_fd[i] = -1;
	snprintf(dp->pin_path, sizeof(dp->pin_path), "%s", o->pin_path ? o->pin_path : "");
	dp->slot_cap = slot_cap_of(o);
	return dp;
}

int pc_dp_open(const struct pc_dp_opts *o, struct pc_dp **ret)
{
	struct pc_dp *dp;
	int r;

	if (!o || !o->pin_path || o->pin_path[0] != '/' || strlen(o->pin_path) >= PC_PATH_MAX - 32)
		return -EINVAL;
	dp = dp_new(o);
	if (!dp)
		return -ENOMEM;
	dp->ncpus = libbpf_num_possible_cpus();
	r = dp->ncpus > 0 ? ensure_bpffs(dp->pin_path) : dp->ncpus;
	if (r < 0)
		goto fail;
	r = adopt_all(dp);
	if (r == -ENOENT || r == -EPROTO) {
		close_fds(dp);
		dp->slot_cap = slot_cap_of(o);
		memset(&dp->meta, 0, sizeof(dp->meta));
		memset(dp->att, 0, sizeof(dp->att));
		r = unpin_all(dp);
		if (r >= 0)
			r = create_all(dp);
		if (r < 0)
			unpin_all(dp);
	}
	if (r < 0)
		goto fail;
	for (int h = 0; h < PC_HOOK_MAX; h++)
		dp->entry_id[h] = prog_id(dp->entry_fd[h]);
	*ret = dp;
	return 0;
fail:
	close_fds(dp);
	free(dp);
	return r;
}

int pc_dp_unpin(struct pc_dp *dp)
{
	int r = unpin_all(dp);

	if (rmdir(dp->pin_path) < 0 && errno != ENOENT && errno != ENOTEMPTY && r >= 0)
		r = -errno;
	return r;
}

void pc_dp_close(struct pc_dp *dp, bool keep)
{
	if (!dp)
		return;
	if (!keep)
		pc_dp_unpin(dp);
	pc_dp_gen_free(dp->cur);
	close_fds(dp);
	free(dp);
}

uint32_t pc_dp_slot_cap(const struct pc_dp *dp)
{
	return dp->slot_cap;
}

int pc_dp_entry_fd(const struct pc_dp *dp, int hook)
{
	return hook >= 0 && hook < PC_HOOK_MAX ? dp->entry_fd[hook] : -EINVAL;
}

uint32_t pc_dp_entry_id(const struct pc_dp *dp, int hook)
{
	return hook >= 0 && hook < PC_HOOK_MAX ? dp->entry_id[hook] : 0;
}

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

int pc_dp_set_status(struct pc_dp *dp, uint32_t flags, const char *status)
{
	dp->meta.flags = flags;
	snprintf(dp->meta.status, sizeof(dp->meta.status), "%s", status ? status : "");
	return meta_write(dp);
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

static int fill_outs(struct pc_gen *g, const struct pc_ruleset *rs)
{
	_cleanup_free_ struct pc_rule_out *o = NULL;
	size_t n = (size_t)rs->nrules + 1;

	o = malloc(n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	memcpy(o, rs->outs, n * sizeof(*o));
	for (size_t i = 0; i < n; i++)
		if (o[i].action == PC_ACT_REDIRECT && !o[i].redirect_ifindex && rs->redirect &&
		    rs->redirect[i][0])
			o[i].redirect_ifindex = if_nametoindex(rs->redirect[i]);
	return map_fill(g->skel->maps.outs, o, n, sizeof(*o));
}

/* A leaf entry carries its rule's outcome when that is plain pass or drop. */
static void leaf_out(struct pc_leaf_ent *e, const struct pc_rule_out *o)
{
	e->slot = o->slot;
	e->class_slot = o->class_slot;
	e->action = o->action;
	if (o->flags || (o->action != PC_ACT_PASS && o->action != PC_ACT_DROP))
		e->flags |= PC_LE_FULL_OUT;
}

/* An "l3 is IPv4" or "l3 is IPv6" check: a flag in the entry. */
static uint8_t leaf_l3_flag(const struct pc_check *c)
{
	if (c->word != PC_W_L3 || c->op != PC_OP_RANGE || c->a != c->b)
		return 0;
	return c->a == ETH_P_IP ? PC_LE_IPV4 : c->a == ETH_P_IPV6 ? PC_LE_IPV6 : 0;
}

/* The box's checks, as many as the entry holds; PC_LE_MORE if not all. */
static void leaf_checks(struct pc_leaf_ent *e, const struct pc_box *b)
{
	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];
		uint8_t l3 = leaf_l3_flag(c);

		if (l3 && !(e->flags & (PC_LE_IPV4 | PC_LE_IPV6)))
			e->flags |= l3;
		else if (c->op == PC_OP_RANGE && e->n < PC_LEAF_CHECKS) {
			e->word[e->n] = c->word;
			e->r[e->n].lo = c->a;
			e->r[e->n].hi = c->b;
			e->n++;
		} else
			e->flags |= PC_LE_MORE;
	}
}

/* The leaf map's entries: box index, rule, first checks and outcome of each. */
static int fill_leaf(struct pc_gen *g, const struct pc_ruleset *rs, const struct pc_tree *t)
{
	_cleanup_free_ struct pc_leaf_ent *e = NULL;

	if (!t->nleaf)
		return 0;
	e = calloc(t->nleaf, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < t->nleaf; i++) {
		const struct pc_box *b;

		if (t->leaf[i] >= rs->nboxes)
			return -EINVAL;
		b = &rs->boxes[t->leaf[i]];
		if (b->rule > rs->nrules)
			return -EINVAL;
		e[i].box = t->leaf[i];
		e[i].rule = b->rule;
		leaf_checks(&e[i], b);
		leaf_out(&e[i], &rs->outs[b->rule]);
	}
	/* one element, the whole table */
	return map_fill(g->skel->maps.leaf, e, 1, t->nleaf * sizeof(*e));
}

static int gen_check(const struct pc_ruleset *rs, const struct pc_tree *t)
{
	if (!rs || !t || !rs->outs || t->cfg.ntrees > PC_MAX_TREES ||
	    t->cfg.max_depth > PC_MAX_DEPTH || t->cfg.max_leaf > PC_MAX_LEAF ||
	    t->cfg.nrules != rs->nrules)
		return -EINVAL;
	if (t->nnodes > UINT32_MAX || t->nleaf > UINT32_MAX || rs->nboxes > UINT32_MAX)
		return -E2BIG;
	return 0;
}

static int gen_size_maps(struct pc_gen *g, const struct pc_ruleset *rs, const struct pc_tree *t)
{
	struct pc_classifier *s = g->skel;
	int r = 0;

	/* nodes, leaf, boxes: one element holding the whole table */
	size_t nn = t->nnodes ?: 1, nl = t->nleaf ?: 1, nb = rs->nboxes ?: 1;

	if (nn * sizeof(struct pc_node) > INT_MAX || nl * sizeof(struct pc_leaf_ent) > INT_MAX ||
	    nb * sizeof(struct pc_box) > INT_MAX)
		return -E2BIG;
	s->rodata->pc_nnodes = (uint32_t)nn;
	s->rodata->pc_nleaf = (uint32_t)nl;
	s->rodata->pc_nboxes = (uint32_t)nb;
	r = r ?: bpf_map__set_value_size(s->maps.nodes, (uint32_t)(nn * sizeof(struct pc_node)));
	r = r ?: bpf_map__set_value_size(s->maps.leaf, (uint32_t)(nl * sizeof(struct pc_leaf_ent)));
	r = r ?: bpf_map__set_value_size(s->maps.boxes, (uint32_t)(nb * sizeof(struct pc_box)));
	r = r ?: bpf_map__set_max_entries(s->maps.outs, rs->nrules + 1);
	return r;
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

int pc_dp_gen_prepare(struct pc_dp *dp, const struct pc_ruleset *rs, const struct pc_tree *t,
		      uint32_t generation, struct pc_gen **ret)
{
	struct pc_gen_cfg cfg;
	struct pc_gen *g;
	int r;

	r = gen_check(rs, t);
	if (r < 0)
		return r;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->generation = generation;
	g->skel = pc_classifier__open();
	if (!g->skel) {
		r = -errno;
		goto fail;
	}
	cfg = t->cfg;
	cfg.generation = generation;
	g->skel->rodata->pc_cfg = cfg;
	g->skel->rodata->pc_trace_on = dp->trace;
	g->skel->rodata->pc_log_cost_ns = dp->log_rate ? PC_NSEC_PER_SEC / dp->log_rate : 0;
	r = gen_size_maps(g, rs, t);
	if (r >= 0)
		r = bpf_map__reuse_fd(g->skel->maps.cnt, dp->cnt_fd);
	if (r >= 0)
		r = bpf_map__reuse_fd(g->skel->maps.log_ring, dp->log_fd);
	if (r >= 0)
		r = bpf_map__reuse_fd(g->skel->maps.log_limit, dp->log_limit_fd);
	if (r < 0)
		goto fail;
	gen_set_log(dp, g);
	gen_set_progs(dp, g);
	r = pc_classifier__load(g->skel);
	if (r < 0)
		goto fail;
	r = map_fill(g->skel->maps.nodes, t->nodes, t->nnodes, sizeof(struct pc_node));
	r = r ?: fill_leaf(g, rs, t);
	r = r ?: map_fill(g->skel->maps.boxes, rs->boxes, rs->nboxes, sizeof(struct pc_box));
	r = r ?: fill_outs(g, rs);
	if (r < 0)
		goto fail;
	*ret = g;
	return 0;
fail:
	pc_dp_gen_free(g);
	return r;
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

int pc_dp_gen_set_iface(struct pc_gen *g, uint32_t ifindex, const struct pc_iface *v)
{
	int fd = bpf_map__fd(g->skel->maps.ifaces);

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

static int jump_to(struct pc_dp *dp, const struct pc_gen *g)
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

int pc_dp_gen_commit(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs,
		     const char *config_path)
{
	int r;

	r = jump_to(dp, g);
	if (r < 0) {
		/* never leave the hooks on a mix of generations */
		if (dp->cur)
			jump_to(dp, dp->cur);
		return r;
	}
	if (dp->cur != g)
		pc_dp_gen_free(dp->cur);
	dp->cur = g;
	r = pc_dp_slots_release(dp, rs);
	dp->meta.generation = g->generation;
	dp->meta.nrules = rs->nrules;
	dp->meta.loaded_realtime_usec = pc_now_usec(CLOCK_REALTIME);
	dp->meta.flags &= ~(uint32_t)PC_META_RELOAD_FAILED;
	snprintf(dp->meta.config_path, sizeof(dp->meta.config_path), "%s", config_path ? config_path : "");
	snprintf(dp->meta.status, sizeof(dp->meta.status), "generation %u, %u rules", g->generation,
		 rs->nrules);
	return meta_write(dp) ?: r;
}

void pc_dp_gen_free(struct pc_gen *g)
{
	if (!g)
		return;
	pc_classifier__destroy(g->skel);
	free(g);
}

struct pc_gen *pc_dp_current(const struct pc_dp *dp)
{
	return dp->cur;
}
