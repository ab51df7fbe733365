/* SPDX-License-Identifier: GPL-2.0-only */
/* test-metrics - the Prometheus text of a hand-made pc_stats (families,
 * samples, label escaping, attachments of one interface and hook summed,
 * rule families only with rules, the daemon's counters or none), and the
 * stats file: a round trip, and files that are not ours. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "datapath/metrics.h"
#include "datapath/statsfile.h"

#define CAP 8

static void slot(struct pc_stats *s, uint32_t i, uint32_t kind, const char *name, const char *cls)
{
	s->slots[i].kind = kind;
	snprintf(s->slots[i].name, PC_NAME_MAX, "%s", name);
	snprintf(s->slots[i].class_name, PC_NAME_MAX, "%s", cls);
}

static void att(struct pc_stats *s, const char *ifname, uint32_t hook, uint32_t slot_no)
{
	struct pc_stats_attach *a = &s->att[s->natt++];

	snprintf(a->info.ifname, sizeof(a->info.ifname), "%s", ifname);
	a->info.hook = hook;
	a->info.ifindex = slot_no + 10;
	a->info.flags = PC_ATT_IN_USE;
	a->slot = slot_no;
	a->by_slot = calloc(CAP, sizeof(*a->by_slot));
}

/* Three attachments: two of one interface name and hook (a name reused),
 * one other; rule sip (class voice), the default (class other). */
static struct pc_stats *make(void)
{
	struct pc_stats *s = calloc(1, sizeof(*s));

	s->meta = (struct pc_meta){ .magic = PC_META_MAGIC, .abi_version = PC_ABI_VERSION,
				    .generation = 4, .nrules = 1, .nclasses = 2, .slot_cap = CAP,
				    .loaded_realtime_usec = 1700000000123456ull, .pid = 77 };
	snprintf(s->meta.config_path, sizeof(s->meta.config_path), "/etc/p k/c.yaml");
	snprintf(s->meta.status, sizeof(s->meta.status), "generation 4, 1 rules\nsecond");
	s->slot_cap = CAP;
	s->slots = calloc(CAP, sizeof(*s->slots));
	slot(s, PC_SLOT_DEFAULT, PC_SLOT_RULE, "(default)", "other");
	slot(s, PC_SLOT_MALFORMED, PC_SLOT_RULE, "(malformed)", "");
	slot(s, PC_SLOT_WOULD_DROP, PC_SLOT_RESERVED, "(would-drop)", "");
	slot(s, 3, PC_SLOT_RULE, "sip", "voice");
	slot(s, 4, PC_SLOT_CLASS, "voice", "");
	slot(s, 5, PC_SLOT_CLASS, "other", "");
	s->att = calloc(3, sizeof(*s->att));
	att(s, "e\"q\\1", PC_HOOK_INGRESS, 0);
	att(s, "e\"q\\1", PC_HOOK_INGRESS, 1);
	att(s, "br0", PC_HOOK_MONITOR, 2);
	s->att[0].by_slot[3] = s->att[0].by_slot[4] = (struct pc_count){ 10, 1000 };
	s->att[1].by_slot[3] = s->att[1].by_slot[4] = (struct pc_count){ 5, 500 };
	s->att[2].by_slot[0] = s->att[2].by_slot[5] = (struct pc_count){ 7, 700 };
	s->att[2].by_slot[PC_SLOT_WOULD_DROP] = (struct pc_count){ 2, 120 };
	s->att[0].by_slot[PC_SLOT_MALFORMED] = (struct pc_count){ 1, 60 };
	CHECK(pc_stats_sum_totals(s) == 0);
	return s;
}

static char *render(const struct pc_metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(pc_metrics_write(f, m) == 0);
	fclose(f);
	return text;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define LINE(t, l) CHECK(has_line(t, l), "no line: %s", l)
#define NO_LINE(t, l) CHECK(!has_line(t, l), "unexpected line: %s", l)

static void test_metrics(void)
{
	struct pc_stats *s = make();
	struct pc_daemon_counters dc = { .reloads_ok = 3, .reloads_failed = 1, .log_suppressed = 9 };
	struct pc_set_count sets[] = {
		{ .name = "blocklist", .family = "ipv4", .elements = 12 },
		{ .name = "blocklist", .family = "ipv6", .elements = 0 },
		{ .name = "web\"s", .family = "port", .elements = 3 },
	};
	struct pc_metrics m = { .s = s, .daemon = &dc, .sets = sets, .nsets = 3, .rules = true };
	char *t = render(&m);
	const char *eq = "iface=\"e\\\"q\\\\1\",hook=\"ingress\"";
	char l[256];

	snprintf(l, sizeof(l), "pktclass_class_packets_total{class=\"voice\",%s} 15", eq);
	LINE(t, l);
	snprintf(l, sizeof(l), "pktclass_class_bytes_total{class=\"voice\",%s} 1500", eq);
	LINE(t, l);
	LINE(t, "pktclass_class_packets_total{class=\"other\",iface=\"br0\",hook=\"monitor\"} 7");
	LINE(t, "pktclass_class_packets_total{class=\"voice\",iface=\"br0\",hook=\"monitor\"} 0");
	snprintf(l, sizeof(l), "pktclass_rule_packets_total{rule=\"sip\",class=\"voice\",%s} 15", eq);
	LINE(t, l);
	LINE(t, "pktclass_rule_packets_total{rule=\"(default)\",class=\"other\",iface=\"br0\",hook=\"monitor\"} 7");
	CHECK(!strstr(t, "rule=\"(malformed)\""));
	CHECK(!strstr(t, "(would-drop)"));
	snprintf(l, sizeof(l), "pktclass_malformed_packets_total{%s} 1", eq);
	LINE(t, l);
	LINE(t, "pktclass_would_drop_packets_total{iface=\"br0\",hook=\"monitor\"} 2");
	LINE(t, "pktclass_would_drop_bytes_total{iface=\"br0\",hook=\"monitor\"} 120");
	LINE(t, "pktclass_generation 4");
	LINE(t, "pktclass_rules 1");
	/* one sample per set and family, the empty family too */
	LINE(t, "pktclass_set_elements{set=\"blocklist\",family=\"ipv4\"} 12");
	LINE(t, "pktclass_set_elements{set=\"blocklist\",family=\"ipv6\"} 0");
	LINE(t, "pktclass_set_elements{set=\"web\\\"s\",family=\"port\"} 3");
	LINE(t, "# TYPE pktclass_set_elements gauge");
	LINE(t, "pktclass_reloads_total{result=\"ok\"} 3");
	LINE(t, "pktclass_reloads_total{result=\"failed\"} 1");
	LINE(t, "pktclass_last_reload_timestamp_seconds 1700000000.123");
	LINE(t, "pktclass_log_suppressed_total 9");
	LINE(t, "# TYPE pktclass_class_packets_total counter");
	LINE(t, "# TYPE pktclass_last_reload_timestamp_seconds gauge");
	CHECK(strlen(t) > 6 && !strcmp(t + strlen(t) - 6, "# EOF\n"), "the end: %s", t);
	/* one label set per interface and hook: the two attachments are one sample */
	{
		size_t n = 0;

		snprintf(l, sizeof(l), "pktclass_class_packets_total{class=\"voice\",%s}", eq);
		for (const char *p = t; (p = strstr(p, l)); p++)
			n++;
		CHECK_EQ(n, 1);
	}
	free(t);

	/* without rules, without the daemon's counters */
	m = (struct pc_metrics){ .s = s };
	t = render(&m);
	CHECK(!strstr(t, "pktclass_rule_"), "rule families without --rules");
	LINE(t, "# TYPE pktclass_reloads_total counter");
	CHECK(!strstr(t, "pktclass_reloads_total{"), "reload samples without the daemon's file");
	CHECK(!strstr(t, "\npktclass_log_suppressed_total "));
	LINE(t, "# TYPE pktclass_set_elements gauge");
	CHECK(!strstr(t, "pktclass_set_elements{"));
	free(t);
	pc_stats_free(s);
}

static void test_statsfile(void)
{
	struct pc_stats *s = make(), *back = NULL;
	struct pc_set_count sets[] = { { .name = "b", .family = "ipv6", .elements = 3 },
				       { .name = "p", .family = "port", .elements = 0 } };
	struct pc_statsfile sf = { .written_usec = 1700000000000001ull, .pid = 99, .running = true,
				   .daemon = { 2, 1, 5, 4 }, .sets = sets, .nsets = 2 }, rd;
	char path[] = "/tmp/test-metrics.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	CHECK(pc_statsfile_print(f, s, &sf) == 0);
	fclose(f);
	CHECK(pc_statsfile_read(path, &back, &rd) == 0);
	if (back) {
		CHECK_EQ(back->slot_cap, CAP);
		CHECK_EQ(back->natt, 3);
		CHECK_EQ(back->meta.generation, 4);
		CHECK_EQ(back->meta.loaded_realtime_usec, 1700000000123456ull);
		CHECK_STR(back->meta.config_path, "/etc/p k/c.yaml");
		CHECK_STR(back->meta.status, "generation 4, 1 rules?second");
		for (uint32_t i = 0; i < CAP; i++) {
			CHECK_EQ(back->slots[i].kind, s->slots[i].kind);
			CHECK_STR(back->slots[i].name, s->slots[i].name);
			CHECK_STR(back->slots[i].class_name, s->slots[i].class_name);
			CHECK_EQ(back->total[i].packets, s->total[i].packets);
			CHECK_EQ(back->total[i].bytes, s->total[i].bytes);
		}
		for (size_t a = 0; a < 3 && a < back->natt; a++) {
			CHECK_STR(back->att[a].info.ifname, s->att[a].info.ifname);
			CHECK_EQ(back->att[a].info.hook, s->att[a].info.hook);
			CHECK_EQ(back->att[a].by_slot[3].packets, s->att[a].by_slot[3].packets);
		}
		CHECK(rd.running && rd.pid == 99 && rd.written_usec == sf.written_usec);
		CHECK(rd.daemon.reloads_ok == 2 && rd.daemon.reloads_failed == 1 &&
		      rd.daemon.log_suppressed == 5 && rd.daemon.log_suppressed_daemon == 4);
		CHECK(rd.nsets == 2 && !strcmp(rd.sets[0].name, "b") &&
		      !strcmp(rd.sets[0].family, "ipv6") && rd.sets[0].elements == 3 &&
		      !strcmp(rd.sets[1].name, "p") && !strcmp(rd.sets[1].family, "port") &&
		      rd.sets[1].elements == 0, "sets read back: %zu", rd.nsets);
	}
	pc_stats_freep(&back);
	pc_statsfile_clear(&rd);
	pc_stats_free(s);

	/* files that are not ours, or cut short */
	static const char *const bad[] = {
		"",
		"pktclassd-stats 2\nend\n",
		"pktclassd-stats 1\nwritten 1 2 running\ndaemon 0 0 0 0\nmeta 1 0 0 0 8 0 1\n",
		"pktclassd-stats 1\nmeta 1 0 0 0 8 0 1\nslot 9 1 0 x y\nend\n",
		"pktclassd-stats 1\nmeta 1 0 0 0 8 0 1\ncnt 0 1 2 3\nend\n",
		"pktclassd-stats 1\nslot 1 1 0 x y\nmeta 1 0 0 0 8 0 1\nend\n",
		"pktclassd-stats 1\nmeta 1 0 0 0 999999999 0 1\nend\n",
		"pktclassd-stats 1\nwritten 1 2 sleeping\nmeta 1 0 0 0 8 0 1\nend\n",
		"pktclassd-stats 1\nmeta 1 0 0 0 8 0 1\nend\nslot 1 1 0 x y\n",
		"pktclassd-stats 1\nmeta 1 0 0 0 8 0 1\nset b 3\nend\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		back = NULL;
		CHECK(pc_statsfile_read(path, &back, &rd) == -EPROTO, "bad file %zu", i);
		CHECK(!back);
	}
	unlink(path);
	CHECK(pc_statsfile_read(path, &back, &rd) == -ENOENT);
}

int main(void)
{
	test_metrics();
	test_statsfile();
	if (!failures)
		fprintf(stderr, "test-metrics: ok (%u checks)\n", checks);
	return check_exit();
}
