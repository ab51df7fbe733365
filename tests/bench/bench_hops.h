/* SPDX-License-Identifier: GPL-2.0-only */
/* bench_hops.h - what bench_hops.bpf.c and bench-hops.c share. */
#ifndef BENCH_HOPS_H
#define BENCH_HOPS_H

#include <linux/types.h>

#define BH_LINES (1u << 17) /* 8 MiB of 64-byte lines at most */
#define BH_INNER 512u       /* lines per inner map: 32 KiB, kmalloc'ed */
#define BH_HOPS 8           /* dependent loads per run */

struct bh_line {
	__u32 next;
	__u32 pad[15];
};

_Static_assert(sizeof(struct bh_line) == 64, "one cache line");
_Static_assert(BH_LINES % BH_INNER == 0, "whole inner maps");

#endif /* BENCH_HOPS_H */
