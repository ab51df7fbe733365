/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl capture --class NAME [--iface IF] [-c COUNT] -w FILE
 *
 * A private copy of the live classifier (pc_dp_live_capture) runs as the
 * socket filter of an AF_PACKET SOCK_RAW socket per interface that pktclassd
 * is attached to (or just --iface): it accepts the packets of one class and
 * nothing else, both directions, and they are written to a pcap file
 * (LINKTYPE_ETHERNET, with the VLAN tag that the kernel took off put back
 * from PACKET_AUXDATA).  Stops after COUNT packets, or on Ctrl-C / SIGTERM.
 * Nothing of the daemon's (counters, packet log) changes. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "datapath/datapath.h"
#include "datapath/stats.h"
#include "lib/util.h"

#define CAP_IF_MAX PC_MAX_ATTACH
#define CAP_SNAPLEN 65535
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_LINKTYPE_ETHERNET 1

struct cap_opts {
	const char *class_name, *iface, *file;
	uint64_t count; /* 0: until interrupted */
};

struct cap_if {
	int fd;
	char name[IF_NAMESIZE];
};

static volatile sig_atomic_t cap_quit;

static void cap_on_signal(int sig)
{
	cap_quit = 1;
}

enum { OPT_CLASS = CTL_OPT_FIRST_PRIVATE, OPT_IFACE };

/* Our own option loop: -c is the count here (the config is --config, or
 * -c before the command). */
static int parse_opts(struct ctl *c, int argc, char **argv, struct cap_opts *o)
{
	static const struct option longopts[] = {
		{ "class", required_argument, NULL, OPT_CLASS },
		{ "iface", required_argument, NULL, OPT_IFACE },
		{ "count", required_argument, NULL, 'c' },
		{ "write", required_argument, NULL, 'w' },
		{ "config", required_argument, NULL, 'C' },
		{ "pin-path", required_argument, NULL, CTL_OPT_PIN_PATH },
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	uint32_t n;
	int opt;

	while ((opt = getopt_long(argc, argv, ":c:w:h", longopts, NULL)) != -1) {
		if (ctl_common_option(c, opt, 'C'))
			continue;
		switch (opt) {
		case OPT_CLASS:
			o->class_name = optarg;
			break;
		case OPT_IFACE:
			o->iface = optarg;
			break;
		case 'c':
			if (ctl_parse_u32(optarg, UINT32_MAX, &n) < 0 || n == 0)
				return ctl_usage_error("capture: -c wants a packet count > 0, not '%s'", optarg);
			o->count = n;
			break;
		case 'w':
			o->file = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_OK + 100;
		case ':':
			return ctl_usage_error("capture: option '%s' needs an argument", argv[optind - 1]);
		default:
			return ctl_usage_error("capture: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ctl_usage_error("capture: unexpected argument '%s'", argv[optind]);
	if (!o->class_name)
		return ctl_usage_error("capture: --class NAME is required");
	if (!o->file)
		return ctl_usage_error("capture: -w FILE is required");
	if (o->iface && (!o->iface[0] || strlen(o->iface) >= IF_NAMESIZE))
		return ctl_usage_error("capture: bad interface name '%s'", o->iface);
	return -1;
}

/* The counter slot of class name, or -ENOENT. */
static int class_slot(const struct pc_stats *s, const char *name)
{
	for (uint32_t i = 0; i < s->slot_cap; i++)
		if (s->slots[i].kind == PC_SLOT_CLASS && strcmp(s->slots[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static int open_socket(int ifindex, int prog_fd)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	_cleanup_close_ int fd = -1;
	int one = 1;

	/* protocol 0: nothing queues before bind(), which comes after the filter */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int add_if(struct cap_if *v, size_t *n, int ifindex, const char *name, int prog_fd)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].name, name) == 0)
			return 0;
	if (*n >= CAP_IF_MAX)
		return -E2BIG;
	v[*n].fd = open_socket(ifindex, prog_fd);
	if (v[*n].fd < 0)
		return ctl_error("capture: %s: %s", name, strerror(-v[*n].fd));
	snprintf(v[*n].name, sizeof(v[*n].name), "%s", name);
	(*n)++;
	return 0;
}

/* A socket on every interface pktclassd is attached to (that exists here),
 * or on --iface, which must be one of them. */
static int open_sockets(const struct pc_stats *s, const char *iface, int prog_fd,
			struct cap_if *v, size_t *n)
{
	bool found = false;

	for (size_t i = 0; i < s->natt; i++) {
		const struct pc_attach_info *a = &s->att[i].info;
		unsigned idx = if_nametoindex(a->ifname);

		if (iface && strcmp(a->ifname, iface) != 0)
			continue;
		found = true;
		if (idx == 0 || idx != a->ifindex)
			continue; /* gone, or another namespace's */
		if (add_if(v, n, (int)idx, a->ifname, prog_fd) < 0)
			return CTL_ERROR;
	}
	if (iface && !found)
		return ctl_error("capture: pktclassd is not attached to %s: it classifies no packet there",
				 iface);
	if (*n == 0)
		return ctl_error("capture: none of pktclassd's interfaces is here (another network namespace?)");
	return CTL_OK;
}

/* ---- pcap ------------------------------------------------------------------ */

static int pcap_header(FILE *f)
{
	uint32_t h[6] = { PCAP_MAGIC_USEC, 2 | (4u << 16), 0, 0, CAP_SNAPLEN, PCAP_LINKTYPE_ETHERNET };

	return fwrite(h, sizeof(h), 1, f) == 1 && fflush(f) == 0 ? 0 : -EIO;
}

/* One record: the frame, with the VLAN tag put back after the MAC addresses. */
static int pcap_write(FILE *f, const struct timeval *tv, const uint8_t *p, size_t caplen,
		      size_t origlen, const struct tpacket_auxdata *aux)
{
	uint8_t tag[4];
	bool vlan = aux && (aux->tp_status & TP_STATUS_VLAN_VALID) && caplen >= 12;
	uint32_t rec[4] = { (uint32_t)tv->tv_sec, (uint32_t)tv->tv_usec,
			    (uint32_t)(caplen + (vlan ? 4 : 0)), (uint32_t)(origlen + (vlan ? 4 : 0)) };
	bool ok;

	if (vlan) {
		uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid
									 : ETH_P_8021Q;
		tag[0] = tpid >> 8;
		tag[1] = tpid & 0xff;
		tag[2] = aux->tp_vlan_tci >> 8;
		tag[3] = aux->tp_vlan_tci & 0xff;
	}
	ok = fwrite(rec, sizeof(rec), 1, f) == 1;
	if (vlan)
		ok = ok && fwrite(p, 12, 1, f) == 1 && fwrite(tag, 4, 1, f) == 1 &&
		     (caplen == 12 || fwrite(p + 12, caplen - 12, 1, f) == 1);
	else
		ok = ok && (caplen == 0 || fwrite(p, caplen, 1, f) == 1);
	return ok && fflush(f) == 0 ? 0 : -EIO;
}

/* Read one packet from fd into f: 1 written, 0 nothing there, -errno. */
static int read_one(int fd, FILE *f)
{
	static uint8_t buf[CAP_SNAPLEN];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + CMSG_SPACE(sizeof(struct timeval))];
	} ctrl;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctrl,
			    .msg_controllen = sizeof(ctrl) };
	const struct tpacket_auxdata *aux = NULL;
	struct timeval tv = {};
	bool have_tv = false;
	ssize_t n;

	n = recvmsg(fd, &m, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
			aux = (const struct tpacket_auxdata *)CMSG_DATA(c);
		else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP) {
			memcpy(&tv, CMSG_DATA(c), sizeof(tv));
			have_tv = true;
		}
	}
	if (!have_tv)
		gettimeofday(&tv, NULL);
	return pcap_write(f, &tv, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf),
			  (size_t)n, aux) ?: 1;
}

static int capture_loop(struct cap_if *v, size_t n, FILE *f, uint64_t count, uint64_t *got)
{
	struct pollfd pfd[CAP_IF_MAX];
	int r;

	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = v[i].fd, .events = POLLIN };
	while (!cap_quit && (count == 0 || *got < count)) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (size_t i = 0; i < n && (count == 0 || *got < count); i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			r = read_one(pfd[i].fd, f);
			if (r < 0)
				return r;
			*got += (uint64_t)r;
		}
	}
	return 0;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = cap_on_signal }; /* no SA_RESTART: poll() returns */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int run_capture(const struct cap_opts *o, const char *pin, const struct pc_stats *s,
		       int slot, struct cap_if *v, size_t *nv, FILE **f, uint64_t *got)
{
	struct pc_gen *g = NULL;
	int r;

	r = pc_dp_live_capture(pin, (uint32_t)slot, &g);
	if (r == -ENOENT)
		return ctl_error("capture: no classifier is loaded under %s", pin);
	if (r < 0)
		return ctl_error("capture: loading a copy of the live classifier: %s%s", strerror(-r),
				 r == -ESTALE ? " (pktclassd runs another build)" : "");
	r = open_sockets(s, o->iface, pc_dp_gen_prog_fd(g, PC_HOOK_MONITOR), v, nv);
	pc_dp_gen_free(g); /* the sockets hold the program */
	if (r != CTL_OK)
		return r;
	*f = strcmp(o->file, "-") == 0 ? stdout : fopen(o->file, "we");
	if (!*f)
		return ctl_error("capture: %s: %s", o->file, strerror(errno));
	if (pcap_header(*f) < 0)
		return ctl_error("capture: writing %s: %s", o->file, strerror(EIO));
	fprintf(stderr, "pktclassctl: capturing class %s on %zu interface%s into %s\n",
			o->class_name, *nv, *nv == 1 ? "" : "s", o->file);
	r = capture_loop(v, *nv, *f, o->count, got);
	if (r < 0)
		return ctl_error("capture: %s", strerror(-r));
	return CTL_OK;
}

int ctl_capture(struct ctl *c, int argc, char **argv)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = NULL;
	struct cap_opts o = {};
	struct cap_if v[CAP_IF_MAX];
	size_t nv = 0;
	uint64_t got = 0;
	FILE *f = NULL;
	const char *pin;
	int r, slot;

	r = parse_opts(c, argc, argv, &o);
	if (r >= 0)
		return r == CTL_OK + 100 ? CTL_OK : r;
	if (ctl_pin_path(c, &pin) != CTL_OK || ctl_read_stats(pin, &s) != CTL_OK)
		return CTL_ERROR;
	slot = class_slot(s, o.class_name);
	if (slot < 0)
		return ctl_error("capture: the running configuration has no class '%s'", o.class_name);
	setup_signals();
	r = run_capture(&o, pin, s, slot, v, &nv, &f, &got);
	for (size_t i = 0; i < nv; i++)
		close(v[i].fd);
	if (f && f != stdout && fclose(f) != 0 && r == CTL_OK)
		r = ctl_error("capture: closing %s: %s", o.file, strerror(errno));
	if (r == CTL_OK) {
		/* class names are [A-Za-z0-9_.-]: nothing to escape */
		if (c->json)
			fprintf(strcmp(o.file, "-") == 0 ? stderr : stdout,
				"{\"class\": \"%s\", \"packets\": %llu}\n", o.class_name,
				(unsigned long long)got);
		else
			fprintf(stderr, "pktclassctl: %llu packet%s captured\n",
				(unsigned long long)got, got == 1 ? "" : "s");
	}
	return r;
}
