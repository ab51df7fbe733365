/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * flowcache.h - the classifier's exact-match flow cache (pktclass.h, "the
 * flow cache"; daemon/datapath/README.md, "Flow cache").  Included by
 * classifier.bpf.c after struct pc_work, whose fields fc, fk, fc_idx and rnd
 * it uses.
 *
 * Per packet: the cache key (the key's words under pc_fc.mask, packed into
 * 13 words; not PC_W_SETS, which the set lookups of a miss fill in: the
 * fields they look up are in the key whole, the set contents in the tag) and
 * its hash, then the CPU's region and the bucket's two ways,
 * one 128-byte pair of lines: a hit gives the rule and its outcome without
 * the walk.  After a miss the walk's answer goes into an empty or stale way,
 * or with probability 1 / pc_fc.inv_prob over a live one.  A CPU that sees a
 * flood (few hits in a window of lookups) looks up 1 packet in PC_FC_SAMPLE
 * only, until the sampled lookups hit again.  No helper call but
 * bpf_get_smp_processor_id (inlined by the verifier), no loop.
 *
 * Why it is safe per CPU without atomics: TC and socket programs run with
 * bottom halves off (softirq, or rcu_read_lock_bh() on transmit), so two runs
 * on one CPU never interleave, and a region is written by its CPU only.
 */
#ifndef PKTCLASS_FLOWCACHE_H
#define PKTCLASS_FLOWCACHE_H

const volatile struct pc_fc_cfg pc_fc = {};

/* One element holding every CPU's region (value size total * 64, set by the
 * daemon; mmapable, so the table is page aligned and an entry is one line). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct pc_fc_ent));
} fcache SEC(".maps");

#define PC_FC_NONE 0xffffffffu

#define PC_FC_M(w) (kw[w] & pc_fc.mask[w])

/* The cache key of the packet into w->fk (its tag in fk[13]); the hash.
 * Widths (PC_WORD_WIDTHS): ports 17 bits, proto 9, dir 1, tcp flags 9, l3
 * 16, vlan 13, dscp 7, length 18, so the packing loses nothing. */
static __always_inline __u64 pc_fc_key(struct pc_work *w, __u32 tag)
{
	const __u32 *kw = w->kw;
	__u32 *k = w->fk;
	__u64 h = 0;

	k[0] = PC_FC_M(PC_W_SRC0);
	k[1] = PC_FC_M(PC_W_SRC1);
	k[2] = PC_FC_M(PC_W_SRC2);
	k[3] = PC_FC_M(PC_W_SRC3);
	k[4] = PC_FC_M(PC_W_DST0);
	k[5] = PC_FC_M(PC_W_DST1);
	k[6] = PC_FC_M(PC_W_DST2);
	k[7] = PC_FC_M(PC_W_DST3);
	k[8] = PC_FC_M(PC_W_SPORT) | PC_FC_M(PC_W_PROTO) << 17 | PC_FC_M(PC_W_DIR) << 26;
	k[9] = PC_FC_M(PC_W_DPORT) | PC_FC_M(PC_W_TCPFLAGS) << 17;
	k[10] = PC_FC_M(PC_W_L3) | PC_FC_M(PC_W_VLAN) << 16;
	k[11] = PC_FC_M(PC_W_DSCP) | PC_FC_M(PC_W_LEN) << 7;
	k[12] = PC_FC_M(PC_W_IFBITS);
	k[13] = tag;
	_Static_assert(PC_FC_KEY_WORDS == 13, "pc_fc_key packing");
	/* NH: a sum of products of (word + key) pairs, then a mix; the tag
	 * stays out, so that a flow's stale entry is in its bucket */
	for (int i = 0; i < 12; i += 2)
		h += (__u64)(__u32)(k[i] + pc_fc.seed[i]) * (__u32)(k[i + 1] + pc_fc.seed[i + 1]);
	h += (__u64)(__u32)(k[12] + pc_fc.seed[12]) * (pc_fc.seed[13] | 1);
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

/* The entry holds w's cache key and tag, and an answer. */
static __always_inline bool pc_fc_same(const struct pc_fc_ent *e, const struct pc_work *w)
{
	const __u64 *a = (const __u64 *)e, *b = w->fk64;
	__u64 d = (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4]) |
		  ((a[5] ^ b[5]) & ~PC_FC_HIT64) | (a[6] ^ b[6]);

	return !d && (e->out & PC_FC_VALID);
}

/* One lookup into the window, good when it hit or found a free way (a
 * cache that is still filling, after a load or a set change, is not a
 * flood); at the window's end, into or out of flood mode. */
static __always_inline void pc_fc_window(struct pc_work *w, __u32 good)
{
	__u32 n = w->fc_n + 1, h = w->fc_h + good;

	/* in flood mode a quarter window of samples: out again within
	 * PC_FC_WINDOW / 4 * PC_FC_SAMPLE packets once the flood is over */
	if (n < (w->fc_flood ? PC_FC_WINDOW / 4 : PC_FC_WINDOW)) {
		w->fc_n = n;
		w->fc_h = h;
		return;
	}
	if (w->fc_flood)
		w->fc_flood = h * PC_FC_FLOOD_LEAVE < n;
	else
		w->fc_flood = h * PC_FC_FLOOD_ENTER < n;
	w->fc_n = 0;
	w->fc_h = 0;
}

/* The bucket's first way in fcache, or NULL (no cache, CPU without a region). */
static __always_inline struct pc_fc_ent *pc_fc_bucket(__u32 idx)
{
	struct pc_fc_ent *tab;
	__u32 zero = 0;

	/* both ways inside the table; none without a cache */
	if (pc_fc.total < 2 || idx >= pc_fc.total - 1)
		return NULL;
	tab = bpf_map_lookup_elem(&fcache, &zero);
	return tab ? &tab[idx] : NULL;
}

/* A hit of the packet's key under tag (what may change under a generation
 * without a reload: the version of the set directory the packet reads):
 * the rule in *rule, the outcome in *r (o from outs[rule] when the entry
 * says so).  Leaves w->fc_idx for pc_fc_put(). */
static __always_inline bool pc_fc_get(struct pc_work *w, __u32 tag, __u32 *rule,
				      struct pc_res *r)
{
	struct pc_fc_ent *e;
	__u32 cpu, idx;
	__u64 h, out;

	w->fc_idx = PC_FC_NONE;
	if (!pc_fc.nent)
		return false;
	if (w->fc_flood && (++w->fc_pass & (PC_FC_SAMPLE - 1))) {
		w->fc.bypassed++;
		return false;
	}
	cpu = bpf_get_smp_processor_id();
	if (cpu >= pc_fc.ncpu)
		return false;
	h = pc_fc_key(w, tag);
	idx = cpu * pc_fc.nent + ((__u32)h & (pc_fc.nent - 2));
	w->fc_idx = idx;
	e = pc_fc_bucket(idx);
	if (!e)
		return false;
	if (!pc_fc_same(e, w)) {
		e++;
		if (!pc_fc_same(e, w)) {
			w->fc.misses++;
			return false;
		}
	}
	pc_fc_window(w, 1);
	if (!(e->k[PC_FC_HIT_WORD] & PC_FC_HIT)) /* the line is dirtied once */
		e->k[PC_FC_HIT_WORD] |= PC_FC_HIT;
	out = e->out;
	*rule = (__u32)(out >> PC_FC_RULE_SHIFT) & PC_FC_FIELD_MAX;
	if (out & PC_FC_FULL) {
		r->o = bpf_map_lookup_elem(&outs, rule);
		if (!r->o)
			return false;
		r->slot = r->o->slot;
		r->class_slot = r->o->class_slot;
		r->action = r->o->action;
	} else {
		r->o = NULL;
		r->slot = (__u32)out & PC_FC_FIELD_MAX;
		r->class_slot = (__u32)(out >> PC_FC_CLS_SHIFT) & PC_FC_FIELD_MAX;
		r->action = (__u32)(out >> PC_FC_ACT_SHIFT) & 3;
	}
	w->fc.hits++;
	return true;
}

/* The answer as an entry's out, 0 when a number does not fit. */
static __always_inline __u64 pc_fc_out(__u32 rule, const struct pc_res *r)
{
	__u64 out = PC_FC_VALID | (__u64)rule << PC_FC_RULE_SHIFT;

	if (rule > PC_FC_FIELD_MAX)
		return 0;
	if (r->o)
		return out | PC_FC_FULL;
	if (r->slot > PC_FC_FIELD_MAX || r->class_slot > PC_FC_FIELD_MAX || r->action > 3)
		return 0;
	return out | (__u64)r->action << PC_FC_ACT_SHIFT | (__u64)r->class_slot << PC_FC_CLS_SHIFT |
	       r->slot;
}

/* A way that holds nothing of the current tag. */
static __always_inline bool pc_fc_free(const struct pc_fc_ent *e, __u32 tag)
{
	return !(e->out & PC_FC_VALID) || e->tag != tag;
}

/* After a miss: the walk's answer into the bucket pc_fc_get() looked at.
 * true when it went in.  An empty or stale way first, then a live way that
 * never served a hit (what a flood leaves), then, when both ways have served
 * hits, one once in inv_prob misses.  In flood mode (the sampled packets) a
 * live way is always replaced, so that the cache follows what the samples
 * see and the flows that repeat get back in. */
static __always_inline bool pc_fc_put(struct pc_work *w, __u32 rule, const struct pc_res *r)
{
	struct pc_fc_ent *e = pc_fc_bucket(w->fc_idx);
	__u64 out = pc_fc_out(rule, r), *d;
	__u32 tag = w->fk[13], x, hit0, hit1;
	bool free0, free1;

	if (!e)
		return false;
	if (!out) {
		pc_fc_window(w, 1);
		return false;
	}
	free0 = pc_fc_free(e, tag);
	free1 = !free0 && pc_fc_free(e + 1, tag);
	pc_fc_window(w, free0 || free1);
	if (free1) {
		e++;
	} else if (!free0) {
		/* both live: a way that never served a hit, either when both
		 * did not (two new flows of one bucket must not take turns on
		 * one way); when both did, one once in inv_prob (an LCG in the
		 * scratch map: no helper call), or always in flood mode */
		hit0 = e->k[PC_FC_HIT_WORD] & PC_FC_HIT;
		hit1 = e[1].k[PC_FC_HIT_WORD] & PC_FC_HIT;
		x = w->rnd * 1103515245u + 12345u;
		w->rnd = x;
		if (hit0 && hit1 && !w->fc_flood && ((x >> 16) & (pc_fc.inv_prob - 1)))
			return false;
		if (hit0 == hit1 ? x >> 31 : hit0)
			e++;
	}
	d = (__u64 *)e;
	d[0] = w->fk64[0];
	d[1] = w->fk64[1];
	d[2] = w->fk64[2];
	d[3] = w->fk64[3];
	d[4] = w->fk64[4];
	d[5] = w->fk64[5];
	d[6] = w->fk64[6];
	e->out = out;
	w->fc.inserts++;
	return true;
}

#endif /* PKTCLASS_FLOWCACHE_H */
