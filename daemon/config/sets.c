/* SPDX-License-Identifier: GPL-2.0-only */
/* sets.c - the `sets` section: named sets of prefixes or ports, their
 * elements inline and in element files, and the "@NAME" references to them
 * in rules. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"
#include "lib/readall.h"

#define PC_SET_FILE_MAX (1u << 30)

/* ---- elements ------------------------------------------------------------- */
const char *pc_set_type_name(uint32_t type)
{
	return type == PC_SET_PREFIX ? "prefix" : type == PC_SET_PORT ? "port" : "?";
}

int pc_set_elem_parse(uint32_t type, const char *s, struct pc_set_elem *ret, bool *host_bits)
{
	struct pc_prefix p;
	uint32_t lo, hi;
	int r;

	memset(ret, 0, sizeof(*ret));
	*host_bits = false;
	if (type == PC_SET_PORT) {
		r = pc_cfg_parse_range(s, PC_MAX_PORT, &lo, &hi);
		if (r < 0)
			return r;
		ret->port.lo = (uint16_t)lo;
		ret->port.hi = (uint16_t)hi;
		return 0;
	}
	r = pc_cfg_parse_prefix(s, &p, host_bits);
	if (r < 0)
		return r;
	ret->family = p.family;
	ret->len = p.len;
	memcpy(ret->addr, p.addr, sizeof(ret->addr));
	return 0;
}

const char *pc_set_elem_error(uint32_t type, int r)
{
	if (type == PC_SET_PORT)
		return r == -ERANGE ? "port out of range (0-65535)" :
		       r == -EDOM ? "inverted port range" : "invalid port";
	return r == -EDOM ? "invalid prefix length" : "invalid address";
}

const char *pc_set_elem_str(const struct pc_set_elem *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (e->family == 0) {
		if (e->port.lo == e->port.hi)
			snprintf(buf, len, "%u", e->port.lo);
		else
			snprintf(buf, len, "%u-%u", e->port.lo, e->port.hi);
		return buf;
	}
	if (!inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, e->len);
	return buf;
}

int pc_set_elem_cmp(const struct pc_set_elem *a, const struct pc_set_elem *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->family == 0) {
		if (a->port.lo != b->port.lo)
			return a->port.lo < b->port.lo ? -1 : 1;
		return a->port.hi < b->port.hi ? -1 : a->port.hi > b->port.hi;
	}
	c = memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

size_t pc_set_elem_lower_bound(const struct pc_set_elem *v, size_t n, const struct pc_set_elem *k)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc_set_elem_cmp(&v[mid], k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- sorting: LSD radix on a 144-bit key (family, address, length; a port
 * range as lo, hi), a byte a pass (256 buckets: the scatter stays in the
 * caches), passes whose byte never varies skipped. */
struct skey {
	uint64_t hi, lo;   /* address bytes 0-7 and 8-15, big-endian */
	uint32_t fl;       /* family << 8 | len */
	uint32_t idx;
};

static uint64_t be64_at(const uint8_t *a)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | a[i];
	return v;
}

static void skey_of(const struct pc_set_elem *e, uint32_t idx, struct skey *k)
{
	if (e->family == 0) {
		k->hi = (uint64_t)e->port.lo << 48 | (uint64_t)e->port.hi << 32;
		k->lo = 0;
	} else {
		k->hi = be64_at(e->addr);
		k->lo = be64_at(e->addr + 8);
	}
	k->fl = (uint32_t)e->family << 8 | e->len;
	k->idx = idx;
}

/* Byte d (0 = least significant) of the key: len, lo, hi, family. */
static unsigned digit_of(const struct skey *k, unsigned d)
{
	if (d == 0)
		return k->fl & 0xff;
	if (d <= 8)
		return (unsigned)(k->lo >> (8 * (d - 1))) & 0xff;
	if (d <= 16)
		return (unsigned)(k->hi >> (8 * (d - 9))) & 0xff;
	return k->fl >> 8;
}

static int radix_sort(struct skey *a, size_t n)
{
	_cleanup_free_ struct skey *b = malloc(n * sizeof(*b));
	size_t cnt[257];
	struct skey *src = a, *dst = b;

	if (!b)
		return -ENOMEM;
	for (unsigned d = 0; d < 18; d++) {
		unsigned first = digit_of(&src[0], d);
		bool varies = false;

		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++) {
			unsigned x = digit_of(&src[i], d);

			varies |= x != first;
			cnt[x + 1]++;
		}
		if (!varies)
			continue;
		for (size_t x = 1; x <= 256; x++)
			cnt[x] += cnt[x - 1];
		for (size_t i = 0; i < n; i++)
			dst[cnt[digit_of(&src[i], d)]++] = src[i];
		src = dst;
		dst = src == a ? b : a;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	return 0;
}

static bool elems_sorted(const struct pc_set_elems *s)
{
	for (size_t i = 1; i < s->n; i++)
		if (pc_set_elem_cmp(&s->v[i - 1], &s->v[i]) > 0)
			return false;
	return true;
}

/* By family first (the top digit), then each family on its own: the bytes
 * that an IPv4 address or a port range leaves 0 are skipped. */
static int elems_sort(struct pc_set_elems *s)
{
	_cleanup_free_ struct skey *k = malloc(s->n * sizeof(*k));
	_cleanup_free_ struct pc_set_elem *v = malloc(s->n * sizeof(*v));
	size_t start[257] = { 0 }, pos[256];

	if (!k || !v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		start[s->v[i].family + 1]++;
	for (size_t f = 1; f <= 256; f++)
		start[f] += start[f - 1];
	memcpy(pos, start, sizeof(pos));
	for (size_t i = 0; i < s->n; i++)
		skey_of(&s->v[i], (uint32_t)i, &k[pos[s->v[i].family]++]);
	for (size_t f = 0; f < 256; f++)
		if (start[f + 1] - start[f] > 1 && radix_sort(k + start[f], start[f + 1] - start[f]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		v[i] = s->v[k[i].idx];
	memcpy(s->v, v, s->n * sizeof(*v));
	return 0;
}

static int elem_qcmp(const void *a, const void *b)
{
	return pc_set_elem_cmp(a, b);
}

void pc_set_elems_normalize(struct pc_set_elems *s)
{
	size_t k = 0;

	if (s->n < 2)
		return;
	/* without the memory for the radix sort: the slow way */
	if (!elems_sorted(s) && elems_sort(s) < 0)
		qsort(s->v, s->n, sizeof(*s->v), elem_qcmp);
	for (size_t i = 1; i < s->n; i++) {
		if (pc_set_elem_cmp(&s->v[i], &s->v[k]) == 0)
			s->v[k].flags |= s->v[i].flags;
		else
			s->v[++k] = s->v[i];
	}
	s->n = k + 1;
}

int pc_set_elems_add(struct pc_set_elems *s, const struct pc_set_elem *e)
{
	if (pc_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)) < 0)
		return -ENOMEM;
	s->v[s->n++] = *e;
	return 0;
}

void pc_set_elems_clear(struct pc_set_elems *s)
{
	free(s->v);
	*s = (struct pc_set_elems){};
}

/* ---- element files ---------------------------------------------------------- */
struct file_ctx {
	uint32_t type;
	const char *file;
	uint8_t flags;
	struct pc_set_elems *out;
	struct pc_diags *d;
	size_t nbad;
	size_t nhost;          /* elements with host bits set */
	struct pc_pos host;    /* the first of them */
};

/* "WHAT "TEXT"" at pos, for the first PC_SET_FILE_ERRORS bad lines. */
static int file_error(struct file_ctx *f, struct pc_pos pos, const char *what, const char *s,
		      size_t n)
{
	if (++f->nbad > PC_SET_FILE_ERRORS)
		return 0;
	if (!s)
		return pc_diags_add(f->d, PC_SEV_ERROR, pos, "%s", what);
	return pc_diags_add(f->d, PC_SEV_ERROR, pos, "%s \"%.*s\"", what, (int)n, s);
}

/* One line: blanks around, '#' to its end. */
static int file_line(struct file_ctx *f, const char *s, size_t n, unsigned line)
{
	const char *hash = memchr(s, '#', n);
	struct pc_set_elem e;
	char buf[128];
	size_t a = 0, b;
	bool host;
	int r;

	if (hash)
		n = (size_t)(hash - s);
	while (a < n && isspace((unsigned char)s[a]))
		a++;
	b = n;
	while (b > a && isspace((unsigned char)s[b - 1]))
		b--;
	if (a == b)
		return 0;
	if (b - a >= sizeof(buf))
		return file_error(f, (struct pc_pos){ line, (unsigned)a + 1, f->file }, "element too long",
				  s + a, 40);
	memcpy(buf, s + a, b - a);
	buf[b - a] = 0;
	r = pc_set_elem_parse(f->type, buf, &e, &host);
	if (r < 0)
		return file_error(f, (struct pc_pos){ line, (unsigned)a + 1, f->file },
				  pc_set_elem_error(f->type, r), buf, b - a);
	if (host && !f->nhost++)
		f->host = (struct pc_pos){ line, (unsigned)a + 1, f->file };
	e.flags = f->flags;
	return pc_set_elems_add(f->out, &e);
}

int pc_set_parse_text(uint32_t type, const char *file, const char *buf, size_t len,
		      uint8_t flags, struct pc_set_elems *out, struct pc_diags *diags)
{
	struct file_ctx f = { .type = type, .file = file, .flags = flags, .out = out, .d = diags };
	unsigned line = 1;
	size_t i = 0;
	int r;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;

		if (memchr(buf + i, '\0', n))
			r = file_error(&f, (struct pc_pos){ line, 1, file }, "line contains a NUL character",
				       NULL, 0);
		else
			r = file_line(&f, buf + i, n, line);
		if (r < 0)
			return r;
		i += n + 1;
		line++;
	}
	if (f.nhost && pc_diags_add(diags, PC_SEV_WARNING, f.host, "%zu element%s with host bits "
				    "set, used with those bits cleared", f.nhost,
				    f.nhost == 1 ? "" : "s") < 0)
		return -ENOMEM;
	if (f.nbad > PC_SET_FILE_ERRORS &&
	    pc_diags_add(diags, PC_SEV_ERROR, (struct pc_pos){ .file = file },
			 "%zu more bad elements", f.nbad - PC_SET_FILE_ERRORS) < 0)
		return -ENOMEM;
	return f.nbad ? -EINVAL : 0;
}

/* ---- the section -------------------------------------------------------------- */
static void v_set_type(struct pc_vctx *v, const struct pc_ynode *n, struct pc_set_cfg *s)
{
	const char *t = pc_v_str(v, n, "type");

	if (!t)
		return;
	if (!strcmp(t, "prefix"))
		s->type = PC_SET_PREFIX;
	else if (!strcmp(t, "port"))
		s->type = PC_SET_PORT;
	else
		pc_v_err(v, n, "type: expected prefix or port, got \"%s\"", t);
}

static void v_set_elems(struct pc_vctx *v, const struct pc_ynode *n, struct pc_set_cfg *s)
{
	struct pc_vlist l;

	if (n->kind == PC_Y_SEQ && n->n == 0)
		return; /* elements: [] is an empty set */
	if (!pc_v_list(v, n, "elements", &l))
		return;
	for (size_t i = 0; i < l.n; i++) {
		const struct pc_ynode *it = pc_vlist_at(&l, i);
		const char *str = pc_v_str(v, it, "elements");
		struct pc_set_elem e;
		char buf[64];
		bool host;
		int r;

		if (!str)
			continue;
		r = pc_set_elem_parse(s->type, str, &e, &host);
		if (r < 0) {
			pc_v_err(v, it, "elements: %s \"%s\"", pc_set_elem_error(s->type, r), str);
			continue;
		}
		if (host)
			pc_v_warn(v, it, "elements: %s has host bits set; using %s", str,
				  pc_set_elem_str(&e, buf, sizeof(buf)));
		e.flags = PC_SE_F_CONFIG;
		if (pc_set_elems_add(&s->elems, &e) < 0)
			v->oom = true;
	}
}

/* The file, relative to the directory of the config file that names it
 * (the main one or an included one) unless absolute. */
static int set_file_path(const char *base, const char *f, char **ret)
{
	_cleanup_free_ char *dir = NULL;

	if (f[0] == '/' || !base || !strchr(base, '/'))
		return (*ret = strdup(f)) ? 0 : -ENOMEM;
	dir = strdup(base);
	if (!dir)
		return -ENOMEM;
	return asprintf(ret, "%s/%s", dirname(dir), f) < 0 ? -ENOMEM : 0;
}

/* Opened as the config is (a regular file, without blocking); its
 * problems are errors at the file key. */
static int set_file_open(struct pc_vctx *v, const struct pc_ynode *n, const char *path)
{
	struct pc_diags d;
	int fd = -1, r;

	pc_diags_init(&d, path);
	r = pc_config_open(path, &fd, &d);
	for (size_t i = 0; r < 0 && i < d.n; i++)
		pc_v_err(v, n, "file: %s: %s", path, d.v[i].msg);
	pc_diags_clear(&d);
	return r < 0 ? r : fd;
}

static void v_set_file(struct pc_vctx *v, const struct pc_ynode *n, struct pc_set_cfg *s)
{
	const char *f = pc_v_str(v, n, "file");
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r;

	if (!f)
		return;
	if (set_file_path(n->pos.file ? n->pos.file : v->c->path, f, &s->file) < 0) {
		v->oom = true;
		return;
	}
	fd = set_file_open(v, n, s->file);
	if (fd < 0)
		return;
	r = pc_read_all(fd, PC_SET_FILE_MAX, &buf, &len);
	if (r < 0) {
		pc_v_err(v, n, "file: %s: cannot read: %s", s->file, strerror(-r));
		return;
	}
	r = pc_set_parse_text(s->type, s->file, buf, len, PC_SE_F_CONFIG, &s->elems, v->d);
	if (r == -ENOMEM)
		v->oom = true;
}

enum { S_TYPE, S_ELEMENTS, S_FILE, S_DYNAMIC, S_N };

static void v_set(struct pc_vctx *v, const struct pc_ynode *key, const struct pc_ynode *n,
		  struct pc_set_cfg *s)
{
	struct pc_vfield f[S_N] = {
		PC_VF("type"), PC_VF("elements"), PC_VF("file"), PC_VF("dynamic"),
	};

	s->pos = key->pos;
	if (!pc_v_name(v, key, "sets", s->name))
		s->name[0] = 0;
	if (!pc_v_map(v, n, "set", f, S_N))
		return;
	if (!f[S_TYPE].val) {
		pc_v_err(v, key, "set \"%s\": missing required key \"type\" (prefix or port)",
			 key->str);
		return;
	}
	v_set_type(v, f[S_TYPE].val, s);
	if (!s->type)
		return;
	if (f[S_ELEMENTS].val)
		v_set_elems(v, f[S_ELEMENTS].val, s);
	if (f[S_FILE].val)
		v_set_file(v, f[S_FILE].val, s);
	if (f[S_DYNAMIC].val)
		pc_v_bool(v, f[S_DYNAMIC].val, "dynamic", &s->dynamic);
	pc_set_elems_normalize(&s->elems);
}

void pc_v_sets(struct pc_vctx *v, const struct pc_ynode *n)
{
	struct pc_config *c = v->c;

	if (pc_ynode_is_null(n))
		return;
	if (n->kind != PC_Y_MAP) {
		pc_v_err(v, n, "sets: expected a mapping of set names, got %s", pc_ykind_name(n));
		return;
	}
	if (c->n_sets + n->n > PC_MAX_SETS) {
		pc_v_err(v, n, "sets: too many sets, %zu (limit %u)", c->n_sets + (size_t)n->n,
			 PC_MAX_SETS);
		return;
	}
	/* appended: the main file's sets, then each included file's */
	if (pc_grow((void **)&c->sets, &v->sets_cap, c->n_sets + n->n + 1, sizeof(*c->sets)) < 0) {
		v->oom = true;
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct pc_ynode *k = pc_ymap_key(n, i);
		struct pc_pos first;
		char where[PC_METRICS_PATH_MAX + 32];
		int r;

		if (k->kind != PC_Y_SCALAR) {
			pc_v_err(v, k, "sets: expected a set name as key");
			continue;
		}
		r = pc_strset_add(&v->set_names, k->str, k->pos, &first);
		if (r < 0)
			v->oom = true;
		if (r > 0) {
			pc_v_err(v, k, "duplicate set \"%s\" (first at %s)", k->str,
				 pc_v_where(v, first, k, where, sizeof(where)));
			continue;
		}
		memset(&c->sets[c->n_sets], 0, sizeof(c->sets[c->n_sets]));
		v_set(v, k, pc_ymap_val(n, i), &c->sets[c->n_sets++]);
	}
}

void pc_set_cfg_free(struct pc_set_cfg *s)
{
	free(s->file);
	pc_set_elems_clear(&s->elems);
}

const struct pc_set_cfg *pc_config_find_set(const struct pc_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (c->sets[i].name[0] && !strcmp(c->sets[i].name, name))
			return &c->sets[i];
	return NULL;
}

/* ---- references in rules -------------------------------------------------------- */
int pc_v_setref(struct pc_vctx *v, const struct pc_ynode *n, const char *what, uint32_t type)
{
	const struct pc_set_cfg *s = pc_config_find_set(v->c, n->str + 1);

	if (!s) {
		pc_v_err(v, n, "%s: unknown set \"%s\"", what, n->str + 1);
		return -1;
	}
	if (s->type != type) {
		pc_v_err(v, n, "%s: set \"%s\" is a %s set, %s takes a %s set", what, s->name,
			 pc_set_type_name(s->type), what, pc_set_type_name(type));
		return -1;
	}
	return (int)(s - v->c->sets);
}
