/* SPDX-License-Identifier: GPL-2.0-only */
/* rundir.h - the daemon's runtime directory (/run/pktclassd) and the files
 * in it that belong to one pin path, and writing a file so that a reader
 * sees the old or the new content, never a mix. */
#pragma once

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define PC_RUNTIME_DIR "/run/pktclassd"
#define PC_RUNTIME_DIR_ENV "PKTCLASSD_RUNTIME_DIR"

/* $PKTCLASSD_RUNTIME_DIR when set (tests, a second daemon by hand), else
 * PC_RUNTIME_DIR.  pktclassd and pktclassctl agree on it. */
const char *pc_runtime_dir(void);

/* RUNDIR/NAME.SUFFIX, NAME being pin_path without its first '/', '/' as
 * '-' and every byte outside [A-Za-z0-9_.] as \xNN (one file per daemon,
 * as each has its own pin path).  0 or -ENAMETOOLONG. */
int pc_runtime_file(const char *pin_path, const char *suffix, char *buf, size_t len);
/* The same in dir, the first dirlen bytes of it. */
int pc_runtime_file_in(const char *dir, size_t dirlen, const char *pin_path, const char *suffix,
		       char *buf, size_t len);

/* Write path anew: fill() writes into a temporary file beside it
 * (".NAME.XXXXXX", which the node exporter's *.prom glob skips), which
 * gets mode and, unless gid is (gid_t)-1, that group, and is renamed over
 * path.  On any failure the temporary file goes and path is untouched.
 * 0 or a negative errno (fill's own, or of the file system). */
int pc_write_atomic(const char *path, mode_t mode, gid_t gid, int (*fill)(FILE *f, void *userdata),
		    void *userdata);
