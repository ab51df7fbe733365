/* SPDX-License-Identifier: GPL-2.0-only */
/* grow.h - growing arrays, for the test helpers. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Make the array *p of *cap elements of size bytes hold at least need: the
 * capacity doubles, from 16; new elements are zeroed.  0 or -ENOMEM (*p and
 * *cap unchanged). */
static inline int tl_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	memset((char *)q + *cap * size, 0, (n - *cap) * size);
	*p = q;
	*cap = n;
	return 0;
}
