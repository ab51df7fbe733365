/* SPDX-License-Identifier: GPL-2.0-only */
/* inet.h - the Internet checksum (RFC 1071), header-only so that the test
 * tools, which link nothing of the daemon, share it.  Protocol numbers and
 * ethertypes are in bpf/pktclass.h (PC_IPPROTO_*, PC_ETH_P_*). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Add len bytes at data, as big-endian 16-bit words, to a running sum. */
static inline uint32_t pc_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* The checksum of a running sum, in host order (0 when a header that holds
 * its own checksum is valid). */
static inline uint16_t pc_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint16_t pc_inet_csum(const void *data, size_t len)
{
	return pc_csum_fold(pc_csum_add(0, data, len));
}
