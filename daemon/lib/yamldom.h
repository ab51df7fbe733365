/* SPDX-License-Identifier: GPL-2.0-only */
/* yamldom.h - a YAML document as a small tree built from libyaml's events.
 * Every node knows where it starts (1-based line and column).  All nodes and
 * strings live in one arena owned by the document.  Internal to config.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/diag.h"

enum pc_ykind {
	PC_Y_SCALAR = 0,
	PC_Y_SEQ,
	PC_Y_MAP,
	PC_Y_BAD,      /* stands in for something already reported (an alias) */
};

struct pc_ynode {
	uint8_t kind;          /* enum pc_ykind */
	bool quoted;           /* scalar: not plain (quoted, block) or tagged !!str */
	struct pc_pos pos;
	uint32_t n;            /* scalar: length; seq: items; map: pairs */
	union {
		char *str;                 /* scalar, NUL-terminated */
		struct pc_ynode **items;   /* seq: n items; map: key, value, key, ... */
	};
	const char *tag;       /* scalar with an explicit tag: the tag, else NULL */
};

struct pc_yblock;

struct pc_ydoc {
	struct pc_ynode *root;  /* NULL for an empty stream */
	struct pc_yblock *blocks;
};

/* Collections open at once (the root counts); a config needs 5. */
#define PC_YAML_MAX_DEPTH 64

/* Parse a whole buffer.  A YAML error (or a second document, or a
 * collection nested deeper than PC_YAML_MAX_DEPTH) becomes one diag, at
 * libyaml's problem mark or the collection, and -EINVAL; input over 1 GiB
 * a diag and -EFBIG.  An alias is a diag too but not fatal: it leaves a PC_Y_BAD node.
 * Returns 0, -EINVAL, -EFBIG or -ENOMEM. */
int pc_ydoc_parse(const char *buf, size_t len, struct pc_ydoc **ret, struct pc_diags *d);
void pc_ydoc_free(struct pc_ydoc *doc);

static inline const struct pc_ynode *pc_ymap_key(const struct pc_ynode *m, size_t i)
{
	return m->items[2 * i];
}

static inline const struct pc_ynode *pc_ymap_val(const struct pc_ynode *m, size_t i)
{
	return m->items[2 * i + 1];
}

/* A plain scalar that YAML reads as null: "", "~", "null". */
bool pc_ynode_is_null(const struct pc_ynode *n);
const char *pc_ykind_name(const struct pc_ynode *n);
