/* SPDX-License-Identifier: GPL-2.0-only */
/* internal.h - the attachment manager's state, shared by attach.c
 * (transactions, links coming and going, stop) and hook.c (one hook
 * on one link, and the generation's ifaces entries). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "attach/plan.h"
#include "attach/attach.h"

struct hook_state {
	bool held;        /* we hold an attach slot for it */
	bool attached;    /* our filter or socket is in place */
	bool reattach;    /* adopted from an earlier run: attach again (in place) */
	bool fresh;       /* slot taken by the pending prepare */
	bool own_qdisc;   /* the clsact is ours (made by an earlier run) */
	bool missing;     /* someone else removed our filter or its clsact */
	bool warned;      /* a failed restore of it was logged */
	uint64_t lost_usec; /* when it went missing (CLOCK_MONOTONIC) */
	uint32_t slot;
	uint32_t prog_id;
	int sock;         /* monitor: the AF_PACKET socket */
};

struct link_state {
	int ifindex;
	char name[PC_IFNAME_MAX];
	bool own_qdisc;   /* we created its clsact */
	struct hook_state h[PC_HOOK_MAX];
};

struct pending {
	bool active;
	struct pc_hook_change *chg;
	size_t n;
	struct hook_state (*acq)[PC_HOOK_MAX];
	const struct pc_config *cfg;
	const struct pc_ruleset *rs;
};

struct pc_am {
	struct pc_dp *dp;
	struct pc_nl *nl;
	struct link_state *links;
	size_t n, cap;
	const struct pc_config *cfg; /* committed */
	const struct pc_ruleset *rs;
	struct pending p;
};

#define for_each_hook(h) for (int h = 0; h < PC_HOOK_MAX; h++)

struct link_list {
	struct pc_link_hooks *v;
	size_t n, cap;
	const struct pc_config *cfg;
};

void hook_state_init(struct hook_state *hs);

/* The links we hold something on. */
struct link_state *link_find(struct pc_am *am, int ifindex);
struct link_state *link_add(struct pc_am *am, int ifindex, const char *name);
unsigned link_held(const struct link_state *l);
/* Drop l from the table when it holds nothing any more. */
void link_gc(struct pc_am *am, struct link_state *l);

int hook_acquire(struct pc_am *am, int ifindex, const char *name, int hook, bool own, int held,
		 struct hook_state *hs);
/* Attach hook's entry program: the clsact (created when missing, then it
 * is ours) and our filter, or the monitor socket; a missing hook that comes
 * back is logged as restored. */
int hook_attach(struct pc_am *am, struct link_state *l, int hook);
void hook_detach(struct pc_am *am, struct link_state *l, int hook, bool gone);
/* Only the filter or socket goes; the attach slot stays held. */
void hook_unhook(struct pc_am *am, struct link_state *l, int hook, bool gone);
/* Our filter of a TC hook we think attached is not there: log it, mark it
 * missing (in the pinned record too); why says what was seen. */
void hook_lost(struct pc_am *am, struct link_state *l, int hook, const char *why);
/* Whether our filter is still in place: 1 yes, 0 no (why set), or -errno
 * (-ENODEV: the link is gone). */
int hook_check(struct pc_am *am, struct link_state *l, int hook, const char **why);

int gen_set_iface(struct pc_gen *g, const struct pc_ruleset *rs, int ifindex, const char *name,
		  const uint32_t slots[PC_HOOK_MAX]);
/* Bring the live generation's entry for l in line with what l holds. */
void sync_current_iface(struct pc_am *am, struct link_state *l);
