/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * monitor.c - link and traffic-control events: a non-blocking rtnetlink
 * socket in RTMGRP_LINK and RTMGRP_TC.
 *
 * RTM_NEWLINK comes for every change of a link (flags, MTU, name...), so
 * PC_LINK_NEW repeats for links already known; a rename is a NEWLINK with
 * a new name for a known ifindex.  Every qdisc or filter added, changed or
 * deleted is a PC_TC_CHANGE of its interface (no name): the caller looks
 * at what it has there.  When the socket's queue overflowed the kernel
 * dropped events and says ENOBUFS: the caller re-enumerates.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "netlink/netlink.h"
#include "netlink/internal.h"

/* Reads per pc_nlmon_process() call: under a storm of events the caller's
 * loop gets control back; the fd stays readable. */
#define NLMON_MAX_READS 256

struct pc_nlmon {
	struct mnl_socket *sock;
	char buf[PC_NL_BUF_SIZE];
};

struct nlmon_dispatch {
	pc_nl_event_cb cb;
	void *userdata;
};

static void pc_nlmon_closep(struct pc_nlmon **m)
{
	pc_nlmon_close(*m);
}

int pc_nlmon_open(struct pc_nlmon **ret)
{
	_cleanup_(pc_nlmon_closep) struct pc_nlmon *m = NULL;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	r = pc_nl_socket_open(RTMGRP_LINK | RTMGRP_TC, SOCK_NONBLOCK, &m->sock);
	if (r < 0)
		return r;
	*ret = m;
	m = NULL;
	return 0;
}

int pc_nlmon_fd(const struct pc_nlmon *m)
{
	return mnl_socket_get_fd(m->sock);
}

void pc_nlmon_close(struct pc_nlmon *m)
{
	if (!m)
		return;
	if (m->sock)
		mnl_socket_close(m->sock);
	free(m);
}

static bool is_tc_msg(uint16_t type)
{
	return type == RTM_NEWQDISC || type == RTM_DELQDISC || type == RTM_NEWTFILTER ||
	       type == RTM_DELTFILTER;
}

static int nlmon_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlmon_dispatch *d = data;
	enum pc_link_event ev;
	const char *name;
	int ifindex;

	if (is_tc_msg(nlh->nlmsg_type)) {
		const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);

		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*t) && t->tcm_ifindex > 0)
			d->cb(PC_TC_CHANGE, t->tcm_ifindex, NULL, d->userdata);
		return MNL_CB_OK;
	}
	if (nlh->nlmsg_type == RTM_NEWLINK)
		ev = PC_LINK_NEW;
	else if (nlh->nlmsg_type == RTM_DELLINK)
		ev = PC_LINK_DEL;
	else
		return MNL_CB_OK;
	/* The kernel always names the link; skip anything that does not. */
	if (pc_nl_parse_link(nlh, &ifindex, &name) < 0 || !name)
		return MNL_CB_OK;
	d->cb(ev, ifindex, name, d->userdata);
	return MNL_CB_OK;
}

/* One datagram: 1 when read, 0 when nothing is pending, or -errno. */
static int nlmon_read_one(struct pc_nlmon *m, struct nlmon_dispatch *d)
{
	ssize_t n;

	do
		n = mnl_socket_recvfrom(m->sock, m->buf, sizeof(m->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* ENOSPC: a truncated datagram, its events are lost as well. */
		return errno == ENOSPC ? -ENOBUFS : -errno;
	}
	if (mnl_cb_run(m->buf, n, 0, 0, nlmon_msg_cb, d) < 0)
		return errno > 0 ? -errno : -EIO;
	return 1;
}

int pc_nlmon_process(struct pc_nlmon *m, pc_nl_event_cb cb, void *userdata)
{
	struct nlmon_dispatch d = { .cb = cb, .userdata = userdata };
	int r = 1;

	if (!m || !cb)
		return -EINVAL;
	for (int i = 0; i < NLMON_MAX_READS && r > 0; i++)
		r = nlmon_read_one(m, &d);
	return r < 0 ? r : 0;
}
