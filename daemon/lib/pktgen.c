/* SPDX-License-Identifier: GPL-2.0-only */
#include <arpa/inet.h>
#include <string.h>

#include "lib/inet.h"
#include "lib/pktgen.h"

static unsigned l4_full(uint8_t proto)
{
	switch (proto) {
	case PC_IPPROTO_TCP:
		return 20;
	case PC_IPPROTO_UDP:
	case PC_IPPROTO_UDPLITE:
	case PC_IPPROTO_ICMP:
	case PC_IPPROTO_ICMPV6:
		return 8;
	case PC_IPPROTO_SCTP:
		return 12;
	}
	return 0;
}

static unsigned l4_bytes(const struct pg_pkt *p)
{
	unsigned full = l4_full(p->proto);

	return p->l4_len < 0 || (unsigned)p->l4_len > full ? full : (unsigned)p->l4_len;
}

static void put16(uint8_t *b, uint32_t v)
{
	b[0] = v >> 8;
	b[1] = v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v);
}

static unsigned put_l4(const struct pg_pkt *p, uint8_t *b)
{
	uint8_t h[20] = {};

	put16(h, p->sport);
	put16(h + 2, p->dport);
	if (p->proto == PC_IPPROTO_TCP) {
		h[12] = 5 << 4;
		h[13] = p->tcp_flags;
	} else if (p->proto == PC_IPPROTO_UDP || p->proto == PC_IPPROTO_UDPLITE)
		put16(h + 4, 8 + p->payload);
	else if (p->proto == PC_IPPROTO_ICMP || p->proto == PC_IPPROTO_ICMPV6)
		h[0] = 8; /* echo request-ish */
	memcpy(b, h, l4_bytes(p));
	for (unsigned i = 0; i < p->payload; i++)
		b[l4_bytes(p) + i] = (uint8_t)(i * 7 + 1);
	return l4_bytes(p) + p->payload;
}

static unsigned put_ipv4(const struct pg_pkt *p, uint8_t *b)
{
	unsigned ihl = 20 + p->ip_opts, l4;
	uint16_t frag = p->frag_off & 0x1fff;

	memset(b, 0, ihl);
	b[0] = (p->bad_version ? 0x50 : 0x40) | (p->bad_ihl ? 4 : ihl / 4);
	b[1] = (uint8_t)(p->dscp << 2) | (p->ecn & 3);
	put16(b + 4, 0x1234);
	put16(b + 6, frag | (p->more_frags ? 0x2000 : 0));
	b[8] = 64;
	b[9] = p->proto;
	put32(b + 12, p->src[0]);
	put32(b + 16, p->dst[0]);
	for (unsigned i = 20; i < ihl; i++)
		b[i] = 1; /* NOP options */
	l4 = put_l4(p, b + ihl);
	put16(b + 2, (uint16_t)(ihl + l4 + p->totlen_delta));
	put16(b + 10, pc_inet_csum(b, ihl));
	return ihl + l4;
}

static unsigned put_ipv6(const struct pg_pkt *p, uint8_t *b)
{
	unsigned off = 40, tc = (unsigned)(p->dscp << 2) | (p->ecn & 3);

	memset(b, 0, 40);
	b[0] = (p->bad_version ? 0x40 : 0x60) | (tc >> 4);
	b[1] = (uint8_t)(tc << 4);
	b[6] = p->n_ext ? p->ext[0] : p->proto;
	b[7] = 64;
	for (int i = 0; i < 4; i++) {
		put32(b + 8 + 4 * i, p->src[i]);
		put32(b + 24 + 4 * i, p->dst[i]);
	}
	for (unsigned i = 0; i < p->n_ext && i < PG_MAX_EXT; i++, off += 8) {
		memset(b + off, 0, 8);
		b[off] = i + 1 < p->n_ext ? p->ext[i + 1] : p->proto;
		if (p->ext[i] == 44) {
			put16(b + off + 2, (uint16_t)(p->frag_off << 3) | (p->more_frags ? 1 : 0));
			put32(b + off + 4, 0xabcd);
		} else {
			b[off + 2] = 1; /* PadN, 4 bytes of padding */
			b[off + 3] = 4;
		}
	}
	off += put_l4(p, b + off);
	put16(b + 4, (uint16_t)(off - 40 + p->totlen_delta));
	return off;
}

int pg_build(const struct pg_pkt *p, uint8_t *buf, size_t cap)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 2 }, smac[6] = { 0x02, 0, 0, 0, 0, 1 };
	uint8_t b[PG_FRAME_MAX];
	unsigned off = 12, len;

	if (p->ntags > 3 || p->payload > PG_FRAME_MAX - 256)
		return -1;
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	for (unsigned i = 0; i < p->ntags; i++, off += 4) {
		put16(b + off, p->tpid[i] ? p->tpid[i] : PC_ETH_P_8021Q);
		put16(b + off + 2, p->vid[i]);
	}
	put16(b + off, p->ethertype);
	off += 2;
	if (p->ethertype == PC_ETH_P_IP)
		len = off + put_ipv4(p, b + off);
	else if (p->ethertype == PC_ETH_P_IPV6)
		len = off + put_ipv6(p, b + off);
	else {
		memset(b + off, 0x5a, 28 + p->payload); /* ARP-sized body */
		len = off + 28 + p->payload;
	}
	if (len < 60) { /* Ethernet padding, beyond the IP datagram */
		memset(b + len, 0, 60 - len);
		len = 60;
	}
	if (p->frame_cut && p->frame_cut < len)
		len = p->frame_cut;
	if (len > cap)
		return -1;
	memcpy(buf, b, len);
	return (int)len;
}

static void key_init(struct pc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->w[PC_W_SPORT] = k->w[PC_W_DPORT] = PC_PORT_NONE;
	k->w[PC_W_PROTO] = PC_PROTO_NONE;
	k->w[PC_W_VLAN] = PC_VLAN_NONE;
	k->w[PC_W_DSCP] = PC_DSCP_NONE;
	k->w[PC_W_LEN] = PC_LEN_NONE;
	k->w[PC_W_TCPFLAGS] = PC_TCPFL_NONE;
}

/* L4 of a datagram whose transport header has `room` bytes before its end. */
static int expect_l4(const struct pg_pkt *p, struct pc_key *k, uint8_t proto, long room)
{
	long need = PC_PROTO_HAS_PORTS(proto) ? (long)l4_full(proto) : 0;

	k->w[PC_W_PROTO] = proto;
	if (!PC_PROTO_HAS_PORTS(proto))
		return PC_PARSE_OK;
	if (room < need || (long)l4_bytes(p) < need)
		return PC_PARSE_L4_UNKNOWN;
	k->w[PC_W_SPORT] = p->sport;
	k->w[PC_W_DPORT] = p->dport;
	if (proto == PC_IPPROTO_TCP)
		k->w[PC_W_TCPFLAGS] = p->tcp_flags;
	return PC_PARSE_OK;
}

static int expect_ipv4(const struct pg_pkt *p, struct pc_key *k, long avail)
{
	long ihl = 20 + p->ip_opts, tot = ihl + l4_bytes(p) + p->payload + p->totlen_delta;

	if (avail < 20 || p->bad_version || p->bad_ihl || tot < ihl || tot > avail)
		return PC_PARSE_MALFORMED;
	k->w[PC_W_SRC0] = p->src[0];
	k->w[PC_W_DST0] = p->dst[0];
	k->w[PC_W_DSCP] = p->dscp;
	k->w[PC_W_LEN] = tot;
	if (p->frag_off & 0x1fff) {
		k->w[PC_W_PROTO] = p->proto;
		return PC_PARSE_OK;
	}
	return expect_l4(p, k, p->proto, tot - ihl);
}

static int expect_ipv6(const struct pg_pkt *p, struct pc_key *k, long avail)
{
	long plen = 8L * p->n_ext + l4_bytes(p) + p->payload + p->totlen_delta, room;

	if (avail < 40 || p->bad_version || plen + 40 > avail || plen < 0)
		return PC_PARSE_MALFORMED;
	for (int i = 0; i < 4; i++) {
		k->w[PC_W_SRC0 + i] = p->src[i];
		k->w[PC_W_DST0 + i] = p->dst[i];
	}
	k->w[PC_W_DSCP] = p->dscp;
	k->w[PC_W_LEN] = plen + 40;
	room = plen;
	for (unsigned i = 0; i < p->n_ext; i++) {
		if (i >= PC_IPV6_EXT_MAX || room < 8)
			return PC_PARSE_L4_UNKNOWN;
		room -= 8;
		if (p->ext[i] == 44 && p->frag_off) {
			k->w[PC_W_PROTO] = i + 1 < p->n_ext ? p->ext[i + 1] : p->proto;
			return PC_PARSE_OK;
		}
	}
	return expect_l4(p, k, p->proto, room);
}

int pg_expect(const struct pg_pkt *p, struct pc_key *k, uint32_t *l3_off)
{
	uint8_t buf[PG_FRAME_MAX];
	int flen = pg_build(p, buf, sizeof(buf));
	unsigned off = 14 + 4 * p->ntags;

	key_init(k);
	*l3_off = 0;
	if (flen < (int)off)
		return PC_PARSE_MALFORMED;
	if (p->ntags)
		k->w[PC_W_VLAN] = p->vid[0] & 0xfff;
	if (p->ntags > 2) { /* the parser walks two tags: the third is "L3" */
		k->w[PC_W_L3] = p->tpid[2] ? p->tpid[2] : PC_ETH_P_8021Q;
		*l3_off = 14 + 8;
		return PC_PARSE_OK;
	}
	k->w[PC_W_L3] = p->ethertype;
	*l3_off = off;
	if (p->ethertype == PC_ETH_P_IP)
		return expect_ipv4(p, k, flen - off);
	if (p->ethertype == PC_ETH_P_IPV6)
		return expect_ipv6(p, k, flen - off);
	return PC_PARSE_OK;
}

struct pg_pkt pg_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct pg_pkt p = { .ethertype = PC_ETH_P_IP, .proto = proto, .sport = sport, .dport = dport,
			    .l4_len = -1, .payload = 16 };

	p.src[0] = src;
	p.dst[0] = dst;
	if (proto == PC_IPPROTO_TCP)
		p.tcp_flags = PC_TCP_SYN;
	return p;
}

struct pg_pkt pg_ipv6(const char *src, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct pg_pkt p = { .ethertype = PC_ETH_P_IPV6, .proto = proto, .sport = sport, .dport = dport,
			    .l4_len = -1, .payload = 16 };
	uint8_t a[16];

	inet_pton(AF_INET6, src, a);
	for (int i = 0; i < 4; i++)
		p.src[i] = (uint32_t)a[4 * i] << 24 | a[4 * i + 1] << 16 | a[4 * i + 2] << 8 | a[4 * i + 3];
	inet_pton(AF_INET6, dst, a);
	for (int i = 0; i < 4; i++)
		p.dst[i] = (uint32_t)a[4 * i] << 24 | a[4 * i + 1] << 16 | a[4 * i + 2] << 8 | a[4 * i + 3];
	if (proto == PC_IPPROTO_TCP)
		p.tcp_flags = PC_TCP_SYN;
	return p;
}
