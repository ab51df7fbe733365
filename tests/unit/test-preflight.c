/* SPDX-License-Identifier: GPL-2.0-only */
/* test-preflight - the kernel version parse and minimum. */
#include <stdio.h>
#include <stdlib.h>

#include "../lib/check.h"
#include "pktclassd/preflight.h"


int main(void)
{
	unsigned ma = 0, mi = 0;

	CHECK(pc_kernel_version_parse("6.18.0-1-amd64", &ma, &mi) == 0 && ma == 6 && mi == 18);
	CHECK(pc_kernel_version_parse("5.10.0", &ma, &mi) == 0 && ma == 5 && mi == 10);
	CHECK(pc_kernel_version_parse("6.1", &ma, &mi) == 0 && ma == 6 && mi == 1);
	CHECK(pc_kernel_version_parse("6", &ma, &mi) == -EINVAL);
	CHECK(pc_kernel_version_parse("", &ma, &mi) == -EINVAL);
	CHECK(pc_kernel_version_parse("-6.1", &ma, &mi) == -EINVAL);
	CHECK(pc_kernel_version_parse("linux-6.1", &ma, &mi) == -EINVAL);
	CHECK(pc_kernel_version_parse(NULL, &ma, &mi) == -EINVAL);

	CHECK(pc_kernel_version_ok(6, 1));
	CHECK(pc_kernel_version_ok(6, 18));
	CHECK(pc_kernel_version_ok(7, 0));
	CHECK(!pc_kernel_version_ok(6, 0));
	CHECK(!pc_kernel_version_ok(5, 19));
	CHECK(!pc_kernel_version_ok(4, 99));
	if (!failures)
		fprintf(stderr, "test-preflight: ok\n");
	return check_exit();
}
