/* SPDX-License-Identifier: GPL-2.0-only */
/* redirect.h - redirect targets followed as interfaces come and go: the
 * rules of a target that does not exist pass (the config's verdict warns
 * about it), and redirect again as soon as an interface of that name
 * appears (journal record PC_MID_REDIRECT each time a target changes). */
#pragma once

#include "datapath/datapath.h"
#include "netlink/netlink.h"

/* A link event (PC_LINK_NEW or PC_LINK_DEL) for the live generation g. */
void pc_redirect_link(struct pc_gen *g, enum pc_link_event ev, int ifindex, const char *name);
/* Look every target up again (after lost link events). */
void pc_redirect_resync(struct pc_gen *g);
