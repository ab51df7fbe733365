/* SPDX-License-Identifier: GPL-2.0-only */
/* attach.h - the attachment manager: puts the entry programs on every
 * interface the config names (TC clsact filters, AF_PACKET sockets for
 * monitor), keeps the generation's "ifaces" table in step, follows links
 * that come and go, and takes only its own things away again.
 *
 * A reload is a transaction: pc_am_prepare() takes attach slots and fills
 * the new generation's ifaces entries (nothing live changes), then after
 * pc_dp_gen_commit() pc_am_commit() attaches and detaches what the new
 * config changed; pc_am_abort() undoes a prepare.  Prepare changes nothing
 * on the links (the clsact and our filters come at commit); a hook that
 * cannot have an attach slot or counters is skipped with a warning. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "classifier/compile.h"
#include "config/config.h"
#include "datapath/datapath.h"
#include "netlink/netlink.h"
#include "datapath/stats.h"

struct pc_am;

int pc_am_new(struct pc_dp *dp, struct pc_nl *nl, struct pc_am **ret);
void pc_am_free(struct pc_am *am);

/* Take over the attach records an earlier run left pinned (s may be
 * NULL), so that their counters carry on and stale ones are cleaned up by
 * the first commit. */
int pc_am_adopt(struct pc_am *am, const struct pc_stats *s);

/* cfg and rs must stay valid until the next successful commit. */
int pc_am_prepare(struct pc_am *am, const struct pc_config *cfg, const struct pc_ruleset *rs,
		  struct pc_gen *g);
void pc_am_commit(struct pc_am *am);
void pc_am_abort(struct pc_am *am);

/* A link event from the link monitor, and a full re-scan (after lost events). */
void pc_am_link_event(struct pc_am *am, enum pc_link_event ev, int ifindex, const char *name);
int pc_am_resync(struct pc_am *am);

/* A traffic-control change on ifindex (an rtnetlink RTNLGRP_TC event):
 * check our filters there; one that someone else removed is logged,
 * marked missing and put back. */
void pc_am_tc_event(struct pc_am *am, int ifindex);
/* Try again to put back the missing filters (a timer, while any is). */
void pc_am_retry(struct pc_am *am);
/* Hooks held whose filter is missing. */
size_t pc_am_missing(const struct pc_am *am);

/* Take every filter and socket of ours away, holding the attach slots (so
 * that their counters can still be read): the first half of a stop. */
void pc_am_unhook(struct pc_am *am);

/* Stop: keep == false detaches everything of ours; true leaves the TC
 * filters in place (monitor sockets die with the process anyway). */
void pc_am_stop(struct pc_am *am, bool keep);

/* Hooks currently attached, over all interfaces. */
size_t pc_am_count(const struct pc_am *am);
