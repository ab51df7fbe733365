/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pcsend - send exactly N crafted packets on an interface through an
 * AF_PACKET socket, so that a test knows exactly what went out.
 *
 *   pcsend -i IFACE [--src-mac MAC] [--dst-mac MAC] [--vlan ID]...
 *          [--src ADDR] [--dst ADDR] [--proto P] [--sport N|LO-HI]
 *          [--dport N|LO-HI] [--tcp-flags syn,ack,...] [--dscp N]
 *          [--ttl N] [--len BYTES] [--count N] [--rate PPS]
 *          [--frag-offset BYTES] [--mf] [--ethertype N] [--bad-ip-csum] [-q]
 *
 * Addresses default to 192.0.2.1 -> 192.0.2.2 (2001:db8::1 -> ::2 when the
 * other one is IPv6), ports to 1024 -> 9, TCP flags to syn, 16 payload bytes.
 * --frag-offset (bytes, a multiple of 8) > 0 makes a non-first fragment: no
 * L4 header.  IPv6 fragments carry a fragment extension header.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkt.h"

#define MAX_VLANS 4
#define MAX_FRAME 9216

struct opts {
	const char *iface;
	uint8_t src_mac[6], dst_mac[6];
	bool have_src_mac;
	uint16_t vlans[MAX_VLANS];
	int nvlans;
	uint16_t outer_tpid;
	uint16_t ethertype;          /* non-zero: raw frame, no IP */
	struct addr src, dst;
	int proto;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t tcp_flags;
	uint8_t dscp, ttl;
	unsigned long len, count, rate;
	unsigned long frag_offset;   /* bytes, a multiple of 8 */
	bool mf, quiet;
	bool bad_ip_csum;            /* for testing checkers: a wrong IPv4 header checksum */
};

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t) v[i];
	}
	return 0;
}

static int parse_tcp_flags(const char *s, uint8_t *ret)
{
	static const char *names[] = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr" };
	char buf[128], *tok, *save = NULL;
	uint8_t flags = 0;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < 8 && strcmp(tok, names[i]) != 0; i++)
			;
		if (i == 8 && strcmp(tok, "none") != 0)
			return -EINVAL;
		if (i < 8)
			flags |= 1u << i;
	}
	*ret = flags;
	return 0;
}

static int iface_mac(int fd, const char *iface, uint8_t mac[6])
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static uint16_t cycle(uint16_t lo, uint16_t hi, unsigned long i)
{
	return (uint16_t) (lo + i % ((unsigned long) hi - lo + 1));
}

/* The L4 header for packet number i, without checksum; returns its length. */
static size_t build_l4_header(const struct opts *o, unsigned long i, uint8_t *p)
{
	uint16_t sport = htons(cycle(o->sport_lo, o->sport_hi, i));
	uint16_t dport = htons(cycle(o->dport_lo, o->dport_hi, i));

	switch (o->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *t = (struct tcphdr *) p;

		memset(t, 0, sizeof(*t));
		t->th_sport = sport;
		t->th_dport = dport;
		t->th_seq = htonl((uint32_t) i + 1);
		t->th_ack = o->tcp_flags & TH_ACK ? htonl(1) : 0;
		t->th_off = 5;
		t->th_flags = o->tcp_flags;
		t->th_win = htons(65535);
		return sizeof(*t);
	}
	case IPPROTO_UDP: {
		struct udphdr *u = (struct udphdr *) p;

		u->uh_sport = sport;
		u->uh_dport = dport;
		u->uh_ulen = htons((uint16_t) (sizeof(*u) + o->len));
		u->uh_sum = 0;
		return sizeof(*u);
	}
	case IPPROTO_SCTP: {
		/* common header, then one DATA chunk header */
		memset(p, 0, 28);
		memcpy(p, &sport, 2);
		memcpy(p + 2, &dport, 2);
		p[12] = 0;                                  /* DATA */
		p[13] = 0x03;                               /* B and E */
		uint16_t clen = htons((uint16_t) (16 + o->len));
		memcpy(p + 14, &clen, 2);
		uint32_t tsn = htonl((uint32_t) i + 1);
		memcpy(p + 16, &tsn, 4);
		return 28;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		uint16_t id = htons(0x7063), seq = htons((uint16_t) i);

		p[0] = o->proto == IPPROTO_ICMP ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
		p[1] = 0;
		p[2] = p[3] = 0;
		memcpy(p + 4, &id, 2);
		memcpy(p + 6, &seq, 2);
		return 8;
	}
	default:
		return 0;
	}
}

/* Fill in the checksum of the L4 segment at p (l4len bytes, header included). */
static void set_l4_checksum(const struct opts *o, uint8_t *p, size_t l4len)
{
	uint32_t sum;
	uint16_t c;

	switch (o->proto) {
	case IPPROTO_SCTP: {
		uint32_t crc = crc32c(p, l4len);

		memcpy(p + 8, &crc, 4);
		return;
	}
	case IPPROTO_ICMP:
		c = csum_fold(csum_add(0, p, l4len));
		memcpy(p + 2, &c, 2);
		return;
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMPV6:
		sum = csum_pseudo(&o->src, &o->dst, (uint8_t) o->proto, (uint32_t) l4len);
		c = csum_fold(csum_add(sum, p, l4len));
		if (o->proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		memcpy(p + (o->proto == IPPROTO_TCP ? 16 : o->proto == IPPROTO_UDP ? 6 : 2), &c, 2);
		return;
	default:
		return;
	}
}

/* L4 header (unless this is a non-first fragment) and payload; returns length. */
static size_t build_l4(const struct opts *o, unsigned long i, uint8_t *p)
{
	size_t hlen = o->frag_offset ? 0 : build_l4_header(o, i, p);

	for (size_t k = 0; k < o->len; k++)
		p[hlen + k] = (uint8_t) ('a' + k % 26);
	/* A first fragment gets the checksum of the part it carries. */
	if (!o->frag_offset)
		set_l4_checksum(o, p, hlen + o->len);
	return hlen + o->len;
}

static size_t build_ipv4(const struct opts *o, unsigned long i, uint8_t *p)
{
	struct iphdr *ip = (struct iphdr *) p;
	size_t l4len = build_l4(o, i, p + sizeof(*ip));

	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = (uint8_t) (o->dscp << 2);
	ip->tot_len = htons((uint16_t) (sizeof(*ip) + l4len));
	ip->id = htons((uint16_t) i);
	ip->frag_off = htons((uint16_t) ((o->mf ? IP_MF : 0) | o->frag_offset / 8));
	ip->ttl = o->ttl;
	ip->protocol = (uint8_t) o->proto;
	ip->saddr = o->src.v4.s_addr;
	ip->daddr = o->dst.v4.s_addr;
	ip->check = csum_fold(csum_add(0, ip, sizeof(*ip)));
	if (o->bad_ip_csum)
		ip->check ^= htons(0x0101);
	return sizeof(*ip) + l4len;
}

static size_t build_ipv6(const struct opts *o, unsigned long i, uint8_t *p)
{
	struct ip6_hdr *ip6 = (struct ip6_hdr *) p;
	bool frag = o->frag_offset || o->mf;
	size_t ext = frag ? sizeof(struct ip6_frag) : 0;
	size_t l4len = build_l4(o, i, p + sizeof(*ip6) + ext);

	memset(ip6, 0, sizeof(*ip6));
	ip6->ip6_flow = htonl(6u << 28 | (uint32_t) o->dscp << 22);
	ip6->ip6_plen = htons((uint16_t) (ext + l4len));
	ip6->ip6_nxt = frag ? IPPROTO_FRAGMENT : (uint8_t) o->proto;
	ip6->ip6_hlim = o->ttl;
	ip6->ip6_src = o->src.v6;
	ip6->ip6_dst = o->dst.v6;
	if (frag) {
		struct ip6_frag *f = (struct ip6_frag *) (p + sizeof(*ip6));

		f->ip6f_nxt = (uint8_t) o->proto;
		f->ip6f_reserved = 0;
		f->ip6f_offlg = htons((uint16_t) (o->frag_offset | (o->mf ? 1 : 0)));
		f->ip6f_ident = htonl((uint32_t) i);
	}
	return sizeof(*ip6) + ext + l4len;
}

/* The whole frame of packet number i; returns its length. */
static size_t build_frame(const struct opts *o, unsigned long i, uint8_t *buf)
{
	uint8_t *p = buf + 12;
	uint16_t type;

	memcpy(buf, o->dst_mac, 6);
	memcpy(buf + 6, o->src_mac, 6);
	for (int v = 0; v < o->nvlans; v++) {
		uint16_t tpid = htons(v == 0 ? o->outer_tpid : ETHERTYPE_VLAN);
		uint16_t tci = htons(o->vlans[v]);

		memcpy(p, &tpid, 2);
		memcpy(p + 2, &tci, 2);
		p += 4;
	}
	if (o->ethertype) {
		type = htons(o->ethertype);
		memcpy(p, &type, 2);
		memset(p + 2, 0xa5, o->len);
		return (size_t) (p + 2 - buf) + o->len;
	}
	type = htons(o->src.family == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
	memcpy(p, &type, 2);
	p += 2;
	if (o->src.family == AF_INET)
		return (size_t) (p - buf) + build_ipv4(o, i, p);
	return (size_t) (p - buf) + build_ipv6(o, i, p);
}

static int send_one(int fd, const struct sockaddr_ll *sll, const uint8_t *buf, size_t len)
{
	for (int tries = 0; tries < 10000; tries++) {
		if (sendto(fd, buf, len, 0, (const struct sockaddr *) sll, sizeof(*sll)) == (ssize_t) len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -errno;
		usleep(1000);
	}
	return -ENOBUFS;
}

static void pace(const struct opts *o, const struct timespec *start, unsigned long i)
{
	unsigned long long ns;
	struct timespec t;

	if (!o->rate)
		return;
	ns = (unsigned long long) start->tv_nsec + i * 1000000000ull / o->rate;
	t.tv_sec = start->tv_sec + (time_t) (ns / 1000000000ull);
	t.tv_nsec = (long) (ns % 1000000000ull);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

static int run(struct opts *o)
{
	static uint8_t buf[MAX_FRAME + 128];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct timespec start;
	size_t len = 0;
	int fd, r = 0;

	r = iface_index(o->iface);
	if (r < 0) {
		fprintf(stderr, "pcsend: %s: %s\n", o->iface, strerror(-r));
		return 1;
	}
	sll.sll_ifindex = r;
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("pcsend: socket(AF_PACKET)");
		return 1;
	}
	if (!o->have_src_mac && (r = iface_mac(fd, o->iface, o->src_mac)) < 0) {
		fprintf(stderr, "pcsend: %s: cannot read MAC: %s\n", o->iface, strerror(-r));
		close(fd);
		return 1;
	}
	memcpy(sll.sll_addr, o->dst_mac, 6);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned long i = 0; i < o->count; i++) {
		pace(o, &start, i);
		len = build_frame(o, i, buf);
		r = send_one(fd, &sll, buf, len);
		if (r < 0) {
			fprintf(stderr, "pcsend: send #%lu on %s: %s\n", i, o->iface, strerror(-r));
			close(fd);
			return 1;
		}
	}
	close(fd);
	if (!o->quiet)
		fprintf(stderr, "pcsend: sent %lu packets of %zu bytes on %s\n", o->count, len, o->iface);
	return 0;
}

static const struct option longopts[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "src-mac", required_argument, NULL, 'S' },
	{ "dst-mac", required_argument, NULL, 'D' },
	{ "vlan", required_argument, NULL, 'V' },
	{ "outer-tpid", required_argument, NULL, 'T' },
	{ "ethertype", required_argument, NULL, 'E' },
	{ "src", required_argument, NULL, 's' },
	{ "dst", required_argument, NULL, 'd' },
	{ "proto", required_argument, NULL, 'p' },
	{ "sport", required_argument, NULL, 'P' },
	{ "dport", required_argument, NULL, 'Q' },
	{ "tcp-flags", required_argument, NULL, 'F' },
	{ "dscp", required_argument, NULL, 'C' },
	{ "ttl", required_argument, NULL, 't' },
	{ "len", required_argument, NULL, 'l' },
	{ "count", required_argument, NULL, 'c' },
	{ "rate", required_argument, NULL, 'r' },
	{ "frag-offset", required_argument, NULL, 'o' },
	{ "mf", no_argument, NULL, 'm' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "bad-ip-csum", no_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static const char *opt_name(int c)
{
	for (const struct option *l = longopts; l->name; l++)
		if (l->val == c)
			return l->name;
	return "option";
}

static void usage(FILE *f)
{
	fputs("usage: pcsend -i IFACE [--src-mac MAC] [--dst-mac MAC] [--vlan ID]... [--outer-tpid N]\n"
	      "              [--src ADDR] [--dst ADDR] [--proto tcp|udp|icmp|icmpv6|sctp|N]\n"
	      "              [--sport N|LO-HI] [--dport N|LO-HI] [--tcp-flags syn,ack,...]\n"
	      "              [--dscp N] [--ttl N] [--len BYTES] [--count N] [--rate PPS]\n"
	      "              [--frag-offset BYTES] [--mf] [--ethertype N] [--bad-ip-csum] [-q]\n", f);
}

static int bad(int c, const char *arg)
{
	fprintf(stderr, "pcsend: invalid --%s: '%s'\n", opt_name(c), arg);
	return -EINVAL;
}

static int parse_opt(struct opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case 'i': o->iface = arg; return 0;
	case 'S': o->have_src_mac = true; return parse_mac(arg, o->src_mac) < 0 ? bad(c, arg) : 0;
	case 'D': return parse_mac(arg, o->dst_mac) < 0 ? bad(c, arg) : 0;
	case 'V':
		if (o->nvlans == MAX_VLANS || parse_uint(arg, 4095, &v) < 0)
			return bad(c, arg);
		o->vlans[o->nvlans++] = (uint16_t) v;
		return 0;
	case 'T':
		if (parse_uint(arg, 0xffff, &v) < 0)
			return bad(c, arg);
		o->outer_tpid = (uint16_t) v;
		return 0;
	case 'E':
		if (parse_uint(arg, 0xffff, &v) < 0 || v < 0x600)
			return bad(c, arg);
		o->ethertype = (uint16_t) v;
		return 0;
	case 's': return parse_addr(arg, &o->src) < 0 ? bad(c, arg) : 0;
	case 'd': return parse_addr(arg, &o->dst) < 0 ? bad(c, arg) : 0;
	case 'p': o->proto = parse_proto(arg); return o->proto < 0 ? bad(c, arg) : 0;
	case 'P': return parse_port_range(arg, &o->sport_lo, &o->sport_hi) < 0 ? bad(c, arg) : 0;
	case 'Q': return parse_port_range(arg, &o->dport_lo, &o->dport_hi) < 0 ? bad(c, arg) : 0;
	case 'F': return parse_tcp_flags(arg, &o->tcp_flags) < 0 ? bad(c, arg) : 0;
	case 'C':
		if (parse_uint(arg, 63, &v) < 0)
			return bad(c, arg);
		o->dscp = (uint8_t) v;
		return 0;
	case 't':
		if (parse_uint(arg, 255, &v) < 0)
			return bad(c, arg);
		o->ttl = (uint8_t) v;
		return 0;
	case 'l': return parse_uint(arg, MAX_FRAME - 128, &o->len) < 0 ? bad(c, arg) : 0;
	case 'c': return parse_uint(arg, ~0ul, &o->count) < 0 ? bad(c, arg) : 0;
	case 'r': return parse_uint(arg, 100000000, &o->rate) < 0 ? bad(c, arg) : 0;
	case 'o':
		if (parse_uint(arg, 8191 * 8, &v) < 0 || v % 8)
			return bad(c, arg);
		o->frag_offset = v;
		return 0;
	case 'm': o->mf = true; return 0;
	case 'q': o->quiet = true; return 0;
	case 'B': o->bad_ip_csum = true; return 0;
	default: return -EINVAL;
	}
}

static int check_opts(struct opts *o)
{
	if (!o->iface) {
		fputs("pcsend: -i IFACE is required\n", stderr);
		return -EINVAL;
	}
	if (!o->src.family)
		parse_addr(o->dst.family == AF_INET6 ? "2001:db8::1" : "192.0.2.1", &o->src);
	if (!o->dst.family)
		parse_addr(o->src.family == AF_INET6 ? "2001:db8::2" : "192.0.2.2", &o->dst);
	if (o->src.family != o->dst.family) {
		fputs("pcsend: --src and --dst must be of the same family\n", stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.dst_mac = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		.outer_tpid = ETHERTYPE_VLAN, .proto = IPPROTO_UDP,
		.sport_lo = 1024, .sport_hi = 1024, .dport_lo = 9, .dport_hi = 9,
		.tcp_flags = TH_SYN, .ttl = 64, .len = 16, .count = 1,
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:c:qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?' || parse_opt(&o, c, optarg) < 0) {
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pcsend: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (check_opts(&o) < 0)
		return 2;
	return run(&o);
}
