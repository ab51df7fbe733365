/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl stats: packets and bytes per class and rule, in total and
 * per interface and hook. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "lib/json.h"
#include "datapath/metrics.h"
#include "datapath/stats.h"
#include "datapath/statsfile.h"

/* ---- JSON --------------------------------------------------------------- */
/* Per attachment (with monitor_only, of monitor hooks only). */
static void json_interfaces(struct pc_json *j, const struct pc_stats *s, uint32_t slot,
			    bool monitor_only)
{
	pc_json_key(j, "interfaces");
	pc_json_array_begin(j);
	for (size_t i = 0; i < s->natt; i++) {
		const struct pc_stats_attach *a = &s->att[i];

		if (monitor_only && a->info.hook != PC_HOOK_MONITOR)
			continue;
		pc_json_object_begin(j);
		pc_json_kv_string(j, "iface", a->info.ifname);
		pc_json_kv_u64(j, "ifindex", a->info.ifindex);
		pc_json_kv_string(j, "hook", ctl_hook_name(a->info.hook));
		pc_json_kv_u64(j, "packets", a->by_slot[slot].packets);
		pc_json_kv_u64(j, "bytes", a->by_slot[slot].bytes);
		pc_json_object_end(j);
	}
	pc_json_array_end(j);
}

static void json_counts(struct pc_json *j, const struct pc_stats *s, uint32_t slot)
{
	pc_json_kv_u64(j, "packets", s->total[slot].packets);
	pc_json_kv_u64(j, "bytes", s->total[slot].bytes);
	json_interfaces(j, s, slot, false);
}

static void json_rows(struct pc_json *j, const struct pc_stats *s, const char *key,
		      const struct ctl_row *rows, size_t n)
{
	pc_json_key(j, key);
	pc_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		pc_json_object_begin(j);
		pc_json_kv_string(j, "name", rows[i].name);
		if (rows[i].class_name)
			pc_json_kv_string(j, "class", rows[i].class_name);
		json_counts(j, s, rows[i].slot);
		pc_json_object_end(j);
	}
	pc_json_array_end(j);
}

static bool has_monitor(const struct pc_stats *s)
{
	for (size_t i = 0; i < s->natt; i++)
		if (s->att[i].info.hook == PC_HOOK_MONITOR)
			return true;
	return false;
}

/* On a monitor hook nothing is enforced: what its rules would have
 * dropped is counted in PC_SLOT_WOULD_DROP (0 on TC hooks, where a drop
 * is a drop: the rule's own count). */
static void json_would_drop(struct pc_json *j, const struct pc_stats *s)
{
	pc_json_key(j, "would_drop");
	pc_json_object_begin(j);
	pc_json_kv_u64(j, "packets", s->total[PC_SLOT_WOULD_DROP].packets);
	pc_json_kv_u64(j, "bytes", s->total[PC_SLOT_WOULD_DROP].bytes);
	json_interfaces(j, s, PC_SLOT_WOULD_DROP, true);
	pc_json_object_end(j);
}

static int stats_json(const struct ctl_view *v, bool rules)
{
	const struct pc_stats *s = v->s;
	struct pc_json j;

	pc_json_init(&j, stdout, true);
	pc_json_object_begin(&j);
	pc_json_kv_u64(&j, "generation", s->meta.generation);
	json_rows(&j, s, "classes", v->classes, v->nclasses);
	if (rules)
		json_rows(&j, s, "rules", v->rules, v->nrules);
	pc_json_key(&j, "default");
	pc_json_object_begin(&j);
	pc_json_kv_string(&j, "class", s->slots[PC_SLOT_DEFAULT].class_name);
	json_counts(&j, s, PC_SLOT_DEFAULT);
	pc_json_object_end(&j);
	pc_json_key(&j, "malformed");
	pc_json_object_begin(&j);
	json_counts(&j, s, PC_SLOT_MALFORMED);
	pc_json_object_end(&j);
	json_would_drop(&j, s);
	pc_json_object_end(&j);
	return pc_json_finish(&j) < 0 ? ctl_error("cannot write the output") : CTL_OK;
}

/* ---- text --------------------------------------------------------------- */
struct cols {
	int name, class_name;
};

static void text_line(const struct cols *w, const char *name, const char *class_name,
		      const struct pc_count *cnt)
{
	if (w->class_name)
		printf("%-*s  %-*s  %14" PRIu64 "  %16" PRIu64 "\n", w->name, name, w->class_name,
		       class_name ? class_name : "", cnt->packets, cnt->bytes);
	else
		printf("%-*s  %14" PRIu64 "  %16" PRIu64 "\n", w->name, name, cnt->packets,
		       cnt->bytes);
}

/* A total line, then a line per interface and hook. */
static void text_entry(const struct cols *w, const struct pc_stats *s, const char *name,
		       const char *class_name, uint32_t slot)
{
	text_line(w, name, class_name, &s->total[slot]);
	for (size_t i = 0; i < s->natt; i++) {
		char sub[64];

		snprintf(sub, sizeof(sub), "  %s %s", s->att[i].info.ifname,
			 ctl_hook_name(s->att[i].info.hook));
		text_line(w, sub, NULL, &s->att[i].by_slot[slot]);
	}
}

static int width_of(const struct ctl_row *rows, size_t n, bool class_name, int min)
{
	int w = min;

	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(class_name ? rows[i].class_name : rows[i].name);

		if (l > w)
			w = l;
	}
	return w;
}

static struct cols base_cols(const struct pc_stats *s)
{
	struct cols w = { .name = (int)strlen("(malformed)") };

	for (size_t i = 0; i < s->natt; i++) {
		int l = 3 + (int)strlen(s->att[i].info.ifname) +
			(int)strlen(ctl_hook_name(s->att[i].info.hook));

		if (l > w.name)
			w.name = l;
	}
	return w;
}

static void text_classes(const struct ctl_view *v)
{
	const struct pc_stats *s = v->s;
	struct cols w = base_cols(s);

	w.name = width_of(v->classes, v->nclasses, false, w.name);
	printf("%-*s  %14s  %16s\n", w.name, "CLASS", "PACKETS", "BYTES");
	for (size_t i = 0; i < v->nclasses; i++)
		text_entry(&w, s, v->classes[i].name, NULL, v->classes[i].slot);
}

static void text_rules(const struct ctl_view *v)
{
	const struct pc_stats *s = v->s;
	struct cols w = base_cols(s);

	w.name = width_of(v->rules, v->nrules, false, w.name);
	w.class_name = width_of(v->rules, v->nrules, true, (int)strlen("CLASS"));
	if ((int)strlen(s->slots[PC_SLOT_DEFAULT].class_name) > w.class_name)
		w.class_name = (int)strlen(s->slots[PC_SLOT_DEFAULT].class_name);
	printf("%-*s  %-*s  %14s  %16s\n", w.name, "RULE", w.class_name, "CLASS", "PACKETS",
	       "BYTES");
	for (size_t i = 0; i < v->nrules; i++)
		text_entry(&w, s, v->rules[i].name, v->rules[i].class_name, v->rules[i].slot);
	text_entry(&w, s, "(default)", s->slots[PC_SLOT_DEFAULT].class_name, PC_SLOT_DEFAULT);
	text_entry(&w, s, "(malformed)", "-", PC_SLOT_MALFORMED);
}

static void text_would_drop(const struct pc_stats *s)
{
	const struct pc_count *t = &s->total[PC_SLOT_WOULD_DROP];

	if (!has_monitor(s))
		return;
	printf("would drop (monitor hooks, not enforced): %" PRIu64 " packets, %" PRIu64 " bytes\n",
	       t->packets, t->bytes);
	for (size_t i = 0; i < s->natt; i++) {
		const struct pc_stats_attach *a = &s->att[i];

		if (a->info.hook == PC_HOOK_MONITOR)
			printf("  %s monitor: %" PRIu64 " packets, %" PRIu64 " bytes\n", a->info.ifname,
			       a->by_slot[PC_SLOT_WOULD_DROP].packets, a->by_slot[PC_SLOT_WOULD_DROP].bytes);
	}
}

static int stats_text(const struct ctl_view *v, bool rules)
{
	const struct pc_stats *s = v->s;
	const struct pc_count *mal = &s->total[PC_SLOT_MALFORMED];

	printf("generation %" PRIu32 ": %" PRIu32 " rules, %zu classes, %zu attachments\n\n",
	       s->meta.generation, s->meta.nrules, v->nclasses, s->natt);
	text_classes(v);
	if (rules) {
		putchar('\n');
		text_rules(v);
	} else {
		printf("\nmalformed: %" PRIu64 " packets, %" PRIu64 " bytes\n", mal->packets,
		       mal->bytes);
	}
	if (rules && has_monitor(s))
		putchar('\n');
	text_would_drop(s);
	return fflush(stdout) == 0 ? CTL_OK : ctl_error("cannot write the output");
}

/* ---- OpenMetrics ---------------------------------------------------------- */
/* The daemon's own counters come from its stats file; without one (a
 * daemon with another runtime directory) those families have no samples. */
static int stats_openmetrics(const struct pc_stats *s, const struct pc_statsfile *sf, bool rules)
{
	struct pc_metrics m = {
		.s = s, .daemon = sf->pid ? &sf->daemon : NULL, .sets = sf->sets,
		.nsets = sf->nsets, .rules = rules,
	};

	if (pc_metrics_write(stdout, &m) < 0 || fflush(stdout) != 0)
		return ctl_error("cannot write the output");
	return CTL_OK;
}

/* ---- the command -------------------------------------------------------- */
enum {
	OPT_RULES = CTL_OPT_FIRST_PRIVATE,
	OPT_WATCH,
	OPT_OPENMETRICS,
};

static int parse_seconds(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.1 || v > 86400)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ctl_stats(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "rules", no_argument, NULL, OPT_RULES },
		{ "watch", required_argument, NULL, OPT_WATCH },
		{ "openmetrics", no_argument, NULL, OPT_OPENMETRICS },
		{},
	};
	struct pc_stats *s = NULL;
	struct pc_statsfile sf;
	struct ctl_view v;
	const char *pin_path;
	bool rules = false, om = false, from_file;
	double watch = 0;
	int o, stop, r;

	while ((o = ctl_getopt(c, argc, argv, "", longopts, &stop)) != -1) {
		if (o == OPT_RULES)
			rules = true;
		else if (o == OPT_OPENMETRICS)
			om = true;
		else if (o == OPT_WATCH && parse_seconds(optarg, &watch) < 0)
			return ctl_usage_error("--watch: '%s' is not a number of seconds (0.1 to 86400)", optarg);
	}
	if (stop >= 0)
		return stop;
	if (optind < argc)
		return ctl_usage_error("stats: unexpected argument '%s'", argv[optind]);
	if (om && (c->json || watch > 0))
		return ctl_usage_error("stats: --openmetrics goes with neither --json nor --watch");
	r = ctl_pin_path(c, &pin_path);
	if (r != CTL_OK)
		return r;
	if (watch > 0)
		return ctl_watch(c, pin_path, watch, rules);
	r = ctl_state_read(pin_path, om, &s, &sf, &from_file);
	if (r < 0)
		return ctl_stats_error(pin_path, r);
	if (from_file)
		ctl_state_source(stderr, &sf);
	if (om)
		r = stats_openmetrics(s, &sf, rules);
	else if (ctl_view_build(ctl_order_config(c, &s->meta), s, &v) < 0)
		r = ctl_error("out of memory");
	else {
		r = c->json ? stats_json(&v, rules) : stats_text(&v, rules);
		ctl_view_clear(&v);
	}
	pc_statsfile_clear(&sf);
	pc_stats_free(s);
	return r;
}
