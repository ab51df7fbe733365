/* SPDX-License-Identifier: GPL-2.0-only */
/* ctl.h - pktclassctl's commands (private to the tool).  Commands return
 * the exit status: CTL_OK, CTL_ERROR or CTL_USAGE. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"

enum {
	CTL_OK = 0,
	CTL_ERROR = 1,
	CTL_USAGE = 2,
};

struct ctl {
	const char *config;   /* -c FILE, NULL when not given */
	const char *pin_path; /* --pin-path DIR, NULL when not given */
	bool json;
	struct pc_config *cfg; /* the config, once ctl_load_config() ran */
};

/* Long option values shared by every command. */
enum {
	CTL_OPT_PIN_PATH = 0x100,
	CTL_OPT_JSON,
	CTL_OPT_VERSION, /* before the command only */
	CTL_OPT_FIRST_PRIVATE, /* commands number theirs from here */
};

#define CTL_COMMON_LONGOPTS \
	{ "config", required_argument, NULL, 'c' }, \
	{ "pin-path", required_argument, NULL, CTL_OPT_PIN_PATH }, \
	{ "json", no_argument, NULL, CTL_OPT_JSON }, \
	{ "help", no_argument, NULL, 'h' }
#define CTL_COMMON_SHORTOPTS "c:h"

/* getopt_long over a command's own arguments (argv[0] is the command name).
 * Handles the common options itself and returns the command's next own
 * option, or -1 at the end.  When the command must stop (bad option,
 * --help printed), it returns -1 with *stop set to the exit status;
 * otherwise *stop stays -1.  Call with optind reset (ctl_getopt_reset). */
int ctl_getopt(struct ctl *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *stop);
void ctl_getopt_reset(void);
/* For a command's own option loop: when o is config_opt (--config), or
 * --pin-path or --json, store its value in c and return true. */
bool ctl_common_option(struct ctl *c, int o, int config_opt);

void ctl_usage(FILE *f);
/* "pktclassctl: MESSAGE" and a hint on stderr; returns CTL_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "pktclassctl: MESSAGE" on stderr; returns CTL_ERROR. */
int ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load c->config (or path) into c->cfg, printing diagnostics.  With
 * quiet, nothing is printed and a missing or broken file is -errno. */
int ctl_load_config(struct ctl *c, const char *path, bool quiet);
/* The pin path: --pin-path, else the config's settings.pin_path (-c, or
 * the default config when it loads), else PC_DEFAULT_PIN_PATH.  Returns
 * CTL_OK or CTL_ERROR (the -c config did not load). */
int ctl_pin_path(struct ctl *c, const char **ret);

/* Strict number parsing: decimal or 0x hex, whole string, <= max. */
int ctl_parse_u32(const char *s, uint32_t max, uint32_t *ret);

/* ISO 8601 local time with offset, e.g. 2024-05-01T12:00:00+02:00. */
void ctl_format_time(uint64_t realtime_usec, char *buf, size_t len);

/* ---- stats view (state.c), shared with --watch (watch.c) ---- */
struct pc_stats;
struct pc_meta;

struct ctl_row {
	const char *name;
	const char *class_name; /* rules: their class */
	uint32_t slot;
	uint64_t order;         /* sort key, ties by name */
};

struct ctl_view {
	struct pc_stats *s;     /* not owned */
	struct ctl_row *classes, *rules; /* rules: without (default), (malformed) */
	size_t nclasses, nrules;
};

const char *ctl_hook_name(uint32_t hook);
/* The config whose `classes:` order the class rows follow: -c, else the
 * config the daemon loaded (meta->config_path), if it parses; or NULL. */
const struct pc_config *ctl_order_config(struct ctl *c, const struct pc_meta *m);
int ctl_view_build(const struct pc_config *order, struct pc_stats *s, struct ctl_view *v);
void ctl_view_clear(struct ctl_view *v);
/* The daemon's state at pin_path (pc_stats_read()); for a user who may not
 * open the pins, from the daemon's stats file in the runtime directory
 * (*from_file; -ENOENT when that says the daemon stopped).  sf gets the
 * daemon's own counters from that file when it was read (sf->pid 0
 * otherwise): always for those readers, and with daemon_counters for root. */
struct pc_statsfile;
int ctl_state_read(const char *pin_path, bool daemon_counters, struct pc_stats **ret,
		   struct pc_statsfile *sf, bool *from_file);
/* One line on f: the time of the stats file that the state came from. */
void ctl_state_source(FILE *f, const struct pc_statsfile *sf);
/* Print why pc_stats_read() failed with r; returns CTL_ERROR. */
int ctl_stats_error(const char *pin_path, int r);
/* Read the state at pin_path; on failure print why.  CTL_OK/CTL_ERROR. */
int ctl_read_stats(const char *pin_path, struct pc_stats **ret);
int ctl_watch(struct ctl *c, const char *pin_path, double seconds, bool rules);

int ctl_status(struct ctl *c, int argc, char **argv);
int ctl_stats(struct ctl *c, int argc, char **argv);
int ctl_check(struct ctl *c, int argc, char **argv);
int ctl_explain(struct ctl *c, int argc, char **argv);
int ctl_capture(struct ctl *c, int argc, char **argv);
int ctl_set(struct ctl *c, int argc, char **argv);

/* ---- the daemon's control socket (set.c) ---- */
struct pc_ctl_msg;
/* Send req (and pass_fd, when >= 0) to the daemon of c's pin path, read
 * its whole reply.  -ENOTCONN: no daemon listens (said on stderr unless
 * quiet, as other failures). */
int ctl_daemon_request(struct ctl *c, const char *req, size_t len, int pass_fd, bool quiet,
		       struct pc_ctl_msg *reply);
