/* SPDX-License-Identifier: GPL-2.0-only */
/* test-outcomes.c - what the rule outcomes do to real packets, with the
 * real daemon.
 *
 *   S (sender) s0 --- r0 [R: pktclassd, ingress on r0, egress on r1] r1 --- d0 D (receiver)
 *                                                                    r2 --- e0 E (redirect target)
 *
 * R routes S's UDP to D.  Rules: dst ports 5001 and 5005 get set.priority
 * "1:10" and "1:20" at r1 egress (an HTB qdisc on r1 has classes 1:10,
 * 1:20 and the default 1:30); 5002 gets set.dscp ef at r0 ingress; 5003 is
 * redirected to r2 at r0 ingress; 5004 gets set.mark 0x2a at r0 ingress.
 * Checked afterwards: `tc -s class show` counts exactly the 5001 packets in
 * 1:10 and the 5005 ones in 1:20; D receives the 5002 packets with DSCP EF,
 * ECN kept and valid IPv4 header checksums (after the rewrite and the
 * router's TTL decrement); E receives exactly the 5003 packets, with the
 * frame's L2 header as it was, and D none of them; the mark is counted by
 * an nftables rule (meta mark) in R and steers the packets through a
 * policy routing rule (fwmark) to E instead of D.  `pktclassctl explain
 * --live` agrees for each kind, and the daemon stops cleanly (exit 0, pins
 * gone).  (The kernel here has no cls_fw, so no HTB fw filter.)
 *
 * Every packet the receivers count is exact: a marker packet after the
 * traffic ends each receiver's wait (same path, same order).  Namespaces
 * pco-PID-{s,r,d,e}, pin path /sys/fs/bpf/pktclassd-test-outcomes-PID;
 * all removed at the end however the test ends.  Root only: exit 77
 * otherwise (failure with CI=true). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>

#include "../lib/privtest.h"
#include "lib/inet.h"

#define N 20
#define END_PORT 5999

enum { NS_S, NS_R, NS_D, NS_E, NS_MAX };
static const char *const ns_suffix[NS_MAX] = { "s", "r", "d", "e" };
static char ns[NS_MAX][32], tmp[64], pin[96], conf[128], notify[96], logf[128];
static int nsfd[NS_MAX] = { -1, -1, -1, -1 }, root_ns = -1;
static const char *daemon_bin, *ctl_bin;

static const uint8_t mac_s0[6] = { 2, 0x70, 0xc0, 0, 1, 1 }, mac_r0[6] = { 2, 0x70, 0xc0, 0, 1, 2 };


static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		return -1;
	}
	return 0;
}

/* stdout of a command, in a static buffer. */
static const char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *sh_out(const char *fmt, ...)
{
	static char buf[16384];
	char cmd[1024];
	size_t n = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf[0] = 0;
	f = popen(cmd, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	pclose(f);
	return buf;
}

static int enter(int which)
{
	return setns(which < 0 ? root_ns : nsfd[which], CLONE_NEWNET);
}

/* ---- the network ------------------------------------------------------------ */
static int make_net(void)
{
	const char *S = ns[NS_S], *R = ns[NS_R], *D = ns[NS_D], *E = ns[NS_E];
	char p[64];

	for (int i = 0; i < NS_MAX; i++) {
		if (sh("ip netns add %s", ns[i]) < 0)
			return -1;
		snprintf(p, sizeof(p), "/run/netns/%.31s", ns[i]);
		nsfd[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (nsfd[i] < 0 ||
		    sh("ip -n %s link set lo up && ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
		       "net.ipv6.conf.default.disable_ipv6=1", ns[i], ns[i]) < 0)
			return -1;
	}
	if (sh("ip link add s0 netns %s address 02:70:c0:00:01:01 type veth peer name r0 netns %s "
	       "address 02:70:c0:00:01:02", S, R) < 0 ||
	    sh("ip link add r1 netns %s address 02:70:c0:00:02:01 type veth peer name d0 netns %s "
	       "address 02:70:c0:00:02:02", R, D) < 0 ||
	    sh("ip link add r2 netns %s address 02:70:c0:00:03:01 type veth peer name e0 netns %s "
	       "address 02:70:c0:00:03:02", R, E) < 0)
		return -1;
	if (sh("ip -n %s addr add 10.77.1.1/24 dev s0 && ip -n %s link set s0 up && "
	       "ip -n %s route add default via 10.77.1.2 && "
	       "ip -n %s neigh replace 10.77.1.2 lladdr 02:70:c0:00:01:02 dev s0 nud permanent",
	       S, S, S, S) < 0 ||
	    sh("ip -n %s addr add 10.77.1.2/24 dev r0 && ip -n %s addr add 10.77.2.1/24 dev r1 && "
	       "ip -n %s addr add 10.77.3.1/24 dev r2 && ip -n %s link set r0 up && "
	       "ip -n %s link set r1 up && ip -n %s link set r2 up && "
	       "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 && "
	       "ip -n %s neigh replace 10.77.2.2 lladdr 02:70:c0:00:02:02 dev r1 nud permanent && "
	       "ip -n %s neigh replace 10.77.1.1 lladdr 02:70:c0:00:01:01 dev r0 nud permanent",
	       R, R, R, R, R, R, R, R, R) < 0 ||
	    sh("ip -n %s addr add 10.77.2.2/24 dev d0 && ip -n %s link set d0 up && "
	       "ip -n %s route add default via 10.77.2.1 && "
	       "ip -n %s neigh replace 10.77.2.1 lladdr 02:70:c0:00:02:01 dev d0 nud permanent",
	       D, D, D, D) < 0 ||
	    sh("ip -n %s addr add 10.77.3.2/24 dev e0 && ip -n %s link set e0 up", E, E) < 0)
		return -1;
	/* HTB on r1: classes picked by skb->priority alone */
	if (sh("tc -n %s qdisc add dev r1 root handle 1: htb default 30 r2q 1000 && "
	       "tc -n %s class add dev r1 parent 1: classid 1:10 htb rate 100mbit && "
	       "tc -n %s class add dev r1 parent 1: classid 1:20 htb rate 100mbit && "
	       "tc -n %s class add dev r1 parent 1: classid 1:30 htb rate 100mbit", R, R, R, R) < 0)
		return -1;
	/* policy routing on the mark: marked packets for D go to E instead */
	if (sh("ip -n %s rule add fwmark 0x2a lookup 100 && "
	       "ip -n %s route add 10.77.2.0/24 via 10.77.3.2 dev r2 table 100 && "
	       "ip -n %s neigh replace 10.77.3.2 lladdr 02:70:c0:00:03:02 dev r2 nud permanent",
	       R, R, R) < 0)
		return -1;
	return sh("ip netns exec %s nft -f - <<'EOF'\n"
		  "table inet pco {\n"
		  "  chain pre {\n"
		  "    type filter hook prerouting priority 0;\n"
		  "    meta mark 0x2a counter\n"
		  "    meta mark != 0x2a udp dport 5004 counter\n"
		  "  }\n"
		  "}\n"
		  "EOF", R);
}

/* ---- the daemon ---------------------------------------------------------------- */
static const char config_fmt[] =
	"version: 1\n"
	"settings:\n"
	"  pin_path: %s\n"
	"  stats_interval: \"0\"\n"
	"interfaces:\n"
	"  - name: r0\n"
	"    hooks: [ingress]\n"
	"  - name: r1\n"
	"    hooks: [egress]\n"
	"rules:\n"
	"  - name: voice\n"
	"    match: { iface: r1, direction: egress, proto: udp, dst_port: 5001 }\n"
	"    set: { priority: \"1:10\" }\n"
	"  - name: expedite\n"
	"    match: { iface: r0, direction: ingress, proto: udp, dst_port: 5002 }\n"
	"    set: { dscp: ef }\n"
	"  - name: to-e\n"
	"    match: { iface: r0, direction: ingress, proto: udp, dst_port: 5003 }\n"
	"    redirect: r2\n"
	"  - name: bulk\n"
	"    match: { iface: r1, direction: egress, proto: udp, dst_port: 5005 }\n"
	"    set: { priority: \"1:20\" }\n"
	"  - name: marked\n"
	"    match: { iface: r0, direction: ingress, proto: udp, dst_port: 5004 }\n"
	"    set: { mark: 0x2a }\n"
	"default:\n"
	"  class: other\n";

static pid_t daemon_pid;

/* Start pktclassd in R (network namespace only: it shares our bpffs) and
 * wait for READY=1 on our notify socket. */
static int start_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[512];
	int fd, r = -1;
	FILE *f;

	f = fopen(conf, "we");
	if (!f)
		return -1;
	fprintf(f, config_fmt, pin);
	fclose(f);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	daemon_pid = fork();
	if (daemon_pid == 0) {
		int lfd = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (lfd < 0 || enter(NS_R) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0)
			_exit(127);
		setenv("NOTIFY_SOCKET", notify, 1);
		execl(daemon_bin, daemon_bin, "-c", conf, "--log-target", "stderr", (char *)NULL);
		_exit(127);
	}
	snprintf(buf, sizeof(buf), "%s/daemon.pid", tmp);
	f = fopen(buf, "we");
	if (f) {
		fprintf(f, "%d\n", (int)daemon_pid);
		fclose(f);
	}
	for (int i = 0; i < 300 && r < 0; i++) { /* bounded: 30 s */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
			daemon_pid = 0;
			break;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = 0;
		if (strstr(buf, "READY=1"))
			r = 0;
	}
	close(fd);
	if (r < 0)
		fprintf(stderr, "pktclassd did not get ready:\n%s\n", sh_out("tail -n 30 '%s'", logf));
	return r;
}

static int stop_daemon(void)
{
	int st;

	if (daemon_pid <= 0)
		return -1;
	kill(daemon_pid, SIGTERM);
	if (waitpid(daemon_pid, &st, 0) != daemon_pid)
		return -1;
	daemon_pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* ---- traffic ---------------------------------------------------------------------- */
static int send_udp(int fd, const char *dst, int port, int tos, const char *payload)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, dst, &sa.sin_addr);
	if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0)
		return -1;
	return sendto(fd, payload, strlen(payload), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -1 : 0;
}

static int send_traffic(void)
{
	int fd, r = 0;
	char msg[32];

	cpu_set_t one;

	/* one CPU: the packets go through one backlog queue, in order, so the
	 * end markers come last */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() > 0 ? sched_getcpu() : 0, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0 || enter(NS_S) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < N && fd >= 0 && r == 0; i++) {
		snprintf(msg, sizeof(msg), "pco %d", i);
		r = send_udp(fd, "10.77.2.2", 5001, 0, msg) ?: send_udp(fd, "10.77.2.2", 5002, 0x01, msg) ?:
		    send_udp(fd, "10.77.2.2", 5003, 0, msg) ?: send_udp(fd, "10.77.2.2", 5004, 0, msg) ?:
		    send_udp(fd, "10.77.2.2", 5005, 0, msg);
	}
	/* markers: the last packet each receiver gets */
	if (fd >= 0 && r == 0)
		r = send_udp(fd, "10.77.2.2", END_PORT, 0, "END") ?:
		    send_udp(fd, "10.77.2.2", 5003, 0, "END");
	if (fd >= 0)
		close(fd);
	enter(-1);
	return fd < 0 ? -1 : r;
}

struct rx {
	int fd;
	bool done;
	unsigned port[8];     /* by dst port - 5001 */
	unsigned bad_csum, tos_ef, tos_other, l2_changed;
};

static int rx_open(int which, const char *ifname, struct rx *x)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };

	memset(x, 0, sizeof(*x));
	if (enter(which) < 0)
		return -1;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	x->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (x->fd >= 0 && bind(x->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(x->fd);
		x->fd = -1;
	}
	enter(-1);
	return x->fd < 0 ? -1 : 0;
}

/* One frame: UDP over IPv4 from S, counted by destination port. */
static void rx_frame(struct rx *x, const uint8_t *f, ssize_t len, bool redirected)
{
	const uint8_t *ip = f + 14, *udp;
	unsigned ihl, port;

	if (len < 14 + 28 || f[12] != 0x08 || f[13] != 0x00 || ip[9] != 17)
		return;
	ihl = (ip[0] & 0xfu) * 4;
	udp = ip + ihl;
	if (ihl < 20 || len < (ssize_t)(14 + ihl + 8) || memcmp(ip + 12, "\x0a\x4d\x01\x01", 4))
		return;
	port = (unsigned)udp[2] << 8 | udp[3];
	if (len >= (ssize_t)(14 + ihl + 11) && !memcmp(udp + 8, "END", 3) &&
	    (port == END_PORT || redirected)) {
		x->done = true;
		return;
	}
	if (port < 5001 || port > 5008)
		return;
	x->port[port - 5001]++;
	x->bad_csum += pc_inet_csum(ip, ihl) != 0;
	if (port == 5002) {
		if (ip[1] == (46 << 2 | 0x01))
			x->tos_ef++;
		else
			x->tos_other++;
	}
	/* redirected frames keep the L2 header they came in with */
	if (redirected && port == 5003 && (memcmp(f, mac_r0, 6) || memcmp(f + 6, mac_s0, 6)))
		x->l2_changed++;
}

static void receive(struct rx *d, struct rx *e)
{
	uint8_t buf[2048];

	for (int i = 0; i < 1000 && !(d->done && e->done); i++) { /* bounded: 10 s */
		struct pollfd p[2] = { { .fd = d->fd, .events = POLLIN }, { .fd = e->fd, .events = POLLIN } };

		if (poll(p, 2, 10) <= 0)
			continue;
		for (int k = 0; k < 2; k++) {
			struct rx *x = k ? e : d;
			struct sockaddr_ll from;
			socklen_t fl = sizeof(from);
			ssize_t n;

			while ((n = recvfrom(x->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) > 0) {
				if (from.sll_pkttype != PACKET_OUTGOING)
					rx_frame(x, buf, n, k == 1);
				fl = sizeof(from);
			}
		}
	}
}

/* ---- checks --------------------------------------------------------------------- */
/* "Sent B bytes P pkt" of an HTB class. */
static long htb_packets(const char *classid)
{
	const char *out = sh_out("tc -n %s -s class show dev r1", ns[NS_R]), *p;
	char key[64];
	long pk = -1, bytes;

	snprintf(key, sizeof(key), "class htb %s ", classid);
	p = strstr(out, key);
	if (p && (p = strstr(p, "Sent ")) && sscanf(p, "Sent %ld bytes %ld pkt", &bytes, &pk) != 2)
		pk = -1;
	return pk;
}

/* The packets of the n-th counter of our nftables chain. */
static long nft_counter(int n)
{
	const char *p = sh_out("ip netns exec %s nft list chain inet pco pre", ns[NS_R]);
	long pk = -1;

	for (int i = 0; i <= n && p; i++) {
		p = strstr(p, "counter packets ");
		if (p && i < n)
			p++;
	}
	if (p)
		sscanf(p, "counter packets %ld", &pk);
	return pk;
}

static void check_live(const char *args, const char *want_rule)
{
	char cmd[1024];
	const char *out;

	snprintf(cmd, sizeof(cmd), "'%s' --pin-path '%s' explain --live --src 10.77.1.1 --src-port 40000 "
		 "--dst 10.77.2.2 --proto udp %s 2>&1; echo \"exit $?\"", ctl_bin, pin, args);
	if (enter(NS_R) < 0)
		return;
	out = sh_out("%s", cmd);
	CHECK(strstr(out, want_rule) && strstr(out, "check:     agrees") && strstr(out, "exit 0"),
	      "explain --live %s:\n%s", args, out);
	enter(-1);
}

static int run_tests(void)
{
	struct rx d, e;
	struct stat st;
	int r;

	if (make_net() < 0)
		return pt_unavailable("cannot build the namespaces (ip, tc, nft, veth)");
	if (start_daemon() < 0) {
		CHECK(0, "pktclassd did not start");
		return 1;
	}
	CHECK(rx_open(NS_D, "d0", &d) == 0 && rx_open(NS_E, "e0", &e) == 0, "receive sockets");
	CHECK(send_traffic() == 0, "send: %m");
	receive(&d, &e);
	CHECK(d.done && e.done, "end markers not received (D %d, E %d)", d.done, e.done);

	/* set.priority "1:10" at egress: HTB class 1:10 */
	CHECK(d.port[0] == N, "D received %u of %d packets to 5001", d.port[0], N);
	CHECK(htb_packets("1:10") == N, "HTB class 1:10 sent %ld packets, want %d",
	      htb_packets("1:10"), N);
	CHECK(d.port[4] == N && htb_packets("1:20") == N,
	      "5005 (priority 1:20): D received %u, HTB class 1:20 sent %ld, want %d", d.port[4],
	      htb_packets("1:20"), N);
	/* set.dscp ef: rewritten, ECN kept, checksums valid */
	CHECK(d.port[1] == N && d.tos_ef == N && d.tos_other == 0,
	      "5002: %u received, %u with DSCP EF + ECT(1), %u otherwise", d.port[1], d.tos_ef,
	      d.tos_other);
	CHECK(d.bad_csum == 0 && e.bad_csum == 0, "bad IPv4 header checksums: D %u, E %u", d.bad_csum,
	      e.bad_csum);
	/* redirect: all to E, none to D, L2 untouched */
	CHECK(e.port[2] == N && d.port[2] == 0, "5003: E received %u, D %u (want %d, 0)", e.port[2],
	      d.port[2], N);
	CHECK(e.l2_changed == 0, "%u redirected frames with another L2 header", e.l2_changed);
	CHECK(e.port[0] + e.port[1] + e.port[4] == 0, "E received packets not meant for it");
	/* set.mark: nftables in R counts it, and policy routing sends it to E */
	CHECK(nft_counter(0) == N && nft_counter(1) == 0,
	      "nftables: meta mark 0x2a counted %ld, unmarked 5004 packets %ld (want %d, 0)",
	      nft_counter(0), nft_counter(1), N);
	CHECK(e.port[3] == N && d.port[3] == 0, "5004 (mark 0x2a, fwmark rule to E): E received "
	      "%u, D %u (want %d, 0)", e.port[3], d.port[3], N);

	check_live("--iface r1 --direction egress --dst-port 5001", "rule:      voice ");
	check_live("--iface r0 --direction ingress --dst-port 5002", "rule:      expedite ");
	check_live("--iface r0 --direction ingress --dst-port 5003", "verdict:   redirect (TC_ACT_REDIRECT)");
	check_live("--iface r0 --direction ingress --dst-port 5004", "verdict:   pass (TC_ACT_UNSPEC), mark 0x2a");

	r = stop_daemon();
	CHECK(r == 0, "pktclassd exit status %d", r);
	CHECK(stat(pin, &st) < 0 && errno == ENOENT, "pin path %s left behind", pin);
	if (failures)
		fprintf(stderr, "---- pktclassd log ----\n%s", sh_out("tail -n 40 '%s'", logf));
	printf("# %u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}

static void cleanup(void)
{
	char p[256];
	FILE *f;
	int pid;

	snprintf(p, sizeof(p), "%s/daemon.pid", tmp);
	f = fopen(p, "re");
	if (f) {
		if (fscanf(f, "%d", &pid) == 1 && pid > 0 && kill(pid, SIGTERM) == 0) {
			for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
				usleep(100000);
			kill(pid, SIGKILL);
		}
		fclose(f);
	}
	for (int i = 0; i < NS_MAX; i++)
		sh("ip netns del %s 2>/dev/null || true", ns[i]);
	sh("rm -rf '%s' '%s'", pin, tmp);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	daemon_bin = getenv("PKTCLASSD");
	ctl_bin = getenv("PKTCLASSCTL");
	if (!daemon_bin || !ctl_bin)
		return pt_unavailable("PKTCLASSD and PKTCLASSCTL must be set");
	if (geteuid() != 0)
		return pt_unavailable("needs root");
	if (system("command -v nft >/dev/null && command -v tc >/dev/null") != 0)
		return pt_unavailable("needs nft and tc");
	for (int i = 0; i < NS_MAX; i++)
		snprintf(ns[i], sizeof(ns[i]), "pco-%d-%s", (int)getpid(), ns_suffix[i]);
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-test-outcomes-%d", (int)getpid());
	snprintf(tmp, sizeof(tmp), "/tmp/pktclassd-test-outcomes-%d", (int)getpid());
	snprintf(conf, sizeof(conf), "%s/pktclassd.yaml", tmp);
	snprintf(notify, sizeof(notify), "%s/notify", tmp);
	snprintf(logf, sizeof(logf), "%s/pktclassd.log", tmp);
	if (mkdir(tmp, 0700) < 0)
		return 1;
	root_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return pt_run_forked(run_tests, cleanup);
}
