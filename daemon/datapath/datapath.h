/* SPDX-License-Identifier: GPL-2.0-only */
/* datapath.h - the BPF side as the daemon sees it (libbpf).
 *
 * Persistent objects, pinned under pin_path and adopted by a restarted
 * daemon: the entry programs (what is attached, tail-calling through the
 * jump tables), the jump tables "jmp_tc" and "jmp_sock", the counter
 * array-of-maps "cnt" (per attach slot one per-CPU array of slot_cap
 * counters in chunks of PC_CNT_CHUNK), and the state maps "meta", "slots"
 * and "attach" (pktclass.h).
 *
 * Per generation: the classifier programs and their tables (nodes, leaf,
 * boxes, outs, ifaces), built beside the live ones and switched in by
 * updating the jump tables. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pktclass.h"
#include "classifier/compile.h"

struct pc_dp;
struct pc_gen;

struct pc_dp_opts {
	const char *pin_path;
	uint32_t slot_cap;  /* counter slots per attachment when creating,
			     * rounded up to a multiple of PC_CNT_CHUNK */
};

/* Mount bpffs under pin_path's parent if needed, then create the
 * persistent objects or adopt the pinned ones (same magic and ABI version). */
int pc_dp_open(const struct pc_dp_opts *o, struct pc_dp **ret);
/* keep: leave everything pinned (and attached programs running). */
void pc_dp_close(struct pc_dp *dp, bool keep);
/* Unpin every object of ours under pin_path (for a clean stop). */
int pc_dp_unpin(struct pc_dp *dp);

uint32_t pc_dp_slot_cap(const struct pc_dp *dp);
/* true once reused counter slots have been zeroed by the pc_cnt_zero BPF
 * program (per CPU, race-free), false before that or when it would not
 * load (then a chunk is rewritten from user space: cntzero.c). */
bool pc_dp_cntzero_bpf(const struct pc_dp *dp);
/* 0, or the -errno with which pc_cnt_zero would not load; *rewrites: how
 * many chunks have been written back whole from user space so far (each
 * may have lost what was counted into it during the rewrite). */
int pc_dp_cntzero_state(const struct pc_dp *dp, uint64_t *rewrites);
/* fd of the entry program for hook (PC_HOOK_*), to attach. */
int pc_dp_entry_fd(const struct pc_dp *dp, int hook);
uint32_t pc_dp_entry_id(const struct pc_dp *dp, int hook);

/* Assign counter slots to rs->outs (rule and class slots), stable by name
 * across generations and restarts (through the pinned "slots" map).
 * -ENOSPC when slot_cap is too small. */
int pc_dp_assign_slots(struct pc_dp *dp, struct pc_ruleset *rs);
/* A generation whose slots were assigned did not go live: give back the
 * slots of names that the live ruleset does not have, so that a rejected
 * config leaves no names in the pinned slot table.  live NULL (nothing
 * committed yet): a no-op. */
int pc_dp_slots_rollback(struct pc_dp *dp, const struct pc_ruleset *live);

/* Load a generation's classifier programs and fill its tables; nothing
 * live changes.  On failure the verifier log tail has gone to the log. */
int pc_dp_gen_prepare(struct pc_dp *dp, const struct pc_ruleset *rs, const struct pc_tree *t,
		      uint32_t generation, struct pc_gen **ret);
/* Per-generation interface table: what packets on ifindex get. */
int pc_dp_gen_set_iface(struct pc_gen *g, uint32_t ifindex, const struct pc_iface *v);
int pc_dp_gen_del_iface(struct pc_gen *g, uint32_t ifindex);
/* Switch: the jump tables now point at g's programs; the previous
 * generation is released.  Also frees slots of rules no longer present
 * and rewrites "meta". */
int pc_dp_gen_commit(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs,
		     const char *config_path);
void pc_dp_gen_free(struct pc_gen *g);
struct pc_gen *pc_dp_current(const struct pc_dp *dp);
/* fd of a generation's classifier for hook, for BPF_PROG_TEST_RUN. */
int pc_dp_gen_prog_fd(const struct pc_gen *g, int hook);

/* Attachment slots: a per-CPU counter array each, kept in "cnt" and the
 * "attach" map.  Returns the slot, or -ENOSPC. */
int pc_dp_attach_slot_get(struct pc_dp *dp, const char *ifname, uint32_t ifindex, int hook,
			  uint32_t prog_id, uint32_t flags);
int pc_dp_attach_slot_put(struct pc_dp *dp, uint32_t slot);
/* Look up the pinned attach record of (ifindex, hook) left by an earlier
 * run: slot or -ENOENT. */
int pc_dp_attach_slot_find(struct pc_dp *dp, uint32_t ifindex, int hook, struct pc_attach_info *ret);

/* Record a status line and flags in "meta" (e.g. a failed reload). */
int pc_dp_set_status(struct pc_dp *dp, uint32_t flags, const char *status);

/* ---- additions (bpf helper) ---------------------------------------------- */
/* Generations prepared after this call are loaded with pc_trace_on = on:
 * their classifier records each packet's verdict in the "trace" map (tests,
 * `pktclassctl explain --live`). */
void pc_dp_set_trace(struct pc_dp *dp, bool on);
/* fd of a generation's per-CPU "trace" map (struct pc_trace, one entry). */
int pc_dp_gen_trace_fd(const struct pc_gen *g);
/* Tail (last ~4 KiB, whole lines) of the verifier log of the last failed
 * pc_dp_gen_prepare(), or "".  libbpf does not print it: log it. */
const char *pc_dp_verifier_log(const struct pc_dp *dp);
/* fd of the per-CPU counter array of an attach slot, or -ENOENT. */
int pc_dp_attach_counters_fd(const struct pc_dp *dp, uint32_t slot);

/* ---- additions (load) ------------------------------------------------------ */
/* Generations prepared after this call load the socket classifier (for
 * monitor hooks) only when on (the default); without it "jmp_sock" is left
 * empty by their commit (the entry program then passes nothing to the
 * socket) and pc_dp_gen_prog_fd(g, PC_HOOK_MONITOR) is -ENOENT.  Both TC
 * hooks share one program (PC_CB_HOOK), unless the pinned entry programs
 * came from an older build that does not set it. */
void pc_dp_set_monitor(struct pc_dp *dp, bool on);

/* ---- additions (explain --live) ------------------------------------------ */
/* A private, traced copy of the generation that the pinned jump tables point
 * at: this build's classifier programs, loaded with the live .rodata and
 * reusing the live tables (nodes, leaf, boxes, outs, ifaces), but with
 * private counters and trace, so a packet run through it (BPF_PROG_TEST_RUN)
 * gets the live decision and counts nothing live.  Needs no daemon state
 * besides the pins (explain.c). */
struct pc_live;

struct pc_live_info {
	struct pc_meta meta;            /* the pinned "meta" */
	struct pc_gen_cfg cfg;          /* the live classifier's .rodata */
	uint32_t prog_id[PC_HOOK_MAX];  /* live classifier per hook, 0: slot empty */
	bool same_code;                 /* the live programs' tags are this build's */
};

#define PC_LIVE_DATA_MAX 4096

struct pc_live_run {
	uint32_t retval;                /* the program's return value */
	uint32_t mark, priority;        /* skb fields afterwards (0 before) */
	struct pc_trace trace;          /* the verdict (pktclass.h) */
	uint8_t data[PC_LIVE_DATA_MAX]; /* the frame afterwards */
	uint32_t data_len;
};

/* -ENOENT: nothing pinned under pin_path; -ENODATA: no generation in the
 * jump tables; -EPROTO: the pins or programs are not ours (other ABI). */
int pc_dp_live_open(const char *pin_path, struct pc_live **ret);
void pc_dp_live_close(struct pc_live *l);
const struct pc_live_info *pc_dp_live_info(const struct pc_live *l);
/* fd of the copy's program for hook (PC_HOOK_*). */
int pc_dp_live_prog_fd(const struct pc_live *l, int hook);
/* Run an Ethernet frame through the copy's program for hook as if it came
 * on ifindex (an interface of the caller's network namespace). */
int pc_dp_live_run(struct pc_live *l, int hook, uint32_t ifindex, const void *frame, uint32_t len,
		   struct pc_live_run *ret);
/* The live outcome of a rule index (nrules: the default), with the names
 * of its rule and class counter slots. */
int pc_dp_live_rule(const struct pc_live *l, uint32_t rule, struct pc_rule_out *out,
		    struct pc_slot_name *name, struct pc_slot_name *class_name);

/* ---- additions (observe helper): packet log, capture --------------------- */
/* Generations prepared after this call let at most rate packet-log records
 * per second and CPU into the ring (0: the packet log is off). */
void pc_dp_set_log_rate(struct pc_dp *dp, uint32_t rate);
/* fd of the pinned packet-log ring buffer (struct pc_log_rec records). */
int pc_dp_log_fd(const struct pc_dp *dp);
/* Records the kernel suppressed so far (per-CPU buckets empty, ring full),
 * summed over the CPUs. */
int pc_dp_log_suppressed(const struct pc_dp *dp, uint64_t *ret);
/* What counter slot is (rule or class name), or NULL when it is free. */
const struct pc_slot_name *pc_dp_slot_name(const struct pc_dp *dp, uint32_t slot);

/* A private copy of the live generation's classifier (found through the
 * pinned "jmp_sock" under pin_path), sharing its rule tables but none of
 * its counters or its packet log: its socket program (pc_dp_gen_prog_fd(g,
 * PC_HOOK_MONITOR)) accepts the packets of counter slot capture_slot (a
 * class slot) and nothing else, and reads them from the MAC header on
 * (AF_PACKET SOCK_RAW).  -ENOENT: no daemon state there; -ESTALE: the live
 * classifier is not of this build.  Free with pc_dp_gen_free(). */
int pc_dp_live_capture(const char *pin_path, uint32_t capture_slot, struct pc_gen **ret);
