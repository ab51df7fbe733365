/* SPDX-License-Identifier: GPL-2.0-only */
/* json.h - a tiny streaming JSON writer to a FILE: objects, arrays,
 * strings (escaped; invalid UTF-8 becomes U+FFFD), unsigned and signed
 * integers, decimals, booleans and null.  The writer places commas, and with
 * `pretty` newlines and two-space indentation.  Misuse (a value where a
 * key is due, closing the wrong container) is a programming error:
 * the writer counts it in `errors` and keeps the output as sane as it can. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PC_JSON_MAX_DEPTH 32

struct pc_json {
	FILE *f;
	bool pretty;
	unsigned depth;
	char stack[PC_JSON_MAX_DEPTH]; /* '{' or '[' */
	bool nonempty[PC_JSON_MAX_DEPTH];
	bool after_key;
	unsigned errors;
};

void pc_json_init(struct pc_json *j, FILE *f, bool pretty);

void pc_json_object_begin(struct pc_json *j);
void pc_json_object_end(struct pc_json *j);
void pc_json_array_begin(struct pc_json *j);
void pc_json_array_end(struct pc_json *j);
/* Inside an object: the next value's key. */
void pc_json_key(struct pc_json *j, const char *key);

void pc_json_string(struct pc_json *j, const char *s);
void pc_json_u64(struct pc_json *j, uint64_t v);
void pc_json_i64(struct pc_json *j, int64_t v);
void pc_json_bool(struct pc_json *j, bool v);
/* Fixed notation with `decimals` digits; NaN and infinities as null. */
void pc_json_double(struct pc_json *j, double v, int decimals);
void pc_json_null(struct pc_json *j);

/* key + value shorthands. */
void pc_json_kv_string(struct pc_json *j, const char *key, const char *s);
void pc_json_kv_u64(struct pc_json *j, const char *key, uint64_t v);
void pc_json_kv_bool(struct pc_json *j, const char *key, bool v);

/* After the top-level value: a newline, flush.  0, or -EINVAL when the
 * document is not complete or was misused, -EIO on a write error. */
int pc_json_finish(struct pc_json *j);

/* Write s as a JSON string literal (with quotes). */
void pc_json_write_escaped(FILE *f, const char *s);
