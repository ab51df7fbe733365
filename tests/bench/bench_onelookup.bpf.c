// SPDX-License-Identifier: GPL-2.0-only
/* bench_onelookup.bpf.c - yardstick: the least a classifier can do.  Parse
 * Ethernet, IPv4 and the TCP/UDP ports with direct packet access, look the
 * 5-tuple up in one hash map, set skb->mark from the value. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct tuple {
	__u32 src, dst;
	__u16 sport, dport;
	__u32 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 17);
	__type(key, struct tuple);
	__type(value, __u32);
} flows SEC(".maps");

SEC("tc")
int bench_onelookup(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct tuple t = {};
	__u16 *ports;
	__u32 *v;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC;
	t.src = bpf_ntohl(ip->saddr);
	t.dst = bpf_ntohl(ip->daddr);
	t.proto = ip->protocol;
	if (ip->protocol == 6 || ip->protocol == 17) {
		ports = (void *)ip + ip->ihl * 4;
		if ((void *)(ports + 2) > end)
			return TC_ACT_UNSPEC;
		t.sport = bpf_ntohs(ports[0]);
		t.dport = bpf_ntohs(ports[1]);
	}
	v = bpf_map_lookup_elem(&flows, &t);
	if (v)
		skb->mark = *v;
	return TC_ACT_UNSPEC;
}
