/* SPDX-License-Identifier: GPL-2.0-only */
/* log.h - the daemon's logger: journald (structured) or stderr.  Only the
 * top layer logs; library modules return errors. */
#pragma once

#include <stdarg.h>
#include <syslog.h>

enum pc_log_target {
	PC_LOG_AUTO = 0,    /* journal when stderr is connected to it (JOURNAL_STREAM) */
	PC_LOG_JOURNAL,
	PC_LOG_STDERR,
};

void pc_log_init(enum pc_log_target t, int max_level);
int pc_log_target_parse(const char *s, enum pc_log_target *ret);
/* Route libbpf's messages here (at LOG_DEBUG, warnings at LOG_WARNING). */
void pc_log_hook_libbpf(void);

/* Plain message. Returns -abs(err) when err != 0, else 0, so that
 * `return log_error_errno(r, "...")` works. */
int pc_log_full(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Structured record: MESSAGE_ID plus NULL-terminated "FIELD=value" strings
 * after the message.  On stderr: the message and the fields, one line. */
int pc_log_struct(int level, const char *message_id, const char *fields[], const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_debug(...) pc_log_full(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) pc_log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) pc_log_full(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) pc_log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) pc_log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_error_errno(e, ...) pc_log_full(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) pc_log_full(LOG_WARNING, (e), __VA_ARGS__)

/* MESSAGE_IDs, documented in systemd/pktclassd.catalog. */
#define PC_MID_STATS   "5b0a3b6e0e2c4b1f9c4a2f1d7e6c5a01"
#define PC_MID_RELOAD  "5b0a3b6e0e2c4b1f9c4a2f1d7e6c5a02"
#define PC_MID_START   "5b0a3b6e0e2c4b1f9c4a2f1d7e6c5a03"
#define PC_MID_PKTLOG  "5b0a3b6e0e2c4b1f9c4a2f1d7e6c5a04"
#define PC_MID_ATTACH  "5b0a3b6e0e2c4b1f9c4a2f1d7e6c5a05"
#define PC_MID_DETACH  "5b0a3b6e0e2c4b1f9c4a2f1d7e6c5a06"
#define PC_MID_PKTLOG_SUPPRESSED "5b0a3b6e0e2c4b1f9c4a2f1d7e6c5a07"
