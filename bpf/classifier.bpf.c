// SPDX-License-Identifier: GPL-2.0-only
/* classifier.bpf.c - one generation of the classifier.
 *
 * pc_tc_ingress / pc_tc_egress (TC, enforcing) and pc_sock (socket filter,
 * observe only) share the parser (parse.h) and the decision-tree walk
 * (pktclass.h, pc_tree_classify() in daemon/compile.h): trees sorted by
 * min_rule, a tree is skipped when its min_rule is not better than the best
 * rule found so far; CUT nodes index a child by a bit field of one key word;
 * a LEAF lists candidate boxes best first and the scan stops at the first
 * match or at a box whose rule is not better than the best.
 *
 * The tables are sized and filled by the daemon before the programs are
 * switched in; the per-generation constants live in .rodata, so the verifier
 * sees the real tree count and depth. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "pktclass.h"
#include "parse.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct pc_gen_cfg pc_cfg = {};
const volatile __u32 pc_trace_on = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_node);
} nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} leaf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_box);
} boxes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_rule_out);
} outs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PC_MAX_ATTACH);
	__type(key, __u32);
	__type(value, struct pc_iface);
} ifaces SEC(".maps");

/* Persistent: the daemon passes its pinned map in (bpf_map__reuse_fd), so
 * this definition only describes the shape. */
struct pc_cnt_inner {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct pc_counter));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PC_MAX_ATTACH);
	__type(key, __u32);
	__array(values, struct pc_cnt_inner);
} cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_trace);
} trace SEC(".maps");

/* Per-CPU scratch: the key and the walk state (callbacks get a pointer). */
struct pc_work {
	struct pc_key key;
	__u32 best;   /* best rule so far, nrules = none */
	__u32 base;   /* leaf being scanned */
	__u32 count;
	__u32 l3_off; /* where the parser found the L3 header */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_work);
} work SEC(".maps");

static __always_inline bool pc_box_match(const struct pc_box *b, const struct pc_key *k)
{
	__u32 n = b->nchecks;

	for (__u32 i = 0; i < PC_BOX_CHECKS; i++) {
		const struct pc_check *c = &b->c[i];
		__u32 word, v;

		if (i >= n)
			break;
		word = c->word;
		if (word >= PC_KEY_WORDS)
			return false;
		v = k->w[word];
		switch (c->op) {
		case PC_OP_RANGE:
			if (v < c->a || v > c->b)
				return false;
			break;
		case PC_OP_MASK:
			if ((v & c->a) != c->b)
				return false;
			break;
		case PC_OP_ANY:
			if (!(v & c->a))
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

/* bpf_loop() wants its context on the stack: it points at the scratch. */
struct pc_leaf_ctx {
	struct pc_work *w;
};

static long pc_leaf_cb(__u32 i, void *data)
{
	struct pc_work *w = ((struct pc_leaf_ctx *)data)->w;
	const struct pc_box *b;
	__u32 idx, *bi;

	if (!w)
		return 1;
	idx = w->base + i;
	bi = bpf_map_lookup_elem(&leaf, &idx);
	if (!bi)
		return 1;
	b = bpf_map_lookup_elem(&boxes, bi);
	if (!b || b->rule >= w->best)
		return 1;
	if (pc_box_match(b, &w->key)) {
		w->best = b->rule;
		return 1;
	}
	return 0;
}

/* Walk tree t down to its leaf and scan it. */
static __always_inline void pc_walk(struct pc_work *w, __u32 t)
{
	__u32 n = pc_cfg.root[t];

	for (__u32 d = 0; d < PC_MAX_DEPTH; d++) {
		const struct pc_node *nd;
		__u32 word, v, bits;

		if (d >= pc_cfg.max_depth)
			break;
		nd = bpf_map_lookup_elem(&nodes, &n);
		if (!nd)
			break;
		if (nd->kind == PC_NODE_LEAF) {
			struct pc_leaf_ctx lc = { .w = w };

			w->base = nd->base;
			w->count = nd->count < PC_MAX_LEAF ? nd->count : PC_MAX_LEAF;
			bpf_loop(w->count, pc_leaf_cb, &lc, 0);
			break;
		}
		word = nd->word;
		if (nd->kind != PC_NODE_CUT || word >= PC_KEY_WORDS)
			break;
		bits = nd->bits;
		v = nd->shift < 32 ? w->key.w[word] >> nd->shift : 0;
		n = nd->base + (bits >= 32 ? v : v & ((1u << bits) - 1));
	}
}

static __always_inline __u32 pc_classify(struct pc_work *w)
{
	w->best = pc_cfg.nrules;
	for (__u32 t = 0; t < PC_MAX_TREES; t++) {
		if (t >= pc_cfg.ntrees)
			break;
		if (pc_cfg.min_rule[t] >= w->best)
			continue;
		pc_walk(w, t);
	}
	return w->best;
}

static __always_inline void pc_count(__u32 att, __u32 slot, __u64 bytes)
{
	struct pc_counter *c;
	void *inner;

	inner = bpf_map_lookup_elem(&cnt, &att);
	if (!inner)
		return;
	c = bpf_map_lookup_elem(inner, &slot);
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

static __always_inline void pc_trace(const struct pc_work *w, __u32 rule, int status, __u32 att,
				     __u32 l3_off)
{
	struct pc_trace *t;
	__u32 zero = 0;

	if (!pc_trace_on)
		return;
	t = bpf_map_lookup_elem(&trace, &zero);
	if (!t)
		return;
	t->runs++;
	t->rule = rule;
	t->status = status;
	t->attach = att;
	t->l3_off = l3_off;
	__builtin_memcpy(&t->key, &w->key, sizeof(t->key));
}

/* ---- packet log and capture (outcome side) ---------------------------------
 * pc_log_cost_ns: NSEC_PER_SEC / settings.log_rate, 0 when the log is off.
 * pc_capture_slot: see PC_CAPTURE_NONE.  pc_sock_l2: socket data starts at
 * the MAC header (AF_PACKET SOCK_RAW), not at L3. */
const volatile __u64 pc_log_cost_ns = 0;
const volatile __u32 pc_capture_slot = PC_CAPTURE_NONE;
const volatile __u32 pc_sock_l2 = 0;

/* Persistent, like cnt: the daemon passes its pinned maps in. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PC_LOG_RING_SIZE);
} log_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_log_limit);
} log_limit SEC(".maps");

/* Per-CPU token bucket (one second of burst) in front of the ring, so that
 * a flood neither fills the ring nor costs more than a counter update. */
static __always_inline bool pc_log_take(struct pc_log_limit *l)
{
	__u64 now = bpf_ktime_get_ns(), credit = l->credit_ns + (now - l->last_ns);

	l->last_ns = now;
	if (credit > PC_NSEC_PER_SEC)
		credit = PC_NSEC_PER_SEC;
	l->credit_ns = credit;
	if (!pc_log_cost_ns || credit < pc_log_cost_ns)
		return false;
	l->credit_ns = credit - pc_log_cost_ns;
	return true;
}

static __always_inline void pc_log(const struct pc_work *w, const struct pc_rule_out *o,
				   __u32 ifindex, __u32 hook, __u32 bytes)
{
	struct pc_log_rec rec = { .slot = o->slot, .ifindex = ifindex, .hook = hook, .len = bytes };
	struct pc_log_limit *l;
	__u32 zero = 0;

	l = bpf_map_lookup_elem(&log_limit, &zero);
	if (!l)
		return;
	if (!pc_log_take(l)) {
		l->suppressed++;
		return;
	}
	__builtin_memcpy(&rec.key, &w->key, sizeof(rec.key));
	if (bpf_ringbuf_output(&log_ring, &rec, sizeof(rec), 0) < 0)
		l->suppressed++;
}

/* Rewrite the DSCP bits, keeping ECN; IPv4 header checksum kept valid. */
static __always_inline void pc_set_dscp(struct __sk_buff *skb, __u32 l3, __u32 off, __u8 dscp)
{
	__u8 h[2], o[2];

	if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0)
		return;
	o[0] = h[0];
	o[1] = h[1];
	if (l3 == PC_ETH_P_IP) {
		h[1] = (__u8)(dscp << 2) | (h[1] & 0x3);
		if (h[1] == o[1])
			return;
		bpf_l3_csum_replace(skb, off + 10, *(__u16 *)o, *(__u16 *)h, 2);
	} else if (l3 == PC_ETH_P_IPV6) {
		h[0] = (h[0] & 0xf0) | (dscp >> 2);
		h[1] = (__u8)((dscp & 0x3) << 6) | (h[1] & 0x3f);
	} else
		return;
	bpf_skb_store_bytes(skb, off, h, sizeof(h), 0);
}

/* The parser as subprograms, not inlined: the verifier walks its paths once
 * per program, and what follows starts from the few states they end in. */
static __noinline int pc_parse_tc(struct __sk_buff *skb, struct pc_work *w)
{
	struct pc_src src = { .skb = skb, .direct = 1 };
	struct pc_parse_in in = { .len = skb->len, .l2 = 1, .vlan_present = skb->vlan_present,
				  .vlan_tci = skb->vlan_tci };

	if (!w)
		return PC_PARSE_MALFORMED;
	return pc_parse(&src, &in, &w->key, &w->l3_off);
}

static __noinline int pc_parse_sock(struct __sk_buff *skb, struct pc_work *w)
{
	struct pc_src src = { .skb = skb, .direct = 0 };
	struct pc_parse_in in = { .len = skb->len, .proto = bpf_ntohs(skb->protocol),
				  .vlan_present = skb->vlan_present, .vlan_tci = skb->vlan_tci };

	/* a capture's SOCK_RAW socket hands over the frame from the MAC header */
	if (pc_sock_l2)
		in.l2 = 1;

	if (!w)
		return PC_PARSE_MALFORMED;
	return pc_parse(&src, &in, &w->key, &w->l3_off);
}

/* Classify and count; returns the outcome, or NULL to leave the packet
 * alone.  hook: PC_HOOK_*. */
static __always_inline const struct pc_rule_out *pc_run(struct __sk_buff *skb, __u32 hook,
						       __u32 *l3_off, __u32 *l3)
{
	const struct pc_rule_out *o;
	const struct pc_iface *ifc;
	__u32 zero = 0, ifindex, att, rule, bytes;
	struct pc_work *w;
	int st;

	w = bpf_map_lookup_elem(&work, &zero);
	if (!w)
		return NULL;
	bytes = skb->len;
	if (hook == PC_HOOK_MONITOR) {
		bytes += 14;
		st = pc_parse_sock(skb, w);
	} else
		st = pc_parse_tc(skb, w);
	*l3_off = w->l3_off;
	*l3 = w->key.w[PC_W_L3];

	ifindex = skb->ifindex;
	ifc = bpf_map_lookup_elem(&ifaces, &ifindex);
	if (!ifc) {
		pc_trace(w, PC_TRACE_NO_RULE, st, PC_ATTACH_NONE, *l3_off);
		return NULL;
	}
	att = ifc->attach[hook < PC_HOOK_MAX ? hook : 0];
	if (st == PC_PARSE_MALFORMED) {
		pc_count(att, PC_SLOT_MALFORMED, bytes);
		pc_trace(w, PC_TRACE_NO_RULE, st, att, *l3_off);
		return NULL;
	}
	if (hook == PC_HOOK_MONITOR)
		w->key.w[PC_W_DIR] = skb->pkt_type == PACKET_OUTGOING ? PC_DIR_EGRESS : PC_DIR_INGRESS;
	else
		w->key.w[PC_W_DIR] = hook == PC_HOOK_EGRESS ? PC_DIR_EGRESS : PC_DIR_INGRESS;
	w->key.w[PC_W_IFBITS] = ifc->ifbits;

	rule = pc_classify(w);
	pc_trace(w, rule, st, att, *l3_off);
	o = bpf_map_lookup_elem(&outs, &rule);
	if (!o)
		return NULL;
	pc_count(att, o->slot, bytes);
	if (o->class_slot != o->slot)
		pc_count(att, o->class_slot, bytes);
	if (o->flags & PC_F_LOG)
		pc_log(w, o, ifindex, hook, bytes);
	return o;
}

static __always_inline int pc_tc(struct __sk_buff *skb, __u32 hook)
{
	const struct pc_rule_out *o;
	__u32 l3_off = 0, l3 = 0;

	o = pc_run(skb, hook, &l3_off, &l3);
	if (!o)
		return TC_ACT_UNSPEC;
	if (o->flags & PC_F_MARK)
		skb->mark = o->mark;
	if (o->flags & PC_F_PRIO)
		skb->priority = o->priority;
	if (o->flags & PC_F_DSCP)
		pc_set_dscp(skb, l3, l3_off, o->dscp);
	if (o->action == PC_ACT_DROP)
		return TC_ACT_SHOT;
	/* An unresolved redirect target (interface missing) passes. */
	if (o->action == PC_ACT_REDIRECT && o->redirect_ifindex)
		return bpf_redirect(o->redirect_ifindex, 0);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int pc_tc_ingress(struct __sk_buff *skb)
{
	return pc_tc(skb, PC_HOOK_INGRESS);
}

SEC("tc")
int pc_tc_egress(struct __sk_buff *skb)
{
	return pc_tc(skb, PC_HOOK_EGRESS);
}

/* Monitor hook: counts, never enforces, never delivers to the socket.
 * Loaded for a capture, it delivers exactly the packets of one class. */
SEC("socket")
int pc_sock(struct __sk_buff *skb)
{
	const struct pc_rule_out *o;
	__u32 l3_off, l3;

	o = pc_run(skb, PC_HOOK_MONITOR, &l3_off, &l3);
	if (pc_capture_slot != PC_CAPTURE_NONE && o && o->class_slot == pc_capture_slot)
		return skb->len;
	return 0;
}
