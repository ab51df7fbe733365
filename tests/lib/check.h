/* SPDX-License-Identifier: GPL-2.0-only */
/* check.h - the counted checks of every C test: CHECK(cond[, fmt, ...]),
 * CHECK_EQ(a, b) for integers, CHECK_STR(a, b) for strings.  A failed check
 * is reported with its place and counted in `failures`; the test ends with
 * check_exit(). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* CHECK(cond) passes "" as the format. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

static unsigned failures __attribute__((unused)), checks __attribute__((unused));
/* Where failures go: stderr unless a test that captures stderr says otherwise. */
static FILE *check_out __attribute__((unused));

__attribute__((format(printf, 4, 5), unused)) static void
check_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	FILE *out = check_out ? check_out : stderr;
	va_list ap;

	failures++;
	fprintf(out, "%s:%d: FAIL %s", file, line, expr);
	if (*fmt) {
		fputs(": ", out);
		va_start(ap, fmt);
		vfprintf(out, fmt, ap);
		va_end(ap);
	}
	fputc('\n', out);
}

/* The message's arguments are evaluated only when cond does not hold. */
#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		checks++;                                                       \
		if (!(cond))                                                    \
			check_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__);  \
	} while (0)

#define CHECK_EQ(a, b)                                                                  \
	do {                                                                            \
		long long _a = (long long)(a), _b = (long long)(b);                     \
		CHECK(_a == _b, "%s is %lld, expected %s (%lld)", #a, _a, #b, _b);      \
	} while (0)

#define CHECK_STR(a, b)                                                                 \
	do {                                                                            \
		const char *_a = (a), *_b = (b);                                        \
		CHECK(_a && _b && !strcmp(_a, _b), "%s:\n%s\nexpected\n%s", #a,            \
		      _a ? _a : "(null)", _b ? _b : "(null)");                            \
	} while (0)

/* The exit status: 1 when a check failed. */
static inline int check_exit(void)
{
	if (failures)
		fprintf(check_out ? check_out : stderr, "%u of %u checks failed\n", failures, checks);
	return failures ? 1 : 0;
}
