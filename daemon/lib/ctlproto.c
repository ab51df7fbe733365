/* SPDX-License-Identifier: GPL-2.0-only */
/* ctlproto.c - the control socket's path and framing (ctlproto.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/ctlproto.h"
#include "lib/rundir.h"
#include "lib/util.h"

int pc_ctl_socket_path(const char *pin_path, const char *default_pin_path, char *buf, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	int n;

	if (!strcmp(pin_path, default_pin_path))
		n = snprintf(buf, len, "%s/control", pc_runtime_dir());
	else {
		for (const char *s = pin_path; *s; s++)
			h = (h ^ (uint8_t)*s) * 1099511628211ull;
		n = snprintf(buf, len, "%s/control-%016" PRIx64, pc_runtime_dir(), h);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void pc_ctl_msg_clear(struct pc_ctl_msg *m)
{
	free(m->buf);
	if (m->fd >= 0)
		close(m->fd);
	*m = (struct pc_ctl_msg){ .fd = -1 };
}

/* One recvmsg: bytes into buf, a passed descriptor into *fd. */
static ssize_t recv_some(int fd, char *buf, size_t len, int *pass)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
			if (*pass < 0)
				*pass = f;
			else
				close(f);
		}
	}
	return n;
}

int pc_ctl_msg_recv(int fd, size_t max, struct pc_ctl_msg *ret)
{
	struct pc_ctl_msg m = { .fd = -1 };
	size_t cap = 0;
	ssize_t n;

	for (;;) {
		if (m.len + 1 >= cap) {
			size_t c = cap ? cap * 2 : 4096;
			char *p;

			if (cap > max + 1) {
				pc_ctl_msg_clear(&m);
				return -EFBIG;
			}
			p = realloc(m.buf, c);
			if (!p) {
				pc_ctl_msg_clear(&m);
				return -ENOMEM;
			}
			m.buf = p, cap = c;
		}
		n = recv_some(fd, m.buf + m.len, cap - m.len - 1, &m.fd);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			pc_ctl_msg_clear(&m);
			return n == -EAGAIN ? -ETIMEDOUT : (int)n;
		}
		if (n == 0)
			break;
		m.len += (size_t)n;
		if (m.len > max) {
			pc_ctl_msg_clear(&m);
			return -EFBIG;
		}
	}
	m.buf[m.len] = 0;
	*ret = m;
	return 0;
}

int pc_ctl_msg_send(int fd, const char *buf, size_t len, int pass_fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl = {};
	size_t off = 0;

	while (off < len || pass_fd >= 0) {
		struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (pass_fd >= 0) {
			struct cmsghdr *c;

			mh.msg_control = ctl.b;
			mh.msg_controllen = sizeof(ctl.b);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		}
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		pass_fd = -1;
		off += (size_t)n;
	}
	return 0;
}

char *pc_ctl_next_line(char **p)
{
	char *s = *p, *nl;

	if (!s || !*s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = 0;
		*p = nl + 1;
	} else
		*p = s + strlen(s);
	return s;
}
