/* SPDX-License-Identifier: GPL-2.0-only */
/* privtest.h - what the privileged C tests (suites bpf and e2e) share:
 * the skip-or-fail rule for a missing prerequisite, and
 * running the tests in a child so that the parent cleans up however the
 * child ends. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* A prerequisite is missing: skip (77), except in CI, where it fails. */
static inline int pt_unavailable(const char *why)
{
	const char *ci = getenv("CI");

	fprintf(stderr, "%s\n", why);
	if (ci && !strcmp(ci, "true")) {
		fprintf(stderr, "FAIL: required in CI\n");
		return 1;
	}
	return 77;
}

/* run() in a child process; then cleanup() here, whatever became of it.
 * Returns the child's exit status, 1 when it died. */
static inline int pt_run_forked(int (*run)(void), void (*cleanup)(void))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(run());
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	cleanup();
	if (!WIFEXITED(status)) {
		fprintf(stderr, "FAIL: test process died (status %#x)\n", status);
		return 1;
	}
	return WEXITSTATUS(status);
}
