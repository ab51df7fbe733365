/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl status, stats: the daemon's pinned state. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "lib/json.h"
#include "datapath/datapath.h"
#include "datapath/stats.h"
#include "datapath/statsfile.h"

#define ORDER_UNKNOWN UINT64_MAX
#define ORDER_FIRST_USE (1ull << 32) /* + rule index: after declared classes */

const char *ctl_hook_name(uint32_t hook)
{
	static const char *const names[PC_HOOK_MAX] = {
		[PC_HOOK_INGRESS] = "ingress",
		[PC_HOOK_EGRESS] = "egress",
		[PC_HOOK_MONITOR] = "monitor",
	};

	return hook < PC_HOOK_MAX ? names[hook] : "unknown";
}

int ctl_stats_error(const char *pin_path, int r)
{
	if (r == -ENOENT)
		return ctl_error("no pktclassd state under %s (is pktclassd running?)", pin_path);
	if (r == -EPROTO)
		return ctl_error("the state under %s is not from a compatible pktclassd", pin_path);
	if (r == -EPERM || r == -EACCES)
		return ctl_error("cannot read the state under %s: %s (run as root, or as a member "
				 "of the group pktclassd while pktclassd runs)", pin_path,
				 strerror(-r));
	return ctl_error("cannot read the state under %s: %s", pin_path, strerror(-r));
}

int ctl_read_stats(const char *pin_path, struct pc_stats **ret)
{
	int r = pc_stats_read(pin_path, ret);

	return r < 0 ? ctl_stats_error(pin_path, r) : CTL_OK;
}

/* ---- the view: class and rule rows in display order --------------------- */
static int row_by_name(const void *a, const void *b)
{
	return strcmp(((const struct ctl_row *)a)->name, ((const struct ctl_row *)b)->name);
}

static int row_by_order(const void *a, const void *b)
{
	const struct ctl_row *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct ctl_row *find_row(struct ctl_row *rows, size_t n, const char *name)
{
	struct ctl_row key = { .name = name };

	return bsearch(&key, rows, n, sizeof(*rows), row_by_name);
}

static void lower_order(struct ctl_row *r, uint64_t order)
{
	if (r && order < r->order)
		r->order = order;
}

const struct pc_config *ctl_order_config(struct ctl *c, const struct pc_meta *m)
{
	const char *path = c->config ? c->config : m->config_path;

	if (!path[0])
		return NULL;
	if (c->cfg && c->cfg->path && strcmp(c->cfg->path, path) == 0)
		return c->cfg;
	pc_config_freep(&c->cfg);
	if (ctl_load_config(c, path, true) < 0)
		return NULL;
	return c->cfg;
}

/* Classes: declared ones in declaration order, then by the first rule that
 * uses them, then (stale or unknown) by name. */
static void order_classes(const struct pc_config *order, const struct pc_stats *s,
			  struct ctl_row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), row_by_name);
	for (size_t i = 0; order && i < order->n_classes; i++)
		lower_order(find_row(rows, n, order->classes[i].name), i);
	for (uint32_t i = 0; i < s->slot_cap; i++) {
		const struct pc_slot_name *sl = &s->slots[i];

		if (sl->kind != PC_SLOT_RULE || i == PC_SLOT_MALFORMED)
			continue;
		lower_order(find_row(rows, n, sl->class_name), ORDER_FIRST_USE + sl->rule_index);
	}
	qsort(rows, n, sizeof(*rows), row_by_order);
}

int ctl_view_build(const struct pc_config *order, struct pc_stats *s, struct ctl_view *v)
{
	memset(v, 0, sizeof(*v));
	v->s = s;
	v->classes = calloc(s->slot_cap + 1, sizeof(*v->classes));
	v->rules = calloc(s->slot_cap + 1, sizeof(*v->rules));
	if (!v->classes || !v->rules) {
		ctl_view_clear(v);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < s->slot_cap; i++) {
		const struct pc_slot_name *sl = &s->slots[i];

		if (sl->kind == PC_SLOT_CLASS)
			v->classes[v->nclasses++] = (struct ctl_row) {
				.name = sl->name, .slot = i, .order = ORDER_UNKNOWN };
		else if (sl->kind == PC_SLOT_RULE && i != PC_SLOT_DEFAULT && i != PC_SLOT_MALFORMED)
			v->rules[v->nrules++] = (struct ctl_row) {
				.name = sl->name, .class_name = sl->class_name, .slot = i,
				.order = sl->rule_index };
	}
	order_classes(order, s, v->classes, v->nclasses);
	qsort(v->rules, v->nrules, sizeof(*v->rules), row_by_order);
	return 0;
}

void ctl_view_clear(struct ctl_view *v)
{
	free(v->classes);
	free(v->rules);
	v->classes = v->rules = NULL;
	v->nclasses = v->nrules = 0;
}

/* ---- status ----------------------------------------------------------- */
static bool daemon_running(uint32_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid == 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	return strcmp(comm, "pktclassd") == 0;
}

static void status_json(const struct pc_stats *s, const char *pin_path, bool running,
			const struct pc_fc_stats *fc)
{
	const struct pc_meta *m = &s->meta;
	struct pc_json j;
	char when[64];

	ctl_format_time(m->loaded_realtime_usec, when, sizeof(when));
	pc_json_init(&j, stdout, true);
	pc_json_object_begin(&j);
	pc_json_kv_bool(&j, "running", running);
	pc_json_kv_u64(&j, "pid", m->pid);
	pc_json_kv_string(&j, "pin_path", pin_path);
	pc_json_kv_string(&j, "config", m->config_path);
	pc_json_kv_u64(&j, "generation", m->generation);
	pc_json_kv_u64(&j, "rules", m->nrules);
	pc_json_kv_u64(&j, "classes", m->nclasses);
	pc_json_kv_u64(&j, "slot_cap", m->slot_cap);
	pc_json_kv_string(&j, "loaded", when);
	pc_json_kv_u64(&j, "loaded_usec", m->loaded_realtime_usec);
	pc_json_kv_string(&j, "reload", m->flags & PC_META_RELOAD_FAILED ? "failed" : "ok");
	pc_json_kv_string(&j, "status", m->status);
	if (fc) {
		pc_json_key(&j, "flow_cache");
		pc_json_object_begin(&j);
		pc_json_kv_u64(&j, "entries_per_cpu", fc->entries_per_cpu);
		pc_json_kv_u64(&j, "cpus", fc->ncpu);
		pc_json_kv_u64(&j, "hits", fc->hits);
		pc_json_kv_u64(&j, "misses", fc->misses);
		pc_json_kv_u64(&j, "inserts", fc->inserts);
		pc_json_kv_u64(&j, "bypassed", fc->bypassed);
		pc_json_object_end(&j);
	}
	pc_json_key(&j, "attachments");
	pc_json_array_begin(&j);
	for (size_t i = 0; i < s->natt; i++) {
		const struct pc_attach_info *a = &s->att[i].info;

		pc_json_object_begin(&j);
		pc_json_kv_string(&j, "iface", a->ifname);
		pc_json_kv_u64(&j, "ifindex", a->ifindex);
		pc_json_kv_string(&j, "hook", ctl_hook_name(a->hook));
		pc_json_kv_u64(&j, "prog_id", a->prog_id);
		pc_json_kv_string(&j, "state", a->flags & PC_ATT_MISSING ? "missing" : "attached");
		pc_json_object_end(&j);
	}
	pc_json_array_end(&j);
	pc_json_object_end(&j);
	pc_json_finish(&j);
}

static void status_text(const struct pc_stats *s, const char *pin_path, bool running,
			const struct pc_fc_stats *fc)
{
	const struct pc_meta *m = &s->meta;
	char when[64];

	ctl_format_time(m->loaded_realtime_usec, when, sizeof(when));
	if (running)
		printf("pktclassd:   running (pid %" PRIu32 ")\n", m->pid);
	else
		printf("pktclassd:   not running (state left pinned under %s)\n", pin_path);
	printf("config:      %s\n", m->config_path);
	printf("generation:  %" PRIu32 "\n", m->generation);
	printf("rules:       %" PRIu32 " (%" PRIu32 " classes)\n", m->nrules, m->nclasses);
	printf("counters:    %" PRIu32 " slots per attachment\n", m->slot_cap);
	printf("loaded:      %s\n", when);
	printf("last reload: %s\n", m->flags & PC_META_RELOAD_FAILED ? "failed" : "ok");
	printf("status:      %s\n", m->status);
	if (fc && fc->entries_per_cpu)
		printf("flow cache:  %" PRIu32 " entries a CPU, %" PRIu32 " CPUs; since the load: "
		       "%" PRIu64 " hits (%.1f%% of the packets), %" PRIu64 " misses, %" PRIu64
		       " inserts, %" PRIu64 " not looked up (flood)\n", fc->entries_per_cpu, fc->ncpu,
		       fc->hits, pc_fc_hit_pct(fc), fc->misses, fc->inserts, fc->bypassed);
	else if (fc)
		printf("flow cache:  off\n");
	printf("pin path:    %s\n", pin_path);
	printf("attachments: %zu\n", s->natt);
	for (size_t i = 0; i < s->natt; i++) {
		const struct pc_attach_info *a = &s->att[i].info;

		printf("  %-16s %-8s prog %" PRIu32 "%s\n", a->ifname, ctl_hook_name(a->hook),
		       a->prog_id, a->flags & PC_ATT_MISSING ? "  MISSING (removed by someone "
		       "else; being put back)" : "");
	}
}

static void not_running_json(const char *pin_path)
{
	struct pc_json j;

	pc_json_init(&j, stdout, true);
	pc_json_object_begin(&j);
	pc_json_kv_bool(&j, "running", false);
	pc_json_kv_string(&j, "pin_path", pin_path);
	pc_json_key(&j, "attachments");
	pc_json_array_begin(&j);
	pc_json_array_end(&j);
	pc_json_object_end(&j);
	pc_json_finish(&j);
}

/* Exit status: 0 when the state could be read and shown, whether or not
 * the daemon still runs (with keep_on_exit its programs go on classifying);
 * 1 when there is no state at all (nothing pinned: not running), or it
 * cannot be read.  With --json that case still prints
 * {"running": false, ...} before exiting 1. */
int ctl_status(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = { CTL_COMMON_LONGOPTS, {} };
	struct pc_stats *s = NULL;
	struct pc_statsfile sf;
	struct pc_fc_stats fc;
	const char *pin_path;
	bool from_file, have_fc;
	int stop, r;

	if (ctl_getopt(c, argc, argv, "", longopts, &stop) != -1 || stop >= 0)
		return stop >= 0 ? stop : CTL_USAGE;
	if (optind < argc)
		return ctl_usage_error("status: unexpected argument '%s'", argv[optind]);
	r = ctl_pin_path(c, &pin_path);
	if (r != CTL_OK)
		return r;
	r = ctl_state_read(pin_path, false, &s, &sf, &from_file);
	if (r == -ENOENT) {
		if (c->json)
			not_running_json(pin_path);
		return ctl_error("pktclassd is not running (no state under %s)", pin_path);
	}
	if (r < 0)
		return ctl_stats_error(pin_path, r);
	if (from_file)
		ctl_state_source(stderr, &sf);
	/* the flow cache's counts are in the live maps: root only */
	have_fc = !from_file && pc_dp_live_fc_stats(pin_path, &fc) == 0;
	if (c->json)
		status_json(s, pin_path, daemon_running(s->meta.pid), have_fc ? &fc : NULL);
	else
		status_text(s, pin_path, daemon_running(s->meta.pid), have_fc ? &fc : NULL);
	pc_statsfile_clear(&sf);
	pc_stats_free(s);
	return CTL_OK;
}
