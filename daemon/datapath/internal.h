/* SPDX-License-Identifier: GPL-2.0-only */
/* internal.h - state shared by datapath.c and slots.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "datapath/datapath.h"
#include "lib/util.h"

#define PC_DP_LOG_SIZE (64 * 1024)
#define PC_DP_LOG_TAIL 4096 /* what pc_dp_verifier_log() returns at most */

struct pc_classifier;
struct pc_cntzero;

struct pc_gen {
	struct pc_classifier *skel;
	uint32_t generation;
};

struct pc_dp {
	char pin_path[PC_PATH_MAX];
	uint32_t slot_cap;
	int ncpus;
	bool trace;
	bool no_sock;                         /* pc_dp_set_monitor(dp, false) */

	int entry_fd[PC_HOOK_MAX];
	uint32_t entry_id[PC_HOOK_MAX];
	int jmp_tc_fd, jmp_sock_fd, cnt_fd, meta_fd, slots_fd, attach_fd;
	int log_fd, log_limit_fd;             /* packet log (logring.c) */
	uint32_t log_rate;

	struct pc_meta meta;                  /* mirror of "meta" */
	struct pc_slot_name *slots;           /* mirror of "slots", slot_cap */
	bool *slot_dirty;                     /* free slot that may hold counts */
	struct pc_attach_info att[PC_MAX_ATTACH]; /* mirror of "attach" */
	int att_fd[PC_MAX_ATTACH];            /* inner counter arrays or -1 */

	struct pc_cntzero *cntzero;           /* cntzero.c, loaded on use */
	int cntzero_err;                      /* it would not load (-errno): user
					       * space only */
	uint64_t cnt_rewrites;                /* chunks written back from user space */

	struct pc_gen *cur;
	char log[PC_DP_LOG_SIZE];
};

/* slots.c */
int pc_dp_slots_init(struct pc_dp *dp, bool fresh);
int pc_dp_slots_release(struct pc_dp *dp, const struct pc_ruleset *rs);
int pc_dp_attach_load(struct pc_dp *dp);
int pc_dp_counters_create(struct pc_dp *dp, int *ret);
/* Remove every cnt_<attach slot> pin. */
int pc_dp_counters_unpin_all(const struct pc_dp *dp);
/* A new empty "cnt" (array of maps of counter arrays), not pinned. */
int pc_dp_cnt_create(struct pc_dp *dp, int *ret);
/* The path of cnt_<a>; pin fd there, replacing what is pinned. */
/* pin_path/name into buf; -ENAMETOOLONG when it does not fit. */
int pc_dp_pin_file(const struct pc_dp *dp, const char *name, char *buf, size_t len);
int pc_dp_cnt_pin_file(const struct pc_dp *dp, uint32_t a, char *buf, size_t len);
int pc_dp_cnt_pin_open(const struct pc_dp *dp, uint32_t a, struct bpf_map_info *info);
int pc_dp_counters_pin(const struct pc_dp *dp, uint32_t a, int fd);

/* cntzero.c: zero slots s[0..n) (reordered) in every
 * attachment's counter array; and free what that loaded. */
int pc_dp_counters_zero(struct pc_dp *dp, uint32_t *s, uint32_t n);
void pc_dp_cntzero_free(struct pc_dp *dp);

/* logring.c: adopt the pinned "log" and "log_limit", or create and
 * pin them. */
int pc_dp_log_open(struct pc_dp *dp);

