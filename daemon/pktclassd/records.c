/* SPDX-License-Identifier: GPL-2.0-only */
/* records.c - start / reload, stats and packet-log records for the journal. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "lib/log.h"
#include "pktclassd/records.h"
#include "lib/util.h"

static void record_init(struct pc_record *r, int level, const char *message_id)
{
	*r = (struct pc_record){ .level = level, .message_id = message_id };
}

bool pc_record_add(struct pc_record *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n >= PC_RECORD_FIELDS_MAX)
		return false;
	va_start(ap, fmt);
	vsnprintf(r->field[r->n], sizeof(r->field[r->n]), fmt, ap);
	va_end(ap);
	r->fields[r->n] = r->field[r->n];
	r->n++;
	r->fields[r->n] = NULL;
	return true;
}

void pc_record_emit(const struct pc_record *r)
{
	pc_log_struct(r->level, r->message_id, (const char **)r->fields, "%s", r->message);
}

void pc_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

void pc_record_generation(bool start, bool ok, uint32_t generation, uint32_t rules,
			  uint64_t usec, const struct pc_rs_diff *diff, const char *msg)
{
	struct pc_record r;

	record_init(&r, ok ? LOG_INFO : LOG_ERR, start ? PC_MID_START : PC_MID_RELOAD);
	snprintf(r.message, sizeof(r.message), "%s", msg);
	pc_record_add(&r, "PKTCLASS_GENERATION=%u", generation);
	pc_record_add(&r, "PKTCLASS_RULES=%u", rules);
	pc_record_add(&r, "PKTCLASS_RESULT=%s", ok ? "ok" : "failed");
	pc_record_add(&r, "PKTCLASS_DURATION_USEC=%llu", (unsigned long long)usec);
	pc_record_add(&r, "PKTCLASS_ADDED=%zu", diff->added);
	pc_record_add(&r, "PKTCLASS_REMOVED=%zu", diff->removed);
	pc_record_add(&r, "PKTCLASS_CHANGED=%zu", diff->changed);
	pc_record_emit(&r);
}

/* ---- stats ------------------------------------------------------------------ */

/* A counter that went down was reset: the delta is all of it. */
static uint64_t delta(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

static void format_seconds(uint64_t usec, char *buf, size_t len)
{
	if (usec < 10000000)
		snprintf(buf, len, "%.1f s", (double)usec / 1e6);
	else
		snprintf(buf, len, "%llu s", (unsigned long long)((usec + 500000) / 1000000));
}

void pc_record_build_stats(struct pc_record *r, const char *class_name, struct pc_count now,
			   struct pc_count before, uint32_t generation, uint64_t elapsed_usec)
{
	uint64_t dp = delta(now.packets, before.packets), db = delta(now.bytes, before.bytes);
	char dbytes[32], tbytes[32], secs[32] = "";

	record_init(r, LOG_INFO, PC_MID_STATS);
	pc_format_bytes(db, dbytes, sizeof(dbytes));
	pc_format_bytes(now.bytes, tbytes, sizeof(tbytes));
	if (elapsed_usec > 0)
		format_seconds(elapsed_usec, secs, sizeof(secs));
	snprintf(r->message, sizeof(r->message),
		 "class %s: %llu packets, %s%s%s (total %llu packets, %s)", class_name,
		 (unsigned long long)dp, dbytes, secs[0] ? " in " : "", secs,
		 (unsigned long long)now.packets, tbytes);
	pc_record_add(r, "PKTCLASS_CLASS=%s", class_name);
	pc_record_add(r, "PKTCLASS_PACKETS=%llu", (unsigned long long)now.packets);
	pc_record_add(r, "PKTCLASS_BYTES=%llu", (unsigned long long)now.bytes);
	pc_record_add(r, "PKTCLASS_PACKETS_DELTA=%llu", (unsigned long long)dp);
	pc_record_add(r, "PKTCLASS_BYTES_DELTA=%llu", (unsigned long long)db);
	pc_record_add(r, "PKTCLASS_GENERATION=%u", generation);
	if (elapsed_usec > 0)
		pc_record_add(r, "PKTCLASS_INTERVAL_USEC=%llu", (unsigned long long)elapsed_usec);
}

static struct pc_count find_prev(const struct pc_stats_log *sl, const char *name)
{
	for (size_t i = 0; i < sl->nprev; i++)
		if (strcmp(sl->prev[i].name, name) == 0)
			return sl->prev[i].c;
	return (struct pc_count){};
}

void pc_stats_log_snapshot(struct pc_stats_log *sl, const char *pin_path, bool emit)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = NULL;
	uint64_t now = pc_now_usec(CLOCK_MONOTONIC), elapsed = sl->prev_usec ? now - sl->prev_usec : 0;
	struct pc_class_count *v;
	struct pc_record r;
	size_t n = 0;
	int err;

	err = pc_stats_read(pin_path, &s);
	if (err < 0) {
		if (emit)
			log_warning_errno(err, "reading the counters under %s", pin_path);
		return;
	}
	v = calloc(s->slot_cap + 1, sizeof(*v));
	if (!v)
		return;
	for (uint32_t i = 0; i < s->slot_cap; i++) {
		if (s->slots[i].kind != PC_SLOT_CLASS)
			continue;
		strscpy_ok(v[n].name, sizeof(v[n].name), s->slots[i].name);
		v[n].c = s->total[i];
		if (emit) {
			pc_record_build_stats(&r, v[n].name, v[n].c, find_prev(sl, v[n].name),
					      s->meta.generation, elapsed);
			pc_record_emit(&r);
		}
		n++;
	}
	free(sl->prev);
	sl->prev = v;
	sl->nprev = n;
	sl->prev_usec = now;
}

void pc_stats_log_clear(struct pc_stats_log *sl)
{
	free(sl->prev);
	*sl = (struct pc_stats_log){};
}

/* ---- packet log --------------------------------------------------------------- */

static void format_l3(uint32_t l3, char *buf, size_t len)
{
	if (l3 == PC_ETH_P_IP)
		snprintf(buf, len, "ipv4");
	else if (l3 == PC_ETH_P_IPV6)
		snprintf(buf, len, "ipv6");
	else if (l3 == PC_ETH_P_ARP)
		snprintf(buf, len, "arp");
	else
		snprintf(buf, len, "0x%04x", l3);
}

/* Key words 0..3 (or 4..7) as an address: false when not IP. */
static bool format_addr(const struct pc_key *k, uint32_t l3, int first, char *buf, size_t len)
{
	uint32_t a[4];

	if (l3 == PC_ETH_P_IP) {
		a[0] = htonl(k->w[first]);
		return inet_ntop(AF_INET, a, buf, (socklen_t)len) != NULL;
	}
	if (l3 != PC_ETH_P_IPV6)
		return false;
	for (int i = 0; i < 4; i++)
		a[i] = htonl(k->w[first + i]);
	return inet_ntop(AF_INET6, a, buf, (socklen_t)len) != NULL;
}

static const char *hook_name(uint32_t hook)
{
	static const char *const names[PC_HOOK_MAX] = { "ingress", "egress", "monitor" };

	return hook < PC_HOOK_MAX ? names[hook] : "?";
}

/* "tcp 10.0.0.1:40000 -> 10.0.0.2:80", "icmp 10.0.0.1 -> 10.0.0.2", "arp" */
static void pktlog_summary(const struct pc_log_rec *rec, const char *src, const char *dst,
			   const char *proto, char *buf, size_t len)
{
	const struct pc_key *k = &rec->key;
	bool ports = k->w[PC_W_SPORT] != PC_PORT_NONE && k->w[PC_W_DPORT] != PC_PORT_NONE;
	bool v6 = k->w[PC_W_L3] == PC_ETH_P_IPV6;
	char s[64], d[64];

	if (!src[0]) {
		format_l3(k->w[PC_W_L3], buf, len);
		return;
	}
	if (ports) {
		snprintf(s, sizeof(s), v6 ? "[%s]:%u" : "%s:%u", src, k->w[PC_W_SPORT]);
		snprintf(d, sizeof(d), v6 ? "[%s]:%u" : "%s:%u", dst, k->w[PC_W_DPORT]);
	} else {
		snprintf(s, sizeof(s), "%s", src);
		snprintf(d, sizeof(d), "%s", dst);
	}
	snprintf(buf, len, "%s %s -> %s", proto[0] ? proto : "ip", s, d);
}

void pc_record_build_pktlog(struct pc_record *r, const struct pc_log_rec *rec, const char *rule,
			    const char *class_name, const char *iface)
{
	const struct pc_key *k = &rec->key;
	uint32_t l3 = k->w[PC_W_L3];
	const char *dir = k->w[PC_W_DIR] == PC_DIR_EGRESS ? "egress" : "ingress";
	char src[64] = "", dst[64] = "", pb[16], l3s[16], what[200];
	const char *proto = "";

	record_init(r, LOG_INFO, PC_MID_PKTLOG);
	rule = rule ? rule : "?";
	class_name = class_name ? class_name : "?";
	iface = iface ? iface : "?";
	format_l3(l3, l3s, sizeof(l3s));
	if (format_addr(k, l3, PC_W_SRC0, src, sizeof(src)))
		format_addr(k, l3, PC_W_DST0, dst, sizeof(dst));
	if (k->w[PC_W_PROTO] != PC_PROTO_NONE)
		proto = pc_proto_name(k->w[PC_W_PROTO], pb, sizeof(pb));
	pktlog_summary(rec, src, dst, proto, what, sizeof(what));
	/* "rule web (class www): eth0 ingress, tcp 10.0.0.1:4000 -> 10.0.0.2:80, 74 bytes";
	 * a monitor hook says the direction too: "br0 monitor egress" */
	snprintf(r->message, sizeof(r->message), "rule %s (class %s): %s %s%s%s, %s, %u bytes",
		 rule, class_name, iface, hook_name(rec->hook),
		 rec->hook == PC_HOOK_MONITOR ? " " : "", rec->hook == PC_HOOK_MONITOR ? dir : "",
		 what, rec->len);
	pc_record_add(r, "PKTCLASS_RULE=%s", rule);
	pc_record_add(r, "PKTCLASS_CLASS=%s", class_name);
	pc_record_add(r, "PKTCLASS_IFACE=%s", iface);
	pc_record_add(r, "PKTCLASS_HOOK=%s", hook_name(rec->hook));
	pc_record_add(r, "PKTCLASS_DIRECTION=%s", dir);
	pc_record_add(r, "PKTCLASS_L3=%s", l3s);
	if (src[0]) {
		pc_record_add(r, "PKTCLASS_SRC=%s", src);
		pc_record_add(r, "PKTCLASS_DST=%s", dst);
	}
	if (proto[0])
		pc_record_add(r, "PKTCLASS_PROTO=%s", proto);
	if (k->w[PC_W_SPORT] != PC_PORT_NONE)
		pc_record_add(r, "PKTCLASS_SRC_PORT=%u", k->w[PC_W_SPORT]);
	if (k->w[PC_W_DPORT] != PC_PORT_NONE)
		pc_record_add(r, "PKTCLASS_DST_PORT=%u", k->w[PC_W_DPORT]);
	pc_record_add(r, "PKTCLASS_LENGTH=%u", rec->len);
	if (k->w[PC_W_VLAN] != PC_VLAN_NONE)
		pc_record_add(r, "PKTCLASS_VLAN=%u", k->w[PC_W_VLAN]);
}

void pc_record_build_suppressed(struct pc_record *r, uint64_t n, uint32_t log_rate,
				uint64_t usec)
{
	char secs[32];

	record_init(r, LOG_NOTICE, PC_MID_PKTLOG_SUPPRESSED);
	format_seconds(usec, secs, sizeof(secs));
	snprintf(r->message, sizeof(r->message),
		 "packet log: %llu records suppressed in %s (log_rate %u per second)",
		 (unsigned long long)n, secs, log_rate);
	pc_record_add(r, "PKTCLASS_SUPPRESSED=%llu", (unsigned long long)n);
	pc_record_add(r, "PKTCLASS_LOG_RATE=%u", log_rate);
	pc_record_add(r, "PKTCLASS_INTERVAL_USEC=%llu", (unsigned long long)usec);
}

/* ---- sets ------------------------------------------------------------------------ */
void pc_record_build_set(struct pc_record *r, const struct pc_set_event *ev)
{
	record_init(r, ev->ok ? LOG_INFO : LOG_WARNING, PC_MID_SET);
	if (!ev->ok)
		snprintf(r->message, sizeof(r->message), "set %s: %s refused, nothing changed: %s",
			 ev->set, ev->op, ev->why ? ev->why : "?");
	else if (ev->lost)
		snprintf(r->message, sizeof(r->message),
			 "set %s: %s: %zu added, %zu removed, %zu elements (%zu run-time elements "
			 "dropped)", ev->set, ev->op, ev->added, ev->removed, ev->elements, ev->lost);
	else
		snprintf(r->message, sizeof(r->message), "set %s: %s: %zu added, %zu removed, %zu elements",
			 ev->set, ev->op, ev->added, ev->removed, ev->elements);
	pc_record_add(r, "PKTCLASS_SET=%s", ev->set);
	pc_record_add(r, "PKTCLASS_OPERATION=%s", ev->op);
	pc_record_add(r, "PKTCLASS_RESULT=%s", ev->ok ? "ok" : "failed");
	pc_record_add(r, "PKTCLASS_ADDED=%zu", ev->added);
	pc_record_add(r, "PKTCLASS_REMOVED=%zu", ev->removed);
	pc_record_add(r, "PKTCLASS_ELEMENTS=%zu", ev->elements);
	if (ev->lost)
		pc_record_add(r, "PKTCLASS_LOST=%zu", ev->lost);
	pc_record_add(r, "PKTCLASS_DURATION_USEC=%llu", (unsigned long long)ev->usec);
}
