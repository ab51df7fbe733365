/* SPDX-License-Identifier: GPL-2.0-only */
/* publish.c - the stats, rules and metrics files (publish.h). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classifier/rsdiff.h"
#include "datapath/statsfile.h"
#include "lib/log.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "pktclassd/publish.h"

#define PC_READERS_GROUP "pktclassd"
#define REFRESH_MIN_USEC 100000u /* at most ten stats reads a second for readers */

enum { OUT_STATS, OUT_RULES, OUT_METRICS, OUT_N };

struct pc_publish {
	char pin_path[PATH_MAX];
	char path[OUT_N][PATH_MAX];   /* "" when there is none */
	const char *stats_name;       /* basename of path[OUT_STATS] */
	gid_t gid;                    /* group pktclassd, or -1 */
	mode_t mode;                  /* of the stats and rules files */
	pc_publish_counters_fn counters;
	void *userdata;
	pc_publish_sets_fn sets;
	void *sets_userdata;
	sd_event_source *watch;
	sd_event_source *later;       /* a refresh put off by REFRESH_MIN_USEC */
	uint64_t last_usec;           /* CLOCK_MONOTONIC of the last stats write */
	int failed[OUT_N];            /* errno of the last failure, warned once */
};

static const char *const out_what[OUT_N] = { "stats file", "rules file", "metrics file" };

/* A failure is said once, until that file was written again. */
static void outcome(struct pc_publish *p, int out, int r)
{
	if (r >= 0) {
		if (p->failed[out])
			log_info("%s %s written again", out_what[out], p->path[out]);
		p->failed[out] = 0;
		return;
	}
	if (p->failed[out] != -r)
		log_warning_errno(r, "writing the %s %s", out_what[out], p->path[out]);
	p->failed[out] = -r;
}

struct stats_fill {
	const struct pc_stats *s;
	struct pc_statsfile sf;
	struct pc_metrics m;
};

static int fill_stats(FILE *f, void *userdata)
{
	struct stats_fill *x = userdata;

	return pc_statsfile_print(f, x->s, &x->sf);
}

static int fill_metrics(FILE *f, void *userdata)
{
	struct stats_fill *x = userdata;

	return pc_metrics_write(f, &x->m);
}

/* The stats and rules files go to the group, if it exists and we may. */
static int write_private(struct pc_publish *p, int out, int (*fill)(FILE *, void *), void *ud)
{
	int r = pc_write_atomic(p->path[out], p->mode, p->gid, fill, ud);

	if (r == -EPERM && p->gid != (gid_t)-1) {
		log_warning("cannot give %s to the group " PC_READERS_GROUP " (no CAP_CHOWN, not "
			    "a member): only root can read it", p->path[out]);
		p->gid = (gid_t)-1;
		p->mode = 0600;
		r = pc_write_atomic(p->path[out], p->mode, p->gid, fill, ud);
	}
	return r;
}

static void write_all(struct pc_publish *p, bool running, bool metrics)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = NULL;
	/* before the read: a reader who opened the file earlier knows that a
	 * file of this time or later has counts read after its open */
	uint64_t when = pc_now_usec(CLOCK_REALTIME);
	struct stats_fill x = {};
	int r;

	r = pc_stats_read(p->pin_path, &s);
	if (r < 0) {
		outcome(p, OUT_STATS, r);
		if (metrics && p->path[OUT_METRICS][0])
			outcome(p, OUT_METRICS, r);
		return;
	}
	x.s = s;
	x.sf = (struct pc_statsfile){ .written_usec = when,
				      .pid = (uint32_t)getpid(), .running = running };
	if (p->counters)
		p->counters(&x.sf.daemon, p->userdata);
	/* without the counts (no memory) the files are written without them */
	if (p->sets && p->sets(&x.sf.sets, &x.sf.nsets, p->sets_userdata) < 0) {
		x.sf.sets = NULL;
		x.sf.nsets = 0;
	}
	x.m = (struct pc_metrics){ .s = s, .daemon = &x.sf.daemon, .sets = x.sf.sets,
				   .nsets = x.sf.nsets, .rules = true };
	outcome(p, OUT_STATS, write_private(p, OUT_STATS, fill_stats, &x));
	p->last_usec = pc_now_usec(CLOCK_MONOTONIC);
	if (metrics && p->path[OUT_METRICS][0])
		outcome(p, OUT_METRICS, pc_write_atomic(p->path[OUT_METRICS], 0644, (gid_t)-1,
							fill_metrics, &x));
	pc_statsfile_clear(&x.sf);
}

void pc_publish_now(struct pc_publish *p, bool metrics)
{
	if (p)
		write_all(p, true, metrics);
}

static int on_later(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct pc_publish *p = userdata;

	p->later = sd_event_source_unref(p->later);
	write_all(p, true, false);
	return 0;
}

/* Someone opened the stats file: they wait for one written after that
 * (ctl/snapshot.c).  Within REFRESH_MIN_USEC of the last write, the next
 * comes at its end, for every reader of that time at once. */
static int on_open(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct pc_publish *p = userdata;
	uint64_t now = pc_now_usec(CLOCK_MONOTONIC);

	if (!(ev->mask & IN_OPEN) || ev->len == 0 || strcmp(ev->name, p->stats_name) != 0)
		return 0;
	if (now - p->last_usec >= REFRESH_MIN_USEC) {
		write_all(p, true, false);
		return 0;
	}
	if (!p->later &&
	    sd_event_add_time(sd_event_source_get_event(s), &p->later, CLOCK_MONOTONIC,
			      p->last_usec + REFRESH_MIN_USEC, 0, on_later, p) < 0)
		p->later = NULL;
	return 0;
}

struct rules_fill {
	struct pc_rule_digest *v;
	size_t n;
	uint32_t generation;
};

static int fill_rules(FILE *f, void *userdata)
{
	struct rules_fill *x = userdata;

	return pc_rule_digests_print(f, x->v, x->n, x->generation, (uint32_t)getpid());
}

void pc_publish_rules(struct pc_publish *p, const struct pc_ruleset *rs, uint32_t generation)
{
	struct rules_fill x = { .n = rs->nrules, .generation = generation };
	int r;

	if (!p)
		return;
	r = pc_ruleset_digests(rs, &x.v);
	if (r >= 0)
		r = write_private(p, OUT_RULES, fill_rules, &x);
	outcome(p, OUT_RULES, r);
	free(x.v);
}

void pc_publish_set_metrics_file(struct pc_publish *p, const char *path)
{
	if (!p || strcmp(path, p->path[OUT_METRICS]) == 0)
		return;
	if (p->path[OUT_METRICS][0] && unlink(p->path[OUT_METRICS]) < 0 && errno != ENOENT)
		log_warning_errno(-errno, "removing the old metrics file %s", p->path[OUT_METRICS]);
	strscpy_ok(p->path[OUT_METRICS], sizeof(p->path[OUT_METRICS]), path);
	p->failed[OUT_METRICS] = 0;
}

void pc_publish_set_counters(struct pc_publish *p, pc_publish_counters_fn fn, void *userdata)
{
	if (!p)
		return;
	p->counters = fn;
	p->userdata = userdata;
}

void pc_publish_set_sets(struct pc_publish *p, pc_publish_sets_fn fn, void *userdata)
{
	if (!p)
		return;
	p->sets = fn;
	p->sets_userdata = userdata;
}

void pc_publish_stop(struct pc_publish *p)
{
	if (!p)
		return;
	p->watch = sd_event_source_disable_unref(p->watch);
	p->later = sd_event_source_disable_unref(p->later);
	write_all(p, false, false);
	for (int out = OUT_RULES; out < OUT_N; out++)
		if (p->path[out][0] && unlink(p->path[out]) < 0 && errno != ENOENT)
			log_warning_errno(-errno, "removing the %s %s", out_what[out], p->path[out]);
}

/* ---- setup ------------------------------------------------------------------------ */

static int make_rundir(void)
{
	const char *dir = pc_runtime_dir();

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_warning_errno(-errno, "creating the runtime directory %s", dir);
	return 0;
}

/* Counters of an earlier run that the stats file kept (a restart). */
static void carry_over(struct pc_publish *p, struct pc_daemon_counters *carried)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = NULL;
	struct pc_statsfile sf;

	*carried = (struct pc_daemon_counters){};
	if (pc_statsfile_read(p->path[OUT_STATS], &s, &sf) < 0)
		return;
	*carried = sf.daemon;
	pc_statsfile_clear(&sf);
}

static void readers_group(struct pc_publish *p)
{
	struct group *g = getgrnam(PC_READERS_GROUP);

	p->gid = g ? g->gr_gid : (gid_t)-1;
	p->mode = g ? 0640 : 0600;
	if (!g)
		log_info("no group " PC_READERS_GROUP ": the stats file is for root alone");
}

int pc_publish_new(sd_event *e, const char *pin_path, struct pc_publish **ret,
		   struct pc_daemon_counters *carried)
{
	_cleanup_free_ struct pc_publish *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	strscpy_ok(p->pin_path, sizeof(p->pin_path), pin_path);
	r = pc_runtime_file(pin_path, "stats", p->path[OUT_STATS], sizeof(p->path[OUT_STATS]));
	if (r >= 0)
		r = pc_runtime_file(pin_path, "rules", p->path[OUT_RULES], sizeof(p->path[OUT_RULES]));
	if (r < 0)
		return r;
	p->stats_name = strrchr(p->path[OUT_STATS], '/') + 1;
	readers_group(p);
	make_rundir();
	carry_over(p, carried);
	r = sd_event_add_inotify(e, &p->watch, pc_runtime_dir(), IN_OPEN | IN_ONLYDIR, on_open, p);
	if (r < 0)
		log_warning_errno(r, "watching %s: group readers see counts of the last "
				  "stats_interval", pc_runtime_dir());
	*ret = TAKE_PTR(p);
	return 0;
}

void pc_publish_free(struct pc_publish *p)
{
	if (!p)
		return;
	sd_event_source_disable_unref(p->watch);
	sd_event_source_disable_unref(p->later);
	free(p);
}
