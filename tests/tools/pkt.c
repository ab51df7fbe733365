/* SPDX-License-Identifier: GPL-2.0-only */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/inet.h"
#include "pkt.h"

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	return pc_csum_add(sum, data, len);
}

uint16_t csum_fold(uint32_t sum)
{
	return htons(pc_csum_fold(sum));
}

uint32_t csum_pseudo(const struct addr *src, const struct addr *dst, uint8_t proto, uint32_t len)
{
	size_t alen = src->family == AF_INET ? 4 : 16;
	uint32_t sum = 0;

	sum = csum_add(sum, &src->v6, alen);
	sum = csum_add(sum, &dst->v6, alen);
	return sum + proto + (len >> 16) + (len & 0xffff);
}

uint32_t crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	crc = ~crc;
	/* SCTP stores the CRC's bytes least significant first. */
	return htole32(crc);
}

int parse_proto(const char *s)
{
	static const struct { const char *name; int proto; } names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP },
	};
	unsigned long v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].proto;
	if (parse_uint(s, 255, &v) < 0)
		return -1;
	return (int) v;
}

int parse_addr(const char *s, struct addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, s, &ret->v4) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &ret->v6) == 1)
		ret->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	char *end;
	unsigned long v;

	if (!*digits || *digits == '-' || *digits == '+' || *digits == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(digits, &end, hex ? 16 : 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[32], *dash;
	unsigned long a, b;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_uint(buf, 65535, &a) < 0)
		return -EINVAL;
	b = a;
	if (dash && (parse_uint(dash + 1, 65535, &b) < 0 || b < a))
		return -EINVAL;
	*lo = (uint16_t) a;
	*hi = (uint16_t) b;
	return 0;
}

int iface_index(const char *name)
{
	unsigned idx = if_nametoindex(name);

	return idx ? (int) idx : -errno;
}
