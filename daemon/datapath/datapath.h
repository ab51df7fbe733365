/* SPDX-License-Identifier: GPL-2.0-only */
/* datapath.h - the BPF side as the daemon sees it (libbpf).
 *
 * Persistent objects, pinned under pin_path and adopted by a restarted
 * daemon: the entry programs (what is attached, tail-calling through the
 * jump tables), the jump tables "jmp_tc" and "jmp_sock", the counter set
 * (the array of maps "cnt" with a per-CPU array of slot_cap counters per
 * attach slot, each also pinned as cnt_<slot>, and the slot names
 * "slots"), the state maps "meta" and "attach" (pktclass.h), and the
 * packet log.  One process at a time: pc_dp_open() locks the pin
 * directory.
 *
 * Per generation: the classifier programs and their tables (nodes, leaf,
 * boxes, outs, ifaces), built beside the live ones and switched in by
 * updating the jump tables.  The generation keeps its own outcome table:
 * the rule set's outcomes with the counter slots the datapath assigned
 * and the redirect ifindexes it was given; nothing is written back into
 * the rule set.  Nothing pinned changes before pc_dp_gen_commit(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pktclass.h"
#include "classifier/compile.h"
#include "classifier/tree.h"

struct pc_dp;
struct pc_gen;

struct pc_dp_opts {
	const char *pin_path;
	uint32_t slot_cap;  /* counter slots per attachment at least, for a
			     * new state (0: one chunk); rounded up to a
			     * multiple of PC_CNT_CHUNK.  The capacity grows
			     * with the generations that need more. */
};

/* Mount bpffs under pin_path's parent if needed, lock the pin directory,
 * then create the persistent objects or adopt the pinned ones (same magic
 * and ABI version).  Adopting writes nothing: the found state changes at
 * the first commit.  -EBUSY: another process holds the pin directory (it
 * is left alone). */
int pc_dp_open(const struct pc_dp_opts *o, struct pc_dp **ret);
/* keep: leave everything pinned (and attached programs running). */
void pc_dp_close(struct pc_dp *dp, bool keep);
/* Unpin every object of ours under pin_path (for a clean stop). */
int pc_dp_unpin(struct pc_dp *dp);
/* Whether pc_dp_open() adopted a pinned state (and nothing committed yet
 * changed it: see pc_dp_touched()). */
bool pc_dp_adopted(const struct pc_dp *dp);
/* Whether a commit changed the pinned state since pc_dp_open(). */
bool pc_dp_touched(const struct pc_dp *dp);

/* Counter slots per attachment of the live counter set. */
uint32_t pc_dp_slot_cap(const struct pc_dp *dp);
/* true once reused counter slots of the live set have been zeroed by the
 * pc_cnt_zero BPF program (per CPU, race-free), false before that or when
 * it would not load (then a chunk is rewritten from user space). */
bool pc_dp_cntzero_bpf(const struct pc_dp *dp);
/* 0, or the -errno with which pc_cnt_zero would not load (reused slots are
 * then zeroed from user space); *rewrites: how many chunks have been
 * written back whole from user space so far (each may have lost what was
 * counted into it during the rewrite). */
int pc_dp_cntzero_state(const struct pc_dp *dp, uint64_t *rewrites);
/* fd of the entry program for hook (PC_HOOK_*), to attach. */
int pc_dp_entry_fd(const struct pc_dp *dp, int hook);
uint32_t pc_dp_entry_id(const struct pc_dp *dp, int hook);

/* Generations prepared after this call also name a counter slot for each
 * of these classes (a config's `classes:`), so that they are listed and
 * keep their counts while no rule uses them. */
int pc_dp_set_classes(struct pc_dp *dp, const char *const *names, size_t n);

/* Load a generation's classifier programs and fill its tables; nothing
 * live or pinned changes.  Counter slots are assigned by rule and class
 * name (the same name keeps its slot across generations and restarts);
 * when the live capacity is too small the generation gets a larger
 * counter set.  Redirect targets are resolved by name (if_nametoindex):
 * one not found passes until pc_dp_gen_set_redirect().  On a verifier
 * failure the log tail is in pc_dp_verifier_log(). */
int pc_dp_gen_prepare(struct pc_dp *dp, const struct pc_ruleset *rs, const struct pc_tree *t,
		      uint32_t generation, struct pc_gen **ret);
/* The generation's outcome table: nrules + 1 entries, the default last,
 * with counter slots and redirect ifindexes. */
const struct pc_rule_out *pc_dp_gen_outs(const struct pc_gen *g);
/* Slots per attachment of the generation's counter set. */
uint32_t pc_dp_gen_slot_cap(const struct pc_gen *g);

/* Redirect targets of a generation, one per interface name. */
struct pc_redirect_target {
	const char *ifname;
	uint32_t ifindex;   /* 0: unresolved, its rules pass */
	uint32_t nrules;    /* rules redirecting there */
};
size_t pc_dp_gen_redirect_count(const struct pc_gen *g);
int pc_dp_gen_redirect_get(const struct pc_gen *g, size_t i, struct pc_redirect_target *ret);
/* Point the rules of target i at ifindex (0: they pass); takes effect at
 * once when g is live. */
int pc_dp_gen_set_redirect(struct pc_gen *g, size_t i, uint32_t ifindex);
/* Look target i up by name again (as the prepare did): 1 when its ifindex
 * changed, 0 when not. */
int pc_dp_gen_resolve_redirect(struct pc_gen *g, size_t i);

/* Per-generation interface table: what packets on ifindex get.  The
 * attach slots named get their counter arrays in the generation's set;
 * on the live generation they are published at once, else at its
 * commit. */
int pc_dp_gen_set_iface(struct pc_gen *g, uint32_t ifindex, const struct pc_iface *v);
int pc_dp_gen_del_iface(struct pc_gen *g, uint32_t ifindex);
/* Switch: the jump tables now point at g's programs; the previous
 * generation is released.  Publishes g's slot names and attach slots
 * first; with a new counter set, carries the old set's counts into it
 * after the switch and pins it.  Frees the slots of names no longer used
 * and rewrites "meta". */
int pc_dp_gen_commit(struct pc_dp *dp, struct pc_gen *g, const char *config_path);
/* Free a generation; one that never went live gives back the slot names
 * it took. */
void pc_dp_gen_free(struct pc_gen *g);
struct pc_gen *pc_dp_current(const struct pc_dp *dp);
/* fd of a generation's classifier for hook, for BPF_PROG_TEST_RUN. */
int pc_dp_gen_prog_fd(const struct pc_gen *g, int hook);

/* Attachment slots: a per-CPU counter array each (in the counter set), and
 * a record in "attach".  Reserving writes nothing: the record and the
 * counters are published when a generation's interface entry names the
 * slot (pc_dp_gen_set_iface() on the live generation, or the commit).
 * Returns the slot (the same for the same (ifindex, hook) as long as it is
 * held), or -ENOSPC. */
int pc_dp_attach_slot_get(struct pc_dp *dp, const char *ifname, uint32_t ifindex, int hook,
			  uint32_t prog_id, uint32_t flags);
int pc_dp_attach_slot_put(struct pc_dp *dp, uint32_t slot);
/* Change a slot's program id and PC_ATT_* flags (written at once when
 * published). */
int pc_dp_attach_slot_set(struct pc_dp *dp, uint32_t slot, uint32_t prog_id, uint32_t flags);
/* Look up the attach record of (ifindex, hook) in use (left by an earlier
 * run, or reserved): slot or -ENOENT. */
int pc_dp_attach_slot_find(struct pc_dp *dp, uint32_t ifindex, int hook, struct pc_attach_info *ret);

/* Record a status line and flags in "meta" (e.g. a failed reload). */
int pc_dp_set_status(struct pc_dp *dp, uint32_t flags, const char *status);

/* Counters by name, kept over a stop and start of the daemon: a text file
 * of every published attachment's non-zero counts by (interface, hook) and
 * (kind, name).  Restore seeds g's fresh counter arrays before g's commit
 * (a new state only: -EBUSY after an adoption); *n: the counts restored. */
int pc_dp_snapshot_save(struct pc_dp *dp, const char *path);
int pc_dp_snapshot_restore(struct pc_dp *dp, struct pc_gen *g, const char *path, size_t *n);

/* ---- the flow cache (pktclass.h; daemon/datapath/README.md "Flow cache") -- */
/* Generations prepared after this call get a flow cache of up to `entries`
 * per CPU (rounded down to a power of two, fewer when the table would pass
 * PC_FC_MAX_BYTES); 0: none.  The default is PC_FC_ENTRIES. */
void pc_dp_set_flow_cache(struct pc_dp *dp, uint32_t entries);

/* What a generation's flow cache did, summed over the CPUs; its size. */
struct pc_fc_stats {
	uint64_t hits, misses, inserts;
	uint64_t bypassed;  /* walked without a lookup: flood mode (pktclass.h) */
	uint32_t entries_per_cpu, ncpu;
};
int pc_dp_gen_fc_stats(const struct pc_gen *g, struct pc_fc_stats *st);
/* Hits over every packet that came to the cache (hits, misses, bypassed), %. */
double pc_fc_hit_pct(const struct pc_fc_stats *st);
/* The same of the live generation under pin_path (since its load: every
 * generation has its own cache), read from its maps; -ENODATA: nothing
 * live, -EPROTO: the live programs are of another build. */
int pc_dp_live_fc_stats(const char *pin_path, struct pc_fc_stats *st);

/* ---- tests and explain ------------------------------------------------------ */
/* Generations prepared after this call are loaded with pc_trace_on = on:
 * their classifier records each packet's verdict in the "trace" map (tests,
 * `pktclassctl explain --live`). */
void pc_dp_set_trace(struct pc_dp *dp, bool on);
/* fd of a generation's per-CPU "trace" map (struct pc_trace, one entry). */
int pc_dp_gen_trace_fd(const struct pc_gen *g);
/* Tail (last ~4 KiB, whole lines) of the verifier log of the last failed
 * pc_dp_gen_prepare(), or "".  libbpf does not print it: log it. */
const char *pc_dp_verifier_log(const struct pc_dp *dp);
/* fd of the per-CPU counter array of an attach slot in the live counter
 * set, or -ENOENT. */
int pc_dp_attach_counters_fd(const struct pc_dp *dp, uint32_t slot);

/* Generations prepared after this call load the socket classifier (for
 * monitor hooks) only when on (the default); without it "jmp_sock" is left
 * empty by their commit (the entry program then passes nothing to the
 * socket) and pc_dp_gen_prog_fd(g, PC_HOOK_MONITOR) is -ENOENT. */
void pc_dp_set_monitor(struct pc_dp *dp, bool on);

/* ---- live copies: explain --live and capture (livecopy.c) -------------------- */
/* A private copy of the generation that the pinned jump tables point at:
 * this build's classifier programs, loaded with the live .rodata and
 * reusing the live tables (nodes, leaf, leafx, boxes, outs, ifaces, the
 * sets), but with private counters, trace and packet log, so a packet run
 * through it gets the live decision and counts nothing live.  Needs no
 * daemon state besides the pins.  Both kinds fail alike: -ENOENT: nothing
 * pinned under pin_path; -ENODATA: no generation in the jump tables;
 * -EPROTO: the pins or programs are not ours (other ABI). */
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

/* A traced copy of every hook of the live generation (explain --live). */
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

/* A copy of the live generation's socket classifier (pc_dp_gen_prog_fd(g,
 * PC_HOOK_MONITOR)) that accepts the packets of counter slot capture_slot
 * (a class slot) and nothing else, for pktclassctl capture's sockets.
 * Free with pc_dp_gen_free(). */
int pc_dp_live_capture(const char *pin_path, uint32_t capture_slot, struct pc_gen **ret);

/* ---- packet log (logring.c) --------------------------------------------------- */
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

/* ---- sets (sets.c; pktclass.h, "sets") ------------------------------------ */
/* The sets live in a pool pinned under pin_path (set_head, set_segs,
 * setseg_<n>), adopted by pc_dp_open().  A clean stop (pc_dp_unpin) leaves
 * the pool pinned while a dynamic set holds elements added at run time, so
 * that a restart finds them. */
enum pc_set_op {
	PC_SET_OP_ADD,
	PC_SET_OP_DEL,
	PC_SET_OP_LOAD,   /* replace every element */
	PC_SET_OP_FLUSH,
};

struct pc_set_result {
	size_t added, removed;  /* elements that were not there / are not any more */
	size_t elements;        /* in the set now */
};

struct pc_set_info {
	char name[PC_SET_NAME_MAX];
	uint32_t type;          /* PC_SET_PREFIX / PC_SET_PORT */
	uint32_t flags;         /* PC_SET_F_DYNAMIC */
	size_t elements;
	uint64_t bytes;         /* kernel memory of its lookup structure and elements
				 * (pc_dp_sets_list only: it walks the structure) */
};

/* What a reload did to the contents of a set. */
struct pc_set_change {
	char name[PC_SET_NAME_MAX];
	size_t added, removed, elements;
	size_t lost;            /* run-time elements dropped: the set is no longer
				 * dynamic, or changed its type */
	bool gone;              /* the set is not in the new config */
};

struct pc_set_changes {
	struct pc_set_change *v;
	size_t n;
};
void pc_set_changes_clear(struct pc_set_changes *ch);

/* Before pc_dp_gen_prepare() of generation: the sets of cfg get their
 * contents (the config's elements, and the run-time ones of dynamic sets)
 * in the directory that generation reads; sets whose contents differ from
 * the live ones are listed in ch (may be NULL).  Nothing live changes;
 * pc_dp_gen_commit() makes them live, pc_dp_sets_abort() drops them. */
int pc_dp_sets_stage(struct pc_dp *dp, const struct pc_config *cfg, uint32_t generation,
		     struct pc_set_changes *ch);
void pc_dp_sets_abort(struct pc_dp *dp);
/* A run-time change of the live set name, all of it or nothing: -ENOENT (no
 * such set), -EPERM (not dynamic), -EINVAL (an element of the other type).
 * A packet sees the set before the change or after it. */
int pc_dp_set_change(struct pc_dp *dp, const char *name, enum pc_set_op op,
		     const struct pc_set_elem *e, size_t n, struct pc_set_result *res);
/* The live sets (free *ret), and one of them with its elements (valid
 * until the next change). */
int pc_dp_sets_list(const struct pc_dp *dp, struct pc_set_info **ret, size_t *n);
/* The element counts of the live sets by family, for the metrics (free
 * *ret; datapath/metrics.h): no walk of their structures, a few binary
 * searches a set. */
struct pc_set_count;
int pc_dp_set_counts(const struct pc_dp *dp, struct pc_set_count **ret, size_t *n);
int pc_dp_set_get(const struct pc_dp *dp, const char *name, struct pc_set_info *info,
		  struct pc_set_view *view);
/* Blocks given back by changes are reused after a grace period: wait for
 * one now, or start one in the background (-ENODATA: nothing waits for
 * one; -EALREADY: one runs) and, when pc_dp_sets_grace_fd() is readable,
 * finish it with pc_dp_sets_grace_done(). */
int pc_dp_sets_sync(struct pc_dp *dp);
int pc_dp_sets_grace_start(struct pc_dp *dp);
int pc_dp_sets_grace_fd(const struct pc_dp *dp);
int pc_dp_sets_grace_done(struct pc_dp *dp);
/* true when the pinned pool of an earlier run did not add up and was taken
 * as empty (its run-time elements are lost). */
bool pc_dp_sets_adopt_failed(const struct pc_dp *dp);
/* Membership as the live classifier computes it (for tests): set index set
 * of the live directory, field, key. */
int pc_dp_set_member(const struct pc_dp *dp, uint32_t set, uint32_t field, const struct pc_key *k);
