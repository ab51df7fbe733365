/* SPDX-License-Identifier: GPL-2.0-only */
/* metrics.c - pc_stats as Prometheus text (metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/metrics.h"
#include "lib/util.h"

/* Attachments with the same interface name and hook: one label set. */
struct group {
	const char *ifname;
	uint32_t hook;
	size_t *att;  /* indices into s->att */
	size_t n;
};

struct groups {
	struct group *v;
	size_t n;
	size_t *idx;  /* storage for every group's att */
};

static const char *hook_name(uint32_t hook)
{
	static const char *const names[PC_HOOK_MAX] = {
		[PC_HOOK_INGRESS] = "ingress", [PC_HOOK_EGRESS] = "egress",
		[PC_HOOK_MONITOR] = "monitor",
	};

	return hook < PC_HOOK_MAX ? names[hook] : "unknown";
}

static int groups_build(const struct pc_stats *s, struct groups *g)
{
	size_t used = 0;

	*g = (struct groups){};
	g->v = calloc(s->natt ? s->natt : 1, sizeof(*g->v));
	g->idx = calloc(s->natt ? s->natt : 1, sizeof(*g->idx));
	if (!g->v || !g->idx)
		return -ENOMEM;
	/* quadratic in the attachments, a few hundred at most */
	for (size_t a = 0; a < s->natt; a++) {
		const struct pc_attach_info *i = &s->att[a].info;
		bool found = false;

		for (size_t k = 0; k < g->n && !found; k++)
			found = g->v[k].hook == i->hook && !strcmp(g->v[k].ifname, i->ifname);
		if (found)
			continue;
		g->v[g->n] = (struct group){ .ifname = i->ifname, .hook = i->hook, .att = g->idx + used };
		for (size_t b = a; b < s->natt; b++)
			if (s->att[b].info.hook == i->hook && !strcmp(s->att[b].info.ifname, i->ifname))
				g->idx[used++] = b, g->v[g->n].n++;
		g->n++;
	}
	return 0;
}

static void groups_free(struct groups *g)
{
	free(g->v);
	free(g->idx);
}

void pc_metrics_label(FILE *f, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f), fputc(*p, f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static struct pc_count group_count(const struct pc_stats *s, const struct group *g, uint32_t slot)
{
	struct pc_count c = {};

	for (size_t k = 0; k < g->n; k++) {
		c.packets += s->att[g->att[k]].by_slot[slot].packets;
		c.bytes += s->att[g->att[k]].by_slot[slot].bytes;
	}
	return c;
}

static void label(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s=\"", name);
	pc_metrics_label(f, value);
	fputc('"', f);
}

/* One sample: NAME{[rule=..,]class=..,iface=..,hook=..} VALUE, or without
 * a slot NAME{iface=..,hook=..} VALUE. */
static void sample(FILE *f, const char *name, const struct pc_slot_name *sl, bool rule,
		   const struct group *g, uint64_t value)
{
	fprintf(f, "%s{", name);
	if (sl && rule) {
		label(f, "rule", sl->name);
		fputc(',', f);
		label(f, "class", sl->class_name);
		fputc(',', f);
	} else if (sl) {
		label(f, "class", sl->name);
		fputc(',', f);
	}
	label(f, "iface", g->ifname);
	fprintf(f, ",hook=\"%s\"} %" PRIu64 "\n", hook_name(g->hook), value);
}

/* The packets and bytes families of the class slots, or of the rule slots
 * ("(default)" included, "(malformed)" not). */
static void counts(FILE *f, const struct pc_stats *s, const struct groups *g, bool rule)
{
	static const char *const names[2][2] = {
		{ "pktclass_class_packets_total", "pktclass_class_bytes_total" },
		{ "pktclass_rule_packets_total", "pktclass_rule_bytes_total" },
	};

	for (int bytes = 0; bytes < 2; bytes++) {
		family(f, names[rule][bytes], "counter",
		       rule ? bytes ? "Bytes decided by each rule, per interface and hook."
				    : "Packets decided by each rule, per interface and hook."
			    : bytes ? "Bytes counted in each traffic class, per interface and hook."
				    : "Packets counted in each traffic class, per interface and hook.");
		for (uint32_t i = 0; i < s->slot_cap; i++) {
			const struct pc_slot_name *sl = &s->slots[i];

			if (sl->kind != (rule ? PC_SLOT_RULE : PC_SLOT_CLASS) || i == PC_SLOT_MALFORMED)
				continue;
			for (size_t k = 0; k < g->n; k++) {
				struct pc_count c = group_count(s, &g->v[k], i);

				sample(f, names[rule][bytes], sl, rule, &g->v[k],
				       bytes ? c.bytes : c.packets);
			}
		}
	}
}

/* A family of one reserved slot's packets or bytes, per interface and hook. */
static void reserved(FILE *f, const struct pc_stats *s, const struct groups *g, const char *name,
		     const char *help, uint32_t slot, bool bytes)
{
	family(f, name, "counter", help);
	if (s->slot_cap <= slot)
		return;
	for (size_t k = 0; k < g->n; k++) {
		struct pc_count c = group_count(s, &g->v[k], slot);

		sample(f, name, NULL, false, &g->v[k], bytes ? c.bytes : c.packets);
	}
}

static void malformed(FILE *f, const struct pc_stats *s, const struct groups *g)
{
	reserved(f, s, g, "pktclass_malformed_packets_total",
		 "Packets with broken or cut L2/L3 headers, passed unclassified.",
		 PC_SLOT_MALFORMED, false);
	reserved(f, s, g, "pktclass_would_drop_packets_total",
		 "Packets that monitor hooks saw with a drop outcome (not enforced there).",
		 PC_SLOT_WOULD_DROP, false);
	reserved(f, s, g, "pktclass_would_drop_bytes_total",
		 "Bytes that monitor hooks saw with a drop outcome (not enforced there).",
		 PC_SLOT_WOULD_DROP, true);
}

static void state(FILE *f, const struct pc_metrics *m)
{
	const struct pc_meta *meta = &m->s->meta;

	family(f, "pktclass_generation", "gauge", "The generation of the rules that classify now.");
	fprintf(f, "pktclass_generation %" PRIu32 "\n", meta->generation);
	family(f, "pktclass_rules", "gauge", "Rules in the live configuration.");
	fprintf(f, "pktclass_rules %" PRIu32 "\n", meta->nrules);
	family(f, "pktclass_set_elements", "gauge",
	       "Elements in each set, by family (ipv4, ipv6; port for a port set).");
	for (size_t i = 0; i < m->nsets; i++) {
		fputs("pktclass_set_elements{set=\"", f);
		pc_metrics_label(f, m->sets[i].name);
		fputs("\",family=\"", f);
		pc_metrics_label(f, m->sets[i].family);
		fprintf(f, "\"} %" PRIu64 "\n", m->sets[i].elements);
	}
	family(f, "pktclass_reloads_total", "counter",
	       "Reloads (SIGHUP) of the configuration, by result.");
	if (m->daemon)
		fprintf(f, "pktclass_reloads_total{result=\"ok\"} %" PRIu64 "\n"
			"pktclass_reloads_total{result=\"failed\"} %" PRIu64 "\n",
			m->daemon->reloads_ok, m->daemon->reloads_failed);
	family(f, "pktclass_last_reload_timestamp_seconds", "gauge",
	       "When the live rules took effect (start or successful reload), Unix time.");
	fprintf(f, "pktclass_last_reload_timestamp_seconds %" PRIu64 ".%03" PRIu64 "\n",
		(uint64_t)meta->loaded_realtime_usec / 1000000,
		(uint64_t)meta->loaded_realtime_usec / 1000 % 1000);
	family(f, "pktclass_log_suppressed_total", "counter",
	       "Packet-log records not written (over settings.log_rate, or the ring full).");
	if (m->daemon)
		fprintf(f, "pktclass_log_suppressed_total %" PRIu64 "\n", m->daemon->log_suppressed);
}

int pc_metrics_write(FILE *f, const struct pc_metrics *m)
{
	struct groups g;
	int r;

	r = groups_build(m->s, &g);
	if (r < 0) {
		groups_free(&g);
		return r;
	}
	counts(f, m->s, &g, false);
	if (m->rules)
		counts(f, m->s, &g, true);
	malformed(f, m->s, &g);
	state(f, m);
	fputs("# EOF\n", f);
	groups_free(&g);
	return ferror(f) ? -EIO : 0;
}
