/* SPDX-License-Identifier: GPL-2.0-only */
/* The config file: opened once (not a regular file: refused at once, no
 * blocking), judged by fstat on that descriptor and by the directories on
 * the way to it, parsed from that same descriptor; and the verdict that
 * pktclassctl check and the daemon share.  Parts that need another owner
 * (chown) run as root only. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "classifier/verdict.h"
#include "config/config.h"

static const char good_yaml[] = "version: 1\nrules:\n  - name: a\n    match: { proto: udp }\n";
static char base[] = "/tmp/pc-perms-XXXXXX";
static bool root;

/* All diagnostics, one line each, in buf. */
static void diags_text(const struct pc_diags *d, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < d->n && n < len; i++) {
		pc_diag_format(d, i, buf + n, len - n);
		n += strlen(buf + n);
		if (n + 1 < len)
			buf[n++] = '\n', buf[n] = 0;
	}
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0, "create %s", path);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s", path);
	close(fd);
	CHECK(chmod(path, mode) == 0, "chmod %s", path);
}

/* pc_config_open + pc_config_check_perms on path: the result, the
 * diagnostics in msg. */
static int judge(const char *path, char *msg, size_t len, size_t *nerrors, size_t *nwarnings)
{
	struct pc_diags d;
	int fd = -1, r;

	pc_diags_init(&d, path);
	r = pc_config_open(path, &fd, &d);
	if (r >= 0)
		r = pc_config_check_perms(fd, path, geteuid(), &d);
	if (fd >= 0)
		close(fd);
	diags_text(&d, msg, len);
	if (nerrors)
		*nerrors = d.nerrors;
	if (nwarnings)
		*nwarnings = d.nwarnings;
	CHECK((r < 0) == (d.nerrors > 0), "%s: result %d with %zu errors: %s", path, r, d.nerrors,
	      msg);
	pc_diags_clear(&d);
	return r;
}

/* Accepted: as root with no diagnostic at all; as another user with the
 * warnings that the daemon (root) would refuse what that user owns. */
static void expect_ok(const char *path, const char *what)
{
	char msg[4096];
	size_t ne, nw;

	CHECK(judge(path, msg, sizeof(msg), &ne, &nw) == 0, "%s refused: %s", what, msg);
	if (root)
		CHECK(nw == 0, "%s: warnings as root: %s", what, msg);
	else
		CHECK(nw > 0 && strstr(msg, "not root: pktclassd, which runs as root, refuses it"),
		      "%s: no warning for a file of uid %u: %s", what, (unsigned)geteuid(), msg);
}

static void expect_refused(const char *path, const char *what, const char *want)
{
	char msg[4096];

	CHECK(judge(path, msg, sizeof(msg), NULL, NULL) < 0, "%s accepted", what);
	CHECK(strstr(msg, want) != NULL, "%s: want \"%s\" in: %s", what, want, msg);
}

static void test_file_modes(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/c.yaml", base);
	write_file(path, good_yaml, 0644);
	expect_ok(path, "0644");
	CHECK(chmod(path, 0600) == 0, "chmod");
	expect_ok(path, "0600");
	CHECK(chmod(path, 0646) == 0, "chmod");
	expect_refused(path, "0646", "error: writable by everyone (mode 0646)");
	expect_refused(path, "0646", "chmod go-w");
	/* group-writable is fine only when the group is root */
	CHECK(chmod(path, 0664) == 0, "chmod");
	if (getegid() == 0)
		expect_ok(path, "0664, group root");
	else
		expect_refused(path, "0664", "writable by its group (mode 0664)");
	if (root) {
		CHECK(chown(path, 0, 1) == 0, "chown");
		expect_refused(path, "0664, group 1", "writable by its group (mode 0664)");
		CHECK(chmod(path, 0644) == 0 && chown(path, 4321, 0) == 0, "chown");
		expect_refused(path, "owned by uid 4321", "is owned by uid 4321: refusing a config");
		CHECK(chown(path, 0, 0) == 0, "chown");
	}
	unlink(path);
	expect_refused(path, "a missing file", "cannot read: No such file");
}

/* A FIFO (nobody writing), a directory and a device: refused at once. */
static void test_not_regular(void)
{
	char fifo[256], msg[4096];
	struct pc_config *c = NULL;
	struct pc_diags d;

	snprintf(fifo, sizeof(fifo), "%s/fifo.yaml", base);
	CHECK(mkfifo(fifo, 0644) == 0, "mkfifo");
	expect_refused(fifo, "a FIFO", ": error: not a regular file");
	expect_refused(base, "a directory", ": error: not a regular file");
	expect_refused("/dev/null", "a device", "/dev/null: error: not a regular file");
	/* pc_config_load (explain, the pin path lookup) opens the same way */
	pc_diags_init(&d, fifo);
	CHECK(pc_config_load(fifo, &c, &d) < 0 && c == NULL, "load of a FIFO");
	diags_text(&d, msg, sizeof(msg));
	CHECK(strstr(msg, "fifo.yaml: error: not a regular file") != NULL, "load: %s", msg);
	pc_diags_clear(&d);
	unlink(fifo);
}

/* Whoever may write a directory on the way may swap the config. */
static void test_directories(void)
{
	char dir[256], path[256], link[256], sub[256];

	snprintf(dir, sizeof(dir), "%s/d", base);
	snprintf(path, sizeof(path), "%s/d/c.yaml", base);
	CHECK(mkdir(dir, 0755) == 0, "mkdir");
	write_file(path, good_yaml, 0644);
	expect_ok(path, "in a 0755 directory");
	CHECK(chmod(dir, 0777) == 0, "chmod");
	expect_refused(path, "in a 0777 directory", "directory " );
	expect_refused(path, "in a 0777 directory", "/d is writable by everyone (mode 0777)");
	CHECK(chmod(dir, 01777) == 0, "chmod");
	expect_ok(path, "in a sticky 1777 directory");
	CHECK(chmod(dir, 0775) == 0, "chmod");
	if (getegid() == 0)
		expect_ok(path, "in a 0775 directory of group root");
	else
		expect_refused(path, "in a 0775 directory", "writable by its group (mode 0775)");

	/* as written and as resolved: a link from a 0777 directory to a good
	 * file is refused, and a good link to a file in a 0777 directory too */
	CHECK(chmod(dir, 0755) == 0, "chmod");
	snprintf(sub, sizeof(sub), "%s/open", base);
	snprintf(link, sizeof(link), "%s/open/link.yaml", base);
	CHECK(mkdir(sub, 0777) == 0 && chmod(sub, 0777) == 0, "mkdir");
	CHECK(symlink(path, link) == 0, "symlink");
	expect_refused(link, "a link in a 0777 directory", "/open is writable by everyone");
	unlink(link);
	CHECK(chmod(sub, 0755) == 0, "chmod");
	CHECK(symlink(path, link) == 0, "symlink");
	expect_ok(link, "a link in a 0755 directory");
	CHECK(chmod(dir, 0777) == 0, "chmod");
	expect_refused(link, "a link to a file in a 0777 directory", "/d is writable by everyone");
	CHECK(chmod(dir, 0755) == 0, "chmod");

	if (root) {
		CHECK(chown(dir, 4321, 0) == 0, "chown");
		expect_refused(path, "a directory of uid 4321", "/d is owned by uid 4321");
		CHECK(chown(dir, 0, 0) == 0, "chown");
		/* a link of another user's in a sticky directory: its owner can
		 * point it elsewhere */
		CHECK(chmod(sub, 01777) == 0 && lchown(link, 4321, 0) == 0, "lchown");
		expect_refused(link, "a link of uid 4321", "symbolic link ");
		expect_refused(link, "a link of uid 4321", "link.yaml is owned by uid 4321");
	}
	unlink(link);
	rmdir(sub);
	unlink(path);
	rmdir(dir);
}

/* Parsed from the descriptor that was judged: a file renamed over the
 * path afterwards is not what is read. */
static void test_one_descriptor(void)
{
	char path[256], other[256], msg[4096];
	struct pc_config *c = NULL;
	struct pc_diags d;
	int fd = -1;

	snprintf(path, sizeof(path), "%s/c.yaml", base);
	snprintf(other, sizeof(other), "%s/evil.yaml", base);
	write_file(path, good_yaml, 0644);
	write_file(other, "version: 1\nrules:\n  - name: evil\n    action: drop\n", 0644);
	pc_diags_init(&d, path);
	CHECK(pc_config_open(path, &fd, &d) == 0, "open");
	CHECK(pc_config_check_perms(fd, path, geteuid(), &d) == 0, "perms");
	CHECK(rename(other, path) == 0, "rename");
	CHECK(pc_config_load_fd(fd, path, &c, &d) == 0 && c, "load_fd");
	diags_text(&d, msg, sizeof(msg));
	CHECK(c && c->n_rules == 1 && strcmp(c->rules[0].name, "a") == 0,
	      "parsed another file than the one opened: %s", c ? c->rules[0].name : msg);
	pc_config_freep(&c);
	pc_diags_clear(&d);
	close(fd);
	unlink(path);
}

/* The shared verdict: a refusal of the permissions still lists the rest;
 * a missing redirect target is a warning and the config passes. */
static void test_verdict(void)
{
	char path[256], msg[8192];
	struct pc_loaded l = {};
	struct pc_diags d;
	int r;

	snprintf(path, sizeof(path), "%s/v.yaml", base);
	write_file(path, "version: 1\nbogus: 1\n", 0666);
	pc_diags_init(&d, path);
	r = pc_config_verdict(path, geteuid(), &l, &d);
	diags_text(&d, msg, sizeof(msg));
	CHECK(r < 0 && l.cfg == NULL, "a 0666 file with an error: %d", r);
	CHECK(strstr(msg, "v.yaml: error: writable by everyone") != NULL, "perms first: %s", msg);
	CHECK(strstr(msg, "v.yaml:2:1: error: unknown key \"bogus\"") != NULL, "and the rest: %s", msg);
	pc_diags_clear(&d);

	write_file(path, "version: 1\nrules:\n  - name: away\n    redirect: pc-nosuch0\n", 0644);
	pc_diags_init(&d, path);
	r = pc_config_verdict(path, geteuid(), &l, &d);
	diags_text(&d, msg, sizeof(msg));
	CHECK(r == 0 && l.rs, "a missing redirect target refused: %d: %s", r, msg);
	CHECK(strstr(msg, "v.yaml:3:5: warning: rule 'away': redirect interface pc-nosuch0 does not "
		      "exist (yet): the rule passes its packets until it does") != NULL, "%s", msg);
	CHECK(l.rs && l.rs->outs[0].redirect_ifindex == 0, "the rule set is not written into");
	pc_loaded_clear(&l);
	pc_diags_clear(&d);

	write_file(path, "version: 1\nrules:\n  - name: back\n    redirect: lo\n", 0644);
	pc_diags_init(&d, path);
	r = pc_config_verdict(path, geteuid(), &l, &d);
	diags_text(&d, msg, sizeof(msg));
	CHECK(r == 0 && l.rs && strstr(msg, "does not exist") == NULL, "redirect to lo: %d: %s", r, msg);
	CHECK(root ? d.nwarnings == 0 : d.nwarnings > 0, "warnings for a redirect to lo: %zu", d.nwarnings);
	pc_loaded_clear(&l);
	pc_diags_clear(&d);
	unlink(path);
}

int main(void)
{
	root = geteuid() == 0;
	CHECK(mkdtemp(base) != NULL, "mkdtemp");
	test_file_modes();
	test_not_regular();
	test_directories();
	test_one_descriptor();
	test_verdict();
	rmdir(base);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
