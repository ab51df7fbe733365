/* SPDX-License-Identifier: GPL-2.0-only */
/* readall.c - a whole file into memory, growing the buffer by doubling. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/readall.h"
#include "lib/util.h"

int pc_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len + 1 >= cap) {
			size_t c = cap ? cap * 2 : 64 * 1024;
			char *p;

			if (c > max + 2)
				c = max + 2;
			if (c <= len + 1)
				return -EFBIG;
			p = realloc(buf, c);
			if (!p)
				return -ENOMEM;
			buf = p, cap = c;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = 0;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int pc_read_path(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return pc_read_all(fd, max, ret, ret_len);
}
