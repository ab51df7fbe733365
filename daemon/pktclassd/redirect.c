/* SPDX-License-Identifier: GPL-2.0-only */
/* redirect.c - redirect targets followed as interfaces come and go. */
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "pktclassd/redirect.h"

/* A target changed: it now is ifindex (0: its rules pass). */
static void target_record(const struct pc_redirect_target *t, const char *why)
{
	char f_if[64], f_idx[64], f_rules[64];
	const char *fields[] = { f_if, f_idx, f_rules, NULL };

	snprintf(f_if, sizeof(f_if), "PKTCLASS_IFACE=%s", t->ifname);
	snprintf(f_idx, sizeof(f_idx), "PKTCLASS_IFINDEX=%u", t->ifindex);
	snprintf(f_rules, sizeof(f_rules), "PKTCLASS_RULES=%u", t->nrules);
	if (t->ifindex)
		pc_log_struct(LOG_INFO, PC_MID_REDIRECT, fields,
			      "redirect target %s is interface %u%s: %u rule(s) redirect there",
			      t->ifname, t->ifindex, why, t->nrules);
	else
		pc_log_struct(LOG_WARNING, PC_MID_REDIRECT, fields,
			      "redirect target %s %s: %u rule(s) pass until it appears", t->ifname,
			      why, t->nrules);
}

static void set_target(struct pc_gen *g, size_t i, uint32_t ifindex, const char *why)
{
	struct pc_redirect_target t;
	int r = pc_dp_gen_set_redirect(g, i, ifindex);

	if (r < 0) {
		log_warning_errno(r, "updating a redirect target");
		return;
	}
	if (pc_dp_gen_redirect_get(g, i, &t) == 0)
		target_record(&t, why);
}

void pc_redirect_link(struct pc_gen *g, enum pc_link_event ev, int ifindex, const char *name)
{
	struct pc_redirect_target t;
	char why[64];

	if (!g)
		return;
	for (size_t i = 0; pc_dp_gen_redirect_get(g, i, &t) == 0; i++) {
		bool named = ev == PC_LINK_NEW && name && strcmp(t.ifname, name) == 0;

		if (named && t.ifindex != (uint32_t)ifindex) {
			set_target(g, i, (uint32_t)ifindex, " again");
		} else if (!named && t.ifindex == (uint32_t)ifindex && ifindex > 0) {
			snprintf(why, sizeof(why), ev == PC_LINK_DEL ? "vanished" : "was renamed to %s",
				 name ? name : "");
			set_target(g, i, 0, why);
		}
	}
}

void pc_redirect_resync(struct pc_gen *g)
{
	struct pc_redirect_target t;

	for (size_t i = 0; g && pc_dp_gen_redirect_get(g, i, &t) == 0; i++)
		if (pc_dp_gen_resolve_redirect(g, i) > 0 && pc_dp_gen_redirect_get(g, i, &t) == 0)
			target_record(&t, t.ifindex ? "" : "is gone");
}
