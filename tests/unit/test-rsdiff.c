/* SPDX-License-Identifier: GPL-2.0-only */
/* test-rsdiff - added / removed / changed rule counts between rule sets. */
#include <errno.h>
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

static void count_change(enum pc_rs_change what, const char *name, void *userdata)
{
	size_t *n = userdata;

	n[what]++;
	CHECK(name && name[0]);
}

/* pc_ruleset_diff() into *d, and the same through the digests of both
 * rule sets (what pktclassctl check compares), which must agree; the
 * digests also go through their file and back. */
static int both(const struct pc_ruleset *x, const struct pc_ruleset *y, struct pc_rs_diff *d)
{
	struct pc_rule_digest *dx = NULL, *dy = NULL, *back = NULL;
	struct pc_rs_diff e;
	size_t n[3] = {}, nback = 0;
	uint32_t gen = 0, pid = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r = pc_ruleset_diff(x, y, d);

	CHECK(pc_ruleset_digests(x, &dx) == 0);
	CHECK(pc_ruleset_digests(y, &dy) == 0);
	f = open_memstream(&text, &len);
	CHECK(pc_rule_digests_print(f, dx, x->nrules, 7, 4242) == 0);
	fclose(f);
	f = fmemopen(text, len, "r");
	CHECK(pc_rule_digests_read(f, &back, &nback, &gen, &pid) == 0);
	fclose(f);
	CHECK(nback == x->nrules && gen == 7 && pid == 4242);
	for (size_t i = 0; i < nback && i < x->nrules; i++)
		CHECK(!strcmp(back[i].name, dx[i].name) && back[i].digest == dx[i].digest);
	pc_rule_digests_diff(back, nback, dy, y->nrules, count_change, n, &e);
	CHECK(e.added == d->added && e.removed == d->removed && e.changed == d->changed,
	      "digests: %zu/%zu/%zu, rules: %zu/%zu/%zu", e.added, e.removed, e.changed,
	      d->added, d->removed, d->changed);
	CHECK(n[PC_RS_ADDED] == e.added && n[PC_RS_REMOVED] == e.removed &&
	      n[PC_RS_CHANGED] == e.changed);
	free(text);
	free(dx);
	free(dy);
	free(back);
	return r;
}

/* A file that is not one of ours is -EPROTO. */
static void bad_files(void)
{
	static const char *const bad[] = {
		"", "pktclassd-rules 2\ngeneration 1 2\n", "pktclassd-rules 1\n",
		"pktclassd-rules 1\ngeneration 1 2\nrule onlyname\n",
		"pktclassd-rules 1\ngeneration x y\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pc_rule_digest *v = NULL;
		uint32_t gen, pid;
		size_t n;
		FILE *f = fmemopen((void *)bad[i], strlen(bad[i]) + 1, "r");

		CHECK(pc_rule_digests_read(f, &v, &n, &gen, &pid) == -EPROTO, "bad file %zu", i);
		fclose(f);
		free(v);
	}
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
	CHECK(both(&a.rs, &b.rs, &d) == 0);
	CHECK(d.added == 0 && d.removed == 0 && d.changed == 0);

	/* counter slots do not make a change */
	b.outs[1].slot = 7;
	b.outs[1].class_slot = 9;
	b.outs[1].redirect_ifindex = 3;
	CHECK(both(&a.rs, &b.rs, &d) == 0);
	CHECK(d.changed == 0);

	/* reordered: a move is not a change */
	{
		const char *nb[] = { "sip", "ssh", "dns", "web" };
		const unsigned pb[] = { 5060, 22, 53, 80 };

		fake_init(&b, nb, pb, 4);
		CHECK(both(&a.rs, &b.rs, &d) == 0);
		CHECK(d.added == 0 && d.removed == 0 && d.changed == 0);
	}

	/* one removed, two added, one match changed */
	{
		const char *nb[] = { "web", "ntp", "dns", "sip", "snmp" };
		const unsigned pb[] = { 8080, 123, 53, 5060, 161 };

		fake_init(&b, nb, pb, 5);
		CHECK(both(&a.rs, &b.rs, &d) == 0);
		CHECK(d.added == 2 && d.removed == 1 && d.changed == 1);
	}

	/* outcome changes: action, mark, class, redirect, number of boxes */
	fake_init(&b, na, pa, 4);
	b.outs[0].action = PC_ACT_DROP;
	b.outs[1].mark = 0x20;
	b.outs[1].flags = PC_F_MARK;
	snprintf(b.classes[2], PC_NAME_MAX, "admin");
	snprintf(b.redirect[3], 16, "eth1");
	CHECK(both(&a.rs, &b.rs, &d) == 0);
	CHECK(d.added == 0 && d.removed == 0 && d.changed == 4);

	fake_init(&b, na, pa, 4);
	b.boxes[2].nchecks = 2;
	b.boxes[2].c[1] = (struct pc_check){ .word = PC_W_PROTO, .op = PC_OP_RANGE, .a = 6, .b = 6 };
	CHECK(both(&a.rs, &b.rs, &d) == 0);
	CHECK(d.changed == 1);

	/* everything gone */
	fake_init(&b, na, pa, 0);
	CHECK(both(&a.rs, &b.rs, &d) == 0);
	CHECK(d.added == 0 && d.removed == 4 && d.changed == 0);

	/* an interface check compares by pattern text, not by bit number */
	{
		static char *pa_pat[] = { "eth*", "br-*" }, *pb_pat[] = { "br-*", "eth*" };

		fake_init(&a, na, pa, 4);
		fake_init(&b, na, pa, 4);
		a.boxes[0].nchecks = b.boxes[0].nchecks = 2;
		a.boxes[0].c[1] = (struct pc_check){ .word = PC_W_IFBITS, .op = PC_OP_MASK,
						     .a = 1u << 1, .b = 1u << 1 };
		b.boxes[0].c[1] = (struct pc_check){ .word = PC_W_IFBITS, .op = PC_OP_MASK,
						     .a = 1u << 0, .b = 1u << 0 };
		a.rs.iface_patterns = pa_pat;
		b.rs.iface_patterns = pb_pat;
		a.rs.n_iface_patterns = b.rs.n_iface_patterns = 2;
		{
			struct pc_rule_digest *x = NULL, *y = NULL;

			CHECK(pc_ruleset_digests(&a.rs, &x) == 0 && pc_ruleset_digests(&b.rs, &y) == 0);
			CHECK(x && y && x[0].digest == y[0].digest, "same pattern, other bit");
			CHECK(x && y && x[1].digest == y[1].digest);
			b.rs.iface_patterns = pa_pat; /* now bit 0 means eth*: a change */
			free(y);
			y = NULL;
			CHECK(pc_ruleset_digests(&b.rs, &y) == 0);
			CHECK(x && y && x[0].digest != y[0].digest, "another pattern");
			free(x);
			free(y);
		}
	}
	bad_files();

	if (!failures)
		fprintf(stderr, "test-rsdiff: ok\n");
	return check_exit();
}
