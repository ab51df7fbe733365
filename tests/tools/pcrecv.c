/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pcrecv - count the packets that arrive on an interface (AF_PACKET, incoming
 * only) and match a filter, until a timeout, N packets, an end marker or
 * SIGTERM/SIGINT; then print the count (or a JSON report with --json).
 *
 *   pcrecv -i IFACE [--proto P] [--sport N|LO-HI] [--dport N|LO-HI]
 *          [--src ADDR] [--dst ADDR] [--vlan ID] [--ethertype N]
 *          [--count N] [--timeout SEC] [--end-port PORT] [--ready FILE]
 *          [--verify-csum] [--json]
 *
 * --end-port: a UDP packet to that destination port ends the run and is not
 * counted; a sender that sends it after its traffic makes the count exact
 * without guessing at delays.  Exit status 3 when the timeout came first.
 * --verify-csum: exit 1 if a matching packet had a bad IPv4 header checksum
 * or a bad L4 checksum.  Exit status 4 when the socket lost frames.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pkt.h"

#define NO_VLAN 0xffff

struct filter {
	int proto;                  /* -1: any */
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	bool sport, dport;
	struct addr src, dst;       /* family 0: any */
	int vlan;                   /* -1: any */
	int ethertype;              /* -1: any */
};

/* What one frame holds, as far as the filter and the report care. */
struct pkt {
	uint16_t vlan, ethertype;
	struct addr src, dst;
	int proto;                  /* -1: not IP */
	int sport, dport;           /* -1: none */
	int dscp;                   /* -1: not IP */
	bool ip_csum_bad, l4_checked, l4_csum_bad;
};

struct report {
	unsigned long socket_drops;  /* frames the socket lost: the count is not exact */
	unsigned long packets, ipv4, ip_csum_bad, l4_checked, l4_csum_bad;
	unsigned long dscp[64];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void) sig;
	stop = 1;
}

static bool sctp_csum_ok(const uint8_t *l4, size_t len)
{
	static uint8_t tmp[65536];
	uint32_t want;

	if (len < 12 || len > sizeof(tmp))
		return false;
	memcpy(&want, l4 + 8, 4);
	memcpy(tmp, l4, len);
	memset(tmp + 8, 0, 4);
	return crc32c(tmp, len) == want;
}

static bool l4_csum_ok(const struct pkt *k, const uint8_t *l4, size_t len)
{
	switch (k->proto) {
	case IPPROTO_ICMP:
		return csum_fold(csum_add(0, l4, len)) == 0;
	case IPPROTO_SCTP:
		return sctp_csum_ok(l4, len);
	default:    /* TCP, UDP, ICMPv6: with the pseudo header */
		return csum_fold(csum_add(csum_pseudo(&k->src, &k->dst, (uint8_t) k->proto,
						      (uint32_t) len), l4, len)) == 0;
	}
}

static void parse_l4(struct pkt *k, const uint8_t *l4, size_t len, bool whole)
{
	bool ports = k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP || k->proto == IPPROTO_SCTP;

	if (ports && len >= 4) {
		k->sport = l4[0] << 8 | l4[1];
		k->dport = l4[2] << 8 | l4[3];
	}
	if (!whole)
		return;
	if (k->proto == IPPROTO_UDP && len >= 8 && l4[6] == 0 && l4[7] == 0)
		return;     /* no UDP checksum */
	if (ports || k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6) {
		k->l4_checked = true;
		k->l4_csum_bad = !l4_csum_ok(k, l4, len);
	}
}

static void parse_ipv4(struct pkt *k, const uint8_t *p, size_t len)
{
	const struct iphdr *ip = (const struct iphdr *) p;
	size_t hlen, tot;
	uint16_t frag;

	if (len < sizeof(*ip) || ip->version != 4 || ip->ihl < 5 || (hlen = ip->ihl * 4u) > len)
		return;
	tot = ntohs(ip->tot_len);
	if (tot < hlen || tot > len)
		return;
	k->src.family = k->dst.family = AF_INET;
	k->src.v4.s_addr = ip->saddr;
	k->dst.v4.s_addr = ip->daddr;
	k->proto = ip->protocol;
	k->dscp = ip->tos >> 2;
	k->ip_csum_bad = csum_fold(csum_add(0, p, hlen)) != 0;
	frag = ntohs(ip->frag_off);
	if ((frag & IP_OFFMASK) == 0)
		parse_l4(k, p + hlen, tot - hlen, !(frag & IP_MF));
}

static void parse_ipv6(struct pkt *k, const uint8_t *p, size_t len)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *) p;
	size_t off = sizeof(*ip6), end;
	bool first = true, whole = true;
	int nxt;

	if (len < sizeof(*ip6) || (p[0] >> 4) != 6 || (end = off + ntohs(ip6->ip6_plen)) > len)
		return;
	k->src.family = k->dst.family = AF_INET6;
	k->src.v6 = ip6->ip6_src;
	k->dst.v6 = ip6->ip6_dst;
	k->dscp = (int) (ntohl(ip6->ip6_flow) >> 22 & 0x3f);
	nxt = ip6->ip6_nxt;
	for (int depth = 0; depth < 8 && off + 8 <= end; depth++) {
		if (nxt == IPPROTO_FRAGMENT) {
			uint16_t offlg = (uint16_t) (p[off + 2] << 8 | p[off + 3]);

			first = (offlg & 0xfff8) == 0;
			whole = whole && first && !(offlg & 1);
			nxt = p[off];
			off += 8;
		} else if (nxt == IPPROTO_HOPOPTS || nxt == IPPROTO_ROUTING || nxt == IPPROTO_DSTOPTS) {
			nxt = p[off];
			off += (p[off + 1] + 1u) * 8;
		} else {
			break;
		}
	}
	k->proto = nxt;
	if (first && off <= end)
		parse_l4(k, p + off, end - off, whole);
}

static void parse_frame(struct pkt *k, const uint8_t *p, size_t len, int aux_vlan)
{
	size_t off = 12;

	*k = (struct pkt) { .vlan = NO_VLAN, .proto = -1, .sport = -1, .dport = -1, .dscp = -1 };
	if (aux_vlan >= 0)
		k->vlan = (uint16_t) aux_vlan;
	if (len < 14)
		return;
	k->ethertype = (uint16_t) (p[off] << 8 | p[off + 1]);
	while ((k->ethertype == ETHERTYPE_VLAN || k->ethertype == 0x88a8) && off + 6 <= len) {
		if (k->vlan == NO_VLAN)
			k->vlan = (uint16_t) ((p[off + 2] << 8 | p[off + 3]) & 0xfff);
		off += 4;
		k->ethertype = (uint16_t) (p[off] << 8 | p[off + 1]);
	}
	off += 2;
	if (k->ethertype == ETHERTYPE_IP)
		parse_ipv4(k, p + off, len - off);
	else if (k->ethertype == ETHERTYPE_IPV6)
		parse_ipv6(k, p + off, len - off);
}

static bool addr_eq(const struct addr *want, const struct addr *got)
{
	if (!want->family)
		return true;
	if (want->family != got->family)
		return false;
	return memcmp(&want->v6, &got->v6, want->family == AF_INET ? 4 : 16) == 0;
}

static bool in_range(int v, uint16_t lo, uint16_t hi)
{
	return v >= lo && v <= hi;
}

static bool matches(const struct filter *f, const struct pkt *k)
{
	return (f->proto < 0 || f->proto == k->proto) &&
	       (f->ethertype < 0 || f->ethertype == k->ethertype) &&
	       (f->vlan < 0 || f->vlan == k->vlan) &&
	       (!f->sport || in_range(k->sport, f->sport_lo, f->sport_hi)) &&
	       (!f->dport || in_range(k->dport, f->dport_lo, f->dport_hi)) &&
	       addr_eq(&f->src, &k->src) && addr_eq(&f->dst, &k->dst);
}

static void account(struct report *r, const struct pkt *k)
{
	r->packets++;
	if (k->src.family == AF_INET) {
		r->ipv4++;
		r->ip_csum_bad += k->ip_csum_bad;
	}
	r->l4_checked += k->l4_checked;
	r->l4_csum_bad += k->l4_csum_bad;
	if (k->dscp >= 0)
		r->dscp[k->dscp]++;
}

/* One frame from the socket; returns its length, 0 if it is not incoming,
 * or -errno.  *vlan: the tag the kernel took off, or -1. */
static ssize_t receive(int fd, uint8_t *buf, size_t size, int *vlan)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct sockaddr_ll sll;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_name = &sll, .msg_namelen = sizeof(sll),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	*vlan = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if (aux.tp_status & TP_STATUS_VLAN_VALID)
			*vlan = aux.tp_vlan_tci & 0xfff;
	}
	if (sll.sll_pkttype == PACKET_OUTGOING || sll.sll_pkttype == PACKET_LOOPBACK)
		return 0;
	return n;
}

static int open_socket(const char *iface)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, rcvbuf = 64 << 20, fd, r;

	r = iface_index(iface);
	if (r < 0) {
		fprintf(stderr, "pcrecv: %s: %s\n", iface, strerror(-r));
		return -1;
	}
	sll.sll_ifindex = r;
	/* Protocol 0 until bound: no frame of another interface slips in. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    bind(fd, (struct sockaddr *) &sll, sizeof(sll)) < 0) {
		perror("pcrecv: AF_PACKET socket");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct opts {
	const char *iface, *ready, *timeout_arg;
	struct filter f;
	unsigned long count;        /* 0: no limit */
	double timeout;
	int end_port;               /* -1: none */
	bool verify, json;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double) t.tv_sec + t.tv_nsec / 1e9;
}

/* 0: done (count, marker or signal); 3: timeout; -1: error. */
static int capture(const struct opts *o, int fd, struct report *r)
{
	static uint8_t buf[65536];
	double deadline = now() + o->timeout;

	while (!stop && (!o->count || r->packets < o->count)) {
		double left = deadline - now();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct pkt k;
		ssize_t n;
		int vlan = -1;

		if (left <= 0)
			return 3;
		if (poll(&pfd, 1, (int) (left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while ((n = receive(fd, buf, sizeof(buf), &vlan)) >= 0) {
			if (n == 0)
				continue;
			parse_frame(&k, buf, (size_t) n, vlan);
			if (o->end_port >= 0 && k.proto == IPPROTO_UDP && k.dport == o->end_port)
				return 0;
			if (matches(&o->f, &k))
				account(r, &k);
			if (o->count && r->packets >= o->count)
				return 0;
		}
		if (n != -EAGAIN && n != -EINTR)
			return -1;
	}
	return 0;
}

static unsigned long socket_drops(int fd)
{
	struct tpacket_stats st = {};
	socklen_t len = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return 0;
	return st.tp_drops;
}

static void print_report(const struct opts *o, const struct report *r, bool timed_out)
{
	bool first = true;

	if (!o->json) {
		printf("%lu\n", r->packets);
		return;
	}
	printf("{\"packets\": %lu, \"ipv4\": %lu, \"ipv4_bad_csum\": %lu, "
	       "\"l4_checked\": %lu, \"l4_bad_csum\": %lu, \"socket_drops\": %lu, "
	       "\"timed_out\": %s, \"dscp\": {",
	       r->packets, r->ipv4, r->ip_csum_bad, r->l4_checked, r->l4_csum_bad,
	       r->socket_drops, timed_out ? "true" : "false");
	for (int d = 0; d < 64; d++) {
		if (!r->dscp[d])
			continue;
		printf("%s\"%d\": %lu", first ? "" : ", ", d, r->dscp[d]);
		first = false;
	}
	printf("}}\n");
}

static const struct option longopts[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "proto", required_argument, NULL, 'p' },
	{ "sport", required_argument, NULL, 'P' },
	{ "dport", required_argument, NULL, 'Q' },
	{ "src", required_argument, NULL, 's' },
	{ "dst", required_argument, NULL, 'd' },
	{ "vlan", required_argument, NULL, 'V' },
	{ "ethertype", required_argument, NULL, 'E' },
	{ "count", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ "end-port", required_argument, NULL, 'e' },
	{ "ready", required_argument, NULL, 'R' },
	{ "verify-csum", no_argument, NULL, 'v' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static int parse_opt(struct opts *o, int c, const char *arg)
{
	unsigned long v;
	char *end;

	switch (c) {
	case 'i': o->iface = arg; return 0;
	case 'p': return (o->f.proto = parse_proto(arg)) < 0 ? -EINVAL : 0;
	case 'P': o->f.sport = true; return parse_port_range(arg, &o->f.sport_lo, &o->f.sport_hi);
	case 'Q': o->f.dport = true; return parse_port_range(arg, &o->f.dport_lo, &o->f.dport_hi);
	case 's': return parse_addr(arg, &o->f.src);
	case 'd': return parse_addr(arg, &o->f.dst);
	case 'V':
		if (parse_uint(arg, 4095, &v) < 0)
			return -EINVAL;
		o->f.vlan = (int) v;
		return 0;
	case 'E':
		if (parse_uint(arg, 0xffff, &v) < 0)
			return -EINVAL;
		o->f.ethertype = (int) v;
		return 0;
	case 'c': return parse_uint(arg, ~0ul, &o->count);
	case 't':
		o->timeout = strtod(arg, &end);
		return *end || end == arg || !(o->timeout > 0) ? -EINVAL : 0;
	case 'e':
		if (parse_uint(arg, 65535, &v) < 0)
			return -EINVAL;
		o->end_port = (int) v;
		return 0;
	case 'R': o->ready = arg; return 0;
	case 'v': o->verify = true; return 0;
	case 'j': o->json = true; return 0;
	default: return -EINVAL;
	}
}

static void usage(FILE *f)
{
	fputs("usage: pcrecv -i IFACE [--proto P] [--sport N|LO-HI] [--dport N|LO-HI]\n"
	      "              [--src ADDR] [--dst ADDR] [--vlan ID] [--ethertype N]\n"
	      "              [--count N] [--timeout SEC] [--end-port PORT] [--ready FILE]\n"
	      "              [--verify-csum] [--json]\n", f);
}

static int signal_ready(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "pcrecv: %s: %s\n", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .f = { .proto = -1, .vlan = -1, .ethertype = -1 }, .timeout = 5, .end_port = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct report r = {};
	int c, fd, res;

	while ((c = getopt_long(argc, argv, "i:c:t:jh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?' || parse_opt(&o, c, optarg) < 0) {
			if (c != '?')
				fprintf(stderr, "pcrecv: invalid argument '%s'\n", optarg);
			usage(stderr);
			return 2;
		}
	}
	if (!o.iface || optind < argc) {
		usage(stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = open_socket(o.iface);
	if (fd < 0 || (o.ready && signal_ready(o.ready) < 0))
		return 1;
	res = capture(&o, fd, &r);
	r.socket_drops = socket_drops(fd);
	close(fd);
	if (res < 0) {
		perror("pcrecv: receive");
		return 1;
	}
	print_report(&o, &r, res == 3);
	if (o.verify && (r.ip_csum_bad || r.l4_csum_bad)) {
		fprintf(stderr, "pcrecv: %lu bad IPv4 header and %lu bad L4 checksums\n",
			r.ip_csum_bad, r.l4_csum_bad);
		return 1;
	}
	if (r.socket_drops) {
		fprintf(stderr, "pcrecv: the socket dropped %lu frames, the count is not exact\n",
			r.socket_drops);
		return 4;
	}
	return res == 3 && o.end_port >= 0 ? 3 : 0;
}
