/* SPDX-License-Identifier: GPL-2.0-only */
/* test-json: the JSON writer's output, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "lib/json.h"

static int failures;

struct buf {
	char *s;
	size_t len;
	FILE *f;
};

static void open_buf(struct buf *b)
{
	b->f = open_memstream(&b->s, &b->len);
	if (!b->f)
		abort();
}

static void expect(struct buf *b, int r, int want_r, const char *want, const char *what)
{
	fclose(b->f);
	if (r != want_r || strcmp(b->s, want) != 0) {
		fprintf(stderr, "FAIL %s: got (%d) [%s], want (%d) [%s]\n", what, r, b->s, want_r, want);
		failures++;
	}
	free(b->s);
}

static void test_compact(void)
{
	struct pc_json j;
	struct buf b;

	open_buf(&b);
	pc_json_init(&j, b.f, false);
	pc_json_object_begin(&j);
	pc_json_kv_u64(&j, "n", 18446744073709551615ull);
	pc_json_key(&j, "i");
	pc_json_i64(&j, -42);
	pc_json_kv_bool(&j, "t", true);
	pc_json_key(&j, "a");
	pc_json_array_begin(&j);
	pc_json_null(&j);
	pc_json_double(&j, 1.5, 3);
	pc_json_double(&j, NAN, 3);
	pc_json_array_begin(&j);
	pc_json_array_end(&j);
	pc_json_object_begin(&j);
	pc_json_object_end(&j);
	pc_json_array_end(&j);
	pc_json_kv_string(&j, "s", "x");
	pc_json_object_end(&j);
	expect(&b, pc_json_finish(&j), 0,
	       "{\"n\":18446744073709551615,\"i\":-42,\"t\":true,\"a\":[null,1.500,null,[],{}],\"s\":\"x\"}\n",
	       "compact");
}

static void test_pretty(void)
{
	struct pc_json j;
	struct buf b;

	open_buf(&b);
	pc_json_init(&j, b.f, true);
	pc_json_object_begin(&j);
	pc_json_key(&j, "a");
	pc_json_array_begin(&j);
	pc_json_u64(&j, 1);
	pc_json_u64(&j, 2);
	pc_json_array_end(&j);
	pc_json_key(&j, "e");
	pc_json_array_begin(&j);
	pc_json_array_end(&j);
	pc_json_object_end(&j);
	expect(&b, pc_json_finish(&j), 0, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": []\n}\n",
	       "pretty");
}

static void test_escapes(void)
{
	struct pc_json j;
	struct buf b;

	open_buf(&b);
	pc_json_init(&j, b.f, false);
	/* quote, backslash, control characters, DEL, valid UTF-8 (é, €, 𝄞),
	 * then invalid: a lone continuation byte, a truncated sequence, an
	 * overlong encoding and a surrogate. */
	pc_json_string(&j, "\"\\\n\t\x01\x7f"
			   "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"
			   "\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80");
	expect(&b, pc_json_finish(&j), 0,
	       "\"\\\"\\\\\\n\\t\\u0001\\u007f\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e"
	       "\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\"\n",
	       "escapes");
}

static void test_misuse(void)
{
	struct pc_json j;
	struct buf b;

	open_buf(&b);
	pc_json_init(&j, b.f, false);
	pc_json_object_begin(&j);
	pc_json_u64(&j, 1); /* a value without a key */
	pc_json_object_end(&j);
	expect(&b, pc_json_finish(&j), -22, "{1}\n", "value without key");

	open_buf(&b);
	pc_json_init(&j, b.f, false);
	pc_json_array_begin(&j);
	expect(&b, pc_json_finish(&j), -22, "[\n", "unclosed");

	open_buf(&b);
	pc_json_init(&j, b.f, false);
	pc_json_array_begin(&j);
	pc_json_object_end(&j);
	expect(&b, pc_json_finish(&j), -22, "[}\n", "wrong close");
}

int main(void)
{
	test_compact();
	test_pretty();
	test_escapes();
	test_misuse();
	if (failures)
		return 1;
	printf("test-json: ok\n");
	return 0;
}
