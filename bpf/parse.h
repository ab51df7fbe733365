/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * parse.h - the packet parser: bytes in, struct pc_key out.
 *
 * One source for both sides: the BPF classifier (clang -target bpf) reads the
 * packet directly at TC and with bpf_skb_load_bytes() on sockets (SOCKET_FILTER
 * programs have no direct packet access; see pc_load below); userspace (tests, `pktclassctl explain`) reads a
 * buffer with bounds checks.  Everything goes through pc_load(ctx, off, dst,
 * len), which returns 0 or a negative value when [off, off + len) is not in
 * the data.
 *
 * Where the data starts:
 *  - TC (in->l2 = 1): at the MAC header.  At TC ingress the kernel has already
 *    moved the outer VLAN tag into skb metadata (vlan_present/vlan_tci); at
 *    egress a tag may be in metadata or in band.
 *  - socket filter (in->l2 = 0): at the network header; the ethertype is
 *    skb->protocol (monitor sockets are AF_PACKET SOCK_DGRAM).  When that is a
 *    VLAN TPID the data starts at the tag's TCI.
 *
 * Up to two in-band tags (0x8100, 0x88a8) are walked; the outer VLAN id is the
 * metadata tag if present, else the first in-band tag.  IPv6 extension
 * headers (hop-by-hop, routing, destination options, fragment) are walked up
 * to PC_IPV6_EXT_MAX.
 *
 * Result: PC_PARSE_OK, PC_PARSE_L4_UNKNOWN (L3 fine; transport header cut
 * short or hidden beyond the extension depth: the protocol is set when known,
 * ports and TCP flags stay NONE) or PC_PARSE_MALFORMED (L2/L3 broken or cut;
 * the key is not meaningful).  Non-IP packets (ARP...) are OK with PC_W_L3
 * set, addresses 0 and proto/dscp/len NONE.  A non-first fragment is OK with
 * its protocol and no ports/flags.
 */
#ifndef PKTCLASS_PARSE_H
#define PKTCLASS_PARSE_H

#include "pktclass.h"

/* The parser's header buffers: aligned, so that wide copies and loads work. */
#define PC_ALIGNED __attribute__((aligned(8)))

#ifdef __bpf__
#define PC_INLINE static __always_inline
#else
#include <string.h>
#define PC_INLINE static inline __attribute__((always_inline))
#endif


#ifdef __bpf__
/* Needs bpf_helpers.h first.  ctx is a struct pc_src: the skb, and whether
 * its linear data may be read directly (TC; socket filters have no direct
 * packet access).  Bytes beyond the linear part go through
 * bpf_skb_load_bytes(), so both ways read the same bytes.  The data pointers
 * are reloaded on every call and dead after it, and off is not compared (it
 * is bounded by construction): the verifier then sees the same state after
 * either way and prunes. */
struct pc_src {
	struct __sk_buff *skb;
	int direct;
};

/* Copy len (a constant after inlining) packet bytes with the widest loads:
 * the packet may be misaligned (x86 and arm64 allow that for packet
 * pointers), dst is one of the parser's 8-byte aligned buffers.  A byte-wise
 * __builtin_memcpy was a third of the parser's time. */
PC_INLINE void pc_copy_pkt(void *dst, const void *src, __u32 len)
{
	__u32 i = 0;

#pragma unroll
	for (; i + 8 <= len; i += 8)
		*(__u64 *)(dst + i) = *(const __u64 *)(src + i);
	if (i + 4 <= len) {
		*(__u32 *)(dst + i) = *(const __u32 *)(src + i);
		i += 4;
	}
	if (i + 2 <= len) {
		*(__u16 *)(dst + i) = *(const __u16 *)(src + i);
		i += 2;
	}
	if (i < len)
		*(__u8 *)(dst + i) = *(const __u8 *)(src + i);
}

PC_INLINE int pc_load(void *ctx, __u32 off, void *dst, __u32 len)
{
	const struct pc_src *s = ctx;
	void *data, *end;

	if (!s->direct)
		return bpf_skb_load_bytes(s->skb, off, dst, len);
	/* volatile: loaded here, not kept live across the parser */
	data = (void *)(long)*(volatile __u32 *)&s->skb->data;
	end = (void *)(long)*(volatile __u32 *)&s->skb->data_end;
	/* "likely" only lays the helper call out first: the verifier walks
	 * it first, and the direct copy then prunes against its state. */
	if (__builtin_expect(data + off + len > end, 1))
		return bpf_skb_load_bytes(s->skb, off, dst, len);
	pc_copy_pkt(dst, data + off, len);
	return 0;
}

/* VLAN tags and IPv6 extension headers: always the helper.  Each direct
 * read doubles the paths the verifier walks; these loops would multiply
 * them, for bytes that are rarely there. */
PC_INLINE int pc_load_rare(void *ctx, __u32 off, void *dst, __u32 len)
{
	const struct pc_src *s = ctx;

	return bpf_skb_load_bytes(s->skb, off, dst, len);
}
#else
struct pc_buf {
	const unsigned char *data;
	__u32 len;
};

PC_INLINE int pc_load(void *ctx, __u32 off, void *dst, __u32 len)
{
	const struct pc_buf *b = ctx;

	if (off > b->len || len > b->len - off)
		return -1;
	memcpy(dst, b->data + off, len);
	return 0;
}

PC_INLINE int pc_load_rare(void *ctx, __u32 off, void *dst, __u32 len)
{
	return pc_load(ctx, off, dst, len);
}
#endif

/* What the parser needs besides the bytes. */
struct pc_parse_in {
	__u32 len;          /* bytes of data from where it starts (skb->len) */
	__u32 l2;           /* 1: data starts at an Ethernet header */
	__u32 proto;        /* !l2: the ethertype (host order) */
	__u32 vlan_present; /* outer tag in metadata */
	__u32 vlan_tci;
};

PC_INLINE __u32 pc_be16(const __u8 *p)
{
	return ((__u32)p[0] << 8) | p[1];
}

PC_INLINE __u32 pc_be32(const __u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

PC_INLINE void pc_key_init(struct pc_key *k)
{
	for (int i = 0; i < PC_KEY_WORDS; i++)
		k->w[i] = 0;
	k->w[PC_W_SPORT] = PC_PORT_NONE;
	k->w[PC_W_DPORT] = PC_PORT_NONE;
	k->w[PC_W_PROTO] = PC_PROTO_NONE;
	k->w[PC_W_VLAN] = PC_VLAN_NONE;
	k->w[PC_W_DSCP] = PC_DSCP_NONE;
	k->w[PC_W_LEN] = PC_LEN_NONE;
	k->w[PC_W_TCPFLAGS] = PC_TCPFL_NONE;
}

/* Header lengths and field offsets (RFC 791, 8200, 793, 768, 9260). */
#define PC_ETH_HLEN        14
#define PC_ETH_PROTO_OFF   12
#define PC_VLAN_HLEN       4
#define PC_VLAN_PROTO_OFF  2
#define PC_IP4_HLEN        20 /* without options */
#define PC_IP4_TOTLEN_OFF  2
#define PC_IP4_FRAG_OFF    6
#define PC_IP4_PROTO_OFF   9
#define PC_IP4_CSUM_OFF    10
#define PC_IP4_SRC_OFF     12
#define PC_IP4_DST_OFF     16
#define PC_IP6_HLEN        40
#define PC_IP6_PLEN_OFF    4
#define PC_IP6_NEXT_OFF    6
#define PC_IP6_SRC_OFF     8
#define PC_IP6_DST_OFF     24
#define PC_IP6_EXT_MIN     8  /* an extension header is a multiple of 8 bytes */
#define PC_IP6_FRAG_OFF    2  /* in the fragment header */
#define PC_L4_DPORT_OFF    2
#define PC_TCP_HLEN        20
#define PC_TCP_FLAGS_OFF   13
#define PC_UDP_HLEN        8
#define PC_SCTP_HLEN       12

/* Transport header at off; the L3 payload ends at end.  pre: its first
 * PC_L4_PRE bytes when the caller already has them (read together with the
 * IPv4 header: one read instead of two), else NULL. */
#define PC_L4_PRE (PC_TCP_FLAGS_OFF + 1)

PC_INLINE int pc_parse_l4(void *ctx, struct pc_key *k, __u32 proto, __u32 off, __u32 end,
			  const __u8 *pre)
{
	__u8 h[PC_L4_PRE] PC_ALIGNED;
	__u32 need;

	k->w[PC_W_PROTO] = proto;
	switch (proto) {
	case PC_IPPROTO_TCP:
		need = PC_TCP_HLEN;
		break;
	case PC_IPPROTO_UDP:
	case PC_IPPROTO_UDPLITE:
		need = PC_UDP_HLEN;
		break;
	case PC_IPPROTO_SCTP:
		need = PC_SCTP_HLEN;
		break;
	default:
		return PC_PARSE_OK;
	}
	if (off + need > end)
		return PC_PARSE_L4_UNKNOWN;
	if (!pre) {
		if (proto == PC_IPPROTO_TCP) {
			if (pc_load(ctx, off, h, PC_L4_PRE) < 0)
				return PC_PARSE_L4_UNKNOWN;
		} else if (pc_load(ctx, off, h, PC_L4_DPORT_OFF + 2) < 0)
			return PC_PARSE_L4_UNKNOWN;
		pre = h;
	}
	if (proto == PC_IPPROTO_TCP)
		k->w[PC_W_TCPFLAGS] = pre[PC_TCP_FLAGS_OFF];
	k->w[PC_W_SPORT] = pc_be16(pre);
	k->w[PC_W_DPORT] = pc_be16(pre + PC_L4_DPORT_OFF);
	return PC_PARSE_OK;
}

/* The IPv4 header and, when the packet is long enough, the first PC_L4_PRE
 * bytes after a header without options: one read for both (on a short linear part
 * that is one bpf_skb_load_bytes() call instead of two). */
#define PC_IPV4_PRE (PC_IP4_HLEN + PC_L4_PRE)

PC_INLINE int pc_parse_ipv4(void *ctx, struct pc_key *k, __u32 off, __u32 len)
{
	__u8 h[PC_IPV4_PRE + 2] PC_ALIGNED;
	__u32 ihl, tot, pre = len - off >= PC_IPV4_PRE;
	int r;

	if (pre)
		r = pc_load(ctx, off, h, PC_IPV4_PRE);
	else
		r = pc_load(ctx, off, h, PC_IP4_HLEN);
	if (r < 0)
		return PC_PARSE_MALFORMED;
	ihl = (h[0] & 0xfu) * 4;
	tot = pc_be16(h + PC_IP4_TOTLEN_OFF);
	if ((h[0] >> 4) != 4 || ihl < PC_IP4_HLEN || tot < ihl || tot > len - off)
		return PC_PARSE_MALFORMED;
	k->w[PC_W_SRC0] = pc_be32(h + PC_IP4_SRC_OFF);
	k->w[PC_W_DST0] = pc_be32(h + PC_IP4_DST_OFF);
	k->w[PC_W_DSCP] = h[1] >> 2;
	k->w[PC_W_LEN] = tot;
	if (pc_be16(h + PC_IP4_FRAG_OFF) & 0x1fffu) {
		/* not the first fragment: no transport header here */
		k->w[PC_W_PROTO] = h[PC_IP4_PROTO_OFF];
		return PC_PARSE_OK;
	}
	return pc_parse_l4(ctx, k, h[PC_IP4_PROTO_OFF], off + ihl, off + tot,
			   pre && ihl == PC_IP4_HLEN ? h + PC_IP4_HLEN : NULL);
}

PC_INLINE int pc_ipv6_is_ext(__u32 nh)
{
	return nh == PC_IPPROTO_HOPOPTS || nh == PC_IPPROTO_ROUTING ||
	       nh == PC_IPPROTO_DSTOPTS || nh == PC_IPPROTO_FRAGMENT;
}

PC_INLINE int pc_parse_ipv6(void *ctx, struct pc_key *k, __u32 off, __u32 len)
{
	__u8 h[PC_IP6_HLEN] PC_ALIGNED;
	__u32 plen, nh, cur, end;

	if (pc_load(ctx, off, h, sizeof(h)) < 0)
		return PC_PARSE_MALFORMED;
	plen = pc_be16(h + PC_IP6_PLEN_OFF);
	if ((h[0] >> 4) != 6 || plen + PC_IP6_HLEN > len - off)
		return PC_PARSE_MALFORMED;
	for (int i = 0; i < 4; i++) {
		k->w[PC_W_SRC0 + i] = pc_be32(h + PC_IP6_SRC_OFF + 4 * i);
		k->w[PC_W_DST0 + i] = pc_be32(h + PC_IP6_DST_OFF + 4 * i);
	}
	k->w[PC_W_DSCP] = (((h[0] & 0xfu) << 4) | (h[1] >> 4)) >> 2;
	k->w[PC_W_LEN] = plen + PC_IP6_HLEN;
	nh = h[PC_IP6_NEXT_OFF];
	cur = off + PC_IP6_HLEN;
	end = cur + plen;
	for (int i = 0; i < PC_IPV6_EXT_MAX; i++) {
		__u8 e[4] PC_ALIGNED;

		if (!pc_ipv6_is_ext(nh))
			break;
		if (cur + PC_IP6_EXT_MIN > end || pc_load_rare(ctx, cur, e, sizeof(e)) < 0)
			return PC_PARSE_L4_UNKNOWN;
		if (nh == PC_IPPROTO_FRAGMENT) {
			cur += PC_IP6_EXT_MIN;
			if (pc_be16(e + PC_IP6_FRAG_OFF) & 0xfff8u) {
				k->w[PC_W_PROTO] = e[0];
				return PC_PARSE_OK;
			}
		} else
			cur += ((__u32)e[1] + 1) * PC_IP6_EXT_MIN;
		nh = e[0];
	}
	if (pc_ipv6_is_ext(nh))
		return PC_PARSE_L4_UNKNOWN;
	return pc_parse_l4(ctx, k, nh, cur, end, NULL);
}

/* Fill k from the packet; *l3_off = where the L3 header starts. */
PC_INLINE int pc_parse(void *ctx, const struct pc_parse_in *in, struct pc_key *k, __u32 *l3_off)
{
	__u32 off = 0, proto = in->proto;

	pc_key_init(k);
	*l3_off = 0;
	if (in->vlan_present)
		k->w[PC_W_VLAN] = in->vlan_tci & 0xfffu;
	if (in->l2) {
		__u8 eth[PC_ETH_HLEN] PC_ALIGNED;

		if (pc_load(ctx, 0, eth, sizeof(eth)) < 0)
			return PC_PARSE_MALFORMED;
		proto = pc_be16(eth + PC_ETH_PROTO_OFF);
		off = sizeof(eth);
	}
	for (int i = 0; i < 2; i++) {
		__u8 t[PC_VLAN_HLEN] PC_ALIGNED;

		if (proto != PC_ETH_P_8021Q && proto != PC_ETH_P_8021AD)
			break;
		if (pc_load_rare(ctx, off, t, sizeof(t)) < 0)
			return PC_PARSE_MALFORMED;
		if (k->w[PC_W_VLAN] == PC_VLAN_NONE)
			k->w[PC_W_VLAN] = pc_be16(t) & 0xfffu;
		proto = pc_be16(t + PC_VLAN_PROTO_OFF);
		off += PC_VLAN_HLEN;
	}
	k->w[PC_W_L3] = proto;
	*l3_off = off;
	if (proto == PC_ETH_P_IP)
		return pc_parse_ipv4(ctx, k, off, in->len);
	if (proto == PC_ETH_P_IPV6)
		return pc_parse_ipv6(ctx, k, off, in->len);
	return PC_PARSE_OK;
}

#endif /* PKTCLASS_PARSE_H */
