/* SPDX-License-Identifier: GPL-2.0-only */
/* value.c - parsers for single config values: numbers, ranges,
 * prefixes, names.  No diagnostics here: callers turn errors into them. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/internal.h"
#include "pktclass.h"

struct named {
	const char *name;
	uint32_t value;
};

static const struct named protos[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "gre", 47 }, { "esp", 50 },
	{ "ah", 51 }, { "icmpv6", 58 }, { "sctp", 132 }, { "udplite", 136 },
};

static const struct named dscps[] = {
	{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 }, { "cs4", 32 },
	{ "cs5", 40 }, { "cs6", 48 }, { "cs7", 56 },
	{ "af11", 10 }, { "af12", 12 }, { "af13", 14 }, { "af21", 18 }, { "af22", 20 },
	{ "af23", 22 }, { "af31", 26 }, { "af32", 28 }, { "af33", 30 }, { "af41", 34 },
	{ "af42", 36 }, { "af43", 38 }, { "ef", 46 },
};

static const struct named ethertypes[] = {
	{ "ipv4", PC_ETH_P_IP }, { "arp", PC_ETH_P_ARP }, { "ipv6", PC_ETH_P_IPV6 },
};

static const struct named tcp_flags[] = {
	{ "fin", 0x01 }, { "syn", 0x02 }, { "rst", 0x04 }, { "psh", 0x08 },
	{ "ack", 0x10 }, { "urg", 0x20 }, { "ece", 0x40 }, { "cwr", 0x80 },
};

#define lookup(tbl, s, ret) lookup_named(tbl, ELEMENTSOF(tbl), s, ret)

static bool lookup_named(const struct named *t, size_t n, const char *s, uint32_t *ret)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(t[i].name, s)) {
			*ret = t[i].value;
			return true;
		}
	return false;
}

static int digit(char c, unsigned base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Digits in base, exactly len of them (len > 0). */
static int parse_digits(const char *s, size_t len, unsigned base, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	bool over = false;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int d = digit(s[i], base);

		if (d < 0)
			return -EINVAL;
		if (!over && v > (max - (uint64_t)d) / base)
			over = true;
		if (!over)
			v = v * base + (uint64_t)d;
	}
	if (over)
		return -ERANGE;
	*ret = v;
	return 0;
}

static int parse_u32n(const char *s, size_t len, uint32_t *ret)
{
	uint64_t v;
	int r;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		r = parse_digits(s + 2, len - 2, 16, UINT32_MAX, &v);
	else
		r = parse_digits(s, len, 10, UINT32_MAX, &v);
	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

int pc_cfg_parse_u32(const char *s, uint32_t *ret)
{
	return parse_u32n(s, strlen(s), ret);
}

int pc_cfg_parse_range(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi)
{
	const char *dash = strchr(s, '-');
	size_t len = strlen(s);
	uint32_t a, b;
	int r1, r2;

	if (!dash) {
		r1 = parse_u32n(s, len, &a);
		b = a;
		r2 = r1;
	} else {
		r1 = parse_u32n(s, dash - s, &a);
		r2 = parse_u32n(dash + 1, len - (dash + 1 - s), &b);
	}
	if (r1 == -EINVAL || r2 == -EINVAL)
		return -EINVAL;
	if (r1 < 0 || r2 < 0 || a > max || b > max)
		return -ERANGE;
	if (a > b)
		return -EDOM;
	*lo = a;
	*hi = b;
	return 0;
}

static void clear_host_bits(struct pc_prefix *p, bool *host_bits)
{
	unsigned bytes = p->family == 4 ? 4 : 16;

	*host_bits = false;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = p->len >= 8 * (i + 1) ? 8 : p->len > 8 * i ? p->len - 8 * i : 0;
		uint8_t mask = keep ? (uint8_t)(0xff00u >> keep) : 0;

		if (p->addr[i] & ~mask)
			*host_bits = true;
		p->addr[i] &= mask;
	}
}

int pc_cfg_parse_prefix(const char *s, struct pc_prefix *ret, bool *host_bits)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct pc_prefix p = {};
	char buf[INET6_ADDRSTRLEN + 1];
	uint64_t len;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = 0;
	p.family = strchr(buf, ':') ? 6 : 4;
	if (inet_pton(p.family == 4 ? AF_INET : AF_INET6, buf, p.addr) != 1)
		return -EINVAL;
	if (!slash)
		len = p.family == 4 ? 32 : 128;
	else if (parse_digits(slash + 1, strlen(slash + 1), 10, 255, &len) < 0 ||
		 strlen(slash + 1) > 3 || len > (p.family == 4 ? 32u : 128u))
		return -EDOM;
	p.len = (uint8_t)len;
	clear_host_bits(&p, host_bits);
	*ret = p;
	return 0;
}

int pc_parse_prefix(const char *s, struct pc_prefix *ret)
{
	bool host_bits;

	return pc_cfg_parse_prefix(s, ret, &host_bits) < 0 ? -EINVAL : 0;
}

int pc_parse_proto(const char *s, uint32_t *ret)
{
	uint32_t v;

	if (lookup(protos, s, ret))
		return 0;
	if (pc_cfg_parse_u32(s, &v) < 0 || v > PC_MAX_PROTO)
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *pc_proto_name(uint32_t proto, char *buf, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(protos); i++)
		if (protos[i].value == proto)
			return protos[i].name;
	snprintf(buf, len, "%" PRIu32, proto);
	return buf;
}

static int named_or_number(const struct named *t, size_t n, const char *s, uint32_t max,
			   uint32_t *ret)
{
	uint32_t v;
	int r;

	if (lookup_named(t, n, s, ret))
		return 0;
	r = pc_cfg_parse_u32(s, &v);
	if (r < 0)
		return r;
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int pc_cfg_parse_dscp(const char *s, uint32_t *ret)
{
	return named_or_number(dscps, ELEMENTSOF(dscps), s, PC_MAX_DSCP, ret);
}

int pc_cfg_parse_ethertype(const char *s, uint32_t *ret)
{
	return named_or_number(ethertypes, ELEMENTSOF(ethertypes), s,
			       PC_MAX_ETHERTYPE, ret);
}

int pc_cfg_parse_tcp_flag(const char *s, uint8_t *ret)
{
	uint32_t v;

	if (!lookup(tcp_flags, s, &v))
		return -EINVAL;
	*ret = (uint8_t)v;
	return 0;
}

/* "MAJ:MIN" in hex (a tc class handle; MIN may be empty), or a u32. */
int pc_cfg_parse_priority(const char *s, uint32_t *ret)
{
	const char *colon = strchr(s, ':');
	uint64_t maj, min = 0;
	int r;

	if (!colon)
		return pc_cfg_parse_u32(s, ret);
	r = parse_digits(s, colon - s, 16, 0xffff, &maj);
	if (r == 0 && colon[1])
		r = parse_digits(colon + 1, strlen(colon + 1), 16, 0xffff, &min);
	if (r < 0)
		return r;
	*ret = (uint32_t)(maj << 16 | min);
	return 0;
}

int pc_parse_duration_usec(const char *s, uint64_t *ret)
{
	static const struct {
		const char *unit;
		uint64_t usec;
	} units[] = {
		{ "ms", 1000 }, { "s", 1000000 }, { "m", 60000000 }, { "h", 3600000000ull },
	};
	size_t nd = strspn(s, "0123456789");
	uint64_t v;

	if (parse_digits(s, nd, 10, UINT64_MAX, &v) < 0)
		return -EINVAL;
	if (s[nd] == 0) {
		if (v != 0)
			return -EINVAL; /* a unit is required, except for "0" */
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (!strcmp(s + nd, units[i].unit)) {
			if (v > UINT64_MAX / units[i].usec)
				return -EINVAL;
			*ret = v * units[i].usec;
			return 0;
		}
	return -EINVAL;
}

bool pc_cfg_name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

	return n > 0 && n <= PC_RULE_NAME_MAX && s[n] == 0;
}

/* As the kernel's dev_valid_name(); globs may add * ? [ ]. */
int pc_cfg_ifname_check(const char *s, bool allow_glob)
{
	size_t len = strlen(s);

	if (len == 0 || !strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/' || c == ':' || isspace(c) || c < 0x20 || c == 0x7f)
			return -EINVAL;
		if (!allow_glob && strchr("*?[]", c))
			return -EINVAL;
	}
	if (len >= PC_IFNAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}
