/* SPDX-License-Identifier: GPL-2.0-only */
/* test-attach - the pure half of the attachment manager: patterns to
 * hooks, missing exact names, and the have/want diff. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "lib/util.h"
#include "attach/plan.h"


#define IN PC_HOOK_BIT(PC_HOOK_INGRESS)
#define EG PC_HOOK_BIT(PC_HOOK_EGRESS)
#define MON PC_HOOK_BIT(PC_HOOK_MONITOR)

static const struct pc_iface_cfg cfg[] = {
	{ .name = "eth0", .hooks = IN | EG },
	{ .name = "br-*", .hooks = MON },
	{ .name = "vlan1??", .hooks = IN },
	{ .name = "eth[12]", .hooks = EG },
	{ .name = "br-lan", .hooks = IN },      /* overlaps br-* */
	{ .name = "wan0", .hooks = MON },       /* exact, may be missing */
};
#define NCFG (ELEMENTSOF(cfg))

static void test_hook_names(void)
{
	CHECK(strcmp(pc_hook_name(PC_HOOK_INGRESS), "ingress") == 0);
	CHECK(strcmp(pc_hook_name(PC_HOOK_EGRESS), "egress") == 0);
	CHECK(strcmp(pc_hook_name(PC_HOOK_MONITOR), "monitor") == 0);
	CHECK(strcmp(pc_hook_name(PC_HOOK_MAX), "?") == 0);
	CHECK(strcmp(pc_hook_name(-1), "?") == 0);
}

static void test_patterns(void)
{
	CHECK(!pc_iface_pattern_is_glob("eth0"));
	CHECK(pc_iface_pattern_is_glob("eth*"));
	CHECK(pc_iface_pattern_is_glob("vlan1??"));
	CHECK(pc_iface_pattern_is_glob("eth[0-3]"));

	CHECK(pc_iface_pattern_match("eth0", "eth0"));
	CHECK(!pc_iface_pattern_match("eth0", "eth01"));
	CHECK(!pc_iface_pattern_match("eth0", "eth"));
	CHECK(pc_iface_pattern_match("ens*", "ens3"));
	CHECK(pc_iface_pattern_match("ens*", "ens"));
	CHECK(!pc_iface_pattern_match("ens*", "xens3"));
	CHECK(pc_iface_pattern_match("vlan1??", "vlan100"));
	CHECK(!pc_iface_pattern_match("vlan1??", "vlan10"));
	CHECK(!pc_iface_pattern_match("vlan1??", "vlan1000"));
	CHECK(pc_iface_pattern_match("eth[12]", "eth2"));
	CHECK(!pc_iface_pattern_match("eth[12]", "eth3"));
}

static void test_hooks_union(void)
{
	CHECK(pc_iface_hooks(cfg, NCFG, "eth0") == (IN | EG));
	CHECK(pc_iface_hooks(cfg, NCFG, "eth1") == EG);
	CHECK(pc_iface_hooks(cfg, NCFG, "eth3") == 0);
	CHECK(pc_iface_hooks(cfg, NCFG, "br-wan") == MON);
	CHECK(pc_iface_hooks(cfg, NCFG, "br-lan") == (MON | IN)); /* union of two entries */
	CHECK(pc_iface_hooks(cfg, NCFG, "vlan123") == IN);
	CHECK(pc_iface_hooks(cfg, NCFG, "lo") == 0);
	CHECK(pc_iface_hooks(cfg, 0, "eth0") == 0);
	/* bits beyond the known hooks never leak out */
	{
		struct pc_iface_cfg odd = { .name = "x", .hooks = 0xf0u | IN };

		CHECK(pc_iface_hooks(&odd, 1, "x") == IN);
	}
}

static void test_missing(void)
{
	const char *links[] = { "lo", "eth0", "br-lan", "vlan100" };
	const char *none[] = { NULL };
	size_t missing[NCFG];

	/* eth0 exists, wan0 does not; globs are never "missing" */
	CHECK(pc_iface_missing(cfg, NCFG, links, 4, missing) == 1);
	CHECK(missing[0] == 5);

	CHECK(pc_iface_missing(cfg, NCFG, none, 0, missing) == 3);
	CHECK(missing[0] == 0 && missing[1] == 4 && missing[2] == 5);
}

static const struct pc_hook_change *find(const struct pc_hook_change *v, size_t n, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ifindex == ifindex)
			return &v[i];
	return NULL;
}

static void test_diff(void)
{
	const struct pc_link_hooks want[] = {
		{ 7, "eth1", EG },              /* new */
		{ 2, "eth0", IN | EG },         /* had IN: add EG */
		{ 4, "br-lan", MON },           /* had IN|MON: drop IN */
		{ 5, "same", IN },              /* unchanged */
		{ 6, "renamed", IN },           /* was "old6" */
	};
	const struct pc_link_hooks have[] = {
		{ 4, "br-lan", IN | MON },
		{ 2, "eth0", IN },
		{ 3, "gone", MON },             /* not wanted any more */
		{ 5, "same", IN },
		{ 6, "old6", IN | EG },
		{ 9, "empty", 0 },              /* nothing held: no entry */
	};
	struct pc_hook_change *c = NULL;
	const struct pc_hook_change *x;
	size_t n = 0;

	CHECK(pc_hooks_diff(want, 5, have, 6, &c, &n) == 0);
	CHECK(n == 6);
	for (size_t i = 1; i < n; i++)
		CHECK(c[i - 1].ifindex < c[i].ifindex);

	x = find(c, n, 7);
	CHECK(x && x->attach == EG && x->detach == 0 && x->keep == 0);
	CHECK(strcmp(x->name, "eth1") == 0 && x->old_name[0] == 0);

	x = find(c, n, 2);
	CHECK(x && x->attach == EG && x->detach == 0 && x->keep == IN);

	x = find(c, n, 4);
	CHECK(x && x->attach == 0 && x->detach == IN && x->keep == MON);

	x = find(c, n, 3);
	CHECK(x && x->attach == 0 && x->detach == MON && x->keep == 0);
	CHECK(x->name[0] == 0 && strcmp(x->old_name, "gone") == 0);

	x = find(c, n, 5);
	CHECK(x && x->attach == 0 && x->detach == 0 && x->keep == IN);

	/* a rename is a delete plus a new link */
	x = find(c, n, 6);
	CHECK(x && x->attach == IN && x->detach == (IN | EG) && x->keep == 0);
	CHECK(strcmp(x->name, "renamed") == 0 && strcmp(x->old_name, "old6") == 0);

	CHECK(find(c, n, 9) == NULL);
	free(c);
}

static void test_diff_edges(void)
{
	const struct pc_link_hooks dup[] = { { 1, "a", IN }, { 1, "b", EG } };
	const struct pc_link_hooks one[] = { { 1, "a", IN } };
	struct pc_hook_change *c = NULL;
	size_t n = 99;

	CHECK(pc_hooks_diff(NULL, 0, NULL, 0, &c, &n) == 0);
	CHECK(n == 0);
	free(c);

	CHECK(pc_hooks_diff(dup, 2, NULL, 0, &c, &n) == -EINVAL);
	CHECK(pc_hooks_diff(one, 1, dup, 2, &c, &n) == -EINVAL);

	/* want nothing: everything we have goes */
	CHECK(pc_hooks_diff(NULL, 0, one, 1, &c, &n) == 0);
	CHECK(n == 1 && c[0].detach == IN && c[0].attach == 0 && c[0].keep == 0);
	free(c);

	/* a link that wants no hook and has none is no change */
	{
		const struct pc_link_hooks zero[] = { { 3, "lo", 0 } };

		CHECK(pc_hooks_diff(zero, 1, NULL, 0, &c, &n) == 0);
		CHECK(n == 0);
		free(c);
	}
}

int main(void)
{
	test_hook_names();
	test_patterns();
	test_hooks_union();
	test_missing();
	test_diff();
	test_diff_edges();
	if (!failures)
		fprintf(stderr, "test-attach: ok\n");
	return check_exit();
}
