// SPDX-License-Identifier: GPL-2.0-only
/* legacy_entry.bpf.c - TC entry programs as builds before the shared TC
 * classifier pinned them: a tail call per hook, with nothing in cb (the
 * classifier slot of each hook held a program for that hook).  test-migrate
 * pins these in place of bpf/entry.bpf.c's to check that the daemon then
 * loads per-hook classifiers (datapath.c, entry_check_legacy()). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "pktclass.h"
#include "jmp-map.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tc")
int legacy_ingress(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_tc, PC_JMP_TC_INGRESS);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int legacy_egress(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_tc, PC_JMP_TC_EGRESS);
	return TC_ACT_UNSPEC;
}
