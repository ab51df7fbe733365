/* SPDX-License-Identifier: GPL-2.0-only */
/* main.c - pktclassd: startup, the event loop, reload transactions, stop. */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "attach/attach.h"
#include "classifier/compile.h"
#include "config/config.h"
#include "datapath/datapath.h"
#include "pktclassd/load.h"
#include "lib/log.h"
#include "lib/rundir.h"
#include "netlink/netlink.h"
#include "pktclassd/pktlog.h"
#include "pktclassd/preflight.h"
#include "pktclassd/publish.h"
#include "pktclassd/control.h"
#include "pktclassd/records.h"
#include "pktclassd/redirect.h"
#include "pktclassd/setcmd.h"
#include "classifier/rsdiff.h"
#include "datapath/stats.h"
#include "lib/util.h"

/* Packet-log suppression summaries: every stats_interval, or this often
 * when stats records are off. */
#define PKTLOG_SUMMARY_USEC (60 * 1000000ull)
/* Putting back filters that someone else removed, while it fails. */
#define RETRY_USEC 1000000ull
/* TC events per batch that are looked at one interface at a time; past it,
 * every interface is checked. */
#define TC_EVENTS_MAX 64

struct daemon {
	char config_path[PATH_MAX];
	char pin_path[PC_PATH_MAX];
	sd_event *event;
	sd_event_source *stats_timer;
	uint64_t stats_interval;  /* what stats_timer runs at */
	sd_event_source *retry_timer; /* while filters are missing */
	char snapshot[PATH_MAX];  /* counters over a stop and start, or "" */
	struct pc_nl *nl;
	struct pc_nlmon *nlmon;
	struct pc_dp *dp;
	struct pc_am *am;
	struct pc_pktlog *pktlog;
	struct pc_publish *pub;   /* stats, rules and metrics files */
	struct pc_daemon_counters counted; /* reloads; the log's own part carried over */
	struct pc_loaded live;
	bool keep_on_exit;        /* of the config we started with or run now */
	uint32_t generation;
	bool reload_failed;       /* the last reload was rejected */
	char status[128];         /* last STATUS= line */
	struct pc_stats_log stats; /* the last stats record, for the deltas */
	bool cntzero_warned;      /* said that pc_cnt_zero would not load */
	uint64_t cnt_rewrites;    /* chunk rewrites already reported */
	int tc_ev[TC_EVENTS_MAX]; /* interfaces of the TC events being read */
	size_t ntc_ev;
	bool tc_ev_overflow;
	struct pc_control *control; /* pktclassctl's set requests */
	sd_event_source *grace;   /* set blocks waiting for a grace period */
};

static int run_check(const char *path)
{
	struct pc_loaded l = {};
	size_t nwarn = 0;
	char why[256];

	if (pc_load_config(path, &l, &nwarn, why, sizeof(why)) < 0) {
		log_error("rejected: %s", why);
		return EXIT_FAILURE;
	}
	pc_print_summary(stdout, path, &l, nwarn);
	pc_loaded_clear(&l);
	return EXIT_SUCCESS;
}

/* ---- loading a generation -------------------------------------------------- */

/* A rejected program: the end of what the verifier said, line by line. */
static void log_verifier_tail(const char *text)
{
	const char *p = text, *nl;

	if (!text || !*text)
		return;
	log_error("the verifier rejected the classifier; the end of its log:");
	for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (nl != p)
			log_error("  %.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (!nl)
			break;
	}
}

/* Whether any interface of cfg has the monitor hook (the socket classifier
 * is loaded only then). */
static bool cfg_has_monitor(const struct pc_config *cfg)
{
	for (size_t i = 0; i < cfg->n_ifaces; i++)
		if (cfg->ifaces[i].hooks & (1u << PC_HOOK_MONITOR))
			return true;
	return false;
}

/* The declared classes of cfg, for the datapath to keep listed. */
static int set_classes(struct pc_dp *dp, const struct pc_config *cfg)
{
	_cleanup_free_ const char **v = calloc(cfg->n_classes + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_classes; i++)
		v[i] = cfg->classes[i].name;
	return pc_dp_set_classes(dp, v, cfg->n_classes);
}

/* Reused counter slots are zeroed by a BPF program per CPU; where that
 * could not be done, a chunk was written back whole, and what the classifier
 * counted into it meanwhile is lost: say so. */
static void cntzero_report(struct daemon *d)
{
	uint64_t n;
	int r = pc_dp_cntzero_state(d->dp, &n);

	if (r < 0 && !d->cntzero_warned) {
		log_warning_errno(r, "the counter program (pc_cnt_zero, pc_cnt_add) would not load; "
				  "counter slots are zeroed and carried from user space, which can "
				  "lose counts made meanwhile");
		d->cntzero_warned = true;
	}
	if (n > d->cnt_rewrites)
		log_warning("changing counter slots rewrote %" PRIu64 " counter chunk(s) from "
			    "user space: counts made meanwhile in them may be lost",
			    n - d->cnt_rewrites);
	d->cnt_rewrites = n;
}

/* The first generation of a new state takes the counters that the last
 * clean stop left in the runtime directory. */
static void snapshot_restore(struct daemon *d, struct pc_gen *g)
{
	size_t n;
	int r;

	if (pc_dp_adopted(d->dp) || pc_dp_current(d->dp) || !d->snapshot[0])
		return;
	r = pc_dp_snapshot_restore(d->dp, g, d->snapshot, &n);
	if (r == -ENOENT)
		return;
	if (r < 0)
		log_warning_errno(r, "reading the counters saved in %s; starting from zero", d->snapshot);
	else
		log_info("counters of the last run restored from %s (%zu counts)", d->snapshot, n);
}

/* A journal record per set whose elements the new generation changed. */
static void set_records(const struct pc_set_changes *ch, bool start, uint64_t usec)
{
	for (size_t i = 0; i < ch->n; i++) {
		const struct pc_set_change *c = &ch->v[i];
		struct pc_set_event ev = { .set = c->name, .op = start ? "start" : "reload", .ok = true,
					   .added = c->added, .removed = c->removed,
					   .elements = c->elements, .lost = c->lost, .usec = usec };
		struct pc_record r;

		pc_record_build_set(&r, &ev);
		if (c->gone)
			snprintf(r.message, sizeof(r.message), "set %s: not in the configuration any more "
				 "(%zu elements dropped)", c->name, c->removed);
		pc_record_emit(&r);
	}
}

/* Blocks given back by set changes wait for a grace period: run one in the
 * background whenever some wait. */
static void grace_kick(struct daemon *d)
{
	int r = pc_dp_sets_grace_start(d->dp);

	if (r < 0 && r != -ENODATA && r != -EALREADY)
		log_warning_errno(r, "sets: starting a grace period");
}

/* The sets of generation gen: staged beside the live ones. */
static int stage_sets(struct daemon *d, struct pc_loaded *l, uint32_t gen,
		      struct pc_set_changes *ch, char *why, size_t whylen)
{
	int r = pc_dp_sets_stage(d->dp, l->cfg, gen, ch);

	if (r < 0) {
		snprintf(why, whylen, "building the sets: %s", strerror(-r));
		return log_error_errno(r, "building the sets of generation %u", gen);
	}
	return 0;
}

/* The transaction: everything is built beside the live generation and
 * nothing live or pinned changes before pc_dp_gen_commit() switches.  On
 * success l moves into d->live. */
static int apply(struct daemon *d, struct pc_loaded *l, char *why, size_t whylen)
{
	uint64_t t0 = pc_now_usec(CLOCK_MONOTONIC), set_usec;
	_cleanup_(pc_set_changes_clear) struct pc_set_changes ch = {};
	uint32_t gen = d->generation + 1;
	bool start = !d->live.rs;
	struct pc_gen *g = NULL;
	int r;

	pc_dp_set_log_rate(d->dp, l->cfg->settings.log_rate);
	pc_dp_set_monitor(d->dp, cfg_has_monitor(l->cfg));
	r = set_classes(d->dp, l->cfg);
	if (r >= 0)
		r = stage_sets(d, l, gen, &ch, why, whylen);
	if (r < 0)
		return r;
	set_usec = pc_now_usec(CLOCK_MONOTONIC) - t0;
	r = pc_dp_gen_prepare(d->dp, l->rs, l->tree, gen, &g);
	if (r < 0) {
		pc_dp_sets_abort(d->dp);
		snprintf(why, whylen, "loading the classifier: %s", strerror(-r));
		log_error_errno(r, "loading generation %u", gen);
		log_verifier_tail(pc_dp_verifier_log(d->dp));
		return r;
	}
	r = pc_am_prepare(d->am, l->cfg, l->rs, g);
	if (r < 0) {
		pc_dp_sets_abort(d->dp);
		snprintf(why, whylen, "preparing the attachments: %s", strerror(-r));
		pc_dp_gen_free(g);
		return r;
	}
	snapshot_restore(d, g);
	r = pc_dp_gen_commit(d->dp, g, d->config_path);
	if (r < 0 && pc_dp_current(d->dp) != g) {
		snprintf(why, whylen, "switching to generation %u: %s", gen, strerror(-r));
		pc_am_abort(d->am);
		pc_dp_gen_free(g);
		return log_error_errno(r, "switching to generation %u", gen);
	}
	/* Once switched, g belongs to the datapath whatever else failed. */
	if (r < 0)
		log_warning_errno(r, "generation %u is live, but recording its state failed", gen);
	cntzero_report(d);
	d->generation = gen;
	pc_am_commit(d->am);
	pc_loaded_clear(&d->live);
	d->live = *l;
	*l = (struct pc_loaded){};
	set_records(&ch, start, set_usec);
	grace_kick(d);
	return 0;
}

static void status_line(struct daemon *d, char *buf, size_t len)
{
	size_t missing = pc_am_missing(d->am);
	int n;

	n = snprintf(buf, len, "generation %u, %u rules, %zu attachments", d->generation,
		     d->live.rs ? d->live.rs->nrules : 0, pc_am_count(d->am));
	if (missing && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " (%zu missing: being put back)", missing);
}

/* STATUS= and the pinned status line, when they changed. */
static void publish_status(struct daemon *d, const char *status, bool failed)
{
	if (failed == d->reload_failed && strcmp(status, d->status) == 0)
		return;
	d->reload_failed = failed;
	strscpy_ok(d->status, sizeof(d->status), status);
	pc_dp_set_status(d->dp, failed ? PC_META_RELOAD_FAILED : 0, status);
	sd_notifyf(false, "STATUS=%s", status);
}

/* ---- stats timer ------------------------------------------------------------ */

static int on_stats_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t interval = d->live.cfg->settings.stats_interval_usec;

	pc_stats_log_snapshot(&d->stats, d->pin_path, true);
	pc_publish_now(d->pub, true);
	if (interval > 0) {
		sd_event_source_set_time_relative(s, interval);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* Follow settings.stats_interval; an unchanged period keeps its rhythm. */
static int stats_timer_update(struct daemon *d, const struct pc_config *cfg)
{
	uint64_t interval = cfg->settings.stats_interval_usec;
	int r;

	if (d->stats_timer && interval == d->stats_interval)
		return 0;
	d->stats_interval = interval;
	if (interval == 0)
		return d->stats_timer ? sd_event_source_set_enabled(d->stats_timer, SD_EVENT_OFF) : 0;
	if (!d->stats_timer)
		return sd_event_add_time_relative(d->event, &d->stats_timer, CLOCK_MONOTONIC,
						  interval, 0, on_stats_timer, d);
	r = sd_event_source_set_time_relative(d->stats_timer, interval);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->stats_timer, SD_EVENT_ONESHOT);
	return r;
}

static uint64_t pktlog_interval(const struct pc_config *cfg)
{
	uint64_t i = cfg->settings.stats_interval_usec;

	return i > 0 ? i : PKTLOG_SUMMARY_USEC;
}

/* ---- putting back what someone else removed -------------------------------- */

static void status_update(struct daemon *d)
{
	char status[128];

	/* a failed reload's status stays until the next reload */
	if (d->reload_failed)
		return;
	status_line(d, status, sizeof(status));
	publish_status(d, status, false);
}

static void retry_timer_update(struct daemon *d);

static int on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	pc_am_retry(d->am);
	status_update(d);
	retry_timer_update(d);
	return 0;
}

/* Armed for a second while some filter is missing. */
static void retry_timer_update(struct daemon *d)
{
	bool want = pc_am_missing(d->am) > 0;
	int r = 0;

	if (!d->retry_timer && want)
		r = sd_event_add_time_relative(d->event, &d->retry_timer, CLOCK_MONOTONIC, RETRY_USEC,
					       0, on_retry_timer, d);
	else if (d->retry_timer && want)
		r = sd_event_source_set_time_relative(d->retry_timer, RETRY_USEC);
	if (r >= 0 && d->retry_timer)
		r = sd_event_source_set_enabled(d->retry_timer, want ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
	if (r < 0)
		log_warning_errno(r, "retry timer");
}

/* ---- published files ----------------------------------------------------------- */

static void daemon_counters(struct pc_daemon_counters *ret, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t kernel = 0;

	*ret = d->counted;
	ret->log_suppressed_daemon += pc_pktlog_suppressed(d->pktlog);
	if (d->dp && pc_dp_log_suppressed(d->dp, &kernel) < 0)
		kernel = 0;
	ret->log_suppressed = ret->log_suppressed_daemon + kernel;
}

static int daemon_set_counts(struct pc_set_count **ret, size_t *n, void *userdata)
{
	struct daemon *d = userdata;

	*ret = NULL;
	*n = 0;
	return d->dp ? pc_dp_set_counts(d->dp, ret, n) : 0;
}

/* The live generation's rules, before READY=1: `pktclassctl check` after
 * a reload compares with them (a digest per rule: cheap). */
static void publish_rules(struct daemon *d)
{
	pc_publish_set_metrics_file(d->pub, d->live.cfg->settings.metrics_file);
	pc_publish_rules(d->pub, d->live.rs, d->generation);
}

/* ---- reload ------------------------------------------------------------------ */

static void reload(struct daemon *d)
{
	uint64_t t0 = pc_now_usec(CLOCK_MONOTONIC);
	struct pc_rs_diff diff = {};
	struct pc_loaded l = {};
	char why[256] = "", status[128], msg[512];
	size_t nwarn;
	uint32_t rules = d->live.rs ? d->live.rs->nrules : 0;
	int r;

	sd_notifyf(false, "RELOADING=1\nSTATUS=reloading %s\nMONOTONIC_USEC=%llu",
		   d->config_path, (unsigned long long)t0);
	log_info("reloading %s", d->config_path);
	r = pc_load_config(d->config_path, &l, &nwarn, why, sizeof(why));
	if (r >= 0) {
		rules = l.rs->nrules;
		if (strcmp(l.cfg->settings.pin_path, d->pin_path) != 0)
			log_warning("settings.pin_path changed to %s: that needs a restart; "
				    "staying with %s", l.cfg->settings.pin_path, d->pin_path);
		if (pc_ruleset_diff(d->live.rs, l.rs, &diff) < 0)
			diff = (struct pc_rs_diff){};
		r = apply(d, &l, why, sizeof(why));
	}
	pc_loaded_clear(&l);
	if (r >= 0) {
		status_line(d, status, sizeof(status));
		snprintf(msg, sizeof(msg), "reloaded: %s (%zu added, %zu removed, %zu changed)",
			 status, diff.added, diff.removed, diff.changed);
		publish_status(d, status, false);
		stats_timer_update(d, d->live.cfg);
		retry_timer_update(d);
		if (d->pktlog)
			pc_pktlog_set(d->pktlog, d->live.cfg->settings.log_rate,
				      pktlog_interval(d->live.cfg));
		d->counted.reloads_ok++;
		publish_rules(d);
	} else {
		snprintf(status, sizeof(status), "reload failed: %s", why);
		snprintf(msg, sizeof(msg), "%s; generation %u stays", status, d->generation);
		publish_status(d, status, true);
		d->counted.reloads_failed++;
	}
	pc_record_generation(false, r >= 0, d->generation, rules, pc_now_usec(CLOCK_MONOTONIC) - t0,
			     &diff, msg);
	sd_notifyf(false, "READY=1\nSTATUS=%s", d->status);
	/* the counters after READY=1: reading them all takes a while */
	pc_publish_now(d->pub, true);
}

/* ---- event sources ------------------------------------------------------------- */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	switch (si->ssi_signo) {
	case SIGHUP:
		/* The reload runs to its end before the next signal is read: the
		 * SIGHUPs that arrive meanwhile are one pending signal, so they
		 * make exactly one more reload. */
		reload(d);
		break;
	case SIGUSR1:
		pc_stats_log_snapshot(&d->stats, d->pin_path, true);
		pc_pktlog_flush(d->pktlog);
		break;
	default:
		log_info("got %s, stopping", strsignal((int)si->ssi_signo));
		sd_event_exit(sd_event_source_get_event(s), 0);
	}
	return 0;
}

static void on_link(enum pc_link_event ev, int ifindex, const char *name, void *userdata)
{
	struct daemon *d = userdata;

	if (ev != PC_TC_CHANGE) {
		pc_am_link_event(d->am, ev, ifindex, name);
		pc_redirect_link(pc_dp_current(d->dp), ev, ifindex, name);
		return;
	}
	for (size_t i = 0; i < d->ntc_ev; i++)
		if (d->tc_ev[i] == ifindex)
			return;
	if (d->ntc_ev < TC_EVENTS_MAX)
		d->tc_ev[d->ntc_ev++] = ifindex;
	else
		d->tc_ev_overflow = true;
}

static int on_nlmon(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	int r;

	d->ntc_ev = 0;
	d->tc_ev_overflow = false;
	r = pc_nlmon_process(d->nlmon, on_link, d);
	if (r == -ENOBUFS || d->tc_ev_overflow) {
		if (r == -ENOBUFS)
			log_warning("link or tc events were lost: scanning the interfaces again");
		pc_am_resync(d->am);
		pc_redirect_resync(pc_dp_current(d->dp));
	} else if (r < 0) {
		log_warning_errno(r, "reading link events");
	}
	/* our own attachments make TC events too: those find our filter */
	for (size_t i = 0; !d->tc_ev_overflow && i < d->ntc_ev; i++)
		pc_am_tc_event(d->am, d->tc_ev[i]);
	retry_timer_update(d);
	/* the attachment count in STATUS= follows the links */
	status_update(d);
	return 0;
}

static void on_control(struct pc_ctl_msg *req, FILE *out, void *userdata)
{
	struct daemon *d = userdata;

	pc_setcmd(d->dp, req, out);
	grace_kick(d);
}

static int on_grace(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	int r = pc_dp_sets_grace_done(d->dp);

	if (r < 0 && r != -EINVAL)
		log_warning_errno(r, "sets: a grace period failed (freed blocks wait for the next)");
	grace_kick(d);
	return 0;
}

static int setup_control(struct daemon *d)
{
	char path[PC_PATH_MAX];
	int r;

	r = pc_ctl_socket_path(d->pin_path, PC_DEFAULT_PIN_PATH, path, sizeof(path));
	if (r >= 0)
		r = pc_control_open(d->event, path, on_control, d, &d->control);
	if (r < 0)
		return log_error_errno(r, "control socket %s", path);
	r = sd_event_add_io(d->event, &d->grace, pc_dp_sets_grace_fd(d->dp), EPOLLIN, on_grace, d);
	return r < 0 ? log_error_errno(r, "watching set grace periods") : 0;
}

static int setup_events(struct daemon *d, const struct pc_config *cfg)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	int r;

	r = sd_event_default(&d->event);
	if (r < 0)
		return log_error_errno(r, "sd-event");
	for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
		r = sd_event_add_signal(d->event, NULL, sigs[i], on_signal, d);
		if (r < 0)
			return log_error_errno(r, "watching signal %d", sigs[i]);
	}
	r = sd_event_add_io(d->event, NULL, pc_nlmon_fd(d->nlmon), EPOLLIN, on_nlmon, d);
	if (r < 0)
		return log_error_errno(r, "watching link events");
	r = stats_timer_update(d, cfg);
	if (r < 0)
		return log_error_errno(r, "stats timer");
	r = pc_pktlog_new(d->event, d->dp, cfg->settings.log_rate, pktlog_interval(cfg),
			  &d->pktlog);
	if (r < 0)
		return log_error_errno(r, "packet log");
	r = pc_publish_new(d->event, d->pin_path, &d->pub, &d->counted);
	if (r < 0)
		return log_error_errno(r, "the stats file");
	d->counted.log_suppressed = 0;
	pc_publish_set_counters(d->pub, daemon_counters, d);
	pc_publish_set_sets(d->pub, daemon_set_counts, d);
	r = sd_event_set_watchdog(d->event, true);
	if (r < 0)
		return log_error_errno(r, "watchdog");
	return setup_control(d);
}

/* ---- startup and stop ------------------------------------------------------------- */

/* Counter slots for a new state: the rules, classes and declared classes,
 * and half again for the next reload (the capacity grows when a config
 * needs more). */
static uint32_t slot_cap_for(const struct pc_loaded *l)
{
	uint64_t want = (uint64_t)l->rs->nrules + pc_count_classes(l->rs) + l->cfg->n_classes + 2;

	want += want / 2;
	return want > UINT32_MAX / 4 ? UINT32_MAX / 4 : (uint32_t)want;
}

/* The counters file of this pin path in the runtime directory that systemd
 * gives the unit ($RUNTIME_DIRECTORY, /run/pktclassd, kept over a restart
 * by RuntimeDirectoryPreserve=restart): the pin path with '/' as '-' and
 * other bytes outside [A-Za-z0-9_.] as \xNN.  Without it (started by
 * hand) there is none: a stop ends the counters. */
static void snapshot_path(struct daemon *d)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");

	d->snapshot[0] = '\0';
	if (!dir || *dir != '/')
		return;
	/* systemd lists several with ':' */
	if (pc_runtime_file_in(dir, strcspn(dir, ":"), d->pin_path, "counters", d->snapshot,
			       sizeof(d->snapshot)) < 0)
		d->snapshot[0] = '\0';
}

/* What an earlier run left pinned: its attachments and generation. */
static int adopt_pinned(struct daemon *d)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = NULL;

	if (pc_stats_read(d->pin_path, &s) < 0)
		return 0;
	if (s->meta.magic == PC_META_MAGIC && (s->meta.generation > 0 || s->natt > 0)) {
		d->generation = s->meta.generation;
		log_info("found state of an earlier run under %s (generation %u, %zu attachments)",
			 d->pin_path, d->generation, s->natt);
	}
	return pc_am_adopt(d->am, s);
}

static int start(struct daemon *d, struct pc_loaded *l, char *why, size_t whylen)
{
	struct pc_dp_opts o = { .pin_path = d->pin_path, .slot_cap = slot_cap_for(l) };
	int r;

	r = pc_nl_open(&d->nl);
	if (r < 0)
		return log_error_errno(r, "rtnetlink");
	r = pc_dp_open(&o, &d->dp);
	if (r == -EBUSY) {
		snprintf(why, whylen, "another pktclassd runs on %.200s", d->pin_path);
		return log_error_errno(r, "another pktclassd runs on pin path %s: not starting "
				       "(nothing there was touched)", d->pin_path);
	}
	if (r < 0) {
		snprintf(why, whylen, "opening the datapath: %s", strerror(-r));
		return log_error_errno(r, "loading the BPF programs under %s", d->pin_path);
	}
	r = pc_am_new(d->dp, d->nl, &d->am);
	if (r >= 0)
		r = adopt_pinned(d);
	if (r < 0)
		return log_error_errno(r, "attachment manager");
	r = pc_nlmon_open(&d->nlmon);
	if (r < 0)
		return log_error_errno(r, "link monitor");
	/* everything that can fail comes before the first commit */
	r = setup_events(d, l->cfg);
	if (r < 0)
		return r;
	return apply(d, l, why, whylen);
}

/* A clean stop without keep_on_exit takes the counters with the pins:
 * they go to the runtime directory first, for the next start. */
static void snapshot_save(struct daemon *d)
{
	int r;

	if (!d->snapshot[0] || !pc_dp_current(d->dp))
		return;
	r = pc_dp_snapshot_save(d->dp, d->snapshot);
	if (r < 0)
		log_warning_errno(r, "saving the counters to %s; the next start begins at zero",
				  d->snapshot);
	else
		log_info("counters saved to %s for the next start", d->snapshot);
}

static void stop(struct daemon *d)
{
	bool keep = d->live.cfg ? d->live.cfg->settings.keep_on_exit : d->keep_on_exit;
	int r;

	if (!d->dp)
		return;
	sd_notify(false, "STOPPING=1\nSTATUS=stopping");
	pc_control_close(d->control);
	d->control = NULL;
	d->grace = sd_event_source_disable_unref(d->grace);
	/* nothing counts any more when the counters are saved */
	if (d->am && !keep)
		pc_am_unhook(d->am);
	if (!keep)
		snapshot_save(d);
	pc_publish_stop(d->pub); /* the counters while they are pinned */
	if (d->am)
		pc_am_stop(d->am, keep);
	if (!keep) {
		r = pc_dp_unpin(d->dp);
		if (r < 0)
			log_warning_errno(r, "removing the pins under %s", d->pin_path);
	}
	pc_dp_close(d->dp, keep);
	d->dp = NULL;
	if (keep)
		log_info("stopped; programs left attached and pinned under %s (keep_on_exit)",
			 d->pin_path);
	else
		log_info("stopped; detached and unpinned");
}

/* A start that failed: a state found pinned and not yet changed stays as
 * it was (its programs go on classifying); one we created goes again. */
static void start_failed(struct daemon *d)
{
	if (d->dp && pc_dp_adopted(d->dp) && !pc_dp_touched(d->dp)) {
		log_error("start failed; the state found under %s (generation %u) is left as it was",
			  d->pin_path, d->generation);
		pc_dp_close(d->dp, true);
		d->dp = NULL;
		return;
	}
	d->keep_on_exit = false;
	stop(d);
}

static void daemon_free(struct daemon *d)
{
	pc_publish_free(d->pub);
	pc_pktlog_free(d->pktlog);
	sd_event_source_unref(d->stats_timer);
	sd_event_source_unref(d->retry_timer);
	sd_event_unref(d->event);
	pc_am_free(d->am);
	if (d->nlmon)
		pc_nlmon_close(d->nlmon);
	pc_nl_closep(&d->nl);
	pc_loaded_clear(&d->live);
	pc_stats_log_clear(&d->stats);
}

static int run(struct daemon *d)
{
	uint64_t t0 = pc_now_usec(CLOCK_MONOTONIC);
	struct pc_rs_diff diff = {};
	struct pc_loaded l = {};
	char why[256] = "", status[128], msg[512];
	size_t nwarn;
	uint32_t rules;
	int r;

	if (pc_preflight() < 0)
		return EXIT_FAILURE;
	if (pc_load_config(d->config_path, &l, &nwarn, why, sizeof(why)) < 0) {
		log_error("rejected: %s", why);
		return EXIT_FAILURE;
	}
	rules = l.rs->nrules;
	diff.added = rules;
	strscpy_ok(d->pin_path, sizeof(d->pin_path), l.cfg->settings.pin_path);
	d->keep_on_exit = l.cfg->settings.keep_on_exit;
	snapshot_path(d);
	r = start(d, &l, why, sizeof(why));
	pc_loaded_clear(&l);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "start failed: %s", why[0] ? why : strerror(-r));
		pc_record_generation(true, false, d->generation, rules,
				     pc_now_usec(CLOCK_MONOTONIC) - t0, &diff, msg);
		start_failed(d);
		return EXIT_FAILURE;
	}
	/* used, or stale beside an adopted state */
	if (d->snapshot[0] && unlink(d->snapshot) < 0 && errno != ENOENT)
		log_warning_errno(-errno, "removing %s", d->snapshot);
	retry_timer_update(d);
	pc_stats_log_snapshot(&d->stats, d->pin_path, false);
	status_line(d, status, sizeof(status));
	publish_status(d, status, false);
	publish_rules(d);
	snprintf(msg, sizeof(msg), "started: %s", status);
	pc_record_generation(true, true, d->generation, rules, pc_now_usec(CLOCK_MONOTONIC) - t0,
			     &diff, msg);
	sd_notifyf(false, "READY=1\nSTATUS=%s", status);
	pc_publish_now(d->pub, true);
	r = sd_event_loop(d->event);
	if (r < 0)
		log_error_errno(r, "event loop");
	pc_pktlog_flush(d->pktlog);
	stop(d);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- command line ---------------------------------------------------------------- */

static void help(void)
{
	printf("Usage: pktclassd [OPTIONS]\n\n"
	       "Classify packets with eBPF, by the rules of a YAML config.\n\n"
	       "  -c, --config FILE        configuration (default %s)\n"
	       "      --check              validate and compile the config, print a summary, exit\n"
	       "      --log-target TARGET  auto, journal or stderr (default auto)\n"
	       "  -d, --debug              log debug messages too\n"
	       "  -h, --help               show this help\n"
	       "      --version            show the version and the default config\n",
	       PC_DEFAULT_CONFIG);
}

/* The first line is "pktclassd VERSION"; the second says which config the
 * daemon reads without -c, so an install can be checked against its unit. */
static void version(void)
{
	printf("pktclassd %s\ndefault config: %s\n", PC_VERSION, PC_DEFAULT_CONFIG);
}

enum { ARG_CHECK = 0x100, ARG_LOG_TARGET, ARG_VERSION };

struct args {
	const char *config;
	bool check;
	bool debug;
	enum pc_log_target target;
};

/* 1: go on, 0: done (--help, --version), -EINVAL: bad usage. */
static int parse_args(int argc, char *argv[], struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, ARG_CHECK },
		{ "log-target", required_argument, NULL, ARG_LOG_TARGET },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{}
	};
	int c;

	*a = (struct args){ .config = PC_DEFAULT_CONFIG, .target = PC_LOG_AUTO };
	while ((c = getopt_long(argc, argv, "c:dh", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case ARG_CHECK:
			a->check = true;
			break;
		case ARG_LOG_TARGET:
			if (pc_log_target_parse(optarg, &a->target) < 0) {
				fprintf(stderr, "pktclassd: unknown log target \"%s\": "
					"use auto, journal or stderr\n", optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			a->debug = true;
			break;
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			version();
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pktclassd: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	return 1;
}

/* The config path made absolute but not resolved: a reload reads what a
 * symbolic link points to then, and the links and directories on the way
 * as given are the ones judged (pc_config_check_perms). */
static void config_path_absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) &&
	    (size_t)snprintf(buf, len, "%s/%s", cwd, path) < len)
		return;
	strscpy_ok(buf, len, path);
}

static int block_signals(void)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGUSR1);
	return sigprocmask(SIG_BLOCK, &ss, NULL) < 0 ? -errno : 0;
}

int main(int argc, char *argv[])
{
	struct daemon d = {};
	struct args a;
	int r;

	r = parse_args(argc, argv, &a);
	if (r <= 0)
		return r == 0 ? EXIT_SUCCESS : 2;
	pc_log_init(a.target, a.debug ? LOG_DEBUG : LOG_INFO);
	pc_log_hook_libbpf();
	if (a.check)
		return run_check(a.config);

	/* Signals are held from the start: one during startup waits for the
	 * event loop instead of killing us half way. */
	r = block_signals();
	if (r < 0) {
		log_error_errno(r, "blocking signals");
		return EXIT_FAILURE;
	}
	config_path_absolute(a.config, d.config_path, sizeof(d.config_path));
	r = run(&d);
	daemon_free(&d);
	return r;
}
