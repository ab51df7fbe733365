/* SPDX-License-Identifier: GPL-2.0-only */
/* test-rsdiff - added / removed / changed rule counts between rule sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "classifier/rsdiff.h"


#define MAXR 8

/* A hand-made rule set: rule i has one box checking PC_W_DPORT == port[i]. */
struct fake {
	struct pc_ruleset rs;
	struct pc_box boxes[MAXR];
	struct pc_rule_out outs[MAXR + 1];
	char names[MAXR + 1][PC_NAME_MAX];
	char classes[MAXR + 1][PC_NAME_MAX];
	char redirect[MAXR + 1][16];
};

static void fake_init(struct fake *f, const char *const names[], const unsigned ports[], size_t n)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		snprintf(f->names[i], PC_NAME_MAX, "%s", names[i]);
		snprintf(f->classes[i], PC_NAME_MAX, "%s", names[i]);
		f->boxes[i].rule = (uint32_t)i;
		f->boxes[i].nchecks = 1;
		f->boxes[i].c[0] = (struct pc_check){ .word = PC_W_DPORT, .op = PC_OP_RANGE,
						      .a = ports[i], .b = ports[i] };
	}
	snprintf(f->names[n], PC_NAME_MAX, "(default)");
	snprintf(f->classes[n], PC_NAME_MAX, "other");
	f->rs.nrules = (uint32_t)n;
	f->rs.boxes = f->boxes;
	f->rs.nboxes = n;
	f->rs.outs = f->outs;
	f->rs.rule_name = f->names;
	f->rs.class_name = f->classes;
	f->rs.redirect = f->redirect;
}

int main(void)
{
	static struct fake a, b;
	const char *na[] = { "web", "dns", "ssh", "sip" };
	const unsigned pa[] = { 80, 53, 22, 5060 };
	struct pc_rs_diff d;

	fake_init(&a, na, pa, 4);

	/* start: everything is added */
	CHECK(pc_ruleset_diff(NULL, &a.rs, &d) == 0);
	CHECK(d.added == 4 && d.removed == 0 && d.changed == 0);

	/* identical */
	fake_init(&b, na, pa, 4);
	CHECK(pc_ruleset_diff(&a.rs, &b.rs, &d) == 0);
	CHECK(d.added == 0 && d.removed == 0 && d.changed == 0);

	/* counter slots do not make a change */
	b.outs[1].slot = 7;
	b.outs[1].class_slot = 9;
	b.outs[1].redirect_ifindex = 3;
	CHECK(pc_ruleset_diff(&a.rs, &b.rs, &d) == 0);
	CHECK(d.changed == 0);

	/* reordered: a move is not a change */
	{
		const char *nb[] = { "sip", "ssh", "dns", "web" };
		const unsigned pb[] = { 5060, 22, 53, 80 };

		fake_init(&b, nb, pb, 4);
		CHECK(pc_ruleset_diff(&a.rs, &b.rs, &d) == 0);
		CHECK(d.added == 0 && d.removed == 0 && d.changed == 0);
	}

	/* one removed, two added, one match changed */
	{
		const char *nb[] = { "web", "ntp", "dns", "sip", "snmp" };
		const unsigned pb[] = { 8080, 123, 53, 5060, 161 };

		fake_init(&b, nb, pb, 5);
		CHECK(pc_ruleset_diff(&a.rs, &b.rs, &d) == 0);
		CHECK(d.added == 2 && d.removed == 1 && d.changed == 1);
	}

	/* outcome changes: action, mark, class, redirect, number of boxes */
	fake_init(&b, na, pa, 4);
	b.outs[0].action = PC_ACT_DROP;
	b.outs[1].mark = 0x20;
	b.outs[1].flags = PC_F_MARK;
	snprintf(b.classes[2], PC_NAME_MAX, "admin");
	snprintf(b.redirect[3], 16, "eth1");
	CHECK(pc_ruleset_diff(&a.rs, &b.rs, &d) == 0);
	CHECK(d.added == 0 && d.removed == 0 && d.changed == 4);

	fake_init(&b, na, pa, 4);
	b.boxes[2].nchecks = 2;
	b.boxes[2].c[1] = (struct pc_check){ .word = PC_W_PROTO, .op = PC_OP_RANGE, .a = 6, .b = 6 };
	CHECK(pc_ruleset_diff(&a.rs, &b.rs, &d) == 0);
	CHECK(d.changed == 1);

	/* everything gone */
	fake_init(&b, na, pa, 0);
	CHECK(pc_ruleset_diff(&a.rs, &b.rs, &d) == 0);
	CHECK(d.added == 0 && d.removed == 4 && d.changed == 0);

	if (!failures)
		fprintf(stderr, "test-rsdiff: ok\n");
	return check_exit();
}
