/* SPDX-License-Identifier: GPL-2.0-only */
/* grow.h - growing arrays, for the test helpers. */
#pragma once

#include <string.h>

#include "lib/util.h"

/* pc_grow() (daemon/lib/util.h), and the new elements are zeroed.  0 or -ENOMEM
 * (*p and *cap unchanged). */
static inline int tl_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t old = *cap;
	int r = pc_grow(p, cap, need, size);

	if (r == 0 && *cap > old)
		memset((char *)*p + old * size, 0, (*cap - old) * size);
	return r;
}
