/* SPDX-License-Identifier: GPL-2.0-only */
/* setpool.c - the set pool: segments (mmapable arrays of one 4 MiB
 * element, in the array of maps set_segs, each pinned as setseg_<n>), a
 * buddy allocator per segment, and the limbo of blocks given back until a
 * grace period has passed.
 *
 * A pool is adopted when pinned; otherwise it is made when a configuration
 * first has sets (pc_pool_create) and pinned by the commit that makes them
 * live (pc_pool_pin): a daemon without sets pins nothing of it.
 *
 * A grace period is what updating an array of maps waits for (the kernel
 * waits until every BPF program that might still use the old inner map has
 * finished): a private one of those, updated by a helper thread for
 * pc_pool_sync_start(), so that the daemon does not block on it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "datapath/setpool.h"
#include "lib/util.h"

#define NO_UNIT (-1)
#define ST_FREE  0x80u /* head of a free block; low bits: its order */
#define ST_USED  0x40u /* head of an allocated block */

struct seg {
	uint8_t *mem;             /* mmapped, PC_SET_SEG_SIZE */
	uint8_t *st;              /* per unit: ST_* | order for block heads, 0 else */
	int32_t *next, *prev;     /* free lists, per unit */
	int32_t head[PC_POOL_MAX_ORDER + 1];
	uint32_t free_units;
	int fd;                   /* kept until the pool is pinned, else -1 */
};

struct limbo {
	uint32_t ref;
	uint8_t order;
	uint8_t batch;            /* 0: freed before the last grace period began */
};

struct pc_pool {
	char pin_path[PC_PATH_MAX];
	int segs_fd, head_fd;
	volatile struct pc_set_head *head;
	struct seg *seg;
	size_t nseg;
	struct limbo *limbo;
	size_t nlimbo, cap_limbo;
	uint64_t used_units;
	int sync_fd;              /* private array of maps for grace periods */
	int sync_inner;
	int sync_efd;             /* the helper thread says it is done */
	bool syncing;
	bool present;             /* the maps exist (adopted or created) */
	bool pinned;              /* and are pinned under pin_path */
};

/* ---- pins ---------------------------------------------------------------------- */
static int pin_file(const char *pin_path, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", pin_path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int pin_get(const char *pin_path, const char *name)
{
	char p[PC_PATH_MAX + 32];
	int fd, r = pin_file(pin_path, name, p, sizeof(p));

	if (r < 0)
		return r;
	fd = bpf_obj_get(p);
	return fd < 0 ? -errno : fd;
}

static int pin_put(const char *pin_path, const char *name, int fd)
{
	char p[PC_PATH_MAX + 32];
	int r = pin_file(pin_path, name, p, sizeof(p));

	if (r < 0)
		return r;
	unlink(p);
	return bpf_obj_pin(fd, p) < 0 ? -errno : 0;
}

static void seg_name(uint32_t n, char *buf, size_t len)
{
	snprintf(buf, len, "setseg_%u", n);
}

int pc_pool_unpin(const char *pin_path)
{
	static const char *const names[] = { "set_head", "set_segs" };
	char p[PC_PATH_MAX + 32], name[32];
	int ret = 0;

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (pin_file(pin_path, names[i], p, sizeof(p)) == 0 && unlink(p) < 0 &&
		    errno != ENOENT)
			ret = -errno;
	for (uint32_t n = 0; n < PC_SET_SEGS_MAX; n++) {
		seg_name(n, name, sizeof(name));
		if (pin_file(pin_path, name, p, sizeof(p)) < 0)
			return -ENAMETOOLONG;
		if (unlink(p) < 0) {
			if (errno == ENOENT)
				break;
			ret = -errno;
		}
	}
	return ret;
}

/* ---- the buddy allocator -------------------------------------------------------- */
static void list_push(struct seg *s, int32_t u, unsigned order)
{
	s->st[u] = (uint8_t)(ST_FREE | order);
	s->prev[u] = NO_UNIT;
	s->next[u] = s->head[order];
	if (s->head[order] != NO_UNIT)
		s->prev[s->head[order]] = u;
	s->head[order] = u;
	s->free_units += 1u << order;
}

static void list_del(struct seg *s, int32_t u, unsigned order)
{
	if (s->prev[u] != NO_UNIT)
		s->next[s->prev[u]] = s->next[u];
	else
		s->head[order] = s->next[u];
	if (s->next[u] != NO_UNIT)
		s->prev[s->next[u]] = s->prev[u];
	s->st[u] = 0;
	s->free_units -= 1u << order;
}

static int seg_alloc_meta(struct seg *s)
{
	s->st = calloc(1u << PC_SET_UNIT_BITS, 1);
	s->next = malloc((sizeof(int32_t)) << PC_SET_UNIT_BITS);
	s->prev = malloc((sizeof(int32_t)) << PC_SET_UNIT_BITS);
	if (!s->st || !s->next || !s->prev)
		return -ENOMEM;
	for (unsigned o = 0; o <= PC_POOL_MAX_ORDER; o++)
		s->head[o] = NO_UNIT;
	return 0;
}

/* All of the segment free; unit 0 of segment 0 stays taken: reference 0
 * means none. */
static void seg_reset(struct seg *s, bool first)
{
	memset(s->st, 0, 1u << PC_SET_UNIT_BITS);
	for (unsigned o = 0; o <= PC_POOL_MAX_ORDER; o++)
		s->head[o] = NO_UNIT;
	s->free_units = 0;
	if (!first) {
		list_push(s, 0, PC_POOL_MAX_ORDER);
		return;
	}
	/* the buddies of unit 0 on every order, unit 0 itself used */
	for (unsigned o = 0; o < PC_POOL_MAX_ORDER; o++)
		list_push(s, (int32_t)(1u << o), o);
	s->st[0] = ST_USED;
}

static uint32_t make_ref(size_t seg, int32_t unit)
{
	return (uint32_t)seg << PC_SET_UNIT_BITS | (uint32_t)unit;
}

/* Take a block of order from segment s (which has one of order >= it). */
static int32_t seg_take(struct seg *s, unsigned order)
{
	unsigned o = order;
	int32_t u;

	while (o <= PC_POOL_MAX_ORDER && s->head[o] == NO_UNIT)
		o++;
	if (o > PC_POOL_MAX_ORDER)
		return NO_UNIT;
	u = s->head[o];
	list_del(s, u, o);
	while (o > order) {
		o--;
		list_push(s, u + (int32_t)(1u << o), o);
	}
	s->st[u] = (uint8_t)(ST_USED | order);
	return u;
}

static void seg_give(struct seg *s, int32_t u, unsigned order)
{
	while (order < PC_POOL_MAX_ORDER) {
		int32_t b = u ^ (int32_t)(1u << order);

		if (s->st[b] != (ST_FREE | order))
			break;
		list_del(s, b, order);
		u &= ~(int32_t)(1u << order);
		order++;
	}
	list_push(s, u, order);
}

unsigned pc_pool_order(size_t size)
{
	size_t units = (size + PC_SET_UNIT - 1) / PC_SET_UNIT;
	unsigned o = 0;

	while ((1ul << o) < units)
		o++;
	return o;
}

/* ---- segments ---------------------------------------------------------------- */
static int seg_map(struct pc_pool *p, int fd, size_t n)
{
	struct seg *s = &p->seg[n];
	int r;

	s->mem = mmap(NULL, PC_SET_SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		return -errno;
	}
	r = seg_alloc_meta(s);
	if (r < 0)
		return r;
	seg_reset(s, n == 0);
	return 0;
}

static int seg_grow_array(struct pc_pool *p, size_t n)
{
	struct seg *v = reallocarray(p->seg, n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	memset(v + p->nseg, 0, (n - p->nseg) * sizeof(*v));
	for (size_t i = p->nseg; i < n; i++)
		v[i].fd = -1;
	p->seg = v;
	return 0;
}

static void seg_unmap(struct seg *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->mem)
		munmap(s->mem, PC_SET_SEG_SIZE);
	free(s->st);
	free(s->next);
	free(s->prev);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Segment n: created, pinned (when the pool is) and mapped; its fd in *fd. */
static int seg_new(struct pc_pool *p, uint32_t n, int *fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	char name[32];
	int r = 0;

	*fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_setseg", 4, PC_SET_SEG_SIZE, 1, &o);
	if (*fd < 0)
		return -errno;
	seg_name(n, name, sizeof(name));
	if (p->pinned)
		r = pin_put(p->pin_path, name, *fd);
	return r < 0 ? r : seg_map(p, *fd, n);
}

/* count new segments, put into set_segs in one batch (one grace period). */
static int segs_add(struct pc_pool *p, size_t count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, b);
	_cleanup_free_ uint32_t *keys = calloc(count, sizeof(*keys));
	_cleanup_free_ int *fds = malloc(count * sizeof(*fds));
	size_t base = p->nseg;
	__u32 n = (__u32)count;
	int r;

	if (!keys || !fds)
		return -ENOMEM;
	if (base + count > PC_SET_SEGS_MAX)
		return -ENOSPC;
	for (size_t i = 0; i < count; i++)
		fds[i] = -1;
	r = seg_grow_array(p, base + count);
	for (size_t i = 0; r >= 0 && i < count; i++) {
		keys[i] = (uint32_t)(base + i);
		r = seg_new(p, keys[i], &fds[i]);
	}
	if (r >= 0 && bpf_map_update_batch(p->segs_fd, keys, fds, &n, &b) < 0)
		r = -errno;
	for (size_t i = 0; i < count; i++) {
		/* an unpinned pool keeps them, for pc_pool_pin() */
		if (r >= 0 && !p->pinned)
			p->seg[base + i].fd = fds[i];
		else if (fds[i] >= 0)
			close(fds[i]);
	}
	if (r >= 0) {
		p->nseg = base + count;
		return 0;
	}
	for (size_t i = 0; i < count && p->seg; i++) {
		char name[32], path[PC_PATH_MAX + 32];

		seg_unmap(&p->seg[base + i]);
		seg_name((uint32_t)(base + i), name, sizeof(name));
		if (p->pinned && pin_file(p->pin_path, name, path, sizeof(path)) == 0)
			unlink(path);
	}
	return r;
}

static int adopt_error(int r);

/* An adopted segment n: its pin, mapped, and in set_segs. */
static int seg_adopt(struct pc_pool *p, uint32_t n)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi), id = 0;
	_cleanup_close_ int fd = -1;
	char name[32];
	int r;

	seg_name(n, name, sizeof(name));
	fd = pin_get(p->pin_path, name);
	if (fd < 0)
		return fd == -ENOENT ? fd : adopt_error(fd);
	if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0)
		return adopt_error(-errno);
	if (mi.value_size != PC_SET_SEG_SIZE || mi.max_entries != 1 ||
	    !(mi.map_flags & BPF_F_MMAPABLE))
		return -EPROTO;
	/* a segment pinned but not yet in set_segs (a kill between the two)
	 * holds nothing: the pool ends before it (adopting reads only; the
	 * next segment n is pinned over it) */
	if (bpf_map_lookup_elem(p->segs_fd, &n, &id) < 0 || id != mi.id)
		return -ENOENT;
	r = seg_grow_array(p, n + 1);
	if (r < 0)
		return r;
	p->nseg = n + 1;
	return seg_map(p, fd, n);
}

/* ---- open, close --------------------------------------------------------------- */
/* While adopting: a lack of resources (file descriptors, memory, a
 * permission) is itself, so that the pool is left alone; anything else
 * says the pinned pool is not one we can use (-EPROTO). */
static int adopt_error(int r)
{
	switch (r) {
	case -EMFILE: case -ENFILE: case -ENOMEM: case -EPERM: case -EACCES: case -EAGAIN:
	case -EINTR:
		return r;
	default:
		return -EPROTO;
	}
}

static int sync_create(struct pc_pool *p)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	p->sync_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_setsync", 4, 4, 1, NULL);
	if (p->sync_inner < 0)
		return -errno;
	o.inner_map_fd = p->sync_inner;
	p->sync_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "pc_setsync", 4, 4, 1, &o);
	if (p->sync_fd < 0)
		return -errno;
	p->sync_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return p->sync_efd < 0 ? -errno : 0;
}

static int head_map(struct pc_pool *p)
{
	void *m = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->head_fd, 0);

	if (m == MAP_FAILED)
		return -errno;
	p->head = m;
	return 0;
}

static int pool_create(struct pc_pool *p)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	LIBBPF_OPTS(bpf_map_create_opts, a);
	_cleanup_close_ int tmpl = -1;
	int r;

	tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_setseg", 4, PC_SET_SEG_SIZE, 1, &o);
	if (tmpl < 0)
		return -errno;
	a.inner_map_fd = tmpl;
	/* named as the classifier's maps: the copies for explain --live and
	 * capture find the live ones by name */
	p->segs_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "set_segs", 4, 4,
				    PC_SET_SEGS_MAX, &a);
	p->head_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "set_head", 4,
				    sizeof(struct pc_set_head), 1, &o);
	if (p->segs_fd < 0 || p->head_fd < 0)
		return -errno;
	r = head_map(p);
	if (r < 0)
		return r;
	p->head->magic = PC_SET_HEAD_MAGIC;
	p->head->version = PC_SET_POOL_VERSION;
	return 0;
}

/* 0, -ENOENT (nothing pinned), -EPROTO (not ours or another version). */
static int pool_adopt(struct pc_pool *p)
{
	struct bpf_map_info mi = {};
	__u32 len = sizeof(mi);
	int r;

	p->head_fd = pin_get(p->pin_path, "set_head");
	if (p->head_fd < 0) {
		r = p->head_fd;
		p->head_fd = -1;
		return r == -ENOENT ? r : adopt_error(r);
	}
	if (bpf_obj_get_info_by_fd(p->head_fd, &mi, &len) < 0)
		return adopt_error(-errno);
	if (mi.value_size != sizeof(struct pc_set_head) || !(mi.map_flags & BPF_F_MMAPABLE))
		return -EPROTO;
	r = head_map(p);
	if (r < 0)
		return adopt_error(r);
	if (p->head->magic != PC_SET_HEAD_MAGIC || p->head->version != PC_SET_POOL_VERSION)
		return -EPROTO;
	p->segs_fd = pin_get(p->pin_path, "set_segs");
	if (p->segs_fd < 0) {
		r = p->segs_fd;
		p->segs_fd = -1;
		return adopt_error(r == -ENOENT ? -EPROTO : r);
	}
	for (uint32_t n = 0; n < PC_SET_SEGS_MAX; n++) {
		r = seg_adopt(p, n);
		if (r == -ENOENT)
			break;
		if (r < 0)
			return r;
	}
	return 0;
}

static void pool_release(struct pc_pool *p)
{
	for (size_t i = 0; i < p->nseg; i++)
		seg_unmap(&p->seg[i]);
	free(p->seg);
	p->seg = NULL;
	p->nseg = 0;
	if (p->head)
		munmap((void *)p->head, (size_t)sysconf(_SC_PAGESIZE));
	p->head = NULL;
	for (int *fd = &p->segs_fd; fd <= &p->head_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	p->segs_fd = p->head_fd = -1;
}

int pc_pool_open(const char *pin_path, struct pc_pool **ret, enum pc_pool_found *found)
{
	struct pc_pool *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->segs_fd = p->head_fd = p->sync_fd = p->sync_inner = p->sync_efd = -1;
	if (!strscpy_ok(p->pin_path, sizeof(p->pin_path), pin_path)) {
		free(p);
		return -ENAMETOOLONG;
	}
	r = sync_create(p);
	if (r >= 0) {
		r = pool_adopt(p);
		*found = r >= 0 ? PC_POOL_ADOPTED : r == -ENOENT ? PC_POOL_NONE : PC_POOL_UNUSABLE;
		if (r >= 0)
			p->present = p->pinned = true;
		else
			pool_release(p);
		if (r == -ENOENT || r == -EPROTO)
			r = 0; /* left as it is until a commit pins a pool of ours */
	}
	if (r < 0) {
		pc_pool_close(p);
		return r;
	}
	*ret = p;
	return 0;
}

bool pc_pool_present(const struct pc_pool *p)
{
	return p->present;
}

bool pc_pool_pinned(const struct pc_pool *p)
{
	return p->pinned;
}

int pc_pool_create(struct pc_pool *p)
{
	int r;

	if (p->present)
		return 0;
	r = pool_create(p);
	if (r < 0) {
		pool_release(p);
		return r;
	}
	p->present = true;
	return 0;
}

int pc_pool_pin(struct pc_pool *p)
{
	char name[32];
	int r = 0;

	if (!p->present || p->pinned)
		return 0;
	/* what was pinned before (another version's pool) goes */
	pc_pool_unpin(p->pin_path);
	for (uint32_t n = 0; n < p->nseg && r >= 0; n++) {
		seg_name(n, name, sizeof(name));
		r = p->seg[n].fd >= 0 ? pin_put(p->pin_path, name, p->seg[n].fd) : -EBADF;
	}
	if (r >= 0)
		r = pin_put(p->pin_path, "set_segs", p->segs_fd);
	/* the head last: a pool without it is not adopted */
	if (r >= 0)
		r = pin_put(p->pin_path, "set_head", p->head_fd);
	if (r < 0) {
		pc_pool_unpin(p->pin_path);
		return r;
	}
	p->pinned = true;
	for (size_t n = 0; n < p->nseg; n++) {
		close(p->seg[n].fd);
		p->seg[n].fd = -1;
	}
	return 0;
}

void pc_pool_close(struct pc_pool *p)
{
	uint64_t v;

	if (!p)
		return;
	if (p->syncing) /* the helper thread writes to sync_efd: let it end */
		while (read(p->sync_efd, &v, sizeof(v)) < 0 && (errno == EAGAIN || errno == EINTR))
			usleep(1000);
	pool_release(p);
	for (int *fd = &p->sync_fd; fd <= &p->sync_efd; fd++)
		if (*fd >= 0)
			close(*fd);
	free(p->limbo);
	free(p);
}

int pc_pool_segs_fd(const struct pc_pool *p)
{
	return p->segs_fd;
}

int pc_pool_head_fd(const struct pc_pool *p)
{
	return p->head_fd;
}

volatile struct pc_set_head *pc_pool_head(const struct pc_pool *p)
{
	return p->head;
}

void pc_pool_publish(struct pc_pool *p, unsigned slot, uint32_t dir)
{
	/* the blocks' contents before the reference (x86 keeps stores in
	 * order; the release says so to the compiler and elsewhere) */
	__atomic_store_n(&p->head->dir[slot & 1], dir, __ATOMIC_RELEASE);
}

/* ---- blocks ---------------------------------------------------------------------- */
const uint8_t *pc_pool_seg(const struct pc_pool *p, uint32_t seg)
{
	return seg < p->nseg ? p->seg[seg].mem : NULL;
}

void *pc_pool_ptr(const struct pc_pool *p, uint32_t ref)
{
	uint32_t seg = ref >> PC_SET_UNIT_BITS;

	if (seg >= p->nseg || !ref)
		return NULL;
	return p->seg[seg].mem + ((size_t)(ref & PC_SET_UNIT_MASK) << PC_SET_UNIT_SHIFT);
}

static int alloc_in(struct pc_pool *p, unsigned order, uint32_t *ret)
{
	for (size_t i = 0; i < p->nseg; i++) {
		struct seg *s = &p->seg[i];
		int32_t u;

		if (s->free_units < (1u << order))
			continue;
		u = seg_take(s, order);
		if (u == NO_UNIT)
			continue;
		p->used_units += 1u << order;
		memset(s->mem + ((size_t)u << PC_SET_UNIT_SHIFT), 0, (size_t)PC_SET_UNIT << order);
		*ret = make_ref(i, u);
		return 0;
	}
	return -ENOSPC;
}

int pc_pool_alloc(struct pc_pool *p, unsigned order, uint32_t *ret)
{
	int r;

	if (order > PC_POOL_MAX_ORDER)
		return -E2BIG;
	r = alloc_in(p, order, ret);
	if (r != -ENOSPC)
		return r;
	r = segs_add(p, 1);
	return r < 0 ? r : alloc_in(p, order, ret);
}

int pc_pool_reserve(struct pc_pool *p, size_t units)
{
	size_t free_units = 0, segs;

	for (size_t i = 0; i < p->nseg; i++)
		free_units += p->seg[i].free_units;
	if (free_units >= units)
		return 0;
	/* the free space of old segments is fragmented: count new ones whole */
	segs = (units - free_units + PC_SET_UNIT_MASK) >> PC_SET_UNIT_BITS;
	return segs_add(p, segs ? segs : 1);
}

static int limbo_add(struct pc_pool *p, uint32_t ref, unsigned order)
{
	if (pc_grow((void **)&p->limbo, &p->cap_limbo, p->nlimbo + 1, sizeof(*p->limbo)) < 0)
		return -ENOMEM;
	/* waits for a grace period that begins after this */
	p->limbo[p->nlimbo++] = (struct limbo){ .ref = ref, .order = (uint8_t)order, .batch = 1 };
	return 0;
}

void pc_pool_free(struct pc_pool *p, uint32_t ref, unsigned order)
{
	if (!ref || !pc_pool_ptr(p, ref))
		return;
	/* without memory for the limbo entry the block is leaked, never
	 * reused early */
	if (limbo_add(p, ref, order) == 0)
		p->used_units -= 1u << order;
}

static int grace_period(int sync_fd, int inner)
{
	__u32 zero = 0;

	return bpf_map_update_elem(sync_fd, &zero, &inner, BPF_ANY) < 0 ? -errno : 0;
}

/* 0: what is in limbo now is covered by the grace period that begins;
 * what is freed from then on gets 1 and waits for the next. */
static void limbo_mark(struct pc_pool *p, uint8_t batch)
{
	for (size_t i = 0; i < p->nlimbo; i++)
		p->limbo[i].batch = batch;
}

int pc_pool_grace(struct pc_pool *p)
{
	int r;

	if (p->syncing)
		return -EALREADY;
	limbo_mark(p, 0);
	r = grace_period(p->sync_fd, p->sync_inner);
	if (r < 0)
		limbo_mark(p, 1);
	return r;
}

struct sync_job {
	int sync_fd, inner, efd;
};

static void *sync_thread(void *arg)
{
	struct sync_job j = *(struct sync_job *)arg;
	uint64_t one = 1;

	free(arg);
	/* on failure no grace period is assumed: the next one retries */
	if (grace_period(j.sync_fd, j.inner) < 0)
		one = 2;
	(void)!write(j.efd, &one, sizeof(one));
	return NULL;
}

int pc_pool_grace_start(struct pc_pool *p)
{
	struct sync_job *j;
	pthread_attr_t a;
	pthread_t t;
	int r;

	if (p->syncing)
		return -EALREADY;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct sync_job){ .sync_fd = p->sync_fd, .inner = p->sync_inner, .efd = p->sync_efd };
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	r = -pthread_create(&t, &a, sync_thread, j);
	pthread_attr_destroy(&a);
	if (r < 0) {
		free(j);
		return r;
	}
	p->syncing = true;
	limbo_mark(p, 0);
	return 0;
}

int pc_pool_grace_fd(const struct pc_pool *p)
{
	return p->sync_efd;
}

bool pc_pool_grace_running(const struct pc_pool *p)
{
	return p->syncing;
}

/* 0 when the grace period is over, -EAGAIN when it is not yet, -EIO when it
 * failed (the blocks of before it wait for the next). */
int pc_pool_grace_done(struct pc_pool *p)
{
	uint64_t v = 0;

	if (!p->syncing)
		return -EINVAL;
	if (read(p->sync_efd, &v, sizeof(v)) < 0)
		return -errno;
	p->syncing = false;
	if (v == 1)
		return 0;
	limbo_mark(p, 1);
	return -EIO;
}

int pc_pool_grace_wait(struct pc_pool *p)
{
	struct pollfd pfd = { .fd = p->sync_efd, .events = POLLIN };

	if (!p->syncing)
		return -EINVAL;
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	return pc_pool_grace_done(p);
}

/* The blocks freed before the last grace period began, back to the
 * allocator; those freed since are marked as waiting for the next. */
void pc_pool_release(struct pc_pool *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->nlimbo; i++) {
		struct limbo *l = &p->limbo[i];

		if (l->batch) {
			p->limbo[k++] = *l;
			continue;
		}
		seg_give(&p->seg[l->ref >> PC_SET_UNIT_BITS], (int32_t)(l->ref & PC_SET_UNIT_MASK),
			 l->order);
	}
	p->nlimbo = k;
}

size_t pc_pool_limbo(const struct pc_pool *p)
{
	return p->nlimbo;
}

/* ---- transactions ---------------------------------------------------------------------- */
static int blk_add(struct pc_pool_blk **v, size_t *n, size_t *cap, uint32_t ref, unsigned order)
{
	if (pc_grow((void **)v, cap, *n + 1, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = (struct pc_pool_blk){ .ref = ref, .order = (uint8_t)order };
	return 0;
}

void pc_pool_txn_begin(struct pc_pool *p, struct pc_pool_txn *t)
{
	*t = (struct pc_pool_txn){ .pool = p };
}

int pc_pool_txn_alloc(struct pc_pool_txn *t, unsigned order, uint32_t *ret)
{
	int r = pc_pool_alloc(t->pool, order, ret);

	if (r < 0)
		return r;
	r = blk_add(&t->fresh, &t->nfresh, &t->capfresh, *ret, order);
	if (r < 0)
		pc_pool_free(t->pool, *ret, order);
	return r;
}

void pc_pool_txn_drop(struct pc_pool_txn *t, uint32_t ref, unsigned order)
{
	if (ref && blk_add(&t->dead, &t->ndead, &t->capdead, ref, order) < 0)
		t->err = -ENOMEM;
}

static void txn_end(struct pc_pool_txn *t)
{
	free(t->fresh);
	free(t->dead);
	*t = (struct pc_pool_txn){ .pool = t->pool };
}

int pc_pool_txn_commit(struct pc_pool_txn *t)
{
	int r = t->err;

	for (size_t i = 0; i < t->ndead; i++)
		pc_pool_free(t->pool, t->dead[i].ref, t->dead[i].order);
	txn_end(t);
	return r;
}

void pc_pool_txn_abort(struct pc_pool_txn *t)
{
	for (size_t i = 0; i < t->nfresh; i++)
		pc_pool_free(t->pool, t->fresh[i].ref, t->fresh[i].order);
	txn_end(t);
}

/* ---- adoption ---------------------------------------------------------------------- */
void pc_pool_reset(struct pc_pool *p)
{
	for (size_t i = 0; i < p->nseg; i++)
		seg_reset(&p->seg[i], i == 0);
	p->used_units = 0;
	p->nlimbo = 0;
}

/* Carve the used block (u, order) out of the free block that holds it. */
int pc_pool_mark(struct pc_pool *p, uint32_t ref, unsigned order)
{
	uint32_t n = ref >> PC_SET_UNIT_BITS;
	int32_t u = (int32_t)(ref & PC_SET_UNIT_MASK);
	struct seg *s;
	unsigned o;

	if (n >= p->nseg || order > PC_POOL_MAX_ORDER || (u & ((1 << order) - 1)))
		return -EINVAL;
	s = &p->seg[n];
	for (o = order; o <= PC_POOL_MAX_ORDER; o++) {
		int32_t h = u & ~(int32_t)((1u << o) - 1);

		if (s->st[h] == (ST_FREE | o))
			break;
		if (s->st[h] & ST_USED)
			return -EEXIST; /* overlaps a block marked before */
	}
	if (o > PC_POOL_MAX_ORDER)
		return -EEXIST;
	list_del(s, u & ~(int32_t)((1u << o) - 1), o);
	while (o > order) {
		int32_t h;

		o--;
		h = u & ~(int32_t)((1u << (o + 1)) - 1);
		/* keep the half without u free */
		list_push(s, (u & (int32_t)(1u << o)) ? h : h + (int32_t)(1u << o), o);
	}
	s->st[u] = (uint8_t)(ST_USED | order);
	p->used_units += 1u << order;
	return 0;
}

void pc_pool_mark_done(struct pc_pool *p)
{
	(void)p; /* the free lists are complete as marking leaves them */
}

void pc_pool_stats(const struct pc_pool *p, struct pc_pool_stats *ret)
{
	uint64_t limbo = 0;

	for (size_t i = 0; i < p->nlimbo; i++)
		limbo += (uint64_t)PC_SET_UNIT << p->limbo[i].order;
	ret->segments = (uint32_t)p->nseg;
	ret->used_bytes = p->used_units * PC_SET_UNIT;
	ret->limbo_bytes = limbo;
}
