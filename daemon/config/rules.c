/* SPDX-License-Identifier: GPL-2.0-only */
/* rules.c - the `rules` section: names, match keys, outcomes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pktclass.h"
#include "config/internal.h"


/* ---- lists of checked items ------------------------------------------------ */
/* Checks item n into *out (arg: the kind of item); false when it is bad. */
typedef bool (*v_item_fn)(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
			  const void *arg, void *out);

/* The list n (pc_v_list), each item checked by item() into a new array of
 * elements of size bytes, only the good ones kept, their count in *ret_n.
 * With sets, "@NAME" items are references to sets of set_type, collected
 * there.  NULL when there is no list, or out of memory (v->oom). */
static void *v_items(struct pc_vctx *v, const struct pc_ynode *n, const char *what, size_t size,
		     v_item_fn item, const void *arg, size_t *ret_n, struct pc_setrefs *sets,
		     uint32_t set_type)
{
	struct pc_vlist l;
	size_t good = 0;
	char *a;

	if (!pc_v_list(v, n, what, &l))
		return NULL;
	a = calloc(l.n, size);
	if (sets) {
		sets->v = calloc(l.n, sizeof(*sets->v));
		sets->pos = calloc(l.n, sizeof(*sets->pos));
	}
	if (!a || (sets && (!sets->v || !sets->pos))) {
		v->oom = true;
		free(a);
		return NULL;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct pc_ynode *it = pc_vlist_at(&l, i);
		int set;

		if (sets && pc_is_setref(it)) {
			set = pc_v_setref(v, it, what, set_type);
			if (set >= 0) {
				sets->pos[sets->n] = it->pos;
				sets->v[sets->n++] = (uint32_t)set;
			}
		} else if (item(v, it, what, arg, a + good * size))
			good++;
	}
	*ret_n = good;
	return a;
}

/* ---- lists of ranges: vlan, l3, proto, ports, dscp ------------------------ */
struct range_kind {
	const char *noun;   /* "port", "VLAN id"... */
	const char *hint;   /* appended to "invalid" errors, or "" */
	uint32_t max;
	bool ranges;        /* "LO-HI" allowed */
	int (*parse)(const char *s, uint32_t *ret); /* NULL: numbers only */
};

static int parse_proto(const char *s, uint32_t *ret)
{
	uint32_t v;

	if (pc_parse_proto(s, ret) == 0)
		return 0;
	return pc_cfg_parse_u32(s, &v) == -EINVAL ? -EINVAL : -ERANGE;
}

static const struct range_kind k_vlan = { "VLAN id", "", PC_MAX_VLAN, true, NULL };
static const struct range_kind k_port = { "port", "", PC_MAX_PORT, true, NULL };
static const struct range_kind k_length = { "length", "", PC_MAX_LENGTH, true, NULL };
static const struct range_kind k_l3 = {
	"ethertype", " (ipv4, ipv6, arp or a number)", PC_MAX_ETHERTYPE, false,
	pc_cfg_parse_ethertype };
static const struct range_kind k_proto = {
	"protocol", " (tcp, udp, udplite, icmp, icmpv6, sctp, gre, esp, ah or a number)",
	PC_MAX_PROTO, false, parse_proto };
static const struct range_kind k_dscp = {
	"DSCP value", " (cs0-cs7, af11-af43, ef or a number)", PC_MAX_DSCP, false,
	pc_cfg_parse_dscp };

static int parse_one(const struct range_kind *k, const char *s, uint32_t *lo, uint32_t *hi)
{
	int r;

	if (k->ranges)
		return pc_cfg_parse_range(s, k->max, lo, hi);
	r = k->parse(s, lo);
	*hi = *lo;
	return r;
}

static bool v_range(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
		    const struct range_kind *k, struct pc_range *out)
{
	const char *s = pc_v_str(v, n, what);
	int r;

	if (!s)
		return false;
	r = parse_one(k, s, &out->lo, &out->hi);
	out->pos = n->pos;
	if (r == -ERANGE)
		pc_v_err(v, n, "%s: %s %s is out of range (0-%u)", what, k->noun, s, k->max);
	else if (r == -EDOM)
		pc_v_err(v, n, "%s: inverted range \"%s\"", what, s);
	else if (r < 0)
		pc_v_err(v, n, "%s: invalid %s \"%s\"%s", what, k->noun, s, k->hint);
	return r == 0;
}

static bool v_range_item(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
			 const void *k, void *out)
{
	return v_range(v, n, what, k, out);
}

static void v_ranges(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
		     const struct range_kind *k, struct pc_ranges *out)
{
	out->v = v_items(v, n, what, sizeof(*out->v), v_range_item, k, &out->n, NULL, 0);
}

/* Ports, and references to port sets. */
static void v_ports(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
		    struct pc_ranges *out, struct pc_setrefs *sets)
{
	out->v = v_items(v, n, what, sizeof(*out->v), v_range_item, &k_port, &out->n, sets,
			 PC_SET_PORT);
}

/* ---- prefixes ------------------------------------------------------------ */
/* A v_item_fn: arg is not used. */
static bool v_prefix(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
		     const void *arg, void *out)
{
	const char *s = pc_v_str(v, n, what);
	struct pc_prefix *p = out;
	char buf[INET6_ADDRSTRLEN];
	bool host_bits;
	int r;

	if (!s)
		return false;
	r = pc_cfg_parse_prefix(s, p, &host_bits);
	if (r == -EDOM) {
		pc_v_err(v, n, "%s: invalid prefix length in \"%s\" (0-%u)", what, s,
			 strchr(s, ':') ? 128 : 32);
		return false;
	}
	if (r < 0) {
		pc_v_err(v, n, "%s: invalid address \"%s\"", what, s);
		return false;
	}
	p->pos = n->pos;
	if (host_bits) {
		inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, buf, sizeof(buf));
		pc_v_warn(v, n, "%s: %s has host bits set; using %s/%u", what, s, buf, p->len);
	}
	return true;
}

/* Prefixes, and references to prefix sets. */
static void v_prefixes(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
		       struct pc_prefixes *out, struct pc_setrefs *sets)
{
	out->v = v_items(v, n, what, sizeof(*out->v), v_prefix, NULL, &out->n, sets,
			 PC_SET_PREFIX);
}

/* ---- interface patterns -------------------------------------------------- */
static bool v_ifname(struct pc_vctx *v, const struct pc_ynode *n, const char *what,
		     bool glob, const char **ret)
{
	const char *s = pc_v_str(v, n, what);
	int r;

	if (!s)
		return false;
	r = pc_cfg_ifname_check(s, glob);
	if (r == -ENAMETOOLONG)
		pc_v_err(v, n, "%s: interface name \"%s\" is longer than %u characters", what, s,
			 PC_IFNAME_MAX - 1);
	else if (r < 0)
		pc_v_err(v, n, "%s: invalid interface name \"%s\"", what, s);
	*ret = s;
	return r == 0;
}

static void count_pattern(struct pc_vctx *v, const struct pc_ynode *n, const char *s)
{
	struct pc_pos first;
	int r = pc_strset_add(&v->iface_patterns, s, n->pos, &first);

	if (r < 0)
		v->oom = true;
	if (r != 0 || v->iface_patterns.n <= PC_MAX_IFACE_PATTERNS || v->too_many_patterns)
		return;
	v->too_many_patterns = true;
	pc_v_err(v, n, "match.iface: too many distinct interface patterns (limit %u)",
		 PC_MAX_IFACE_PATTERNS);
}

static void v_ifaces(struct pc_vctx *v, const struct pc_ynode *n, struct pc_strs *out)
{
	struct pc_vlist l;

	if (!pc_v_list(v, n, "match.iface", &l))
		return;
	out->v = calloc(l.n, sizeof(*out->v));
	out->pos = calloc(l.n, sizeof(*out->pos));
	if (!out->v || !out->pos) {
		v->oom = true;
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct pc_ynode *it = pc_vlist_at(&l, i);
		const char *s;

		if (!v_ifname(v, it, "match.iface", true, &s))
			continue;
		count_pattern(v, it, s);
		out->v[out->n] = strdup(s);
		if (!out->v[out->n])
			v->oom = true;
		out->pos[out->n++] = it->pos;
	}
}

/* ---- direction, tcp_flags ----------------------------------------------- */
static void v_direction(struct pc_vctx *v, const struct pc_ynode *n, int *ret)
{
	const char *s = pc_v_str(v, n, "match.direction");

	if (!s)
		return;
	if (!strcmp(s, "ingress"))
		*ret = PC_DIR_INGRESS;
	else if (!strcmp(s, "egress"))
		*ret = PC_DIR_EGRESS;
	else
		pc_v_err(v, n, "match.direction: expected ingress or egress, got \"%s\"", s);
}

/* An unquoted `!ack` is a YAML tag on an empty scalar: take the tag back. */
static const char *flag_text(struct pc_vctx *v, const struct pc_ynode *n)
{
	if (n->kind == PC_Y_SCALAR && !n->quoted && n->n == 0 && n->tag && n->tag[0] == '!')
		return n->tag;
	return pc_v_str(v, n, "match.tcp_flags");
}

static void v_tcp_flags(struct pc_vctx *v, const struct pc_ynode *n, struct pc_match *m)
{
	struct pc_vlist l;

	if (!pc_v_list(v, n, "match.tcp_flags", &l))
		return;
	m->has_tcp_flags = true;
	for (size_t i = 0; i < l.n; i++) {
		const struct pc_ynode *it = pc_vlist_at(&l, i);
		const char *s = flag_text(v, it);
		bool neg;
		uint8_t bit;

		if (!s)
			continue;
		neg = s[0] == '!';
		if (pc_cfg_parse_tcp_flag(s + neg, &bit) < 0)
			pc_v_err(v, it, "match.tcp_flags: invalid flag \"%s\" "
				 "(syn ack fin rst psh urg ece cwr, optionally with !)", s);
		else if (m->tcp_flags_mask & bit)
			pc_v_err(v, it, "match.tcp_flags: flag \"%s\" given twice", s + neg);
		else {
			m->tcp_flags_mask |= bit;
			if (!neg)
				m->tcp_flags_value |= bit;
		}
	}
}

/* ---- match --------------------------------------------------------------- */
enum {
	M_IFACE, M_DIRECTION, M_VLAN, M_L3, M_SRC, M_DST, M_PROTO, M_SPORT, M_DPORT,
	M_TCP_FLAGS, M_DSCP, M_LENGTH, M_N
};

static bool proto_has(const struct pc_ranges *p, bool (*pred)(uint32_t))
{
	for (size_t i = 0; i < p->n; i++)
		if (pred(p->v[i].lo))
			return true;
	return false;
}

static bool is_tcp(uint32_t proto)
{
	return proto == PC_IPPROTO_TCP;
}

static bool has_ports(uint32_t proto)
{
	return PC_PROTO_HAS_PORTS(proto);
}

/* Keys that need a protocol the rule's proto list does not have. */
static void check_proto_deps(struct pc_vctx *v, const struct pc_vfield *f, const struct pc_match *m)
{
	if (m->proto.n == 0)
		return;
	if (!proto_has(&m->proto, has_ports))
		for (int i = M_SPORT; i <= M_DPORT; i++)
			if (f[i].key)
				pc_v_err(v, f[i].key, "match.%s: none of the rule's protocols has "
					 "ports (tcp, udp, udplite, sctp)", f[i].name);
	if (f[M_TCP_FLAGS].key && !proto_has(&m->proto, is_tcp))
		pc_v_err(v, f[M_TCP_FLAGS].key, "match.tcp_flags: implies tcp, which the rule's "
			 "proto excludes");
}

static void v_length(struct pc_vctx *v, const struct pc_ynode *n, struct pc_ranges *out)
{
	if (n->kind == PC_Y_SEQ) {
		pc_v_err(v, n, "match.length: expected one value or range, got a list");
		return;
	}
	out->v = calloc(1, sizeof(*out->v));
	if (!out->v) {
		v->oom = true;
		return;
	}
	if (v_range(v, n, "match.length", &k_length, out->v))
		out->n = 1;
}

static void v_match(struct pc_vctx *v, const struct pc_ynode *n, struct pc_match *m)
{
	struct pc_vfield f[M_N] = {
		PC_VF("iface"), PC_VF("direction"), PC_VF("vlan"), PC_VF("l3"),
		PC_VF("src"), PC_VF("dst"), PC_VF("proto"), PC_VF("src_port"),
		PC_VF("dst_port"), PC_VF("tcp_flags"), PC_VF("dscp"), PC_VF("length"),
	};

	if (!pc_v_map(v, n, "match", f, M_N))
		return;
	if (f[M_IFACE].val)
		v_ifaces(v, f[M_IFACE].val, &m->iface);
	if (f[M_DIRECTION].val)
		v_direction(v, f[M_DIRECTION].val, &m->direction);
	if (f[M_VLAN].val)
		v_ranges(v, f[M_VLAN].val, "match.vlan", &k_vlan, &m->vlan);
	if (f[M_L3].val)
		v_ranges(v, f[M_L3].val, "match.l3", &k_l3, &m->l3);
	if (f[M_SRC].val)
		v_prefixes(v, f[M_SRC].val, "match.src", &m->src, &m->src_sets);
	if (f[M_DST].val)
		v_prefixes(v, f[M_DST].val, "match.dst", &m->dst, &m->dst_sets);
	if (f[M_PROTO].val)
		v_ranges(v, f[M_PROTO].val, "match.proto", &k_proto, &m->proto);
	if (f[M_SPORT].val)
		v_ports(v, f[M_SPORT].val, "match.src_port", &m->src_port, &m->sport_sets);
	if (f[M_DPORT].val)
		v_ports(v, f[M_DPORT].val, "match.dst_port", &m->dst_port, &m->dport_sets);
	if (f[M_TCP_FLAGS].val)
		v_tcp_flags(v, f[M_TCP_FLAGS].val, m);
	if (f[M_DSCP].val)
		v_ranges(v, f[M_DSCP].val, "match.dscp", &k_dscp, &m->dscp);
	if (f[M_LENGTH].val)
		v_length(v, f[M_LENGTH].val, &m->length);
	check_proto_deps(v, f, m);
}

void pc_match_free(struct pc_match *m)
{
	struct pc_setrefs *sets[] = { &m->src_sets, &m->dst_sets, &m->sport_sets, &m->dport_sets };

	for (size_t i = 0; i < m->iface.n; i++)
		free(m->iface.v[i]);
	free(m->iface.v);
	free(m->iface.pos);
	free(m->vlan.v);
	free(m->l3.v);
	free(m->src.v);
	free(m->dst.v);
	for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
		free(sets[i]->v);
		free(sets[i]->pos);
	}
	free(m->proto.v);
	free(m->src_port.v);
	free(m->dst_port.v);
	free(m->dscp.v);
	free(m->length.v);
}

/* ---- outcome: set, action, redirect ------------------------------------- */
static void v_priority(struct pc_vctx *v, const struct pc_ynode *n, struct pc_rule *r)
{
	const char *s = pc_v_str(v, n, "set.priority");
	int e;

	if (!s)
		return;
	e = pc_cfg_parse_priority(s, &r->priority);
	if (e == -ERANGE)
		pc_v_err(v, n, "set.priority: \"%s\" is out of range (MAJ and MIN 0-ffff, "
			 "or a number 0-4294967295)", s);
	else if (e < 0)
		pc_v_err(v, n, "set.priority: invalid priority \"%s\" (\"MAJ:MIN\" in hex, "
			 "or a number)", s);
	else
		r->set_priority = true;
}

static void v_set(struct pc_vctx *v, const struct pc_ynode *n, struct pc_rule *r)
{
	struct pc_vfield f[] = { PC_VF("mark"), PC_VF("priority"), PC_VF("dscp") };
	struct pc_range d;

	if (!pc_v_map(v, n, "set", f, ELEMENTSOF(f)))
		return;
	if (f[0].val)
		r->set_mark = pc_v_u32(v, f[0].val, "set.mark", &r->mark);
	if (f[1].val)
		v_priority(v, f[1].val, r);
	if (f[2].val && v_range(v, f[2].val, "set.dscp", &k_dscp, &d)) {
		r->set_dscp = true;
		r->dscp = (uint8_t)d.lo;
	}
}

static void v_action(struct pc_vctx *v, const struct pc_ynode *n, const char *what, int *ret)
{
	const char *s = pc_v_str(v, n, what);

	if (!s)
		return;
	if (!strcmp(s, "pass"))
		*ret = PC_ACT_PASS;
	else if (!strcmp(s, "drop"))
		*ret = PC_ACT_DROP;
	else
		pc_v_err(v, n, "%s: expected pass or drop, got \"%s\"", what, s);
}

static void v_redirect(struct pc_vctx *v, const struct pc_vfield *redir,
		       const struct pc_vfield *action, struct pc_rule *r)
{
	const char *s;

	if (!v_ifname(v, redir->val, "redirect", false, &s))
		return;
	if (r->action == PC_ACT_DROP) {
		pc_v_err(v, redir->key, "redirect: not allowed with action: drop (line %u)",
			 action->key->pos.line);
		return;
	}
	r->action = PC_ACT_REDIRECT;
	strcpy(r->redirect, s);
}

/* ---- one rule, all rules -------------------------------------------------- */
static void v_rule_name(struct pc_vctx *v, const struct pc_ynode *rule,
			const struct pc_ynode *n, struct pc_rule *r)
{
	struct pc_pos first;
	char where[PC_METRICS_PATH_MAX + 32];
	int e;

	if (!n) {
		pc_v_err(v, rule, "rule: missing required key \"name\"");
		return;
	}
	if (!pc_v_name(v, n, "name", r->name))
		return;
	e = pc_strset_add(&v->rule_names, n->str, n->pos, &first);
	if (e < 0)
		v->oom = true;
	else if (e > 0)
		pc_v_err(v, n, "duplicate rule name \"%s\" (first at %s)", n->str,
			 pc_v_where(v, first, n, where, sizeof(where)));
}

enum { R_NAME, R_MATCH, R_ACTION, R_REDIRECT, R_SET, R_CLASS, R_LOG, R_N };

static void v_rule(struct pc_vctx *v, const struct pc_ynode *n, struct pc_rule *r)
{
	struct pc_vfield f[R_N] = {
		PC_VF("name"), PC_VF("match"), PC_VF("action"), PC_VF("redirect"),
		PC_VF("set"), PC_VF("class"), PC_VF("log"),
	};

	r->pos = n->pos;
	r->match.direction = PC_MATCH_DIR_ANY;
	r->action = PC_ACT_PASS;
	if (!pc_v_map(v, n, "rule", f, R_N))
		return;
	v_rule_name(v, n, f[R_NAME].val, r);
	if (f[R_MATCH].val)
		v_match(v, f[R_MATCH].val, &r->match);
	if (f[R_ACTION].val)
		v_action(v, f[R_ACTION].val, "action", &r->action);
	if (f[R_REDIRECT].val)
		v_redirect(v, &f[R_REDIRECT], &f[R_ACTION], r);
	if (f[R_SET].val)
		v_set(v, f[R_SET].val, r);
	if (f[R_CLASS].val)
		pc_v_name(v, f[R_CLASS].val, "class", r->class_name);
	else
		strcpy(r->class_name, r->name);
	if (f[R_LOG].val)
		pc_v_bool(v, f[R_LOG].val, "log", &r->log);
}

void pc_v_rules(struct pc_vctx *v, const struct pc_ynode *n)
{
	struct pc_config *c = v->c;
	size_t count, room = PC_MAX_RULES - c->n_rules;
	struct pc_rule *p;

	if (!pc_v_seq(v, n, "rules") || n->kind != PC_Y_SEQ || n->n == 0)
		return;
	count = n->n;
	if (count > room) {
		pc_v_err(v, n->items[room], "rules: too many rules, %zu (limit %u)",
			 c->n_rules + count, PC_MAX_RULES);
		count = room;
	}
	if (count == 0)
		return;
	p = reallocarray(c->rules, c->n_rules + count, sizeof(*c->rules));
	if (!p) {
		v->oom = true;
		return;
	}
	c->rules = p;
	memset(p + c->n_rules, 0, count * sizeof(*p));
	for (size_t i = 0; i < count; i++)
		v_rule(v, n->items[i], &p[c->n_rules + i]);
	c->n_rules += count;
}
