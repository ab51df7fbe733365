/* SPDX-License-Identifier: GPL-2.0-only */
/* control.h - the daemon's control socket (lib/ctlproto.h): pktclassctl's
 * set commands come in there, one connection per request, handled to the
 * end in the event loop. */
#pragma once

#include <stdio.h>

#include <systemd/sd-event.h>

#include "lib/ctlproto.h"

struct pc_control;

/* Handle one request: write the whole reply ("ok" or "error ERRNO", then
 * its lines) to out. */
typedef void (*pc_control_fn)(struct pc_ctl_msg *req, FILE *out, void *userdata);

/* Listen on path (a stale socket there is replaced), mode 0600; only root
 * may send requests. */
int pc_control_open(sd_event *e, const char *path, pc_control_fn fn, void *userdata,
		    struct pc_control **ret);
/* Stop listening and remove the socket. */
void pc_control_close(struct pc_control *c);
