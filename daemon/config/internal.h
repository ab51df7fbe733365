/* SPDX-License-Identifier: GPL-2.0-only */
/* internal.h - shared by config*.c: value parsers (value.c),
 * schema helpers that report into pc_diags (schema.c), and the rule
 * validator (rules.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "lib/util.h"
#include "lib/yamldom.h"

#define PC_MAX_PORT 65535u
#define PC_MAX_VLAN 4095u
#define PC_MAX_DSCP 63u
#define PC_MAX_PROTO 255u
#define PC_MAX_ETHERTYPE 0xffffu
#define PC_MAX_LENGTH 65575u /* IPv6: 65535 bytes of payload + 40 */

/* ---- value parsers: no diagnostics, just 0 or a negative errno ----------- */
/* Decimal or 0x hex, digits only.  -EINVAL: syntax, -ERANGE: > UINT32_MAX. */
int pc_cfg_parse_u32(const char *s, uint32_t *ret);
/* "N" or "LO-HI", each a u32.  -EINVAL: syntax, -ERANGE: a value above max,
 * -EDOM: LO > HI. */
int pc_cfg_parse_range(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi);
/* -EINVAL: not an address, -EDOM: bad prefix length.  *host_bits tells
 * whether bits past the length were set (they are cleared in ret). */
int pc_cfg_parse_prefix(const char *s, struct pc_prefix *ret, bool *host_bits);
int pc_cfg_parse_dscp(const char *s, uint32_t *ret);      /* -EINVAL, -ERANGE */
int pc_cfg_parse_ethertype(const char *s, uint32_t *ret); /* -EINVAL, -ERANGE */
int pc_cfg_parse_priority(const char *s, uint32_t *ret);  /* -EINVAL, -ERANGE */
int pc_cfg_parse_tcp_flag(const char *s, uint8_t *ret);   /* one name, no '!' */
/* [A-Za-z0-9_.-]{1,63} */
bool pc_cfg_name_ok(const char *s);
/* An interface name, or with allow_glob an fnmatch pattern for one.
 * -ENAMETOOLONG: longer than 15, -EINVAL: empty or bad characters. */
int pc_cfg_ifname_check(const char *s, bool allow_glob);

/* ---- hash set of strings, each with the position where it was seen ------ */
struct pc_strset_ent {
	const char *s;  /* not owned */
	struct pc_pos pos;
	uint32_t hash;
};

struct pc_strset {
	struct pc_strset_ent *v;
	size_t n, cap;
};

/* 0: added.  1: already there, *first says where.  -ENOMEM. */
int pc_strset_add(struct pc_strset *set, const char *s, struct pc_pos pos, struct pc_pos *first);
void pc_strset_free(struct pc_strset *set);

/* ---- schema checks, reporting into the diags ------------------------------ */
struct pc_vctx {
	struct pc_diags *d;
	struct pc_config *c;
	bool oom;
	struct pc_strset rule_names;
	struct pc_strset class_names;
	struct pc_strset iface_names;    /* interfaces[].name */
	struct pc_strset iface_patterns; /* match.iface, all rules */
	struct pc_strset set_names;
	size_t sets_cap;                 /* of c->sets */
	bool too_many_patterns;
};

void pc_v_err(struct pc_vctx *v, const struct pc_ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pc_v_warn(struct pc_vctx *v, const struct pc_ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct pc_vfield {
	const char *name;
	const struct pc_ynode *key, *val; /* set by pc_v_map when present */
};
#define PC_VF(n) { .name = (n) }

/* n must be a mapping, or null (then every field is absent).  Unknown and
 * duplicate keys are reported at the key.  false when n is no mapping. */
bool pc_v_map(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
	      struct pc_vfield *f, size_t nf);
/* n must be a list, or null (an empty one).  false otherwise. */
bool pc_v_seq(struct pc_vctx *v, const struct pc_ynode *n, const char *what);
/* A scalar that is not null: its text, or NULL after an error. */
const char *pc_v_str(struct pc_vctx *v, const struct pc_ynode *n, const char *what);
bool pc_v_bool(struct pc_vctx *v, const struct pc_ynode *n, const char *what, bool *ret);
bool pc_v_u32(struct pc_vctx *v, const struct pc_ynode *n, const char *what, uint32_t *ret);
/* Copy a name of [A-Za-z0-9_.-]{1,63} into buf (PC_RULE_NAME_MAX + 1). */
bool pc_v_name(struct pc_vctx *v, const struct pc_ynode *n, const char *what, char *buf);

/* A value that may be one scalar or a list of them (not empty). */
struct pc_vlist {
	const struct pc_ynode *node;
	size_t n;
};

static inline const struct pc_ynode *pc_vlist_at(const struct pc_vlist *l, size_t i)
{
	return l->node->kind == PC_Y_SEQ ? l->node->items[i] : l->node;
}
bool pc_v_list(struct pc_vctx *v, const struct pc_ynode *n, const char *what, struct pc_vlist *l);

/* ---- sections ---------------------------------------------------------------- */
/* Rules and interfaces are appended: the main file's, then each included
 * file's. */
void pc_v_rules(struct pc_vctx *v, const struct pc_ynode *n);
void pc_v_interfaces(struct pc_vctx *v, const struct pc_ynode *n);

/* ---- includes (include.c) ----------------------------------------------------- */
/* The sections an included file may have, and its parsed document. */
struct pc_vdoc {
	struct pc_ydoc *doc;
	const struct pc_ynode *interfaces, *rules, *sets;
};

struct pc_vdocs {
	struct pc_vdoc *v;
	size_t n;
};

/* Read every file that the `include:` list n names (globs, relative to the
 * main file's directory, each glob's matches in name order), each judged
 * and parsed as the main file is, its positions naming it; its sections go
 * to docs, the names to v->c->includes.  Problems are diags. */
void pc_v_includes(struct pc_vctx *v, const struct pc_ynode *n, struct pc_vdocs *docs);
void pc_vdocs_free(struct pc_vdocs *docs);
/* "line N" (same file as at) or "FILE:LINE:COLUMN" for pos, in buf. */
const char *pc_v_where(struct pc_vctx *v, struct pc_pos pos, const struct pc_ynode *at,
		       char *buf, size_t len);
/* sets.c: the section (before the rules, which refer to it), one set's
 * memory, and a "@NAME" list item n (a scalar) of what: the set's index, or
 * -1 after an error (unknown set, or not of type). */
void pc_v_sets(struct pc_vctx *v, const struct pc_ynode *n);
void pc_set_cfg_free(struct pc_set_cfg *s);
int pc_v_setref(struct pc_vctx *v, const struct pc_ynode *n, const char *what, uint32_t type);
static inline bool pc_is_setref(const struct pc_ynode *n)
{
	return n->kind == PC_Y_SCALAR && n->str && n->str[0] == '@';
}
void pc_match_free(struct pc_match *m);
