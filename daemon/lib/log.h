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
#define PC_MID_STATS   "b75b0345bcf44dbdb2c019e013228ae1"
#define PC_MID_RELOAD  "86b59119d1484cc181b41cb4e8d1450c"
#define PC_MID_START   "2f5b4883aa93487087f39c1c9ee07ef1"
#define PC_MID_PKTLOG  "217ba1817a2c4541998a651c116b7f13"
#define PC_MID_ATTACH  "819de0b7f77541a790ef0bd33d0502df"
#define PC_MID_DETACH  "196acda958d448678cdc48fc5edaee5d"
#define PC_MID_PKTLOG_SUPPRESSED "a46b00bfe7754d0b8925d6cffa5b83ff"
#define PC_MID_HOOK_LOST     "e8a815a9dbb545ddb6dddce513dc974a"
#define PC_MID_HOOK_RESTORED "4475fde0de834f798d6d1be12475a321"
#define PC_MID_REDIRECT      "bb3348582ccf4868a0cf2d475460bae4"
#define PC_MID_SET     "7f0fe392c6b24a1086789dd222ebbe62"
