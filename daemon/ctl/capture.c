/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl capture --class NAME [--iface IF] [--count N] -w FILE
 *
 * A private copy of the live classifier (pc_dp_live_capture) runs as the
 * socket filter of an AF_PACKET SOCK_DGRAM socket per interface that
 * pktclassd is attached to (or just --iface), the way the daemon's monitor
 * sockets see packets: it accepts the packets of one class and nothing
 * else, both directions, and they are written to a pcapng file
 * (pcapng.c: an interface block per interface, LINUX_SLL2 headers with the
 * interface and the direction, the VLAN tag that the kernel took off put
 * back from PACKET_AUXDATA).  Stops after N packets, or on Ctrl-C /
 * SIGTERM.  Nothing of the daemon's (counters, packet log) changes.
 *
 * -c is --config here as everywhere (the specification's table once gave
 * capture "-c COUNT"; the count is --count).  The output is created 0600
 * without following a symbolic link; an existing file is written only if
 * it is a regular file of ours with no other link. */
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

#include <fcntl.h>
#include <sys/stat.h>

#include "ctl/ctl.h"
#include "ctl/pcapng.h"
#include "datapath/datapath.h"
#include "datapath/stats.h"
#include "lib/util.h"


struct cap_opts {
	const char *class_name, *iface, *file;
	uint64_t count; /* 0: until interrupted */
};

struct cap_if {
	int fd;
	char name[IF_NAMESIZE];
};

struct cap_ifs {
	struct cap_if *v;
	size_t n, cap;
};

static volatile sig_atomic_t cap_quit;

static void cap_on_signal(int sig)
{
	cap_quit = 1;
}

enum { OPT_CLASS = CTL_OPT_FIRST_PRIVATE, OPT_IFACE, OPT_COUNT };

static int parse_opts(struct ctl *c, int argc, char **argv, struct cap_opts *o)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "class", required_argument, NULL, OPT_CLASS },
		{ "iface", required_argument, NULL, OPT_IFACE },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "write", required_argument, NULL, 'w' },
		{}
	};
	uint32_t n;
	int opt, stop;

	while ((opt = ctl_getopt(c, argc, argv, "w:", longopts, &stop)) != -1) {
		switch (opt) {
		case OPT_CLASS:
			o->class_name = optarg;
			break;
		case OPT_IFACE:
			o->iface = optarg;
			break;
		case OPT_COUNT:
			if (ctl_parse_u32(optarg, UINT32_MAX, &n) < 0 || n == 0)
				return ctl_usage_error("capture: --count wants a packet count > 0, not '%s'",
						       optarg);
			o->count = n;
			break;
		case 'w':
			o->file = optarg;
			break;
		}
	}
	if (stop >= 0)
		return stop == CTL_OK ? CTL_OK + 100 : stop;
	if (optind < argc)
		return ctl_usage_error("capture: unexpected argument '%s'", argv[optind]);
	if (!o->class_name)
		return ctl_usage_error("capture: --class NAME is required");
	if (!o->file)
		return ctl_usage_error("capture: -w FILE is required");
	if (o->iface && (!o->iface[0] || strlen(o->iface) >= IF_NAMESIZE))
		return ctl_usage_error("capture: bad interface name '%s'", o->iface);
	/* "-c 8" as the specification's table once had it: -c is --config */
	if (c->config && ctl_parse_u32(c->config, UINT32_MAX, &n) == 0 && access(c->config, F_OK) < 0)
		return ctl_usage_error("capture: -c is --config; for a packet count use --count %s",
				       c->config);
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
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int add_if(struct cap_ifs *ifs, int ifindex, const char *name, int prog_fd)
{
	struct cap_if *x;

	for (size_t i = 0; i < ifs->n; i++)
		if (strcmp(ifs->v[i].name, name) == 0)
			return 0;
	if (pc_grow((void **)&ifs->v, &ifs->cap, ifs->n + 1, sizeof(*ifs->v)) < 0)
		return ctl_error("out of memory");
	x = &ifs->v[ifs->n];
	x->fd = open_socket(ifindex, prog_fd);
	if (x->fd < 0)
		return ctl_error("capture: %s: %s", name, strerror(-x->fd));
	snprintf(x->name, sizeof(x->name), "%s", name);
	ifs->n++;
	return 0;
}

/* A socket on every interface pktclassd is attached to (that exists here),
 * or on --iface, which must be one of them. */
static int open_sockets(const struct pc_stats *s, const char *iface, int prog_fd,
			struct cap_ifs *ifs)
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
		if (add_if(ifs, (int)idx, a->ifname, prog_fd) < 0)
			return CTL_ERROR;
	}
	if (iface && !found)
		return ctl_error("capture: pktclassd is not attached to %s: it classifies no packet there",
				 iface);
	if (ifs->n == 0)
		return ctl_error("capture: none of pktclassd's interfaces is here (another network namespace?)");
	return CTL_OK;
}

/* ---- the output file ---------------------------------------------------- */

/* Say why, for a function that returns an fd or -1. */
#define FAIL(fmt, ...) (ctl_error("capture: " fmt, __VA_ARGS__), -1)

/* An existing file is only written if it is a regular file of ours with no
 * other name: in a shared directory someone else's file, a hard link to
 * another file, a FIFO or a device is refused, and a symbolic link is
 * never followed (O_NOFOLLOW).  Its contents go (ftruncate) only once it
 * passed, and it becomes 0600 as a new one is.  The fd, or -1. */
static int open_existing(const char *path)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? FAIL("%s is a symbolic link: refusing to follow it", path)
				      : FAIL("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return FAIL("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return FAIL("%s exists and is not a regular file", path);
	if (st.st_uid != geteuid())
		return FAIL("%s exists and is owned by uid %u: refusing to write into another "
				 "user's file", path, (unsigned)st.st_uid);
	if (st.st_nlink != 1)
		return FAIL("%s has other hard links: refusing to overwrite it", path);
	if (fchmod(fd, 0600) < 0 || ftruncate(fd, 0) < 0)
		return FAIL("%s: %s", path, strerror(errno));
	return TAKE_FD(fd);
}

#undef FAIL

static int open_output(const char *path, FILE **ret)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (strcmp(path, "-") == 0) {
		*ret = stdout;
		return CTL_OK;
	}
	/* never open what is not a regular file, even to look at it */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return ctl_error(S_ISLNK(st.st_mode) ? "capture: %s is a symbolic link: refusing to follow it"
						     : "capture: %s exists and is not a regular file", path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		fd = open_existing(path);
	else if (fd < 0)
		return ctl_error("capture: %s: %s", path, strerror(errno));
	if (fd < 0)
		return CTL_ERROR;
	*ret = fdopen(fd, "w");
	if (!*ret)
		return ctl_error("capture: %s: %s", path, strerror(errno));
	fd = -1;
	return CTL_OK;
}

/* ---- packets ---------------------------------------------------------------- */

static void meta_from(struct pc_pkt_meta *m, const struct sockaddr_ll *sll,
		      const struct tpacket_auxdata *aux)
{
	*m = (struct pc_pkt_meta){ .protocol = ntohs(sll->sll_protocol),
				   .ifindex = (uint32_t)sll->sll_ifindex,
				   .hatype = sll->sll_hatype, .pkttype = sll->sll_pkttype,
				   .halen = sll->sll_halen, .vlan = -1 };
	memcpy(m->addr, sll->sll_addr, sizeof(m->addr));
	if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID)) {
		m->vlan = aux->tp_vlan_tci;
		m->vlan_tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid
									   : ETH_P_8021Q;
	}
}

/* Read one packet of interface ifid from fd into f: 1 written, 0 nothing
 * there, -errno. */
static int read_one(int fd, uint32_t ifid, FILE *f)
{
	static uint8_t buf[PC_PCAPNG_SNAPLEN];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + CMSG_SPACE(sizeof(struct timeval))];
	} ctrl;
	struct sockaddr_ll sll = {};
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { .msg_name = &sll, .msg_namelen = sizeof(sll), .msg_iov = &iov,
			      .msg_iovlen = 1, .msg_control = &ctrl, .msg_controllen = sizeof(ctrl) };
	const struct tpacket_auxdata *aux = NULL;
	struct pc_pkt_meta m;
	struct timeval tv = {};
	bool have_tv = false;
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
			aux = (const struct tpacket_auxdata *)CMSG_DATA(c);
		else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP) {
			memcpy(&tv, CMSG_DATA(c), sizeof(tv));
			have_tv = true;
		}
	}
	if (!have_tv)
		gettimeofday(&tv, NULL);
	meta_from(&m, &sll, aux);
	m.tv = tv;
	/* the cooked header and the tag come on top: keep within the snap length */
	return pc_pcapng_packet(f, ifid, &m, buf,
				(size_t)n < sizeof(buf) - PC_SLL2_HDR_LEN - 4 ? (size_t)n
									: sizeof(buf) - PC_SLL2_HDR_LEN - 4,
				(size_t)n) < 0 || fflush(f) != 0 ? -EIO : 1;
}

static int capture_loop(const struct cap_ifs *ifs, FILE *f, uint64_t count, uint64_t *got)
{
	_cleanup_free_ struct pollfd *pfd = calloc(ifs->n, sizeof(*pfd));
	int r;

	if (!pfd)
		return -ENOMEM;
	for (size_t i = 0; i < ifs->n; i++)
		pfd[i] = (struct pollfd){ .fd = ifs->v[i].fd, .events = POLLIN };
	while (!cap_quit && (count == 0 || *got < count)) {
		if (poll(pfd, ifs->n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (size_t i = 0; i < ifs->n && (count == 0 || *got < count); i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			r = read_one(pfd[i].fd, (uint32_t)i, f);
			if (r < 0)
				return r;
			*got += (uint64_t)r;
		}
	}
	return 0;
}

static int file_header(FILE *f, const struct cap_ifs *ifs)
{
	int r = pc_pcapng_header(f);

	for (size_t i = 0; r == 0 && i < ifs->n; i++)
		r = pc_pcapng_interface(f, ifs->v[i].name);
	return r == 0 && fflush(f) == 0 ? 0 : -EIO;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = cap_on_signal }; /* no SA_RESTART: poll() returns */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int run_capture(const struct cap_opts *o, const char *pin, int slot, const struct pc_stats *s,
		       struct cap_ifs *ifs, FILE **f, uint64_t *got)
{
	struct pc_gen *g = NULL;
	int r;

	r = pc_dp_live_capture(pin, (uint32_t)slot, &g);
	if (r == -ENOENT || r == -ENODATA)
		return ctl_error("capture: no classifier is loaded under %s", pin);
	if (r == -EPROTO)
		return ctl_error("capture: the state under %s is not from a compatible pktclassd", pin);
	if (r < 0)
		return ctl_error("capture: loading a copy of the live classifier: %s", strerror(-r));
	r = open_sockets(s, o->iface, pc_dp_gen_prog_fd(g, PC_HOOK_MONITOR), ifs);
	pc_dp_gen_free(g); /* the sockets hold the program */
	if (r != CTL_OK)
		return r;
	r = open_output(o->file, f);
	if (r != CTL_OK)
		return r;
	if (file_header(*f, ifs) < 0)
		return ctl_error("capture: writing %s: %s", o->file, strerror(EIO));
	fprintf(stderr, "pktclassctl: capturing class %s on %zu interface%s into %s\n",
			o->class_name, ifs->n, ifs->n == 1 ? "" : "s", o->file);
	r = capture_loop(ifs, *f, o->count, got);
	if (r < 0)
		return ctl_error("capture: %s", strerror(-r));
	return CTL_OK;
}

int ctl_capture(struct ctl *c, int argc, char **argv)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = NULL;
	struct cap_opts o = {};
	struct cap_ifs ifs = {};
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
	r = run_capture(&o, pin, slot, s, &ifs, &f, &got);
	for (size_t i = 0; i < ifs.n; i++)
		close(ifs.v[i].fd);
	free(ifs.v);
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
