/* SPDX-License-Identifier: GPL-2.0-only */
/* hook.c - one hook on one link: attach slot, clsact, our filter or
 * monitor socket, journal records; and the generation's ifaces entries. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "attach/internal.h"
#include "lib/log.h"
#include "lib/util.h"

void hook_state_init(struct hook_state *hs)
{
	*hs = (struct hook_state){ .sock = -1 };
}

/* ---- the links we hold something on ------------------------------------- */

struct link_state *link_find(struct pc_am *am, int ifindex)
{
	for (size_t i = 0; i < am->n; i++)
		if (am->links[i].ifindex == ifindex)
			return &am->links[i];
	return NULL;
}

struct link_state *link_add(struct pc_am *am, int ifindex, const char *name)
{
	struct link_state *l = link_find(am, ifindex);

	if (l)
		return l;
	if (am->n == am->cap) {
		size_t cap = am->cap ? am->cap * 2 : 16;
		struct link_state *v = realloc(am->links, cap * sizeof(*v));

		if (!v)
			return NULL;
		am->links = v;
		am->cap = cap;
	}
	l = &am->links[am->n++];
	*l = (struct link_state){ .ifindex = ifindex };
	strscpy_ok(l->name, sizeof(l->name), name);
	for_each_hook(h)
		hook_state_init(&l->h[h]);
	return l;
}

unsigned link_held(const struct link_state *l)
{
	unsigned hooks = 0;

	for_each_hook(h)
		if (l->h[h].held)
			hooks |= PC_HOOK_BIT(h);
	return hooks;
}

/* Drop l from the table when it holds nothing any more. */
void link_gc(struct pc_am *am, struct link_state *l)
{
	size_t i = (size_t)(l - am->links);

	if (link_held(l) != 0)
		return;
	memmove(&am->links[i], &am->links[i + 1], (am->n - i - 1) * sizeof(*l));
	am->n--;
}

/* ---- journal records ------------------------------------------------------ */

static void log_attach_record(bool attach, const char *ifname, int hook, uint32_t prog_id)
{
	char f_if[64], f_hook[64], f_prog[64];
	const char *fields[] = { f_if, f_hook, f_prog, NULL };

	snprintf(f_if, sizeof(f_if), "PKTCLASS_IFACE=%s", ifname);
	snprintf(f_hook, sizeof(f_hook), "PKTCLASS_HOOK=%s", pc_hook_name(hook));
	snprintf(f_prog, sizeof(f_prog), "PKTCLASS_PROG_ID=%u", prog_id);
	pc_log_struct(LOG_INFO, attach ? PC_MID_ATTACH : PC_MID_DETACH, fields,
		      "%s %s %s (program %u)", attach ? "attached to" : "detached from",
		      ifname, pc_hook_name(hook), prog_id);
}

/* Enforcement lost (someone else removed our filter or its qdisc), or put
 * back: usec is how long it was missing. */
static void log_lost_record(bool lost, const char *ifname, int hook, uint32_t prog_id,
			    const char *why, uint64_t usec)
{
	char f_if[64], f_hook[64], f_prog[64], f_why[128], f_usec[64];
	const char *fields[] = { f_if, f_hook, f_prog, lost ? f_why : f_usec, NULL };

	snprintf(f_if, sizeof(f_if), "PKTCLASS_IFACE=%s", ifname);
	snprintf(f_hook, sizeof(f_hook), "PKTCLASS_HOOK=%s", pc_hook_name(hook));
	snprintf(f_prog, sizeof(f_prog), "PKTCLASS_PROG_ID=%u", prog_id);
	snprintf(f_why, sizeof(f_why), "PKTCLASS_REASON=%s", why ? why : "");
	snprintf(f_usec, sizeof(f_usec), "PKTCLASS_DURATION_USEC=%llu", (unsigned long long)usec);
	if (lost)
		pc_log_struct(LOG_WARNING, PC_MID_HOOK_LOST, fields,
			      "%s %s: %s; our filter is gone, putting it back", ifname,
			      pc_hook_name(hook), why);
	else
		pc_log_struct(LOG_NOTICE, PC_MID_HOOK_RESTORED, fields,
			      "%s %s: our filter is back (program %u, missing for %llu us)", ifname,
			      pc_hook_name(hook), prog_id, (unsigned long long)usec);
}

/* ---- one hook on one link ------------------------------------------------- */

/* An attach slot for (ifindex, hook).  own: whether the link's clsact is
 * already known to be ours; held: the slot we hold for (ifindex, hook)
 * under an old name, or -1.  The datapath hands out the same slot again
 * for the same (ifindex, hook): that one is not fresh, an abort must not
 * give it back.  Nothing on the link changes here: the clsact and the
 * filter come at hook_attach(). */
int hook_acquire(struct pc_am *am, int ifindex, const char *name, int hook,
			bool own, int held, struct hook_state *hs)
{
	struct pc_attach_info info;
	int slot = -ENOENT;

	hook_state_init(hs);
	hs->own_qdisc = own && hook != PC_HOOK_MONITOR;
	if (held < 0)
		slot = pc_dp_attach_slot_find(am->dp, ifindex, hook, &info);
	if (slot >= 0) {
		if (info.flags & PC_ATT_OWN_QDISC)
			hs->own_qdisc = true; /* an earlier run of ours created it */
	} else {
		slot = pc_dp_attach_slot_get(am->dp, name, (uint32_t)ifindex, hook,
					     pc_dp_entry_id(am->dp, hook),
					     hs->own_qdisc ? PC_ATT_OWN_QDISC : 0);
		if (slot < 0)
			return slot;
		hs->fresh = slot != held;
	}
	hs->held = true;
	hs->slot = (uint32_t)slot;
	hs->prog_id = pc_dp_entry_id(am->dp, hook);
	return 0;
}

static int monitor_socket(int ifindex, int prog_fd)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	_cleanup_close_ int fd = -1;

	/* Protocol 0: nothing is queued until bind(), which comes after the
	 * filter, so no packet of another interface ever reaches it. */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int tc_attach(struct pc_am *am, struct link_state *l, int hook)
{
	struct hook_state *hs = &l->h[hook];
	bool created = false;
	uint32_t id = 0;
	char name[64];
	int r;

	r = pc_nl_clsact_ensure(am->nl, l->ifindex, &created);
	if (r < 0)
		return r;
	if (created)
		l->own_qdisc = true;
	snprintf(name, sizeof(name), "%s_%s", PC_TC_NAME, pc_hook_name(hook));
	r = pc_nl_filter_attach(am->nl, l->ifindex, hook, pc_dp_entry_fd(am->dp, hook), name);
	if (r < 0)
		return r;
	hs->prog_id = pc_nl_filter_find(am->nl, l->ifindex, hook, &id) == 0 ?
		id : pc_dp_entry_id(am->dp, hook);
	return 0;
}

int hook_attach(struct pc_am *am, struct link_state *l, int hook)
{
	struct hook_state *hs = &l->h[hook];
	uint32_t flags = 0;
	int r;

	if (hook == PC_HOOK_MONITOR) {
		if (hs->sock >= 0)
			close(hs->sock);
		hs->sock = -1;
		r = monitor_socket(l->ifindex, pc_dp_entry_fd(am->dp, hook));
		if (r < 0)
			return r;
		hs->sock = r;
		hs->prog_id = pc_dp_entry_id(am->dp, hook);
	} else {
		r = tc_attach(am, l, hook);
		if (r < 0)
			return r;
		if (l->own_qdisc)
			flags |= PC_ATT_OWN_QDISC;
	}
	r = pc_dp_attach_slot_set(am->dp, hs->slot, hs->prog_id, flags);
	if (r < 0)
		log_warning_errno(r, "%s %s: recording the attachment", l->name, pc_hook_name(hook));
	hs->attached = true;
	hs->reattach = false;
	if (hs->missing)
		log_lost_record(false, l->name, hook, hs->prog_id, NULL, pc_now_usec(CLOCK_MONOTONIC) - hs->lost_usec);
	else
		log_attach_record(true, l->name, hook, hs->prog_id);
	hs->missing = hs->warned = false;
	return 0;
}

int hook_check(struct pc_am *am, struct link_state *l, int hook, const char **why)
{
	uint32_t id;
	int r = pc_nl_filter_find(am->nl, l->ifindex, hook, &id);

	if (r == 0)
		return 1;
	if (r != -ENOENT)
		return r;
	*why = pc_nl_clsact_exists(am->nl, l->ifindex) ? "our filter was deleted or replaced"
						       : "the clsact qdisc was deleted";
	return 0;
}

void hook_lost(struct pc_am *am, struct link_state *l, int hook, const char *why)
{
	struct hook_state *hs = &l->h[hook];
	uint32_t flags = PC_ATT_MISSING;
	int r;

	if (!hs->attached)
		return;
	hs->attached = false;
	hs->missing = true;
	hs->warned = false;
	hs->lost_usec = pc_now_usec(CLOCK_MONOTONIC);
	if (strstr(why, "clsact"))
		l->own_qdisc = false; /* it went with the qdisc: a new one is made anew */
	if (l->own_qdisc)
		flags |= PC_ATT_OWN_QDISC;
	r = pc_dp_attach_slot_set(am->dp, hs->slot, hs->prog_id, flags);
	if (r < 0)
		log_warning_errno(r, "%s %s: recording the missing filter", l->name, pc_hook_name(hook));
	log_lost_record(true, l->name, hook, hs->prog_id, why, 0);
}

/* Take our filter or socket away (unless the link is gone, which took them
 * along); the slot stays held. */
void hook_unhook(struct pc_am *am, struct link_state *l, int hook, bool gone)
{
	struct hook_state *hs = &l->h[hook];
	int r;

	if (hs->attached && hook != PC_HOOK_MONITOR && !gone) {
		r = pc_nl_filter_detach(am->nl, l->ifindex, hook);
		if (r < 0 && r != -ENOENT && r != -ENODEV)
			log_warning_errno(r, "%s %s: removing our filter", l->name, pc_hook_name(hook));
	}
	if (hs->sock >= 0)
		close(hs->sock);
	hs->sock = -1;
	if (hs->attached)
		log_attach_record(false, l->name, hook, hs->prog_id);
	hs->attached = false;
}

/* hook_unhook(), give the slot back, and drop the clsact if it was ours
 * and is empty now. */
void hook_detach(struct pc_am *am, struct link_state *l, int hook, bool gone)
{
	struct hook_state *hs = &l->h[hook];
	int r;

	hook_unhook(am, l, hook, gone);
	if (hs->held)
		pc_dp_attach_slot_put(am->dp, hs->slot);
	hook_state_init(hs);
	if (hook == PC_HOOK_MONITOR || gone || !l->own_qdisc || (link_held(l) & PC_HOOKS_TC))
		return;
	r = pc_nl_clsact_remove_if_empty(am->nl, l->ifindex);
	if (r == 0 || r == -ENOENT || r == -ENODEV)
		l->own_qdisc = false;
	else if (r == -EBUSY)
		log_debug("%s: leaving the clsact qdisc in place: other filters use it", l->name);
	else
		log_warning_errno(r, "%s: removing the clsact qdisc we created", l->name);
}

/* ---- the generation's ifaces table --------------------------------------- */

int gen_set_iface(struct pc_gen *g, const struct pc_ruleset *rs, int ifindex,
			 const char *name, const uint32_t slots[PC_HOOK_MAX])
{
	struct pc_iface v = { .ifbits = pc_ifbits(rs, name) };

	for_each_hook(h)
		v.attach[h] = slots[h];
	return pc_dp_gen_set_iface(g, (uint32_t)ifindex, &v);
}

/* Bring the live generation's entry for l in line with what l holds. */
void sync_current_iface(struct pc_am *am, struct link_state *l)
{
	struct pc_gen *g = pc_dp_current(am->dp);
	uint32_t slots[PC_HOOK_MAX];
	int r;

	if (!g)
		return;
	if (link_held(l) == 0) {
		r = pc_dp_gen_del_iface(g, (uint32_t)l->ifindex);
		if (r < 0 && r != -ENOENT)
			log_warning_errno(r, "%s: removing the interface entry", l->name);
		return;
	}
	for_each_hook(h)
		slots[h] = l->h[h].held ? l->h[h].slot : PC_ATTACH_NONE;
	r = gen_set_iface(g, am->rs, l->ifindex, l->name, slots);
	if (r < 0)
		log_warning_errno(r, "%s: updating the interface entry", l->name);
}
