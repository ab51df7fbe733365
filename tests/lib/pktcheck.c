/* SPDX-License-Identifier: GPL-2.0-only */
/* pktcheck.c - see pktcheck.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "parse.h"
#include "classifier/compile.h"
#include "classifier/tree.h"
#include "datapath/datapath.h"
#include "lib/diag.h"
#include "lib/inet.h"
#include "pktcheck.h"

#define IFINDEX 1 /* what BPF_PROG_TEST_RUN uses: lo */

/* Every key word is looked at by some rule; lists expand into boxes. */
static const char rules_yaml[] =
	"version: 1\n"
	"interfaces:\n"
	"  - name: lo\n"
	"    hooks: [ingress, egress, monitor]\n"
	"rules:\n"
	"  - name: v6-ssh\n"
	"    match: { l3: ipv6, proto: tcp, dst_port: 22 }\n"
	"    action: drop\n"
	"  - name: sip\n"
	"    match: { proto: [udp, udplite, sctp], dst_port: [5060, 5061] }\n"
	"    class: voice\n"
	"    set: { priority: \"1:10\", dscp: ef }\n"
	"  - name: web\n"
	"    match: { proto: tcp, dst_port: [80, 443], tcp_flags: [ack] }\n"
	"    set: { mark: 0x20 }\n"
	"  - name: syn\n"
	"    match: { tcp_flags: [syn, \"!ack\"] }\n"
	"  - name: vlan\n"
	"    match: { vlan: [0, 100, 4000-4095] }\n"
	"    set: { dscp: af41, mark: 7 }\n"
	"  - name: arp\n"
	"    match: { l3: arp }\n"
	"  - name: icmp\n"
	"    match: { proto: [icmp, icmpv6] }\n"
	"    redirect: lo\n"
	"  - name: nets\n"
	"    match: { src: [10.0.0.0/8, \"2001:db8::/32\"], dst: [192.0.2.0/24, \"2001:db8:1::/48\", 10.1.0.0/16] }\n"
	"    set: { dscp: 0 }\n"
	"  - name: big\n"
	"    match: { length: 1000-65575, direction: ingress }\n"
	"    action: drop\n"
	"  - name: dscp\n"
	"    match: { dscp: [ef, cs1, 63] }\n"
	"    set: { dscp: cs6 }\n"
	"  - name: low-ports\n"
	"    match: { src_port: 0-1023, iface: lo }\n"
	"  - name: other-protos\n"
	"    match: { proto: [gre, esp, ah, 0, 255] }\n"
	"  - name: ethertypes\n"
	"    match: { l3: [0x88cc, 0x8906, 1, 4] }\n"
	"default:\n"
	"  class: other\n";

struct run {
	int err;
	uint32_t retval;
	struct __sk_buff ctx;
	struct pc_trace tr;
	uint8_t out[PK_FRAME_MAX + 64];
	uint32_t out_len;
};

struct pk_ctx {
	struct pc_dp *dp;
	struct pc_gen *g;
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	struct pc_tree *t;
	uint32_t att[PC_HOOK_MAX];
	uint32_t ifbits;
	int ncpus;
	struct pc_trace *tr;  /* ncpus entries: read buffer */
	struct pk_stats st;
	struct run run;
	char *why;            /* the description being written */
	size_t whylen, whyoff;
};

/* ---- setup ------------------------------------------------------------- */
static int compile_rules(struct pk_ctx *c)
{
	struct pc_diags d;
	int r;

	pc_diags_init(&d, "pktcheck.yaml");
	r = pc_config_parse("pktcheck.yaml", rules_yaml, sizeof(rules_yaml) - 1, &c->cfg, &d);
	r = r ?: pc_compile(c->cfg, &c->rs, &d);
	if (r < 0)
		pc_diags_print(&d, stderr);
	pc_diags_clear(&d);
	return r ?: pc_tree_build(c->rs, &c->t);
}

static int load_generation(struct pk_ctx *c)
{
	struct pc_iface ifc;
	int r;

	pc_dp_set_trace(c->dp, true);
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		r = pc_dp_attach_slot_get(c->dp, "lo", IFINDEX, h, pc_dp_entry_id(c->dp, h), 0);
		if (r < 0)
			return r;
		c->att[h] = (uint32_t)r;
	}
	r = pc_dp_gen_prepare(c->dp, c->rs, c->t, 1, &c->g);
	if (r < 0)
		return r;
	c->ifbits = pc_ifbits(c->rs, "lo");
	ifc = (struct pc_iface){ .attach = { c->att[0], c->att[1], c->att[2] }, .ifbits = c->ifbits };
	return pc_dp_gen_set_iface(c->g, IFINDEX, &ifc);
}

int pk_open(struct pk_ctx **ret)
{
	char pin[128];
	struct pc_dp_opts o = { .pin_path = pin, .slot_cap = 256 };
	struct pk_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-pktcheck-%d", (int)getpid());
	c->ncpus = libbpf_num_possible_cpus();
	c->tr = c->ncpus > 0 ? calloc(c->ncpus, sizeof(*c->tr)) : NULL;
	r = c->tr ? compile_rules(c) : -ENOMEM;
	if (r >= 0)
		r = pc_dp_open(&o, &c->dp);
	if (r >= 0) {
		r = load_generation(c);
		pc_dp_unpin(c->dp); /* the fds keep everything alive */
	}
	if (r < 0) {
		pk_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

void pk_close(struct pk_ctx *c)
{
	if (!c)
		return;
	pc_dp_gen_free(c->g);
	pc_dp_close(c->dp, false);
	pc_tree_free(c->t);
	pc_ruleset_free(c->rs);
	pc_config_free(c->cfg);
	free(c->tr);
	free(c);
}

const struct pk_stats *pk_stats(const struct pk_ctx *c)
{
	return &c->st;
}

/* ---- running ------------------------------------------------------------ */
static int trace_reset(struct pk_ctx *c)
{
	uint32_t zero = 0;

	memset(c->tr, 0, c->ncpus * sizeof(*c->tr));
	return bpf_map_update_elem(pc_dp_gen_trace_fd(c->g), &zero, c->tr, BPF_ANY) < 0 ? -errno : 0;
}

/* The entry of the CPU that ran; -EPROTO unless exactly one run. */
static int trace_get(struct pk_ctx *c, struct pc_trace *ret)
{
	uint32_t zero = 0, runs = 0;

	if (bpf_map_lookup_elem(pc_dp_gen_trace_fd(c->g), &zero, c->tr) < 0)
		return -errno;
	for (int i = 0; i < c->ncpus; i++)
		if (c->tr[i].runs) {
			runs += c->tr[i].runs;
			*ret = c->tr[i];
		}
	return runs == 1 ? 0 : -EPROTO;
}

static int run(struct pk_ctx *c, int hook, const uint8_t *f, uint32_t len)
{
	struct run *r = &c->run;
	struct __sk_buff in = { .ifindex = IFINDEX, .cb[PC_CB_HOOK] = (__u32)hook };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .ctx_in = &in, .ctx_size_in = sizeof(in),
		    .ctx_out = &r->ctx, .ctx_size_out = sizeof(r->ctx), .repeat = 1);
	int e;

	e = trace_reset(c);
	if (e < 0)
		return e;
	memset(&r->ctx, 0, sizeof(r->ctx));
	r->err = bpf_prog_test_run_opts(pc_dp_gen_prog_fd(c->g, hook), &o) < 0 ? -errno : 0;
	r->retval = o.retval;
	r->out_len = o.data_size_out;
	if (r->err)
		return 0;
	memset(&r->tr, 0, sizeof(r->tr));
	return trace_get(c, &r->tr);
}

/* ---- expectations ------------------------------------------------------- */
static void say(struct pk_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct pk_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->whyoff + 1 >= c->whylen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->why + c->whyoff, c->whylen - c->whyoff, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->whyoff += (size_t)n < c->whylen - c->whyoff ? (size_t)n : c->whylen - c->whyoff - 1;
}

/* What the BPF program must trace for data (from where the program's data
 * starts) with in. */
static void expect(struct pk_ctx *c, const uint8_t *data, uint32_t len, const struct pc_parse_in *in,
		   int hook, struct pc_trace *e)
{
	struct pc_buf b = { data, len };
	int st;

	memset(e, 0, sizeof(*e));
	st = pc_parse(&b, in, &e->key, &e->l3_off);
	e->runs = 1;
	e->status = (uint32_t)st;
	e->attach = c->att[hook];
	e->rule = PC_TRACE_NO_RULE;
	if (st == PC_PARSE_MALFORMED)
		return;
	e->key.w[PC_W_DIR] = hook == PC_HOOK_EGRESS ? PC_DIR_EGRESS : PC_DIR_INGRESS;
	e->key.w[PC_W_IFBITS] = c->ifbits;
	e->rule = pc_ref_classify(c->rs, &e->key);
	if (pc_tree_classify(c->t, c->rs->boxes, &e->key) != e->rule)
		say(c, "tree walk in C: rule %u, reference %u; ",
		    pc_tree_classify(c->t, c->rs->boxes, &e->key), e->rule);
}

static void compare_trace(struct pk_ctx *c, const char *prog, const struct pc_trace *e)
{
	const struct pc_trace *t = &c->run.tr;

	if (t->status != e->status)
		say(c, "%s: status %u, userspace %u; ", prog, t->status, e->status);
	if (t->rule != e->rule)
		say(c, "%s: rule %u, reference %u; ", prog, t->rule, e->rule);
	if (t->attach != e->attach)
		say(c, "%s: attach slot %u, expected %u; ", prog, t->attach, e->attach);
	if (t->l3_off != e->l3_off)
		say(c, "%s: l3 offset %u, userspace %u; ", prog, t->l3_off, e->l3_off);
	for (int w = 0; w < PC_KEY_WORDS; w++)
		if (t->key.w[w] != e->key.w[w])
			say(c, "%s: key word %d %#x, userspace %#x; ", prog, w, t->key.w[w], e->key.w[w]);
}

/* The frame after a DSCP rewrite: the DSCP bits set, ECN kept, the IPv4
 * checksum valid if it was, nothing else touched. */
static void compare_dscp(struct pk_ctx *c, const uint8_t *f, uint32_t len, const struct pc_trace *e,
			 uint8_t dscp)
{
	const uint8_t *a = c->run.out;
	uint32_t l3 = e->l3_off, l3p = e->key.w[PC_W_L3];
	uint8_t want[2];

	if (c->run.out_len != len) {
		say(c, "tc: frame length %u after the run, was %u; ", c->run.out_len, len);
		return;
	}
	if (l3p == PC_ETH_P_IP) {
		uint32_t ihl = (f[l3] & 0xfu) * 4;

		want[0] = f[l3];
		want[1] = (uint8_t)(dscp << 2) | (f[l3 + 1] & 3);
		if (pc_inet_csum(f + l3, ihl) == 0 && pc_inet_csum(a + l3, ihl) != 0)
			say(c, "tc: IPv4 header checksum broken by the DSCP rewrite; ");
	} else if (l3p == PC_ETH_P_IPV6) {
		want[0] = (f[l3] & 0xf0) | (dscp >> 2);
		want[1] = (uint8_t)((dscp & 3) << 6) | (f[l3 + 1] & 0x3f);
	} else {
		if (memcmp(a, f, len))
			say(c, "tc: a DSCP rewrite changed a frame that is not IP; ");
		return;
	}
	if (a[l3] != want[0] || a[l3 + 1] != want[1])
		say(c, "tc: DSCP bytes %02x%02x after the rewrite to %u, expected %02x%02x; ", a[l3],
		    a[l3 + 1], dscp, want[0], want[1]);
	for (uint32_t i = 0; i < len; i++)
		if (a[i] != f[i] && i != l3 && i != l3 + 1 &&
		    !(l3p == PC_ETH_P_IP && (i == l3 + 10 || i == l3 + 11))) {
			say(c, "tc: byte %u changed by the DSCP rewrite; ", i);
			break;
		}
}

static void compare_tc_effects(struct pk_ctx *c, const uint8_t *f, uint32_t len, const struct pc_trace *e)
{
	const struct pc_rule_out *o = &pc_dp_gen_outs(c->g)[e->rule];
	uint32_t want = (uint32_t)TC_ACT_UNSPEC;

	if (e->status == PC_PARSE_MALFORMED) {
		if (c->run.retval != want || c->run.out_len != len || memcmp(c->run.out, f, len))
			say(c, "tc: a malformed frame was not left alone; ");
		return;
	}
	if (o->action == PC_ACT_DROP)
		want = TC_ACT_SHOT;
	else if (o->action == PC_ACT_REDIRECT)
		want = TC_ACT_REDIRECT;
	if (c->run.retval != want)
		say(c, "tc: return value %d, expected %d; ", (int)c->run.retval, (int)want);
	if (c->run.ctx.mark != (o->flags & PC_F_MARK ? o->mark : 0) ||
	    c->run.ctx.priority != (o->flags & PC_F_PRIO ? o->priority : 0))
		say(c, "tc: mark %#x priority %#x; ", c->run.ctx.mark, c->run.ctx.priority);
	if (o->flags & PC_F_DSCP)
		compare_dscp(c, f, len, e, o->dscp);
	else if (c->run.out_len != len || memcmp(c->run.out, f, len))
		say(c, "tc: frame changed without a DSCP rewrite; ");
}

/* skb->protocol as eth_type_trans() sets it. */
static uint32_t eth_proto(const uint8_t *f, uint32_t len)
{
	uint32_t t = pc_be16(f + 12);

	if (t >= 0x600)
		return t;
	return len >= 16 && f[14] == 0xff && f[15] == 0xff ? 0x0001 : 0x0004;
}

/* BPF_PROG_TEST_RUN refuses a frame whose ethertype announces an IP header
 * that is not all there. */
static bool must_refuse(const uint8_t *f, uint32_t len)
{
	uint32_t p = eth_proto(f, len);

	return (p == PC_ETH_P_IP && len < 14 + 20) || (p == PC_ETH_P_IPV6 && len < 14 + 40);
}

/* One program: 1 ran, 0 refused as it must be, <0 error. */
static int run_one(struct pk_ctx *c, int hook, const uint8_t *f, uint32_t len)
{
	const char *prog = hook == PC_HOOK_MONITOR ? "sock" : "tc";
	int r = run(c, hook, f, len);

	if (r == -EPROTO) {
		say(c, "%s: the classifier did not trace exactly one run; ", prog);
		return -EPROTO;
	}
	if (r < 0)
		return r;
	if (c->run.err == -EINVAL && must_refuse(f, len))
		return 0;
	if (c->run.err) {
		say(c, "%s: test run: %s; ", prog, strerror(-c->run.err));
		return -EPROTO;
	}
	if (must_refuse(f, len))
		say(c, "%s: the kernel ran a frame with a cut IP header; ", prog);
	return 1;
}

int pk_check(struct pk_ctx *c, const uint8_t *frame, size_t size, char *why, size_t whylen)
{
	uint32_t len = size > PK_FRAME_MAX ? PK_FRAME_MAX : (uint32_t)size;
	struct pc_parse_in in = { .len = len, .l2 = 1 };
	struct pc_trace e;
	int r;

	c->why = why;
	c->whylen = whylen;
	c->whyoff = 0;
	if (whylen)
		why[0] = 0;
	if (len < 14)
		return 0; /* not a frame: the kernel refuses it (bpf_test_init) */
	r = run_one(c, PC_HOOK_INGRESS, frame, len);
	if (r <= 0) {
		c->st.refused += r == 0;
		return r;
	}
	c->st.runs++;
	expect(c, frame, len, &in, PC_HOOK_INGRESS, &e);
	c->st.status[e.status]++;
	c->st.rules += e.rule < c->rs->nrules;
	compare_trace(c, "tc", &e);
	compare_tc_effects(c, frame, len, &e);
	/* again: now the answer may come from the flow cache, and must not differ */
	r = run_one(c, PC_HOOK_INGRESS, frame, len);
	if (r <= 0) {
		say(c, "tc: the second run failed; ");
		return r < 0 ? r : -EPROTO;
	}
	c->st.fc_hits += !!(c->run.tr.flags & PC_TRACE_FC_HIT);
	compare_trace(c, "tc again", &e);
	compare_tc_effects(c, frame, len, &e);

	/* a socket filter sees the data from L3, the ethertype in skb->protocol */
	r = run_one(c, PC_HOOK_MONITOR, frame, len);
	if (r < 0)
		return r;
	if (r == 0) {
		say(c, "sock: refused a frame that tc ran; ");
		return -EPROTO;
	}
	in = (struct pc_parse_in){ .len = len - 14, .proto = eth_proto(frame, len) };
	expect(c, frame + 14, len - 14, &in, PC_HOOK_MONITOR, &e);
	compare_trace(c, "sock", &e);
	if (c->run.retval != 0)
		say(c, "sock: return value %u; ", c->run.retval);
	return c->whyoff ? -EPROTO : 0;
}
