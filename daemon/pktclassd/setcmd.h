/* SPDX-License-Identifier: GPL-2.0-only */
/* setcmd.h - the set requests of the control socket (setcmd.c). */
#pragma once

#include <stdio.h>

#include "datapath/datapath.h"
#include "lib/ctlproto.h"

/* Handle req on dp's live sets; the reply goes to out. */
void pc_setcmd(struct pc_dp *dp, struct pc_ctl_msg *req, FILE *out);
