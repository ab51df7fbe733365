/* SPDX-License-Identifier: GPL-2.0-only */
/* snapshot.c - the daemon's state for pktclassctl: the pinned maps, or for
 * a member of the group pktclassd (who cannot reach the pins: bpffs is
 * mode 0700) the stats file that the daemon keeps in its runtime
 * directory.  Opening that file asks the daemon for a fresh one (it
 * watches the directory), so a reader waits a moment for it. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "datapath/statsfile.h"
#include "lib/rundir.h"
#include "lib/util.h"

#define WAIT_STEP_USEC 10000u
#define WAIT_MAX_USEC 5000000u

static bool pid_alive(uint32_t pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* Read the file; unless it was written after we opened it, and while its
 * daemon runs, wait for the one that our open asked for (written_usec is
 * taken before the daemon reads the counters; a new file is a new inode:
 * it is renamed into place). */
static int read_fresh(const char *path, struct pc_stats **ret, struct pc_statsfile *sf)
{
	uint64_t opened = pc_now_usec(CLOCK_REALTIME);
	int r;

	for (unsigned waited = 0;; waited += WAIT_STEP_USEC) {
		ino_t before = inode_of(path);

		r = pc_statsfile_read(path, ret, sf);
		if (r < 0 || !sf->running || !pid_alive(sf->pid) || sf->written_usec >= opened)
			return r;
		while (inode_of(path) == before && waited < WAIT_MAX_USEC) {
			usleep(WAIT_STEP_USEC);
			waited += WAIT_STEP_USEC;
		}
		if (waited >= WAIT_MAX_USEC)
			return 0; /* what there is: its time is shown */
		pc_stats_freep(ret);
		pc_statsfile_clear(sf);
	}
}

int ctl_state_read(const char *pin_path, bool daemon_counters, struct pc_stats **ret,
		   struct pc_statsfile *sf, bool *from_file)
{
	_cleanup_(pc_stats_freep) struct pc_stats *fs = NULL;
	char path[PATH_MAX];
	int r, q;

	*sf = (struct pc_statsfile){};
	*from_file = false;
	q = pc_runtime_file(pin_path, "stats", path, sizeof(path));
	r = pc_stats_read(pin_path, ret);
	if (r >= 0) {
		/* the daemon's own counters and its sets' element counts, when
		 * it left them, as of now: opening the file makes the daemon
		 * write it anew, and we wait for that one (only when they count) */
		if (daemon_counters && q >= 0 && read_fresh(path, &fs, sf) < 0)
			*sf = (struct pc_statsfile){};
		return 0;
	}
	if ((r != -EACCES && r != -EPERM) || q < 0)
		return r;
	q = read_fresh(path, ret, sf);
	if (q == -ENOENT)
		return r; /* no file either: say why the pins were refused */
	if (q < 0)
		return q;
	*from_file = true;
	if (!sf->running) {
		pc_stats_freep(ret);
		pc_statsfile_clear(sf);
		return -ENOENT; /* the daemon stopped, and its state went with it */
	}
	return 0;
}

void ctl_state_source(FILE *f, const struct pc_statsfile *sf)
{
	char when[64];

	ctl_format_time(sf->written_usec, when, sizeof(when));
	fprintf(f, "pktclassctl: counters as of %s, from pktclassd's stats file in %s\n", when,
		pc_runtime_dir());
}
