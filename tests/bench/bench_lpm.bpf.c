// SPDX-License-Identifier: GPL-2.0-only
/* bench_lpm.bpf.c - yardstick for the sets: the kernel's own LPM trie, one
 * lookup of the packet's source address per packet (IPv4 or IPv6 map), what
 * a set would cost built on BPF_MAP_TYPE_LPM_TRIE.  The loader sizes the
 * maps (max_entries) and fills them. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct key4 {
	__u32 prefixlen;
	__u8 a[4];
};

struct key6 {
	__u32 prefixlen;
	__u8 a[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct key4);
	__type(value, __u32);
} lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct key6);
	__type(value, __u32);
} lpm6 SEC(".maps");

__u64 hits = 0;

SEC("tc")
int bench_lpm(struct __sk_buff *skb)
{
	void *d = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = d;
	__u32 *v = 0;

	if ((void *)(eth + 1) > end)
		return TC_ACT_UNSPEC;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct key4 k = { .prefixlen = 32 };
		__u8 *ip = (void *)(eth + 1);

		if ((void *)(ip + 20) > end)
			return TC_ACT_UNSPEC;
		__builtin_memcpy(k.a, ip + 12, 4);
		v = bpf_map_lookup_elem(&lpm4, &k);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct key6 k = { .prefixlen = 128 };
		__u8 *ip = (void *)(eth + 1);

		if ((void *)(ip + 40) > end)
			return TC_ACT_UNSPEC;
		__builtin_memcpy(k.a, ip + 8, 16);
		v = bpf_map_lookup_elem(&lpm6, &k);
	}
	if (v)
		hits++;
	return TC_ACT_UNSPEC;
}
