/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl explain: build the classifier key of a described packet
 * (as the BPF parser would fill it in, see bpf/pktclass.h), classify it
 * with the reference classifier and show the rule, class and outcome. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "classifier/compile.h"
#include "ctl/explain.h"
#include "lib/diag.h"
#include "lib/json.h"


/* ---- option values ------------------------------------------------------ */
static int parse_l3(const char *s, uint32_t *ret)
{
	if (strcmp(s, "ipv4") == 0)
		*ret = PC_ETH_P_IP;
	else if (strcmp(s, "ipv6") == 0)
		*ret = PC_ETH_P_IPV6;
	else if (strcmp(s, "arp") == 0)
		*ret = PC_ETH_P_ARP;
	else
		return ctl_parse_u32(s, 0xffff, ret);
	return 0;
}

static int parse_dscp(const char *s, uint32_t *ret)
{
	unsigned x, y;
	char end;

	if (strcmp(s, "ef") == 0)
		*ret = 46;
	else if (sscanf(s, "cs%1u%c", &x, &end) == 1 && x <= 7 && strlen(s) == 3)
		*ret = x * 8;
	else if (sscanf(s, "af%1u%1u%c", &x, &y, &end) == 2 && x >= 1 && x <= 4 && y >= 1 &&
		 y <= 3 && strlen(s) == 4)
		*ret = x * 8 + y * 2;
	else
		return ctl_parse_u32(s, 63, ret);
	return 0;
}

static const char *const tcp_flag_names[8] = { "fin", "syn", "rst", "psh",
					       "ack", "urg", "ece", "cwr" };

static int parse_tcp_flags(const char *s, uint32_t *ret)
{
	char buf[128], *save = NULL, *tok;
	uint32_t v = 0;

	if (s[0] >= '0' && s[0] <= '9')
		return ctl_parse_u32(s, 0xff, ret);
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = 0; i < 8 && strcmp(tok, tcp_flag_names[i]) != 0; i++)
			;
		if (i == 8)
			return -EINVAL;
		v |= 1u << i;
	}
	*ret = v;
	return 0;
}

static int parse_host(const char *s, struct pc_prefix *ret)
{
	if (pc_parse_prefix(s, ret) < 0)
		return -EINVAL;
	if (ret->len != (ret->family == 4 ? 32 : 128))
		return -EINVAL; /* a packet has one address, not a prefix */
	return 0;
}

/* ---- options ------------------------------------------------------------ */
enum {
	OPT_IFACE = CTL_OPT_FIRST_PRIVATE,
	OPT_DIRECTION, OPT_L3, OPT_PROTO, OPT_SRC, OPT_DST, OPT_SPORT, OPT_DPORT,
	OPT_VLAN, OPT_DSCP, OPT_LENGTH, OPT_TCP_FLAGS, OPT_LIVE,
};

static const struct option explain_longopts[] = {
	CTL_COMMON_LONGOPTS,
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "direction", required_argument, NULL, OPT_DIRECTION },
	{ "l3", required_argument, NULL, OPT_L3 },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "src-port", required_argument, NULL, OPT_SPORT },
	{ "dst-port", required_argument, NULL, OPT_DPORT },
	{ "vlan", required_argument, NULL, OPT_VLAN },
	{ "dscp", required_argument, NULL, OPT_DSCP },
	{ "length", required_argument, NULL, OPT_LENGTH },
	{ "tcp-flags", required_argument, NULL, OPT_TCP_FLAGS },
	{ "live", no_argument, NULL, OPT_LIVE },
	{},
};

/* One option into p: 0, or -EINVAL for a bad value. */
static int packet_option(struct ctl_packet *p, int o, const char *v)
{
	switch (o) {
	case OPT_IFACE:
		if (!*v || strlen(v) >= PC_IFNAME_MAX)
			return -EINVAL;
		p->iface = v;
		return 0;
	case OPT_DIRECTION:
		p->dir = strcmp(v, "ingress") == 0 ? (int)PC_DIR_INGRESS :
			 strcmp(v, "egress") == 0 ? (int)PC_DIR_EGRESS : -1;
		return p->dir < 0 ? -EINVAL : 0;
	case OPT_L3:
		p->has_l3 = true;
		return parse_l3(v, &p->l3);
	case OPT_PROTO:
		p->has_proto = true;
		return pc_parse_proto(v, &p->proto);
	case OPT_SRC:
		p->has_src = true;
		return parse_host(v, &p->src);
	case OPT_DST:
		p->has_dst = true;
		return parse_host(v, &p->dst);
	case OPT_SPORT:
		p->has_sport = true;
		return ctl_parse_u32(v, 0xffff, &p->sport);
	case OPT_DPORT:
		p->has_dport = true;
		return ctl_parse_u32(v, 0xffff, &p->dport);
	case OPT_VLAN:
		p->has_vlan = true;
		return ctl_parse_u32(v, 4095, &p->vlan);
	case OPT_DSCP:
		p->has_dscp = true;
		return parse_dscp(v, &p->dscp);
	case OPT_LENGTH:
		p->has_len = true;
		return ctl_parse_u32(v, 0xffff + 40, &p->len);
	case OPT_TCP_FLAGS:
		p->has_tcp_flags = true;
		return parse_tcp_flags(v, &p->tcp_flags);
	case OPT_LIVE:
		p->live = true;
		return 0;
	}
	return -EINVAL;
}

static const char *option_name(int o)
{
	for (const struct option *l = explain_longopts; l->name; l++)
		if (l->val == o)
			return l->name;
	return "?";
}

/* ---- the key ------------------------------------------------------------ */
bool ctl_is_ip(uint32_t l3)
{
	return l3 == PC_ETH_P_IP || l3 == PC_ETH_P_IPV6;
}

/* L4 header bytes, for the default L3 length. */
uint32_t ctl_l4_header_len(uint32_t proto)
{
	switch (proto) {
	case PC_IPPROTO_TCP: return 20;
	case PC_IPPROTO_SCTP: return 12;
	case PC_IPPROTO_ICMP: case PC_IPPROTO_UDP: case PC_IPPROTO_ICMPV6: case PC_IPPROTO_UDPLITE: return 8;
	default: return 0;
	}
}

/* What the packet lacks or mixes up: a usage error, CTL_USAGE. */
static int check_ip(struct ctl_packet *p)
{
	int fam = p->l3 == PC_ETH_P_IP ? 4 : 6;
	uint32_t minlen = fam == 4 ? 20 : 40;

	if (!p->has_src || !p->has_dst || !p->has_proto)
		return ctl_usage_error("explain: an IP packet needs --src, --dst and --proto");
	if (p->src.family != fam || p->dst.family != fam)
		return ctl_usage_error("explain: --src and --dst must both be IPv%d addresses", fam);
	if (PC_PROTO_HAS_PORTS(p->proto) && (!p->has_sport || !p->has_dport))
		return ctl_usage_error("explain: protocol %" PRIu32 " needs --src-port and --dst-port",
				       p->proto);
	if (!PC_PROTO_HAS_PORTS(p->proto) && (p->has_sport || p->has_dport))
		return ctl_usage_error("explain: ports apply only to tcp, udp, udplite and sctp");
	if (p->proto != 6 && p->has_tcp_flags)
		return ctl_usage_error("explain: --tcp-flags applies only to tcp");
	if (p->has_len && (p->len < minlen || (fam == 4 && p->len > 0xffff)))
		return ctl_usage_error("explain: --length %" PRIu32 " is not a valid IPv%d length",
				       p->len, fam);
	/* a packet with ports carries their whole transport header */
	if (p->has_len && PC_PROTO_HAS_PORTS(p->proto) && p->len < minlen + ctl_l4_header_len(p->proto))
		return ctl_usage_error("explain: --length %" PRIu32 " is too short for the %" PRIu32
				       " bytes of IPv%d and transport headers", p->len,
				       minlen + ctl_l4_header_len(p->proto), fam);
	if (!p->has_len)
		p->len = minlen + ctl_l4_header_len(p->proto);
	return CTL_OK;
}

static int check_packet(struct ctl_packet *p)
{
	if (!p->iface || p->dir < 0)
		return ctl_usage_error("explain: --iface and --direction are required");
	if (!p->has_l3) {
		if (!p->has_src && !p->has_dst)
			return ctl_usage_error("explain: describe the packet: --src, --dst and --proto "
					       "for IP, or --l3");
		p->l3 = (p->has_src ? p->src.family : p->dst.family) == 4 ? PC_ETH_P_IP : PC_ETH_P_IPV6;
	}
	if (ctl_is_ip(p->l3))
		return check_ip(p);
	if (p->has_src || p->has_dst || p->has_proto || p->has_sport || p->has_dport ||
	    p->has_dscp || p->has_len || p->has_tcp_flags)
		return ctl_usage_error("explain: addresses, protocol, ports, dscp, length and TCP "
				       "flags apply only to IP packets");
	return CTL_OK;
}

void ctl_addr_words(const struct pc_prefix *a, uint32_t *w)
{
	for (int i = 0; i < 4; i++)
		w[i] = i < (a->family == 4 ? 1 : 4) ?
		       (uint32_t)a->addr[4 * i] << 24 | (uint32_t)a->addr[4 * i + 1] << 16 |
		       (uint32_t)a->addr[4 * i + 2] << 8 | a->addr[4 * i + 3] : 0;
}

void ctl_packet_key(const struct ctl_packet *p, const struct pc_ruleset *rs, struct pc_key *k)
{
	bool ip = ctl_is_ip(p->l3);

	memset(k, 0, sizeof(*k));
	if (ip) {
		ctl_addr_words(&p->src, &k->w[PC_W_SRC0]);
		ctl_addr_words(&p->dst, &k->w[PC_W_DST0]);
	}
	k->w[PC_W_SPORT] = ip && PC_PROTO_HAS_PORTS(p->proto) ? p->sport : PC_PORT_NONE;
	k->w[PC_W_DPORT] = ip && PC_PROTO_HAS_PORTS(p->proto) ? p->dport : PC_PORT_NONE;
	k->w[PC_W_PROTO] = ip ? p->proto : PC_PROTO_NONE;
	k->w[PC_W_L3] = p->l3;
	k->w[PC_W_VLAN] = p->has_vlan ? p->vlan : PC_VLAN_NONE;
	k->w[PC_W_DSCP] = ip ? (p->has_dscp ? p->dscp : 0) : PC_DSCP_NONE;
	k->w[PC_W_LEN] = ip ? p->len : PC_LEN_NONE;
	k->w[PC_W_TCPFLAGS] = ip && p->proto == PC_IPPROTO_TCP ? p->tcp_flags : PC_TCPFL_NONE;
	k->w[PC_W_DIR] = (uint32_t)p->dir;
	k->w[PC_W_IFBITS] = pc_ifbits(rs, p->iface);
}

/* ---- output ------------------------------------------------------------- */
static const char *l3_name(uint32_t l3, char *buf, size_t len)
{
	switch (l3) {
	case PC_ETH_P_IP: return "ipv4";
	case PC_ETH_P_IPV6: return "ipv6";
	case PC_ETH_P_ARP: return "arp";
	}
	snprintf(buf, len, "0x%04" PRIx32, l3);
	return buf;
}

const char *ctl_action_name(uint8_t action)
{
	return action == PC_ACT_DROP ? "drop" : action == PC_ACT_REDIRECT ? "redirect" : "pass";
}

static void addr_str(const struct pc_prefix *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static void tcp_flags_str(uint32_t flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					      tcp_flag_names[i]);
	if (!n)
		snprintf(buf, len, "none");
}


const char *ctl_dscp_name(uint32_t dscp, char *buf, size_t len)
{
	if (dscp == 46)
		snprintf(buf, len, " (ef)");
	else if (dscp % 8 == 0)
		snprintf(buf, len, " (cs%" PRIu32 ")", dscp / 8);
	else if (dscp / 8 >= 1 && dscp / 8 <= 4 && dscp % 2 == 0 && dscp % 8 <= 6)
		snprintf(buf, len, " (af%" PRIu32 "%" PRIu32 ")", dscp / 8, dscp % 8 / 2);
	else
		buf[0] = 0;
	return buf;
}

static void text_packet(const struct ctl_packet *p)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[8], lb[8], fl[64], dn[16];
	bool v6 = p->l3 == PC_ETH_P_IPV6;

	printf("packet:    %s %s, %s", p->iface, p->dir == PC_DIR_INGRESS ? "ingress" : "egress",
	       l3_name(p->l3, lb, sizeof(lb)));
	if (ctl_is_ip(p->l3)) {
		addr_str(&p->src, s, sizeof(s));
		addr_str(&p->dst, d, sizeof(d));
		printf(" %s ", pc_proto_name(p->proto, pb, sizeof(pb)));
		if (PC_PROTO_HAS_PORTS(p->proto))
			printf(v6 ? "[%s]:%" PRIu32 " -> [%s]:%" PRIu32 : "%s:%" PRIu32 " -> %s:%" PRIu32,
			       s, p->sport, d, p->dport);
		else
			printf("%s -> %s", s, d);
		printf(", length %" PRIu32 ", dscp %" PRIu32 "%s", p->len, p->has_dscp ? p->dscp : 0,
		       ctl_dscp_name(p->has_dscp ? p->dscp : 0, dn, sizeof(dn)));
		if (p->proto == PC_IPPROTO_TCP) {
			tcp_flags_str(p->tcp_flags, fl, sizeof(fl));
			printf(", flags %s", fl);
		}
	}
	if (p->has_vlan)
		printf(", vlan %" PRIu32 "\n", p->vlan);
	else
		printf(", untagged\n");
}

void ctl_text_result(const struct ctl_result *r)
{
	const struct pc_rule_out *o = &r->rs->outs[r->idx];
	const char *sep = ""; /* "" until something was printed */
	char name[16];

	text_packet(r->p);
	if (r->rule)
		printf("rule:      %s (rule %" PRIu32 " of %" PRIu32 ", %s:%u:%u)\n",
		       r->rs->rule_name[r->idx], r->idx + 1, r->rs->nrules,
		       r->rule->pos.file ? r->rule->pos.file : r->config_path,
		       r->rule->pos.line, r->rule->pos.col);
	else
		printf("rule:      (default): no rule matches\n");
	if (r->cfg)
		ctl_sets_text(r, r->cfg);
	printf("class:     %s\n", r->rs->class_name[r->idx]);
	if (o->action == PC_ACT_REDIRECT)
		printf("action:    redirect to %s\n", r->rs->redirect[r->idx]);
	else
		printf("action:    %s\n", ctl_action_name(o->action));
	printf("set:       ");
	if (o->flags & PC_F_MARK) {
		printf("%smark 0x%" PRIx32, sep, o->mark);
		sep = ", ";
	}
	if (o->flags & PC_F_PRIO) {
		printf("%spriority %" PRIx32 ":%" PRIx32, sep, o->priority >> 16,
		       o->priority & 0xffff);
		sep = ", ";
	}
	if (o->flags & PC_F_DSCP) {
		printf("%sdscp %u%s", sep, o->dscp, ctl_dscp_name(o->dscp, name, sizeof(name)));
		sep = ", ";
	}
	printf("%s\n", *sep ? "" : "nothing");
	printf("log:       %s\n", o->flags & PC_F_LOG ? "yes" : "no");
	if (r->live)
		ctl_live_text(r->live);
}

static void json_packet(struct pc_json *j, const struct ctl_packet *p)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], pb[8], lb[8];

	pc_json_key(j, "packet");
	pc_json_object_begin(j);
	pc_json_kv_string(j, "iface", p->iface);
	pc_json_kv_string(j, "direction", p->dir == PC_DIR_INGRESS ? "ingress" : "egress");
	pc_json_kv_string(j, "l3", l3_name(p->l3, lb, sizeof(lb)));
	if (p->has_vlan)
		pc_json_kv_u64(j, "vlan", p->vlan);
	if (ctl_is_ip(p->l3)) {
		addr_str(&p->src, s, sizeof(s));
		addr_str(&p->dst, d, sizeof(d));
		pc_json_kv_string(j, "proto", pc_proto_name(p->proto, pb, sizeof(pb)));
		pc_json_kv_string(j, "src", s);
		pc_json_kv_string(j, "dst", d);
		if (PC_PROTO_HAS_PORTS(p->proto)) {
			pc_json_kv_u64(j, "src_port", p->sport);
			pc_json_kv_u64(j, "dst_port", p->dport);
		}
		pc_json_kv_u64(j, "dscp", p->has_dscp ? p->dscp : 0);
		pc_json_kv_u64(j, "length", p->len);
		if (p->proto == PC_IPPROTO_TCP)
			pc_json_kv_u64(j, "tcp_flags", p->tcp_flags);
	}
	pc_json_object_end(j);
}

void ctl_json_result(const struct ctl_result *r)
{
	const struct pc_rule_out *o = &r->rs->outs[r->idx];
	struct pc_json j;
	char prio[32];

	pc_json_init(&j, stdout, true);
	pc_json_object_begin(&j);
	json_packet(&j, r->p);
	pc_json_kv_string(&j, "rule", r->rs->rule_name[r->idx]);
	pc_json_kv_u64(&j, "rule_index", r->idx);
	pc_json_kv_bool(&j, "default", r->rule == NULL);
	if (r->rule) {
		if (r->rule->pos.file)
			pc_json_kv_string(&j, "file", r->rule->pos.file);
		pc_json_kv_u64(&j, "line", r->rule->pos.line);
		pc_json_kv_u64(&j, "column", r->rule->pos.col);
	}
	pc_json_kv_string(&j, "class", r->rs->class_name[r->idx]);
	pc_json_kv_string(&j, "action", ctl_action_name(o->action));
	if (o->action == PC_ACT_REDIRECT)
		pc_json_kv_string(&j, "redirect", r->rs->redirect[r->idx]);
	if (o->flags & PC_F_MARK)
		pc_json_kv_u64(&j, "mark", o->mark);
	if (o->flags & PC_F_PRIO) {
		snprintf(prio, sizeof(prio), "%" PRIx32 ":%" PRIx32, o->priority >> 16,
			 o->priority & 0xffff);
		pc_json_kv_string(&j, "priority", prio);
	}
	if (o->flags & PC_F_DSCP)
		pc_json_kv_u64(&j, "dscp", o->dscp);
	pc_json_kv_bool(&j, "log", o->flags & PC_F_LOG);
	if (r->cfg)
		ctl_sets_json(&j, r, r->cfg);
	pc_json_key(&j, "key");
	pc_json_array_begin(&j);
	for (int i = 0; i < PC_KEY_WORDS; i++)
		pc_json_u64(&j, r->key.w[i]);
	pc_json_array_end(&j);
	if (r->live)
		ctl_live_json(&j, r->live);
	pc_json_object_end(&j);
	pc_json_finish(&j);
}

/* ---- the command -------------------------------------------------------- */
const struct pc_rule *ctl_find_rule(const struct pc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (strcmp(cfg->rules[i].name, name) == 0)
			return &cfg->rules[i];
	return NULL;
}

/* Warnings are check's business, errors are shown. */
int ctl_explain_load(const char *path, struct pc_config **cfg, struct pc_ruleset **rs)
{
	struct pc_diags d;
	int r;

	pc_diags_init(&d, path);
	r = pc_config_load(path, cfg, &d);
	if (r >= 0)
		r = pc_compile(*cfg, rs, &d);
	if (r < 0) {
		pc_diags_sort(&d);
		pc_diags_print(&d, stderr);
		if (d.nerrors == 0)
			fprintf(stderr, "%s: error: %s\n", path, strerror(-r));
	}
	pc_diags_clear(&d);
	return r;
}

int ctl_explain_reference(struct ctl *c, const struct pc_config *cfg, const struct pc_ruleset *rs,
			  struct ctl_result *res)
{
	ctl_packet_key(res->p, rs, &res->key);
	res->rs = rs;
	res->cfg = cfg;
	if (ctl_sets_eval(c, cfg, rs, &res->key, &res->sets) < 0)
		return ctl_error("out of memory");
	res->key.w[PC_W_SETS] = res->sets.bits;
	res->idx = pc_ref_classify_sets(rs, &res->key, res->sets.lazy);
	if (res->idx > rs->nrules)
		return ctl_error("explain: the classifier returned rule %" PRIu32, res->idx);
	res->rule = res->idx < rs->nrules ? ctl_find_rule(cfg, rs->rule_name[res->idx]) : NULL;
	if (res->idx < rs->nrules && !res->rule)
		return ctl_error("explain: rule '%s' is not in the config", rs->rule_name[res->idx]);
	return CTL_OK;
}

int ctl_explain_print(struct ctl *c, const struct ctl_result *res)
{
	if (c->json)
		ctl_json_result(res);
	else
		ctl_text_result(res);
	return fflush(stdout) == 0 ? CTL_OK : ctl_error("cannot write the output");
}

static int explain(struct ctl *c, const struct ctl_packet *p)
{
	int r;
	__attribute__((cleanup(pc_config_freep))) struct pc_config *cfg = NULL;
	__attribute__((cleanup(pc_ruleset_freep))) struct pc_ruleset *rs = NULL;
	const char *path = c->config ? c->config : PC_DEFAULT_CONFIG;
	struct ctl_result res = { .p = p, .config_path = path };

	if (ctl_explain_load(path, &cfg, &rs) < 0)
		return CTL_ERROR;
	if (ctl_explain_reference(c, cfg, rs, &res) != CTL_OK) {
		ctl_sets_clear(&res.sets);
		return CTL_ERROR;
	}
	r = ctl_explain_print(c, &res);
	ctl_sets_clear(&res.sets);
	return r;
}

int ctl_explain(struct ctl *c, int argc, char **argv)
{
	struct ctl_packet p = { .dir = -1 };
	int o, stop, r;

	while ((o = ctl_getopt(c, argc, argv, "", explain_longopts, &stop)) != -1)
		if (packet_option(&p, o, optarg) < 0)
			return ctl_usage_error("explain: invalid --%s '%s'%s", option_name(o),
					       optarg ? optarg : "",
					       o == OPT_SRC || o == OPT_DST ? " (want one address)" : "");
	if (stop >= 0)
		return stop;
	if (optind < argc)
		return ctl_usage_error("explain: unexpected argument '%s'", argv[optind]);
	r = check_packet(&p);
	if (r == CTL_OK && p.live)
		r = ctl_live_check(&p);
	if (r != CTL_OK)
		return r;
	return p.live ? ctl_explain_live(c, &p) : explain(c, &p);
}
