/* SPDX-License-Identifier: GPL-2.0-only */
/* pkt.h - small helpers shared by the test tools pcsend and pcrecv. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct addr {
	int family;                     /* AF_INET or AF_INET6, 0 = unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* One's-complement sum of len bytes, added to sum (not folded). */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
/* Fold a sum to 16 bits and complement it: the value to put in a header. */
uint16_t csum_fold(uint32_t sum);
/* Sum of the IPv4/IPv6 pseudo header for an L4 checksum. */
uint32_t csum_pseudo(const struct addr *src, const struct addr *dst, uint8_t proto, uint32_t len);
/* CRC32c (Castagnoli) as SCTP uses it, already in the byte order of the header. */
uint32_t crc32c(const void *data, size_t len);

/* "tcp", "udp", "icmp", "icmpv6", "sctp" or 0..255. -1 on error. */
int parse_proto(const char *s);
/* IPv4 or IPv6 address. 0 or -EINVAL. */
int parse_addr(const char *s, struct addr *ret);
/* Unsigned decimal or 0x hex number <= max. 0 or -EINVAL. */
int parse_uint(const char *s, unsigned long max, unsigned long *ret);
/* "N" or "LO-HI" (LO <= HI <= 65535). 0 or -EINVAL. */
int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi);
/* Interface index, or a negative errno. */
int iface_index(const char *name);
