/* SPDX-License-Identifier: GPL-2.0-only */
/* preflight.h - what the daemon checks before it touches anything: bpf()
 * usable, bpffs mounted (mounted if absent), clsact and cls_bpf available
 * (tried in a throwaway network namespace), and the kernel version. */
#pragma once

#include <errno.h>
#include <stdio.h>

/* The oldest kernel pktclassd supports (README: "Requirements"). */
#define PC_KERNEL_MIN_MAJOR 6
#define PC_KERNEL_MIN_MINOR 1

/* "6.18.0-1-amd64" -> 6, 18.  0, or -EINVAL when it does not start with
 * MAJOR.MINOR. */
static inline int pc_kernel_version_parse(const char *release, unsigned *major, unsigned *minor)
{
	int n = 0;

	if (!release || release[0] < '0' || release[0] > '9' ||
	    sscanf(release, "%u.%u%n", major, minor, &n) != 2 || n == 0)
		return -EINVAL;
	return 0;
}

static inline int pc_kernel_version_ok(unsigned major, unsigned minor)
{
	return major > PC_KERNEL_MIN_MAJOR ||
	       (major == PC_KERNEL_MIN_MAJOR && minor >= PC_KERNEL_MIN_MINOR);
}

/* Run every check; each failure is logged as one line.  0 or -errno. */
int pc_preflight(void);
