/* SPDX-License-Identifier: GPL-2.0-only */
/* plan.c - interface patterns to hooks, and the have/want diff. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "attach/plan.h"
#include "lib/util.h"

const char *pc_hook_name(int hook)
{
	switch (hook) {
	case PC_HOOK_INGRESS:
		return "ingress";
	case PC_HOOK_EGRESS:
		return "egress";
	case PC_HOOK_MONITOR:
		return "monitor";
	default:
		return "?";
	}
}

bool pc_iface_pattern_is_glob(const char *pattern)
{
	return strpbrk(pattern, "*?[") != NULL;
}

bool pc_iface_pattern_match(const char *pattern, const char *ifname)
{
	if (strcmp(pattern, ifname) == 0)
		return true;
	return pc_iface_pattern_is_glob(pattern) && fnmatch(pattern, ifname, 0) == 0;
}

unsigned pc_iface_hooks(const struct pc_iface_cfg *v, size_t n, const char *ifname)
{
	unsigned hooks = 0;

	for (size_t i = 0; i < n; i++)
		if (pc_iface_pattern_match(v[i].name, ifname))
			hooks |= v[i].hooks;
	return hooks & PC_HOOKS_ALL;
}

size_t pc_iface_missing(const struct pc_iface_cfg *v, size_t n, const char *const names[],
			size_t nnames, size_t missing[])
{
	size_t nmissing = 0;

	for (size_t i = 0; i < n; i++) {
		bool found = false;

		if (pc_iface_pattern_is_glob(v[i].name))
			continue;
		for (size_t j = 0; j < nnames && !found; j++)
			found = strcmp(v[i].name, names[j]) == 0;
		if (!found)
			missing[nmissing++] = i;
	}
	return nmissing;
}

static int cmp_ifindex(const void *a, const void *b)
{
	const struct pc_link_hooks *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static int sorted_copy(const struct pc_link_hooks *v, size_t n, struct pc_link_hooks **ret)
{
	struct pc_link_hooks *c;

	c = malloc((n ? n : 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (n)
		memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_ifindex);
	for (size_t i = 1; i < n; i++)
		if (c[i].ifindex == c[i - 1].ifindex) {
			free(c);
			return -EINVAL;
		}
	*ret = c;
	return 0;
}

/* One interface: w and/or h (NULL when absent on that side). */
static struct pc_hook_change diff_one(const struct pc_link_hooks *w, const struct pc_link_hooks *h)
{
	struct pc_hook_change c = { .ifindex = w ? w->ifindex : h->ifindex };
	unsigned want = w ? w->hooks & PC_HOOKS_ALL : 0;
	unsigned have = h ? h->hooks & PC_HOOKS_ALL : 0;

	if (w)
		strscpy_ok(c.name, sizeof(c.name), w->name);
	if (h)
		strscpy_ok(c.old_name, sizeof(c.old_name), h->name);
	if (w && h && strcmp(w->name, h->name) != 0) {
		c.detach = have;
		c.attach = want;
		return c;
	}
	c.keep = want & have;
	c.attach = want & ~have;
	c.detach = have & ~want;
	return c;
}

int pc_hooks_diff(const struct pc_link_hooks *want, size_t nwant,
		  const struct pc_link_hooks *have, size_t nhave,
		  struct pc_hook_change **ret, size_t *nret)
{
	_cleanup_free_ struct pc_link_hooks *w = NULL, *h = NULL;
	struct pc_hook_change *out;
	size_t i = 0, j = 0, n = 0;
	int r;

	r = sorted_copy(want, nwant, &w);
	if (r < 0)
		return r;
	r = sorted_copy(have, nhave, &h);
	if (r < 0)
		return r;
	out = calloc(nwant + nhave + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	while (i < nwant || j < nhave) {
		struct pc_hook_change c;

		if (j == nhave || (i < nwant && w[i].ifindex < h[j].ifindex))
			c = diff_one(&w[i++], NULL);
		else if (i == nwant || h[j].ifindex < w[i].ifindex)
			c = diff_one(NULL, &h[j++]);
		else
			c = diff_one(&w[i++], &h[j++]);
		if (c.attach | c.detach | c.keep)
			out[n++] = c;
	}
	*ret = out;
	*nret = n;
	return 0;
}
