/* SPDX-License-Identifier: GPL-2.0-only */
/* slots.c - counter slots (stable by kind and name through the pinned
 * "slots" map) and attachment slots (a per-CPU counter array each, in the
 * "cnt" array of maps and pinned as cnt_<slot>, described by the pinned
 * "attach" map). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"

/* ---- (kind, name) -> value, open addressing ------------------------------ */
struct name_ent {
	const char *name; /* NULL = empty */
	uint32_t kind;
	uint32_t val;
};

struct name_ix {
	struct name_ent *v;
	size_t mask;
};

static uint64_t name_hash(uint32_t kind, const char *s)
{
	uint64_t h = 1469598103934665603ull ^ kind;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static int ix_init(struct name_ix *ix, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap <<= 1;
	ix->v = calloc(cap, sizeof(*ix->v));
	ix->mask = cap - 1;
	return ix->v ? 0 : -ENOMEM;
}

static struct name_ent *ix_slot(const struct name_ix *ix, uint32_t kind, const char *name)
{
	size_t i = name_hash(kind, name) & ix->mask;

	while (ix->v[i].name && (ix->v[i].kind != kind || strcmp(ix->v[i].name, name) != 0))
		i = (i + 1) & ix->mask;
	return &ix->v[i];
}

/* Returns the value, or -1 when absent. */
static int64_t ix_find(const struct name_ix *ix, uint32_t kind, const char *name)
{
	const struct name_ent *e = ix_slot(ix, kind, name);

	return e->name ? (int64_t)e->val : -1;
}

static void ix_add(struct name_ix *ix, uint32_t kind, const char *name, uint32_t val)
{
	struct name_ent *e = ix_slot(ix, kind, name);

	e->name = name;
	e->kind = kind;
	e->val = val;
}

static void ix_free(struct name_ix *ix)
{
	free(ix->v);
	ix->v = NULL;
}

/* ---- counter slots -------------------------------------------------------- */
static int slot_write(struct pc_dp *dp, uint32_t s)
{
	return bpf_map_update_elem(dp->slots_fd, &s, &dp->slots[s], BPF_ANY) < 0 ? -errno : 0;
}

static void slot_set(struct pc_slot_name *sn, uint32_t kind, const char *name, const char *class_name,
		     uint32_t rule_index)
{
	memset(sn, 0, sizeof(*sn));
	sn->kind = kind;
	snprintf(sn->name, sizeof(sn->name), "%s", name);
	snprintf(sn->class_name, sizeof(sn->class_name), "%s", class_name);
	sn->rule_index = rule_index;
}

int pc_dp_slots_init(struct pc_dp *dp, bool fresh)
{
	dp->slots = calloc(dp->slot_cap, sizeof(*dp->slots));
	dp->slot_dirty = calloc(dp->slot_cap, sizeof(*dp->slot_dirty));
	if (!dp->slots || !dp->slot_dirty)
		return -ENOMEM;
	if (fresh) {
		slot_set(&dp->slots[PC_SLOT_DEFAULT], PC_SLOT_RULE, "(default)", "", 0);
		slot_set(&dp->slots[PC_SLOT_MALFORMED], PC_SLOT_RULE, "(malformed)", "", PC_TRACE_NO_RULE);
		slot_set(&dp->slots[PC_SLOT_WOULD_DROP], PC_SLOT_RESERVED, "(would drop)", "", 0);
		if (slot_write(dp, PC_SLOT_DEFAULT) < 0 || slot_write(dp, PC_SLOT_MALFORMED) < 0 ||
		    slot_write(dp, PC_SLOT_WOULD_DROP) < 0)
			return -errno;
		return 0;
	}
	for (uint32_t s = 0; s < dp->slot_cap; s++) {
		if (bpf_map_lookup_elem(dp->slots_fd, &s, &dp->slots[s]) < 0)
			return -errno;
		dp->slots[s].name[PC_NAME_MAX - 1] = '\0';
		dp->slots[s].class_name[PC_NAME_MAX - 1] = '\0';
		/* a free slot may still hold what an earlier run counted */
		dp->slot_dirty[s] = dp->slots[s].kind == PC_SLOT_FREE;
	}
	return 0;
}

static int ix_of_slots(const struct pc_dp *dp, struct name_ix *ix)
{
	int r = ix_init(ix, dp->slot_cap);

	if (r < 0)
		return r;
	for (uint32_t s = PC_SLOT_FIRST; s < dp->slot_cap; s++)
		if (dp->slots[s].kind != PC_SLOT_FREE)
			ix_add(ix, dp->slots[s].kind, dp->slots[s].name, s);
	return 0;
}

struct slot_alloc {
	uint32_t *fresh;  /* slots taken from the free list */
	uint32_t nfresh;
	uint32_t next;    /* where to look for a free slot */
};

static int64_t slot_get(struct pc_dp *dp, struct name_ix *ix, struct slot_alloc *a, uint32_t kind,
			const char *name)
{
	int64_t s = ix_find(ix, kind, name);

	if (s >= 0)
		return s;
	while (a->next < dp->slot_cap && dp->slots[a->next].kind != PC_SLOT_FREE)
		a->next++;
	if (a->next >= dp->slot_cap)
		return -ENOSPC;
	s = a->next++;
	slot_set(&dp->slots[s], kind, name, "", 0);
	ix_add(ix, kind, dp->slots[s].name, s);
	a->fresh[a->nfresh++] = s;
	return s;
}

static int assign(struct pc_dp *dp, struct pc_ruleset *rs, struct name_ix *ix, struct slot_alloc *a)
{
	int64_t s;

	for (uint32_t i = 0; i < rs->nrules; i++) {
		s = slot_get(dp, ix, a, PC_SLOT_RULE, rs->rule_name[i]);
		if (s < 0)
			return s;
		rs->outs[i].slot = s;
	}
	rs->outs[rs->nrules].slot = PC_SLOT_DEFAULT;
	for (uint32_t i = 0; i <= rs->nrules; i++) {
		s = slot_get(dp, ix, a, PC_SLOT_CLASS, rs->class_name[i]);
		if (s < 0)
			return s;
		rs->outs[i].class_slot = s;
	}
	return 0;
}

int pc_dp_assign_slots(struct pc_dp *dp, struct pc_ruleset *rs)
{
	struct slot_alloc a = { .next = PC_SLOT_FIRST };
	struct name_ix ix = {};
	uint32_t nz = 0;
	int r;

	a.fresh = calloc((size_t)rs->nrules * 2 + 2, sizeof(*a.fresh));
	if (!a.fresh)
		return -ENOMEM;
	r = ix_of_slots(dp, &ix);
	if (r >= 0)
		r = assign(dp, rs, &ix, &a);
	ix_free(&ix);
	if (r < 0) {
		for (uint32_t i = 0; i < a.nfresh; i++)
			memset(&dp->slots[a.fresh[i]], 0, sizeof(dp->slots[0]));
		free(a.fresh);
		return r;
	}
	/* publish the new names, and zero the slots that may hold old counts */
	for (uint32_t i = 0; r >= 0 && i < a.nfresh; i++)
		r = slot_write(dp, a.fresh[i]);
	for (uint32_t i = 0; i < a.nfresh; i++)
		if (dp->slot_dirty[a.fresh[i]])
			a.fresh[nz++] = a.fresh[i];
	if (r >= 0)
		r = pc_dp_counters_zero(dp, a.fresh, nz);
	for (uint32_t i = 0; r >= 0 && i < nz; i++)
		dp->slot_dirty[a.fresh[i]] = false;
	free(a.fresh);
	return r;
}

static int ix_of_ruleset(const struct pc_ruleset *rs, struct name_ix *ix, uint32_t *nclasses)
{
	int r = ix_init(ix, 2 * ((size_t)rs->nrules + 1));

	if (r < 0)
		return r;
	*nclasses = 0;
	for (uint32_t i = 0; i < rs->nrules; i++)
		ix_add(ix, PC_SLOT_RULE, rs->rule_name[i], i);
	for (uint32_t i = 0; i <= rs->nrules; i++)
		if (ix_find(ix, PC_SLOT_CLASS, rs->class_name[i]) < 0) {
			ix_add(ix, PC_SLOT_CLASS, rs->class_name[i], i);
			(*nclasses)++;
		}
	return 0;
}

/* After a commit: free the slots of rules and classes that are gone, and
 * record each rule's position and class. */
int pc_dp_slots_release(struct pc_dp *dp, const struct pc_ruleset *rs)
{
	struct name_ix ix = {};
	int r;

	r = ix_of_ruleset(rs, &ix, &dp->meta.nclasses);
	if (r < 0)
		return r;
	slot_set(&dp->slots[PC_SLOT_DEFAULT], PC_SLOT_RULE, "(default)", rs->class_name[rs->nrules],
		 rs->nrules);
	r = slot_write(dp, PC_SLOT_DEFAULT);
	for (uint32_t s = PC_SLOT_FIRST; r >= 0 && s < dp->slot_cap; s++) {
		struct pc_slot_name *sn = &dp->slots[s], old = *sn;
		int64_t i;

		if (sn->kind == PC_SLOT_FREE)
			continue;
		i = ix_find(&ix, sn->kind, sn->name);
		if (i < 0) {
			memset(sn, 0, sizeof(*sn));
			dp->slot_dirty[s] = true;
		} else if (sn->kind == PC_SLOT_RULE) {
			sn->rule_index = i;
			snprintf(sn->class_name, sizeof(sn->class_name), "%s", rs->class_name[i]);
		}
		if (memcmp(&old, sn, sizeof(old)) != 0)
			r = slot_write(dp, s);
	}
	ix_free(&ix);
	return r;
}

int pc_dp_slots_rollback(struct pc_dp *dp, const struct pc_ruleset *live)
{
	return live ? pc_dp_slots_release(dp, live) : 0;
}

/* ---- attachment slots ------------------------------------------------------ */
int pc_dp_counters_create(struct pc_dp *dp, int *ret)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "pc_counters", 4, sizeof(struct pc_cnt_chunk),
				dp->slot_cap / PC_CNT_CHUNK, NULL);

	if (fd < 0)
		return -errno;
	*ret = fd;
	return 0;
}

/* A new, empty "cnt": an array of maps whose inner maps are counter arrays. */
int pc_dp_cnt_create(struct pc_dp *dp, int *ret)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	_cleanup_close_ int tmpl = -1;
	int r, fd;

	r = pc_dp_counters_create(dp, &tmpl);
	if (r < 0)
		return r;
	opts.inner_map_fd = tmpl;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "pc_cnt", 4, 4, PC_MAX_ATTACH, &opts);
	if (fd < 0)
		return -errno;
	*ret = fd;
	return 0;
}

static int attach_write(struct pc_dp *dp, uint32_t a)
{
	return bpf_map_update_elem(dp->attach_fd, &a, &dp->att[a], BPF_ANY) < 0 ? -errno : 0;
}

/* ---- counter pins: cnt_<attach slot> under pin_path --------------------------
 * Each attachment's counter array is pinned by path, so that a restarted
 * daemon and pktclassctl open it without CAP_SYS_ADMIN (which reaching it by
 * id through "cnt" would need).  "cnt" itself is what the classifier uses.
 * (Not "cnt.<slot>": bpffs refuses names with a dot, EPERM.) */
int pc_dp_cnt_pin_file(const struct pc_dp *dp, uint32_t a, char *buf, size_t len)
{
	char name[32];

	snprintf(name, sizeof(name), "cnt_%u", a);
	return pc_dp_pin_file(dp, name, buf, len);
}

static int counters_unpin(const struct pc_dp *dp, uint32_t a)
{
	char p[PC_PATH_MAX + 32];
	int r = pc_dp_cnt_pin_file(dp, a, p, sizeof(p));

	if (r < 0)
		return r;
	return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

/* Pin fd as cnt_<a>, replacing what is pinned there. */
int pc_dp_counters_pin(const struct pc_dp *dp, uint32_t a, int fd)
{
	char p[PC_PATH_MAX + 32];
	int r = counters_unpin(dp, a);

	if (r >= 0)
		r = pc_dp_cnt_pin_file(dp, a, p, sizeof(p));
	if (r < 0)
		return r;
	return bpf_obj_pin(fd, p) < 0 ? -errno : 0;
}

int pc_dp_counters_unpin_all(const struct pc_dp *dp)
{
	int ret = 0;

	for (uint32_t a = 0; a < PC_MAX_ATTACH; a++) {
		int r = counters_unpin(dp, a);

		if (r < 0)
			ret = r;
	}
	return ret;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) < 0 ? -errno : 0;
}

/* The pinned cnt_<a> and its map info: an fd, or -ENOENT without that pin. */
int pc_dp_cnt_pin_open(const struct pc_dp *dp, uint32_t a, struct bpf_map_info *info)
{
	_cleanup_close_ int fd = -1;
	char p[PC_PATH_MAX + 32];
	int r;

	r = pc_dp_cnt_pin_file(dp, a, p, sizeof(p));
	if (r < 0)
		return r;
	fd = bpf_obj_get(p);
	if (fd < 0)
		return -errno;
	r = map_info(fd, info);
	return r < 0 ? r : TAKE_FD(fd);
}

/* The pinned cnt_<a>: fd, -ENOENT, or -EPROTO when it is not a counter
 * array of slot_cap / PC_CNT_CHUNK chunks. */
static int counters_open_pinned(const struct pc_dp *dp, uint32_t a, uint32_t *id)
{
	struct bpf_map_info info;
	_cleanup_close_ int fd = pc_dp_cnt_pin_open(dp, a, &info);

	if (fd < 0)
		return fd;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(struct pc_cnt_chunk) ||
	    info.max_entries != dp->slot_cap / PC_CNT_CHUNK)
		return -EPROTO;
	*id = info.id;
	return TAKE_FD(fd);
}

/* A state pinned before cnt_<a> existed: the array is reached by id through
 * "cnt" (needs CAP_SYS_ADMIN) and pinned.  When that is refused (EPERM), a
 * fresh array takes its place: this attachment's counts restart at zero. */
static int counters_adopt_by_id(struct pc_dp *dp, uint32_t a, uint32_t id)
{
	_cleanup_close_ int fd = bpf_map_get_fd_by_id(id);
	int r;

	if (fd < 0 && errno != EPERM)
		return -errno;
	if (fd < 0) {
		r = pc_dp_counters_create(dp, &fd);
		if (r < 0)
			return r;
		if (bpf_map_update_elem(dp->cnt_fd, &a, &fd, BPF_ANY) < 0)
			return -errno;
	}
	r = pc_dp_counters_pin(dp, a, fd);
	if (r < 0)
		return r;
	dp->att_fd[a] = TAKE_FD(fd);
	return 0;
}

static int counters_adopt(struct pc_dp *dp, uint32_t a)
{
	uint32_t id = 0, pinned_id = 0;
	bool in_cnt;
	int fd;

	in_cnt = bpf_map_lookup_elem(dp->cnt_fd, &a, &id) == 0;
	fd = counters_open_pinned(dp, a, &pinned_id);
	if (fd == -ENOENT)
		return in_cnt ? counters_adopt_by_id(dp, a, id) : 0;
	if (fd < 0)
		return fd;
	dp->att_fd[a] = fd;
	/* the pin is the truth: the classifier must count there too */
	if ((!in_cnt || id != pinned_id) && bpf_map_update_elem(dp->cnt_fd, &a, &fd, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int pc_dp_attach_load(struct pc_dp *dp)
{
	for (uint32_t a = 0; a < PC_MAX_ATTACH; a++) {
		int r;

		if (bpf_map_lookup_elem(dp->attach_fd, &a, &dp->att[a]) < 0)
			return -errno;
		dp->att[a].ifname[sizeof(dp->att[a].ifname) - 1] = '\0';
		r = counters_adopt(dp, a);
		if (r < 0)
			return r;
	}
	return 0;
}

static int attach_find(const struct pc_dp *dp, uint32_t ifindex, int hook)
{
	for (int a = 0; a < PC_MAX_ATTACH; a++)
		if ((dp->att[a].flags & PC_ATT_IN_USE) && dp->att[a].ifindex == ifindex &&
		    dp->att[a].hook == (uint32_t)hook)
			return a;
	return -ENOENT;
}

static int attach_free_slot(const struct pc_dp *dp)
{
	for (int a = 0; a < PC_MAX_ATTACH; a++)
		if (!(dp->att[a].flags & PC_ATT_IN_USE))
			return a;
	return -ENOSPC;
}

int pc_dp_attach_slot_get(struct pc_dp *dp, const char *ifname, uint32_t ifindex, int hook,
			  uint32_t prog_id, uint32_t flags)
{
	int a, r;

	if (hook < 0 || hook >= PC_HOOK_MAX)
		return -EINVAL;
	a = attach_find(dp, ifindex, hook);
	if (a < 0)
		a = attach_free_slot(dp);
	if (a < 0)
		return a;
	if (dp->att_fd[a] < 0) {
		__u32 key = a;

		r = pc_dp_counters_create(dp, &dp->att_fd[a]);
		if (r < 0)
			return r;
		r = pc_dp_counters_pin(dp, a, dp->att_fd[a]);
		if (r >= 0 && bpf_map_update_elem(dp->cnt_fd, &key, &dp->att_fd[a], BPF_ANY) < 0)
			r = -errno;
		if (r < 0) {
			counters_unpin(dp, a);
			close(dp->att_fd[a]);
			dp->att_fd[a] = -1;
			return r;
		}
	}
	memset(&dp->att[a], 0, sizeof(dp->att[a]));
	snprintf(dp->att[a].ifname, sizeof(dp->att[a].ifname), "%s", ifname ? ifname : "");
	dp->att[a].ifindex = ifindex;
	dp->att[a].hook = hook;
	dp->att[a].prog_id = prog_id;
	dp->att[a].flags = flags | PC_ATT_IN_USE;
	r = attach_write(dp, a);
	return r < 0 ? r : a;
}

int pc_dp_attach_slot_put(struct pc_dp *dp, uint32_t slot)
{
	if (slot >= PC_MAX_ATTACH)
		return -EINVAL;
	if (dp->att_fd[slot] >= 0) {
		int r;

		if (bpf_map_delete_elem(dp->cnt_fd, &slot) < 0 && errno != ENOENT)
			return -errno;
		r = counters_unpin(dp, slot);
		if (r < 0)
			return r;
		close(dp->att_fd[slot]);
		dp->att_fd[slot] = -1;
	}
	memset(&dp->att[slot], 0, sizeof(dp->att[slot]));
	return attach_write(dp, slot);
}

int pc_dp_attach_slot_find(struct pc_dp *dp, uint32_t ifindex, int hook, struct pc_attach_info *ret)
{
	int a = attach_find(dp, ifindex, hook);

	if (a >= 0 && ret)
		*ret = dp->att[a];
	return a;
}

int pc_dp_attach_counters_fd(const struct pc_dp *dp, uint32_t slot)
{
	if (slot >= PC_MAX_ATTACH || dp->att_fd[slot] < 0)
		return -ENOENT;
	return dp->att_fd[slot];
}
