/* SPDX-License-Identifier: GPL-2.0-only */
/* preflight.c - startup checks, each failing with one clear line. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "pktclass.h"
#include "lib/log.h"
#include "netlink/netlink.h"
#include "pktclassd/preflight.h"
#include "lib/util.h"

#define BPFFS_DIR "/sys/fs/bpf"
#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"

static int check_kernel(void)
{
	unsigned major, minor;
	struct utsname u;

	if (uname(&u) < 0)
		return log_error_errno(errno, "uname");
	if (pc_kernel_version_parse(u.release, &major, &minor) < 0) {
		log_warning("cannot tell the kernel version from \"%s\"; going on", u.release);
		return 0;
	}
	if (!pc_kernel_version_ok(major, minor)) {
		log_error("kernel %s is too old: pktclassd needs Linux %d.%d or newer", u.release,
			  PC_KERNEL_MIN_MAJOR, PC_KERNEL_MIN_MINOR);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int check_bpf(void)
{
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pc_preflight", 4, 4, 1, NULL);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd == -EPERM || fd == -EACCES) {
		log_error("bpf() not permitted: need CAP_BPF and CAP_NET_ADMIN (run as root)");
		return -EPERM;
	}
	if (fd == -ENOSYS) {
		log_error("bpf() not available: the kernel lacks CONFIG_BPF_SYSCALL");
		return -ENOSYS;
	}
	return log_error_errno(fd, "bpf() not usable: creating a test map failed");
}

static void check_btf(void)
{
	log_debug("BTF at %s: %s (not needed: the programs use no CO-RE)", BTF_VMLINUX,
		  access(BTF_VMLINUX, R_OK) == 0 ? "present" : "absent");
}

static int check_bpffs(void)
{
	struct statfs sfs;

	if (statfs(BPFFS_DIR, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(BPFFS_DIR, 0755) < 0 && errno != EEXIST)
		return log_error_errno(errno, "bpffs is not mounted and %s cannot be created", BPFFS_DIR);
	if (mount("bpf", BPFFS_DIR, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		return log_error_errno(errno, "bpffs is not mounted at %s and mounting it failed",
				       BPFFS_DIR);
	log_notice("bpffs was not mounted: mounted it at %s", BPFFS_DIR);
	return 0;
}

/* ---- clsact + cls_bpf, tried in a private network namespace ---------------- */

enum { TC_OK = 0, TC_MISSING = 1, TC_UNTESTABLE = 2 };
#define TC_CHECK_TIMEOUT_SEC 10

static int child_say(int fd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int child_say(int fd, int code, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(fd, buf, strlen(buf));
	return code;
}

static int lo_up(void)
{
	struct ifreq ifr = {};
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	strscpy_ok(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

/* r0 = TC_ACT_OK; exit */
static int trivial_tc_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "pc_preflight", "GPL", insns,
			     ELEMENTSOF(insns), NULL);
}

static int tc_child(int out)
{
	struct pc_nl *nl = NULL;
	_cleanup_close_ int prog = -1;
	bool created;
	sigset_t none;
	int r, ifindex;

	/* Never outlive the daemon, nor hang: the parent may hold signals. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(TC_CHECK_TIMEOUT_SEC);
	if (unshare(CLONE_NEWNET) < 0)
		return child_say(out, TC_UNTESTABLE, "cannot check for clsact and cls_bpf: "
				 "unshare(CLONE_NEWNET): %s", strerror(errno));
	r = lo_up();
	ifindex = (int)if_nametoindex("lo");
	if (r < 0 || ifindex <= 0)
		return child_say(out, TC_UNTESTABLE, "cannot check for clsact and cls_bpf: "
				 "no loopback in a new network namespace");
	prog = trivial_tc_prog();
	if (prog < 0)
		return child_say(out, TC_MISSING, "cannot load a tc (SCHED_CLS) BPF program: %s",
				 strerror(-prog));
	r = pc_nl_open(&nl);
	if (r < 0)
		return child_say(out, TC_UNTESTABLE, "cannot check for clsact: rtnetlink: %s",
				 strerror(-r));
	r = pc_nl_clsact_ensure(nl, ifindex, &created);
	if (r < 0) {
		pc_nl_close(nl);
		return child_say(out, TC_MISSING, "the clsact qdisc is not available "
				 "(CONFIG_NET_SCH_INGRESS): %s", strerror(-r));
	}
	r = pc_nl_filter_attach(nl, ifindex, PC_HOOK_INGRESS, prog, PC_TC_NAME "_preflight");
	pc_nl_close(nl);
	if (r < 0)
		return child_say(out, TC_MISSING, "the cls_bpf filter is not available "
				 "(CONFIG_NET_CLS_BPF): %s", strerror(-r));
	return TC_OK;
}

static int check_tc(void)
{
	_cleanup_close_ int rd = -1;
	int pfd[2], status;
	char msg[257];
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return log_error_errno(errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return log_error_errno(errno, "fork");
	}
	if (pid == 0) {
		close(pfd[0]);
		_exit(tc_child(pfd[1]));
	}
	close(pfd[1]);
	rd = pfd[0];
	n = read(rd, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	if (waitpid(pid, &status, 0) < 0)
		return log_error_errno(errno, "waitpid");
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		log_error("checking for clsact and cls_bpf: no answer from the kernel in %d s",
			  TC_CHECK_TIMEOUT_SEC);
		return -ETIMEDOUT;
	}
	if (!WIFEXITED(status)) {
		log_error("checking for clsact and cls_bpf: the test process died");
		return -EIO;
	}
	switch (WEXITSTATUS(status)) {
	case TC_OK:
		log_debug("clsact and cls_bpf: available");
		return 0;
	case TC_UNTESTABLE:
		log_warning("%s; going on", msg);
		return 0;
	default:
		log_error("%s", msg[0] ? msg : "clsact or cls_bpf not available");
		return -EOPNOTSUPP;
	}
}

int pc_preflight(void)
{
	int r;

	r = check_kernel();
	if (r < 0)
		return r;
	r = check_bpf();
	if (r < 0)
		return r;
	check_btf();
	r = check_bpffs();
	if (r < 0)
		return r;
	return check_tc();
}
