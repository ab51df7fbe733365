/* SPDX-License-Identifier: GPL-2.0-only */
/* explainsets.c - the set references of a described packet for explain:
 * which hold, and by which element.  The contents are the running
 * daemon's (a "find" request on its control socket: dynamic sets change at
 * run time) for every set it has under that name and type, else the
 * config's own elements (inline and file). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/explain.h"
#include "lib/ctlproto.h"
#include "lib/json.h"
#include "lib/util.h"

static const char *const field_names[] = { "src", "dst", "src_port", "dst_port" };

/* The value of the reference's field in k, as text; false when the packet
 * has none (no IP address for a prefix set, no port for a port set). */
static bool field_value(const struct pc_key *k, unsigned field, char *buf, size_t len)
{
	uint32_t l3 = k->w[PC_W_L3], a[4];
	unsigned w0 = field == PC_SF_SRC ? PC_W_SRC0 : PC_W_DST0;

	if (field >= PC_SF_SPORT) {
		uint32_t p = k->w[field == PC_SF_SPORT ? PC_W_SPORT : PC_W_DPORT];

		if (p > 0xffff)
			return false;
		snprintf(buf, len, "%u", p);
		return true;
	}
	if (l3 != PC_ETH_P_IP && l3 != PC_ETH_P_IPV6)
		return false;
	for (int i = 0; i < 4; i++)
		a[i] = htonl(k->w[w0 + i]);
	return inet_ntop(l3 == PC_ETH_P_IP ? AF_INET : AF_INET6, a, buf, (socklen_t)len) != NULL;
}

/* The daemon's answers, one line per reference ("-": not in, "?": no such
 * set there); false when no daemon answers. */
static bool ask_daemon(struct ctl *c, const struct pc_config *cfg, const struct pc_ruleset *rs,
		       const struct pc_key *k, struct ctl_sets *out)
{
	struct pc_ctl_msg reply = { .fd = -1 };
	_cleanup_free_ char *req = NULL;
	char *body, *line, value[64];
	size_t len;
	FILE *f = open_memstream(&req, &len);

	if (!f)
		return false;
	fputs("find\n", f);
	for (size_t i = 0; i < rs->nsetrefs; i++) {
		const struct pc_set_ref *r = &rs->setrefs[i];

		if (!field_value(k, r->field, value, sizeof(value)))
			snprintf(value, sizeof(value), "none");
		fprintf(f, "%s\t%s\t%s\n", cfg->sets[r->set].name, field_names[r->field], value);
	}
	if (fclose(f) != 0 || ctl_daemon_request(c, req, len, -1, true, &reply) < 0)
		return false;
	body = reply.buf;
	line = pc_ctl_next_line(&body);
	for (size_t i = 0; line && !strcmp(line, "ok") && i < rs->nsetrefs; i++) {
		char *a = pc_ctl_next_line(&body);

		if (!a || !strcmp(a, "?"))
			continue;
		out->v[i].live = true;
		out->v[i].in = strcmp(a, "-") != 0;
		if (out->v[i].in)
			strscpy_ok(out->v[i].element, sizeof(out->v[i].element), a);
	}
	pc_ctl_msg_clear(&reply);
	return true;
}

/* A reference the daemon did not answer: the config's elements. */
static void from_config(const struct pc_config *cfg, const struct pc_set_ref *r,
			const struct pc_key *k, struct ctl_setmatch *m)
{
	const struct pc_set_cfg *s = &cfg->sets[r->set];
	struct pc_set_view v = { .v = s->elems.v, .n = s->elems.n };
	long i = pc_set_find(&v, k, r->field);

	m->in = i >= 0;
	if (m->in)
		pc_set_elem_str(&v.v[i], m->element, sizeof(m->element));
}

int ctl_sets_eval(struct ctl *c, const struct pc_config *cfg, const struct pc_ruleset *rs,
		  const struct pc_key *k, struct ctl_sets *out)
{
	memset(out, 0, sizeof(*out));
	if (!rs->nsetrefs)
		return 0;
	out->v = calloc(rs->nsetrefs, sizeof(*out->v));
	out->lazy = calloc((rs->nsetrefs + 31) / 32, sizeof(*out->lazy));
	if (!out->v || !out->lazy)
		return -ENOMEM;
	out->n = rs->nsetrefs;
	if (c)
		ask_daemon(c, cfg, rs, k, out);
	for (size_t i = 0; i < out->n; i++) {
		struct ctl_setmatch *m = &out->v[i];

		m->ref = rs->setrefs[i];
		if (!field_value(k, m->ref.field, m->value, sizeof(m->value)))
			m->value[0] = 0;
		if (!m->live)
			from_config(cfg, &m->ref, k, m);
		if (!m->in)
			continue;
		if (i < PC_SET_REFS_EAGER)
			out->bits |= 1u << i;
		else
			out->lazy[i / 32] |= 1u << (i % 32);
	}
	return 0;
}

void ctl_sets_clear(struct ctl_sets *s)
{
	free(s->v);
	free(s->lazy);
	*s = (struct ctl_sets){};
}

/* Whether the box checks reference ref. */
static bool box_uses(const struct pc_box *b, size_t ref)
{
	for (uint32_t i = 0; i < b->nchecks && i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];

		if (c->op == PC_OP_MASK && c->word == PC_W_SETS && ref < PC_SET_REFS_EAGER &&
		    (c->a >> ref & 1))
			return true;
		if (c->op == PC_OP_SET && c->a == ref)
			return true;
	}
	return false;
}

/* The box of rule idx that the key matches: the one explain shows. */
static const struct pc_box *matched_box(const struct ctl_result *r)
{
	for (size_t i = 0; i < r->rs->nboxes; i++)
		if (r->rs->boxes[i].rule == r->idx &&
		    pc_box_match_sets(&r->rs->boxes[i], &r->key, r->sets.lazy))
			return &r->rs->boxes[i];
	return NULL;
}

void ctl_sets_text(const struct ctl_result *r, const struct pc_config *cfg)
{
	const struct pc_box *b = r->rule ? matched_box(r) : NULL;

	for (size_t i = 0; b && i < r->sets.n; i++) {
		const struct ctl_setmatch *m = &r->sets.v[i];

		if (!box_uses(b, i))
			continue;
		printf("in set:    %s %s is in %s: element %s (%s contents)\n",
		       field_names[m->ref.field], m->value, cfg->sets[m->ref.set].name, m->element,
		       m->live ? "the daemon's" : "the config's");
	}
}

void ctl_sets_json(struct pc_json *j, const struct ctl_result *r, const struct pc_config *cfg)
{
	const struct pc_box *b = r->rule ? matched_box(r) : NULL;

	pc_json_key(j, "sets");
	pc_json_array_begin(j);
	for (size_t i = 0; i < r->sets.n; i++) {
		const struct ctl_setmatch *m = &r->sets.v[i];

		pc_json_object_begin(j);
		pc_json_kv_string(j, "set", cfg->sets[m->ref.set].name);
		pc_json_kv_string(j, "field", field_names[m->ref.field]);
		if (m->value[0])
			pc_json_kv_string(j, "value", m->value);
		pc_json_kv_bool(j, "in", m->in);
		if (m->in)
			pc_json_kv_string(j, "element", m->element);
		pc_json_kv_string(j, "contents", m->live ? "daemon" : "config");
		pc_json_kv_bool(j, "matched_rule", b && box_uses(b, i));
		pc_json_object_end(j);
	}
	pc_json_array_end(j);
}
