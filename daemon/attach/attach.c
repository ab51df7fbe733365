/* SPDX-License-Identifier: GPL-2.0-only */
/* attach.c - the attachment manager (see attach.h): reload transactions,
 * links coming and going, adoption of an earlier run's records, stop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attach/internal.h"
#include "lib/log.h"
#include "lib/util.h"

int pc_am_new(struct pc_dp *dp, struct pc_nl *nl, struct pc_am **ret)
{
	struct pc_am *am = calloc(1, sizeof(*am));

	if (!am)
		return -ENOMEM;
	am->dp = dp;
	am->nl = nl;
	*ret = am;
	return 0;
}

static void pending_clear(struct pending *p)
{
	free(p->chg);
	free(p->acq);
	*p = (struct pending){};
}

void pc_am_free(struct pc_am *am)
{
	if (!am)
		return;
	for (size_t i = 0; i < am->n; i++)
		for_each_hook(h)
			if (am->links[i].h[h].sock >= 0)
				close(am->links[i].h[h].sock);
	pending_clear(&am->p);
	free(am->links);
	free(am);
}

/* ---- adopting an earlier run's records ----------------------------------- */

int pc_am_adopt(struct pc_am *am, const struct pc_stats *s)
{
	uint32_t id;

	for (size_t i = 0; s && i < s->natt; i++) {
		const struct pc_attach_info *info = &s->att[i].info;
		struct link_state *l;
		struct hook_state *hs;

		if (!(info->flags & PC_ATT_IN_USE) || info->hook >= PC_HOOK_MAX)
			continue;
		l = link_add(am, (int)info->ifindex, info->ifname);
		if (!l)
			return -ENOMEM;
		hs = &l->h[info->hook];
		hs->held = true;
		hs->slot = s->att[i].slot;
		hs->prog_id = info->prog_id;
		hs->reattach = true;
		if (info->hook != PC_HOOK_MONITOR)
			hs->attached = pc_nl_filter_find(am->nl, l->ifindex, (int)info->hook, &id) == 0;
		if (info->flags & PC_ATT_OWN_QDISC)
			l->own_qdisc = true;
		log_debug("adopted attach slot %u of %s %s", hs->slot, l->name,
			  pc_hook_name((int)info->hook));
	}
	return 0;
}

/* ---- our filters, as the kernel has them --------------------------------- */

/* Check the TC hooks of l that we think attached; mark the ones gone. */
static void check_link(struct pc_am *am, struct link_state *l)
{
	for (int h = PC_HOOK_INGRESS; h <= PC_HOOK_EGRESS; h++) {
		const char *why = NULL;

		if (!l->h[h].held || !l->h[h].attached)
			continue;
		if (hook_check(am, l, h, &why) == 0)
			hook_lost(am, l, h, why);
	}
}

static void check_all(struct pc_am *am)
{
	for (size_t i = 0; i < am->n; i++)
		check_link(am, &am->links[i]);
}

/* Put back the missing hooks of l; a failure is logged once per loss. */
static void restore_link(struct pc_am *am, struct link_state *l)
{
	for (int h = PC_HOOK_INGRESS; h <= PC_HOOK_EGRESS; h++) {
		struct hook_state *hs = &l->h[h];
		int r;

		if (!hs->held || !hs->missing)
			continue;
		r = hook_attach(am, l, h);
		if (r == -ENODEV || r >= 0 || hs->warned)
			continue;
		log_warning_errno(r, "%s %s: cannot put our filter back%s; trying again every second",
				  l->name, pc_hook_name(h),
				  r == -EBUSY ? " (a foreign filter holds its priority)" : "");
		hs->warned = true;
	}
}

void pc_am_tc_event(struct pc_am *am, int ifindex)
{
	struct link_state *l = link_find(am, ifindex);

	if (!l || !am->cfg)
		return;
	check_link(am, l);
	restore_link(am, l);
}

void pc_am_retry(struct pc_am *am)
{
	for (size_t i = 0; i < am->n; i++)
		restore_link(am, &am->links[i]);
}

size_t pc_am_missing(const struct pc_am *am)
{
	size_t n = 0;

	for (size_t i = 0; i < am->n; i++)
		for_each_hook(h)
			n += am->links[i].h[h].held && am->links[i].h[h].missing;
	return n;
}

/* ---- reload transaction -------------------------------------------------- */

static int collect_link(int ifindex, const char *name, void *userdata)
{
	struct link_list *ll = userdata;

	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 32;
		struct pc_link_hooks *v = realloc(ll->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ll->v = v;
		ll->cap = cap;
	}
	ll->v[ll->n] = (struct pc_link_hooks){ .ifindex = ifindex };
	strscpy_ok(ll->v[ll->n].name, sizeof(ll->v[ll->n].name), name);
	if (ll->cfg)
		ll->v[ll->n].hooks = pc_iface_hooks(ll->cfg->ifaces, ll->cfg->n_ifaces, name);
	ll->n++;
	return 0;
}

static void warn_missing(const struct pc_config *cfg, const struct link_list *ll)
{
	_cleanup_free_ const char **names = calloc(ll->n + 1, sizeof(char *));
	_cleanup_free_ size_t *missing = calloc(cfg->n_ifaces + 1, sizeof(size_t));
	size_t n;

	if (!names || !missing)
		return;
	for (size_t i = 0; i < ll->n; i++)
		names[i] = ll->v[i].name;
	n = pc_iface_missing(cfg->ifaces, cfg->n_ifaces, names, ll->n, missing);
	for (size_t i = 0; i < n; i++)
		log_warning("interface %s does not exist (yet): it is attached when it appears",
			    cfg->ifaces[missing[i]].name);
}

static int collect_have(struct pc_am *am, struct pc_link_hooks **ret)
{
	struct pc_link_hooks *v = calloc(am->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < am->n; i++) {
		v[i].ifindex = am->links[i].ifindex;
		strscpy_ok(v[i].name, sizeof(v[i].name), am->links[i].name);
		v[i].hooks = link_held(&am->links[i]);
	}
	*ret = v;
	return 0;
}

static void release_acquired(struct pc_am *am, const struct pc_hook_change *c,
			     struct hook_state acq[PC_HOOK_MAX])
{
	for_each_hook(h) {
		if (!acq[h].held)
			continue;
		if (acq[h].fresh)
			pc_dp_attach_slot_put(am->dp, acq[h].slot);
		hook_state_init(&acq[h]);
	}
}

/* Slots for the hooks c attaches; the link vanishing meanwhile is no error,
 * and a hook that gets no slot (PC_MAX_ATTACH, memory) is skipped with a
 * warning: the others go on. */
static int prepare_one(struct pc_am *am, struct pc_hook_change *c,
		       struct hook_state acq[PC_HOOK_MAX])
{
	struct link_state *l = link_find(am, c->ifindex);
	bool renamed = l && strcmp(l->name, c->name) != 0;
	bool own = l && !renamed && l->own_qdisc;
	int r;

	for_each_hook(h) {
		hook_state_init(&acq[h]);
		if (!(c->attach & PC_HOOK_BIT(h)))
			continue;
		r = hook_acquire(am, c->ifindex, c->name, h, own,
				 l && l->h[h].held ? (int)l->h[h].slot : -1, &acq[h]);
		if (r == -ENODEV || r == -ENOENT) {
			log_debug("%s vanished while attaching", c->name);
			c->attach &= ~PC_HOOK_BIT(h);
			continue;
		}
		if (r < 0) {
			log_warning_errno(r, "%s %s: no attach slot left (%u hooks at most), skipped",
					  c->name, pc_hook_name(h), PC_MAX_ATTACH);
			c->attach &= ~PC_HOOK_BIT(h);
			continue;
		}
		own = own || acq[h].own_qdisc;
	}
	return 0;
}

static int set_iface(struct pc_am *am, const struct pc_ruleset *rs, struct pc_gen *g,
		     const struct pc_hook_change *c, const struct hook_state acq[PC_HOOK_MAX])
{
	struct link_state *l = link_find(am, c->ifindex);
	uint32_t slots[PC_HOOK_MAX];

	for_each_hook(h) {
		slots[h] = PC_ATTACH_NONE;
		if (c->attach & PC_HOOK_BIT(h))
			slots[h] = acq[h].slot;
		else if ((c->keep & PC_HOOK_BIT(h)) && l)
			slots[h] = l->h[h].slot;
	}
	return gen_set_iface(g, rs, c->ifindex, c->name, slots);
}

/* The interface's entry in g.  When its new hooks cannot have counters
 * (the kernel refuses the memory), they are skipped with a warning and the
 * hooks it keeps stay. */
static int prepare_iface(struct pc_am *am, const struct pc_ruleset *rs, struct pc_gen *g,
			 struct pc_hook_change *c, struct hook_state acq[PC_HOOK_MAX])
{
	int r;

	if (!(c->attach | c->keep))
		return 0;
	r = set_iface(am, rs, g, c, acq);
	if (r < 0 && c->attach) {
		log_warning_errno(r, "%s: no counters for its new hooks, skipped", c->name);
		release_acquired(am, c, acq);
		c->attach = 0;
		r = c->keep ? set_iface(am, rs, g, c, acq) : 0;
	}
	if (r < 0)
		return log_error_errno(r, "%s: interface entry of the new generation", c->name);
	return 0;
}

int pc_am_prepare(struct pc_am *am, const struct pc_config *cfg, const struct pc_ruleset *rs,
		  struct pc_gen *g)
{
	struct link_list ll = { .cfg = cfg };
	_cleanup_free_ struct pc_link_hooks *have = NULL;
	struct pending *p = &am->p;
	int r;

	pc_am_abort(am);
	/* our filters, checked: a reload puts back what went missing */
	if (am->cfg)
		check_all(am);
	r = pc_nl_links(am->nl, collect_link, &ll);
	if (r >= 0)
		r = collect_have(am, &have);
	if (r >= 0)
		r = pc_hooks_diff(ll.v, ll.n, have, am->n, &p->chg, &p->n);
	if (r >= 0)
		warn_missing(cfg, &ll);
	free(ll.v);
	if (r < 0)
		return log_error_errno(r, "listing interfaces");
	p->acq = calloc(p->n + 1, sizeof(*p->acq));
	if (!p->acq) {
		pending_clear(p);
		return log_error_errno(-ENOMEM, "preparing attachments");
	}
	p->active = true;
	for (size_t i = 0; i < p->n; i++) {
		r = prepare_one(am, &p->chg[i], p->acq[i]);
		if (r >= 0)
			r = prepare_iface(am, rs, g, &p->chg[i], p->acq[i]);
		if (r < 0) {
			pc_am_abort(am);
			return r;
		}
	}
	p->cfg = cfg;
	p->rs = rs;
	return 0;
}

void pc_am_abort(struct pc_am *am)
{
	struct pending *p = &am->p;

	if (!p->active)
		return;
	for (size_t i = 0; i < p->n; i++)
		release_acquired(am, &p->chg[i], p->acq[i]);
	pending_clear(p);
}

static void commit_one(struct pc_am *am, const struct pc_hook_change *c,
		       struct hook_state acq[PC_HOOK_MAX])
{
	struct link_state *l = link_find(am, c->ifindex);
	bool failed = false, own, keep_qdisc;

	if (l) {
		/* TC hooks about to be attached still need the clsact:
		 * hide that it is ours while detaching the others. */
		keep_qdisc = c->attach & PC_HOOKS_TC;
		own = l->own_qdisc;
		if (keep_qdisc)
			l->own_qdisc = false;
		for_each_hook(h) {
			if (!(c->detach & PC_HOOK_BIT(h)))
				continue;
			/* renamed: the new attachment got the same slot */
			if ((c->attach & PC_HOOK_BIT(h)) && acq[h].held && acq[h].slot == l->h[h].slot)
				l->h[h].held = false;
			hook_detach(am, l, h, false);
		}
		if (keep_qdisc)
			l->own_qdisc = own;
	}
	if (c->attach) {
		if (l && strcmp(l->name, c->name) != 0)
			strscpy_ok(l->name, sizeof(l->name), c->name);
		l = link_add(am, c->ifindex, c->name);
		if (!l) {
			log_error_errno(-ENOMEM, "%s: attaching", c->name);
			release_acquired(am, c, acq);
			return;
		}
	}
	if (!l)
		return;
	for_each_hook(h) {
		int r = 0;

		if (c->attach & PC_HOOK_BIT(h)) {
			l->h[h] = acq[h];
			l->own_qdisc = l->own_qdisc || acq[h].own_qdisc;
			r = hook_attach(am, l, h);
		} else if ((c->keep & PC_HOOK_BIT(h)) && (!l->h[h].attached || l->h[h].reattach))
			r = hook_attach(am, l, h);
		if (r == -ENODEV)
			log_debug("%s vanished while attaching", l->name);
		else if (r < 0)
			log_warning_errno(r, "%s %s: attaching", l->name, pc_hook_name(h));
		if (r < 0) {
			hook_detach(am, l, h, false);
			failed = true;
		}
	}
	if (failed)
		sync_current_iface(am, l);
	link_gc(am, l);
}

void pc_am_commit(struct pc_am *am)
{
	struct pending *p = &am->p;

	if (!p->active)
		return;
	am->cfg = p->cfg;
	am->rs = p->rs;
	for (size_t i = 0; i < p->n; i++)
		commit_one(am, &p->chg[i], p->acq[i]);
	pending_clear(p);
}

/* ---- links coming and going ---------------------------------------------- */

static void link_forget(struct pc_am *am, struct link_state *l, bool gone)
{
	for_each_hook(h)
		if (l->h[h].held)
			hook_detach(am, l, h, gone);
	sync_current_iface(am, l);
	link_gc(am, l);
}

static void link_appeared(struct pc_am *am, int ifindex, const char *name)
{
	struct pc_hook_change c = { .ifindex = ifindex };
	struct hook_state acq[PC_HOOK_MAX];
	struct pc_gen *g = pc_dp_current(am->dp);

	c.attach = pc_iface_hooks(am->cfg->ifaces, am->cfg->n_ifaces, name);
	if (!c.attach || !g)
		return;
	strscpy_ok(c.name, sizeof(c.name), name);
	log_info("interface %s (%d) appeared", name, ifindex);
	if (prepare_one(am, &c, acq) < 0 || prepare_iface(am, am->rs, g, &c, acq) < 0) {
		release_acquired(am, &c, acq);
		return;
	}
	commit_one(am, &c, acq);
}

void pc_am_link_event(struct pc_am *am, enum pc_link_event ev, int ifindex, const char *name)
{
	struct link_state *l;

	if (!am->cfg)
		return;
	l = link_find(am, ifindex);
	if (ev == PC_LINK_DEL) {
		if (l) {
			log_info("interface %s (%d) vanished", l->name, ifindex);
			link_forget(am, l, true);
		}
		return;
	}
	if (l && strcmp(l->name, name) == 0)
		return;
	if (l) {
		log_info("interface %s (%d) renamed to %s", l->name, ifindex, name);
		link_forget(am, l, false);
	}
	link_appeared(am, ifindex, name);
}

int pc_am_resync(struct pc_am *am)
{
	struct link_list ll = {};
	int r;

	r = pc_nl_links(am->nl, collect_link, &ll);
	if (r < 0) {
		free(ll.v);
		return log_error_errno(r, "listing interfaces");
	}
	for (size_t i = am->n; i > 0; i--) {
		struct link_state *l = &am->links[i - 1];
		bool present = false;

		for (size_t j = 0; j < ll.n && !present; j++)
			present = ll.v[j].ifindex == l->ifindex;
		if (!present) {
			log_info("interface %s (%d) vanished", l->name, l->ifindex);
			link_forget(am, l, true);
		}
	}
	for (size_t j = 0; j < ll.n; j++)
		pc_am_link_event(am, PC_LINK_NEW, ll.v[j].ifindex, ll.v[j].name);
	free(ll.v);
	check_all(am);
	pc_am_retry(am);
	return 0;
}

/* ---- stop ------------------------------------------------------------------ */

void pc_am_unhook(struct pc_am *am)
{
	for (size_t i = 0; i < am->n; i++)
		for_each_hook(h)
			if (am->links[i].h[h].held)
				hook_unhook(am, &am->links[i], h, false);
}

void pc_am_stop(struct pc_am *am, bool keep)
{
	pc_am_abort(am);
	for (size_t i = am->n; i > 0; i--) {
		struct link_state *l = &am->links[i - 1];

		for_each_hook(h) {
			if (!l->h[h].held)
				continue;
			if (!keep) {
				hook_detach(am, l, h, false);
			} else if (l->h[h].sock >= 0) {
				close(l->h[h].sock);
				l->h[h].sock = -1;
				l->h[h].attached = false;
			}
		}
		if (!keep)
			link_gc(am, l);
	}
}

size_t pc_am_count(const struct pc_am *am)
{
	size_t n = 0;

	for (size_t i = 0; i < am->n; i++)
		for_each_hook(h)
			n += am->links[i].h[h].attached;
	return n;
}
