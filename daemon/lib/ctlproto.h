/* SPDX-License-Identifier: GPL-2.0-only */
/* ctlproto.h - the control socket between pktclassctl and pktclassd: where
 * it is, and how a request and its reply are framed.
 *
 * A Unix stream socket under /run/pktclassd, one per pin path (several
 * daemons may run with their own pin paths).  A request is text: the line
 * "VERB ARG...", then its body (one item a line) until the client shuts its
 * side down; a file may come along as a descriptor (SCM_RIGHTS) with the
 * first bytes.  The reply is text too: "ok" or "error ERRNO" on the first
 * line, then lines of data or of error messages, until the daemon closes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PC_CTL_REQUEST_MAX (64u << 20)
#define PC_CTL_TIMEOUT_SEC 30

/* The socket of the daemon whose pins are under pin_path, in the runtime
 * directory (pc_runtime_dir(), lib/rundir.h): "control" for the default pin
 * path, else "control-<hash of it>" (a socket's path has at most 107 bytes,
 * so not the whole pin path as the other runtime files have it). */
int pc_ctl_socket_path(const char *pin_path, const char *default_pin_path, char *buf, size_t len);

struct pc_ctl_msg {
	char *buf;        /* the whole text, NUL-terminated */
	size_t len;
	int fd;           /* a descriptor that came along, or -1 */
};

void pc_ctl_msg_clear(struct pc_ctl_msg *m);
/* Everything from fd until the other side shuts down (at most max bytes),
 * and a descriptor passed with it.  -EFBIG, -ETIMEDOUT, -errno. */
int pc_ctl_msg_recv(int fd, size_t max, struct pc_ctl_msg *ret);
/* Send buf, with pass_fd (>= 0) along with its first bytes. */
int pc_ctl_msg_send(int fd, const char *buf, size_t len, int pass_fd);

/* Split off the next line of *p (in place: '\n' becomes NUL); NULL at the
 * end. */
char *pc_ctl_next_line(char **p);
