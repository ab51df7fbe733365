/* SPDX-License-Identifier: GPL-2.0-only */
/* netlink.h - rtnetlink through libmnl: the clsact qdisc, our cls_bpf
 * filter, and link events.  We only ever touch the filter at
 * (parent clsact ingress/egress, PC_TC_PRIO, PC_TC_HANDLE) that carries
 * PC_TC_NAME-prefixed BPF names, and a clsact qdisc we created. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct pc_nl;

int pc_nl_open(struct pc_nl **ret);
void pc_nl_close(struct pc_nl *nl);
static inline void pc_nl_closep(struct pc_nl **nl) { if (*nl) pc_nl_close(*nl); }

/* Create the clsact qdisc on ifindex unless one exists.  *created tells
 * whether we made it.  0 or -errno (-ENODEV: no such interface,
 * -EOPNOTSUPP: no clsact in this kernel). */
int pc_nl_clsact_ensure(struct pc_nl *nl, int ifindex, bool *created);
/* Delete the clsact qdisc if it has no filter left on either side.
 * 0 when deleted, -EBUSY when filters remain, -ENOENT when absent. */
int pc_nl_clsact_remove_if_empty(struct pc_nl *nl, int ifindex);
bool pc_nl_clsact_exists(struct pc_nl *nl, int ifindex);

/* hook: PC_HOOK_INGRESS or PC_HOOK_EGRESS.  Add our direct-action cls_bpf
 * filter running prog_fd, or replace ours in place (NLM_F_REPLACE). */
int pc_nl_filter_attach(struct pc_nl *nl, int ifindex, int hook, int prog_fd, const char *name);
/* Find our filter: 0 with *prog_id set, or -ENOENT. */
int pc_nl_filter_find(struct pc_nl *nl, int ifindex, int hook, uint32_t *prog_id);
/* Delete our filter only.  0, or -ENOENT when it is not there. */
int pc_nl_filter_detach(struct pc_nl *nl, int ifindex, int hook);

/* Enumerate links: cb returns 0 to go on, negative to stop with it. */
typedef int (*pc_nl_link_cb)(int ifindex, const char *name, void *userdata);
int pc_nl_links(struct pc_nl *nl, pc_nl_link_cb cb, void *userdata);

/* Link and traffic-control events: a socket subscribed to RTNLGRP_LINK
 * and RTNLGRP_TC.  PC_TC_CHANGE: a qdisc or filter on ifindex was added,
 * changed or deleted (name is NULL). */
enum pc_link_event { PC_LINK_NEW = 1, PC_LINK_DEL = 2, PC_TC_CHANGE = 3 };
typedef void (*pc_nl_event_cb)(enum pc_link_event ev, int ifindex, const char *name, void *userdata);
struct pc_nlmon;
int pc_nlmon_open(struct pc_nlmon **ret);
int pc_nlmon_fd(const struct pc_nlmon *m);
/* Read and dispatch everything pending (non-blocking). -ENOBUFS means
 * events were lost: the caller should re-enumerate links. */
int pc_nlmon_process(struct pc_nlmon *m, pc_nl_event_cb cb, void *userdata);
void pc_nlmon_close(struct pc_nlmon *m);
