/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz-config.c - libFuzzer target: the config parser on arbitrary bytes,
 * and the same bytes as a set's element file of each type.  Whatever the
 * input, it must return cleanly and free everything. */
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

	/* an element file's text, as `file:` and `set load` read it */
	for (uint32_t type = PC_SET_PREFIX; type <= PC_SET_PORT; type++) {
		struct pc_set_elems e = {};

		pc_diags_init(&d, "fuzz.txt");
		r = pc_set_parse_text(type, "fuzz.txt", (const char *)data, size, PC_SE_F_CONFIG, &e, &d);
		if ((r == 0) != (d.nerrors == 0) && r != -ENOMEM)
			__builtin_trap();
		for (size_t i = 0; i < d.n; i++)
			pc_diag_format(&d, i, line, sizeof(line));
		pc_set_elems_normalize(&e);
		pc_set_elems_clear(&e);
		pc_diags_clear(&d);
	}
	/* `include:` globs and reads the file system, which a fuzzer must not
	 * roam (/proc, /sys), and so does a set's `file:`; each included or
	 * element file goes through the same parsers */
	if (memmem(data, size, "include", 7) || memmem(data, size, "file", 4))
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
