/* SPDX-License-Identifier: GPL-2.0-only */
/* internal.h - state shared by the datapath's modules: datapath.c (pins,
 * generations), cset.c (counter sets), cntops.c (BPF zero and add),
 * slots.c (counter slot names), attslots.c (attach slots), logring.c and
 * snapshot.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "datapath/datapath.h"
#include "lib/util.h"

#define PC_DP_LOG_SIZE (64 * 1024)
#define PC_DP_LOG_TAIL 4096 /* what pc_dp_verifier_log() returns at most */

struct pc_classifier;
struct pc_cntops;
struct pc_sets;

/* A counter set: the counters' array of maps "cnt", a per-CPU counter
 * array of slot_cap slots per attach slot in it, and the name table
 * "slots" of slot_cap entries.  The live generation's set is the pinned
 * one; a generation that needs more slots gets a new, larger set, which its
 * commit switches in, carries the old set's counts into and pins (cset.c,
 * daemon/datapath/README.md "Counter capacity"). */
struct pc_cset {
	unsigned refs;
	uint32_t slot_cap;
	int outer_fd;         /* "cnt" */
	int slots_fd;         /* "slots", slot_cap entries */
	int *arr;             /* [narr] counter array per attach slot, or -1 */
	bool *in_outer;       /* [narr] arr[a] is what outer holds at a */
	uint32_t narr;
	bool pinned;          /* the pins under pin_path are this set's */
	struct pc_cntops *ops; /* cntops.c, loaded on first use */
	int ops_err;          /* it would not load (-errno) */
};

/* A redirect target of a generation: every rule redirecting to ifname. */
struct pc_gen_target {
	char ifname[16];
	uint32_t ifindex;     /* 0: not resolved, the rules pass */
	uint32_t *rules;      /* rule indices */
	uint32_t nrules;
};

struct pc_gen {
	struct pc_classifier *skel;
	struct pc_dp *dp;
	uint32_t generation;
	bool live;                /* committed */
	struct pc_cset *cs;       /* the counter set it counts into */
	uint32_t nrules;
	struct pc_rule_out *outs; /* nrules + 1: the rule set's outcomes with the
				   * datapath's slots and redirect ifindexes */
	uint32_t *classes;        /* slots of the declared classes */
	uint32_t nclasses;
	uint32_t *fresh;          /* slots first named for this generation */
	uint32_t nfresh;
	uint32_t max_slot;        /* the highest slot it uses */
	struct pc_gen_target *tgt;
	size_t ntgt;
	uint32_t *att;            /* attach slots its "ifaces" entries name */
	size_t natt, att_alloc;
};

struct pc_dp {
	char pin_path[PC_PATH_MAX];
	uint32_t min_slot_cap;                /* for a new state (pc_dp_opts) */
	int ncpus;
	bool trace;
	uint32_t fc_entries;                  /* pc_dp_set_flow_cache() */
	bool no_sock;                         /* pc_dp_set_monitor(dp, false) */
	bool adopted;                         /* the state was found pinned */
	int lock_fd;                          /* the pin directory, flock()ed */

	int entry_fd[PC_HOOK_MAX];
	uint32_t entry_id[PC_HOOK_MAX];
	int jmp_tc_fd, jmp_sock_fd, meta_fd, attach_fd;
	int log_fd, log_limit_fd;             /* packet log (logring.c) */
	int sync_fd, sync_inner_fd;           /* an array of maps to wait on (cset.c) */
	uint32_t log_rate;
	uint64_t cnt_rewrites;                /* chunks written back from user space */

	struct pc_meta meta;                  /* mirror of "meta" */
	struct pc_cset *cs;                   /* the live (pinned) counter set */

	/* counter slot names (slots.c): the pinned table's mirror, with the
	 * names that prepared generations took; mirror_cap >= every set's
	 * slot_cap */
	struct pc_slot_name *slots;
	bool *slot_dirty;                     /* free slot that may hold counts */
	bool *rec_dirty;                      /* record differs from the pinned one */
	uint32_t mirror_cap;
	char (*decl)[PC_NAME_MAX];            /* pc_dp_set_classes() */
	size_t ndecl;

	/* attach slots (attslots.c): mirror of "attach" */
	struct pc_attach_info *att;           /* [natt] */
	bool *att_pub;                        /* [natt] record and counters pinned */
	uint32_t natt;
	struct pc_sets *sets;                 /* sets.c */

	struct pc_gen *cur;
	struct pc_gen **pending;              /* prepared, not committed */
	size_t npending;
	char log[PC_DP_LOG_SIZE];
};

/* datapath.c */
int pc_dp_jump_to(struct pc_dp *dp, const struct pc_gen *g);

/* livecopy.c: the map called name (".rodata": whose name ends so) of the
 * live classifier under pin_path, in *fd; -ENODATA: no live classifier. */
int pc_dp_live_map(const char *pin_path, const char *name, int *fd);

/* fcache.c: g's flow cache in its (opened, not loaded) skeleton: .rodata
 * (size, key masks from rs, a random hash key) and the table's size. */
int pc_dp_gen_fc_setup(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs);

/* commit.c */
/* g is prepared, not committed: its slot names count as used. */
int pc_dp_gen_pending(struct pc_dp *dp, struct pc_gen *g);
/* g's interface entries name attach slot a. */
int pc_dp_gen_att_add(struct pc_gen *g, uint32_t a);
/* g's redirect targets from the rule set, resolved by name. */
int pc_dp_gen_targets(struct pc_gen *g, const struct pc_ruleset *rs);

/* state.c */
/* pin_path/name into buf; -ENAMETOOLONG when it does not fit. */
int pc_dp_pin_file(const struct pc_dp *dp, const char *name, char *buf, size_t len);
int pc_dp_obj_pin(const struct pc_dp *dp, int fd, const char *name);
/* The object pinned as name: fd or -errno. */
int pc_dp_obj_get(const struct pc_dp *dp, const char *name);
/* Pin fd as tmp_<name>, then rename it over <name>: a reader opening the
 * pin sees the old object or the new one. */
int pc_dp_pin_replace(const struct pc_dp *dp, int fd, const char *name);
int pc_dp_map_info(int fd, struct bpf_map_info *info);
int pc_dp_meta_write(struct pc_dp *dp);

/* cset.c */
int pc_cset_new(struct pc_dp *dp, uint32_t slot_cap, struct pc_cset **ret);
/* The pinned set of an adopted state (slot_cap from "meta"). */
int pc_cset_adopt(struct pc_dp *dp, struct pc_cset **ret);
/* Pin every object of a set that is not pinned yet, as the live one. */
int pc_cset_pin(struct pc_dp *dp, struct pc_cset *cs, bool replace);
struct pc_cset *pc_cset_ref(struct pc_cset *cs);
void pc_cset_unref(struct pc_cset *cs);
/* Room for attach slot a in the per-slot arrays. */
int pc_cset_reserve(struct pc_cset *cs, uint32_t a);
/* The counter array of attach slot a, created (empty) when missing. */
int pc_cset_array(struct pc_dp *dp, struct pc_cset *cs, uint32_t a);
/* Put the arrays of attach slots a[0..n) into the set's "cnt" (one
 * BPF_MAP_UPDATE_BATCH: one RCU grace period). */
int pc_cset_fill(struct pc_cset *cs, const uint32_t *a, size_t n);
/* Forget attach slot a's array (its "cnt" entry stays until reused). */
void pc_cset_drop(struct pc_cset *cs, uint32_t a);
/* Wait until no BPF program that started before runs any more (an array
 * of maps update: an RCU grace period); _prepare makes what it needs. */
int pc_dp_sync_prepare(struct pc_dp *dp);
int pc_dp_sync(struct pc_dp *dp);
/* Add what attach slot a counted in from's slots s[0..n) to to's. */
int pc_cset_carry(struct pc_dp *dp, struct pc_cset *from, struct pc_cset *to, uint32_t a,
		  const uint32_t *s, uint32_t n);
int pc_cnt_pin_name(uint32_t a, char *buf, size_t len);
int pc_dp_cnt_unpin(const struct pc_dp *dp, uint32_t a);

/* cntops.c: zero slots s[0..n) (reordered) in every array of cs; add
 * deltas to attach slot a's array of cs; free what they loaded. */
int pc_cset_zero(struct pc_dp *dp, struct pc_cset *cs, uint32_t *s, uint32_t n);
int pc_cset_add(struct pc_dp *dp, struct pc_cset *cs, uint32_t a, const struct pc_cnt_delta *d,
		uint32_t n);
void pc_cset_ops_free(struct pc_cset *cs);
/* Load cs's programs now (a failure leaves the user-space way). */
void pc_cset_ops_prepare(struct pc_cset *cs);

/* slots.c */
int pc_dp_slots_mirror(struct pc_dp *dp, uint32_t cap);
int pc_dp_slots_read(struct pc_dp *dp, int fd, uint32_t cap);
int pc_dp_slots_fresh(struct pc_dp *dp);
/* Name the slots of g's rules, classes and declared classes. */
int pc_dp_slots_assign(struct pc_dp *dp, struct pc_gen *g, const struct pc_ruleset *rs);
/* g goes live: its rules' records (class, position) into the mirror. */
void pc_dp_slots_apply(struct pc_dp *dp, const struct pc_gen *g);
/* Free the names that neither the live generation nor a pending one uses
 * (before the first commit: only those that gone took); dirty: whether the
 * freed slots may hold counts in the live set. */
void pc_dp_slots_release(struct pc_dp *dp, bool dirty, const struct pc_gen *gone);
/* Write the changed records (all: the whole table) into fd. */
int pc_dp_slots_write(struct pc_dp *dp, int fd, uint32_t cap, bool all);
/* Slots used by g that hold counts worth carrying: named before g. */
int pc_dp_slots_carried(const struct pc_gen *g, uint32_t cap, uint32_t **ret, uint32_t *n);

/* A (kind, name) -> slot index over the mirror, as it is now. */
struct pc_slot_ix;
int pc_dp_slot_ix_new(const struct pc_dp *dp, struct pc_slot_ix **ret);
int64_t pc_dp_slot_ix_find(const struct pc_dp *dp, const struct pc_slot_ix *x, uint32_t kind,
			   const char *name);
void pc_dp_slot_ix_free(struct pc_slot_ix *x);

/* attslots.c */
int pc_dp_att_read(struct pc_dp *dp);
int pc_dp_att_fresh(struct pc_dp *dp);
/* Publish attach slot a in the live set: counter array in "cnt" (unless
 * in_batch: the caller fills "cnt"), pinned, and its record written. */
int pc_dp_att_publish(struct pc_dp *dp, uint32_t a);
bool pc_dp_att_in_use(const struct pc_dp *dp, uint32_t a);
/* Remove every cnt_<a> pin of the records in use. */
int pc_dp_att_unpin_all(struct pc_dp *dp);

/* logring.c: adopt the pinned "log" and "log_limit", or create and
 * pin them. */
int pc_dp_log_open(struct pc_dp *dp);


/* sets.c: the sets of the live and of the staged generation (datapath.h
 * has what these do). */
int pc_sets_open(const char *pin_path, struct pc_sets **ret);
void pc_sets_close(struct pc_sets *s);
int pc_sets_segs_fd(const struct pc_sets *s);
int pc_sets_head_fd(const struct pc_sets *s);
bool pc_sets_adopt_failed(const struct pc_sets *s);
bool pc_sets_has_runtime(const struct pc_sets *s);
int pc_sets_stage(struct pc_sets *s, const struct pc_config *cfg, uint32_t generation,
		  struct pc_set_changes *ch);
void pc_sets_abort(struct pc_sets *s);
int pc_sets_publish(struct pc_sets *s);
int pc_sets_commit(struct pc_sets *s);
int pc_sets_change(struct pc_sets *s, const char *name, enum pc_set_op op,
		   const struct pc_set_elem *e, size_t n, struct pc_set_result *res);
int pc_sets_sync(struct pc_sets *s);
int pc_sets_grace_start(struct pc_sets *s);
int pc_sets_grace_fd(const struct pc_sets *s);
int pc_sets_grace_done(struct pc_sets *s);
int pc_sets_list(const struct pc_sets *s, struct pc_set_info **ret, size_t *n);
int pc_sets_counts(const struct pc_sets *s, struct pc_set_count **ret, size_t *n);
int pc_sets_get(const struct pc_sets *s, const char *name, struct pc_set_info *info,
		struct pc_set_view *view);
uint32_t pc_sets_live_dir(const struct pc_sets *s);
struct pc_pool;
const struct pc_pool *pc_sets_pool(const struct pc_sets *s);
