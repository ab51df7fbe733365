/* SPDX-License-Identifier: GPL-2.0-only */
/* perms.c - opening the config file, and whose hands it is in.  The daemon
 * runs as root and loads programs into the kernel from this file, so a file
 * that someone other than root can change, or replace, is refused.
 *
 * One open, one descriptor: pc_config_open() refuses what is not a regular
 * file before opening it (stat) and again on the descriptor (fstat), and
 * opens without blocking (a FIFO swapped in between does not hang us);
 * pc_config_check_perms() judges the file by fstat on that descriptor, and
 * the directories that lead to it; pc_config_load_fd() parses what the
 * same descriptor reads.  Nothing is opened by name twice. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "lib/util.h"

static const struct pc_pos nopos = {};

static int not_regular(struct pc_diags *d)
{
	return pc_diags_add(d, PC_SEV_ERROR, nopos, "not a regular file") ?: -EINVAL;
}

static int cannot_read(struct pc_diags *d, int r)
{
	return pc_diags_add(d, PC_SEV_ERROR, nopos, "cannot read: %s", strerror(-r)) ?: r;
}

int pc_config_open(const char *path, int *ret_fd, struct pc_diags *d)
{
	_cleanup_close_ int fd = -1;
	struct stat st, fst;

	if (stat(path, &st) < 0)
		return cannot_read(d, -errno);
	if (!S_ISREG(st.st_mode))
		return not_regular(d);
	/* O_NONBLOCK: what was a file a moment ago may be a FIFO now */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return cannot_read(d, -errno);
	if (fstat(fd, &fst) < 0)
		return cannot_read(d, -errno);
	if (!S_ISREG(fst.st_mode))
		return not_regular(d);
	if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
		return pc_diags_add(d, PC_SEV_ERROR, nopos,
				    "replaced while it was being opened") ?: -EAGAIN;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* ---- ownership ----------------------------------------------------------- */

#define JUDGED_MAX 64

struct judge {
	struct pc_diags *d;
	const char *path;   /* the config, as given */
	uid_t euid;
	int r;              /* the first refusal */
	struct { dev_t dev; ino_t ino; } judged[JUDGED_MAX]; /* directories */
	size_t njudged;
};

/* Each directory once, though the way as written and the resolved one
 * share most of them. */
static bool judged_before(struct judge *j, const struct stat *st)
{
	for (size_t i = 0; i < j->njudged; i++)
		if (j->judged[i].dev == st->st_dev && j->judged[i].ino == st->st_ino)
			return true;
	if (j->njudged < JUDGED_MAX) {
		j->judged[j->njudged].dev = st->st_dev;
		j->judged[j->njudged++].ino = st->st_ino;
	}
	return false;
}

static void refuse(struct judge *j, int r)
{
	if (j->r == 0)
		j->r = r;
}

/* Owned by root: fine.  By the user who runs the check (not root): a
 * warning, since pktclassd, as root, refuses it.  By anyone else: refused. */
static void judge_owner(struct judge *j, const char *what, const char *name, uid_t uid)
{
	if (uid == 0)
		return;
	if (uid == j->euid) {
		if (pc_diags_add(j->d, PC_SEV_WARNING, nopos,
				 "%s%s is owned by uid %u, not root: pktclassd, which runs as root, "
				 "refuses it (chown root %s)", what, name, (unsigned)uid, name) < 0)
			refuse(j, -ENOMEM);
		return;
	}
	if (pc_diags_add(j->d, PC_SEV_ERROR, nopos,
			 "%s%s is owned by uid %u: refusing a config that others can change "
			 "(chown root %s)", what, name, (unsigned)uid, name) < 0)
		refuse(j, -ENOMEM);
	refuse(j, -EPERM);
}

static bool others_can_write(const struct stat *st)
{
	return (st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0);
}

static void judge_file(struct judge *j, const struct stat *st)
{
	judge_owner(j, "", j->path, st->st_uid);
	if (!others_can_write(st))
		return;
	if (pc_diags_add(j->d, PC_SEV_ERROR, nopos,
			 "writable by %s (mode %04o): refusing a config that others can change "
			 "(chmod go-w %s)", (st->st_mode & S_IWOTH) ? "everyone" : "its group",
			 (unsigned)(st->st_mode & 07777), j->path) < 0)
		refuse(j, -ENOMEM);
	refuse(j, -EPERM);
}

/* A directory on the way: whoever may write it may replace the config
 * (rename over it), unless it is sticky (then only the owner of an entry
 * may replace that entry, and the entries on our way are judged too). */
static void judge_dir(struct judge *j, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (pc_diags_add(j->d, PC_SEV_ERROR, nopos, "cannot check directory %s: %s", dir,
				 strerror(errno)) < 0)
			refuse(j, -ENOMEM);
		refuse(j, -EPERM);
		return;
	}
	if (judged_before(j, &st))
		return;
	judge_owner(j, "directory ", dir, st.st_uid);
	if (!others_can_write(&st) || (st.st_mode & S_ISVTX))
		return;
	if (pc_diags_add(j->d, PC_SEV_ERROR, nopos,
			 "directory %s is writable by %s (mode %04o): anyone who can write it can "
			 "replace the config (chmod go-w %s)", dir,
			 (st.st_mode & S_IWOTH) ? "everyone" : "its group",
			 (unsigned)(st.st_mode & 07777), dir) < 0)
		refuse(j, -ENOMEM);
	refuse(j, -EPERM);
}

/* A symbolic link on the way can be replaced by its owner when it sits in
 * a sticky directory: it must be root's too. */
static void judge_link(struct judge *j, const char *p)
{
	struct stat st;

	if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
		judge_owner(j, "symbolic link ", p, st.st_uid);
}

/* Every directory from / down to the one holding the last component of
 * abs (an absolute path), and every symbolic link on the way. */
static void judge_chain(struct judge *j, const char *abs)
{
	char p[PATH_MAX];
	size_t n = strlen(abs);

	if (n >= sizeof(p))
		n = sizeof(p) - 1;
	judge_dir(j, "/");
	for (size_t i = 1; i <= n && j->r != -ENOMEM; i++) {
		if (i < n && abs[i] != '/')
			continue;
		if (abs[i - 1] == '/')
			continue; /* "//" */
		memcpy(p, abs, i);
		p[i] = 0;
		judge_link(j, p);
		if (i < n)
			judge_dir(j, p);
	}
}

static int absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return strscpy_ok(buf, len, path) ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return (size_t)snprintf(buf, len, "%s/%s", cwd, path) < len ? 0 : -ENAMETOOLONG;
}

int pc_config_check_perms(int fd, const char *path, uid_t euid, struct pc_diags *d)
{
	struct judge j = { .d = d, .path = path, .euid = euid };
	char abs[PATH_MAX], real[PATH_MAX];
	struct stat st, rst;

	if (fstat(fd, &st) < 0)
		return cannot_read(d, -errno);
	judge_file(&j, &st);
	/* The way as written (links included), and where it leads. */
	if (absolute(path, abs, sizeof(abs)) < 0 || !realpath(path, real) ||
	    stat(real, &rst) < 0 || rst.st_dev != st.st_dev || rst.st_ino != st.st_ino)
		return pc_diags_add(d, PC_SEV_ERROR, nopos,
				    "cannot check the directories on the way to it") ?: -EPERM;
	judge_chain(&j, abs);
	if (strcmp(abs, real) != 0)
		judge_chain(&j, real);
	return j.r;
}
