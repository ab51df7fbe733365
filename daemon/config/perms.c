/* SPDX-License-Identifier: GPL-2.0-only */
/* perms.c - whose hands the config file is in.  The daemon runs as
 * root and loads programs into the kernel from this file, so a file that
 * someone other than root can change is refused. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"

int pc_config_check_perms(const char *path, uid_t owner, struct pc_diags *diags)
{
	const struct pc_pos nopos = { 0, 0 };
	struct stat st;

	if (stat(path, &st) < 0) {
		int r = -errno;

		pc_diags_add(diags, PC_SEV_ERROR, nopos, "cannot read: %s", strerror(-r));
		return r;
	}
	if (st.st_uid != owner)
		return pc_diags_add(diags, PC_SEV_ERROR, nopos,
				    "owned by uid %u, not %u: refusing a config that others can change "
				    "(chown %u %s)", (unsigned)st.st_uid, (unsigned)owner,
				    (unsigned)owner, path) ?: -EPERM;
	if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0))
		return pc_diags_add(diags, PC_SEV_ERROR, nopos,
				    "writable by %s (mode %04o): refusing a config that others can "
				    "change (chmod go-w %s)",
				    (st.st_mode & S_IWOTH) ? "everyone" : "its group",
				    (unsigned)(st.st_mode & 07777), path) ?: -EPERM;
	return 0;
}
