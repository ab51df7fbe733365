// SPDX-License-Identifier: GPL-2.0-only
/* entry.bpf.c - the programs that stay attached across reloads.
 *
 * Each one tail-calls the current generation's classifier through a jump
 * table; the daemon switches generations by updating a table slot.  When the
 * slot is empty (no generation yet, or the tables were unpinned) the packet
 * goes on untouched: TC_ACT_UNSPEC lets other filters run, and a socket
 * filter returning 0 keeps the packet away from the monitor socket.
 *
 * Both TC hooks jump to one classifier program (one verification per
 * generation instead of two): the hook goes in skb->cb[0] (PC_CB_HOOK),
 * which a tail call keeps.  The table has a slot per hook, both holding
 * that program. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "pktclass.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PC_JMP_TC_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_tc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PC_JMP_SOCK_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp_sock SEC(".maps");

SEC("tc")
int pc_entry_ingress(struct __sk_buff *skb)
{
	skb->cb[PC_CB_HOOK] = PC_HOOK_INGRESS;
	bpf_tail_call(skb, &jmp_tc, PC_JMP_TC_INGRESS);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int pc_entry_egress(struct __sk_buff *skb)
{
	skb->cb[PC_CB_HOOK] = PC_HOOK_EGRESS;
	bpf_tail_call(skb, &jmp_tc, PC_JMP_TC_EGRESS);
	return TC_ACT_UNSPEC;
}

SEC("socket")
int pc_entry_sock(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_sock, PC_JMP_SOCK);
	return 0;
}
