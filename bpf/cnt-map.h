/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cnt-map.h - the counters' array of maps, as the BPF programs that count
 * (classifier.bpf.c) or change (cntops.bpf.c) declare it.  Include after
 * bpf_helpers.h and pktclass.h.
 *
 * Persistent: the daemon passes its pinned map in (bpf_map__reuse_fd), so
 * this definition only describes the shape: per attach slot a per-CPU
 * array of struct pc_cnt_chunk (pktclass.h).
 */
#ifndef PKTCLASS_CNT_MAP_H
#define PKTCLASS_CNT_MAP_H

struct pc_cnt_inner {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct pc_cnt_chunk));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PC_MAX_ATTACH);
	__type(key, __u32);
	__array(values, struct pc_cnt_inner);
} cnt SEC(".maps");

#endif /* PKTCLASS_CNT_MAP_H */
