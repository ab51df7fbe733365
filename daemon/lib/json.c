/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/json.h"

void pc_json_init(struct pc_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void indent(struct pc_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (unsigned i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Before any value: the comma and indentation it needs. */
static void value_prefix(struct pc_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	if (j->stack[j->depth - 1] == '{') {
		j->errors++; /* a value without a key */
		return;
	}
	if (j->nonempty[j->depth - 1])
		fputc(',', j->f);
	j->nonempty[j->depth - 1] = true;
	indent(j);
}

static void open_container(struct pc_json *j, char c)
{
	value_prefix(j);
	fputc(c, j->f);
	if (j->depth >= PC_JSON_MAX_DEPTH) {
		j->errors++;
		return;
	}
	j->stack[j->depth] = c;
	j->nonempty[j->depth] = false;
	j->depth++;
}

static void close_container(struct pc_json *j, char open, char close)
{
	if (j->depth == 0 || j->stack[j->depth - 1] != open || j->after_key) {
		j->errors++;
		j->after_key = false;
	}
	if (j->depth > 0) {
		bool nonempty = j->nonempty[j->depth - 1];

		j->depth--;
		if (nonempty)
			indent(j);
	}
	fputc(close, j->f);
}

void pc_json_object_begin(struct pc_json *j) { open_container(j, '{'); }
void pc_json_object_end(struct pc_json *j) { close_container(j, '{', '}'); }
void pc_json_array_begin(struct pc_json *j) { open_container(j, '['); }
void pc_json_array_end(struct pc_json *j) { close_container(j, '[', ']'); }

void pc_json_key(struct pc_json *j, const char *key)
{
	if (j->depth == 0 || j->stack[j->depth - 1] != '{' || j->after_key) {
		j->errors++;
		return;
	}
	if (j->nonempty[j->depth - 1])
		fputc(',', j->f);
	j->nonempty[j->depth - 1] = true;
	indent(j);
	pc_json_write_escaped(j->f, key);
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = true;
}

static void write_char_escaped(FILE *f, unsigned char c)
{
	switch (c) {
	case '"': fputs("\\\"", f); break;
	case '\\': fputs("\\\\", f); break;
	case '\b': fputs("\\b", f); break;
	case '\f': fputs("\\f", f); break;
	case '\n': fputs("\\n", f); break;
	case '\r': fputs("\\r", f); break;
	case '\t': fputs("\\t", f); break;
	default:
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void pc_json_write_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t n = pc_utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", f);
			p++;
		} else if (n == 1) {
			write_char_escaped(f, *p++);
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

void pc_json_string(struct pc_json *j, const char *s)
{
	value_prefix(j);
	pc_json_write_escaped(j->f, s ? s : "");
}

void pc_json_u64(struct pc_json *j, uint64_t v)
{
	value_prefix(j);
	fprintf(j->f, "%" PRIu64, v);
}

void pc_json_i64(struct pc_json *j, int64_t v)
{
	value_prefix(j);
	fprintf(j->f, "%" PRId64, v);
}

void pc_json_bool(struct pc_json *j, bool v)
{
	value_prefix(j);
	fputs(v ? "true" : "false", j->f);
}

void pc_json_double(struct pc_json *j, double v, int decimals)
{
	value_prefix(j);
	if (isfinite(v))
		fprintf(j->f, "%.*f", decimals, v);
	else
		fputs("null", j->f);
}

void pc_json_null(struct pc_json *j)
{
	value_prefix(j);
	fputs("null", j->f);
}

void pc_json_kv_string(struct pc_json *j, const char *key, const char *s)
{
	pc_json_key(j, key);
	pc_json_string(j, s);
}

void pc_json_kv_u64(struct pc_json *j, const char *key, uint64_t v)
{
	pc_json_key(j, key);
	pc_json_u64(j, v);
}

void pc_json_kv_bool(struct pc_json *j, const char *key, bool v)
{
	pc_json_key(j, key);
	pc_json_bool(j, v);
}

int pc_json_finish(struct pc_json *j)
{
	fputc('\n', j->f);
	if (fflush(j->f) != 0 || ferror(j->f))
		return -EIO;
	if (j->depth != 0 || j->after_key || j->errors)
		return -EINVAL;
	return 0;
}
