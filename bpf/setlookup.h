/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * setlookup.h - is a packet's field in a set: lookups in the set pool
 * (pktclass.h, "sets").
 *
 * One source for both sides: the BPF classifier (clang -target bpf), and
 * user space (gcc: tests, the benchmarks), which define PC_SET_SEG(ctx, seg)
 * before including this: the base of segment seg (const __u8 *), or NULL.
 * Every read goes through pc_set_at(), which bounds it by the segment, so
 * the verifier sees each access checked and a corrupt reference reads
 * nothing instead of something else.
 *
 * Per lookup: a prefix set reads the directory entry (hot), one entry of
 * the root table (the top 8 address bits, 1 KiB: hot too), one entry of up
 * to 3 (IPv4) or 15 (IPv6) more tables of 256 entries, and maybe one leaf
 * of up to 12 (IPv4) or 7 (IPv6) prefixes; a port set one word of its
 * bitmap.  No loop depends on the size of the set.
 */
#ifndef PKTCLASS_SETLOOKUP_H
#define PKTCLASS_SETLOOKUP_H

#include "pktclass.h"

#ifdef __bpf__
#define PC_SET_INLINE static __always_inline
#else
#define PC_SET_INLINE static inline __attribute__((always_inline))
#endif

#ifndef PC_SET_SEG
#error "define PC_SET_SEG(ctx, seg) before including setlookup.h"
#endif

/* size bytes at byte off of block ref, or NULL when they are not inside
 * its segment. */
PC_SET_INLINE const __u8 *pc_set_at(const void *ctx, __u32 ref, __u32 off, __u32 size)
{
	const __u8 *base = PC_SET_SEG(ctx, ref >> PC_SET_UNIT_BITS);
	__u32 boff = ((ref & PC_SET_UNIT_MASK) << PC_SET_UNIT_SHIFT) + off;

	if (!base || boff > PC_SET_SEG_SIZE - size)
		return 0;
	return base + boff;
}

PC_SET_INLINE __u32 pc_set_u32(const void *ctx, __u32 ref, __u32 off)
{
	const __u8 *p = pc_set_at(ctx, ref, off, 4);

	return p ? *(const __u32 *)p : 0;
}

/* The top len bits of a word. */
PC_SET_INLINE __u32 pc_set_mask(__u32 len)
{
	return len == 0 ? 0 : len >= 32 ? ~0u : ~(~0u >> len);
}

PC_SET_INLINE int pc_set_leaf4(const void *ctx, __u32 ref, __u32 a)
{
	const struct pc_set_leaf4 *l = (const void *)pc_set_at(ctx, ref, 0, sizeof(*l));
	__u32 n;

	if (!l)
		return 0;
	n = l->n;
	for (__u32 j = 0; j < PC_SET_LEAF4_N; j++) {
		if (j >= n)
			break;
		if ((a & pc_set_mask(l->len[j])) == l->v[j])
			return 1;
	}
	return 0;
}

PC_SET_INLINE int pc_set_leaf6(const void *ctx, __u32 ref, const __u32 *a)
{
	const struct pc_set_leaf6 *l = (const void *)pc_set_at(ctx, ref, 0, sizeof(*l));
	__u32 n;

	if (!l)
		return 0;
	n = l->n;
	for (__u32 j = 0; j < PC_SET_LEAF6_N; j++) {
		__u32 len, hit = 1;

		if (j >= n)
			break;
		len = l->len[j];
		for (__u32 i = 0; i < 4; i++) {
			__u32 bits = len > 32 * i ? len - 32 * i : 0;

			if ((a[i] & pc_set_mask(bits)) != l->v[j][i])
				hit = 0;
		}
		if (hit)
			return 1;
	}
	return 0;
}

/* An entry's verdict once no table is left to descend. */
PC_SET_INLINE int pc_set_end4(const void *ctx, __u32 e, __u32 a)
{
	if (e == PC_SE_FULL)
		return 1;
	return PC_SE_KIND(e) == PC_SE_LEAF ? pc_set_leaf4(ctx, PC_SE_REF(e), a) : 0;
}

PC_SET_INLINE int pc_set_trie4(const void *ctx, __u32 root, __u32 a)
{
	__u32 e, depth = PC_SET_ROOT_BITS;

	if (!root)
		return 0;
	e = pc_set_u32(ctx, root, (a >> (32 - PC_SET_ROOT_BITS)) * 4);
	for (__u32 i = 0; i < PC_SET_TABLES4; i++) {
		if (PC_SE_KIND(e) != PC_SE_TABLE)
			break;
		e = pc_set_u32(ctx, PC_SE_REF(e), ((a >> (24 - depth)) & 255) * 4);
		depth += 8;
	}
	return pc_set_end4(ctx, e, a);
}

PC_SET_INLINE int pc_set_trie6(const void *ctx, __u32 root, const __u32 *a)
{
	__u32 e, depth = PC_SET_ROOT_BITS;

	if (!root)
		return 0;
	e = pc_set_u32(ctx, root, (a[0] >> (32 - PC_SET_ROOT_BITS)) * 4);
	for (__u32 i = 0; i < PC_SET_TABLES6; i++) {
		__u32 w;

		if (PC_SE_KIND(e) != PC_SE_TABLE)
			break;
		w = a[(depth >> 5) & 3];
		e = pc_set_u32(ctx, PC_SE_REF(e), ((w >> (24 - (depth & 31))) & 255) * 4);
		depth += 8;
	}
	if (e == PC_SE_FULL)
		return 1;
	return PC_SE_KIND(e) == PC_SE_LEAF ? pc_set_leaf6(ctx, PC_SE_REF(e), a) : 0;
}

PC_SET_INLINE int pc_set_port(const void *ctx, __u32 ref, __u32 port)
{
	if (!ref || port > 0xffff)
		return 0;
	return (pc_set_u32(ctx, ref, (port >> 5) * 4) >> (port & 31)) & 1;
}

/* Is the field (enum pc_set_field) of key words w in set `set` of directory
 * dir? */
PC_SET_INLINE int pc_set_member(const void *ctx, __u32 dir, __u32 set, __u32 field,
				const __u32 *w)
{
	const struct pc_set_dir *d = (const void *)pc_set_at(ctx, dir, 0, sizeof(*d));
	const struct pc_set_root *r;
	__u32 w0, l3 = w[PC_W_L3];

	if (!d || d->magic != PC_SET_DIR_MAGIC || set >= d->nsets || set > 0xffff)
		return 0;
	r = (const void *)pc_set_at(ctx, dir, sizeof(*d) + set * sizeof(*r), sizeof(*r));
	if (!r)
		return 0;
	switch (field) {
	case PC_SF_SRC:
	case PC_SF_DST:
		w0 = field == PC_SF_SRC ? PC_W_SRC0 : PC_W_DST0;
		if (l3 == PC_ETH_P_IP)
			return pc_set_trie4(ctx, r->a, w[w0]);
		if (l3 == PC_ETH_P_IPV6)
			return pc_set_trie6(ctx, r->b, &w[w0]);
		return 0;
	case PC_SF_SPORT:
		return pc_set_port(ctx, r->a, w[PC_W_SPORT]);
	case PC_SF_DPORT:
		return pc_set_port(ctx, r->a, w[PC_W_DPORT]);
	}
	return 0;
}

#endif /* PKTCLASS_SETLOOKUP_H */
