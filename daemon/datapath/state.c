/* SPDX-License-Identifier: GPL-2.0-only */
/* state.c - the persistent state under pin_path: the lock, creating it,
 * adopting it, and removing it.
 *
 * Pins: the maps jmp_tc, jmp_sock, meta, attach, log, log_limit, the
 * counter set (cnt, slots, and each attachment's counter array as
 * cnt_<attach slot>, cset.c), and the entry programs entry_ingress,
 * entry_egress, entry_sock.  "meta" is pinned last, so a half-created
 * directory is never adopted: without it, or with another magic or ABI
 * version, the old pins are removed and everything is created afresh.
 *
 * The pin directory is flock()ed for as long as the process has it open:
 * a second daemon on the same pin path is refused before it reads or
 * writes anything there. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/internal.h"
#include "datapath/setpool.h"
#include "entry.skel.h"

static const char *const pin_names[] = {
	"meta", "jmp_tc", "jmp_sock", "cnt", "slots", "attach",
	"entry_ingress", "entry_egress", "entry_sock", "log", "log_limit",
};

int pc_dp_pin_file(const struct pc_dp *dp, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dp->pin_path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pc_dp_obj_get(const struct pc_dp *dp, const char *name)
{
	char p[PC_PATH_MAX + 32];
	int fd, r;

	r = pc_dp_pin_file(dp, name, p, sizeof(p));
	if (r < 0)
		return r;
	fd = bpf_obj_get(p);
	return fd < 0 ? -errno : fd;
}

int pc_dp_obj_pin(const struct pc_dp *dp, int fd, const char *name)
{
	char p[PC_PATH_MAX + 32];
	int r;

	r = pc_dp_pin_file(dp, name, p, sizeof(p));
	if (r < 0)
		return r;
	return bpf_obj_pin(fd, p) < 0 ? -errno : 0;
}

int pc_dp_pin_replace(const struct pc_dp *dp, int fd, const char *name)
{
	char tmp[64], p[PC_PATH_MAX + 32], t[PC_PATH_MAX + 32];
	int r;

	/* bpffs refuses names with a dot (EPERM) */
	snprintf(tmp, sizeof(tmp), "tmp_%s", name);
	r = pc_dp_pin_file(dp, name, p, sizeof(p));
	if (r >= 0)
		r = pc_dp_pin_file(dp, tmp, t, sizeof(t));
	if (r < 0)
		return r;
	if (unlink(t) < 0 && errno != ENOENT)
		return -errno;
	if (bpf_obj_pin(fd, t) < 0)
		return -errno;
	if (rename(t, p) < 0) {
		r = -errno;
		unlink(t);
		return r;
	}
	return 0;
}

int pc_dp_map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) < 0 ? -errno : 0;
}

int pc_dp_meta_write(struct pc_dp *dp)
{
	__u32 zero = 0;

	return bpf_map_update_elem(dp->meta_fd, &zero, &dp->meta, BPF_ANY) < 0 ? -errno : 0;
}

/* cnt_<n> and tmp_* pins: counter arrays, and pins a replacement left
 * half done. */
static bool is_our_extra_pin(const char *name)
{
	size_t d = strspn(name + 4, "0123456789");

	if (!strncmp(name, "tmp_", 4))
		return true;
	return !strncmp(name, "cnt_", 4) && d > 0 && name[4 + d] == '\0';
}

static int unpin_all(const struct pc_dp *dp)
{
	char p[PC_PATH_MAX + 32];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	for (size_t i = 0; i < ELEMENTSOF(pin_names); i++) {
		if (pc_dp_pin_file(dp, pin_names[i], p, sizeof(p)) < 0)
			return -ENAMETOOLONG;
		if (unlink(p) < 0 && errno != ENOENT)
			ret = -errno;
	}
	d = opendir(dp->pin_path);
	if (!d)
		return errno == ENOENT ? ret : -errno;
	while ((de = readdir(d))) {
		if (!is_our_extra_pin(de->d_name))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			ret = -errno;
	}
	closedir(d);
	return ret;
}

static bool is_bpffs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

/* mkdir -p, 0700 for what it creates. */
static int mkdir_p(const char *path)
{
	char p[PC_PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/* bpffs is mounted on /sys/fs/bpf when it is not; pin_path is created and
 * must be on a bpffs. */
static int ensure_bpffs(const char *pin_path)
{
#define PC_BPFFS "/sys/fs/bpf"
	static const char bpffs[] = PC_BPFFS;
	int r;

	if (!strncmp(pin_path, PC_BPFFS "/", sizeof(bpffs)) && !is_bpffs(bpffs) &&
	    mount("bpf", bpffs, "bpf", 0, "mode=0700") < 0)
		return -errno;
	r = mkdir_p(pin_path);
	if (r < 0)
		return r;
	if (!is_bpffs(pin_path)) {
		rmdir(pin_path); /* only if empty */
		return -ENOTSUP;
	}
	return 0;
}

/* flock() the pin directory; -EBUSY when another process has it.  The
 * directory may be removed and made anew by a daemon stopping meanwhile:
 * the lock counts only on the directory the path names afterwards. */
static int lock_pin_dir(struct pc_dp *dp)
{
	for (int tries = 0; tries < 3; tries++) {
		struct stat a, b;
		int fd = open(dp->pin_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

			close(fd);
			return r;
		}
		if (fstat(fd, &a) == 0 && stat(dp->pin_path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			dp->lock_fd = fd;
			return 0;
		}
		close(fd);
		if (ensure_bpffs(dp->pin_path) < 0)
			break;
	}
	return -EBUSY;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	return info.id;
}

static int dup_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static int entry_create(struct pc_dp *dp)
{
	struct pc_entry *skel;
	int r;

	skel = pc_entry__open_and_load();
	if (!skel)
		return -errno;
	dp->jmp_tc_fd = dup_fd(bpf_map__fd(skel->maps.jmp_tc));
	dp->jmp_sock_fd = dup_fd(bpf_map__fd(skel->maps.jmp_sock));
	dp->entry_fd[PC_HOOK_INGRESS] = dup_fd(bpf_program__fd(skel->progs.pc_entry_ingress));
	dp->entry_fd[PC_HOOK_EGRESS] = dup_fd(bpf_program__fd(skel->progs.pc_entry_egress));
	dp->entry_fd[PC_HOOK_MONITOR] = dup_fd(bpf_program__fd(skel->progs.pc_entry_sock));
	pc_entry__destroy(skel);
	if (dp->jmp_tc_fd < 0 || dp->jmp_sock_fd < 0 || dp->entry_fd[0] < 0 ||
	    dp->entry_fd[1] < 0 || dp->entry_fd[2] < 0)
		return -EMFILE;
	if ((r = pc_dp_obj_pin(dp, dp->jmp_tc_fd, "jmp_tc")) < 0 ||
	    (r = pc_dp_obj_pin(dp, dp->jmp_sock_fd, "jmp_sock")) < 0 ||
	    (r = pc_dp_obj_pin(dp, dp->entry_fd[PC_HOOK_INGRESS], "entry_ingress")) < 0 ||
	    (r = pc_dp_obj_pin(dp, dp->entry_fd[PC_HOOK_EGRESS], "entry_egress")) < 0 ||
	    (r = pc_dp_obj_pin(dp, dp->entry_fd[PC_HOOK_MONITOR], "entry_sock")) < 0)
		return r;
	return 0;
}

static int create_all(struct pc_dp *dp)
{
	int r;

	dp->meta_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_meta", 4, sizeof(struct pc_meta), 1, NULL);
	dp->attach_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_attach", 4, sizeof(struct pc_attach_info),
				       PC_MAX_ATTACH, NULL);
	if (dp->meta_fd < 0 || dp->attach_fd < 0)
		return -errno;
	r = pc_cset_new(dp, dp->min_slot_cap, &dp->cs);
	if (r >= 0)
		r = entry_create(dp);
	if (r >= 0)
		r = pc_dp_slots_fresh(dp);
	if (r >= 0)
		r = pc_dp_slots_write(dp, dp->cs->slots_fd, dp->cs->slot_cap, true);
	if (r >= 0)
		r = pc_dp_att_fresh(dp);
	if (r >= 0)
		r = pc_dp_log_open(dp);
	if (r < 0)
		return r;
	dp->meta.magic = PC_META_MAGIC;
	dp->meta.abi_version = PC_ABI_VERSION;
	dp->meta.slot_cap = dp->cs->slot_cap;
	dp->meta.pid = getpid();
	r = pc_dp_meta_write(dp);
	if (r >= 0)
		r = pc_cset_pin(dp, dp->cs, false);
	if (r >= 0)
		r = pc_dp_obj_pin(dp, dp->attach_fd, "attach");
	return r < 0 ? r : pc_dp_obj_pin(dp, dp->meta_fd, "meta");
}

/* Our magic and ABI version; slot_cap in whole chunks. */
static bool meta_adoptable(const struct pc_meta *m)
{
	return m->magic == PC_META_MAGIC && m->abi_version == PC_ABI_VERSION &&
	       m->slot_cap > PC_SLOT_FIRST && m->slot_cap % PC_CNT_CHUNK == 0;
}

/* A pin of the state: -EPROTO when it is missing (a broken state, made
 * anew), other errors as they are (too many files...: nothing is touched). */
static int state_get(const struct pc_dp *dp, const char *name, int *ret)
{
	int fd = pc_dp_obj_get(dp, name);

	if (fd < 0)
		return fd == -ENOENT ? -EPROTO : fd;
	*ret = fd;
	return 0;
}

static int adopt_maps(struct pc_dp *dp)
{
	static const char *const entry_pins[PC_HOOK_MAX] = {
		"entry_ingress", "entry_egress", "entry_sock",
	};
	struct bpf_map_info info;
	int r;

	r = state_get(dp, "jmp_tc", &dp->jmp_tc_fd);
	r = r ?: state_get(dp, "jmp_sock", &dp->jmp_sock_fd);
	r = r ?: state_get(dp, "attach", &dp->attach_fd);
	for (int h = 0; h < PC_HOOK_MAX; h++)
		r = r ?: state_get(dp, entry_pins[h], &dp->entry_fd[h]);
	r = r ?: pc_dp_map_info(dp->attach_fd, &info);
	if (r < 0)
		return r;
	if (info.max_entries != PC_MAX_ATTACH || info.value_size != sizeof(struct pc_attach_info))
		return -EPROTO;
	return 0;
}

/* 0, -ENOENT (nothing pinned), -EPROTO (pins not usable: made anew) or
 * another error (nothing touched).  Reads only: what is found stays as it
 * is until the first commit. */
static int adopt_all(struct pc_dp *dp)
{
	__u32 zero = 0;
	int r;

	dp->meta_fd = pc_dp_obj_get(dp, "meta");
	if (dp->meta_fd < 0)
		return dp->meta_fd;
	if (bpf_map_lookup_elem(dp->meta_fd, &zero, &dp->meta) < 0)
		return errno == ENOENT || errno == EINVAL ? -EPROTO : -errno;
	if (!meta_adoptable(&dp->meta))
		return -EPROTO;
	r = adopt_maps(dp);
	if (r >= 0)
		r = pc_dp_att_read(dp);
	if (r >= 0)
		r = pc_cset_adopt(dp, &dp->cs);
	if (r >= 0)
		r = pc_dp_slots_read(dp, dp->cs->slots_fd, dp->cs->slot_cap);
	if (r >= 0)
		r = pc_dp_log_open(dp);
	if (r < 0)
		return r;
	dp->adopted = true;
	return 0;
}

static void closep_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_fds(struct pc_dp *dp)
{
	int *fds[] = { &dp->jmp_tc_fd, &dp->jmp_sock_fd, &dp->meta_fd, &dp->attach_fd,
		       &dp->entry_fd[0], &dp->entry_fd[1], &dp->entry_fd[2], &dp->log_fd,
		       &dp->log_limit_fd, &dp->sync_fd, &dp->sync_inner_fd };

	for (size_t i = 0; i < ELEMENTSOF(fds); i++)
		closep_fd(fds[i]);
	pc_cset_unref(dp->cs);
	dp->cs = NULL;
	pc_sets_close(dp->sets);
	dp->sets = NULL;
	free(dp->slots);
	free(dp->slot_dirty);
	free(dp->rec_dirty);
	dp->slots = NULL;
	dp->slot_dirty = dp->rec_dirty = NULL;
	dp->mirror_cap = 0;
	free(dp->att);
	free(dp->att_pub);
	dp->att = NULL;
	dp->att_pub = NULL;
	dp->natt = 0;
}

/* Counter slots per attachment for a new state: as asked, rounded up to
 * whole chunks of PC_CNT_CHUNK (> PC_SLOT_FIRST). */
static uint32_t slot_cap_of(const struct pc_dp_opts *o)
{
	uint64_t cap = o->slot_cap ? o->slot_cap : PC_CNT_CHUNK;

	cap = (cap + PC_CNT_CHUNK - 1) / PC_CNT_CHUNK * PC_CNT_CHUNK;
	return cap > UINT32_MAX / 2 ? UINT32_MAX / 2 / PC_CNT_CHUNK * PC_CNT_CHUNK : (uint32_t)cap;
}

static struct pc_dp *dp_new(const struct pc_dp_opts *o)
{
	struct pc_dp *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return NULL;
	dp->jmp_tc_fd = dp->jmp_sock_fd = dp->meta_fd = dp->attach_fd = -1;
	dp->log_fd = dp->log_limit_fd = dp->sync_fd = dp->sync_inner_fd = dp->lock_fd = -1;
	for (int h = 0; h < PC_HOOK_MAX; h++)
		dp->entry_fd[h] = -1;
	snprintf(dp->pin_path, sizeof(dp->pin_path), "%s", o->pin_path ? o->pin_path : "");
	dp->min_slot_cap = slot_cap_of(o);
	return dp;
}

/* Nothing adoptable: remove what is there and create a new state. */
static int create_fresh(struct pc_dp *dp)
{
	int r;

	close_fds(dp);
	memset(&dp->meta, 0, sizeof(dp->meta));
	r = unpin_all(dp);
	if (r >= 0)
		r = create_all(dp);
	if (r < 0)
		unpin_all(dp);
	return r;
}

int pc_dp_open(const struct pc_dp_opts *o, struct pc_dp **ret)
{
	struct pc_dp *dp;
	int r;

	if (!o || !o->pin_path || o->pin_path[0] != '/' || strlen(o->pin_path) >= PC_PATH_MAX - 32)
		return -EINVAL;
	dp = dp_new(o);
	if (!dp)
		return -ENOMEM;
	dp->ncpus = libbpf_num_possible_cpus();
	dp->fc_entries = PC_FC_ENTRIES;
	r = dp->ncpus > 0 ? ensure_bpffs(dp->pin_path) : dp->ncpus;
	if (r >= 0)
		r = lock_pin_dir(dp);
	if (r >= 0)
		r = adopt_all(dp);
	if (r == -ENOENT || r == -EPROTO)
		r = create_fresh(dp);
	if (r >= 0)
		r = pc_sets_open(dp->pin_path, &dp->sets);
	if (r < 0)
		goto fail;
	for (int h = 0; h < PC_HOOK_MAX; h++)
		dp->entry_id[h] = prog_id(dp->entry_fd[h]);
	*ret = dp;
	return 0;
fail:
	close_fds(dp);
	closep_fd(&dp->lock_fd);
	free(dp);
	return r;
}

int pc_dp_unpin(struct pc_dp *dp)
{
	int r = unpin_all(dp);

	/* what was added to dynamic sets at run time survives a restart */
	if (!dp->sets || !pc_sets_has_runtime(dp->sets))
		r = pc_pool_unpin(dp->pin_path) ?: r;
	if (rmdir(dp->pin_path) < 0 && errno != ENOENT && errno != ENOTEMPTY && r >= 0)
		r = -errno;
	return r;
}

void pc_dp_close(struct pc_dp *dp, bool keep)
{
	if (!dp)
		return;
	if (!keep)
		pc_dp_unpin(dp);
	while (dp->npending > 0)
		pc_dp_gen_free(dp->pending[dp->npending - 1]);
	free(dp->pending);
	pc_dp_gen_free(dp->cur);
	dp->cur = NULL;
	close_fds(dp);
	free(dp->decl);
	closep_fd(&dp->lock_fd);
	free(dp);
}

bool pc_dp_adopted(const struct pc_dp *dp)
{
	return dp->adopted;
}

bool pc_dp_touched(const struct pc_dp *dp)
{
	return dp->cur != NULL;
}

uint32_t pc_dp_slot_cap(const struct pc_dp *dp)
{
	return dp->cs ? dp->cs->slot_cap : 0;
}

int pc_dp_entry_fd(const struct pc_dp *dp, int hook)
{
	return hook >= 0 && hook < PC_HOOK_MAX ? dp->entry_fd[hook] : -EINVAL;
}

uint32_t pc_dp_entry_id(const struct pc_dp *dp, int hook)
{
	return hook >= 0 && hook < PC_HOOK_MAX ? dp->entry_id[hook] : 0;
}

int pc_dp_set_status(struct pc_dp *dp, uint32_t flags, const char *status)
{
	dp->meta.flags = flags;
	snprintf(dp->meta.status, sizeof(dp->meta.status), "%s", status ? status : "");
	return pc_dp_meta_write(dp);
}

int pc_dp_set_classes(struct pc_dp *dp, const char *const *names, size_t n)
{
	char (*v)[PC_NAME_MAX] = calloc(n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		snprintf(v[i], sizeof(v[i]), "%s", names[i]);
	free(dp->decl);
	dp->decl = v;
	dp->ndecl = n;
	return 0;
}
