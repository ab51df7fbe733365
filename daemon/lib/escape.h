/* SPDX-License-Identifier: GPL-2.0-only */
/* escape.h - make text safe for a log line or a terminal: control
 * characters written as C escapes, so that a name from a config file or
 * the kernel can neither end a line nor move the cursor. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (NUL-terminated), or 0. */
size_t pc_utf8_len(const unsigned char *p);

/* Whether s has anything pc_escape() would change. */
bool pc_escape_needed(const char *s);

/* Copy s into buf (size > 0, always terminated) with every C0 control
 * character and DEL as \n, \r, \t or \xNN, UTF-8-encoded C1 controls
 * (U+0080..U+009F) and bytes that are not UTF-8 as \xNN per byte.
 * Backslashes are kept as they are, so escaping twice changes nothing.
 * Returns the length of the whole escaped text (as snprintf does). */
size_t pc_escape(char *buf, size_t size, const char *s);

/* The escaped text in a new string; NULL when out of memory. */
char *pc_escape_dup(const char *s);
