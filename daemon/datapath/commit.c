/* SPDX-License-Identifier: GPL-2.0-only */
/* commit.c - a generation's life after its load: redirect targets, the
 * attach slots it names, the switch (pc_dp_gen_commit) and its end.
 *
 * Commit, with the live counter set: write the new slot names, zero the
 * reused slots that may hold old counts, publish the attach slots, switch
 * the jump tables; then free the names no generation uses.  With a new,
 * larger set (cset.c): write its whole name table and fill its "cnt",
 * switch, wait until the old generation has finished every packet, carry
 * the old arrays' counts of the slots both use, then pin the new set over
 * the old one.  Everything that can fail before the switch leaves the
 * running state as it was. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "classifier.skel.h"

/* ---- pending generations ------------------------------------------------------ */

int pc_dp_gen_pending(struct pc_dp *dp, struct pc_gen *g)
{
	struct pc_gen **v = realloc(dp->pending, (dp->npending + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	dp->pending = v;
	dp->pending[dp->npending++] = g;
	g->dp = dp;
	return 0;
}

static void pending_remove(struct pc_dp *dp, struct pc_gen *g)
{
	for (size_t i = 0; i < dp->npending; i++)
		if (dp->pending[i] == g) {
			dp->pending[i] = dp->pending[--dp->npending];
			return;
		}
}

int pc_dp_gen_att_add(struct pc_gen *g, uint32_t a)
{
	uint32_t *v;

	for (size_t i = 0; i < g->natt; i++)
		if (g->att[i] == a)
			return 0;
	if (g->natt == g->att_alloc) {
		size_t n = g->att_alloc ? 2 * g->att_alloc : 16;

		v = realloc(g->att, n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		g->att = v;
		g->att_alloc = n;
	}
	g->att[g->natt++] = a;
	return 0;
}

/* ---- redirect targets --------------------------------------------------------- */

static struct pc_gen_target *target_of(struct pc_gen *g, const char *ifname)
{
	struct pc_gen_target *t;

	for (size_t i = 0; i < g->ntgt; i++)
		if (strcmp(g->tgt[i].ifname, ifname) == 0)
			return &g->tgt[i];
	t = realloc(g->tgt, (g->ntgt + 1) * sizeof(*t));
	if (!t)
		return NULL;
	g->tgt = t;
	t = &g->tgt[g->ntgt++];
	memset(t, 0, sizeof(*t));
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	return t;
}

int pc_dp_gen_targets(struct pc_gen *g, const struct pc_ruleset *rs)
{
	for (uint32_t i = 0; i <= rs->nrules; i++) {
		struct pc_gen_target *t;
		uint32_t *v;

		if (rs->outs[i].action != PC_ACT_REDIRECT || !rs->redirect || !rs->redirect[i][0])
			continue;
		t = target_of(g, rs->redirect[i]);
		if (!t)
			return -ENOMEM;
		v = realloc(t->rules, (t->nrules + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->rules = v;
		t->rules[t->nrules++] = i;
	}
	for (size_t i = 0; i < g->ntgt; i++) {
		struct pc_gen_target *t = &g->tgt[i];

		t->ifindex = if_nametoindex(t->ifname);
		for (uint32_t j = 0; j < t->nrules; j++)
			g->outs[t->rules[j]].redirect_ifindex = t->ifindex;
	}
	return 0;
}

int pc_dp_gen_resolve_redirect(struct pc_gen *g, size_t i)
{
	uint32_t idx;
	int r;

	if (i >= g->ntgt)
		return -ENOENT;
	idx = if_nametoindex(g->tgt[i].ifname);
	if (idx == g->tgt[i].ifindex)
		return 0;
	r = pc_dp_gen_set_redirect(g, i, idx);
	return r < 0 ? r : 1;
}

size_t pc_dp_gen_redirect_count(const struct pc_gen *g)
{
	return g->ntgt;
}

int pc_dp_gen_redirect_get(const struct pc_gen *g, size_t i, struct pc_redirect_target *ret)
{
	if (i >= g->ntgt)
		return -ENOENT;
	ret->ifname = g->tgt[i].ifname;
	ret->ifindex = g->tgt[i].ifindex;
	ret->nrules = g->tgt[i].nrules;
	return 0;
}

int pc_dp_gen_set_redirect(struct pc_gen *g, size_t i, uint32_t ifindex)
{
	struct pc_gen_target *t;
	int fd;

	if (i >= g->ntgt)
		return -ENOENT;
	t = &g->tgt[i];
	t->ifindex = ifindex;
	fd = g->skel ? bpf_map__fd(g->skel->maps.outs) : -1;
	for (uint32_t j = 0; j < t->nrules; j++) {
		uint32_t rule = t->rules[j];

		/* one aligned 4-byte field changes: a packet reads the old
		 * ifindex or the new one */
		g->outs[rule].redirect_ifindex = ifindex;
		if (fd >= 0 && bpf_map_update_elem(fd, &rule, &g->outs[rule], BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

/* ---- commit -------------------------------------------------------------------- */

/* Put the arrays of every attach slot g names into g's "cnt" at once. */
static int fill_att(struct pc_dp *dp, struct pc_gen *g)
{
	_cleanup_free_ uint32_t *v = calloc(g->natt + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < g->natt; i++) {
		int r;

		if (!pc_dp_att_in_use(dp, g->att[i]))
			continue;
		r = pc_cset_array(dp, g->cs, g->att[i]);
		if (r < 0)
			return r;
		v[n++] = g->att[i];
	}
	return pc_cset_fill(g->cs, v, n);
}

static int publish_att(struct pc_dp *dp, struct pc_gen *g)
{
	for (size_t i = 0; i < g->natt; i++) {
		int r;

		if (!pc_dp_att_in_use(dp, g->att[i]))
			continue;
		r = pc_dp_att_publish(dp, g->att[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Fresh slots of g that may hold what an earlier name counted. */
static int zero_fresh(struct pc_dp *dp, struct pc_gen *g)
{
	_cleanup_free_ uint32_t *v = calloc(g->nfresh + 1, sizeof(*v));
	uint32_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->nfresh; i++)
		if (g->fresh[i] < dp->cs->slot_cap && dp->slot_dirty[g->fresh[i]])
			v[n++] = g->fresh[i];
	r = pc_cset_zero(dp, dp->cs, v, n);
	for (uint32_t i = 0; r >= 0 && i < n; i++)
		dp->slot_dirty[v[i]] = false;
	return r;
}

/* Before the switch: everything g's counting needs in place. */
static int commit_prepare(struct pc_dp *dp, struct pc_gen *g)
{
	int r;

	pc_dp_slots_apply(dp, g);
	r = fill_att(dp, g);
	if (r < 0)
		return r;
	if (g->cs != dp->cs) {
		/* after the switch, nothing may need a new file descriptor */
		pc_cset_ops_prepare(g->cs);
		r = pc_dp_sync_prepare(dp);
		return r < 0 ? r : pc_dp_slots_write(dp, g->cs->slots_fd, g->cs->slot_cap, true);
	}
	r = pc_dp_slots_write(dp, dp->cs->slots_fd, dp->cs->slot_cap, false);
	if (r >= 0)
		r = zero_fresh(dp, g);
	return r < 0 ? r : publish_att(dp, g);
}

/* After the switch to a new set: carry, then pin it over the old one. */
static int switch_cset(struct pc_dp *dp, struct pc_gen *g)
{
	struct pc_cset *old = dp->cs;
	_cleanup_free_ uint32_t *s = NULL;
	uint32_t n = 0;
	int r, ret;

	ret = pc_dp_sync(dp);
	if (ret >= 0)
		ret = pc_dp_slots_carried(g, old->slot_cap, &s, &n);
	for (size_t i = 0; ret >= 0 && i < g->natt; i++)
		if (pc_dp_att_in_use(dp, g->att[i]))
			ret = pc_cset_carry(dp, old, g->cs, g->att[i], s, n);
	dp->cs = pc_cset_ref(g->cs);
	for (uint32_t i = 0; i < dp->mirror_cap; i++)
		dp->slot_dirty[i] = false;
	/* the attach slots g names, fresh ones included, now in the new set */
	for (size_t i = 0; i < g->natt; i++)
		if (pc_dp_att_in_use(dp, g->att[i]))
			dp->att_pub[g->att[i]] = false;
	r = publish_att(dp, g);
	if (r >= 0)
		r = pc_cset_pin(dp, dp->cs, true);
	pc_cset_unref(old);
	dp->meta.slot_cap = dp->cs->slot_cap;
	return ret < 0 ? ret : r;
}

static uint32_t count_classes(const struct pc_gen *g, uint32_t cap)
{
	_cleanup_free_ bool *seen = calloc(cap + 1, sizeof(*seen));
	uint32_t n = 0;

	if (!seen)
		return 0;
	for (uint32_t i = 0; i <= g->nrules + g->nclasses; i++) {
		uint32_t s = i <= g->nrules ? g->outs[i].class_slot : g->classes[i - g->nrules - 1];

		if (s < cap && !seen[s]) {
			seen[s] = true;
			n++;
		}
	}
	return n;
}

static int meta_commit(struct pc_dp *dp, const struct pc_gen *g, const char *config_path)
{
	dp->meta.generation = g->generation;
	dp->meta.nrules = g->nrules;
	dp->meta.nclasses = count_classes(g, dp->mirror_cap);
	dp->meta.loaded_realtime_usec = pc_now_usec(CLOCK_REALTIME);
	dp->meta.flags &= ~(uint32_t)PC_META_RELOAD_FAILED;
	dp->meta.pid = getpid();
	snprintf(dp->meta.config_path, sizeof(dp->meta.config_path), "%s", config_path ? config_path : "");
	snprintf(dp->meta.status, sizeof(dp->meta.status), "generation %u, %u rules", g->generation,
		 g->nrules);
	return pc_dp_meta_write(dp);
}

int pc_dp_gen_commit(struct pc_dp *dp, struct pc_gen *g, const char *config_path)
{
	bool grow = g->cs != dp->cs;
	struct pc_gen *old = dp->cur;
	int r, q;

	if (g->live)
		return -EALREADY;
	r = commit_prepare(dp, g);
	/* the staged sets in the directory that only g reads (pool pinned) */
	if (r >= 0)
		r = pc_sets_publish(dp->sets);
	if (r >= 0)
		r = pc_dp_jump_to(dp, g);
	if (r < 0) {
		/* never leave the hooks on a mix of generations */
		if (old)
			pc_dp_jump_to(dp, old);
		pc_sets_abort(dp->sets);
		return r;
	}
	pending_remove(dp, g);
	g->live = true;
	dp->cur = g;
	r = grow ? switch_cset(dp, g) : 0;
	q = pc_sets_commit(dp->sets);
	r = r < 0 ? r : q;
	pc_dp_gen_free(old);
	pc_dp_slots_release(dp, !grow, NULL);
	q = pc_dp_slots_write(dp, dp->cs->slots_fd, dp->cs->slot_cap, false);
	r = r < 0 ? r : q;
	q = meta_commit(dp, g, config_path);
	return r < 0 ? r : q;
}

void pc_dp_gen_free(struct pc_gen *g)
{
	if (!g)
		return;
	if (g->dp && !g->live) {
		pending_remove(g->dp, g);
		pc_dp_slots_release(g->dp, true, g);
	}
	if (g->dp && g->dp->cur == g)
		g->dp->cur = NULL;
	pc_classifier__destroy(g->skel);
	pc_cset_unref(g->cs);
	for (size_t i = 0; i < g->ntgt; i++)
		free(g->tgt[i].rules);
	free(g->tgt);
	free(g->outs);
	free(g->classes);
	free(g->fresh);
	free(g->att);
	free(g);
}

struct pc_gen *pc_dp_current(const struct pc_dp *dp)
{
	return dp->cur;
}
