/* SPDX-License-Identifier: GPL-2.0-only */
/* netlink-private.h - pieces shared by netlink.c and nlmon.c only. */
#pragma once

#include <stdlib.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

#ifndef _cleanup_
#define _cleanup_(f) __attribute__((cleanup(f)))
#endif

/* Big enough for any dump skb: the kernel caps those at 32 KiB. */
#define PC_NL_BUF_SIZE 32768

static inline void pc_mnl_closep(struct mnl_socket **s)
{
	if (*s)
		mnl_socket_close(*s);
}

static inline void pc_nl_freep(void *p)
{
	free(*(void **)p);
}

/* An rtnetlink socket bound to groups (0: none); flags as for socket(2)
 * (SOCK_NONBLOCK); SOCK_CLOEXEC is always added. */
int pc_nl_socket_open(unsigned groups, int flags, struct mnl_socket **ret);

/* RTM_NEWLINK / RTM_DELLINK: ifindex and name (NULL if absent). */
int pc_nl_parse_link(const struct nlmsghdr *nlh, int *ifindex, const char **name);
