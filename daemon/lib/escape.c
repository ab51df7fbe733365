/* SPDX-License-Identifier: GPL-2.0-only */
/* escape.c - control characters in text as C escapes (see escape.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/escape.h"

size_t pc_utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* pc_utf8_len(), but a C1 control (U+0080..U+009F) counts as invalid. */
static size_t utf8_len(const unsigned char *s)
{
	return s[0] == 0xc2 && s[1] < 0xa0 ? 0 : pc_utf8_len(s);
}

static bool is_plain(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

bool pc_escape_needed(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0 || (n == 1 && !is_plain(*p)))
			return true;
		p += n;
	}
	return false;
}

/* The escape of byte c: "\n", "\xNN"... into e (5 bytes). */
static void escape_byte(unsigned char c, char *e)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\n' || c == '\r' || c == '\t') {
		e[0] = '\\';
		e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		e[2] = 0;
		return;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 0xf];
	e[4] = 0;
}

static void put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++, (*len)++)
		if (*len + 1 < size)
			buf[*len] = s[i];
}

size_t pc_escape(char *buf, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;
	char e[5];

	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0 || (n == 1 && !is_plain(*p))) {
			escape_byte(*p, e);
			put(buf, size, &len, e, e[1] == 'x' ? 4 : 2);
			p++;
			continue;
		}
		put(buf, size, &len, (const char *)p, n);
		p += n;
	}
	if (size > 0)
		buf[len < size ? len : size - 1] = 0;
	return len;
}

char *pc_escape_dup(const char *s)
{
	size_t n = pc_escape(NULL, 0, s);
	char *buf = malloc(n + 1);

	if (buf)
		pc_escape(buf, n + 1, s);
	return buf;
}
