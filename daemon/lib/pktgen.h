/* SPDX-License-Identifier: GPL-2.0-only */
/* pktgen.h - build packet bytes from a description, and the key (and parse
 * status) that the classifier must derive from them.  The expectation is
 * computed from the description, independently of bpf/parse.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktclass.h"

#define PG_MAX_EXT 8
#define PG_FRAME_MAX 4096

struct pg_pkt {
	/* L2: in-band tags, outermost first (tpid 0 = 0x8100) */
	unsigned ntags;
	uint16_t tpid[3];
	uint16_t vid[3];
	uint16_t ethertype;        /* 0x0800, 0x86dd, 0x0806, anything */

	/* L3 (IPv4 uses src[0]/dst[0]) */
	uint32_t src[4], dst[4];
	uint8_t dscp, ecn;
	unsigned ip_opts;          /* IPv4 option bytes, multiple of 4, <= 40 */
	uint16_t frag_off;         /* fragment offset, 8-byte units */
	bool more_frags;
	unsigned n_ext;            /* IPv6 extension headers ... */
	uint8_t ext[PG_MAX_EXT];   /* ... their types (0, 43, 60, 44) */
	uint8_t proto;

	/* L4 */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	int l4_len;                /* bytes of the L4 header present; -1 = full */
	unsigned payload;

	/* damage */
	unsigned frame_cut;        /* cut the frame to this many bytes (0 = no) */
	bool bad_version;          /* IP version nibble wrong */
	bool bad_ihl;              /* IPv4 IHL < 5 */
	int totlen_delta;          /* added to IPv4 total / IPv6 payload length */
};

/* Builds the Ethernet frame into buf; returns its length or -1. */
int pg_build(const struct pg_pkt *p, uint8_t *buf, size_t cap);

/* Expected key (without PC_W_DIR / PC_W_IFBITS, left 0) and status.
 * l3_off: where the L3 header starts in the frame. */
int pg_expect(const struct pg_pkt *p, struct pc_key *k, uint32_t *l3_off);

/* Handy constructors. */
struct pg_pkt pg_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport, uint16_t dport);
struct pg_pkt pg_ipv6(const char *src, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport);

