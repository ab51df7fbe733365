/* SPDX-License-Identifier: GPL-2.0-only */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbset.h"
#include "grow.h"
#include "tset.h"

static bool is_yaml(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && !strcmp(path + n - 5, ".yaml");
}

int ts_config(const char *path, struct pc_config **ret, struct pc_diags *d)
{
	_cleanup_free_ struct cb_rule *v = NULL;
	struct pc_config *c;
	ssize_t n;
	int r;

	if (!is_yaml(path)) {
		n = cb_load(path, &v);
		if (n <= 0)
			return n < 0 ? (int)n : -ENODATA;
		*ret = cb_config(v, (size_t)n);
		return *ret ? 0 : -ENOMEM;
	}
	r = pc_config_load(path, &c, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_rules; i++) {
		c->rules[i].set_mark = true;
		c->rules[i].mark = (uint32_t)i + 1;
		c->rules[i].action = PC_ACT_PASS;
		c->rules[i].set_dscp = false; /* the frame stays as sent */
	}
	c->default_action = PC_ACT_PASS;
	*ret = c;
	return 0;
}

static int addr(const char *s, struct pg_pkt *p, uint32_t *w)
{
	uint8_t a[16];

	if (p->ethertype == 0x86dd) {
		if (inet_pton(AF_INET6, s, a) != 1)
			return -EINVAL;
		for (int i = 0; i < 4; i++)
			w[i] = (uint32_t)a[4 * i] << 24 | a[4 * i + 1] << 16 | a[4 * i + 2] << 8 |
			       a[4 * i + 3];
		return 0;
	}
	if (inet_pton(AF_INET, s, a) != 1)
		return -EINVAL;
	w[0] = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	return 0;
}

/* "a,b,c" into up to max values; the count or -EINVAL. */
static int list(const char *s, unsigned long *v, int max)
{
	int n = 0;

	for (;;) {
		char *end;

		if (n == max)
			return -EINVAL;
		v[n++] = strtoul(s, &end, 0);
		if (end == s || (*end && *end != ','))
			return -EINVAL;
		if (!*end)
			return n;
		s = end + 1;
	}
}

static int field(struct ts_pkt *t, const char *k, const char *v)
{
	struct pg_pkt *p = &t->p;
	unsigned long l[PG_MAX_EXT];
	char *end;
	unsigned long x;
	int n;

	if (!strcmp(k, "src"))
		return addr(v, p, p->src);
	if (!strcmp(k, "dst"))
		return addr(v, p, p->dst);
	if (!strcmp(k, "hook")) {
		t->hook = !strcmp(v, "egress") ? PC_HOOK_EGRESS : PC_HOOK_INGRESS;
		return 0;
	}
	if (!strcmp(k, "vlan") || !strcmp(k, "tpid") || !strcmp(k, "ext")) {
		n = list(v, l, k[0] == 'e' ? PG_MAX_EXT : 3);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			if (k[0] == 'v')
				p->vid[i] = (uint16_t)l[i];
			else if (k[0] == 't')
				p->tpid[i] = (uint16_t)l[i];
			else
				p->ext[i] = (uint8_t)l[i];
		}
		if (k[0] == 'v')
			p->ntags = (unsigned)n;
		else if (k[0] == 'e')
			p->n_ext = (unsigned)n;
		return 0;
	}
	x = strtoul(v, &end, 0);
	if (end == v || *end)
		return -EINVAL;
	if (!strcmp(k, "l3"))
		p->ethertype = (uint16_t)x;
	else if (!strcmp(k, "proto"))
		p->proto = (uint8_t)x;
	else if (!strcmp(k, "sport"))
		p->sport = (uint16_t)x;
	else if (!strcmp(k, "dport"))
		p->dport = (uint16_t)x;
	else if (!strcmp(k, "flags"))
		p->tcp_flags = (uint8_t)x;
	else if (!strcmp(k, "dscp"))
		p->dscp = (uint8_t)x;
	else if (!strcmp(k, "pay"))
		p->payload = (unsigned)x;
	else if (!strcmp(k, "opts"))
		p->ip_opts = (unsigned)x;
	else if (!strcmp(k, "frag"))
		p->frag_off = (uint16_t)x;
	else if (!strcmp(k, "mf"))
		p->more_frags = x != 0;
	else if (!strcmp(k, "l4"))
		p->l4_len = (int)x;
	else if (!strcmp(k, "from"))
		t->from = (int32_t)strtol(v, NULL, 0);
	else if (!strcmp(k, "rule"))
		t->rule = (int32_t)strtol(v, NULL, 0);
	else
		return -EINVAL;
	return 0;
}

/* One line of a scripts/gen-mixed trace.  The ethertype comes first (the
 * address family depends on it). */
static int mixed_line(char *line, struct ts_pkt *t)
{
	*t = (struct ts_pkt){ .p = { .l4_len = -1 }, .from = -1, .rule = TS_NO_LABEL };
	for (char *save = NULL, *tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		if (field(t, tok, eq + 1) < 0)
			return -EINVAL;
	}
	return t->p.ethertype ? 0 : -EINVAL;
}

static ssize_t mixed_load(FILE *f, struct ts_pkt **ret)
{
	struct ts_pkt *v = NULL;
	size_t n = 0, cap = 0;
	char line[1024];

	while (fgets(line, sizeof(line), f)) {
		if (tl_grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0 || mixed_line(line, &v[n]) < 0) {
			free(v);
			return -EINVAL;
		}
		n++;
	}
	*ret = v;
	return (ssize_t)n;
}

ssize_t ts_trace_load(const char *path, struct ts_pkt **ret)
{
	_cleanup_free_ struct cb_pkt *c = NULL;
	struct ts_pkt *v;
	char first[64] = "";
	FILE *f = fopen(path, "re");
	ssize_t n;

	if (!f)
		return -errno;
	if (!fgets(first, sizeof(first), f) || strchr(first, '=')) {
		rewind(f);
		n = mixed_load(f, ret);
		fclose(f);
		return n;
	}
	fclose(f);
	n = cb_trace_load(path, &c);
	if (n <= 0)
		return n;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (ssize_t i = 0; i < n; i++)
		v[i] = (struct ts_pkt){ .p = pg_ipv4(c[i].src, c[i].dst, c[i].proto, c[i].sport,
						     c[i].dport),
					.from = c[i].from_rule, .rule = TS_NO_LABEL, .classbench = true };
	*ret = v;
	return n;
}
