/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-netlink.c - netlink.c and netlink/monitor.c against the running kernel.
 *
 * Needs root.  The test moves itself into a network namespace of its own
 * (unshare(CLONE_NEWNET)) before it creates anything: the veths, qdiscs
 * and filters it makes live there and vanish with it when the process
 * exits, however it exits.  `ip` and `tc` run as children, in the same
 * namespace.  Nothing is pinned.
 *
 * Exit 77 (skip) when it cannot run; with CI=true that is a failure.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "../lib/check.h"
#include "lib/util.h"
#include "netlink/netlink.h"
#include "pktclass.h"

#define MISSING_IFINDEX 1000000
#define FOREIGN_BPF "bpf bytecode '1,6 0 0 4294967295'"





static void cannot_run(const char *why)
{
	const char *ci = getenv("CI");

	fprintf(stderr, "test-netlink: cannot run: %s\n", why);
	exit(ci && strcmp(ci, "true") == 0 ? EXIT_FAILURE : 77);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* stdout of a shell command, "" on failure; the caller frees it. */
static char *capture(const char *cmd)
{
	size_t len = 0, cap = 1 << 16, n;
	char *out = calloc(1, cap);
	FILE *f = popen(cmd, "r");

	/* tc output here is a few lines: 64 KiB is plenty, the rest is cut. */
	while (out && f && len < cap - 1 && (n = fread(out + len, 1, cap - 1 - len, f)) > 0)
		len += n;
	if (f)
		pclose(f);
	return out;
}

/* Lines of `tc filter show dev IF SIDE` that contain every one of the
 * (up to two) needles. */
static int tc_lines(const char *ifname, const char *side, const char *n1, const char *n2)
{
	char cmd[256];
	_cleanup_free_ char *out = NULL;
	int count = 0;

	snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s", ifname, side);
	out = capture(cmd);
	for (char *line = strtok(out ? out : "", "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, n1) && (!n2 || strstr(line, n2)))
			count++;
	return count;
}

/* Our filters as tc sees them: lines with our priority and a handle. */
static int tc_ours(const char *ifname, const char *side)
{
	return tc_lines(ifname, side, "pref 49573 bpf", "handle 0x1 " PC_TC_NAME);
}

static bool tc_qdisc_has(const char *ifname, const char *what)
{
	char cmd[256];
	_cleanup_free_ char *out = NULL;

	snprintf(cmd, sizeof(cmd), "tc qdisc show dev %s", ifname);
	out = capture(cmd);
	return out && strstr(out, what);
}

/* ---- setup ------------------------------------------------------------------ */

static void enter_netns(void)
{
	if (geteuid() != 0)
		cannot_run("not root");
	if (unshare(CLONE_NEWNET) < 0)
		cannot_run("unshare(CLONE_NEWNET) failed");
	if (sh("ip link show lo >/dev/null && tc qdisc show dev lo >/dev/null") != 0)
		cannot_run("ip or tc missing or not working");
}

/* A SCHED_CLS program "return TC_ACT_OK" (0). */
static int load_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "pc_test", "GPL", insns, 2, NULL);

	if (fd < 0)
		cannot_run("bpf_prog_load of a SCHED_CLS program failed");
	return fd;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	return info.id;
}

/* ---- link events ---------------------------------------------------------- */

struct event {
	enum pc_link_event ev;
	int ifindex;
	char name[IF_NAMESIZE];
};

struct evlog {
	struct event e[512];
	size_t n;
};

static void record_event(enum pc_link_event ev, int ifindex, const char *name, void *userdata)
{
	struct evlog *l = userdata;

	if (l->n >= ELEMENTSOF(l->e))
		return;
	l->e[l->n] = (struct event) { .ev = ev, .ifindex = ifindex };
	snprintf(l->e[l->n].name, sizeof(l->e[l->n].name), "%s", name);
	l->n++;
}

static bool saw(const struct evlog *l, enum pc_link_event ev, int ifindex, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->e[i].ev == ev && l->e[i].ifindex == ifindex && strcmp(l->e[i].name, name) == 0)
			return true;
	return false;
}

static int monitor_poll(struct pc_nlmon *mon, struct evlog *l)
{
	l->n = 0;
	return pc_nlmon_process(mon, record_event, l);
}

/* ---- link dump -------------------------------------------------------------- */

struct seen {
	int pct0, pct1;
	int calls;
};

static int link_seen(int ifindex, const char *name, void *userdata)
{
	struct seen *s = userdata;

	s->calls++;
	if (strcmp(name, "pct0") == 0)
		s->pct0 = ifindex;
	if (strcmp(name, "pct1") == 0)
		s->pct1 = ifindex;
	return 0;
}

static int link_stop(int ifindex, const char *name, void *userdata)
{
	(*(int *)userdata)++;
	return -ECANCELED;
}

static void test_links(struct pc_nl *nl, int if0, int if1)
{
	struct seen s = {};
	int calls = 0;

	CHECK_EQ(pc_nl_links(nl, link_seen, &s), 0);
	CHECK_EQ(s.pct0, if0);
	CHECK_EQ(s.pct1, if1);
	CHECK(s.calls >= 3); /* lo too */
	/* A callback's error stops the walk and comes back... */
	CHECK_EQ(pc_nl_links(nl, link_stop, &calls), -ECANCELED);
	CHECK_EQ(calls, 1);
	/* ...and the rest of the dump does not poison the next request. */
	s = (struct seen) {};
	CHECK_EQ(pc_nl_links(nl, link_seen, &s), 0);
	CHECK_EQ(s.pct0, if0);
	CHECK_EQ(pc_nl_links(nl, NULL, NULL), -EINVAL);
}

/* ---- bad input ------------------------------------------------------------- */

static void test_missing_interface(struct pc_nl *nl, int prog_fd)
{
	static const int bad[] = { MISSING_IFINDEX, 0, -1 };
	uint32_t id = 7;
	bool created = true;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int ifi = bad[i];

		CHECK_EQ(pc_nl_clsact_ensure(nl, ifi, &created), -ENODEV);
		CHECK(!created);
		CHECK(!pc_nl_clsact_exists(nl, ifi));
		CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifi), -ENODEV);
		CHECK_EQ(pc_nl_filter_attach(nl, ifi, PC_HOOK_INGRESS, prog_fd, PC_TC_NAME), -ENODEV);
		CHECK_EQ(pc_nl_filter_find(nl, ifi, PC_HOOK_EGRESS, &id), -ENODEV);
		CHECK_EQ(pc_nl_filter_detach(nl, ifi, PC_HOOK_INGRESS), -ENODEV);
	}
	CHECK_EQ(id, 7);
}

static void test_bad_args(struct pc_nl *nl, int ifindex, int prog_fd)
{
	char longname[300];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, PC_TC_NAME, strlen(PC_TC_NAME));

	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_MONITOR, prog_fd, PC_TC_NAME), -EINVAL);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, 42, prog_fd, PC_TC_NAME), -EINVAL);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_MONITOR, NULL), -EINVAL);
	CHECK_EQ(pc_nl_filter_detach(nl, ifindex, -1), -EINVAL);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, prog_fd, "other-tool"), -EINVAL);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, prog_fd, longname), -EINVAL);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, -1, PC_TC_NAME), -EBADF);
	/* Not a BPF program: the kernel's answer comes back as is. */
	CHECK(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, STDIN_FILENO, PC_TC_NAME) < 0);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_INGRESS, NULL), -ENOENT);
}

/* ---- clsact ------------------------------------------------------------------ */

static void test_clsact_ensure(struct pc_nl *nl, int ifindex)
{
	bool created = false;

	CHECK(!pc_nl_clsact_exists(nl, ifindex));
	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), -ENOENT);
	CHECK_EQ(pc_nl_clsact_ensure(nl, ifindex, &created), 0);
	CHECK(created);
	CHECK(pc_nl_clsact_exists(nl, ifindex));
	CHECK(tc_qdisc_has("pct0", "qdisc clsact ffff:"));
	CHECK_EQ(pc_nl_clsact_ensure(nl, ifindex, &created), 0);
	CHECK(!created);
	CHECK(pc_nl_clsact_exists(nl, ifindex));
}

/* An "ingress" qdisc holds the slot clsact would take: not ours to replace. */
static void test_clsact_slot_taken(struct pc_nl *nl, int ifindex, int prog_fd)
{
	bool created = true;

	CHECK_EQ(sh("tc qdisc add dev pct1 ingress"), 0);
	CHECK_EQ(pc_nl_clsact_ensure(nl, ifindex, &created), -EEXIST);
	CHECK(!created);
	CHECK(!pc_nl_clsact_exists(nl, ifindex));
	CHECK(tc_qdisc_has("pct1", "qdisc ingress ffff:"));
	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), -ENOENT);
	CHECK(tc_qdisc_has("pct1", "qdisc ingress ffff:"));
	CHECK_EQ(sh("tc qdisc del dev pct1 ingress"), 0);
	/* No clsact at all: nothing to attach to. */
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, prog_fd, PC_TC_NAME), -ENOENT);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_INGRESS, NULL), -ENOENT);
	CHECK_EQ(pc_nl_filter_detach(nl, ifindex, PC_HOOK_INGRESS), -ENOENT);
}

/* ---- our filter among foreign ones on pct0 --------------------------------- */

static void add_foreign_pct0(void)
{
	CHECK_EQ(sh("tc qdisc add dev pct0 root handle 1: htb"), 0);
	CHECK_EQ(sh("tc filter add dev pct0 ingress pref 10 protocol all u32 match u32 0 0"), 0);
	CHECK_EQ(sh("tc filter add dev pct0 egress pref 20 protocol all " FOREIGN_BPF), 0);
	/* Our priority, another handle: shares the kernel's tcf_proto with ours. */
	CHECK_EQ(sh("tc filter add dev pct0 egress pref 49573 handle 2 protocol all " FOREIGN_BPF), 0);
}

static bool foreign_pct0_intact(void)
{
	return tc_lines("pct0", "ingress", "pref 10 u32", "fh 800::800") == 1 &&
	       tc_lines("pct0", "egress", "pref 20 bpf", "handle 0x1 ") == 1 &&
	       tc_lines("pct0", "egress", "pref 49573 bpf", "handle 0x2 ") == 1 &&
	       tc_qdisc_has("pct0", "qdisc htb 1: root");
}

static void test_attach_replace(struct pc_nl *nl, int ifindex, int fd_a, int fd_b)
{
	uint32_t id = 0;
	char want[32];

	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_INGRESS, &id), -ENOENT);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, fd_a, PC_TC_NAME), 0);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_INGRESS, &id), 0);
	CHECK_EQ(id, prog_id(fd_a));
	CHECK_EQ(tc_ours("pct0", "ingress"), 1);
	CHECK_EQ(tc_lines("pct0", "ingress", "direct-action", NULL), 1);

	/* Again with another program (and name): replaced in place. */
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, fd_b, PC_TC_NAME "-in"), 0);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_INGRESS, &id), 0);
	CHECK_EQ(id, prog_id(fd_b));
	CHECK_EQ(tc_lines("pct0", "ingress", "pref 49573 bpf", "handle "), 1);
	snprintf(want, sizeof(want), " id %u ", prog_id(fd_b));
	CHECK_EQ(tc_lines("pct0", "ingress", "pktclassd-in", want), 1);
	snprintf(want, sizeof(want), " id %u ", prog_id(fd_a));
	CHECK_EQ(tc_lines("pct0", "ingress", want, NULL), 0);

	/* Egress, next to a foreign filter at our priority. */
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_EGRESS, &id), -ENOENT);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_EGRESS, fd_a, NULL), 0);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_EGRESS, &id), 0);
	CHECK_EQ(id, prog_id(fd_a));
	CHECK_EQ(tc_ours("pct0", "egress"), 1);
	CHECK(foreign_pct0_intact());
}

static void test_detach(struct pc_nl *nl, int ifindex, int fd_a)
{
	uint32_t id = 0;

	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), -EBUSY);
	CHECK_EQ(pc_nl_filter_detach(nl, ifindex, PC_HOOK_INGRESS), 0);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_INGRESS, &id), -ENOENT);
	CHECK_EQ(pc_nl_filter_detach(nl, ifindex, PC_HOOK_INGRESS), -ENOENT);
	CHECK_EQ(tc_ours("pct0", "ingress"), 0);
	/* The other side is untouched. */
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_EGRESS, &id), 0);
	CHECK_EQ(id, prog_id(fd_a));
	CHECK_EQ(pc_nl_filter_detach(nl, ifindex, PC_HOOK_EGRESS), 0);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_EGRESS, &id), -ENOENT);
	CHECK_EQ(tc_ours("pct0", "egress"), 0);
	CHECK(foreign_pct0_intact());
	CHECK(pc_nl_clsact_exists(nl, ifindex));
}

static void test_remove_if_empty(struct pc_nl *nl, int ifindex)
{
	/* Only foreign filters left: still not ours to remove. */
	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), -EBUSY);
	CHECK_EQ(sh("tc filter del dev pct0 ingress pref 10"), 0);
	CHECK_EQ(sh("tc filter del dev pct0 egress pref 20"), 0);
	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), -EBUSY);
	CHECK_EQ(sh("tc filter del dev pct0 egress pref 49573"), 0);
	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), 0);
	CHECK(!pc_nl_clsact_exists(nl, ifindex));
	CHECK(!tc_qdisc_has("pct0", "clsact"));
	CHECK(tc_qdisc_has("pct0", "qdisc htb 1: root"));
	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), -ENOENT);
}

/* ---- foreign filters in our place on pct1 ----------------------------------- */

static void test_foreign_in_our_place(struct pc_nl *nl, int ifindex, int prog_fd)
{
	bool created = false;
	uint32_t id = 0;

	CHECK_EQ(pc_nl_clsact_ensure(nl, ifindex, &created), 0);
	CHECK(created);
	/* A cls_bpf at our priority and handle that is not ours (no name). */
	CHECK_EQ(sh("tc filter add dev pct1 ingress pref 49573 handle 1 protocol all " FOREIGN_BPF), 0);
	CHECK_EQ(pc_nl_filter_find(nl, ifindex, PC_HOOK_INGRESS, &id), -ENOENT);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, prog_fd, PC_TC_NAME), -EBUSY);
	CHECK_EQ(pc_nl_filter_detach(nl, ifindex, PC_HOOK_INGRESS), -ENOENT);
	CHECK_EQ(tc_lines("pct1", "ingress", "handle 0x1 ", "bytecode"), 1);
	/* Another classifier at our priority. */
	CHECK_EQ(sh("tc filter add dev pct1 egress pref 49573 protocol all u32 match u32 0 0"), 0);
	CHECK_EQ(pc_nl_filter_attach(nl, ifindex, PC_HOOK_EGRESS, prog_fd, PC_TC_NAME), -EBUSY);
	CHECK_EQ(pc_nl_filter_detach(nl, ifindex, PC_HOOK_EGRESS), -ENOENT);
	CHECK_EQ(tc_lines("pct1", "egress", "pref 49573 u32", "fh 800::800"), 1);
	CHECK_EQ(pc_nl_clsact_remove_if_empty(nl, ifindex), -EBUSY);
	CHECK(pc_nl_clsact_exists(nl, ifindex));
}

/* ---- monitor ------------------------------------------------------------------ */

static void test_monitor_new(struct pc_nlmon *mon, int if0, int if1)
{
	struct evlog l;

	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK(saw(&l, PC_LINK_NEW, if0, "pct0"));
	CHECK(saw(&l, PC_LINK_NEW, if1, "pct1"));
	/* Nothing pending: a no-op. */
	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK_EQ(l.n, 0);
}

static void test_monitor_rename_del(struct pc_nlmon *mon, int if0, int if1)
{
	struct evlog l;

	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK_EQ(sh("ip link set dev pct1 name pctr"), 0);
	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK(saw(&l, PC_LINK_NEW, if1, "pctr"));
	CHECK(!saw(&l, PC_LINK_DEL, if1, "pct1"));
	CHECK_EQ(sh("ip link del dev pct0"), 0);
	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK(saw(&l, PC_LINK_DEL, if0, "pct0"));
	CHECK(saw(&l, PC_LINK_DEL, if1, "pctr"));
}

/* A receive queue too small for the events: the kernel reports the loss. */
static void test_monitor_overrun(struct pc_nlmon *mon)
{
	struct evlog l;
	int one = 1, big = 1 << 20, ifo;

	CHECK_EQ(sh("ip link add pco0 type veth peer name pco1"), 0);
	ifo = if_nametoindex("pco0");
	CHECK(ifo > 0);
	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK(saw(&l, PC_LINK_NEW, ifo, "pco0"));
	CHECK_EQ(setsockopt(pc_nlmon_fd(mon), SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)), 0);
	CHECK_EQ(sh("for m in $(seq 1300 1363); do ip link set dev pco0 mtu $m || exit 1; done"), 0);
	CHECK_EQ(monitor_poll(mon, &l), -ENOBUFS);
	/* The socket carries on afterwards, with room again. */
	CHECK_EQ(setsockopt(pc_nlmon_fd(mon), SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK_EQ(sh("ip link del dev pco0"), 0);
	CHECK_EQ(monitor_poll(mon, &l), 0);
	CHECK(saw(&l, PC_LINK_DEL, ifo, "pco0"));
}

int main(void)
{
	_cleanup_(pc_nl_closep) struct pc_nl *nl = NULL;
	struct pc_nlmon *mon = NULL;
	int if0, if1, fd_a, fd_b;

	enter_netns();
	/* Sockets belong to the namespace they are made in: after unshare. */
	if (pc_nl_open(&nl) < 0 || pc_nlmon_open(&mon) < 0)
		cannot_run("no rtnetlink socket");
	if (sh("ip link add pct0 type veth peer name pct1") != 0)
		cannot_run("no veth support");
	if0 = if_nametoindex("pct0");
	if1 = if_nametoindex("pct1");
	if (if0 <= 0 || if1 <= 0)
		cannot_run("veth pair not found");
	fd_a = load_prog();
	fd_b = load_prog();
	CHECK(prog_id(fd_a) != 0 && prog_id(fd_a) != prog_id(fd_b));

	test_monitor_new(mon, if0, if1);
	test_links(nl, if0, if1);
	test_missing_interface(nl, fd_a);
	test_clsact_ensure(nl, if0);
	test_bad_args(nl, if0, fd_a);
	test_clsact_slot_taken(nl, if1, fd_a);
	add_foreign_pct0();
	test_attach_replace(nl, if0, fd_a, fd_b);
	test_detach(nl, if0, fd_a);
	test_remove_if_empty(nl, if0);
	test_foreign_in_our_place(nl, if1, fd_a);
	test_monitor_rename_del(mon, if0, if1);
	test_monitor_overrun(mon);

	pc_nlmon_close(mon);
	close(fd_a);
	close(fd_b);
	if (failures) {
		fprintf(stderr, "test-netlink: %d check(s) failed\n", failures);
		return EXIT_FAILURE;
	}
	printf("test-netlink: all checks passed\n");
	return EXIT_SUCCESS;
}
