/* SPDX-License-Identifier: GPL-2.0-only */
/* test-log - the logger's stderr format, level filter, errno convention,
 * target selection and the libbpf hook. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../lib/check.h"
#include "lib/escape.h"
#include "lib/log.h"

/* The journal, intercepted: the executable's definition wins over
 * libsystemd's, so what the journal target sends lands here. */
static char journal_sent[8][512];
static int journal_n;

int sd_journal_sendv(const struct iovec *iov, int n)
{
	journal_n = n < 8 ? n : 8;
	for (int i = 0; i < journal_n; i++)
		snprintf(journal_sent[i], sizeof(journal_sent[i]), "%.*s", (int)iov[i].iov_len,
			 (const char *)iov[i].iov_base);
	return 0;
}


static FILE *real_stderr;
static char capture_path[] = "/tmp/test-log-XXXXXX";

/* Point fd 2 at an empty capture file. */
static void capture_start(void)
{
	int fd;

	fflush(stderr);
	fd = open(capture_path, O_RDWR | O_TRUNC);
	CHECK(fd >= 0);
	CHECK(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	close(fd);
}

/* What was written to fd 2 since capture_start(), as a malloc'd string. */
static char *capture_read(void)
{
	static char buf[65536];
	ssize_t n;
	int fd;

	fflush(stderr);
	fd = open(capture_path, O_RDONLY);
	CHECK(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	CHECK(n >= 0);
	buf[n] = 0;
	close(fd);
	return buf;
}

static void test_plain(void)
{
	pc_log_init(PC_LOG_STDERR, LOG_DEBUG);
	capture_start();
	CHECK(log_info("hello %d", 5) == 0);
	CHECK(strcmp(capture_read(), "pktclassd: hello 5\n") == 0);

	capture_start();
	CHECK(log_debug("a %s b", "x") == 0);
	CHECK(strcmp(capture_read(), "pktclassd: a x b\n") == 0);
}

static void test_errno(void)
{
	pc_log_init(PC_LOG_STDERR, LOG_DEBUG);
	capture_start();
	CHECK(log_error_errno(-ENOENT, "open %s", "/x") == -ENOENT);
	CHECK(strcmp(capture_read(), "pktclassd: open /x: No such file or directory\n") == 0);

	/* a positive errno gives the same negative return */
	capture_start();
	CHECK(log_warning_errno(EPERM, "bpf") == -EPERM);
	CHECK(strcmp(capture_read(), "pktclassd: bpf: Operation not permitted\n") == 0);

	/* errno is left as it was */
	errno = EAGAIN;
	capture_start();
	log_error("something");
	CHECK(errno == EAGAIN);
	CHECK(strcmp(capture_read(), "pktclassd: something\n") == 0);
}

static void test_level_filter(void)
{
	pc_log_init(PC_LOG_STDERR, LOG_INFO);
	capture_start();
	CHECK(log_debug("hidden") == 0);
	/* filtered messages still return the error */
	CHECK(pc_log_full(LOG_DEBUG, ENOMEM, "hidden too") == -ENOMEM);
	CHECK(strcmp(capture_read(), "") == 0);

	capture_start();
	log_notice("shown");
	CHECK(strcmp(capture_read(), "pktclassd: shown\n") == 0);
}

static void test_struct(void)
{
	const char *fields[] = { "PKTCLASS_GENERATION=3", "PKTCLASS_RESULT=ok", NULL };
	const char *none[] = { NULL };

	pc_log_init(PC_LOG_STDERR, LOG_INFO);
	capture_start();
	CHECK(pc_log_struct(LOG_INFO, PC_MID_RELOAD, fields, "reloaded %s", "config") == 0);
	CHECK(strcmp(capture_read(),
		     "pktclassd: reloaded config PKTCLASS_GENERATION=3 PKTCLASS_RESULT=ok\n") == 0);

	capture_start();
	CHECK(pc_log_struct(LOG_INFO, PC_MID_STATS, none, "no fields") == 0);
	CHECK(pc_log_struct(LOG_INFO, PC_MID_STATS, NULL, "null fields") == 0);
	CHECK(strcmp(capture_read(), "pktclassd: no fields\npktclassd: null fields\n") == 0);

	capture_start();
	CHECK(pc_log_struct(LOG_DEBUG, PC_MID_STATS, fields, "filtered") == 0);
	CHECK(strcmp(capture_read(), "") == 0);
}

static bool escapes_to(const char *in, const char *want)
{
	char buf[256];
	size_t n = pc_escape(buf, sizeof(buf), in);

	if (strcmp(buf, want) != 0 || n != strlen(want)) {
		fprintf(real_stderr, "pc_escape(\"%s\") = \"%s\" (%zu), want \"%s\"\n", in, buf, n,
			want);
		return false;
	}
	return pc_escape_needed(in) == (strcmp(in, want) != 0);
}

static void test_escape(void)
{
	char small[8], *dup;

	CHECK(escapes_to("plain text: a-b_c.d 1/2", "plain text: a-b_c.d 1/2"));
	CHECK(escapes_to("a\\nb", "a\\nb"));
	CHECK(escapes_to("x\ny", "x\\ny"));
	CHECK(escapes_to("\t\r\n", "\\t\\r\\n"));
	CHECK(escapes_to("esc\x1b[2J bell\a del\x7f", "esc\\x1b[2J bell\\x07 del\\x7f"));
	CHECK(escapes_to("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	CHECK(escapes_to("c1 \xc2\x9b csi", "c1 \\xc2\\x9b csi"));
	CHECK(escapes_to("bad \xff \xc3 \xed\xa0\x80", "bad \\xff \\xc3 \\xed\\xa0\\x80"));
	/* escaping twice changes nothing */
	CHECK(escapes_to("a\\x0ab", "a\\x0ab"));
	/* truncated like snprintf, always terminated */
	CHECK(pc_escape(small, sizeof(small), "ab\ncdef") == 8 && strcmp(small, "ab\\ncde") == 0);
	dup = pc_escape_dup("r\n");
	CHECK(dup && strcmp(dup, "r\\n") == 0);
	free(dup);
}

/* A quoted "\n" in a name must not make a line of its own: not in a
 * message, not in a field, on stderr nor in the journal. */
static void test_escaped_lines(void)
{
	const char *name = "evil\npktclassd: reloaded: generation 9 PKTCLASS_RESULT=ok";
	char field[256];
	const char *fields[] = { field, NULL };
	const char *out;

	snprintf(field, sizeof(field), "PKTCLASS_IFACE=%s", "x\ny\x1b[1m");
	pc_log_init(PC_LOG_STDERR, LOG_INFO);
	capture_start();
	log_error("rule %s: bad", name);
	log_error_errno(-ENOENT, "iface %s\r", "e\x1b]0;t\x07");
	pc_log_struct(LOG_INFO, PC_MID_ATTACH, fields, "attached %s", "a\tb");
	out = capture_read();
	CHECK(strcmp(out, "pktclassd: rule evil\\npktclassd: reloaded: generation 9 "
		     "PKTCLASS_RESULT=ok: bad\n"
		     "pktclassd: iface e\\x1b]0;t\\x07\\r: No such file or directory\n"
		     "pktclassd: attached a\\tb PKTCLASS_IFACE=x\\ny\\x1b[1m\n") == 0);

	pc_log_init(PC_LOG_JOURNAL, LOG_INFO);
	journal_n = 0;
	pc_log_struct(LOG_INFO, PC_MID_ATTACH, fields, "attached %s", name);
	CHECK(journal_n >= 4);
	CHECK(strcmp(journal_sent[0], "MESSAGE=attached evil\\npktclassd: reloaded: generation 9 "
		     "PKTCLASS_RESULT=ok") == 0);
	/* a field is binary-safe in the journal (sd_journal_sendv): kept as
	 * it is, so that PKTCLASS_IFACE= matches the real name */
	CHECK(strcmp(journal_sent[journal_n - 1], field) == 0);
	pc_log_init(PC_LOG_STDERR, LOG_INFO);
}

static void test_target_parse(void)
{
	enum pc_log_target t = PC_LOG_STDERR;

	CHECK(pc_log_target_parse("auto", &t) == 0 && t == PC_LOG_AUTO);
	CHECK(pc_log_target_parse("journal", &t) == 0 && t == PC_LOG_JOURNAL);
	CHECK(pc_log_target_parse("stderr", &t) == 0 && t == PC_LOG_STDERR);
	t = PC_LOG_JOURNAL;
	CHECK(pc_log_target_parse("syslog", &t) == -EINVAL && t == PC_LOG_JOURNAL);
	CHECK(pc_log_target_parse("", &t) == -EINVAL);
	CHECK(pc_log_target_parse("Stderr", &t) == -EINVAL);
}

/* AUTO picks the journal only when JOURNAL_STREAM names stderr itself. */
static void test_auto(void)
{
	struct stat st;
	char env[64];

	capture_start();
	unsetenv("JOURNAL_STREAM");
	pc_log_init(PC_LOG_AUTO, LOG_INFO);
	log_info("to stderr");
	CHECK(strcmp(capture_read(), "pktclassd: to stderr\n") == 0);

	capture_start();
	setenv("JOURNAL_STREAM", "1:2", 1);
	pc_log_init(PC_LOG_AUTO, LOG_INFO);
	log_info("still stderr");
	CHECK(strcmp(capture_read(), "pktclassd: still stderr\n") == 0);

	capture_start();
	setenv("JOURNAL_STREAM", "garbage", 1);
	pc_log_init(PC_LOG_AUTO, LOG_INFO);
	log_info("garbage env");
	CHECK(strcmp(capture_read(), "pktclassd: garbage env\n") == 0);

	capture_start();
	CHECK(fstat(STDERR_FILENO, &st) == 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	pc_log_init(PC_LOG_AUTO, LOG_INFO);
	log_info("to the journal, not to the file");
	CHECK(strcmp(capture_read(), "") == 0);
	unsetenv("JOURNAL_STREAM");
}

static int call_print(libbpf_print_fn_t fn, enum libbpf_print_level l, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fn(l, fmt, ap);
	va_end(ap);
	return r;
}

static void test_libbpf_hook(void)
{
	libbpf_print_fn_t fn;
	char big[20000], *p = big;
	const char *out;

	pc_log_init(PC_LOG_STDERR, LOG_INFO);
	pc_log_hook_libbpf();
	fn = libbpf_set_print(NULL);
	CHECK(fn != NULL);

	capture_start();
	call_print(fn, LIBBPF_WARN, "libbpf: failed to load %s: %d\n", "prog", -22);
	call_print(fn, LIBBPF_DEBUG, "libbpf: debug chatter\n");
	call_print(fn, LIBBPF_INFO, "libbpf: info chatter\n");
	CHECK(strcmp(capture_read(), "pktclassd: libbpf: failed to load prog: -22\n") == 0);

	pc_log_init(PC_LOG_STDERR, LOG_DEBUG);
	capture_start();
	call_print(fn, LIBBPF_DEBUG, "libbpf: a\nb\n\nc\n");
	CHECK(strcmp(capture_read(), "pktclassd: libbpf: a\npktclassd: b\npktclassd: c\n") == 0);

	/* a long verifier log: only its tail */
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "%d: insn\n", i);
	capture_start();
	call_print(fn, LIBBPF_WARN, "%s", big);
	out = capture_read();
	CHECK(strstr(out, "pktclassd: libbpf: (40 lines omitted)\npktclassd: 40: insn\n") == out);
	CHECK(strstr(out, "pktclassd: 39: insn") == NULL);
	CHECK(strstr(out, "pktclassd: 99: insn\n") != NULL);
}

int main(void)
{
	int fd;

	fd = dup(STDERR_FILENO);
	CHECK(fd >= 0);
	real_stderr = fdopen(fd, "w");
	if (!real_stderr)
		return 1;
	check_out = real_stderr;
	fd = mkstemp(capture_path);
	if (fd < 0)
		return 1;
	close(fd);

	test_plain();
	test_errno();
	test_level_filter();
	test_struct();
	test_escape();
	test_escaped_lines();
	test_target_parse();
	test_auto();
	test_libbpf_hook();

	unlink(capture_path);
	if (!failures)
		fprintf(real_stderr, "test-log: ok\n");
	return check_exit();
}
