/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl stats --watch: rates per class (or rule) every N seconds.  On a
 * terminal the table is redrawn in place; otherwise (or with --json) one
 * record per class and interval is appended.  Ctrl-C ends it with 0. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "datapath/statsfile.h"
#include "lib/json.h"
#include "datapath/stats.h"
#include "lib/util.h"

/* A class's totals at the previous sample, sorted by name. */
struct prev_entry {
	char name[PC_NAME_MAX];
	struct pc_count cnt;
};

struct watch {
	bool tty, json, rules;
	const struct ctl_row *rows; /* what this sample shows: classes or rules */
	size_t nrows;
	double interval;
	struct prev_entry *prev;
	size_t nprev;
	uint64_t prev_usec;
	bool have_prev;
	bool waiting;  /* the state was missing at the last sample */
};

struct rate {
	double pps, bps; /* NAN before the second sample */
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	quit = 1;
}

static int prev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct prev_entry *)a)->name, ((const struct prev_entry *)b)->name);
}

static struct rate rate_of(const struct watch *w, const char *name, const struct pc_count *cur,
			   uint64_t now)
{
	static const struct prev_entry zero;
	struct rate r = { NAN, NAN };
	const struct prev_entry *p;
	struct prev_entry key;
	double dt = (double)(now - w->prev_usec) / 1e6;

	if (!w->have_prev || dt <= 0)
		return r;
	snprintf(key.name, sizeof(key.name), "%s", name);
	p = bsearch(&key, w->prev, w->nprev, sizeof(*p), prev_cmp);
	if (!p) /* a new class: counted from zero */
		p = &zero;
	/* A counter going down (an attachment went away) counts as no traffic. */
	r.pps = cur->packets >= p->cnt.packets ? (double)(cur->packets - p->cnt.packets) / dt : 0;
	r.bps = cur->bytes >= p->cnt.bytes ? (double)(cur->bytes - p->cnt.bytes) * 8 / dt : 0;
	return r;
}

static int remember(struct watch *w, const struct ctl_view *v, uint64_t now)
{
	struct prev_entry *p = calloc(w->nrows + 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < w->nrows; i++) {
		snprintf(p[i].name, sizeof(p[i].name), "%s", w->rows[i].name);
		p[i].cnt = v->s->total[w->rows[i].slot];
	}
	qsort(p, w->nrows, sizeof(*p), prev_cmp);
	free(w->prev);
	w->prev = p;
	w->nprev = w->nrows;
	w->prev_usec = now;
	w->have_prev = true;
	return 0;
}

/* 1234567 -> "1.23M" */
static void si(double v, char *buf, size_t len)
{
	static const char units[] = " kMGTP";
	int u = 0;

	if (isnan(v)) {
		snprintf(buf, len, "-");
		return;
	}
	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f%c", v, units[u]);
}

static void draw_tty(const struct watch *w, const struct ctl_view *v, const char *when,
		     uint64_t now)
{
	int nw = 5;

	for (size_t i = 0; i < w->nrows; i++)
		if ((int)strlen(w->rows[i].name) > nw)
			nw = (int)strlen(w->rows[i].name);
	printf("\033[H\033[2J");
	printf("pktclassd generation %" PRIu32 ", every %g s, %s  (Ctrl-C quits)\n\n",
	       v->s->meta.generation, w->interval, when);
	printf("%-*s  %10s  %12s  %14s  %16s\n", nw, w->rules ? "RULE" : "CLASS", "PKT/S", "BIT/S",
	       "PACKETS", "BYTES");
	for (size_t i = 0; i < w->nrows; i++) {
		const struct pc_count *cnt = &v->s->total[w->rows[i].slot];
		struct rate r = rate_of(w, w->rows[i].name, cnt, now);
		char pps[16], bps[16];

		si(r.pps, pps, sizeof(pps));
		si(r.bps, bps, sizeof(bps));
		printf("%-*s  %10s  %12s  %14" PRIu64 "  %16" PRIu64 "\n", nw, w->rows[i].name,
		       pps, bps, cnt->packets, cnt->bytes);
	}
}

static void draw_lines(const struct watch *w, const struct ctl_view *v, const char *when,
		       uint64_t now)
{
	if (!w->have_prev)
		return;
	for (size_t i = 0; i < w->nrows; i++) {
		struct rate r = rate_of(w, w->rows[i].name,
					&v->s->total[w->rows[i].slot], now);

		printf("%s %s %.1f pkt/s %.1f bit/s\n", when, w->rows[i].name, r.pps, r.bps);
	}
}

static void draw_json(const struct watch *w, const struct ctl_view *v, const char *when,
		      uint64_t now)
{
	struct pc_json j;

	if (!w->have_prev)
		return;
	pc_json_init(&j, stdout, false);
	pc_json_object_begin(&j);
	pc_json_kv_string(&j, "time", when);
	pc_json_kv_u64(&j, "generation", v->s->meta.generation);
	pc_json_key(&j, "interval");
	pc_json_double(&j, (double)(now - w->prev_usec) / 1e6, 3);
	pc_json_key(&j, w->rules ? "rules" : "classes");
	pc_json_array_begin(&j);
	for (size_t i = 0; i < w->nrows; i++) {
		const struct pc_count *cnt = &v->s->total[w->rows[i].slot];
		struct rate r = rate_of(w, w->rows[i].name, cnt, now);

		pc_json_object_begin(&j);
		pc_json_kv_string(&j, "name", w->rows[i].name);
		pc_json_kv_u64(&j, "packets", cnt->packets);
		pc_json_kv_u64(&j, "bytes", cnt->bytes);
		pc_json_key(&j, "packets_per_sec");
		pc_json_double(&j, r.pps, 3);
		pc_json_key(&j, "bits_per_sec");
		pc_json_double(&j, r.bps, 3);
		pc_json_object_end(&j);
	}
	pc_json_array_end(&j);
	pc_json_object_end(&j);
	pc_json_finish(&j);
}

/* The rows to show: the classes, or the rules followed by (default) and
 * (malformed), in *rules (to free). */
static int select_rows(struct watch *w, const struct ctl_view *v, struct ctl_row **rules)
{
	struct ctl_row *r;

	if (!w->rules) {
		w->rows = v->classes;
		w->nrows = v->nclasses;
		return 0;
	}
	r = calloc(v->nrules + 2, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memcpy(r, v->rules, v->nrules * sizeof(*r));
	r[v->nrules] = (struct ctl_row) { .name = "(default)", .slot = PC_SLOT_DEFAULT };
	r[v->nrules + 1] = (struct ctl_row) { .name = "(malformed)", .slot = PC_SLOT_MALFORMED };
	*rules = r;
	w->rows = r;
	w->nrows = v->nrules + 2;
	return 0;
}

/* One sample: read, draw, remember.  CTL_OK or CTL_ERROR. */
static int tick(struct ctl *c, struct watch *w, const char *pin_path)
{
	struct pc_stats *s = NULL;
	uint64_t now = pc_now_usec(CLOCK_MONOTONIC);
	struct ctl_row *rules = NULL;
	struct ctl_view v = {};
	struct pc_statsfile sf;
	bool from_file;
	char when[64];
	int r;

	ctl_format_time(pc_now_usec(CLOCK_REALTIME), when, sizeof(when));
	r = ctl_state_read(pin_path, false, &s, &sf, &from_file);
	pc_statsfile_clear(&sf);
	if (r == -ENOENT) { /* stopped, or restarting: wait for it */
		if (w->tty)
			printf("\033[H\033[2J%s: no pktclassd state under %s, waiting\n", when, pin_path);
		else if (!w->waiting)
			fprintf(stderr, "pktclassctl: %s: no pktclassd state under %s, waiting\n", when,
				pin_path);
		w->waiting = true;
		w->have_prev = false;
		fflush(stdout);
		return CTL_OK;
	}
	if (r < 0)
		return ctl_stats_error(pin_path, r);
	w->waiting = false;
	r = ctl_view_build(ctl_order_config(c, &s->meta), s, &v);
	if (r >= 0)
		r = select_rows(w, &v, &rules);
	if (r >= 0) {
		if (w->json)
			draw_json(w, &v, when, now);
		else if (w->tty)
			draw_tty(w, &v, when, now);
		else
			draw_lines(w, &v, when, now);
		r = remember(w, &v, now);
	}
	ctl_view_clear(&v);
	free(rules);
	pc_stats_free(s);
	fflush(stdout);
	return r < 0 ? ctl_error("out of memory") : CTL_OK;
}

/* Sleep until the monotonic deadline; false when a signal asked to quit.
 * The signals stay blocked except inside ppoll(), so none is missed. */
static bool sleep_until(uint64_t deadline, const sigset_t *unblocked)
{
	while (!quit) {
		uint64_t now = pc_now_usec(CLOCK_MONOTONIC);
		struct timespec ts;

		if (now >= deadline)
			return true;
		ts.tv_sec = (time_t)((deadline - now) / 1000000);
		ts.tv_nsec = (long)((deadline - now) % 1000000) * 1000;
		if (ppoll(NULL, 0, &ts, unblocked) < 0 && errno != EINTR)
			return false;
	}
	return false;
}

int ctl_watch(struct ctl *c, const char *pin_path, double seconds, bool rules)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct watch w = { .tty = isatty(STDOUT_FILENO) && !c->json, .json = c->json,
			   .rules = rules, .interval = seconds };
	uint64_t step = (uint64_t)llround(seconds * 1e6), next;
	sigset_t block, old;
	int r = CTL_OK;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	next = pc_now_usec(CLOCK_MONOTONIC);
	while (!quit) {
		r = tick(c, &w, pin_path);
		if (r != CTL_OK)
			break;
		next += step;
		if (next < pc_now_usec(CLOCK_MONOTONIC)) /* fell behind: no burst to catch up */
			next = pc_now_usec(CLOCK_MONOTONIC) + step;
		if (!sleep_until(next, &old))
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(w.prev);
	return r;
}
