// SPDX-License-Identifier: GPL-2.0-only
/* bench_hops.bpf.c - the cost of one dependent load from a BPF array, by
 * table size: each run follows BH_HOPS links of a random cycle through the
 * table's first n lines (the daemon side sets it up), from where the last
 * run stopped.  Two layouts of the same lines: one array map (vmalloc'ed,
 * 4 KiB pages, as the classifier's tables) and an array of maps of 32 KiB
 * inner arrays (each kmalloc'ed from the kernel's direct map). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bench_hops.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BH_LINES);
	__type(key, __u32);
	__type(value, struct bh_line);
} flat SEC(".maps");

struct bh_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BH_INNER);
	__type(key, __u32);
	__type(value, struct bh_line);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, BH_LINES / BH_INNER);
	__type(key, __u32);
	__array(values, struct bh_inner);
} split SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} at SEC(".maps");

SEC("tc")
int bh_flat(struct __sk_buff *skb)
{
	__u32 zero = 0, *cur = bpf_map_lookup_elem(&at, &zero), i;

	if (!cur)
		return TC_ACT_UNSPEC;
	i = *cur;
	for (int k = 0; k < BH_HOPS; k++) {
		struct bh_line *l = bpf_map_lookup_elem(&flat, &i);

		if (!l)
			break;
		i = l->next;
	}
	*cur = i;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int bh_split(struct __sk_buff *skb)
{
	__u32 zero = 0, *cur = bpf_map_lookup_elem(&at, &zero), i;

	if (!cur)
		return TC_ACT_UNSPEC;
	i = *cur;
	for (int k = 0; k < BH_HOPS; k++) {
		__u32 o = i / BH_INNER, j = i % BH_INNER;
		struct bh_line *l;
		void *m;

		m = bpf_map_lookup_elem(&split, &o);
		if (!m)
			break;
		l = bpf_map_lookup_elem(m, &j);
		if (!l)
			break;
		i = l->next;
	}
	*cur = i;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int bh_none(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}
