/* SPDX-License-Identifier: GPL-2.0-only */
/* control.c - the control socket: accept, read a request (with a timeout:
 * a client that stalls cannot hold the daemon for long), hand it to the
 * handler, send the reply, close. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "pktclassd/control.h"

struct pc_control {
	sd_event_source *src;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pc_control_fn fn;
	void *userdata;
};

static int peer_is_root(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	return uc.uid == 0 ? 0 : -EPERM;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = PC_CTL_TIMEOUT_SEC };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The whole exchange on one connection. */
static void serve(struct pc_control *c, int fd)
{
	struct pc_ctl_msg req = { .fd = -1 };
	_cleanup_free_ char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	int r;

	set_timeouts(fd);
	r = peer_is_root(fd);
	if (r < 0) {
		static const char msg[] = "error 1\nonly root may change sets\n";

		pc_ctl_msg_send(fd, msg, sizeof(msg) - 1, -1);
		return;
	}
	r = pc_ctl_msg_recv(fd, PC_CTL_REQUEST_MAX, &req);
	if (r < 0) {
		log_warning_errno(r, "control socket: reading a request");
		return;
	}
	f = open_memstream(&out, &outlen);
	if (!f) {
		pc_ctl_msg_clear(&req);
		return;
	}
	c->fn(&req, f, c->userdata);
	pc_ctl_msg_clear(&req);
	if (fclose(f) != 0)
		return;
	r = pc_ctl_msg_send(fd, out, outlen, -1);
	if (r < 0)
		log_warning_errno(r, "control socket: sending a reply");
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct pc_control *c = userdata;
	_cleanup_close_ int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warning_errno(-errno, "control socket: accept");
		return 0;
	}
	serve(c, conn);
	return 0;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old;
	int r;

	if (fd < 0)
		return -errno;
	if (!strscpy_ok(sa.sun_path, sizeof(sa.sun_path), path))
		return -ENAMETOOLONG;
	if (mkdir(pc_runtime_dir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	unlink(path);
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (r < 0)
		return r;
	if (listen(fd, 16) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int pc_control_open(sd_event *e, const char *path, pc_control_fn fn, void *userdata,
		    struct pc_control **ret)
{
	struct pc_control *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->userdata = userdata;
	c->fd = -1;
	if (!strscpy_ok(c->path, sizeof(c->path), path)) {
		free(c);
		return -ENAMETOOLONG;
	}
	c->fd = listen_on(path);
	r = c->fd < 0 ? c->fd : sd_event_add_io(e, &c->src, c->fd, EPOLLIN, on_accept, c);
	if (r < 0) {
		pc_control_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

void pc_control_close(struct pc_control *c)
{
	if (!c)
		return;
	sd_event_source_disable_unref(c->src);
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->path);
	}
	free(c);
}
