/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pktclass.h - every structure that crosses the kernel boundary.
 *
 * Included by the BPF programs (clang -target bpf) and by the daemon,
 * pktclassctl and the tests (gcc).  A layout change must break the build,
 * hence the _Static_asserts at the bottom.  Integers are host byte order
 * unless a name says otherwise.
 *
 * The classifier works on a "key": PC_KEY_WORDS 32-bit words that the packet
 * parser fills in.  A compiled rule is one or more "boxes": a conjunction of
 * checks, each on one key word.  Lists in a rule (several prefixes, several
 * port ranges) expand into several boxes of the same rule.  Boxes are found
 * through decision trees whose inner nodes cut one key word by a bit field,
 * and whose leaves list a few candidate boxes in priority order.
 */
#ifndef PKTCLASS_H
#define PKTCLASS_H

#include <linux/types.h>

/* The layout of the pinned state: a state of another version is not adopted.
 * 5: the key has PC_W_SETS (pc_log_rec in the pinned "log" ring grew). */
#define PC_ABI_VERSION 5

/* ---- key words ---------------------------------------------------------- */
enum pc_word {
	PC_W_SRC0 = 0,  /* IPv4: the address; IPv6: bits 127..96 */
	PC_W_SRC1,      /* IPv6 bits 95..64 (0 for IPv4) */
	PC_W_SRC2,
	PC_W_SRC3,
	PC_W_DST0,
	PC_W_DST1,
	PC_W_DST2,
	PC_W_DST3,
	PC_W_SPORT,     /* 0..65535, PC_PORT_NONE when the packet has no ports */
	PC_W_DPORT,
	PC_W_PROTO,     /* L4 protocol after IPv6 ext headers, PC_PROTO_NONE */
	PC_W_L3,        /* ethertype after VLAN tags (0x0800, 0x86dd, 0x0806...) */
	PC_W_VLAN,      /* outer VLAN id, PC_VLAN_NONE when untagged */
	PC_W_DSCP,      /* 0..63, PC_DSCP_NONE when not IP */
	PC_W_LEN,       /* L3 length, PC_LEN_NONE when not IP */
	PC_W_TCPFLAGS,  /* TCP flags byte, PC_TCPFL_NONE when unknown */
	PC_W_DIR,       /* PC_DIR_INGRESS / PC_DIR_EGRESS */
	PC_W_IFBITS,    /* bit i set: the interface matches iface pattern i */
	PC_W_SETS,      /* bit i set: the packet's field of set reference i lies in
			 * that set (see "sets" below) */
	PC_KEY_WORDS
};

/* Sentinels: one past the field's range, so that no range check of a real
 * value matches them, and all values of a word stay below 1 << width. */
#define PC_PORT_NONE   0x10000u
#define PC_PROTO_NONE  0x100u
#define PC_VLAN_NONE   0x1000u
#define PC_DSCP_NONE   0x40u
#define PC_LEN_NONE    0x20000u
#define PC_TCPFL_NONE  0x100u

#define PC_DIR_INGRESS 0u
#define PC_DIR_EGRESS  1u

/* TCP flag bits as in the header's 13th byte. */
#define PC_TCP_FIN 0x01u
#define PC_TCP_SYN 0x02u
#define PC_TCP_RST 0x04u
#define PC_TCP_PSH 0x08u
#define PC_TCP_ACK 0x10u
#define PC_TCP_URG 0x20u
#define PC_TCP_ECE 0x40u
#define PC_TCP_CWR 0x80u

/* Values of PC_W_L3 and PC_W_PROTO that the parser and the compiler name. */
#define PC_ETH_P_IP     0x0800u
#define PC_ETH_P_ARP    0x0806u
#define PC_ETH_P_8021Q  0x8100u
#define PC_ETH_P_8021AD 0x88a8u
#define PC_ETH_P_IPV6   0x86ddu

#define PC_IPPROTO_HOPOPTS  0
#define PC_IPPROTO_ICMP     1
#define PC_IPPROTO_TCP      6
#define PC_IPPROTO_UDP      17
#define PC_IPPROTO_ROUTING  43
#define PC_IPPROTO_FRAGMENT 44
#define PC_IPPROTO_ICMPV6   58
#define PC_IPPROTO_DSTOPTS  60
#define PC_IPPROTO_SCTP     132
#define PC_IPPROTO_UDPLITE  136

/* The protocols whose packets have ports: port matches apply to these only. */
#define PC_PROTO_HAS_PORTS(p)                                                   \
	((p) == PC_IPPROTO_TCP || (p) == PC_IPPROTO_UDP || (p) == PC_IPPROTO_SCTP || \
	 (p) == PC_IPPROTO_UDPLITE)

/* Width in bits of each word's value space (values are < 1 << width).  The
 * tree builder cuts a word from its top bit down within this width. */
#define PC_WORD_WIDTHS { 32, 32, 32, 32, 32, 32, 32, 32, \
			 17, 17, 9, 16, 13, 7, 18, 9, 1, 32, 32 }

struct pc_key {
	__u32 w[PC_KEY_WORDS];
};

/* Parser verdict, besides the key. */
enum pc_parse_status {
	PC_PARSE_OK = 0,
	PC_PARSE_L4_UNKNOWN = 1, /* L3 fine; L4 cut short or beyond ext depth */
	PC_PARSE_MALFORMED = 2,  /* L2/L3 header broken or truncated */
};

/* IPv6 extension headers walked before giving up on L4. */
#define PC_IPV6_EXT_MAX 6
/* Bytes of the packet the parser looks at (from the MAC header for TC). */
#define PC_HDR_MAX 256

/* ---- compiled rules ------------------------------------------------------ */
enum pc_check_op {
	PC_OP_RANGE = 0, /* a <= key <= b */
	PC_OP_MASK = 1,  /* (key & a) == b */
	PC_OP_ANY = 2,   /* (key & a) != 0 */
	PC_OP_SET = 3,   /* the field of set reference a (>= PC_SET_REFS_EAGER) is
			  * in its set; word is that field's first word */
};

struct pc_check {
	__u8 word;  /* enum pc_word */
	__u8 op;    /* enum pc_check_op */
	__u16 _pad;
	__u32 a;
	__u32 b;
};

#define PC_BOX_CHECKS PC_KEY_WORDS

/* One conjunction of checks; the box matches when every check holds.
 * Only the first nchecks entries are meaningful. */
struct pc_box {
	__u32 rule;    /* rule index in this generation == priority, 0 first */
	__u32 nchecks;
	struct pc_check c[PC_BOX_CHECKS];
};

enum pc_node_kind {
	PC_NODE_CUT = 1,  /* child = base + ((key.w[word] >> shift) & ((1 << bits) - 1)) */
	PC_NODE_LEAF = 2, /* boxes leaf[base .. base + count - 1], best first */
	PC_NODE_SLOW = 3, /* the same, count > PC_MAX_LEAF: scanned by a bpf_loop()
			   * callback, verified once whatever the count */
};

struct pc_node {
	__u8 kind;
	__u8 word;
	__u8 shift;
	__u8 bits;
	__u32 base;
	union {
		__u32 count;  /* LEAF, SLOW: boxes */
		__u32 mask;   /* CUT: (1 << bits) - 1, so that the walk needs no branch */
	};
	union {
		__u32 _pad;
		/* Best (lowest) rule of any box below this node; the walk
		 * stops here when it cannot beat the match found so far.
		 * UINT32_MAX for an empty leaf. */
		__u32 min_rule;
	};
};

/* Value of the classifier's "leaf" map: one entry of a leaf's box list, one
 * cache line (the table is page aligned).  The box's rule and its leading
 * RANGE checks, up to PC_LEAF_CHECKS, are copied here (an IPv4 5-tuple rule
 * has at most 6: src, dst, sport, dport, proto, l3, and rarely all of them),
 * so that the scan decides most boxes from the entry alone.  A box with more
 * (IPv6 addresses, tcp_flags, dscp, length, vlan...) has PC_LE_EXT: then box
 * is the index of its struct pc_leaf_ext in "leafx" (one per box, shared by
 * all its leaf entries), read only when the entry's own checks hold.  The
 * checks go to the entry least common first (a check most boxes share, such
 * as an IPv6 /32, rarely tells them apart).  classifier/leaf.c makes them.
 *
 * The entry also carries its rule's outcome, copied from outs[rule], so that
 * the classifier need not read outs (one dependent cache miss less per
 * packet): enough unless PC_LE_FULL_OUT, i.e. when the outcome is pass or
 * drop with nothing else (no mark, priority, DSCP, log or redirect).
 *
 * Why so tight: on real traffic the scan's first read of an entry is a cache
 * miss; at 100 bytes an entry and the next one spanned three or four lines,
 * at 64 bytes each is one (daemon/datapath/README.md, "Real traffic"). */
#define PC_LEAF_CHECKS 5
#define PC_LE_EXT      0x1u /* the box has more checks: leafx[box] */
#define PC_LE_FULL_OUT 0x2u /* read outs[rule] for the outcome */
#define PC_LE_IPV4     0x4u /* and the key's PC_W_L3 must be 0x0800 */
#define PC_LE_IPV6     0x8u /* and the key's PC_W_L3 must be 0x86dd */
struct pc_leaf_range {
	__u32 lo;
	__u32 hi;
};
struct pc_leaf_ent {
	__u32 rule;         /* boxes[box].rule */
	__u32 box;          /* PC_LE_EXT: index into leafx; else the box (unused) */
	__u32 slot;         /* outs[rule].slot */
	__u32 class_slot;   /* outs[rule].class_slot */
	__u8 n;             /* RANGE checks inline: key word word[i] in r[i] */
	__u8 flags;         /* PC_LE_* */
	__u8 action;        /* outs[rule].action */
	__u8 word[PC_LEAF_CHECKS];
	struct pc_leaf_range r[PC_LEAF_CHECKS];
};

/* Value of "leafx": the checks of a box that its leaf entries do not hold.
 * Only a box with checks beyond these (PC_LX_MORE: more RANGE checks, two
 * checks on one word, a set reference past PC_SET_REFS_EAGER...) is read
 * whole from "boxes" and checked by the global function pc_box_match();
 * "boxes" holds only those boxes. */
#define PC_LEAF_XCHECKS 5
#define PC_LX_TCPFL 0x1u /* (key.w[PC_W_TCPFLAGS] & tf_mask) == tf_value */
#define PC_LX_IFANY 0x2u /* key.w[PC_W_IFBITS] & if_any */
#define PC_LX_MORE  0x4u /* and boxes[box] holds (all its checks) */
#define PC_LX_SETS  0x8u /* (key.w[PC_W_SETS] & sets) == sets */
struct pc_leaf_ext {
	__u8 n;             /* RANGE checks: key word word[i] in r[i] */
	__u8 flags;         /* PC_LX_* */
	__u16 tf_mask;
	__u16 tf_value;
	__u8 word[PC_LEAF_XCHECKS];
	__u8 _pad;
	__u32 if_any;
	__u32 box;          /* PC_LX_MORE: index into boxes */
	__u32 sets;         /* PC_LX_SETS: the set references' bits the box needs */
	struct pc_leaf_range r[PC_LEAF_XCHECKS];
};
#define PC_MAX_TREES 16
#define PC_MAX_DEPTH 24 /* nodes on a root-to-leaf path, leaf included */
#define PC_MAX_LEAF 32  /* boxes in one leaf */

/* Per-generation constants, in the classifier's .rodata. */
struct pc_gen_cfg {
	__u32 generation;
	__u32 nrules;        /* rules; rule index nrules is the default */
	__u32 ntrees;
	__u32 max_depth;     /* deepest path in any tree, <= PC_MAX_DEPTH */
	__u32 max_leaf;      /* largest leaf, <= PC_MAX_LEAF */
	__u32 _pad;
	__u32 root[PC_MAX_TREES];      /* root node index of each tree */
	__u32 min_rule[PC_MAX_TREES];  /* best rule index in each tree */
	/* Each tree's own deepest path and largest (fast) leaf: the verifier
	 * walks each tree's loops only that far. */
	__u8 depth[PC_MAX_TREES];
	__u8 leaf[PC_MAX_TREES];
	/* Per tree and packet class (below, index & 31): the best rule of a
	 * box of the tree that can hold for packets of that class, UINT32_MAX
	 * for none; the tree is not walked for a packet that cannot beat it
	 * (the VLAN tree for untagged packets, the TCP-flags tree for UDP...). */
	__u32 cmin[PC_MAX_TREES][32];
};

/* A packet's class, for skipping trees: (l3 * 4 + l4) * 2 + tagged, where
 * l3 is 0 IPv4, 1 IPv6, 2 other; l4 0 TCP, 1 UDP, 2 SCTP or UDP-Lite, 3 any
 * other protocol or none; tagged: it has a VLAN id. */
#define PC_PKT_CLASSES 24

/* ---- the flow cache --------------------------------------------------------
 * An exact-match cache in front of the set lookups and the trees, per
 * generation ("fcache": one array element holding the whole table: ncpu
 * regions of nent entries, the region of the CPU that runs the program, so
 * no two CPUs write one line).  Its key is the packet's key with every bit
 * that no check of the generation can look at cleared (pc_fc_cfg.mask, from
 * classifier/flowkey.c; the fields of set references whole) and packed into
 * PC_FC_KEY_WORDS words, PC_W_SETS left out; two packets with one cache key
 * get one answer, so a hit is exact.  Two ways per bucket (one 128-byte pair
 * of lines).  A new generation brings a new, empty table, so a reload never
 * sees an answer of the old rules; the tag is what changes under a
 * generation without a reload: the version of the set directory the packet
 * reads (struct pc_set_dir, low 32 bits; every set change publishes a new
 * directory), 0 when the rules use no set.  An entry holds the rule and,
 * when the leaf entry did, the plain outcome, so a hit counts the same slots
 * as the walk would.  daemon/datapath/README.md, "Flow cache". */
#define PC_FC_KEY_WORDS 13
struct pc_fc_ent {
	__u32 k[PC_FC_KEY_WORDS]; /* the cache key (pc_fc_key() in classifier.bpf.c) */
	__u32 tag;                /* the set version when it was written */
	__u64 out;                /* PC_FC_* below; 0: empty */
};

/* pc_fc_ent.out: valid, full (outs[rule] has the outcome), action, rule,
 * class slot, slot.  An answer whose numbers do not fit is not cached. */
#define PC_FC_VALID      (1ull << 63)
#define PC_FC_FULL       (1ull << 62)
#define PC_FC_ACT_SHIFT  60
#define PC_FC_RULE_SHIFT 40
#define PC_FC_CLS_SHIFT  20
#define PC_FC_FIELD_MAX  0xfffffu /* rule and slots: 20 bits */

/* k[PC_FC_HIT_WORD] & PC_FC_HIT: the entry has served a hit.  No cache key
 * has that bit (pc_fc_key() packs dscp and length into its low 25 bits), so
 * the comparison leaves it out; a miss replaces a live way that never served
 * a hit before one that did, so that what a flood left behind gives way to
 * the first flow that comes back (daemon/datapath/README.md, "Flow cache"). */
#define PC_FC_HIT_WORD 11
#define PC_FC_HIT      (1u << 31)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PC_FC_HIT64 ((__u64)PC_FC_HIT << 32) /* the bit in the entry's 64-bit word 5 */
#else
#define PC_FC_HIT64 ((__u64)PC_FC_HIT)
#endif

/* The datapath's default: entries per CPU (4 MiB), at most PC_FC_MAX_BYTES
 * in all (fewer entries per CPU on machines with many CPUs), and 1 in
 * PC_FC_INV_PROB misses replaces a live entry when both ways of its bucket
 * hold one (an empty or stale way is always taken), as Open vSwitch's
 * emc-insert-inv-prob does, so that a flood of new flows evicts little. */
#define PC_FC_ENTRIES   65536u
#define PC_FC_MAX_BYTES (64u << 20)
#define PC_FC_INV_PROB  64u

/* What the cache did on one CPU: the first field of the classifier's
 * per-CPU scratch map "work" (the rest of it is the classifier's own). */
struct pc_fc_count {
	__u64 hits, misses, inserts;
	__u64 bypassed; /* walked without a lookup: the CPU saw a flood (below) */
};

/* Flood mode, per CPU: after a window of PC_FC_WINDOW lookups with fewer
 * than 1 / PC_FC_FLOOD_ENTER of them good (a hit, or a miss that found a
 * free way), only 1 packet in PC_FC_SAMPLE looks up (and inserts); the
 * others walk the trees at once, so a flood of new flows does not pay for a
 * table it only misses (nor sweep it through the caches the trees need).  A
 * window of PC_FC_WINDOW / 4 sampled lookups with at least 1 /
 * PC_FC_FLOOD_LEAVE good ends it.  A lookup costs about a quarter of the walk it saves on real traffic
 * ("Flow cache" in daemon/datapath/README.md): below a quarter of hits it
 * does not pay. */
#define PC_FC_WINDOW      256u
#define PC_FC_FLOOD_ENTER 4u
#define PC_FC_FLOOD_LEAVE 3u
#define PC_FC_SAMPLE      16u

/* In the classifier's .rodata. */
struct pc_fc_cfg {
	__u32 nent;                /* entries per CPU, a power of two >= 2; 0: no cache */
	__u32 ncpu;                /* CPUs with a region; a CPU past them does not cache */
	__u32 total;               /* nent * ncpu: entries in "fcache" */
	__u32 inv_prob;            /* a power of two */
	__u32 mask[PC_KEY_WORDS];  /* bits of each key word some check looks at */
	__u32 seed[PC_FC_KEY_WORDS + 1]; /* the hash's key, random per generation */
	__u32 _pad;                /* keeps .rodata a multiple of 8 bytes long, as the
				    * skeleton's struct is (datapath/livecopy.c) */
};

/* ---- outcomes ------------------------------------------------------------ */
enum pc_action {
	PC_ACT_PASS = 0,
	PC_ACT_DROP = 1,
	PC_ACT_REDIRECT = 2,
};

#define PC_F_MARK  0x01u
#define PC_F_PRIO  0x02u
#define PC_F_DSCP  0x04u
#define PC_F_LOG   0x08u

/* Indexed by rule index; entry nrules is the default. */
struct pc_rule_out {
	__u32 slot;             /* counter slot, stable for a rule name */
	__u32 class_slot;       /* counter slot of its class, stable by name */
	__u8 action;            /* enum pc_action */
	__u8 flags;             /* PC_F_* */
	__u8 dscp;              /* new DSCP when PC_F_DSCP */
	__u8 _pad;
	__u32 mark;
	__u32 priority;
	__u32 redirect_ifindex;
};

/* ---- interfaces, hooks, counters ---------------------------------------- */
enum pc_hook {
	PC_HOOK_INGRESS = 0,
	PC_HOOK_EGRESS = 1,
	PC_HOOK_MONITOR = 2,
	PC_HOOK_MAX
};

#define PC_ATTACH_NONE 0xffffffffu
/* Attach slots (one per interface and hook): the size of "attach", of the
 * counters' array of maps "cnt" and of the per-generation "ifaces" hash.  A
 * slot costs 8 bytes in "cnt" and 32 in "attach" until used; what limits the
 * hooks in practice is the kernel memory of their counter arrays
 * (slot_cap x 16 bytes x CPUs each).  Hooks past either are skipped with a
 * warning, never a failed start or reload (daemon/attach/README.md). */
#define PC_MAX_ATTACH 65536

/* Value of the per-generation "ifaces" hash, keyed by ifindex (__u32). */
struct pc_iface {
	__u32 attach[PC_HOOK_MAX]; /* attach slot per hook, or PC_ATTACH_NONE */
	__u32 ifbits;              /* PC_W_IFBITS of packets on this interface */
};

/* Interfaces with ifindex < PC_IFACE_ARRAY are also in the per-generation
 * "ifarr" array, indexed by ifindex (an inlined array lookup instead of a
 * hash lookup); ifbits == 0 there means "not in the array, ask ifaces".
 * "ifaces" stays the complete table. */
#define PC_IFACE_ARRAY 4096

/* Counter slots 0 to 2 are reserved in every attachment's counter array. */
#define PC_SLOT_DEFAULT    0u /* packets no rule matched */
#define PC_SLOT_MALFORMED  1u /* packets not classified: broken L2/L3 */
#define PC_SLOT_WOULD_DROP 2u /* monitor hooks: packets whose outcome is drop
			       * (counted besides their rule and class; a
			       * monitor enforces nothing); 0 on TC hooks */
#define PC_SLOT_FIRST      3u /* first slot a rule may get */

/* One counter slot (per CPU). */
struct pc_counter {
	__u64 packets;
	__u64 bytes;
};

/* An attachment's counter array ("cnt_<attach slot>", the inner maps of
 * "cnt"): a BPF_MAP_TYPE_PERCPU_ARRAY of slot_cap / PC_CNT_CHUNK entries of
 * struct pc_cnt_chunk; slot s is c[s % PC_CNT_CHUNK] of entry
 * s / PC_CNT_CHUNK.  A chunk instead of one entry per slot saves the
 * classifier a dependent cache miss per count (the per-slot pointer of a
 * per-CPU array).  slot_cap is a multiple of PC_CNT_CHUNK, a power of
 * two (a per-CPU value may be at most 32 KiB: a chunk is 16 KiB).  It
 * grows: a generation that needs more slots gets new, larger arrays and a
 * "cnt" of its own (daemon/datapath/README.md, "Counter capacity"). */
#define PC_CNT_CHUNK 1024u

struct pc_cnt_chunk {
	struct pc_counter c[PC_CNT_CHUNK];
};

/* What pc_cnt_add (bpf/cntops.bpf.c) adds to a counter slot. */
struct pc_cnt_delta {
	__u32 slot;
	__u32 _pad;
	__u64 packets;
	__u64 bytes;
};

/* Jump table slots: the attached entry programs tail-call into the current
 * generation's classifier through these (one prog array per program type). */
#define PC_JMP_TC_INGRESS 0
#define PC_JMP_TC_EGRESS  1
#define PC_JMP_TC_MAX     2
#define PC_JMP_SOCK       0
#define PC_JMP_SOCK_MAX   1

/* The TC entry programs put their hook (PC_HOOK_INGRESS or PC_HOOK_EGRESS)
 * in __sk_buff->cb[PC_CB_HOOK] before the tail call: both TC slots hold the
 * one classifier program pc_tc, which reads it (bit 0 only).  Whoever runs
 * pc_tc directly (BPF_PROG_TEST_RUN) passes the hook there in ctx_in. */
#define PC_CB_HOOK        0

/* ---- pinned state read by pktclassctl ----------------------------------- */
#define PC_NAME_MAX 64
#define PC_PATH_MAX 256
#define PC_META_MAGIC 0x7063636c61737331ull /* "pcclass1" */

enum pc_meta_flags {
	PC_META_RELOAD_FAILED = 0x1, /* the last reload was rejected */
};

/* "meta": array of one. */
struct pc_meta {
	__u64 magic;
	__u32 abi_version;
	__u32 generation;
	__u64 loaded_realtime_usec;  /* when this generation took effect */
	__u32 nrules;
	__u32 nclasses;
	__u32 slot_cap;              /* counter slots per attachment, a
				      * multiple of PC_CNT_CHUNK */
	__u32 flags;                 /* enum pc_meta_flags */
	__u32 pid;
	__u32 _pad;
	char config_path[PC_PATH_MAX];
	char status[128];            /* one line, as in sd_notify STATUS= */
};

enum pc_slot_kind {
	PC_SLOT_FREE = 0,
	PC_SLOT_RULE = 1,  /* counts the packets a rule decided */
	PC_SLOT_CLASS = 2, /* counts the packets of a class, whatever rule */
	PC_SLOT_RESERVED = 3, /* PC_SLOT_WOULD_DROP: neither a rule nor a class */
};

/* "slots": array of slot_cap; names every counter slot.  A packet adds to
 * two slots: its rule's and its class's.  Slot PC_SLOT_DEFAULT is the
 * rule "(default)", PC_SLOT_MALFORMED the rule "(malformed)". */
struct pc_slot_name {
	char name[PC_NAME_MAX];      /* rule or class name; "" when free */
	char class_name[PC_NAME_MAX];/* rule slots: the rule's class */
	__u32 rule_index;            /* rule slots: position in this generation */
	__u32 kind;                  /* enum pc_slot_kind */
};

/* "attach": array of PC_MAX_ATTACH; what is attached where. */
struct pc_attach_info {
	char ifname[16];
	__u32 ifindex;
	__u32 hook;                  /* enum pc_hook */
	__u32 prog_id;               /* id of the attached entry program */
	__u32 flags;                 /* PC_ATT_* */
};

#define PC_ATT_IN_USE    0x1u
#define PC_ATT_OWN_QDISC 0x2u /* we created the clsact qdisc on ifindex */
#define PC_ATT_MISSING   0x4u /* our filter or its clsact was removed by someone
			       * else; the daemon is putting it back */

/* Our cls_bpf filter: found and replaced by (parent, priority, handle). */
#define PC_TC_PRIO   0xc1a5u
#define PC_TC_HANDLE 0x1u
#define PC_TC_NAME   "pktclassd" 

/* Ring buffer record for rules with `log: true`. */
struct pc_log_rec {
	__u32 slot;
	__u32 ifindex;
	__u32 hook;
	__u32 len;
	struct pc_key key;
	__u32 _pad;
};

/* ---- packet log (additions) ----------------------------------------------
 * "log" (the classifier's map log_ring): BPF_MAP_TYPE_RINGBUF of
 * PC_LOG_RING_SIZE bytes, pinned, reused by every generation; each record
 * is a struct pc_log_rec (slot: the rule's counter slot; len: the frame
 * length as counted).
 * "log_limit": per-CPU array of one struct pc_log_limit, pinned: a token
 * bucket per CPU in front of the ring (rate: the classifier's .rodata
 * pc_log_cost_ns, one second of burst), and the records it or a full ring
 * suppressed.  The daemon applies the exact daemon-wide limit. */
#define PC_LOG_RING_SIZE (256 * 1024)
#define PC_NSEC_PER_SEC 1000000000ull

struct pc_log_limit {
	__u64 credit_ns;   /* bucket content, at most PC_NSEC_PER_SEC */
	__u64 last_ns;     /* bpf_ktime_get_ns() of the last refill */
	__u64 suppressed;  /* records not written: bucket empty or ring full */
};

/* .rodata pc_capture_slot of a classifier loaded for `pktclassctl
 * capture`: pc_sock accepts exactly the packets of this class slot. */
#define PC_CAPTURE_NONE 0xffffffffu

/* "trace": per-CPU array of one, written by a classifier loaded with
 * pc_trace_on (tests, `pktclassctl explain --live`): the last packet's
 * verdict.  rule == PC_TRACE_NO_RULE when the packet was not classified
 * (MALFORMED, or its interface is not in "ifaces"). */
#define PC_TRACE_NO_RULE 0xffffffffu
struct pc_trace {
	__u32 runs;                  /* packets seen on this CPU */
	__u32 rule;                  /* rule index, nrules = default */
	__u32 status;                /* enum pc_parse_status */
	__u32 attach;                /* attach slot counted into, or PC_ATTACH_NONE */
	__u32 l3_off;                /* offset of the L3 header in the data */
	__u32 flags;                 /* PC_TRACE_FC_*: what the flow cache did */
	struct pc_key key;
	__u32 _pad2;                 /* a multiple of 8: per-CPU values are */
};


/* ---- sets ------------------------------------------------------------------
 * Named sets of prefixes or ports (config "sets:", pktclassctl set ...).  A
 * generation's rules refer to (set, field) pairs, its "set references"; the
 * first PC_SET_REFS_EAGER of them are looked up before the tree walk and give
 * bit i of PC_W_SETS (the rules check it like the interface bits: PC_OP_ANY);
 * further references are PC_OP_SET checks, looked up when a box that holds
 * one is checked (daemon/datapath/README.md, "Sets").
 *
 * The contents live in a pool of segments: "set_segs" (pinned) is an array of
 * maps of up to PC_SET_SEGS_MAX segments, each an mmapable array of one
 * PC_SET_SEG_SIZE element (pinned as setseg_<n>).  A block is a power-of-two
 * number of PC_SET_UNIT-byte units inside one segment; a reference to it is
 * (segment << 16 | unit), 0 = none.  "set_head" (pinned, one mmapable
 * element) holds the reference of the live directory block per generation
 * parity; a change builds new blocks beside the old ones (copy on write) and
 * then switches that one 4-byte reference, so a packet, which reads it once,
 * sees the old contents of every set or the new, never a mix. */
#define PC_SET_REFS_EAGER 32
#define PC_SET_SEG_SHIFT  22
#define PC_SET_SEG_SIZE   (1u << PC_SET_SEG_SHIFT)  /* 4 MiB */
#define PC_SET_UNIT_SHIFT 6
#define PC_SET_UNIT       (1u << PC_SET_UNIT_SHIFT) /* 64 bytes */
#define PC_SET_UNIT_BITS  (PC_SET_SEG_SHIFT - PC_SET_UNIT_SHIFT) /* 16 */
#define PC_SET_UNIT_MASK  ((1u << PC_SET_UNIT_BITS) - 1)
#define PC_SET_SEGS_MAX   4096 /* 16 GiB */
#define PC_SET_HEAD_MAGIC 0x7063736574733031ull /* "pcsets01" */
#define PC_SET_POOL_VERSION 1

enum pc_set_type {
	PC_SET_PREFIX = 1, /* IPv4 and IPv6 prefixes */
	PC_SET_PORT = 2,   /* ports and port ranges */
};

enum pc_set_field {
	PC_SF_SRC = 0,   /* PC_W_SRC0..3, a prefix set */
	PC_SF_DST = 1,
	PC_SF_SPORT = 2, /* PC_W_SPORT, a port set */
	PC_SF_DPORT = 3,
};

/* A set reference, in the classifier's .rodata (pc_setref[]). */
struct pc_set_ref {
	__u16 set;    /* index in the generation's directory */
	__u8 field;   /* enum pc_set_field */
	__u8 _pad;
};

/* "set_head": the live directories. */
struct pc_set_head {
	__u64 magic;     /* PC_SET_HEAD_MAGIC */
	__u32 version;   /* PC_SET_POOL_VERSION */
	__u32 _pad;
	__u32 dir[2];    /* directory block of the generations of that parity */
};

/* A prefix set is a trie per address family: tables of 256 entries, each
 * resolving the next 8 address bits (the root the top 8), and leaves that
 * list the few prefixes of a small subtree.  An entry: */
#define PC_SE_EMPTY 0u  /* nothing of the set here */
#define PC_SE_FULL  1u  /* all of this part of the address space is in the set */
#define PC_SE_KIND(e) ((e) & 3u)
#define PC_SE_TABLE 2u  /* (ref << 2) | 2: a table of 256 entries, next 8 bits */
#define PC_SE_LEAF  3u  /* (ref << 2) | 3: a leaf */
#define PC_SE_REF(e) ((e) >> 2)
#define PC_SET_ROOT_BITS 8
#define PC_SET_ROOT_SIZE ((1u << PC_SET_ROOT_BITS) * 4u)
#define PC_SET_TABLE_SIZE (256u * 4u)
#define PC_SET_TABLES4 3   /* tables on an IPv4 path below the root: 8 + 3 * 8 */
#define PC_SET_TABLES6 15  /* IPv6: 8 + 15 * 8 */

/* A leaf: prefixes of the full length (address bits past len are 0). */
#define PC_SET_LEAF4_N 12
struct pc_set_leaf4 {
	__u8 n;
	__u8 _pad[3];
	__u8 len[PC_SET_LEAF4_N];
	__u32 v[PC_SET_LEAF4_N];
};
#define PC_SET_LEAF6_N 7
struct pc_set_leaf6 {
	__u8 n;
	__u8 _pad[3];
	__u8 len[12];
	__u32 v[PC_SET_LEAF6_N][4];
};

/* A port set is a bitmap of 65536 bits: bit p of word p / 32. */
#define PC_SET_BITMAP_SIZE 8192u

/* Per set: where its lookup structure is.  prefix: a = IPv4 root table,
 * b = IPv6 root table (0: no element of that family); port: a = bitmap. */
struct pc_set_root {
	__u32 a;
	__u32 b;
};

/* What user space keeps of a set beside its lookup structure: its elements,
 * sorted, in chunk blocks listed by an index block (pc_set_cat.index, an
 * array of nchunks references). */
#define PC_SET_NAME_MAX 64
#define PC_SET_F_DYNAMIC 0x1u
struct pc_set_cat {
	char name[PC_SET_NAME_MAX];
	__u32 type;      /* enum pc_set_type */
	__u32 flags;     /* PC_SET_F_* */
	__u32 nelems;
	__u32 index;     /* block of nchunks chunk references */
	__u32 nchunks;
	__u32 _pad[3];
};

/* A directory block: the header, nsets roots (all the BPF side reads),
 * then nsets catalog entries. */
#define PC_SET_DIR_MAGIC 0x72696473u /* "sdir" */
struct pc_set_dir {
	__u32 magic;
	__u32 nsets;
	__u64 version;   /* grows with every directory published */
	__u32 _pad[4];
	/* struct pc_set_root root[nsets]; struct pc_set_cat cat[nsets]; */
};

/* An element: a prefix (family 4 or 6, addr in network byte order, bits
 * past len 0) or a port range (family 0, port.lo <= port.hi). */
#define PC_SE_F_CONFIG  0x1u /* in the config (inline or in its file) */
#define PC_SE_F_RUNTIME 0x2u /* added at run time (set add / set load) */
struct pc_set_elem {
	__u8 family;
	__u8 len;
	__u8 flags;      /* PC_SE_F_* */
	__u8 _pad;
	union {
		__u8 addr[16];
		struct {
			__u16 lo, hi;
		} port;
	};
};

/* A chunk block of sorted elements (64 units). */
#define PC_SET_CHUNK_SIZE 4096u
#define PC_SET_CHUNK_N ((PC_SET_CHUNK_SIZE - 8) / 20)
struct pc_set_chunk {
	__u32 n;
	__u32 _pad;
	struct pc_set_elem e[PC_SET_CHUNK_N];
};
#define PC_TRACE_FC_HIT    0x1u /* the answer came from the flow cache */
#define PC_TRACE_FC_INSERT 0x2u /* the walk's answer went into the flow cache */

/* ---- layout checks ------------------------------------------------------- */
#define PC_ASSERT_SIZE(t, n) _Static_assert(sizeof(t) == (n), #t " size")
#define PC_ASSERT_OFF(t, f, n) \
	_Static_assert(__builtin_offsetof(t, f) == (n), #t "." #f " offset")

PC_ASSERT_SIZE(struct pc_key, 76);
PC_ASSERT_SIZE(struct pc_check, 12);
PC_ASSERT_OFF(struct pc_check, a, 4);
PC_ASSERT_SIZE(struct pc_box, 8 + 12 * PC_BOX_CHECKS);
PC_ASSERT_OFF(struct pc_box, c, 8);
PC_ASSERT_SIZE(struct pc_node, 16);
PC_ASSERT_SIZE(struct pc_leaf_ent, 64);
PC_ASSERT_OFF(struct pc_leaf_ent, word, 19);
PC_ASSERT_OFF(struct pc_leaf_ent, r, 24);
PC_ASSERT_SIZE(struct pc_leaf_ext, 64);
PC_ASSERT_OFF(struct pc_leaf_ext, word, 6);
PC_ASSERT_OFF(struct pc_leaf_ext, sets, 20);
PC_ASSERT_OFF(struct pc_leaf_ext, r, 24);
PC_ASSERT_OFF(struct pc_node, base, 4);
PC_ASSERT_SIZE(struct pc_gen_cfg, 24 + 10 * PC_MAX_TREES + 128 * PC_MAX_TREES);
PC_ASSERT_OFF(struct pc_gen_cfg, root, 24);
PC_ASSERT_SIZE(struct pc_rule_out, 24);
PC_ASSERT_OFF(struct pc_rule_out, mark, 12);
PC_ASSERT_SIZE(struct pc_iface, 16);
PC_ASSERT_SIZE(struct pc_counter, 16);
PC_ASSERT_SIZE(struct pc_cnt_chunk, 16 * 1024);
PC_ASSERT_SIZE(struct pc_cnt_delta, 24);
_Static_assert((PC_CNT_CHUNK & (PC_CNT_CHUNK - 1)) == 0, "PC_CNT_CHUNK power of two");
PC_ASSERT_SIZE(struct pc_meta, 48 + PC_PATH_MAX + 128);
PC_ASSERT_OFF(struct pc_meta, config_path, 48);
PC_ASSERT_SIZE(struct pc_slot_name, 2 * PC_NAME_MAX + 8);
PC_ASSERT_SIZE(struct pc_attach_info, 32);
PC_ASSERT_SIZE(struct pc_log_rec, 16 + 76 + 4);
PC_ASSERT_SIZE(struct pc_trace, 24 + 76 + 4);
PC_ASSERT_SIZE(struct pc_log_limit, 24);
PC_ASSERT_SIZE(struct pc_set_ref, 4);
PC_ASSERT_SIZE(struct pc_set_head, 24);
PC_ASSERT_SIZE(struct pc_set_leaf4, PC_SET_UNIT);
PC_ASSERT_SIZE(struct pc_set_leaf6, 2 * PC_SET_UNIT);
PC_ASSERT_SIZE(struct pc_set_root, 8);
PC_ASSERT_SIZE(struct pc_set_cat, 96);
PC_ASSERT_SIZE(struct pc_set_dir, 32);
PC_ASSERT_SIZE(struct pc_set_elem, 20);
_Static_assert(sizeof(struct pc_set_chunk) <= PC_SET_CHUNK_SIZE, "set chunk");
_Static_assert(PC_SET_REFS_EAGER <= 32, "one PC_W_SETS word");
_Static_assert(PC_KEY_WORDS == 19, "key words");
PC_ASSERT_SIZE(struct pc_fc_ent, 64);
PC_ASSERT_SIZE(struct pc_fc_count, 32);
PC_ASSERT_OFF(struct pc_fc_ent, tag, 52);
PC_ASSERT_OFF(struct pc_fc_ent, out, 56);
PC_ASSERT_SIZE(struct pc_fc_cfg, 16 + 4 * PC_KEY_WORDS + 4 * (PC_FC_KEY_WORDS + 1) + 4);
_Static_assert(sizeof(struct pc_fc_cfg) % 8 == 0, "pc_fc_cfg: a multiple of 8");

#endif /* PKTCLASS_H */
