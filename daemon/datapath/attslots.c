/* SPDX-License-Identifier: GPL-2.0-only */
/* attslots.c - attach slots: one per (interface, hook), described by the
 * pinned "attach" map, each with a per-CPU counter array in the counter set
 * ("cnt" and the pin cnt_<slot>, cset.c).
 *
 * A slot is reserved in memory only; it is published (counter array in
 * "cnt", pinned, record written) when a generation's interface entry names
 * it: at once on the live generation, at the commit of a pending one.  So
 * a reload or start that fails before its commit leaves "attach" and the
 * pins as they were. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "datapath/internal.h"
#include "datapath/stats.h"

static int att_grow(struct pc_dp *dp, uint32_t n)
{
	struct pc_attach_info *v;
	bool *pub;
	uint32_t cap = dp->natt;

	if (n <= dp->natt)
		return 0;
	if (n > PC_MAX_ATTACH)
		return -ENOSPC;
	while (cap < n)
		cap = cap ? 2 * cap : 64;
	if (cap > PC_MAX_ATTACH)
		cap = PC_MAX_ATTACH;
	v = realloc(dp->att, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	dp->att = v;
	pub = realloc(dp->att_pub, cap * sizeof(*pub));
	if (!pub)
		return -ENOMEM;
	dp->att_pub = pub;
	memset(v + dp->natt, 0, (cap - dp->natt) * sizeof(*v));
	memset(pub + dp->natt, 0, (cap - dp->natt) * sizeof(*pub));
	dp->natt = cap;
	return 0;
}

int pc_dp_att_fresh(struct pc_dp *dp)
{
	return att_grow(dp, 64);
}

int pc_dp_att_read(struct pc_dp *dp)
{
	_cleanup_free_ struct pc_attach_info *all = calloc(PC_MAX_ATTACH, sizeof(*all));
	uint32_t n = 0;
	int r;

	if (!all)
		return -ENOMEM;
	r = pc_map_read_array(dp->attach_fd, PC_MAX_ATTACH, sizeof(*all), all);
	if (r < 0)
		return r;
	for (uint32_t a = 0; a < PC_MAX_ATTACH; a++)
		if (all[a].flags & PC_ATT_IN_USE)
			n = a + 1;
	r = att_grow(dp, n ? n : 64);
	if (r < 0)
		return r;
	for (uint32_t a = 0; a < n; a++) {
		dp->att[a] = all[a];
		dp->att[a].ifname[sizeof(dp->att[a].ifname) - 1] = '\0';
		dp->att_pub[a] = all[a].flags & PC_ATT_IN_USE;
	}
	return 0;
}

bool pc_dp_att_in_use(const struct pc_dp *dp, uint32_t a)
{
	return a < dp->natt && (dp->att[a].flags & PC_ATT_IN_USE);
}

static int att_write(struct pc_dp *dp, uint32_t a)
{
	return bpf_map_update_elem(dp->attach_fd, &a, &dp->att[a], BPF_ANY) < 0 ? -errno : 0;
}

static int attach_find(const struct pc_dp *dp, uint32_t ifindex, int hook)
{
	for (uint32_t a = 0; a < dp->natt; a++)
		if ((dp->att[a].flags & PC_ATT_IN_USE) && dp->att[a].ifindex == ifindex &&
		    dp->att[a].hook == (uint32_t)hook)
			return (int)a;
	return -ENOENT;
}

static int attach_free_slot(struct pc_dp *dp)
{
	uint32_t a;
	int r;

	for (a = 0; a < dp->natt; a++)
		if (!(dp->att[a].flags & PC_ATT_IN_USE))
			return (int)a;
	r = att_grow(dp, a + 1);
	return r < 0 ? r : (int)a;
}

int pc_dp_att_publish(struct pc_dp *dp, uint32_t a)
{
	char name[32];
	int fd, r;

	if (!pc_dp_att_in_use(dp, a))
		return -ENOENT;
	fd = pc_cset_array(dp, dp->cs, a);
	if (fd < 0)
		return fd;
	r = pc_cset_fill(dp->cs, &a, 1);
	if (r >= 0 && !dp->att_pub[a]) {
		r = pc_cnt_pin_name(a, name, sizeof(name));
		if (r >= 0)
			r = pc_dp_pin_replace(dp, fd, name);
	}
	if (r >= 0)
		r = att_write(dp, a);
	if (r >= 0)
		dp->att_pub[a] = true;
	return r;
}

int pc_dp_attach_slot_get(struct pc_dp *dp, const char *ifname, uint32_t ifindex, int hook,
			  uint32_t prog_id, uint32_t flags)
{
	struct pc_attach_info *ai;
	int a;

	if (hook < 0 || hook >= PC_HOOK_MAX)
		return -EINVAL;
	a = attach_find(dp, ifindex, hook);
	if (a < 0)
		a = attach_free_slot(dp);
	if (a < 0)
		return a;
	ai = &dp->att[a];
	memset(ai, 0, sizeof(*ai));
	snprintf(ai->ifname, sizeof(ai->ifname), "%s", ifname ? ifname : "");
	ai->ifindex = ifindex;
	ai->hook = hook;
	ai->prog_id = prog_id;
	ai->flags = flags | PC_ATT_IN_USE;
	if (dp->att_pub[a]) {
		int r = att_write(dp, a);

		if (r < 0)
			return r;
	}
	return a;
}

int pc_dp_attach_slot_set(struct pc_dp *dp, uint32_t slot, uint32_t prog_id, uint32_t flags)
{
	if (!pc_dp_att_in_use(dp, slot))
		return -ENOENT;
	dp->att[slot].prog_id = prog_id;
	dp->att[slot].flags = flags | PC_ATT_IN_USE;
	return dp->att_pub[slot] ? att_write(dp, slot) : 0;
}

int pc_dp_attach_slot_put(struct pc_dp *dp, uint32_t slot)
{
	bool pub;
	int r = 0;

	if (slot >= dp->natt)
		return -EINVAL;
	pub = dp->att_pub[slot];
	memset(&dp->att[slot], 0, sizeof(dp->att[slot]));
	dp->att_pub[slot] = false;
	pc_cset_drop(dp->cs, slot);
	for (size_t i = 0; i < dp->npending; i++)
		if (dp->pending[i]->cs != dp->cs)
			pc_cset_drop(dp->pending[i]->cs, slot);
	if (pub) {
		r = pc_dp_cnt_unpin(dp, slot);
		if (r >= 0)
			r = att_write(dp, slot);
	}
	return r;
}

int pc_dp_attach_slot_find(struct pc_dp *dp, uint32_t ifindex, int hook, struct pc_attach_info *ret)
{
	int a = attach_find(dp, ifindex, hook);

	if (a >= 0 && ret)
		*ret = dp->att[a];
	return a;
}

int pc_dp_attach_counters_fd(const struct pc_dp *dp, uint32_t slot)
{
	if (!dp->cs || slot >= dp->cs->narr || dp->cs->arr[slot] < 0 || !pc_dp_att_in_use(dp, slot))
		return -ENOENT;
	return dp->cs->arr[slot];
}

int pc_dp_att_unpin_all(struct pc_dp *dp)
{
	int ret = 0;

	for (uint32_t a = 0; a < dp->natt; a++) {
		int r;

		if (!dp->att_pub[a])
			continue;
		r = pc_dp_cnt_unpin(dp, a);
		if (r < 0)
			ret = r;
	}
	return ret;
}
