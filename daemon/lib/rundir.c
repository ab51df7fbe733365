/* SPDX-License-Identifier: GPL-2.0-only */
/* rundir.c - runtime directory paths, atomic file replacement. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/rundir.h"
#include "lib/util.h"

const char *pc_runtime_dir(void)
{
	const char *d = getenv(PC_RUNTIME_DIR_ENV);

	return d && d[0] == '/' ? d : PC_RUNTIME_DIR;
}

static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

int pc_runtime_file(const char *pin_path, const char *suffix, char *buf, size_t len)
{
	const char *dir = pc_runtime_dir();

	return pc_runtime_file_in(dir, strlen(dir), pin_path, suffix, buf, len);
}

int pc_runtime_file_in(const char *dir, size_t dirlen, const char *pin_path, const char *suffix,
		       char *buf, size_t len)
{
	char name[4 * PATH_MAX + 1], *p = name;
	const char *c = pin_path[0] == '/' ? pin_path + 1 : pin_path;

	if (strlen(c) >= PATH_MAX)
		return -ENAMETOOLONG;
	for (; *c; c++) {
		if (*c == '/')
			*p++ = '-';
		else if (plain(*c))
			*p++ = *c;
		else
			p += sprintf(p, "\\x%02x", (unsigned char)*c);
	}
	*p = '\0';
	if ((size_t)snprintf(buf, len, "%.*s/%s.%s", (int)dirlen, dir, name, suffix) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* path's directory and ".NAME.XXXXXX" in it, into tmp. */
static int temp_name(const char *path, char *tmp, size_t len)
{
	const char *slash = strrchr(path, '/');
	int dl = slash ? (int)(slash - path + 1) : 0;

	if ((size_t)snprintf(tmp, len, "%.*s.%s.XXXXXX", dl, path, slash ? slash + 1 : path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int fill_and_close(int fd, mode_t mode, gid_t gid, int (*fill)(FILE *, void *), void *ud)
{
	FILE *f;
	int r;

	if (fchmod(fd, mode) < 0 || (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0)) {
		r = -errno;
		close(fd);
		return r;
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	r = fill(f, ud);
	if (fflush(f) != 0 && r >= 0)
		r = negative_errno();
	if (ferror(f) && r >= 0)
		r = -EIO;
	if (fclose(f) != 0 && r >= 0)
		r = negative_errno();
	return r;
}

int pc_write_atomic(const char *path, mode_t mode, gid_t gid, int (*fill)(FILE *f, void *userdata),
		    void *userdata)
{
	char tmp[PATH_MAX];
	int fd, r;

	r = temp_name(path, tmp, sizeof(tmp));
	if (r < 0)
		return r;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fill_and_close(fd, mode, gid, fill, userdata);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
