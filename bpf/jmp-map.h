/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * jmp-map.h - the TC jump table, as the entry programs declare it: one slot
 * per hook (PC_JMP_TC_*), holding the current generation's classifier.
 * entry.bpf.c, and the older build's entry programs of tests/bpf, which must
 * fit the same pinned map.  Include after bpf_helpers.h and pktclass.h.
 */
#ifndef PKTCLASS_JMP_MAP_H
#define PKTCLASS_JMP_MAP_H

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PC_JMP_TC_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_tc SEC(".maps");

#endif /* PKTCLASS_JMP_MAP_H */
