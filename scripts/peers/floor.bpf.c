// SPDX-License-Identifier: GPL-2.0-only
/* The benchmark's "floor": not a classifier but a yardstick below one.  The
 * trace's flows are known in advance (cbpeers trace --flows), each with the
 * rule the reference picks for it, so pcb_floor pays only what any classifier
 * that counts per rule needs at least on this traffic, and already knows the
 * answer: read the headers (through bpf_skb_load_bytes, as trafgen's frames
 * are not linear), one exact-match hash lookup, one counter, drop.
 * pcb_floor_read and pcb_floor_array are parts of that, for the breakdown.
 * Built by scripts/bench-peers with clang -target bpf; loaded and filled with
 * bpftool (programs and maps pinned under one directory). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#define SEC(s) __attribute__((section(s), used))

static long (*skb_load_bytes)(const void *skb, __u32 off, void *to, __u32 len) =
	(void *)BPF_FUNC_skb_load_bytes;
static void *(*map_lookup)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;

#define FLOOR_CNT (1 << 14)   /* flows; the table of floor-array */
#define FLOOR_RULES (1 << 17) /* counters: rules up to 100k and more; cbpeers:
			       * FLOOR_DROP_ALL = FLOOR_RULES - 2 */
#define FLOOR_MISS (FLOOR_RULES - 1)

struct floor_key {
	__u32 saddr, daddr; /* as on the wire */
	__u32 ports;        /* the 4 bytes after a 20-byte IPv4 header */
	__u32 proto;
};

struct floor_cnt {
	__u64 packets, bytes;
};

struct {
	int (*type)[BPF_MAP_TYPE_HASH];
	int (*max_entries)[FLOOR_CNT];
	struct floor_key *key;
	__u32 *value; /* rule index; the last counter is for flows not in the map */
} flows SEC(".maps");

struct {
	int (*type)[BPF_MAP_TYPE_ARRAY];
	int (*max_entries)[FLOOR_RULES];
	__u32 *key;
	struct floor_cnt *value; /* plain, not per CPU: the benchmark runs on one CPU */
} cnt SEC(".maps");

struct {
	int (*type)[BPF_MAP_TYPE_ARRAY];
	int (*max_entries)[FLOOR_CNT];
	__u32 *key;
	__u32 *value; /* zeros: only the load matters */
} tab SEC(".maps");

/* The IPv4 addresses, protocol and ports of the frame (20-byte IP header). */
static __attribute__((always_inline)) int read_key(struct __sk_buff *skb, struct floor_key *k)
{
	__u8 h[24];

	if (skb_load_bytes(skb, 14, h, sizeof(h)))
		return -1;
	__builtin_memcpy(&k->saddr, h + 12, 4);
	__builtin_memcpy(&k->daddr, h + 16, 4);
	__builtin_memcpy(&k->ports, h + 20, 4);
	k->proto = h[9];
	return 0;
}

static __attribute__((always_inline)) void count(__u32 idx, __u32 len)
{
	struct floor_cnt *c = map_lookup(&cnt, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* The trace's flow in the hash, its rule's counter: the floor proper. */
SEC("tc")
int pcb_floor(struct __sk_buff *skb)
{
	struct floor_key k = {};
	__u32 idx = FLOOR_MISS, *rule;

	if (read_key(skb, &k) == 0) {
		rule = map_lookup(&flows, &k);
		if (rule)
			idx = *rule;
	}
	count(idx, skb->len);
	return TC_ACT_SHOT;
}

/* Parts of it: only the header read ... */
SEC("tc")
int pcb_floor_read(struct __sk_buff *skb)
{
	struct floor_key k = {};

	read_key(skb, &k);
	return TC_ACT_SHOT;
}

/* ... and one load from a 64 KiB array at a place that depends on the key,
 * then a counter that depends on that load, with no hashing or key compare. */
SEC("tc")
int pcb_floor_array(struct __sk_buff *skb)
{
	struct floor_key k = {};
	__u32 x, idx, *v;

	if (read_key(skb, &k))
		return TC_ACT_SHOT;
	x = k.saddr * 0x9e3779b1u ^ k.daddr * 0x85ebca6bu ^ k.ports * 0xc2b2ae35u ^ k.proto;
	idx = (x >> 7) & (FLOOR_CNT - 1);
	v = map_lookup(&tab, &idx);
	if (v)
		count((*v + idx) & (FLOOR_CNT - 1), skb->len);
	return TC_ACT_SHOT;
}

char _license[] SEC("license") = "GPL";
