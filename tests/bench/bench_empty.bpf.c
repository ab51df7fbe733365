// SPDX-License-Identifier: GPL-2.0-only
/* bench_empty.bpf.c - yardstick: a TC program that does nothing.  Its
 * BPF_PROG_TEST_RUN time is the harness's own cost per run. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int bench_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}
