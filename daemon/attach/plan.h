/* SPDX-License-Identifier: GPL-2.0-only */
/* plan.h - the pure half of the attachment manager: which hooks an
 * interface gets from the config, and what changes between the hooks we
 * have and the hooks we want.  No I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pktclass.h"
#include "config/config.h"

#define PC_HOOK_BIT(h) (1u << (h))
#define PC_HOOKS_TC (PC_HOOK_BIT(PC_HOOK_INGRESS) | PC_HOOK_BIT(PC_HOOK_EGRESS))
#define PC_HOOKS_ALL (PC_HOOKS_TC | PC_HOOK_BIT(PC_HOOK_MONITOR))

/* "ingress", "egress", "monitor", or "?" */
const char *pc_hook_name(int hook);

/* A pattern with fnmatch(3) special characters. */
bool pc_iface_pattern_is_glob(const char *pattern);
bool pc_iface_pattern_match(const char *pattern, const char *ifname);
/* Union of the hooks (PC_HOOK_BIT) of every entry matching ifname. */
unsigned pc_iface_hooks(const struct pc_iface_cfg *v, size_t n, const char *ifname);

/* Exact (non-glob) names among v[] that no link in names[] has: their
 * indices go to missing[] (room for n), the count is returned. */
size_t pc_iface_missing(const struct pc_iface_cfg *v, size_t n, const char *const names[],
			size_t nnames, size_t missing[]);

struct pc_link_hooks {
	int ifindex;
	char name[PC_IFNAME_MAX];
	unsigned hooks;
};

/* What to do on one interface.  A link whose name changed is a delete
 * plus a new link: everything it had is detached, then attached anew. */
struct pc_hook_change {
	int ifindex;
	char name[PC_IFNAME_MAX];      /* the name now ("" if it is gone) */
	char old_name[PC_IFNAME_MAX];  /* the name we attached under ("" if none) */
	unsigned attach, detach, keep; /* PC_HOOK_BIT sets, disjoint */
};

/* want: links and the hooks they should have; have: what we hold.  Each
 * without duplicate ifindex, any order.  *ret: one entry per ifindex with
 * a non-empty change or keep, sorted by ifindex.  0 or -ENOMEM/-EINVAL. */
int pc_hooks_diff(const struct pc_link_hooks *want, size_t nwant,
		  const struct pc_link_hooks *have, size_t nhave,
		  struct pc_hook_change **ret, size_t *nret);
