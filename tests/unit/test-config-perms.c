/* SPDX-License-Identifier: GPL-2.0-only */
/* The daemon refuses a config file that anyone but its owner could change. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "config/config.h"

static int check_mode(const char *path, mode_t mode, uid_t owner, char *msg, size_t len)
{
	struct pc_diags d;
	int r;

	chmod(path, mode);
	pc_diags_init(&d, path);
	r = pc_config_check_perms(path, owner, &d);
	msg[0] = '\0';
	if (d.n > 0)
		pc_diag_format(&d, 0, msg, len);
	CHECK((r < 0) == (d.nerrors == 1), "mode %o: result %d with %zu errors", mode, r, d.nerrors);
	pc_diags_clear(&d);
	return r;
}

int main(void)
{
	char path[] = "/tmp/pc-perms-XXXXXX";
	char msg[512];
	int fd = mkstemp(path);
	uid_t me = geteuid();

	CHECK(fd >= 0, "mkstemp");
	close(fd);

	CHECK(check_mode(path, 0644, me, msg, sizeof(msg)) == 0, "0644 accepted: %s", msg);
	CHECK(check_mode(path, 0600, me, msg, sizeof(msg)) == 0, "0600 accepted: %s", msg);
	CHECK(check_mode(path, 0646, me, msg, sizeof(msg)) == -EPERM, "0646 refused");
	CHECK(strstr(msg, "error: writable by everyone (mode 0646)") != NULL, "message: %s", msg);
	CHECK(strstr(msg, "chmod go-w") != NULL, "hint: %s", msg);
	/* Group-writable is fine only when the group is root. */
	CHECK(check_mode(path, 0664, me, msg, sizeof(msg)) == (getegid() == 0 ? 0 : -EPERM),
	      "0664 with gid %u: %s", (unsigned)getegid(), msg);
	CHECK(check_mode(path, 0644, me + 1, msg, sizeof(msg)) == -EPERM, "foreign owner refused");
	CHECK(strstr(msg, "not owned") != NULL || strstr(msg, "owned by uid") != NULL, "message: %s", msg);
	unlink(path);
	CHECK(check_mode(path, 0644, me, msg, sizeof(msg)) == -ENOENT, "missing file");
	CHECK(strstr(msg, "cannot read: No such file") != NULL, "message: %s", msg);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
