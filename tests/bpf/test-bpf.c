/* SPDX-License-Identifier: GPL-2.0-only */
/* test-bpf.c - the BPF datapath through BPF_PROG_TEST_RUN.
 *
 * Runs as root in a private network namespace with a private pin path.
 * Crafted packets go through pc_tc_ingress, pc_tc_egress and pc_sock (and
 * the entry programs); the classifier is loaded with pc_trace_on, so the
 * "trace" map tells which key and rule it derived.  Those must equal the key
 * computed from the packet's description (daemon/lib/pktgen.c) and the rule
 * of the reference first-match classifier; return codes, skb mark/priority,
 * rewritten bytes and counters are checked too.
 *
 * Socket filters through BPF_PROG_TEST_RUN: the kernel treats data_in as an
 * Ethernet frame for every program type (eth_type_trans() sets
 * skb->protocol from it and pulls the 14 bytes); for a SOCKET_FILTER the
 * header is not pushed back, so the program sees data from the L3 header
 * with the ethertype in skb->protocol, as on an AF_PACKET SOCK_DGRAM socket.
 * __sk_buff->protocol cannot be set through ctx_in.
 *
 * Without root or bpf(): exit 77 (skip), or failure when CI=true. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "parse.h"
#include "datapath/datapath.h"
#include "datapath/internal.h" /* cntzero_fallback(): the live set's ops_err */
#include "datapath/stats.h"
#include "lib/util.h"
#include "cntops.skel.h"
#include "lib/inet.h"
#include "lib/pktgen.h"
#include "../lib/bpfrun.h"
#include "../lib/testrules.h"
#include "../lib/privtest.h"

static struct pc_dp *dp;
static char pin[128];
static int ncpus;
static uint32_t att[PC_HOOK_MAX];


#define IFINDEX 1 /* lo of the private netns: what BPF_PROG_TEST_RUN uses */
#define IFBITS (PC_IFBITS_ALWAYS | 0x1u)

static void cleanup(void)
{
	if (dp) {
		pc_dp_close(dp, false);
		dp = NULL;
	}
	if (pin[0]) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s-2'", pin, pin);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", pin);
	}
}

/* ---- the hand-written rule set ------------------------------------------- */
enum {
	R_V6_SSH, R_SIP, R_WEB, R_VLAN, R_SYN, R_ARP, R_ICMP, R_EG_BIG, R_AF41, R_NET, R_SCTP,
	R_TCP, R_NRULES
};

/* n rules r<i> (source port i + 1, protocol 250), each in a class c<i> of
 * its own; they never match the test packets. */
static void more_rules(struct tr_set *s, int n)
{
	for (int i = 0; i < n; i++) {
		char name[16], class_name[16];

		snprintf(name, sizeof(name), "r%d", i);
		snprintf(class_name, sizeof(class_name), "c%d", i);
		tr_rule(s, name, class_name);
		tr_box(s);
		tr_check(s, PC_W_PROTO, PC_OP_RANGE, 250, 250);
		tr_check(s, PC_W_SPORT, PC_OP_RANGE, 1 + (uint32_t)i, 1 + (uint32_t)i);
	}
}

static void rule_set_build_n(struct tr_set *s, bool with_sip, const char *extra, int nmore);

static void rule_set_build(struct tr_set *s, bool with_sip, const char *extra)
{
	rule_set_build_n(s, with_sip, extra, 0);
}

/* The hand rules (then nmore of more_rules()). */
static void rule_set_build_n(struct tr_set *s, bool with_sip, const char *extra, int nmore)
{
	struct pc_rule_out *o;

	tr_init(s);
	tr_rule(s, "v6-ssh", "blocked");
	tr_box(s);
	tr_check(s, PC_W_L3, PC_OP_RANGE, 0x86dd, 0x86dd);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 6, 6);
	tr_check(s, PC_W_DPORT, PC_OP_RANGE, 22, 22);
	tr_rule(s, with_sip ? "sip" : "sip-renamed", "voice");
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 17, 17);
	tr_check(s, PC_W_DPORT, PC_OP_RANGE, 5060, 5061);
	tr_rule(s, "web", "web");
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 6, 6);
	tr_check(s, PC_W_DPORT, PC_OP_RANGE, 80, 80);
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 6, 6);
	tr_check(s, PC_W_DPORT, PC_OP_RANGE, 443, 443);
	tr_rule(s, "vlan100", "vlan");
	tr_box(s);
	tr_check(s, PC_W_VLAN, PC_OP_RANGE, 100, 100);
	tr_rule(s, "syn-only", NULL);
	tr_box(s);
	tr_check(s, PC_W_TCPFLAGS, PC_OP_MASK, PC_TCP_SYN | PC_TCP_ACK, PC_TCP_SYN);
	tr_rule(s, "arp", NULL);
	tr_box(s);
	tr_check(s, PC_W_L3, PC_OP_RANGE, 0x0806, 0x0806);
	tr_rule(s, "icmp", NULL);
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 1, 1);
	tr_rule(s, "egress-big", "blocked");
	tr_box(s);
	tr_check(s, PC_W_DIR, PC_OP_RANGE, PC_DIR_EGRESS, PC_DIR_EGRESS);
	tr_check(s, PC_W_LEN, PC_OP_RANGE, 1000, 65535);
	tr_rule(s, "af41", NULL);
	tr_box(s);
	tr_check(s, PC_W_DSCP, PC_OP_RANGE, 34, 34);
	tr_rule(s, "net", NULL);
	tr_box(s);
	tr_check(s, PC_W_IFBITS, PC_OP_ANY, 0x1, 0);
	tr_check(s, PC_W_SRC0, PC_OP_MASK, 0xffff0000, 0x0a010000);
	tr_rule(s, "sctp", NULL);
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 132, 132);
	tr_check(s, PC_W_SPORT, PC_OP_RANGE, 1000, 2000);
	tr_rule(s, "tcp", NULL);
	tr_box(s);
	tr_check(s, PC_W_PROTO, PC_OP_RANGE, 6, 6);
	if (extra) {
		tr_rule(s, extra, NULL);
		tr_box(s);
		tr_check(s, PC_W_PROTO, PC_OP_RANGE, 250, 250);
	}
	more_rules(s, nmore);
	tr_finish(s);

	o = s->rs.outs;
	o[R_V6_SSH].action = PC_ACT_DROP;
	o[R_SIP].flags = PC_F_PRIO | PC_F_DSCP;
	o[R_SIP].priority = 0x10010;
	o[R_SIP].dscp = 46;
	o[R_WEB].flags = PC_F_MARK;
	o[R_WEB].mark = 0x20;
	o[R_VLAN].flags = PC_F_MARK;
	o[R_VLAN].mark = 100;
	o[R_ICMP].action = PC_ACT_REDIRECT;
	snprintf(s->rs.redirect[R_ICMP], sizeof(s->rs.redirect[R_ICMP]), "lo"); /* IFINDEX */
	o[R_EG_BIG].action = PC_ACT_DROP;
	o[R_AF41].flags = PC_F_DSCP;
	o[R_AF41].dscp = 10;
}

/* ---- crafted packets --------------------------------------------------------- */
struct tcase {
	const char *name;
	struct pg_pkt p;
	int rule[PC_HOOK_MAX]; /* expected rule per hook, -1: the reference decides */
};

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define ANY { -1, -1, -1 }

static size_t make_cases(struct tcase *c)
{
	size_t n = 0;
	struct pg_pkt p;

	c[n++] = (struct tcase){ "udp sip", pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 17, 4000, 5060),
				 { R_SIP, R_SIP, R_SIP } };
	p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 17, 4000, 5061);
	p.ecn = 1;
	p.ip_opts = 8;
	c[n++] = (struct tcase){ "udp sip, ip options, ecn", p, { R_SIP, R_SIP, R_SIP } };
	c[n++] = (struct tcase){ "tcp web syn", pg_ipv4(IP4(198, 51, 100, 1), IP4(203, 0, 113, 5), 6, 40000, 443),
				 { R_WEB, R_WEB, R_WEB } };
	p = pg_ipv4(IP4(198, 51, 100, 1), IP4(203, 0, 113, 5), 6, 40000, 8080);
	p.tcp_flags = PC_TCP_SYN | PC_TCP_ACK;
	c[n++] = (struct tcase){ "tcp synack other port", p, { R_TCP, R_TCP, R_TCP } };
	p.tcp_flags = PC_TCP_SYN;
	c[n++] = (struct tcase){ "tcp syn other port", p, { R_SYN, R_SYN, R_SYN } };
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 9, 9, 9), 17, 53, 53);
	c[n++] = (struct tcase){ "iface bits + src prefix", p, { R_NET, R_NET, R_NET } };
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 9, 9, 9), 17, 53, 53);
	p.ntags = 1;
	p.vid[0] = 100;
	c[n++] = (struct tcase){ "vlan 100", p, { R_VLAN, R_VLAN, R_VLAN } };
	p.ntags = 2;
	p.tpid[0] = 0x88a8;
	p.vid[0] = 100;
	p.vid[1] = 7;
	p.dport = 5060;
	c[n++] = (struct tcase){ "qinq outer 100 sip", p, { R_SIP, R_SIP, R_SIP } };
	p.vid[0] = 7;
	p.vid[1] = 100;
	p.dport = 53;
	c[n++] = (struct tcase){ "qinq inner 100", p, { R_NET, R_NET, R_NET } };
	p.ntags = 3;
	c[n++] = (struct tcase){ "three tags", p, ANY };
	p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 1, 0, 0);
	c[n++] = (struct tcase){ "icmp", p, { R_ICMP, R_ICMP, R_ICMP } };
	p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 17, 1, 5060);
	p.frag_off = 100;
	c[n++] = (struct tcase){ "ipv4 non-first fragment", p, { R_NRULES, R_NRULES, R_NRULES } };
	p.frag_off = 0;
	p.more_frags = true;
	c[n++] = (struct tcase){ "ipv4 first fragment", p, { R_SIP, R_SIP, R_SIP } };
	p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 6, 1, 80);
	p.l4_len = 12;
	p.payload = 0;
	c[n++] = (struct tcase){ "tcp header cut (L4_UNKNOWN)", p, { R_TCP, R_TCP, R_TCP } };
	p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 132, 1500, 9);
	c[n++] = (struct tcase){ "sctp", p, { R_SCTP, R_SCTP, R_SCTP } };
	p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 136, 1, 5060);
	c[n++] = (struct tcase){ "udplite", p, { R_NRULES, R_NRULES, R_NRULES } };
	p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 47, 0, 0);
	c[n++] = (struct tcase){ "gre", p, { R_NRULES, R_NRULES, R_NRULES } };
	p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 17, 1, 9);
	p.payload = 1100;
	c[n++] = (struct tcase){ "big udp", p, { R_NRULES, R_EG_BIG, R_NRULES } };
	p.payload = 16;
	p.dscp = 34;
	c[n++] = (struct tcase){ "dscp af41", p, { R_AF41, R_AF41, R_AF41 } };
	p = (struct pg_pkt){ .ethertype = 0x0806 };
	c[n++] = (struct tcase){ "arp", p, { R_ARP, R_ARP, R_ARP } };
	p = (struct pg_pkt){ .ethertype = 0x88cc };
	c[n++] = (struct tcase){ "lldp", p, { R_NRULES, R_NRULES, R_NRULES } };

	c[n++] = (struct tcase){ "ipv6 ssh", pg_ipv6("2001:db8::1", "2001:db8::2", 6, 5555, 22),
				 { R_V6_SSH, R_V6_SSH, R_V6_SSH } };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 17, 5555, 5060);
	p.dscp = 12;
	p.ecn = 2;
	c[n++] = (struct tcase){ "ipv6 sip", p, { R_SIP, R_SIP, R_SIP } };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 6, 5555, 22);
	p.n_ext = 4;
	p.ext[0] = 0;
	p.ext[1] = 60;
	p.ext[2] = 43;
	p.ext[3] = 44;
	c[n++] = (struct tcase){ "ipv6 ext hbh/dst/rt/frag ssh", p, { R_V6_SSH, R_V6_SSH, R_V6_SSH } };
	p.frag_off = 3;
	c[n++] = (struct tcase){ "ipv6 non-first fragment", p, { R_TCP, R_TCP, R_TCP } };
	p.frag_off = 0;
	p.n_ext = PC_IPV6_EXT_MAX;
	for (int i = 0; i < PC_IPV6_EXT_MAX; i++)
		p.ext[i] = 60;
	c[n++] = (struct tcase){ "ipv6 ext at the depth limit", p, { R_V6_SSH, R_V6_SSH, R_V6_SSH } };
	p.n_ext = PC_IPV6_EXT_MAX + 1;
	p.ext[PC_IPV6_EXT_MAX] = 60;
	c[n++] = (struct tcase){ "ipv6 ext beyond the depth (L4_UNKNOWN)", p,
				 { R_NRULES, R_NRULES, R_NRULES } };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 58, 0, 0);
	c[n++] = (struct tcase){ "icmpv6", p, { R_NRULES, R_NRULES, R_NRULES } };

	/* malformed: L3 broken or cut */
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 9, 9, 9), 17, 53, 5060);
	p.bad_version = true;
	c[n++] = (struct tcase){ "ipv4 bad version", p, ANY };
	p.bad_version = false;
	p.bad_ihl = true;
	c[n++] = (struct tcase){ "ipv4 ihl < 5", p, ANY };
	p.bad_ihl = false;
	p.totlen_delta = 200;
	c[n++] = (struct tcase){ "ipv4 total length beyond frame", p, ANY };
	p.totlen_delta = 0;
	p.frame_cut = 14 + 10;
	c[n++] = (struct tcase){ "ipv4 header cut", p, ANY };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 17, 5555, 5060);
	p.frame_cut = 14 + 30;
	c[n++] = (struct tcase){ "ipv6 header cut", p, ANY };
	p.frame_cut = 0;
	p.totlen_delta = 100;
	c[n++] = (struct tcase){ "ipv6 payload length beyond frame", p, ANY };
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 9, 9, 9), 17, 53, 5060);
	p.ntags = 1;
	p.vid[0] = 100;
	p.frame_cut = 18 + 12;
	c[n++] = (struct tcase){ "vlan + ipv4 header cut", p, ANY };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 17, 5555, 5060);
	p.ntags = 2;
	p.vid[0] = 100;
	p.frame_cut = 22 + 39;
	c[n++] = (struct tcase){ "qinq + ipv6 header cut", p, ANY };
	p.frame_cut = 0;
	p.ntags = 1;
	p.totlen_delta = 1;
	c[n++] = (struct tcase){ "vlan + ipv6 payload length beyond frame", p, ANY };
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 9, 9, 9), 17, 53, 5060);
	p.ntags = 1;
	p.vid[0] = 100;
	p.ethertype = 0x8100;
	p.frame_cut = 16;
	c[n++] = (struct tcase){ "vlan tag cut", p, ANY };
	return n;
}

/* ---- helpers ------------------------------------------------------------------- */
static void test_run(int prog_fd, uint32_t cb, const uint8_t *data, uint32_t len, struct bt_run *r)
{
	bt_run(prog_fd, cb, IFINDEX, data, len, r);
}

static struct pc_gen *gen_load_rs(struct pc_ruleset *rs, const struct pc_tree *t, uint32_t generation,
				  uint32_t ifbits)
{
	struct pc_iface ifc = { .attach = { att[0], att[1], att[2] }, .ifbits = ifbits };
	struct pc_gen *g = NULL;
	int r;

	r = pc_dp_gen_prepare(dp, rs, t, generation, &g);
	CHECK(r == 0, "prepare generation %u: %s\n...%s", generation, strerror(-r),
	      strlen(pc_dp_verifier_log(dp)) > 3000 ? pc_dp_verifier_log(dp) + strlen(pc_dp_verifier_log(dp)) - 3000
						    : pc_dp_verifier_log(dp));
	if (r < 0)
		return NULL;
	r = pc_dp_gen_set_iface(g, IFINDEX, &ifc);
	CHECK(r == 0, "set iface: %s", strerror(-r));
	return g;
}

static struct pc_gen *gen_load(struct tr_set *s, uint32_t generation)
{
	return gen_load_rs(&s->rs, &s->t, generation, IFBITS);
}

static const char *hook_name(int h)
{
	return h == PC_HOOK_INGRESS ? "ingress" : h == PC_HOOK_EGRESS ? "egress" : "monitor";
}

static uint32_t expected_retval(const struct pc_rule_out *o, int hook, int status)
{
	if (hook == PC_HOOK_MONITOR)
		return 0;
	if (status == PC_PARSE_MALFORMED)
		return (uint32_t)TC_ACT_UNSPEC;
	if (o->action == PC_ACT_DROP)
		return TC_ACT_SHOT;
	if (o->action == PC_ACT_REDIRECT)
		return TC_ACT_REDIRECT;
	return (uint32_t)TC_ACT_UNSPEC;
}

/* ---- userspace parser ------------------------------------------------------------ */
static void test_parser_userspace(const struct tcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[PG_FRAME_MAX];
		int len = pg_build(&c[i].p, buf, sizeof(buf));
		struct pc_parse_in in = { .len = len, .l2 = 1 };
		struct pc_buf b = { buf, len };
		struct pc_key k, e;
		uint32_t off, eoff;
		int st, est;

		st = pc_parse(&b, &in, &k, &off);
		est = pg_expect(&c[i].p, &e, &eoff);
		CHECK(st == est, "%s: userspace parse status %d, expected %d", c[i].name, st, est);
		if (st != PC_PARSE_MALFORMED && st == est) {
			CHECK(!memcmp(&k, &e, sizeof(k)), "%s: userspace key differs", c[i].name);
			CHECK(off == eoff, "%s: l3 offset %u, expected %u", c[i].name, off, eoff);
		}
		/* the same packet from L3 on, as a socket filter sees it */
		if (len >= 14) {
			struct pc_buf b3 = { buf + 14, len - 14 };
			struct pc_parse_in in3 = { .len = len - 14, .proto = pc_be16(buf + 12) };

			st = pc_parse(&b3, &in3, &k, &off);
			CHECK(st == est, "%s: userspace L3 parse status %d, expected %d", c[i].name, st, est);
			if (st != PC_PARSE_MALFORMED && st == est)
				CHECK(!memcmp(&k, &e, sizeof(k)), "%s: userspace L3 key differs", c[i].name);
		}
	}
	/* shorter than an Ethernet header */
	{
		uint8_t buf[10] = {};
		struct pc_buf b = { buf, sizeof(buf) };
		struct pc_parse_in in = { .len = sizeof(buf), .l2 = 1 };
		struct pc_key k;
		uint32_t off;

		CHECK(pc_parse(&b, &in, &k, &off) == PC_PARSE_MALFORMED, "runt frame not malformed");
	}
	/* outer tag from skb metadata (TC ingress): it is the outer VLAN */
	{
		struct pg_pkt p = pg_ipv4(IP4(1, 2, 3, 4), IP4(5, 6, 7, 8), 17, 1, 2);
		uint8_t buf[PG_FRAME_MAX];
		int len;
		struct pc_key k;
		uint32_t off;

		p.ntags = 1;
		p.vid[0] = 33;
		len = pg_build(&p, buf, sizeof(buf));
		struct pc_buf b = { buf, len };
		struct pc_parse_in in = { .len = len, .l2 = 1, .vlan_present = 1, .vlan_tci = 0x2000 | 44 };

		CHECK(pc_parse(&b, &in, &k, &off) == PC_PARSE_OK && k.w[PC_W_VLAN] == 44 &&
		      k.w[PC_W_L3] == 0x0800 && off == 18 && k.w[PC_W_DPORT] == 2,
		      "metadata vlan: vlan %u l3 %#x off %u", k.w[PC_W_VLAN], k.w[PC_W_L3], off);
	}
}

/* ---- crafted packets through the programs ------------------------------------- */
struct expect_cnt {
	uint64_t packets[PC_HOOK_MAX][64], bytes[PC_HOOK_MAX][64];
};

static void check_dscp(const struct tcase *c, const struct bt_run *r, uint32_t l3_off, uint8_t dscp)
{
	const uint8_t *h = r->out + l3_off;

	CHECK(r->out_len > l3_off + 20, "%s: no data_out", c->name);
	if (c->p.ethertype == 0x0800) {
		unsigned ihl = (h[0] & 0xf) * 4;

		CHECK(h[1] == (uint8_t)(dscp << 2 | c->p.ecn), "%s: tos %#x, expected %#x", c->name,
		      h[1], dscp << 2 | c->p.ecn);
		CHECK(pc_inet_csum(h, ihl) == 0, "%s: IPv4 header checksum invalid after DSCP rewrite",
		      c->name);
	} else {
		unsigned tc = (h[0] & 0xf) << 4 | h[1] >> 4;

		CHECK(tc == (unsigned)(dscp << 2 | c->p.ecn), "%s: traffic class %#x, expected %#x",
		      c->name, tc, dscp << 2 | c->p.ecn);
		CHECK((h[0] >> 4) == 6 && (h[1] & 0xf) == 0, "%s: IPv6 version/flow label damaged",
		      c->name);
	}
}

/* The trace flags of the run (PC_TRACE_FC_*), 0 when it did not classify. */
static uint32_t run_case(struct tr_set *s, struct pc_gen *g, const struct tcase *c, int hook,
		     struct expect_cnt *ec)
{
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&c->p, buf, sizeof(buf));
	struct pc_trace tr;
	struct pc_key e;
	uint32_t eoff, rule, total;
	struct bt_run r;
	int est;

	est = pg_expect(&c->p, &e, &eoff);
	e.w[PC_W_DIR] = hook == PC_HOOK_EGRESS ? PC_DIR_EGRESS : PC_DIR_INGRESS;
	e.w[PC_W_IFBITS] = IFBITS;
	rule = est == PC_PARSE_MALFORMED ? PC_TRACE_NO_RULE : tr_ref(s, &e);
	if (c->rule[hook] >= 0)
		CHECK(rule == (uint32_t)c->rule[hook], "%s/%s: reference says rule %u, test expects %d",
		      c->name, hook_name(hook), rule, c->rule[hook]);

	test_run(pc_dp_gen_prog_fd(g, hook), hook, buf, len, &r);
	if (r.err == -EINVAL && c->p.frame_cut && !c->p.ntags) {
		/* BPF_PROG_TEST_RUN itself refuses an untagged frame whose IP
		 * header is cut (the kernel checks it before running the
		 * program); the VLAN-tagged variants reach the program. */
		CHECK(est == PC_PARSE_MALFORMED, "%s: refused by test_run but not malformed", c->name);
		return 0;
	}
	CHECK(r.err == 0, "%s/%s: test_run: %s", c->name, hook_name(hook), strerror(-r.err));
	if (r.err)
		return 0;
	CHECK(bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 && total == 1,
	      "%s/%s: trace not written once (%u)", c->name, hook_name(hook), total);
	CHECK(tr.status == (uint32_t)est, "%s/%s: status %u, expected %d", c->name, hook_name(hook),
	      tr.status, est);
	CHECK(tr.rule == rule, "%s/%s: rule %u, expected %u", c->name, hook_name(hook), tr.rule, rule);
	CHECK(tr.attach == att[hook], "%s/%s: attach slot %u", c->name, hook_name(hook), tr.attach);
	if (est != PC_PARSE_MALFORMED) {
		CHECK(!memcmp(&tr.key, &e, sizeof(e)), "%s/%s: key differs", c->name, hook_name(hook));
		for (int w = 0; w < PC_KEY_WORDS; w++)
			if (tr.key.w[w] != e.w[w])
				fprintf(stderr, "  word %d: got %#x expected %#x\n", w, tr.key.w[w], e.w[w]);
		CHECK(tr.l3_off == (hook == PC_HOOK_MONITOR ? eoff - 14 : eoff),
		      "%s/%s: l3 offset %u", c->name, hook_name(hook), tr.l3_off);
	}

	const struct pc_rule_out *o = &pc_dp_gen_outs(g)[rule < s->rs.nrules ? rule : s->rs.nrules];
	CHECK(r.retval == expected_retval(o, hook, est), "%s/%s: retval %d", c->name, hook_name(hook),
	      (int)r.retval);
	if (hook != PC_HOOK_MONITOR && est != PC_PARSE_MALFORMED) {
		CHECK(r.ctx.mark == (o->flags & PC_F_MARK ? o->mark : 0), "%s/%s: mark %#x", c->name,
		      hook_name(hook), r.ctx.mark);
		CHECK(r.ctx.priority == (o->flags & PC_F_PRIO ? o->priority : 0), "%s/%s: priority %#x",
		      c->name, hook_name(hook), r.ctx.priority);
		if (o->flags & PC_F_DSCP)
			check_dscp(c, &r, eoff, o->dscp);
		else
			CHECK(r.out_len == (uint32_t)len && !memcmp(r.out, buf, len),
			      "%s/%s: packet changed", c->name, hook_name(hook));
	}
	if (est == PC_PARSE_MALFORMED) {
		ec->packets[hook][PC_SLOT_MALFORMED]++;
		ec->bytes[hook][PC_SLOT_MALFORMED] += len;
	} else {
		ec->packets[hook][o->slot]++;
		ec->bytes[hook][o->slot] += len;
		ec->packets[hook][o->class_slot]++;
		ec->bytes[hook][o->class_slot] += len;
		/* a monitor enforces nothing: its drops are "would drop" */
		if (hook == PC_HOOK_MONITOR && o->action == PC_ACT_DROP) {
			ec->packets[hook][PC_SLOT_WOULD_DROP]++;
			ec->bytes[hook][PC_SLOT_WOULD_DROP] += len;
		}
	}
	return est == PC_PARSE_MALFORMED ? 0 : tr.flags;
}

static void check_counters(const struct expect_cnt *ec, const char *when)
{
	for (int h = 0; h < PC_HOOK_MAX; h++)
		for (uint32_t s = 0; s < 64; s++) {
			struct pc_counter c;

			CHECK(bt_counter_read(dp, ncpus, att[h], s, &c) == 0, "%s: read counters", when);
			CHECK(c.packets == ec->packets[h][s] && c.bytes == ec->bytes[h][s],
			      "%s: %s slot %u: %llu packets %llu bytes, expected %llu %llu", when,
			      hook_name(h), s, (unsigned long long)c.packets, (unsigned long long)c.bytes,
			      (unsigned long long)ec->packets[h][s], (unsigned long long)ec->bytes[h][s]);
		}
}

static void print_prog_stats(const char *what, int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		CHECK(0, "prog info of %s: %s", what, strerror(errno));
		return;
	}
	printf("# %-16s id %u verified_insns %u xlated %u bytes jited %u bytes\n", what, info.id,
	       info.verified_insns, info.xlated_prog_len, info.jited_prog_len);
}

static struct expect_cnt ec;

static void test_crafted(struct tr_set *s, bool multi_level)
{
	struct tcase c[64];
	size_t n = make_cases(c);
	struct pc_gen *g;
	uint32_t total;
	struct pc_trace tr;
	struct bt_run r;
	uint8_t buf[PG_FRAME_MAX];
	int len;

	if (multi_level)
		CHECK(tr_build(s, 2) == 0, "tree build");
	else
		CHECK(tr_build_one_leaf(s) == 0, "one-leaf tree");
	printf("# hand rule set: %u rules, %zu boxes, %u trees, %zu nodes, depth %u, leaf %u\n",
	       s->rs.nrules, s->rs.nboxes, s->t.cfg.ntrees, s->t.nnodes, s->t.cfg.max_depth,
	       s->t.cfg.max_leaf);
	g = gen_load(s, multi_level ? 2 : 1);
	if (!g)
		return;
	print_prog_stats("pc_tc_ingress", pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS));
	print_prog_stats("pc_tc_egress", pc_dp_gen_prog_fd(g, PC_HOOK_EGRESS));
	print_prog_stats("pc_sock", pc_dp_gen_prog_fd(g, PC_HOOK_MONITOR));

	/* the entry programs pass through while the jump table is empty */
	len = pg_build(&c[0].p, buf, sizeof(buf));
	if (!multi_level) {
		for (int h = 0; h < PC_HOOK_MAX; h++) {
			test_run(pc_dp_entry_fd(dp, h), !h, buf, len, &r);
			CHECK(r.err == 0 && r.retval == (h == PC_HOOK_MONITOR ? 0 : (uint32_t)TC_ACT_UNSPEC),
			      "entry %s before commit: err %d retval %d", hook_name(h), r.err, (int)r.retval);
		}
		CHECK(bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 && total == 0,
		      "classifier ran before commit");
	}
	CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit");
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		test_run(pc_dp_entry_fd(dp, h), !h, buf, len, &r);
		CHECK(r.err == 0 && bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 && total == 1 &&
		      tr.rule == R_SIP, "entry %s after commit: tail call not taken", hook_name(h));
		ec.packets[h][pc_dp_gen_outs(g)[R_SIP].slot]++;
		ec.packets[h][pc_dp_gen_outs(g)[R_SIP].class_slot]++;
		ec.bytes[h][pc_dp_gen_outs(g)[R_SIP].slot] += len;
		ec.bytes[h][pc_dp_gen_outs(g)[R_SIP].class_slot] += len;
	}
	/* twice: the second pass gets its answers from the flow cache, and
	 * must get the same ones, counted the same */
	unsigned ins1 = 0;

	for (int pass = 0; pass < 2; pass++) {
		unsigned ins = 0, hits = 0, other = 0;

		for (size_t i = 0; i < n; i++)
			for (int h = 0; h < PC_HOOK_MAX; h++) {
				uint32_t f = run_case(s, g, &c[i], h, &ec);

				ins += !!(f & PC_TRACE_FC_INSERT);
				hits += !!(f & PC_TRACE_FC_HIT);
				other += f && !(f & (PC_TRACE_FC_INSERT | PC_TRACE_FC_HIT));
			}
		printf("# crafted%s, pass %d: %u flow cache hits, %u inserts\n",
		       multi_level ? " (tree)" : "", pass + 1, hits, ins);
		CHECK(other == 0, "trace flags other than the flow cache's");
		if (pass == 0) {
			CHECK(ins >= n, "pass 1: %u inserts for %zu cases", ins, n);
			ins1 = ins;
		} else
			CHECK(hits >= ins1, "pass 2: %u hits for the %u answers pass 1 cached", hits,
			      ins1);
	}
	check_counters(&ec, multi_level ? "crafted, tree" : "crafted, one leaf");
}

/* The flow cache's answers on the live generation: a hit of a rule whose
 * outcome lives in "outs" (a redirect) sees that outcome as it is now (its
 * target moved by pc_dp_gen_set_redirect), and a generation committed over a
 * hot one answers the very next packet from its own rules (through the
 * entry program, as attached hooks run). */
static void test_fc_live(struct tr_set *s)
{
	struct pc_gen *g = gen_load(s, 39), *g2;
	struct pg_pkt p = pg_ipv4(IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), 1, 0, 0);
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf)), fd;
	struct pc_redirect_target t;
	struct tr_set other;
	struct pc_trace tr;
	uint32_t total;
	struct bt_run r;

	if (!g || pc_dp_gen_commit(dp, g, "/test/config.yaml") < 0) {
		CHECK(0, "a live generation of the hand set");
		return;
	}
	fd = pc_dp_entry_fd(dp, PC_HOOK_INGRESS);
	CHECK(pc_dp_gen_redirect_count(g) == 1 && pc_dp_gen_redirect_get(g, 0, &t) == 0 &&
	      t.ifindex == IFINDEX, "one redirect target, lo");
	for (int i = 0; i < 2; i++)
		test_run(fd, PC_HOOK_INGRESS, buf, len, &r);
	CHECK(r.err == 0 && r.retval == TC_ACT_REDIRECT &&
	      bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 &&
	      tr.rule == R_ICMP && (tr.flags & PC_TRACE_FC_HIT), "icmp: a redirect from the cache");
	CHECK(pc_dp_gen_set_redirect(g, 0, 0) == 0, "redirect target unresolved");
	test_run(fd, PC_HOOK_INGRESS, buf, len, &r);
	CHECK(r.err == 0 && r.retval == (uint32_t)TC_ACT_UNSPEC &&
	      bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 &&
	      (tr.flags & PC_TRACE_FC_HIT), "icmp, target gone: passes, from the cache (retval %d)",
	      (int)r.retval);
	CHECK(pc_dp_gen_set_redirect(g, 0, IFINDEX) == 0, "redirect target back");
	test_run(fd, PC_HOOK_INGRESS, buf, len, &r);
	CHECK(r.err == 0 && r.retval == TC_ACT_REDIRECT, "icmp, target back: redirected");

	/* a new generation whose first rule takes icmp: the next packet */
	tr_init(&other);
	tr_rule(&other, "all-icmp", "icmp");
	tr_box(&other);
	tr_check(&other, PC_W_PROTO, PC_OP_RANGE, 1, 1);
	CHECK(tr_finish(&other) == 0 && tr_build_one_leaf(&other) == 0, "the icmp rule set");
	g2 = gen_load(&other, 40);
	if (g2) {
		CHECK(pc_dp_gen_commit(dp, g2, "/test/other.yaml") == 0, "commit over a hot generation");
		/* (g is released by the commit) */
		test_run(fd, PC_HOOK_INGRESS, buf, len, &r);
		CHECK(r.err == 0 && r.retval == (uint32_t)TC_ACT_UNSPEC, "icmp after the commit: "
		      "retval %d", (int)r.retval);
		CHECK(bt_trace_read(pc_dp_gen_trace_fd(g2), ncpus, &tr, &total) == 0 && total == 1 &&
		      tr.rule == 0 && (tr.flags & PC_TRACE_FC_INSERT),
		      "the next packet: the new generation's rule (%u, flags %#x)", tr.rule, tr.flags);
	}
	tr_free(&other);
}

/* The rule g's program fd gives a UDP packet from src (traced), -1 on error. */
static int64_t udp_rule(struct pc_gen *g, int fd, uint32_t src)
{
	struct pg_pkt p = pg_ipv4(src, IP4(192, 0, 2, 2), 17, 1000, 53);
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf));
	struct pc_trace tr;
	uint32_t total;
	struct bt_run r;

	test_run(fd, PC_HOOK_INGRESS, buf, len, &r);
	if (r.err || bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) < 0)
		return -1;
	return tr.rule;
}

/* After a flood, in a cache full of the flood's entries (live, none ever
 * hit), on one CPU, 4096 entries (so that the 8 flows rarely share a
 * bucket): 8 flows taking turns, 20 rounds.  Each goes in at its first miss,
 * over a way the flood left, so from the second round on nearly every packet
 * hits (with 1 in inv_prob misses replacing, as before the entries knew
 * whether they had served a hit, 44 of the 152 did, and 1 of the 8 first
 * misses went in). */
static void test_fc_after_flood(struct tr_set *t)
{
	enum { FLOWS = 8, ROUNDS = 20 };
	struct pc_fc_stats st0, st1, st2;
	cpu_set_t old, one;
	unsigned bad = 0;
	int cpu = sched_getcpu(), fd;
	struct pc_gen *g;

	CHECK(cpu >= 0 && sched_getaffinity(0, sizeof(old), &old) == 0, "affinity");
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK(sched_setaffinity(0, sizeof(one), &one) == 0, "pin to CPU %d", cpu);
	pc_dp_set_flow_cache(dp, 4096);
	g = gen_load(t, 51);
	pc_dp_set_flow_cache(dp, PC_FC_ENTRIES);
	if (!g)
		goto out;
	fd = pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS);
	for (uint32_t i = 0; i < 30000; i++)  /* fill it, flood mode */
		bad += udp_rule(g, fd, IP4(10, 1, 0, 0) + i) != 1;
	for (int i = 0; i < 8000; i++)  /* out of flood mode */
		bad += udp_rule(g, fd, IP4(10, 0, 0, 1)) != 0;
	CHECK(pc_dp_gen_fc_stats(g, &st0) == 0, "fc stats");
	for (int i = 0; i < FLOWS; i++)
		bad += udp_rule(g, fd, IP4(10, 2, 0, 1) + i) != 1;
	CHECK(pc_dp_gen_fc_stats(g, &st1) == 0, "fc stats");
	for (int round = 1; round < ROUNDS; round++)
		for (int i = 0; i < FLOWS; i++)
			bad += udp_rule(g, fd, IP4(10, 2, 0, 1) + i) != 1;
	CHECK(pc_dp_gen_fc_stats(g, &st2) == 0, "fc stats");
	CHECK(bad == 0, "flows after the flood: %u wrong answers", bad);
	CHECK(st0.inserts > 4000 && st0.hits > 4000, "the flood filled the table (%llu inserts), "
	      "one flow ended flood mode (%llu hits)", (unsigned long long)st0.inserts,
	      (unsigned long long)st0.hits);
	CHECK(st1.inserts - st0.inserts >= FLOWS - 1, "flows after the flood: %llu of %d went in "
	      "at their first miss", (unsigned long long)(st1.inserts - st0.inserts), FLOWS);
	CHECK((st2.hits - st1.hits) * 4 >= 3 * (uint64_t)FLOWS * (ROUNDS - 1),
	      "flows after the flood: %llu hits of %d packets after the first round",
	      (unsigned long long)(st2.hits - st1.hits), FLOWS * (ROUNDS - 1));
	printf("# 4096 entries, flood of 30000 flows, one flow; then %d flows in turn, %d rounds: "
	       "%llu of %d first misses inserted, %llu hits of %d packets after the first round\n",
	       FLOWS, ROUNDS, (unsigned long long)(st1.inserts - st0.inserts), FLOWS,
	       (unsigned long long)(st2.hits - st1.hits), FLOWS * (ROUNDS - 1));
	pc_dp_gen_free(g);
out:
	sched_setaffinity(0, sizeof(old), &old);
}

/* The flow cache's bad cases, with a cache of 64 entries: a flood of
 * distinct flows (a rule on the exact source, so that every address is its
 * own key) gets every answer right, fills the cache and then puts the CPU in
 * flood mode (packets walked without a lookup); one flow repeating ends it
 * (hits again); answers right throughout, counted exactly. */
static void test_fc_flood(void)
{
	struct tr_set t;
	struct pc_gen *g;
	struct pc_fc_stats st0, st1, st2;
	unsigned bad = 0;
	int fd;

	tr_init(&t);
	tr_rule(&t, "one-host", "c0");
	tr_box(&t);
	tr_check(&t, PC_W_SRC0, PC_OP_RANGE, IP4(10, 0, 0, 1), IP4(10, 0, 0, 1));
	tr_rule(&t, "net10", "c1");
	tr_box(&t);
	tr_check(&t, PC_W_SRC0, PC_OP_RANGE, IP4(10, 0, 0, 0), IP4(10, 255, 255, 255));
	CHECK(tr_finish(&t) == 0 && tr_build_one_leaf(&t) == 0, "flood rule set");
	pc_dp_set_flow_cache(dp, 64);
	g = gen_load(&t, 50);
	pc_dp_set_flow_cache(dp, PC_FC_ENTRIES);
	if (!g) {
		tr_free(&t);
		return;
	}
	fd = pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS);
	CHECK(pc_dp_gen_fc_stats(g, &st0) == 0 && st0.entries_per_cpu == 64, "a cache of 64 a CPU");
	for (uint32_t i = 0; i < 20000; i++)
		bad += udp_rule(g, fd, i % 2 ? IP4(10, 1, 0, 0) + i : IP4(192, 168, 0, 0) + i) !=
		       (i % 2 ? 1 : 2);
	CHECK(bad == 0, "flood: %u wrong answers", bad);
	bad = 0;
	CHECK(pc_dp_gen_fc_stats(g, &st1) == 0 && st1.hits == 0 && st1.bypassed > 10000 &&
	      st1.inserts < 64 * (uint64_t)ncpus + st1.misses, "flood: %llu hits, %llu misses, %llu "
	      "not looked up, %llu inserts", (unsigned long long)st1.hits,
	      (unsigned long long)st1.misses, (unsigned long long)st1.bypassed,
	      (unsigned long long)st1.inserts);
	for (int i = 0; i < 8000; i++)
		bad += udp_rule(g, fd, IP4(10, 0, 0, 1)) != 0;
	CHECK(bad == 0, "one flow after the flood: %u wrong answers", bad);
	CHECK(pc_dp_gen_fc_stats(g, &st2) == 0 && st2.hits - st1.hits > 4000 &&
	      st2.bypassed - st1.bypassed < 4000, "one flow after the flood: %llu hits, %llu not "
	      "looked up: flood mode did not end", (unsigned long long)(st2.hits - st1.hits),
	      (unsigned long long)(st2.bypassed - st1.bypassed));
	printf("# flood of 20000 flows, 64 entries: %llu misses, %llu not looked up, %llu inserts; "
	       "then one flow, 8000 packets: %llu hits, %llu not looked up\n",
	       (unsigned long long)st1.misses, (unsigned long long)st1.bypassed,
	       (unsigned long long)st1.inserts, (unsigned long long)(st2.hits - st1.hits),
	       (unsigned long long)(st2.bypassed - st1.bypassed));
	pc_dp_gen_free(g);
	test_fc_after_flood(&t);
	tr_free(&t);
}

/* A packet on an interface that is not in "ifaces": untouched, not counted. */
static void test_unknown_iface(struct tr_set *s)
{
	struct pc_gen *g = pc_dp_current(dp);
	struct pg_pkt p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 6, 1, 22);
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf));
	struct pc_iface ifc = { .attach = { att[0], att[1], att[2] }, .ifbits = IFBITS };
	struct pc_trace tr;
	uint32_t total;
	struct bt_run r;

	if (!g)
		return;
	CHECK(pc_dp_gen_del_iface(g, IFINDEX) == 0, "del iface");
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		test_run(pc_dp_gen_prog_fd(g, h), h, buf, len, &r);
		CHECK(r.err == 0 && r.retval == (h == PC_HOOK_MONITOR ? 0 : (uint32_t)TC_ACT_UNSPEC),
		      "unknown iface %s: retval %d", hook_name(h), (int)r.retval);
		CHECK(bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 && total == 1 &&
		      tr.rule == PC_TRACE_NO_RULE && tr.attach == PC_ATTACH_NONE,
		      "unknown iface %s: classified (rule %u)", hook_name(h), tr.rule);
	}
	check_counters(&ec, "unknown iface");
	CHECK(pc_dp_gen_del_iface(g, IFINDEX) == -ENOENT, "del missing iface");
	CHECK(pc_dp_gen_set_iface(g, IFINDEX, &ifc) == 0, "set iface again");
}

/* Whether the classifier found an interface entry for ifindex: the trace
 * says a rule (not PC_TRACE_NO_RULE) on every hook. */
static void check_iface_seen(struct pc_gen *g, uint32_t ifindex, bool seen, const char *what)
{
	struct pg_pkt p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 6, 1, 22);
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf));
	struct pc_trace tr;
	uint32_t total;
	struct bt_run r;

	for (int h = 0; h < PC_HOOK_MAX; h++) {
		bt_run(pc_dp_gen_prog_fd(g, h), h, ifindex, buf, len, &r);
		CHECK(r.err == 0, "%s %s: run: %s", what, hook_name(h), strerror(-r.err));
		CHECK(bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 &&
		      (tr.rule != PC_TRACE_NO_RULE) == seen,
		      "%s %s: rule %u", what, hook_name(h), tr.rule);
	}
}

/* Entries live in the "ifarr" array below PC_IFACE_ARRAY and in the hash
 * always: an ifindex beyond the array, and an entry with ifbits 0 (which the
 * array cannot hold), are found through the hash.  Attach slots NONE: these
 * runs count nothing. */
static void test_iface_tables(void)
{
	struct pc_gen *g = pc_dp_current(dp);
	struct pc_iface none = { .attach = { PC_ATTACH_NONE, PC_ATTACH_NONE, PC_ATTACH_NONE },
				 .ifbits = IFBITS };
	struct pc_iface ifc = { .attach = { att[0], att[1], att[2] }, .ifbits = IFBITS };
	uint32_t big = PC_IFACE_ARRAY + 904;
	char cmd[128];

	if (!g)
		return;
	snprintf(cmd, sizeof(cmd), "ip link add pctest-big index %u type veth peer name pctest-bigp", big);
	CHECK(system(cmd) == 0, "create pctest-big");
	check_iface_seen(g, big, false, "ifindex beyond the array, no entry");
	CHECK(pc_dp_gen_set_iface(g, big, &none) == 0, "set big iface");
	check_iface_seen(g, big, true, "ifindex beyond the array");
	CHECK(pc_dp_gen_del_iface(g, big) == 0, "del big iface");
	check_iface_seen(g, big, false, "ifindex beyond the array, deleted");
	CHECK(system("ip link del pctest-big") == 0, "delete pctest-big");

	none.ifbits = 0;
	CHECK(pc_dp_gen_set_iface(g, IFINDEX, &none) == 0, "set iface, ifbits 0");
	check_iface_seen(g, IFINDEX, true, "ifbits 0");
	CHECK(pc_dp_gen_del_iface(g, IFINDEX) == 0, "del iface, ifbits 0");
	check_iface_seen(g, IFINDEX, false, "ifbits 0, deleted");
	CHECK(pc_dp_gen_set_iface(g, IFINDEX, &ifc) == 0, "set iface again");
}

/* ---- ClassBench: random points inside every rule's box ------------------------ */
static uint32_t rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (uint32_t)x;
}

static const struct pc_check *box_check(const struct pc_box *b, unsigned word)
{
	for (uint32_t i = 0; i < b->nchecks; i++)
		if (b->c[i].word == word)
			return &b->c[i];
	return NULL;
}

static uint32_t pick(const struct pc_check *c, uint32_t any)
{
	if (!c)
		return any;
	if (c->op == PC_OP_MASK)
		return (any & ~c->a) | c->b;
	return c->a + (c->b > c->a ? rnd() % (c->b - c->a + 1) : 0);
}

static struct pg_pkt point_in(const struct pc_box *b)
{
	static const uint8_t port_protos[] = { 6, 17, 132, 136 }, other[] = { 6, 17, 1, 47, 50, 132 };
	const struct pc_check *sp = box_check(b, PC_W_SPORT), *dp_ = box_check(b, PC_W_DPORT);
	uint32_t proto;

	if (box_check(b, PC_W_PROTO))
		proto = pick(box_check(b, PC_W_PROTO), 0);
	else if (sp || dp_)
		proto = port_protos[rnd() % 4];
	else
		proto = rnd() % 8 == 0 ? rnd() % 256 : other[rnd() % 6];
	return pg_ipv4(pick(box_check(b, PC_W_SRC0), rnd()), pick(box_check(b, PC_W_DST0), rnd()),
		       proto, pick(sp, rnd() & 0xffff), pick(dp_, rnd() & 0xffff));
}

static const char *classbench_dir(void)
{
	const char *d = getenv("PC_CLASSBENCH_DIR");

	return d ? d : "tests/data/classbench";
}

/* slow: 1, the fast trees and a slow leaf of all boxes besides; 2, that slow
 * leaf alone (the bpf_loop() scan of PC_NODE_SLOW). */
static void test_classbench(const char *name, uint32_t generation, int slow)
{
	char path[256];
	struct tr_set s;
	struct pc_gen *g;
	unsigned points = 0, mism = 0, walk_mism = 0, hits = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", classbench_dir(), name);
	tr_init(&s);
	r = tr_load_classbench(&s, path);
	CHECK(r == 0 && s.rs.nrules > 500, "load %s: %s (%u rules)", path, strerror(-r), s.rs.nrules);
	if (r < 0)
		return;
	r = -E2BIG;
	for (unsigned leaf_max = 4; r == -E2BIG && leaf_max <= PC_MAX_LEAF; leaf_max *= 2)
		r = tr_build(&s, leaf_max);
	if (r == 0 && slow == 2) { /* no fast tree */
		s.t.cfg.ntrees = 0;
		s.t.cfg.max_depth = s.t.cfg.max_leaf = 0;
	}
	if (r == 0 && slow)
		r = tr_add_slow_tree(&s);
	CHECK(r == 0, "%s: tree build: %s", name, strerror(-r));
	if (r < 0) {
		tr_free(&s);
		return;
	}
	g = gen_load(&s, generation);
	if (!g) {
		tr_free(&s);
		return;
	}
	CHECK(pc_dp_gen_commit(dp, g, path) == 0, "%s: commit", name);
	printf("# %s: %u rules, %u trees, %zu nodes, %zu leaf entries, depth %u, leaf %u\n", name,
	       s.rs.nrules, s.t.cfg.ntrees, s.t.nnodes, s.t.nleaf, s.t.cfg.max_depth, s.t.cfg.max_leaf);
	print_prog_stats(name, pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS));
	for (size_t bi = 0; bi < s.rs.nboxes; bi++)
		for (int k = 0; k < 3; k++) {
			struct pg_pkt p = point_in(&s.rs.boxes[bi]);
			uint8_t buf[PG_FRAME_MAX];
			int len = pg_build(&p, buf, sizeof(buf));
			struct pc_trace tr;
			struct pc_key e;
			uint32_t off, want, total;
			struct bt_run rr;

			pg_expect(&p, &e, &off);
			e.w[PC_W_IFBITS] = IFBITS;
			want = tr_ref(&s, &e);
			CHECK(want <= s.rs.boxes[bi].rule, "%s: point outside its box", name);
			walk_mism += tr_walk(&s, &e) != want;
			/* twice: the second answer comes from the flow cache */
			for (int rep = 0; rep < 2; rep++) {
				test_run(pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS), PC_HOOK_INGRESS, buf, len,
					 &rr);
				points++;
				if (rr.err || bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) < 0 ||
				    total != 1 || tr.rule != want || memcmp(&tr.key, &e, sizeof(e))) {
					if (mism++ < 5)
						fprintf(stderr, "  %s box %zu: bpf rule %u, reference %u\n",
							name, bi, tr.rule, want);
				}
				hits += !!(tr.flags & PC_TRACE_FC_HIT);
			}
		}
	CHECK(walk_mism == 0, "%s: C tree walk disagrees with the reference %u times", name, walk_mism);
	CHECK(mism == 0, "%s: %u of %u points: BPF differs from the reference", name, mism, points);
	CHECK(hits >= points / 4, "%s: %u flow cache hits of %u runs", name, hits, points);
	printf("# %s%s: %u runs (each point twice), %u from the flow cache, %u mismatches\n", name,
	       slow == 2 ? " (one slow leaf)" : slow ? " (and a slow leaf)" : "", points, hits, mism);
	tr_free(&s);
}



/* ---- ClassBench through the real pipeline: YAML -> config -> compile -> tree -> BPF */
static char *classbench_yaml(const char *path)
{
	char line[512], *buf = NULL;
	unsigned v[16], n = 0;
	size_t len = 0;
	FILE *f = fopen(path, "re"), *out;

	if (!f)
		return NULL;
	out = open_memstream(&buf, &len);
	if (!out) {
		fclose(f);
		return NULL;
	}
	fprintf(out, "version: 1\ninterfaces:\n  - name: lo\n    hooks: [ingress]\nrules:\n");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
			   &v[12], &v[13], &v[14], &v[15]) != 16)
			continue;
		fprintf(out, "  - name: r%u\n    match: { l3: ipv4", n);
		if (v[4])
			fprintf(out, ", src: %u.%u.%u.%u/%u", v[0], v[1], v[2], v[3], v[4]);
		if (v[9])
			fprintf(out, ", dst: %u.%u.%u.%u/%u", v[5], v[6], v[7], v[8], v[9]);
		if (v[10] != 0 || v[11] != 65535)
			fprintf(out, ", src_port: \"%u-%u\"", v[10], v[11]);
		if (v[12] != 0 || v[13] != 65535)
			fprintf(out, ", dst_port: \"%u-%u\"", v[12], v[13]);
		if (v[15])
			fprintf(out, ", proto: %u", v[14]);
		fprintf(out, " }\n");
		if (n % 3 == 0)
			fprintf(out, "    class: c%u\n", n % 7);
		if (n % 11 == 0)
			fprintf(out, "    set: { mark: %u }\n", n + 1);
		if (n % 13 == 0)
			fprintf(out, "    action: drop\n");
		n++;
	}
	fprintf(out, "default:\n  class: other\n  action: pass\n");
	fclose(f);
	fclose(out);
	return buf;
}

static void test_classbench_pipeline(const char *name, uint32_t generation)
{
	char path[256];
	_cleanup_free_ char *yaml = NULL;
	struct pc_config *cfg = NULL;
	struct pc_ruleset *rs = NULL;
	struct pc_tree *t = NULL;
	struct pc_diags d;
	struct tr_set pts;
	struct pc_gen *g;
	unsigned points = 0, mism = 0, tree_mism = 0;
	uint32_t ifbits;
	int r;

	snprintf(path, sizeof(path), "%s/%s", classbench_dir(), name);
	yaml = classbench_yaml(path);
	CHECK(yaml, "%s: no YAML", name);
	if (!yaml)
		return;
	pc_diags_init(&d, name);
	r = pc_config_parse(name, yaml, strlen(yaml), &cfg, &d);
	if (r >= 0)
		r = pc_compile(cfg, &rs, &d);
	if (r < 0)
		pc_diags_print(&d, stderr);
	CHECK(r == 0, "%s: config/compile: %s", name, strerror(-r));
	pc_diags_clear(&d);
	if (r >= 0) {
		r = pc_tree_build(rs, &t);
		CHECK(r == 0, "%s: pc_tree_build: %s", name, strerror(-r));
	}
	tr_init(&pts);
	if (r >= 0)
		r = tr_load_classbench(&pts, path);
	if (r < 0)
		goto out;
	ifbits = pc_ifbits(rs, "lo");
	g = gen_load_rs(rs, t, generation, ifbits);
	if (!g)
		goto out;
	CHECK(pc_dp_gen_commit(dp, g, path) == 0, "%s: commit", name);
	printf("# %s via compile+tree: %u rules, %zu boxes, %u trees, %zu nodes, depth %u, leaf %u\n",
	       name, rs->nrules, rs->nboxes, t->cfg.ntrees, t->nnodes, t->cfg.max_depth,
	       t->cfg.max_leaf);
	print_prog_stats(name, pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS));
	for (size_t bi = 0; bi < pts.rs.nboxes; bi++)
		for (int k = 0; k < 3; k++) {
			struct pg_pkt p = point_in(&pts.rs.boxes[bi]);
			uint8_t buf[PG_FRAME_MAX];
			int len = pg_build(&p, buf, sizeof(buf));
			const struct pc_rule_out *o;
			struct pc_trace tr = {};
			struct pc_key e;
			uint32_t off, want, total;
			struct bt_run rr;

			pg_expect(&p, &e, &off);
			e.w[PC_W_IFBITS] = ifbits;
			want = pc_ref_classify(rs, &e);
			tree_mism += pc_tree_classify(t, rs->boxes, &e) != want;
			o = &pc_dp_gen_outs(g)[want];
			test_run(pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS), PC_HOOK_INGRESS, buf, len, &rr);
			points++;
			if (rr.err || bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) < 0 || total != 1 ||
			    tr.rule != want || memcmp(&tr.key, &e, sizeof(e)) ||
			    rr.retval != expected_retval(o, PC_HOOK_INGRESS, PC_PARSE_OK) ||
			    rr.ctx.mark != (o->flags & PC_F_MARK ? o->mark : 0)) {
				if (mism++ < 5)
					fprintf(stderr, "  %s box %zu: bpf rule %u retval %d, reference %u\n",
						name, bi, tr.rule, (int)rr.retval, want);
			}
		}
	CHECK(tree_mism == 0, "%s: pc_tree_classify disagrees with pc_ref_classify %u times", name,
	      tree_mism);
	CHECK(mism == 0, "%s: %u of %u points: BPF differs from pc_ref_classify", name, mism, points);
	printf("# %s via compile+tree: %u points, %u mismatches\n", name, points, mism);
out:
	tr_free(&pts);
	pc_tree_free(t);
	pc_ruleset_free(rs);
	pc_config_free(cfg);
}

/* ---- real packets: veth pair, TC hooks and a monitor socket ------------------------ */
static int raw_socket(const char *ifname, int type)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = if_nametoindex(ifname) };
	int fd = socket(AF_PACKET, type | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_frame(int fd, const struct pg_pkt *p)
{
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(p, buf, sizeof(buf));

	return send(fd, buf, len, 0) == len ? len : -1;
}

/* Wait (bounded) until the counter reaches the wanted packet count. */
static void wait_counter(uint32_t a, uint32_t slot, uint64_t packets, struct pc_counter *c)
{
	for (int i = 0; i < 200; i++) {
		if (bt_counter_read(dp, ncpus, a, slot, c) == 0 && c->packets >= packets)
			return;
		usleep(10000);
	}
}

static int tc_attach(int ifindex, int fd, enum bpf_tc_attach_point where)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = fd, .handle = PC_TC_HANDLE, .priority = PC_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);

	return bpf_tc_attach(&hook, &opts);
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* Id of the map pinned as cnt_<a>, 0 when there is none. */
static uint32_t cnt_pin_id(uint32_t a)
{
	char p[256];
	int fd;
	uint32_t id;

	snprintf(p, sizeof(p), "%s/cnt_%u", pin, a);
	fd = bpf_obj_get(p);
	id = map_id(fd);
	if (fd >= 0)
		close(fd);
	return id;
}

/* Attach slot a's counter array is pinned as cnt_<a> and is the one in "cnt". */
static bool cnt_pinned(uint32_t a)
{
	uint32_t id = cnt_pin_id(a);

	return id && id == map_id(pc_dp_attach_counters_fd(dp, a));
}

static void test_live(const struct tr_set *s)
{
	struct pc_gen *g = pc_dp_current(dp);
	uint32_t a[PC_HOOK_MAX];
	struct pc_counter c;
	int ifindex, tx_b = -1, tx_a = -1, mon = -1, len;
	struct pg_pkt p;

	if (!g)
		return;
	if (system("ip link add pctest-a type veth peer name pctest-b && ip link set pctest-a up && "
		   "ip link set pctest-b up") != 0) {
		CHECK(0, "cannot create a veth pair");
		return;
	}
	ifindex = if_nametoindex("pctest-a");
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	CHECK(bpf_tc_hook_create(&hook) == 0, "clsact on the veth");
	CHECK(tc_attach(ifindex, pc_dp_entry_fd(dp, PC_HOOK_INGRESS), BPF_TC_INGRESS) == 0, "attach ingress");
	CHECK(tc_attach(ifindex, pc_dp_entry_fd(dp, PC_HOOK_EGRESS), BPF_TC_EGRESS) == 0, "attach egress");
	mon = raw_socket("pctest-a", SOCK_DGRAM);
	int sfd = pc_dp_entry_fd(dp, PC_HOOK_MONITOR);
	CHECK(mon >= 0 && setsockopt(mon, SOL_SOCKET, SO_ATTACH_BPF, &sfd, sizeof(sfd)) == 0,
	      "monitor socket");
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		int r = pc_dp_attach_slot_get(dp, "pctest-a", ifindex, h, pc_dp_entry_id(dp, h), 0);

		CHECK(r >= 0 && r != (int)att[h], "attach slot for the veth: %d", r);
		a[h] = r < 0 ? 0 : r;
		CHECK(cnt_pin_id(a[h]) == 0, "counters of attach slot %u pinned when only reserved", a[h]);
	}
	struct pc_iface ifc = { .attach = { a[0], a[1], a[2] }, .ifbits = IFBITS };
	CHECK(pc_dp_gen_set_iface(g, ifindex, &ifc) == 0, "iface of the veth");
	/* the live generation names them: published at once */
	for (int h = 0; h < PC_HOOK_MAX; h++)
		CHECK(cnt_pinned(a[h]), "counters of attach slot %u not pinned as cnt_%u", a[h], a[h]);
	tx_b = raw_socket("pctest-b", SOCK_RAW);
	tx_a = raw_socket("pctest-a", SOCK_RAW);
	CHECK(tx_a >= 0 && tx_b >= 0, "raw sockets");

	/* in from the peer, VLAN-tagged: the kernel moves the tag to skb
	 * metadata before TC ingress; the outer VLAN still classifies */
	p = pg_ipv4(IP4(10, 7, 0, 1), IP4(10, 7, 0, 2), 17, 53, 53);
	p.ntags = 1;
	p.vid[0] = 100;
	for (int i = 0; i < 3; i++)
		len = send_frame(tx_b, &p);
	wait_counter(a[PC_HOOK_INGRESS], pc_dp_gen_outs(g)[R_VLAN].slot, 3, &c);
	CHECK(c.packets == 3 && c.bytes == 3ull * (len - 4), "veth ingress vlan 100: %llu packets %llu bytes",
	      (unsigned long long)c.packets, (unsigned long long)c.bytes);
	wait_counter(a[PC_HOOK_MONITOR], pc_dp_gen_outs(g)[R_VLAN].slot, 3, &c);
	CHECK(c.packets == 3 && c.bytes == 3ull * (len - 4), "monitor vlan 100: %llu packets %llu bytes",
	      (unsigned long long)c.packets, (unsigned long long)c.bytes);

	/* out of pctest-a: big UDP is dropped at TC egress (so the monitor never
	 * sees it); SIP goes out and the monitor sees it as egress */
	p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 17, 1, 9);
	p.payload = 1100;
	{
		uint8_t buf[PG_FRAME_MAX];

		len = pg_build(&p, buf, sizeof(buf));
		/* TC_ACT_SHOT: dev_queue_xmit() says NET_XMIT_DROP */
		CHECK(send(tx_a, buf, len, 0) < 0 && errno == ENOBUFS,
		      "send of a packet dropped at egress did not fail: %m");
	}
	wait_counter(a[PC_HOOK_EGRESS], pc_dp_gen_outs(g)[R_EG_BIG].slot, 1, &c);
	CHECK(c.packets == 1 && c.bytes == (uint64_t)len, "egress big: %llu packets %llu bytes, sent %d",
	      (unsigned long long)c.packets, (unsigned long long)c.bytes, len);
	p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 17, 1, 5060);
	len = send_frame(tx_a, &p);
	wait_counter(a[PC_HOOK_EGRESS], pc_dp_gen_outs(g)[R_SIP].slot, 1, &c);
	CHECK(c.packets == 1 && c.bytes == (uint64_t)len, "egress sip: %llu packets",
	      (unsigned long long)c.packets);
	wait_counter(a[PC_HOOK_MONITOR], pc_dp_gen_outs(g)[R_SIP].slot, 1, &c);
	CHECK(c.packets == 1, "monitor saw %llu outgoing sip packets", (unsigned long long)c.packets);
	CHECK(bt_counter_read(dp, ncpus, a[PC_HOOK_MONITOR], pc_dp_gen_outs(g)[R_EG_BIG].slot, &c) == 0 && c.packets == 0,
	      "monitor saw a packet that TC egress dropped");
	/* an egress-only rule on the monitor: the direction came from pkt_type */
	p.dport = 9;
	p.payload = 1000;
	CHECK(tc_attach(ifindex, pc_dp_entry_fd(dp, PC_HOOK_INGRESS), BPF_TC_EGRESS) == 0,
	      "replace egress filter");
	len = send_frame(tx_a, &p);
	wait_counter(a[PC_HOOK_MONITOR], pc_dp_gen_outs(g)[R_EG_BIG].slot, 1, &c);
	CHECK(c.packets == 1, "monitor: outgoing big packet not classified as egress");

	if (tx_a >= 0)
		close(tx_a);
	if (tx_b >= 0)
		close(tx_b);
	if (mon >= 0)
		close(mon);
	CHECK(system("ip link del pctest-a") == 0, "delete veth");
	CHECK(pc_dp_gen_del_iface(g, ifindex) == 0, "forget the veth");
	for (int h = 0; h < PC_HOOK_MAX; h++)
		CHECK(pc_dp_attach_slot_put(dp, a[h]) == 0 && pc_dp_attach_counters_fd(dp, a[h]) == -ENOENT &&
		      pc_dp_attach_slot_find(dp, ifindex, h, NULL) == -ENOENT, "release attach slot");
	for (int h = 0; h < PC_HOOK_MAX; h++)
		CHECK(cnt_pin_id(a[h]) == 0, "cnt_%u still pinned after the slot was released", a[h]);
}

/* ---- pins, adoption, slots -------------------------------------------------------- */
static int pinned_get(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", pin, name);
	return bpf_obj_get(p);
}

static void test_pinned_state(const struct tr_set *s, uint32_t generation)
{
	int slots = pinned_get("slots"), meta = pinned_get("meta");
	const struct pc_rule_out *o = &pc_dp_gen_outs(pc_dp_current(dp))[R_SIP];
	struct pc_slot_name sn;
	struct pc_meta m;
	uint32_t k;

	CHECK(slots >= 0 && meta >= 0, "pinned slots/meta missing");
	k = o->slot;
	CHECK(bpf_map_lookup_elem(slots, &k, &sn) == 0 && !strcmp(sn.name, "sip") &&
	      sn.kind == PC_SLOT_RULE && !strcmp(sn.class_name, "voice") && sn.rule_index == R_SIP,
	      "slot %u of sip: '%s' kind %u class '%s' index %u", k, sn.name, sn.kind, sn.class_name,
	      sn.rule_index);
	k = o->class_slot;
	CHECK(bpf_map_lookup_elem(slots, &k, &sn) == 0 && !strcmp(sn.name, "voice") &&
	      sn.kind == PC_SLOT_CLASS, "class slot %u: '%s' kind %u", k, sn.name, sn.kind);
	k = PC_SLOT_DEFAULT;
	CHECK(bpf_map_lookup_elem(slots, &k, &sn) == 0 && !strcmp(sn.name, "(default)") &&
	      !strcmp(sn.class_name, "default") && sn.rule_index == s->rs.nrules,
	      "default slot: '%s' class '%s'", sn.name, sn.class_name);
	k = PC_SLOT_MALFORMED;
	CHECK(bpf_map_lookup_elem(slots, &k, &sn) == 0 && !strcmp(sn.name, "(malformed)"),
	      "malformed slot: '%s'", sn.name);
	CHECK(pc_dp_gen_outs(pc_dp_current(dp))[s->rs.nrules].slot == PC_SLOT_DEFAULT,
	      "default rule slot");
	k = 0;
	CHECK(bpf_map_lookup_elem(meta, &k, &m) == 0 && m.magic == PC_META_MAGIC &&
	      m.abi_version == PC_ABI_VERSION && m.generation == generation &&
	      m.nrules == s->rs.nrules && m.slot_cap == pc_dp_slot_cap(dp) &&
	      !strcmp(m.config_path, "/test/config.yaml") && m.nclasses == 12 && m.loaded_realtime_usec,
	      "meta: gen %u rules %u classes %u path '%s'", m.generation, m.nrules, m.nclasses,
	      m.config_path);
	CHECK(pc_dp_set_status(dp, PC_META_RELOAD_FAILED, "reload failed: test") == 0 &&
	      bpf_map_lookup_elem(meta, &k, &m) == 0 && m.flags == PC_META_RELOAD_FAILED &&
	      !strcmp(m.status, "reload failed: test"), "set status");
	close(slots);
	close(meta);

	/* what pktclassctl reads (stats.c) agrees with the counters */
	struct pc_stats *st = NULL;
	CHECK(pc_stats_read(pin, &st) == 0 && st, "pc_stats_read of our pins");
	if (st) {
		uint64_t want = 0;

		for (int h = 0; h < PC_HOOK_MAX; h++)
			want += ec.packets[h][o->slot];
		CHECK(st->natt == PC_HOOK_MAX && st->slot_cap == pc_dp_slot_cap(dp) &&
		      st->total[o->slot].packets == want && want > 0 &&
		      !strcmp(st->slots[o->slot].name, "sip"),
		      "stats: %zu attachments, sip %llu packets, expected %llu", st->natt,
		      (unsigned long long)st->total[o->slot].packets, (unsigned long long)want);
		pc_stats_free(st);
	}
}

static int reopen(uint32_t slot_cap)
{
	struct pc_dp_opts o = { .pin_path = pin, .slot_cap = slot_cap };
	int r;

	pc_dp_close(dp, true);
	dp = NULL;
	r = pc_dp_open(&o, &dp);
	CHECK(r == 0, "reopen: %s", strerror(-r));
	if (r == 0)
		pc_dp_set_trace(dp, true);
	return r;
}

/* The name of slot in the pinned "slots" table ("" when free). */
static const char *pinned_slot_name(uint32_t slot, char *buf, size_t len)
{
	_cleanup_(pc_stats_freep) struct pc_stats *st = NULL;

	buf[0] = 0;
	if (pc_stats_read(pin, &st) == 0 && slot < st->slot_cap)
		snprintf(buf, len, "%s", st->slots[slot].name);
	return buf;
}

/* A config whose generation does not go live (the daemon: the verifier
 * rejects it, or the attachments fail) names its new slots in the
 * datapath's mirror only, never in the pinned table, and gives them back
 * when it is freed. */
static void slots_rollback(void)
{
	uint32_t ph, web = pc_dp_gen_outs(pc_dp_current(dp))[R_WEB].slot;
	char buf[PC_NAME_MAX];
	struct pc_gen *g;
	struct tr_set s4;

	rule_set_build(&s4, false, "phantom");
	CHECK(tr_build(&s4, 2) == 0, "tree s4");
	g = gen_load(&s4, 90);
	if (!g) {
		tr_free(&s4);
		return;
	}
	ph = pc_dp_gen_outs(g)[s4.rs.nrules - 1].slot;
	CHECK(pc_dp_slot_name(dp, ph) && !strcmp(pc_dp_slot_name(dp, ph)->name, "phantom"),
	      "prepared slot %u not named phantom in the mirror", ph);
	CHECK(!pinned_slot_name(ph, buf, sizeof(buf))[0],
	      "slot %u pinned as %s before the commit", ph, buf);
	pc_dp_gen_free(g);
	CHECK(!pinned_slot_name(ph, buf, sizeof(buf))[0], "slot %u named %s after the free", ph, buf);
	CHECK(pc_dp_slot_name(dp, ph) == NULL, "slot %u still named in the daemon's mirror", ph);
	CHECK(!strcmp(pinned_slot_name(web, buf, sizeof(buf)), "web"),
	      "live rule web lost its slot %u (%s)", web, buf);
	tr_free(&s4);
}

/* Without pc_cnt_zero (it would not load: a kernel or capability set
 * without raw_tp test runs), a reused slot is zeroed at the commit by
 * writing its chunk back from user space; the datapath reports the load
 * error and counts the rewrite, which the daemon logs.  No traffic runs
 * here, so the chunk's other slots must keep their counts exactly. */
static void cntzero_fallback(struct tr_set *live)
{
	struct pc_counter c, before[64];
	struct tr_set s5;
	struct pc_gen *g;
	uint64_t n0, n1;
	uint32_t ph, k;
	int fd = pc_dp_attach_counters_fd(dp, att[0]);
	struct pc_cnt_chunk *v = calloc(ncpus, sizeof(*v));

	rule_set_build(&s5, false, "phantom2");
	CHECK(tr_build(&s5, 2) == 0, "tree s5");
	g = gen_load(&s5, 91);
	if (!g || !v) {
		free(v);
		tr_free(&s5);
		return;
	}
	ph = pc_dp_gen_outs(g)[s5.rs.nrules - 1].slot;
	pc_dp_gen_free(g);
	/* counts in the freed slot, as if it had counted before */
	k = ph / PC_CNT_CHUNK;
	CHECK(bpf_map_lookup_elem(fd, &k, v) == 0, "read chunk of slot %u", ph);
	for (int cpu = 0; cpu < ncpus; cpu++)
		v[cpu].c[ph % PC_CNT_CHUNK] = (struct pc_counter){ 7 + cpu, 700 };
	CHECK(bpf_map_update_elem(fd, &k, v, BPF_EXIST) == 0, "dirty slot %u", ph);
	free(v);
	for (uint32_t i = 0; i < 64; i++)
		bt_counter_read(dp, ncpus, att[0], i, &before[i]);

	pc_cset_ops_free(dp->cs);
	dp->cs->ops_err = -EPERM;
	CHECK(pc_dp_cntzero_state(dp, &n0) == -EPERM, "load error not reported");
	g = gen_load(&s5, 92);
	CHECK(g && pc_dp_gen_outs(g)[s5.rs.nrules - 1].slot == ph, "slot %u not reused", ph);
	if (g)
		CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit s5");
	CHECK(bt_counter_read(dp, ncpus, att[0], ph, &c) == 0 && c.packets == 0 && c.bytes == 0,
	      "reused slot %u not zeroed from user space (%llu packets)", ph,
	      (unsigned long long)c.packets);
	CHECK(pc_dp_cntzero_state(dp, &n1) == -EPERM && n1 > n0,
	      "chunk rewrite not counted (%llu -> %llu)", (unsigned long long)n0,
	      (unsigned long long)n1);
	CHECK(!pc_dp_cntzero_bpf(dp), "fallback reported as the BPF path");
	for (uint32_t i = 0; i < 64; i++)
		CHECK(i == ph || (bt_counter_read(dp, ncpus, att[0], i, &c) == 0 && c.packets == before[i].packets &&
				  c.bytes == before[i].bytes),
		      "slot %u changed by the user-space zeroing of slot %u", i, ph);
	dp->cs->ops_err = 0;
	g = gen_load(live, 93);
	if (g)
		CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit the live set again");
	tr_free(&s5);
}

static void test_adopt_and_slots(struct tr_set *hand)
{
	const struct pc_rule_out *ho = pc_dp_gen_outs(pc_dp_current(dp));
	uint32_t ids[PC_HOOK_MAX], sip_slot = ho[R_SIP].slot, newer;
	uint32_t hslot[R_NRULES + 1], hclass[R_NRULES + 1];
	struct pc_counter c, before[PC_HOOK_MAX][64];
	struct tr_set s2, s3;

	for (uint32_t i = 0; i <= hand->rs.nrules; i++) {
		hslot[i] = ho[i].slot;
		hclass[i] = ho[i].class_slot;
	}
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		ids[h] = pc_dp_entry_id(dp, h);
		CHECK(cnt_pinned(att[h]), "counters of %s not pinned", hook_name(h));
	}
	if (reopen(0) < 0)
		return;
	CHECK(pc_dp_adopted(dp) && !pc_dp_touched(dp), "state not adopted, or touched");
	for (int h = 0; h < PC_HOOK_MAX; h++)
		CHECK(cnt_pinned(att[h]), "counters of %s not pinned after adoption", hook_name(h));
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		struct pc_attach_info ai;

		CHECK(pc_dp_entry_id(dp, h) == ids[h] && ids[h], "entry %s not adopted", hook_name(h));
		CHECK(pc_dp_attach_slot_find(dp, IFINDEX, h, &ai) == (int)att[h] && ai.ifindex == IFINDEX &&
		      !strcmp(ai.ifname, "lo") && (ai.flags & PC_ATT_IN_USE), "attach %s not adopted",
		      hook_name(h));
		CHECK(pc_dp_attach_slot_get(dp, "lo", IFINDEX, h, ids[h], 0) == (int)att[h],
		      "attach slot of %s not stable", hook_name(h));
	}
	check_counters(&ec, "after adoption");

	/* same names, same slots */
	rule_set_build(&s2, true, NULL);
	CHECK(tr_build(&s2, 2) == 0, "tree s2");
	struct pc_gen *g = gen_load(&s2, 3);
	for (uint32_t i = 0; g && i <= s2.rs.nrules; i++)
		CHECK(pc_dp_gen_outs(g)[i].slot == hslot[i] && pc_dp_gen_outs(g)[i].class_slot == hclass[i],
		      "rule %u: slots changed across restart", i);
	pc_dp_gen_free(g);
	tr_free(&s2);

	/* "sip" goes away: its slot is freed at commit, and zeroed before reuse */
	rule_set_build(&s2, false, NULL);
	CHECK(tr_build(&s2, 2) == 0, "tree s2");
	g = gen_load(&s2, 3);
	CHECK(g && pc_dp_gen_outs(g)[R_SIP].slot != sip_slot, "renamed rule kept the old slot");
	if (g)
		CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit s2");
	CHECK(pc_dp_touched(dp), "a commit did not count as touching the state");
	CHECK(bt_counter_read(dp, ncpus, att[0], sip_slot, &c) == 0 && c.packets > 0, "sip counted nothing");
	rule_set_build(&s3, false, "newer");
	CHECK(tr_build(&s3, 2) == 0, "tree s3");
	for (int h = 0; h < PC_HOOK_MAX; h++)
		for (uint32_t i = 0; i < 64; i++)
			bt_counter_read(dp, ncpus, att[h], i, &before[h][i]);
	g = gen_load(&s3, 4);
	newer = g ? pc_dp_gen_outs(g)[s3.rs.nrules - 1].slot : 0;
	CHECK(newer == sip_slot, "freed slot %u not reused (got %u)", sip_slot, newer);
	/* zeroed at the commit, not before: nothing live changes before it */
	CHECK(bt_counter_read(dp, ncpus, att[0], newer, &c) == 0 && c.packets > 0, "reused slot zeroed before the commit");
	if (g)
		CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit s3");
	for (int h = 0; h < PC_HOOK_MAX; h++)
		CHECK(bt_counter_read(dp, ncpus, att[h], newer, &c) == 0 && c.packets == 0 && c.bytes == 0,
		      "reused slot not zeroed on %s", hook_name(h));
	CHECK(pc_dp_cntzero_bpf(dp), "reused slot zeroed from user space, not by pc_cnt_zero");
	/* the slot's chunk was rewritten: its other slots keep their counts */
	for (int h = 0; h < PC_HOOK_MAX; h++)
		for (uint32_t i = 0; i < 64; i++)
			CHECK(i == newer || (bt_counter_read(dp, ncpus, att[h], i, &c) == 0 &&
					     c.packets == before[h][i].packets &&
					     c.bytes == before[h][i].bytes),
			      "%s slot %u changed by zeroing slot %u", hook_name(h), i, newer);
	slots_rollback();
	cntzero_fallback(&s3);
	tr_free(&s2);
	tr_free(&s3);
}

/* pc_cnt_zero (bpf/cntops.bpf.c), run on CPU 0: zeroes the listed slots
 * of CPU 0's values and nothing else (chunk 1: no rule counts there); then
 * pc_cnt_add adds to listed slots of the calling CPU's value. */
static void test_cnt_zero(void)
{
	struct pc_cnt_chunk *v = calloc(ncpus, sizeof(*v));
	struct pc_cntops *z = pc_cntops__open();
	int fd = pc_dp_attach_counters_fd(dp, att[0]), cnt = pinned_get("cnt"), bad = 0;
	__u64 args[2] = { att[0], 2 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = sizeof(args),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = 0);
	uint32_t k = 1, list[2] = { 5, 7 };

	CHECK(v && z && cnt >= 0 && bpf_map__reuse_fd(z->maps.cnt, cnt) == 0 &&
	      pc_cntops__load(z) == 0, "load pc_cnt_zero");
	if (!v || !z || cnt < 0)
		goto out;
	for (int c = 0; c < ncpus; c++)
		for (uint32_t i = 0; i < PC_CNT_CHUNK; i++)
			v[c].c[i] = (struct pc_counter){ 1 + i + 10000u * c, 2 + i };
	CHECK(bpf_map_update_elem(fd, &k, v, BPF_ANY) == 0, "write chunk 1");
	for (uint32_t i = 0; i < 2; i++) {
		uint32_t slot = PC_CNT_CHUNK + list[i];

		CHECK(bpf_map_update_elem(bpf_map__fd(z->maps.zero_list), &i, &slot, BPF_ANY) == 0,
		      "zero list");
	}
	CHECK(bpf_prog_test_run_opts(bpf_program__fd(z->progs.pc_cnt_zero), &o) == 0 &&
	      o.retval == 2, "pc_cnt_zero: %m, returned %u", o.retval);
	CHECK(bpf_map_lookup_elem(fd, &k, v) == 0, "read chunk 1");
	for (int c = 0; c < ncpus; c++)
		for (uint32_t i = 0; i < PC_CNT_CHUNK; i++) {
			bool zeroed = c == 0 && (i == list[0] || i == list[1]);

			bad += zeroed ? v[c].c[i].packets || v[c].c[i].bytes
				      : v[c].c[i].packets != 1 + i + 10000u * c || v[c].c[i].bytes != 2 + i;
		}
	CHECK(bad == 0, "pc_cnt_zero: %d slots wrong", bad);

	/* add: 3 and 4 to slot list[0], on whatever CPU runs it */
	struct pc_cnt_delta d = { .slot = PC_CNT_CHUNK + list[0], .packets = 3, .bytes = 4 };
	uint64_t p = 0, b = 0;
	LIBBPF_OPTS(bpf_test_run_opts, oa, .ctx_in = args, .ctx_size_in = sizeof(args));

	args[1] = 1;
	memset(v, 0, ncpus * sizeof(*v));
	CHECK(bpf_map_update_elem(fd, &k, v, BPF_ANY) == 0, "clear chunk 1");
	k = 0;
	CHECK(bpf_map_update_elem(bpf_map__fd(z->maps.add_list), &k, &d, BPF_ANY) == 0, "add list");
	k = 1;
	for (int i = 0; i < 2; i++)
		CHECK(bpf_prog_test_run_opts(bpf_program__fd(z->progs.pc_cnt_add), &oa) == 0 &&
		      oa.retval == 1, "pc_cnt_add: %m, returned %u", oa.retval);
	CHECK(bpf_map_lookup_elem(fd, &k, v) == 0, "read chunk 1");
	bad = 0;
	for (int c = 0; c < ncpus; c++) {
		p += v[c].c[list[0]].packets;
		b += v[c].c[list[0]].bytes;
		bad += v[c].c[list[1]].packets != 0 || v[c].c[list[1]].bytes != 0;
	}
	CHECK(p == 6 && b == 8 && bad == 0, "pc_cnt_add: %llu packets %llu bytes",
	      (unsigned long long)p, (unsigned long long)b);
	memset(v, 0, ncpus * sizeof(*v));
	CHECK(bpf_map_update_elem(fd, &k, v, BPF_ANY) == 0, "clear chunk 1");
out:
	pc_cntops__destroy(z);
	if (cnt >= 0)
		close(cnt);
	free(v);
}

/* Without monitor hooks no socket program is loaded: "jmp_sock" is emptied
 * at commit (the socket entry passes nothing and runs no classifier), and
 * both TC hooks run the one program pc_tc, told the hook by the entry. */
static void test_no_monitor(void)
{
	struct pg_pkt p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 6, 1, 22);
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf)), jmp = pinned_get("jmp_sock");
	__u32 key = PC_JMP_SOCK, id = 0;
	struct pc_trace tr;
	struct pc_gen *g;
	struct tr_set s;
	uint32_t total;
	struct bt_run r;

	rule_set_build(&s, true, NULL);
	CHECK(tr_build(&s, 2) == 0, "tree, no monitor");
	pc_dp_set_monitor(dp, false);
	g = gen_load(&s, 5);
	pc_dp_set_monitor(dp, true);
	if (!g || jmp < 0) {
		CHECK(false, "no-monitor generation or jmp_sock missing");
		goto out;
	}
	CHECK(pc_dp_gen_prog_fd(g, PC_HOOK_MONITOR) == -ENOENT, "socket program loaded without monitor");
	CHECK(pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS) >= 0 &&
	      pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS) == pc_dp_gen_prog_fd(g, PC_HOOK_EGRESS),
	      "TC hooks do not share one program");
	CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit, no monitor");
	CHECK(bpf_map_lookup_elem(jmp, &key, &id) < 0 && errno == ENOENT, "jmp_sock not emptied (id %u)", id);
	test_run(pc_dp_entry_fd(dp, PC_HOOK_MONITOR), 0, buf, len, &r);
	CHECK(r.err == 0 && r.retval == 0 && bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 &&
	      total == 0, "socket entry without a socket classifier: err %d retval %u runs %u", r.err,
	      r.retval, total);
	for (int h = PC_HOOK_INGRESS; h <= PC_HOOK_EGRESS; h++) {
		struct pc_counter c0 = {}, c1 = {};
		uint32_t slot = pc_dp_gen_outs(g)[s.rs.nrules].slot; /* the default, until known */

		test_run(pc_dp_entry_fd(dp, h), !h, buf, len, &r);
		CHECK(r.err == 0 && bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total) == 0 && total == 1 &&
		      tr.rule <= s.rs.nrules && tr.key.w[PC_W_DIR] == (uint32_t)h &&
		      tr.attach == att[h], "entry %s, no monitor: dir %u attach %u", hook_name(h),
		      tr.key.w[PC_W_DIR], tr.attach);
		if (tr.rule <= s.rs.nrules)
			slot = pc_dp_gen_outs(g)[tr.rule].slot;
		/* counted in the hook's attachment: once more on a second run */
		CHECK(bt_counter_read(dp, ncpus, att[h], slot, &c0) == 0, "counter %s", hook_name(h));
		test_run(pc_dp_entry_fd(dp, h), !h, buf, len, &r);
		bt_trace_read(pc_dp_gen_trace_fd(g), ncpus, &tr, &total); /* reset */
		CHECK(bt_counter_read(dp, ncpus, att[h], slot, &c1) == 0 && c1.packets == c0.packets + 1 &&
		      c1.bytes == c0.bytes + (uint64_t)len, "entry %s, no monitor: not counted in its "
		      "attachment (%llu -> %llu)", hook_name(h), (unsigned long long)c0.packets,
		      (unsigned long long)c1.packets);
	}
	/* monitor hooks again: the slot is filled again */
	g = gen_load(&s, 6);
	if (g)
		CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit, monitor");
	CHECK(bpf_map_lookup_elem(jmp, &key, &id) == 0 && id, "jmp_sock not filled again");
out:
	if (jmp >= 0)
		close(jmp);
	tr_free(&s);
}

/* Tables that break the ABI limits are refused before anything loads. */
static void test_bad_tables(struct tr_set *s)
{
	struct pc_gen *g = NULL;
	struct pc_tree t = s->t;

	t.cfg.ntrees = PC_MAX_TREES + 1;
	CHECK(pc_dp_gen_prepare(dp, &s->rs, &t, 99, &g) == -EINVAL && !g, "too many trees accepted");
	t = s->t;
	t.cfg.max_depth = PC_MAX_DEPTH + 1;
	CHECK(pc_dp_gen_prepare(dp, &s->rs, &t, 99, &g) == -EINVAL && !g, "too deep accepted");
	t = s->t;
	t.cfg.max_leaf = PC_MAX_LEAF + 1;
	CHECK(pc_dp_gen_prepare(dp, &s->rs, &t, 99, &g) == -EINVAL && !g, "too big leaf accepted");
	t = s->t;
	t.cfg.nrules = s->rs.nrules + 1;
	CHECK(pc_dp_gen_prepare(dp, &s->rs, &t, 99, &g) == -EINVAL && !g, "rule count mismatch accepted");
	CHECK(pc_dp_gen_prepare(dp, &s->rs, NULL, 99, &g) == -EINVAL && !g, "no tree accepted");

	/* the verifier's worst case: every limit at its maximum, without and
	 * with slow leaves (the bpf_loop() path) */
	for (int slow = 0; slow < 2; slow++) {
		_cleanup_free_ struct pc_node *nodes = calloc(s->t.nnodes + 1, sizeof(*nodes));
		int r;

		if (!nodes)
			break;
		t = s->t;
		memcpy(nodes, s->t.nodes, s->t.nnodes * sizeof(*nodes));
		nodes[t.nnodes] = (struct pc_node){ .kind = slow ? PC_NODE_SLOW : PC_NODE_LEAF,
						    .count = slow ? (uint32_t)t.nleaf : 0 };
		t.nodes = nodes;
		t.nnodes++;
		t.cfg.ntrees = PC_MAX_TREES;
		t.cfg.max_depth = PC_MAX_DEPTH;
		t.cfg.max_leaf = PC_MAX_LEAF;
		for (int i = 0; i < PC_MAX_TREES; i++) {
			t.cfg.root[i] = i == PC_MAX_TREES - 1 ? (uint32_t)s->t.nnodes : s->t.cfg.root[0];
			t.cfg.min_rule[i] = s->t.cfg.min_rule[0];
		}
		tr_tree_limits(&t.cfg);
		r = pc_dp_gen_prepare(dp, &s->rs, &t, 99, &g);
		CHECK(r == 0, "limits at their maximum%s do not load: %s\n%s", slow ? ", slow leaves" : "",
		      strerror(-r), pc_dp_verifier_log(dp));
		if (g) {
			print_prog_stats(slow ? "max+slow tc" : "max tc", pc_dp_gen_prog_fd(g, PC_HOOK_INGRESS));
			print_prog_stats(slow ? "max+slow sock" : "max sock",
					 pc_dp_gen_prog_fd(g, PC_HOOK_MONITOR));
			pc_dp_gen_free(g);
		}
		g = NULL;
	}
}

static void many_rules(struct tr_set *s, int n)
{
	tr_init(s);
	more_rules(s, n);
	tr_finish(s);
}

/* slot_cap 8 is rounded up to one chunk of counters; a rule set that needs
 * more slots gets a larger counter set, which its commit switches in and
 * pins; counts made before carry on. */
static void test_small_slot_cap(void)
{
	char p2[160];
	struct pc_dp_opts o = { .pin_path = p2, .slot_cap = 8 };
	struct pc_dp *d2 = NULL;
	struct tr_set s;
	struct stat st;
	int r;

	snprintf(p2, sizeof(p2), "/tmp/pktclassd-test-bpf-%d", (int)getpid());
	CHECK(pc_dp_open(&o, &d2) == -ENOTSUP && !d2, "pin path outside bpffs accepted");
	CHECK(stat(p2, &st) < 0 && errno == ENOENT, "pin dir outside bpffs left behind");
	o.pin_path = "relative/path";
	CHECK(pc_dp_open(&o, &d2) == -EINVAL && !d2, "relative pin path accepted");
	o.pin_path = p2;
	snprintf(p2, sizeof(p2), "%s-2/nested", pin);
	r = pc_dp_open(&o, &d2);
	CHECK(r == 0, "open second datapath: %s", strerror(-r));
	if (r < 0)
		return;
	CHECK(pc_dp_slot_cap(d2) == PC_CNT_CHUNK, "slot cap %u, want %u", pc_dp_slot_cap(d2),
	      PC_CNT_CHUNK);
	/* a second daemon on the same pin path is refused */
	{
		struct pc_dp *d3 = NULL;

		CHECK(pc_dp_open(&o, &d3) == -EBUSY && !d3, "second open of a locked pin path");
	}
	many_rules(&s, PC_CNT_CHUNK / 2);
	CHECK(tr_build(&s, 8) == 0, "tree of %u rules", s.rs.nrules);
	struct pc_gen *g = NULL;
	int a = pc_dp_attach_slot_get(d2, "lo", IFINDEX, PC_HOOK_INGRESS, 0, 0);
	struct pc_iface ifc = { .attach = { a, PC_ATTACH_NONE, PC_ATTACH_NONE }, .ifbits = IFBITS };

	r = pc_dp_gen_prepare(d2, &s.rs, &s.t, 1, &g);
	CHECK(r == 0 && pc_dp_gen_slot_cap(g) > PC_CNT_CHUNK, "%u rules and classes: %s, capacity %u",
	      2 * s.rs.nrules + 1, strerror(-r), g ? pc_dp_gen_slot_cap(g) : 0);
	CHECK(pc_dp_slot_cap(d2) == PC_CNT_CHUNK, "live capacity grew before the commit");
	if (g) {
		CHECK(a >= 0 && pc_dp_gen_set_iface(g, IFINDEX, &ifc) == 0, "iface of the big set");
		CHECK(pc_dp_gen_commit(d2, g, "/test/big.yaml") == 0, "commit the big set");
		CHECK(pc_dp_slot_cap(d2) == pc_dp_gen_slot_cap(g), "live capacity %u after the commit",
		      pc_dp_slot_cap(d2));
	}
	_cleanup_(pc_stats_freep) struct pc_stats *sts = NULL;
	CHECK(pc_stats_read(p2, &sts) == 0 && sts->slot_cap == pc_dp_slot_cap(d2) &&
	      sts->meta.slot_cap == pc_dp_slot_cap(d2) && sts->natt == 1,
	      "pinned state after the growth: cap %u", sts ? sts->slot_cap : 0);
	tr_free(&s);
	pc_dp_close(d2, false);
	CHECK(stat(p2, &st) < 0 && errno == ENOENT, "pins of the second datapath left behind");
}

/* Counts carry into a larger counter set: what the old generation counted,
 * on every CPU, is in the new arrays after the switch, and the new
 * generation counts on from there. */
static void test_grow_carry(void)
{
	struct pg_pkt p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 17, 4000, 5060);
	uint8_t buf[PG_FRAME_MAX];
	int len = pg_build(&p, buf, sizeof(buf));
	uint32_t cap0 = pc_dp_slot_cap(dp), slot, cls;
	struct pc_counter c0, c1;
	struct tr_set s, big;
	struct pc_gen *g;
	struct bt_run r;

	rule_set_build(&s, true, NULL);
	CHECK(tr_build(&s, 2) == 0, "tree");
	g = gen_load(&s, 40);
	if (!g || pc_dp_gen_commit(dp, g, "/test/config.yaml") < 0) {
		CHECK(false, "commit before the growth");
		tr_free(&s);
		return;
	}
	slot = pc_dp_gen_outs(g)[R_SIP].slot;
	cls = pc_dp_gen_outs(g)[R_SIP].class_slot;
	for (int i = 0; i < 5; i++)
		test_run(pc_dp_entry_fd(dp, PC_HOOK_INGRESS), 1, buf, len, &r);
	CHECK(bt_counter_read(dp, ncpus, att[PC_HOOK_INGRESS], slot, &c0) == 0 && c0.packets >= 5, "sip counted");

	/* the same rules and enough others to outgrow the set */
	rule_set_build_n(&big, true, NULL, (int)cap0);
	CHECK(tr_build(&big, 8) == 0, "big tree");
	struct pc_gen *g2 = gen_load(&big, 41);
	CHECK(g2 && pc_dp_gen_slot_cap(g2) > cap0, "no larger set for %u rules", big.rs.nrules);
	if (g2)
		CHECK(pc_dp_gen_commit(dp, g2, "/test/big.yaml") == 0, "commit the big set");
	CHECK(pc_dp_slot_cap(dp) > cap0 && cnt_pinned(att[PC_HOOK_INGRESS]),
	      "counters not switched and pinned: cap %u", pc_dp_slot_cap(dp));
	CHECK(bt_counter_read(dp, ncpus, att[PC_HOOK_INGRESS], slot, &c1) == 0 && c1.packets == c0.packets &&
	      c1.bytes == c0.bytes, "sip not carried: %llu -> %llu packets",
	      (unsigned long long)c0.packets, (unsigned long long)c1.packets);
	/* back to the hand rules: same slots, counting on in the big set */
	g = gen_load(&s, 42);
	CHECK(g && pc_dp_gen_outs(g)[R_SIP].slot == slot && pc_dp_gen_outs(g)[R_SIP].class_slot == cls &&
	      pc_dp_gen_slot_cap(g) == pc_dp_slot_cap(dp), "hand rules after the growth");
	if (g)
		CHECK(pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit after the growth");
	test_run(pc_dp_entry_fd(dp, PC_HOOK_INGRESS), 1, buf, len, &r);
	CHECK(bt_counter_read(dp, ncpus, att[PC_HOOK_INGRESS], slot, &c1) == 0 && c1.packets == c0.packets + 1,
	      "sip after the growth: %llu packets, want %llu", (unsigned long long)c1.packets,
	      (unsigned long long)c0.packets + 1);
	ec.packets[PC_HOOK_INGRESS][slot] = c1.packets;
	ec.bytes[PC_HOOK_INGRESS][slot] = c1.bytes;
	CHECK(bt_counter_read(dp, ncpus, att[PC_HOOK_INGRESS], cls, &c1) == 0, "voice");
	ec.packets[PC_HOOK_INGRESS][cls] = c1.packets;
	ec.bytes[PC_HOOK_INGRESS][cls] = c1.bytes;
	tr_free(&big);
	tr_free(&s);
}

static void test_abi_mismatch(void)
{
	int meta = pinned_get("meta");
	uint32_t k = 0, old_id = pc_dp_entry_id(dp, PC_HOOK_INGRESS);
	struct pc_meta m;

	CHECK(meta >= 0 && bpf_map_lookup_elem(meta, &k, &m) == 0, "read meta");
	m.abi_version = PC_ABI_VERSION + 1;
	CHECK(bpf_map_update_elem(meta, &k, &m, BPF_ANY) == 0, "write meta");
	close(meta);
	if (reopen(0) < 0)
		return;
	CHECK(pc_dp_entry_id(dp, PC_HOOK_INGRESS) != old_id, "pins of another ABI were adopted");
	CHECK(pc_dp_attach_slot_find(dp, IFINDEX, PC_HOOK_INGRESS, NULL) == -ENOENT,
	      "attach records of another ABI were adopted");
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		int a = pc_dp_attach_slot_get(dp, "lo", IFINDEX, h, pc_dp_entry_id(dp, h), 0);

		CHECK(a >= 0, "attach slot: %s", strerror(-a));
		att[h] = a;
	}
	/* published by a generation that names them */
	struct tr_set s;
	struct pc_gen *g;

	rule_set_build(&s, true, NULL);
	CHECK(tr_build(&s, 2) == 0, "tree after the ABI mismatch");
	g = gen_load(&s, 1);
	CHECK(g && pc_dp_gen_commit(dp, g, "/test/config.yaml") == 0, "commit after the ABI mismatch");
	tr_free(&s);
}

static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	d[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* In a child without CAP_SYS_ADMIN (the systemd unit's set): every map of
 * the state is reached by path, the counter arrays included. */
static int adopt_without_sys_admin(uint32_t old_in)
{
	struct pc_dp_opts o = { .pin_path = pin };
	struct pc_dp *d = NULL;

	if (drop_sys_admin() < 0)
		return 2;
	if (bpf_map_get_fd_by_id(old_in) >= 0 || errno != EPERM)
		return 3; /* CAP_SYS_ADMIN not dropped */
	if (pc_dp_open(&o, &d) < 0)
		return 4;
	if (map_id(pc_dp_attach_counters_fd(d, att[PC_HOOK_INGRESS])) != old_in)
		return 5;
	pc_dp_close(d, true);
	return 0;
}

static void test_adopt_without_sys_admin(void)
{
	uint32_t old_in = map_id(pc_dp_attach_counters_fd(dp, att[PC_HOOK_INGRESS]));
	int st = -1;
	pid_t pid;

	/* the lock: the child opens the pin path as a daemon of its own */
	pc_dp_close(dp, true);
	dp = NULL;
	pid = fork();
	if (pid == 0)
		_exit(adopt_without_sys_admin(old_in));
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "adoption without CAP_SYS_ADMIN: child status 0x%x", st);
	reopen(0);
	for (int h = 0; h < PC_HOOK_MAX; h++)
		CHECK(cnt_pinned(att[h]), "counters of %s not pinned after adoption", hook_name(h));
}

static int run_tests(void)
{
	struct pc_dp_opts o = { .pin_path = pin, .slot_cap = 4 * PC_CNT_CHUNK };
	static const char *const sets[] = { "acl1_1k", "fw1_1k", "ipc1_1k" };
	static const char *const sets10k[] = { "acl1_10k", "fw1_10k", "ipc1_10k" };
	struct tr_set hand;
	struct stat st;
	int r;

	if (unshare(CLONE_NEWNET) < 0)
		return pt_unavailable("unshare(CLONE_NEWNET) failed");
	ncpus = libbpf_num_possible_cpus();
	r = pc_dp_open(&o, &dp);
	if (r < 0) {
		fprintf(stderr, "pc_dp_open: %s\n", strerror(-r));
		return pt_unavailable("bpf datapath unavailable");
	}
	pc_dp_set_trace(dp, true);
	for (int h = 0; h < PC_HOOK_MAX; h++) {
		r = pc_dp_attach_slot_get(dp, "lo", IFINDEX, h, pc_dp_entry_id(dp, h), 0);
		CHECK(r >= 0, "attach slot %d: %s", h, strerror(-r));
		att[h] = r;
	}
	print_prog_stats("pc_entry_ingress", pc_dp_entry_fd(dp, PC_HOOK_INGRESS));
	print_prog_stats("pc_entry_sock", pc_dp_entry_fd(dp, PC_HOOK_MONITOR));

	{
		struct tcase c[64];

		test_parser_userspace(c, make_cases(c));
	}
	rule_set_build(&hand, true, NULL);
	test_crafted(&hand, false);
	test_crafted(&hand, true);
	if (!pc_dp_current(dp)) {
		/* the verifier log is above; the rest needs a live generation */
		CHECK(0, "no live generation: the hand set did not load, later tests not run");
		tr_free(&hand);
		goto out;
	}
	test_unknown_iface(&hand);
	test_iface_tables();
	test_live(&hand);
	test_bad_tables(&hand);
	test_pinned_state(&hand, 2);
	test_adopt_and_slots(&hand);
	test_cnt_zero();
	test_no_monitor();
	test_grow_carry();
	test_fc_live(&hand);
	test_fc_flood();
	tr_free(&hand);
	test_small_slot_cap();
	test_abi_mismatch();
	test_adopt_without_sys_admin();

	if (stat(classbench_dir(), &st) < 0) {
		r = pt_unavailable("ClassBench sets not found (PC_CLASSBENCH_DIR)");
		if (r != 77)
			failures++;
	} else {
		for (size_t i = 0; i < ELEMENTSOF(sets); i++)
			test_classbench(sets[i], 10 + i, 0);
		test_classbench("acl1_1k", 13, 1);
		test_classbench("fw1_1k", 14, 2);
		for (size_t i = 0; i < ELEMENTSOF(sets); i++)
			test_classbench_pipeline(sets[i], 20 + i);
		/* PC_BPF_TEST_10K=1: the 10k sets too (slower) */
		if (getenv("PC_BPF_TEST_10K"))
			for (size_t i = 0; i < ELEMENTSOF(sets10k); i++)
				test_classbench_pipeline(sets10k[i], 30 + i);
	}

out:
	pc_dp_close(dp, false);
	dp = NULL;
	CHECK(stat(pin, &st) < 0 && errno == ENOENT, "pin path left behind after close");
	printf("# %u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}

/* The tests run in a child; the parent removes the pins however it ends. */
int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0)
		return pt_unavailable("needs root");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-test-bpf-%d", (int)getpid());
	return pt_run_forked(run_tests, cleanup);
}
