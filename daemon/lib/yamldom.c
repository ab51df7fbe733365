/* SPDX-License-Identifier: GPL-2.0-only */
/* yamldom.c - libyaml events to a tree of pc_ynode, in one arena.
 * Children of an open collection are gathered on one shared stack and
 * copied into the arena when the collection ends: no per-node realloc. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/yamldom.h"
#include "lib/util.h"

#define PC_YAML_MAX_INPUT (1u << 30)
#define BLOCK_MIN (256u * 1024)

struct pc_yblock {
	struct pc_yblock *next;
	size_t used, cap;
	max_align_t data[];
};

struct frame {
	struct pc_ynode *node;
	size_t start;         /* first child on the pending stack */
};

struct builder {
	struct pc_ydoc *doc;
	struct pc_diags *d;
	struct pc_ynode **pend;
	size_t npend, cap_pend;
	struct frame *frames;
	size_t nframes, cap_frames;
	unsigned ndocs;
};

static void *arena_alloc(struct pc_ydoc *doc, size_t size)
{
	struct pc_yblock *b = doc->blocks;
	size_t cap;
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (!b || b->cap - b->used < size) {
		cap = size > BLOCK_MIN ? size : BLOCK_MIN;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = doc->blocks;
		doc->blocks = b;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

static char *arena_strndup(struct pc_ydoc *doc, const void *s, size_t len)
{
	char *p = arena_alloc(doc, len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

void pc_ydoc_free(struct pc_ydoc *doc)
{
	struct pc_yblock *b, *next;

	if (!doc)
		return;
	for (b = doc->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(doc);
}

bool pc_ynode_is_null(const struct pc_ynode *n)
{
	if (n->kind != PC_Y_SCALAR || n->quoted)
		return false;
	if (n->tag)
		return !strcmp(n->tag, YAML_NULL_TAG);
	return n->n == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const char *pc_ykind_name(const struct pc_ynode *n)
{
	switch (n->kind) {
	case PC_Y_SCALAR:
		return pc_ynode_is_null(n) ? "nothing" : "a scalar";
	case PC_Y_SEQ:
		return "a list";
	case PC_Y_MAP:
		return "a mapping";
	default:
		return "an invalid node";
	}
}

static struct pc_pos mark_pos(yaml_mark_t m)
{
	return (struct pc_pos){ .line = m.line + 1, .col = m.column + 1 };
}

/* The new node becomes the root, or a child of the open collection. */
static int attach(struct builder *b, struct pc_ynode *node)
{
	if (b->nframes == 0) {
		b->doc->root = node;
		return 0;
	}
	if (pc_grow((void **)&b->pend, &b->cap_pend, b->npend + 1, sizeof(*b->pend)) < 0)
		return -ENOMEM;
	b->pend[b->npend++] = node;
	return 0;
}

static struct pc_ynode *new_node(struct builder *b, enum pc_ykind kind, yaml_mark_t m)
{
	struct pc_ynode *n = arena_alloc(b->doc, sizeof(*n));

	if (!n)
		return NULL;
	*n = (struct pc_ynode){ .kind = kind, .pos = mark_pos(m) };
	return n;
}

static int on_scalar(struct builder *b, const yaml_event_t *e)
{
	struct pc_ynode *n = new_node(b, PC_Y_SCALAR, e->start_mark);
	const char *tag = (const char *)e->data.scalar.tag;

	if (!n)
		return -ENOMEM;
	n->n = e->data.scalar.length;
	n->str = arena_strndup(b->doc, e->data.scalar.value, e->data.scalar.length);
	if (!n->str)
		return -ENOMEM;
	n->quoted = e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (tag) {
		n->tag = arena_strndup(b->doc, tag, strlen(tag));
		if (!n->tag)
			return -ENOMEM;
		if (!strcmp(tag, YAML_STR_TAG))
			n->quoted = true;
	}
	return attach(b, n);
}

/* libyaml's scanner pays for every token in proportion to the open
 * collections (its simple-key stack), so nesting costs its square: the
 * parse stops at the first collection past PC_YAML_MAX_DEPTH, having
 * scanned at most a line or 1 KiB beyond it. */
static int on_start(struct builder *b, const yaml_event_t *e, enum pc_ykind kind)
{
	struct pc_ynode *n;

	if (b->nframes >= PC_YAML_MAX_DEPTH) {
		if (pc_diags_add(b->d, PC_SEV_ERROR, mark_pos(e->start_mark),
				 "nested deeper than %u levels", PC_YAML_MAX_DEPTH) < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	n = new_node(b, kind, e->start_mark);
	if (!n || attach(b, n) < 0)
		return -ENOMEM;
	if (pc_grow((void **)&b->frames, &b->cap_frames, b->nframes + 1, sizeof(*b->frames)) < 0)
		return -ENOMEM;
	b->frames[b->nframes++] = (struct frame){ .node = n, .start = b->npend };
	return 0;
}

static int on_end(struct builder *b)
{
	struct frame *f = &b->frames[--b->nframes];
	size_t count = b->npend - f->start;

	f->node->items = arena_alloc(b->doc, count * sizeof(*f->node->items) + 1);
	if (!f->node->items)
		return -ENOMEM;
	if (count) /* pend is still NULL when no child was ever seen */
		memcpy(f->node->items, b->pend + f->start, count * sizeof(*f->node->items));
	f->node->n = f->node->kind == PC_Y_MAP ? count / 2 : count;
	b->npend = f->start;
	return 0;
}

static int on_alias(struct builder *b, const yaml_event_t *e)
{
	struct pc_ynode *n = new_node(b, PC_Y_BAD, e->start_mark);

	if (!n)
		return -ENOMEM;
	if (pc_diags_add(b->d, PC_SEV_ERROR, n->pos, "YAML aliases (*%s) are not supported",
			 (const char *)e->data.alias.anchor) < 0)
		return -ENOMEM;
	return attach(b, n);
}

static int on_event(struct builder *b, const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1) {
			if (pc_diags_add(b->d, PC_SEV_ERROR, mark_pos(e->start_mark),
					 "a second YAML document; only one is allowed") < 0)
				return -ENOMEM;
			return -EINVAL;
		}
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, e);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, e, PC_Y_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, e, PC_Y_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	case YAML_ALIAS_EVENT:
		return on_alias(b, e);
	default:
		return 0;
	}
}

/* Reader errors (bad UTF-8...) come with a byte offset, not a mark. */
static struct pc_pos offset_pos(const char *buf, size_t len, size_t off)
{
	struct pc_pos p = { .line = 1, .col = 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n')
			p.line++, p.col = 1;
		else
			p.col++;
	}
	return p;
}

static int syntax_error(const yaml_parser_t *p, const char *buf, size_t len, struct pc_diags *d)
{
	struct pc_pos pos;
	int r;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		pos = offset_pos(buf, len, p->problem_offset);
		r = pc_diags_add(d, PC_SEV_ERROR, pos, "invalid input: %s", p->problem);
	} else if (p->context) {
		pos = mark_pos(p->problem_mark);
		r = pc_diags_add(d, PC_SEV_ERROR, pos, "YAML syntax error: %s (%s)%s", p->problem,
				 p->context, strstr(p->context, "tag") ?
				 "; quote a value that starts with \"!\"" : "");
	} else {
		pos = mark_pos(p->problem_mark);
		r = pc_diags_add(d, PC_SEV_ERROR, pos, "YAML syntax error: %s",
				 p->problem ? p->problem : "unknown problem");
	}
	return r < 0 ? r : -EINVAL;
}

static int run_parser(struct builder *b, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t e;
	bool done = false;
	int r = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&p, &e)) {
			r = syntax_error(&p, buf, len, b->d);
			break;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		r = on_event(b, &e);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return r;
}

int pc_ydoc_parse(const char *buf, size_t len, struct pc_ydoc **ret, struct pc_diags *d)
{
	struct builder b = { .d = d };
	int r;

	if (len > PC_YAML_MAX_INPUT) {
		if (pc_diags_add(d, PC_SEV_ERROR, (struct pc_pos){}, "input larger than %u bytes",
				 PC_YAML_MAX_INPUT) < 0)
			return -ENOMEM;
		return -EFBIG;
	}
	b.doc = calloc(1, sizeof(*b.doc));
	if (!b.doc)
		return -ENOMEM;
	r = run_parser(&b, buf, len);
	free(b.pend);
	free(b.frames);
	if (r < 0) {
		pc_ydoc_free(b.doc);
		return r;
	}
	*ret = b.doc;
	return 0;
}
