/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netlink.c - rtnetlink plumbing through libmnl, and the list of links.
 *
 * Every request waits for the kernel's answer: the ACK (NLM_F_ACK) of a
 * change, the NLMSG_DONE of a dump.  An NLMSG_ERROR becomes -errno.  After
 * a failed request replies may still be queued on the socket, so it is
 * reopened before the next request instead of being drained.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlink/netlink.h"
#include "netlink/internal.h"

#define NL_DUMP_TRIES 3

struct pc_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char buf[PC_NL_BUF_SIZE];
};

/* ---- socket and request plumbing ---------------------------------------- */

int pc_nl_socket_open(unsigned groups, int flags, struct mnl_socket **ret)
{
	_cleanup_(pc_mnl_closep) struct mnl_socket *s = NULL;

	s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | flags);
	if (!s)
		return -errno;
	if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	*ret = s;
	s = NULL;
	return 0;
}

static void nl_drop_socket(struct pc_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static int nl_ensure_socket(struct pc_nl *nl)
{
	int r;

	if (nl->sock)
		return 0;
	r = pc_nl_socket_open(0, 0, &nl->sock);
	if (r < 0)
		return r;
	nl->portid = mnl_socket_get_portid(nl->sock);
	return 0;
}

int pc_nl_open(struct pc_nl **ret)
{
	_cleanup_(pc_nl_closep) struct pc_nl *nl = NULL;
	int r;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	r = nl_ensure_socket(nl);
	if (r < 0)
		return r;
	*ret = nl;
	nl = NULL;
	return 0;
}

void pc_nl_close(struct pc_nl *nl)
{
	if (!nl)
		return;
	nl_drop_socket(nl);
	free(nl);
}

static int nl_cb_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	errno = e->error < 0 ? -e->error : e->error;
	return MNL_CB_ERROR;
}

/* A dump that failed in the kernel ends with an NLMSG_DONE carrying -errno. */
static int nl_cb_done(const struct nlmsghdr *nlh, void *data)
{
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err < 0) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static mnl_cb_t nl_ctl_cbs[NLMSG_DONE + 1] = {
	[NLMSG_ERROR] = nl_cb_error,
	[NLMSG_DONE] = nl_cb_done,
};

static int nl_exchange(struct pc_nl *nl, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run2(nl->buf, n, nl->seq, nl->portid, cb, data,
				nl_ctl_cbs, ELEMENTSOF(nl_ctl_cbs));
		if (r < 0)
			return errno > 0 ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* Send one request and feed its replies to cb until the ACK or the DONE. */
int pc_nl_talk(struct pc_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	int r;

	r = nl_ensure_socket(nl);
	if (r < 0)
		return r;
	nlh->nlmsg_seq = ++nl->seq;
	r = nl_exchange(nl, nlh, cb, data);
	if (r < 0)
		nl_drop_socket(nl);
	return r;
}

/* A dump interrupted by a concurrent change (NLM_F_DUMP_INTR, which libmnl
 * turns into EINTR) is redone from scratch, with res cleared each time. */
int pc_nl_dump(struct pc_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
		   void *res, size_t res_size)
{
	int r = -EINTR;

	for (int i = 0; i < NL_DUMP_TRIES && r == -EINTR; i++) {
		memset(res, 0, res_size);
		r = pc_nl_talk(nl, nlh, cb, data);
	}
	return r;
}

/* A request that the kernel acknowledges.  (Not a dump: NLM_F_DUMP shares
 * its bits with NLM_F_REPLACE and NLM_F_EXCL.) */
struct nlmsghdr *pc_nl_msg(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return nlh;
}

/* A dump request: answered by messages and an NLMSG_DONE. */
struct nlmsghdr *pc_nl_dump_msg(char *buf, uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	return nlh;
}

/* ---- links ---------------------------------------------------------------- */

int pc_nl_parse_link(const struct nlmsghdr *nlh, int *ifindex, const char **name)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	*ifindex = ifi->ifi_index;
	*name = NULL;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) != IFLA_IFNAME)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return -EBADMSG;
		*name = mnl_attr_get_str(a);
	}
	return 0;
}

static struct nlmsghdr *link_msg(char *buf, int ifindex, bool dump)
{
	struct nlmsghdr *nlh = dump ? pc_nl_dump_msg(buf, RTM_GETLINK) : pc_nl_msg(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

/* 0 when ifindex exists, -ENODEV when not. */
int pc_nl_link_check(struct pc_nl *nl, int ifindex)
{
	char buf[PC_NL_REQ_SIZE] = {};

	return pc_nl_talk(nl, link_msg(buf, ifindex, false), NULL, NULL);
}

struct link_walk {
	pc_nl_link_cb cb;
	void *userdata;
	struct {
		int error;
	} res;
};

static int link_walk_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_walk *w = data;
	const char *name;
	int ifindex, r;

	/* After the callback said stop, read the dump to its end. */
	if (w->res.error < 0 || nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	r = pc_nl_parse_link(nlh, &ifindex, &name);
	if (r < 0) {
		errno = -r;
		return MNL_CB_ERROR;
	}
	if (name) {
		r = w->cb(ifindex, name, w->userdata);
		if (r < 0)
			w->res.error = r;
	}
	return MNL_CB_OK;
}

/* When a dump is redone after an interruption, cb may see a link twice. */
int pc_nl_links(struct pc_nl *nl, pc_nl_link_cb cb, void *userdata)
{
	struct link_walk w = { .cb = cb, .userdata = userdata };
	char buf[PC_NL_REQ_SIZE] = {};
	int r;

	if (!cb)
		return -EINVAL;
	r = pc_nl_dump(nl, link_msg(buf, 0, true), link_walk_cb, &w, &w.res, sizeof(w.res));
	return r < 0 ? r : w.res.error;
}
