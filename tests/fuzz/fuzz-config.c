/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz-config.c - libFuzzer target: the config parser on arbitrary bytes.
 * Whatever the input, it must return cleanly and free everything. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_config *c = NULL;
	struct pc_diags d;
	char line[512];
	int r;

	/* `include:` globs and reads the file system, which a fuzzer must not
	 * roam (/proc, /sys); each included file goes through the same parser */
	if (memmem(data, size, "include", 7))
		return 0;
	pc_diags_init(&d, "fuzz.yaml");
	r = pc_config_parse("fuzz.yaml", (const char *)data, size, &c, &d);
	if ((r == 0) != (c != NULL) || (r == 0 && d.nerrors > 0) || (r == -EINVAL && d.nerrors == 0))
		__builtin_trap();
	for (size_t i = 0; i < d.n; i++)
		pc_diag_format(&d, i, line, sizeof(line));
	pc_config_free(c);
	pc_diags_clear(&d);
	return 0;
}
