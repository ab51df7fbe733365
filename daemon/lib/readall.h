/* SPDX-License-Identifier: GPL-2.0-only */
/* readall.h - a whole file into memory. */
#pragma once

#include <stddef.h>

/* Read fd to its end into a new buffer (NUL-terminated; *ret_len excludes
 * the NUL).  -EFBIG past max bytes, or -errno. */
int pc_read_all(int fd, size_t max, char **ret, size_t *ret_len);
/* The same for a path. */
int pc_read_path(const char *path, size_t max, char **ret, size_t *ret_len);
