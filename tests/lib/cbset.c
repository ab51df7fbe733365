/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbset.h"
#include "grow.h"

static int cb_parse(const char *line, struct cb_rule *r)
{
	unsigned v[16];

	if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12],
		   &v[13], &v[14], &v[15]) != 16 || v[4] > 32 || v[9] > 32)
		return -EINVAL;
	r->src = v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3];
	r->dst = v[5] << 24 | v[6] << 16 | v[7] << 8 | v[8];
	r->slen = (uint8_t)v[4];
	r->dlen = (uint8_t)v[9];
	r->sp[0] = (uint16_t)v[10];
	r->sp[1] = (uint16_t)v[11];
	r->dp[0] = (uint16_t)v[12];
	r->dp[1] = (uint16_t)v[13];
	r->proto = (uint8_t)v[14];
	r->pmask = (uint8_t)v[15];
	return 0;
}

ssize_t cb_load(const char *path, struct cb_rule **ret)
{
	struct cb_rule *v = NULL;
	size_t n = 0, cap = 0;
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '@')
			continue;
		if (tl_grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0 || cb_parse(line, &v[n]) < 0) {
			free(v);
			fclose(f);
			return -EINVAL;
		}
		n++;
	}
	fclose(f);
	*ret = v;
	return (ssize_t)n;
}

ssize_t cb_trace_load(const char *path, struct cb_pkt **ret)
{
	struct cb_pkt *v = NULL;
	size_t n = 0, cap = 0;
	char line[256];
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, d;
		unsigned sp, dp, pr;
		int from;

		if (sscanf(line, "%lu %lu %u %u %u %d", &s, &d, &sp, &dp, &pr, &from) != 6 ||
		    s > UINT32_MAX || d > UINT32_MAX || sp > 65535 || dp > 65535 || pr > 255 ||
		    tl_grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0) {
			free(v);
			fclose(f);
			return -EINVAL;
		}
		v[n++] = (struct cb_pkt){ (uint32_t)s, (uint32_t)d, (uint16_t)sp, (uint16_t)dp,
					  (uint8_t)pr, from };
	}
	fclose(f);
	*ret = v;
	return (ssize_t)n;
}

static int add_range(struct pc_ranges *r, uint32_t lo, uint32_t hi)
{
	r->v = calloc(1, sizeof(*r->v));
	if (!r->v)
		return -ENOMEM;
	r->v[0] = (struct pc_range){ .lo = lo, .hi = hi };
	r->n = 1;
	return 0;
}

static int add_prefix(struct pc_prefixes *p, uint32_t a, unsigned len)
{
	uint32_t m = len ? ~0u << (32 - len) : 0;

	p->v = calloc(1, sizeof(*p->v));
	if (!p->v)
		return -ENOMEM;
	a &= m;
	p->v[0] = (struct pc_prefix){ .family = 4, .len = (uint8_t)len,
				      .addr = { a >> 24, a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff } };
	p->n = 1;
	return 0;
}

/* The mapping of scripts/classbench2yaml: /0, 0 : 65535 and a protocol
 * mask of 0 leave the key out. */
static int cb_rule_to(const struct cb_rule *c, size_t i, struct pc_rule *r)
{
	struct pc_match *m = &r->match;
	int e = 0;

	snprintf(r->name, sizeof(r->name), "r%zu", i);
	snprintf(r->class_name, sizeof(r->class_name), "r%zu", i);
	r->pos = (struct pc_pos){ .line = (unsigned)i + 1, .col = 1 };
	m->direction = PC_MATCH_DIR_ANY;
	r->action = PC_ACT_PASS;
	r->set_mark = true;
	r->mark = (uint32_t)i + 1;
	if (c->slen)
		e = e ?: add_prefix(&m->src, c->src, c->slen);
	if (c->dlen)
		e = e ?: add_prefix(&m->dst, c->dst, c->dlen);
	if (c->sp[0] != 0 || c->sp[1] != 65535)
		e = e ?: add_range(&m->src_port, c->sp[0], c->sp[1]);
	if (c->dp[0] != 0 || c->dp[1] != 65535)
		e = e ?: add_range(&m->dst_port, c->dp[0], c->dp[1]);
	if (c->pmask)
		e = e ?: add_range(&m->proto, c->proto, c->proto);
	return e;
}

struct pc_config *cb_config(const struct cb_rule *v, size_t n)
{
	struct pc_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rules = calloc(n ? n : 1, sizeof(*c->rules));
	c->ifaces = calloc(1, sizeof(*c->ifaces));
	if (!c->rules || !c->ifaces) {
		pc_config_free(c);
		return NULL;
	}
	snprintf(c->ifaces[0].name, sizeof(c->ifaces[0].name), "*");
	c->ifaces[0].hooks = 1u << PC_HOOK_INGRESS;
	c->n_ifaces = 1;
	snprintf(c->default_class, sizeof(c->default_class), "default");
	c->default_action = PC_ACT_PASS;
	snprintf(c->settings.pin_path, sizeof(c->settings.pin_path), "%s", PC_DEFAULT_PIN_PATH);
	for (size_t i = 0; i < n; i++) {
		c->n_rules = i + 1;
		if (cb_rule_to(&v[i], i, &c->rules[i]) < 0) {
			pc_config_free(c);
			return NULL;
		}
	}
	return c;
}
