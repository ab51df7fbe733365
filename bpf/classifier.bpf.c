// SPDX-License-Identifier: GPL-2.0-only
/* classifier.bpf.c - one generation of the classifier.
 *
 * pc_tc (TC, enforcing, both hooks: the hook comes in skb->cb[PC_CB_HOOK]
 * from the entry program) and pc_sock (socket filter, observe only; loaded
 * only when the configuration has monitor hooks) share the parser (parse.h)
 * and the decision-tree walk
 * (pktclass.h, pc_tree_classify() in daemon/classifier/compile.h): trees sorted by
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

/* Entries in the tables below; the verifier bounds every index by them. */
const volatile __u32 pc_nnodes = 1;
const volatile __u32 pc_nleaf = 1;
const volatile __u32 pc_nleafx = 1;
const volatile __u32 pc_nboxes = 1;
/* The generation has slow leaves (PC_NODE_SLOW); without, that code is dead. */
const volatile __u32 pc_has_slow = 0;

/* The tree tables: each one array element holding the whole table
 * (value_size = entries * element size, set by the daemon), so that the
 * walk indexes a pointer looked up once per packet instead of calling the
 * map lookup, through a key on the stack, for every node and box. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct pc_node));
} nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct pc_leaf_ent));
} leaf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct pc_leaf_ext));
} leafx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct pc_box));
} boxes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_rule_out);
} outs SEC(".maps");

/* Not preallocated: PC_MAX_ATTACH entries would cost memory per generation
 * that the few interfaces of most configurations never use. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PC_MAX_ATTACH);
	__type(key, __u32);
	__type(value, struct pc_iface);
} ifaces SEC(".maps");

/* The same entries for ifindex < PC_IFACE_ARRAY (ifbits 0: absent). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PC_IFACE_ARRAY);
	__type(key, __u32);
	__type(value, struct pc_iface);
} ifarr SEC(".maps");

#include "cnt-map.h"

/* ---- sets (pktclass.h, "sets") -------------------------------------------
 * Pinned, reused by every generation: the segments of the set pool and the
 * head with the live directories.  A generation reads the directory of its
 * parity (pc_set_dir_slot) once per packet, before any lookup. */
struct pc_set_seg {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, PC_SET_SEG_SIZE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PC_SET_SEGS_MAX);
	__type(key, __u32);
	__array(values, struct pc_set_seg);
} set_segs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_set_head);
} set_head SEC(".maps");

const volatile __u32 pc_nsetrefs = 0;       /* references looked up before the walk */
const volatile __u32 pc_set_dir_slot = 0;   /* this generation's pc_set_head.dir[] */
const volatile struct pc_set_ref pc_setref[PC_SET_REFS_EAGER] = {};

static __always_inline const __u8 *pc_set_seg(__u32 seg)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(&set_segs, &seg);

	if (!inner)
		return 0;
	return bpf_map_lookup_elem(inner, &zero);
}

#define PC_SET_SEG(ctx, seg) pc_set_seg(seg)
#include "setlookup.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_trace);
} trace SEC(".maps");

/* Per-CPU scratch: the key.  Not the stack: there the verifier would track every key word
 * the parser wrote as a distinct constant or range, and stop pruning the
 * tree walk (seconds of verification instead of milliseconds). */
struct pc_work {
	struct pc_fc_count fc; /* first: the daemon reads it (pktclass.h) */
	/* kw[word & 31] is a key word for every word below PC_KEY_WORDS and 0
	 * above: the walk indexes the key without a bounds branch */
	union {
		struct pc_key key;
		__u32 kw[32];
	};
	/* the flow cache (flowcache.h): the cache key and tag of the packet,
	 * its bucket, the insertion LCG, and what the cache did on this CPU */
	union {
		__u32 fk[PC_FC_KEY_WORDS + 1];
		__u64 fk64[(PC_FC_KEY_WORDS + 1) / 2];
	};
	__u32 fc_idx;
	__u32 rnd;
	__u32 fc_n, fc_h;     /* lookups and hits in the window (flood mode) */
	__u32 fc_flood;       /* the CPU is in flood mode */
	__u32 fc_pass;        /* packets since, for the sampling */
	__u32 l3_off; /* where the parser found the L3 header */
	__u32 best;   /* nrules, read back as a value the verifier does not know */
	__u32 hit;    /* leaf entry of the match, UINT32_MAX: none (default rule) */
	__u32 cls;    /* the packet's class (pc_pkt_class), read back like best */
	/* The slow leaves the walks reached, scanned after all trees
	 * (pc_slow_scan): nslow of them. */
	__u32 nslow;
	__u32 slow_base[PC_MAX_TREES];
	__u32 slow_cnt[PC_MAX_TREES];
	__u32 set_dir; /* the set directory this packet sees */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_work);
} work SEC(".maps");

/* A set reference past PC_SET_REFS_EAGER (PC_OP_SET: b is the set, word
 * the field's first word), looked up in the directory the packet saw.  A
 * global function: verified once, called only by boxes that hold one. */
__noinline int pc_set_check(__u32 set, __u32 word, const struct pc_key *k)
{
	struct pc_work *w;
	__u32 zero = 0, field;

	if (!k)
		return 0;
	w = bpf_map_lookup_elem(&work, &zero);
	if (!w)
		return 0;
	switch (word) {
	case PC_W_SRC0: field = PC_SF_SRC; break;
	case PC_W_DST0: field = PC_SF_DST; break;
	case PC_W_SPORT: field = PC_SF_SPORT; break;
	case PC_W_DPORT: field = PC_SF_DPORT; break;
	default: return 0;
	}
	return pc_set_member(0, w->set_dir, set, field, k->w);
}

static __always_inline bool pc_check_holds(const struct pc_check *c, const struct pc_key *k)
{
	__u32 word = c->word, v;

	if (word >= PC_KEY_WORDS)
		return false;
	v = k->w[word];
	switch (c->op) {
	case PC_OP_RANGE:
		return v >= c->a && v <= c->b;
	case PC_OP_MASK:
		return (v & c->a) == c->b;
	case PC_OP_ANY:
		return (v & c->a) != 0;
	case PC_OP_SET:
		return pc_set_check(c->b, word, k);
	}
	return false;
}

/* All checks of a box: 1 when they hold.  Called only for the boxes whose
 * leaf entry does not hold all their checks, once those passed (the first
 * ones are checked again: simpler for the verifier than a start index).  A
 * global function, so the verifier checks it once, not once per leaf-scan
 * iteration. */
__noinline int pc_box_match(const struct pc_box *b, const struct pc_key *k)
{
	__u32 n;

	if (!b || !k)
		return 0;
	n = b->nchecks;
	for (__u32 i = 0; i < PC_BOX_CHECKS; i++) {
		if (i >= n)
			break;
		if (!pc_check_holds(&b->c[i], k))
			return 0;
	}
	return 1;
}

/* The checks inline in a leaf entry, written out (no loop for the verifier
 * to walk). */
#define PC_ENTRY_CHECK(e, i)                                            \
	do {                                                            \
		if (n <= (i))                                           \
			return true;                                    \
		v = kw[(e)->word[i] & 31];                              \
		if (v < (e)->r[i].lo || v > (e)->r[i].hi)               \
			return false;                                   \
	} while (0)

/* kw: the key as 32 words (struct pc_work.kw), so that a word index needs
 * no bounds branch. */
static __always_inline bool pc_entry_holds(const struct pc_leaf_ent *e, const __u32 *kw)
{
	__u32 n = e->n, v, f = e->flags;

	if ((f & PC_LE_IPV4) && kw[PC_W_L3] != PC_ETH_P_IP)
		return false;
	if ((f & PC_LE_IPV6) && kw[PC_W_L3] != PC_ETH_P_IPV6)
		return false;
	_Static_assert(PC_LEAF_CHECKS == 5, "PC_ENTRY_CHECK list");
	PC_ENTRY_CHECK(e, 0);
	PC_ENTRY_CHECK(e, 1);
	PC_ENTRY_CHECK(e, 2);
	PC_ENTRY_CHECK(e, 3);
	PC_ENTRY_CHECK(e, 4);
	return true;
}

/* The checks of a leaf entry's extension (all but the whole-box ones). */
static __always_inline bool pc_ext_holds(const struct pc_leaf_ext *x, const __u32 *kw)
{
	__u32 n = x->n, v, f = x->flags;

	if ((f & PC_LX_TCPFL) && (kw[PC_W_TCPFLAGS] & x->tf_mask) != x->tf_value)
		return false;
	if ((f & PC_LX_IFANY) && !(kw[PC_W_IFBITS] & x->if_any))
		return false;
	if ((f & PC_LX_SETS) && (kw[PC_W_SETS] & x->sets) != x->sets)
		return false;
	_Static_assert(PC_LEAF_XCHECKS == 5, "PC_ENTRY_CHECK list");
	PC_ENTRY_CHECK(x, 0);
	PC_ENTRY_CHECK(x, 1);
	PC_ENTRY_CHECK(x, 2);
	PC_ENTRY_CHECK(x, 3);
	PC_ENTRY_CHECK(x, 4);
	return true;
}

/* The tables, looked up once per packet. */
struct pc_tabs {
	struct pc_work *w;
	const struct pc_key *key;
	const struct pc_node *nodes;
	const struct pc_leaf_ent *leaf;
	const struct pc_leaf_ext *leafx;
};

/* Whether the box of leaf entry e holds, given that e's own checks do and it
 * has PC_LE_EXT: its extension, and when that says so the whole box.  A
 * global function, verified once: the slow leaves' callback and a box whose
 * checks need the whole box use it.  -1: tables inconsistent. */
__noinline int pc_rest_match(const struct pc_leaf_ent *e)
{
	const struct pc_leaf_ext *tx, *x;
	const struct pc_work *w;
	const struct pc_box *tb;
	__u32 zero = 0, xi, bi;

	w = bpf_map_lookup_elem(&work, &zero);
	if (!e || !w)
		return -1;
	tx = bpf_map_lookup_elem(&leafx, &zero);
	xi = e->box;
	if (!tx || xi >= pc_nleafx)
		return -1;
	x = &tx[xi];
	if (!pc_ext_holds(x, w->kw))
		return 0;
	if (!(x->flags & PC_LX_MORE))
		return 1;
	tb = bpf_map_lookup_elem(&boxes, &zero);
	bi = x->box;
	if (!tb || bi >= pc_nboxes)
		return -1;
	return pc_box_match(&tb[bi], &w->key);
}

/* For the slow leaves' callback: one function call for the rest. */
static __always_inline int pc_rest_holds(const struct pc_leaf_ent *e)
{
	return e->flags & PC_LE_EXT ? pc_rest_match(e) : 1;
}

/* For the fast leaf scan: the extension's checks inline (the call cost ~20 ns
 * a packet on IPv6 and mixed sets, 0.6 to 1 a packet; inline, the verifier
 * walks them per leaf position: 243k to 411k instructions at every limit's
 * maximum), the whole box (rare) through the function. */
static __always_inline int pc_rest_holds_inl(const struct pc_leaf_ext *tx,
					     const struct pc_leaf_ent *e, const __u32 *kw)
{
	const struct pc_leaf_ext *x;
	__u32 xi = e->box;

	if (!(e->flags & PC_LE_EXT))
		return 1;
	if (xi >= pc_nleafx)
		return -1;
	x = &tx[xi];
	if (!pc_ext_holds(x, kw))
		return 0;
	if (!(x->flags & PC_LX_MORE))
		return 1;
	return pc_rest_match(e);
}

/* Walk tree t down to its leaf: its entries are leaf[*base .. + *count),
 * *slow when it is a slow leaf (PC_NODE_SLOW).  *count stays 0 when the walk
 * stops early (nothing below can beat best). */
static __always_inline void pc_descend(const struct pc_tabs *tb, __u32 t, __u32 best,
				       __u32 *base, __u32 *count, bool *slow)
{
	__u64 n = pc_cfg.root[t];

	for (__u32 d = 0; d < PC_MAX_DEPTH; d++) {
		const struct pc_node *nd;
		__u32 kind;

		if (d >= pc_cfg.depth[t] || n >= pc_nnodes)
			break;
		nd = &tb->nodes[n];
		if (nd->min_rule >= best)
			break;
		kind = nd->kind;
		if (kind != PC_NODE_CUT) {
			if (kind == PC_NODE_LEAF || kind == PC_NODE_SLOW) {
				*base = nd->base;
				*count = nd->count;
				*slow = kind == PC_NODE_SLOW;
			}
			break;
		}
		n = (__u64)nd->base + ((tb->w->kw[nd->word & 31] >> (nd->shift & 31)) & nd->mask);
	}
}

/* Scan a leaf, best first: the first box that matches, unless the scan
 * reaches a rule that cannot beat best.  A plain loop, not bpf_loop(): a
 * callback is a call and a return per box, and returns are expensive with
 * the kernel's return-thunk mitigations (about 10 ns each here). */
static __always_inline __u32 pc_scan(const struct pc_tabs *tb, __u32 t, __u32 base, __u32 count,
				     __u32 best)
{
	for (__u32 j = 0; j < PC_MAX_LEAF; j++) {
		const struct pc_leaf_ent *e;
		__u32 idx = base + j;
		int h;

		if (j >= pc_cfg.leaf[t] || j >= count || idx >= pc_nleaf)
			break;
		e = &tb->leaf[idx];
		if (e->rule >= best)
			break;
		if (!pc_entry_holds(e, tb->w->kw))
			continue;
		h = pc_rest_holds_inl(tb->leafx, e, tb->w->kw);
		if (h < 0)
			break;
		if (h) {
			tb->w->hit = idx;
			return e->rule;
		}
	}
	return best;
}

#define PC_NO_HIT 0xffffffffu

/* The slow leaves (more than PC_MAX_LEAF boxes, kind PC_NODE_SLOW) that the
 * walks reached, after all trees: one bpf_loop() whose callback checks one
 * entry at a time, leaf after leaf (not called when no walk reached one),
 * which the verifier checks once however
 * long the leaves, at the price of a call and a return per entry.  One call
 * site after the tree loop: a call per tree would have the verifier walk the
 * trees after it once more for each. */
struct pc_slow {
	__u32 k;    /* tree whose slow leaf is being scanned */
	__u32 pos;  /* entry in it */
	__u32 best;
	__u32 hit;
};

static long pc_slow_step(__u32 i, void *ctx)
{
	struct pc_slow *s = ctx;
	__u32 zero = 0, k = s->k, idx;
	const struct pc_leaf_ent *tab = bpf_map_lookup_elem(&leaf, &zero), *e;
	const struct pc_work *w = bpf_map_lookup_elem(&work, &zero);
	int h;

	if (!tab || !w || k >= PC_MAX_TREES || k >= w->nslow)
		return 1;
	if (s->pos >= w->slow_cnt[k])
		goto next;
	idx = w->slow_base[k] + s->pos;
	if (idx >= pc_nleaf)
		return 1;
	e = &tab[idx];
	if (e->rule >= s->best)
		goto next;
	s->pos++;
	if (!pc_entry_holds(e, w->kw))
		return 0;
	h = pc_rest_holds(e);
	if (h < 0)
		return 1;
	if (h) {
		s->best = e->rule;
		s->hit = idx;
		goto next; /* nothing later in this leaf is better */
	}
	return 0;
next:
	s->k = k + 1;
	s->pos = 0;
	return 0;
}

static __always_inline __u32 pc_slow_scan(struct pc_work *w, __u32 best)
{
	struct pc_slow s = { .best = best, .hit = PC_NO_HIT };

	if (!pc_has_slow || !w->nslow)
		return best;
	/* at most every entry and a step to the next leaf per tree; the
	 * callback ends the loop after the last tree */
	bpf_loop(pc_nleaf + PC_MAX_TREES, pc_slow_step, &s, 0);
	if (s.hit == PC_NO_HIT)
		return best;
	w->hit = s.hit;
	return s.best;
}

/* pktclass.h, PC_PKT_CLASSES: the packet's class. */
static __always_inline __u32 pc_pkt_class(const __u32 *kw)
{
	__u32 l3 = kw[PC_W_L3], p = kw[PC_W_PROTO], c;

	c = l3 == PC_ETH_P_IP ? 0 : l3 == PC_ETH_P_IPV6 ? 4 : 8;
	c += p == PC_IPPROTO_TCP ? 0 : p == PC_IPPROTO_UDP ? 1 :
	     p == PC_IPPROTO_SCTP || p == PC_IPPROTO_UDPLITE ? 2 : 3;
	return c * 2 + (kw[PC_W_VLAN] != PC_VLAN_NONE);
}

static __always_inline __u32 pc_classify(struct pc_work *w)
{
	__u32 zero = 0, best, cls;
	struct pc_tabs tb = {
		.w = w,
		.key = &w->key,
		.nodes = bpf_map_lookup_elem(&nodes, &zero),
		.leaf = bpf_map_lookup_elem(&leaf, &zero),
		.leafx = bpf_map_lookup_elem(&leafx, &zero),
	};

	/* best goes through the scratch map so that the verifier sees an
	 * unknown value, not the constant nrules: compared with the constant
	 * min_rule[t] it would be marked precise, and every tree's walk would
	 * then be verified once per distinct best instead of once. */
	w->best = pc_cfg.nrules;
	w->hit = PC_NO_HIT;
	w->cls = pc_pkt_class(w->kw);
	w->nslow = 0;
	best = *(volatile __u32 *)&w->best;
	if (!tb.nodes || !tb.leaf || !tb.leafx)
		return best;
	for (__u32 t = 0; t < PC_MAX_TREES; t++) {
		__u32 base = 0, count = 0;
		bool slow = false;

		if (t >= pc_cfg.ntrees)
			break;
		/* and again per tree: what the comparisons below taught the
		 * verifier about best would make it precise too; and the same
		 * for the class, whose bits each tree's test would teach it */
		w->best = best;
		best = *(volatile __u32 *)&w->best;
		cls = *(volatile __u32 *)&w->cls;
		if (pc_cfg.cmin[t][cls & 31] >= best)
			continue;
		pc_descend(&tb, t, best, &base, &count, &slow);
		if (pc_has_slow && slow) {
			__u32 i = w->nslow;

			if (i < PC_MAX_TREES) {
				w->slow_base[i] = base;
				w->slow_cnt[i] = count;
				w->nslow = i + 1;
			}
		} else
			best = pc_scan(&tb, t, base, count, best);
	}
	return pc_slow_scan(w, best);
}

/* Slot s is c[s % PC_CNT_CHUNK] of the chunk s / PC_CNT_CHUNK: one per-CPU
 * lookup, whose pointer table has slot_cap / PC_CNT_CHUNK entries. */
static __always_inline void pc_count(void *inner, __u32 slot, __u64 bytes)
{
	__u32 chunk = slot / PC_CNT_CHUNK;
	struct pc_cnt_chunk *ch;
	struct pc_counter *c;

	if (!inner)
		return;
	ch = bpf_map_lookup_elem(inner, &chunk);
	if (!ch)
		return;
	c = &ch->c[slot & (PC_CNT_CHUNK - 1)];
	c->packets++;
	c->bytes += bytes;
}

static __always_inline void pc_trace(const struct pc_work *w, __u32 rule, int status, __u32 att,
				     __u32 l3_off, __u32 flags)
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
	t->flags = flags;
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
		bpf_l3_csum_replace(skb, off + PC_IP4_CSUM_OFF, *(__u16 *)o, *(__u16 *)h, 2);
	} else if (l3 == PC_ETH_P_IPV6) {
		h[0] = (h[0] & 0xf0) | (dscp >> 2);
		h[1] = (__u8)((dscp & 0x3) << 6) | (h[1] & 0x3f);
	} else
		return;
	bpf_skb_store_bytes(skb, off, h, sizeof(h), 0);
}

/* The parser, inlined: a subprogram call costs a return, and returns are
 * expensive with the kernel's return-thunk mitigations (~10 ns here).  The
 * key goes to the scratch map, which the verifier does not track, so the
 * parser's many end states still prune into few (verified instructions
 * within 10% of the subprogram version). */
static __always_inline int pc_parse_tc(struct __sk_buff *skb, struct pc_work *w)
{
	struct pc_src src = { .skb = skb, .direct = 1 };
	struct pc_parse_in in = { .len = skb->len, .l2 = 1, .vlan_present = skb->vlan_present,
				  .vlan_tci = skb->vlan_tci };

	if (!w)
		return PC_PARSE_MALFORMED;
	return pc_parse(&src, &in, &w->key, &w->l3_off);
}

static __always_inline int pc_parse_sock(struct __sk_buff *skb, struct pc_work *w)
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

/* The interface's entry: the array first, the hash beyond it. */
static __always_inline const struct pc_iface *pc_iface_get(__u32 ifindex)
{
	const struct pc_iface *ifc = NULL;

	if (ifindex < PC_IFACE_ARRAY)
		ifc = bpf_map_lookup_elem(&ifarr, &ifindex);
	if (ifc && ifc->ifbits)
		return ifc;
	return bpf_map_lookup_elem(&ifaces, &ifindex);
}

/* A packet's outcome: from the matched leaf entry when that holds it all
 * (o NULL), else from outs[rule] (the default rule, and rules with a mark,
 * priority, DSCP, log or redirect). */
struct pc_res {
	const struct pc_rule_out *o;
	__u32 slot;
	__u32 class_slot;
	__u32 action;
};

static __always_inline bool pc_outcome(const struct pc_work *w, __u32 rule, struct pc_res *r)
{
	const struct pc_leaf_ent *tab, *e;
	__u32 zero = 0, hit = w->hit;

	if (hit < pc_nleaf) {
		tab = bpf_map_lookup_elem(&leaf, &zero);
		if (tab) {
			e = &tab[hit];
			if (e->rule == rule && !(e->flags & PC_LE_FULL_OUT)) {
				r->o = NULL;
				r->slot = e->slot;
				r->class_slot = e->class_slot;
				r->action = e->action;
				return true;
			}
		}
	}
	r->o = bpf_map_lookup_elem(&outs, &rule);
	if (!r->o)
		return false;
	r->slot = r->o->slot;
	r->class_slot = r->o->class_slot;
	r->action = r->o->action;
	return true;
}

/* The set directory of this generation, read once per packet (every lookup
 * of the packet uses it: old contents or new, never a mix), into
 * w->set_dir; its version, which changes with every set change and tags
 * the flow cache's answers (0 when the rules use no set). */
static __always_inline __u32 pc_sets_dir(struct pc_work *w)
{
	const struct pc_set_head *h;
	const struct pc_set_dir *d;
	__u32 zero = 0, dir;

	w->set_dir = 0;
	if (!pc_nsetrefs)
		return 0;
	h = bpf_map_lookup_elem(&set_head, &zero);
	if (!h)
		return 0;
	dir = h->dir[pc_set_dir_slot & 1];
	w->set_dir = dir;
	d = (const void *)pc_set_at(0, dir, 0, sizeof(*d));
	return d ? (__u32)d->version : 0;
}

/* The bits of PC_W_SETS, in the directory pc_sets_dir() read. */
static __always_inline __u32 pc_sets_eager(struct pc_work *w)
{
	__u32 bits = 0, dir = w->set_dir;

	if (!pc_nsetrefs)
		return 0;
	for (__u32 i = 0; i < PC_SET_REFS_EAGER; i++) {
		if (i >= pc_nsetrefs)
			break;
		if (pc_set_member(0, dir, pc_setref[i].set, pc_setref[i].field, w->key.w))
			bits |= 1u << i;
	}
	return bits;
}

#include "flowcache.h"

/* The packet's rule and outcome: from the flow cache, else from the set
 * lookups and the trees (and then into the cache); tag: the set version
 * (pc_sets_dir).  *fcf: PC_TRACE_FC_*.  false: no outcome. */
static __always_inline bool pc_decide(struct pc_work *w, __u32 tag, __u32 *rule,
				      struct pc_res *r, __u32 *fcf)
{
	*fcf = 0;
	if (pc_fc_get(w, tag, rule, r)) {
		*fcf = PC_TRACE_FC_HIT;
		/* the trace shows the key as a walk would have seen it */
		if (pc_trace_on)
			w->key.w[PC_W_SETS] = pc_sets_eager(w);
		return true;
	}
	w->key.w[PC_W_SETS] = pc_sets_eager(w);
	*rule = pc_classify(w);
	if (!pc_outcome(w, *rule, r))
		return false;
	if (pc_fc_put(w, *rule, r))
		*fcf = PC_TRACE_FC_INSERT;
	return true;
}

/* Classify and count; false to leave the packet alone, else the outcome in
 * *r.  hook: PC_HOOK_*. */
static __always_inline bool pc_run(struct __sk_buff *skb, __u32 hook, __u32 *l3_off, __u32 *l3,
				   struct pc_res *r)
{
	const struct pc_iface *ifc;
	__u32 zero = 0, ifindex, att, rule, bytes, fcf;
	struct pc_work *w;
	void *counters;
	int st;

	w = bpf_map_lookup_elem(&work, &zero);
	if (!w)
		return false;
	bytes = skb->len;
	if (hook == PC_HOOK_MONITOR) {
		bytes += PC_ETH_HLEN; /* the socket sees the frame from L3 */
		st = pc_parse_sock(skb, w);
	} else
		st = pc_parse_tc(skb, w);
	*l3_off = w->l3_off;
	*l3 = w->key.w[PC_W_L3];

	ifindex = skb->ifindex;
	ifc = pc_iface_get(ifindex);
	if (!ifc) {
		pc_trace(w, PC_TRACE_NO_RULE, st, PC_ATTACH_NONE, *l3_off, 0);
		return false;
	}
	att = ifc->attach[hook < PC_HOOK_MAX ? hook : 0];
	counters = bpf_map_lookup_elem(&cnt, &att);
	if (st == PC_PARSE_MALFORMED) {
		pc_count(counters, PC_SLOT_MALFORMED, bytes);
		pc_trace(w, PC_TRACE_NO_RULE, st, att, *l3_off, 0);
		return false;
	}
	_Static_assert(PC_HOOK_EGRESS == PC_DIR_EGRESS && PC_HOOK_INGRESS == PC_DIR_INGRESS,
		       "TC hook is the direction");
	if (hook == PC_HOOK_MONITOR)
		w->key.w[PC_W_DIR] = skb->pkt_type == PACKET_OUTGOING ? PC_DIR_EGRESS : PC_DIR_INGRESS;
	else
		w->key.w[PC_W_DIR] = hook;
	w->key.w[PC_W_IFBITS] = ifc->ifbits;
	w->key.w[PC_W_SETS] = 0;

	if (!pc_decide(w, pc_sets_dir(w), &rule, r, &fcf))
		return false;
	pc_trace(w, rule, st, att, *l3_off, fcf);
	pc_count(counters, r->slot, bytes);
	if (r->class_slot != r->slot)
		pc_count(counters, r->class_slot, bytes);
	if (hook == PC_HOOK_MONITOR && r->action == PC_ACT_DROP)
		pc_count(counters, PC_SLOT_WOULD_DROP, bytes);
	if (r->o && (r->o->flags & PC_F_LOG))
		pc_log(w, r->o, ifindex, hook, bytes);
	return true;
}

static __always_inline int pc_tc_run(struct __sk_buff *skb, __u32 hook)
{
	const struct pc_rule_out *o;
	__u32 l3_off = 0, l3 = 0;
	struct pc_res r;

	if (!pc_run(skb, hook, &l3_off, &l3, &r))
		return TC_ACT_UNSPEC;
	o = r.o;
	if (o) {
		if (o->flags & PC_F_MARK)
			skb->mark = o->mark;
		if (o->flags & PC_F_PRIO)
			skb->priority = o->priority;
		if (o->flags & PC_F_DSCP)
			pc_set_dscp(skb, l3, l3_off, o->dscp);
	}
	if (r.action == PC_ACT_DROP)
		return TC_ACT_SHOT;
	/* An unresolved redirect target (interface missing) passes. */
	if (o && o->action == PC_ACT_REDIRECT && o->redirect_ifindex)
		return bpf_redirect(o->redirect_ifindex, 0);
	return TC_ACT_UNSPEC;
}

/* Both TC hooks.  Only bit 0 of cb[PC_CB_HOOK] is read: the verifier then
 * walks one path for both hooks (an unknown 0 or 1), not one per hook. */
SEC("tc")
int pc_tc(struct __sk_buff *skb)
{
	return pc_tc_run(skb, skb->cb[PC_CB_HOOK] & 1);
}

/* Monitor hook: counts, never enforces, never delivers to the socket.
 * Loaded for a capture, it delivers exactly the packets of one class. */
SEC("socket")
int pc_sock(struct __sk_buff *skb)
{
	__u32 l3_off, l3;
	struct pc_res r;

	if (pc_run(skb, PC_HOOK_MONITOR, &l3_off, &l3, &r) && pc_capture_slot != PC_CAPTURE_NONE &&
	    r.class_slot == pc_capture_slot)
		return skb->len;
	return 0;
}
