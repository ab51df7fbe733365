/* SPDX-License-Identifier: GPL-2.0-only */
/* log.c - the daemon's logger: structured records to journald, or one
 * line per record to stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <bpf/libbpf.h>
/* Our own CODE_FILE= would always name this file: leave it out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "lib/escape.h"
#include "lib/log.h"
#include "lib/util.h"

#define LOG_LINE_MAX 4096
/* libbpf hands over whole verifier logs: keep their tail only. */
#define LIBBPF_LINES_MAX 60

static enum pc_log_target log_target = PC_LOG_STDERR;
static int log_max_level = LOG_INFO;

/* systemd sets JOURNAL_STREAM=DEV:INO when stderr is a journal stream. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n] != 0)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pc_log_init(enum pc_log_target t, int max_level)
{
	if (t == PC_LOG_AUTO)
		t = stderr_is_journal() ? PC_LOG_JOURNAL : PC_LOG_STDERR;
	log_target = t;
	log_max_level = max_level;
}

int pc_log_target_parse(const char *s, enum pc_log_target *ret)
{
	static const char *const names[] = {
		[PC_LOG_AUTO] = "auto",
		[PC_LOG_JOURNAL] = "journal",
		[PC_LOG_STDERR] = "stderr",
	};

	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (s && strcmp(s, names[i]) == 0) {
			*ret = (enum pc_log_target)i;
			return 0;
		}
	return -EINVAL;
}

/* "message" or "message: strerror(err)" into buf, control characters
 * escaped: a name from a config or the kernel cannot start a line of its
 * own (or move a terminal's cursor). */
static void format_message(char *buf, size_t len, int err, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX], ebuf[128];
	size_t n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	if (err != 0) {
		n = strlen(raw);
		snprintf(raw + n, sizeof(raw) - n, ": %s", strerror_r(abs(err), ebuf, sizeof(ebuf)));
	}
	pc_escape(buf, len, raw);
}

/* One line: the message (already escaped) and the fields, escaped here. */
static void write_stderr(const char *msg, const char *const fields[])
{
	char *line = NULL;
	size_t size = 0;
	FILE *f;

	f = open_memstream(&line, &size);
	if (!f)
		return;
	fprintf(f, "pktclassd: %s", msg);
	for (size_t i = 0; fields && fields[i]; i++) {
		_cleanup_free_ char *e = pc_escape_needed(fields[i]) ? pc_escape_dup(fields[i]) : NULL;

		fprintf(f, " %s", e ? e : fields[i]);
	}
	fputc('\n', f);
	if (fclose(f) == 0) {
		fwrite(line, 1, size, stderr);
		fflush(stderr);
	}
	free(line);
}

static int iov_printf(struct iovec *iov, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int iov_printf(struct iovec *iov, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	iov->iov_base = s;
	iov->iov_len = (size_t)n;
	return 0;
}

/* The fixed fields we generate come first in iov; the caller's follow. */
#define JOURNAL_OWN_MAX 5

static void write_journal(int level, int err, const char *message_id, const char *msg,
			  const char *const fields[])
{
	size_t nfields = 0, n = 0;
	_cleanup_free_ struct iovec *iov = NULL;

	while (fields && fields[nfields])
		nfields++;
	iov = calloc(JOURNAL_OWN_MAX + nfields, sizeof(*iov));
	if (!iov)
		return;
	if (iov_printf(&iov[n], "MESSAGE=%s", msg) == 0)
		n++;
	if (iov_printf(&iov[n], "PRIORITY=%i", level) == 0)
		n++;
	if (iov_printf(&iov[n], "SYSLOG_IDENTIFIER=pktclassd") == 0)
		n++;
	if (message_id && iov_printf(&iov[n], "MESSAGE_ID=%s", message_id) == 0)
		n++;
	if (err != 0 && iov_printf(&iov[n], "ERRNO=%i", abs(err)) == 0)
		n++;
	size_t own = n;
	for (size_t i = 0; i < nfields; i++) {
		iov[n].iov_base = (void *)fields[i];
		iov[n++].iov_len = strlen(fields[i]);
	}
	sd_journal_sendv(iov, (int)n);
	for (size_t i = 0; i < own; i++)
		free(iov[i].iov_base);
}

static void log_dispatch(int level, int err, const char *message_id, const char *msg,
			 const char *const fields[])
{
	if (log_target == PC_LOG_JOURNAL)
		write_journal(level, err, message_id, msg, fields);
	else
		write_stderr(msg, fields);
}

int pc_log_full(int level, int err, const char *fmt, ...)
{
	int saved_errno = errno;
	char buf[LOG_LINE_MAX];
	va_list ap;

	if (level <= log_max_level) {
		va_start(ap, fmt);
		format_message(buf, sizeof(buf), err, fmt, ap);
		va_end(ap);
		log_dispatch(level, err, NULL, buf, NULL);
	}
	errno = saved_errno;
	return err == 0 ? 0 : -abs(err);
}

int pc_log_struct(int level, const char *message_id, const char *fields[], const char *fmt, ...)
{
	int saved_errno = errno;
	char buf[LOG_LINE_MAX];
	va_list ap;

	if (level <= log_max_level) {
		va_start(ap, fmt);
		format_message(buf, sizeof(buf), 0, fmt, ap);
		va_end(ap);
		log_dispatch(level, 0, message_id, buf, fields);
	}
	errno = saved_errno;
	return 0;
}

/* One record per line of what libbpf printed, the last LIBBPF_LINES_MAX. */
static void log_lines(int level, char *text)
{
	size_t nlines = 0, skip;
	char *p, *line, *save = NULL;

	/* Count the lines strtok_r will return: empty ones are skipped. */
	for (p = text; *p; p++)
		if (*p != '\n' && (p == text || p[-1] == '\n'))
			nlines++;
	skip = nlines > LIBBPF_LINES_MAX ? nlines - LIBBPF_LINES_MAX : 0;
	if (skip > 0)
		pc_log_full(level, 0, "libbpf: (%zu lines omitted)", skip);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (skip > 0) {
			skip--;
			continue;
		}
		pc_log_full(level, 0, "%s", line);
	}
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	int level = lvl == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG;
	_cleanup_free_ char *text = NULL;

	if (level > log_max_level)
		return 0;
	if (vasprintf(&text, fmt, ap) < 0) {
		text = NULL;
		return 0;
	}
	log_lines(level, text);
	return 0;
}

void pc_log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
