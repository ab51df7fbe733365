/* SPDX-License-Identifier: GPL-2.0-only */
/* internal.h - pieces shared by netlink.c, tc.c
 * and monitor.c only; not part of the module's interface. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#include "lib/util.h"

/* Room for any request we build. */
#define PC_NL_REQ_SIZE 1024

/* Big enough for any dump skb: the kernel caps those at 32 KiB. */
#define PC_NL_BUF_SIZE 32768

static inline void pc_mnl_closep(struct mnl_socket **s)
{
	if (*s)
		mnl_socket_close(*s);
}

/* An rtnetlink socket bound to groups (0: none); flags as for socket(2)
 * (SOCK_NONBLOCK); SOCK_CLOEXEC is always added. */
int pc_nl_socket_open(unsigned groups, int flags, struct mnl_socket **ret);

struct pc_nl;

/* Requests on the pc_nl socket (netlink.c).  pc_nl_msg: a change or a get,
 * acknowledged; pc_nl_dump_msg: a dump.  buf holds PC_NL_REQ_SIZE zeroes. */
struct nlmsghdr *pc_nl_msg(char *buf, uint16_t type, uint16_t flags);
struct nlmsghdr *pc_nl_dump_msg(char *buf, uint16_t type);
/* Send nlh and feed the replies to cb (may be NULL) up to the ACK or DONE. */
int pc_nl_talk(struct pc_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* The same for a dump, redone when interrupted; res is zeroed each time. */
int pc_nl_dump(struct pc_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
	       void *res, size_t res_size);
/* 0 when ifindex exists, -ENODEV when not. */
int pc_nl_link_check(struct pc_nl *nl, int ifindex);

/* RTM_NEWLINK / RTM_DELLINK: ifindex and name (NULL if absent). */
int pc_nl_parse_link(const struct nlmsghdr *nlh, int *ifindex, const char **name);
