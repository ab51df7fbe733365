// SPDX-License-Identifier: GPL-2.0-only
/* The benchmark's "no classifier": drop every packet at TC ingress.
 * Built by scripts/bench-peers with clang -target bpf. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

__attribute__((section("tc"), used))
int pcb_drop(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_SHOT;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
