/* SPDX-License-Identifier: GPL-2.0-only */
/* test-explain-live.c - `pktclassctl explain --live` against a generation
 * loaded through the datapath API.
 *
 * In a private network namespace (veth pair lv0/lv1, and lo) and a private
 * pin path, a config is parsed, compiled and loaded as the daemon would
 * (slots, tables, interface table with each interface's attach slots and
 * ifbits, commit with the config path).  Then, for packets that exercise
 * first match, the default, ports, VLAN, IPv6, TCP flags, DSCP rewrite,
 * direction, interface patterns and redirect, the built pktclassctl
 * ($PKTCLASSCTL) runs `explain --live` and plain `explain -c CONFIG`: both
 * must name the same rule, class and outcome, and --live must say that the
 * BPF program agrees.  The live counters must not move.  A config changed
 * after loading must be reported as a mismatch (exit 1); an interface that
 * the generation does not know, a missing state and bad --live input are
 * errors too.  Root only: exit 77 otherwise (failure when CI=true). */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "classifier/compile.h"
#include "classifier/tree.h"
#include "datapath/datapath.h"
#include "lib/diag.h"
#include "datapath/stats.h"
#include "lib/util.h"
#include "../lib/privtest.h"

static char pin[128], dir[128], conf[192], conf2[192];
static const char *ctl;
static struct pc_dp *dp;


static const char config_text[] =
	"version: 1\n"
	"interfaces:\n"
	"  - name: \"lv*\"\n"
	"    hooks: [ingress, egress]\n"
	"  - name: lo\n"
	"    hooks: [monitor]\n"
	"rules:\n"
	"  - name: sip\n"
	"    match: { proto: udp, dst_port: [5060, 5061] }\n"
	"    class: voice\n"
	"    set: { priority: \"1:10\", dscp: ef }\n"
	"  - name: dns\n"
	"    match: { proto: [udp, tcp], dst_port: 53 }\n"
	"    set: { mark: 0x35 }\n"
	"  - name: ten\n"
	"    match: { src: 10.0.0.0/8 }\n"
	"    action: drop\n"
	"  - name: v6-web\n"
	"    match: { proto: tcp, dst: \"2001:db8::/32\", dst_port: 443, tcp_flags: [syn, \"!ack\"] }\n"
	"    class: web\n"
	"    set: { dscp: af41 }\n"
	"  - name: vlan7\n"
	"    match: { vlan: 7 }\n"
	"    class: tagged\n"
	"  - name: lv1-icmp\n"
	"    match: { iface: lv1, proto: icmp }\n"
	"    redirect: lv0\n"
	"  - name: egress-big\n"
	"    match: { direction: egress, length: 1000-65535 }\n"
	"    action: drop\n"
	"default:\n"
	"  class: other\n";

/* ---- plumbing ------------------------------------------------------------ */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return strdup("");
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

struct out {
	int status;
	char *out, *err;
};

static void out_free(struct out *o)
{
	free(o->out);
	free(o->err);
}

static struct out run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct out run(const char *fmt, ...)
{
	char args[768], cmd[1280];
	struct out o;
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' %s >'%s/out' 2>'%s/err'", ctl, args, dir, dir);
	st = system(cmd);
	o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	snprintf(cmd, sizeof(cmd), "%s/out", dir);
	o.out = slurp(cmd);
	snprintf(cmd, sizeof(cmd), "%s/err", dir);
	o.err = slurp(cmd);
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "$ pktclassctl %s  [exit %d]\n%s%s", args, o.status, o.out, o.err);
	return o;
}

/* The rest of the line that starts with prefix, or "" (static buffer). */
static const char *line(const char *text, const char *prefix)
{
	static char buf[4][256];
	static int n;
	const char *p = text;
	size_t len = strlen(prefix);

	n = (n + 1) % 4;
	buf[n][0] = 0;
	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, len)) {
			size_t l = strcspn(p + len, "\n");

			snprintf(buf[n], sizeof(buf[n]), "%.*s", (int)l, p + len);
			break;
		}
	return buf[n];
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

/* ---- loading as the daemon does ------------------------------------------- */
static const char *const ifnames[] = { "lv0", "lv1", "lo" };

static int set_ifaces(struct pc_gen *g, const struct pc_config *cfg, const struct pc_ruleset *rs)
{
	for (size_t i = 0; i < ELEMENTSOF(ifnames); i++) {
		struct pc_iface v = { .attach = { PC_ATTACH_NONE, PC_ATTACH_NONE, PC_ATTACH_NONE },
				      .ifbits = pc_ifbits(rs, ifnames[i]) };
		uint32_t ifindex = if_nametoindex(ifnames[i]);
		bool mon = !strcmp(ifnames[i], "lo");
		int r;

		for (int h = 0; h < PC_HOOK_MAX; h++) {
			if ((h == PC_HOOK_MONITOR) != mon)
				continue;
			r = pc_dp_attach_slot_get(dp, ifnames[i], ifindex, h, pc_dp_entry_id(dp, h), 0);
			if (r < 0)
				return r;
			v.attach[h] = (uint32_t)r;
		}
		r = pc_dp_gen_set_iface(g, ifindex, &v);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_generation(void)
{
	_cleanup_(pc_config_freep) struct pc_config *cfg = NULL;
	_cleanup_(pc_ruleset_freep) struct pc_ruleset *rs = NULL;
	_cleanup_(pc_tree_freep) struct pc_tree *t = NULL;
	struct pc_dp_opts o = { .pin_path = pin };
	struct pc_gen *g = NULL;
	struct pc_diags d;
	int r;

	pc_diags_init(&d, conf);
	r = pc_config_load(conf, &cfg, &d);
	r = r ?: pc_compile(cfg, &rs, &d);
	if (r < 0)
		pc_diags_print(&d, stderr);
	pc_diags_clear(&d);
	r = r ?: pc_tree_build(rs, &t);
	r = r ?: pc_dp_open(&o, &dp);
	r = r ?: pc_dp_gen_prepare(dp, rs, t, 7, &g);
	r = r ?: set_ifaces(g, cfg, rs);
	r = r ?: pc_dp_gen_commit(dp, g, conf);
	if (r < 0 && g && pc_dp_current(dp) != g)
		pc_dp_gen_free(g);
	return r;
}

/* Some traffic through the live classifier itself, so that the counters
 * are not all zero. */
static void count_something(void)
{
	uint8_t frame[60] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
	struct __sk_buff ctx = { .ifindex = if_nametoindex("lv0"), .cb[PC_CB_HOOK] = PC_HOOK_INGRESS };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 3);

	CHECK(bpf_prog_test_run_opts(pc_dp_gen_prog_fd(pc_dp_current(dp), PC_HOOK_INGRESS), &o) == 0,
	      "test run of the live program: %m");
}

static uint64_t counters_sum(void)
{
	struct pc_stats *s = NULL;
	uint64_t sum = 0;

	if (pc_stats_read(pin, &s) < 0)
		return UINT64_MAX;
	for (uint32_t i = 0; i < s->slot_cap; i++)
		sum += s->total[i].packets * 1000003 + s->total[i].bytes;
	pc_stats_free(s);
	return sum;
}

/* ---- the cases ------------------------------------------------------------ */
struct lcase {
	const char *args;   /* packet options */
	const char *rule;   /* expected rule line prefix */
	const char *verdict;/* expected start of the verdict line */
};

static const struct lcase cases[] = {
	{ "--iface lv0 --direction ingress --proto udp --src 192.168.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 5060", "sip ", "pass (TC_ACT_UNSPEC), mark 0, priority 1:10, dscp 46 (ef)" },
	{ "--iface lv0 --direction ingress --proto udp --src 10.1.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 53", "dns ", "pass (TC_ACT_UNSPEC), mark 0x35," },
	{ "--iface lv0 --direction ingress --proto tcp --src 10.1.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 54 --tcp-flags syn", "ten ", "drop (TC_ACT_SHOT)" },
	{ "--iface lv0 --direction ingress --proto udp --src 192.168.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 54", "(default)", "pass (TC_ACT_UNSPEC), mark 0, priority 0:0, dscp 0" },
	{ "--iface lv1 --direction ingress --proto udp --src 192.168.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 54 --vlan 7 --dscp af21", "vlan7 ", "pass (TC_ACT_UNSPEC), mark 0, priority 0:0, dscp 18 (af21)" },
	{ "--iface lv1 --direction ingress --proto udp --src 192.168.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 5061 --vlan 7", "sip ", "pass" },
	{ "--iface lv0 --direction egress --proto tcp --src 2001:db8::1 --src-port 5000 "
	  "--dst 2001:db8::2 --dst-port 443 --tcp-flags syn --dscp 10", "v6-web ",
	  "pass (TC_ACT_UNSPEC), mark 0, priority 0:0, dscp 34 (af41)" },
	{ "--iface lv0 --direction egress --proto tcp --src 2001:db8::1 --src-port 5000 "
	  "--dst 2001:db8::2 --dst-port 443 --tcp-flags syn,ack", "(default)", "pass" },
	{ "--iface lv0 --direction egress --proto udp --src 192.168.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 9 --length 1200", "egress-big ", "drop (TC_ACT_SHOT)" },
	{ "--iface lv0 --direction ingress --proto udp --src 192.168.1.1 --src-port 4000 "
	  "--dst 192.168.1.2 --dst-port 9 --length 1200", "(default)", "pass" },
	{ "--iface lv0 --direction egress --proto udp --src 2001:db8::1 --src-port 4000 "
	  "--dst 2001:db8::9 --dst-port 9 --length 3600", "egress-big ", "drop" },
	{ "--iface lv1 --direction ingress --proto icmp --src 192.168.1.1 --dst 192.168.1.2",
	  "lv1-icmp ", "redirect (TC_ACT_REDIRECT)" },
	{ "--iface lv0 --direction ingress --proto icmp --src 192.168.1.1 --dst 192.168.1.2 --length 24",
	  "(default)", "pass" },
	{ "--iface lv0 --direction ingress --proto 47 --src 172.16.0.1 --dst 172.16.0.2", "(default)", "pass" },
	{ "--iface lv0 --direction ingress --l3 arp", "(default)", "pass (TC_ACT_UNSPEC), mark 0, priority 0:0\n" },
	{ "--iface lo --direction ingress --proto udp --src 10.0.0.1 --src-port 1 "
	  "--dst 10.0.0.2 --dst-port 2", "ten ", "drop (TC_ACT_SHOT)" },
};

static void test_case(const struct lcase *c)
{
	static const char *const same[] = { "rule:", "class:", "action:", "set:", "log:", "packet:" };
	struct out live = run("--pin-path '%s' explain --live %s", pin, c->args);
	struct out ref = run("-c '%s' explain %s", conf, c->args);
	char verdict[256];

	CHECK(live.status == 0, "%s: --live exit %d: %s", c->args, live.status, live.err);
	CHECK(ref.status == 0, "%s: explain exit %d: %s", c->args, ref.status, ref.err);
	CHECK(!strncmp(line(ref.out, "rule:      "), c->rule, strlen(c->rule)),
	      "%s: rule '%s', expected '%s'", c->args, line(ref.out, "rule:      "), c->rule);
	for (size_t i = 0; i < ELEMENTSOF(same); i++)
		CHECK(!strcmp(line(live.out, same[i]), line(ref.out, same[i])),
		      "%s: '%s' differs: live '%s', reference '%s'", c->args, same[i],
		      line(live.out, same[i]), line(ref.out, same[i]));
	CHECK(!strncmp(line(live.out, "check:     "), "agrees with the reference classifier on ", 40),
	      "%s: check line '%s'", c->args, line(live.out, "check:     "));
	snprintf(verdict, sizeof(verdict), "%s\n", line(live.out, "verdict:   "));
	CHECK(!strncmp(verdict, c->verdict, strlen(c->verdict)), "%s: verdict '%s', expected '%s'",
	      c->args, line(live.out, "verdict:   "), c->verdict);
	CHECK(!strstr(live.err, "warning"), "%s: --live warned: %s", c->args, live.err);
	CHECK(!!strstr(c->args, "--iface lo") == !!*line(live.out, "note:"),
	      "%s: enforcement note wrong: '%s'", c->args, line(live.out, "note:"));
	out_free(&live);
	out_free(&ref);
}

static void test_json(void)
{
	struct out o = run("--pin-path '%s' explain --live --json %s", pin, cases[0].args);

	CHECK(o.status == 0, "--json: exit %d", o.status);
	CHECK(strstr(o.out, "\"rule\": \"sip\"") && strstr(o.out, "\"live\": {") &&
	      strstr(o.out, "\"agrees\": true") && strstr(o.out, "\"generation\": 7") &&
	      strstr(o.out, "\"same_code\": true") && strstr(o.out, "\"priority\": \"1:10\"") &&
	      strstr(o.out, "\"mismatches\": []") && strstr(o.out, "\"enforced\": true"),
	      "--json output:\n%s", o.out);
	out_free(&o);
}

/* The config on disk no longer is what was loaded: loud, exit 1. */
static void test_mismatch(void)
{
	_cleanup_free_ char *text = strdup(config_text);
	char *p = strstr(text, "dst_port: [5060, 5061]");
	struct out o;

	memcpy(p, "dst_port: [5070, 5061]", 22);
	CHECK(write_file(conf2, text) == 0, "write %s", conf2);
	o = run("--pin-path '%s' -c '%s' explain --live %s", pin, conf2, cases[0].args);
	CHECK(o.status == 1, "changed config: exit %d", o.status);
	CHECK(strstr(o.err, "MISMATCH") && strstr(o.err, "the BPF program chose 'sip' (index 0), "
						      "the reference classifier '(default)'"),
	      "changed config: stderr:\n%s", o.err);
	CHECK(!strncmp(line(o.out, "check:     "), "MISMATCH", 8), "changed config: check line '%s'",
	      line(o.out, "check:     "));
	out_free(&o);
	o = run("--pin-path '%s' -c '%s' explain --live --json %s", pin, conf2, cases[0].args);
	CHECK(o.status == 1 && strstr(o.out, "\"agrees\": false"), "changed config --json: exit %d\n%s",
	      o.status, o.out);
	out_free(&o);
}

static void test_errors(void)
{
	struct out o;

	CHECK(system("ip link add lvx type veth peer name lvy") == 0, "veth lvx");
	o = run("--pin-path '%s' explain --live --iface lvx --direction ingress --l3 arp", pin);
	CHECK(o.status == 1 && strstr(o.err, "lvx is not among the live generation's interfaces"),
	      "unknown iface: exit %d: %s", o.status, o.err);
	out_free(&o);
	o = run("--pin-path '%s' explain --live --iface nosuch0 --direction ingress --l3 arp", pin);
	CHECK(o.status == 1 && strstr(o.err, "no interface 'nosuch0' here"), "missing iface: %d %s",
	      o.status, o.err);
	out_free(&o);
	o = run("--pin-path '%s/nothing' explain --live --iface lv0 --direction ingress --l3 arp", pin);
	CHECK(o.status == 1 && strstr(o.err, "no pktclassd state under"), "no state: %d %s", o.status,
	      o.err);
	out_free(&o);
	o = run("--pin-path '%s' explain --live --iface lv0 --direction ingress --l3 0x8100", pin);
	CHECK(o.status == 2 && strstr(o.err, "is a VLAN tag"), "--l3 0x8100: %d %s", o.status, o.err);
	out_free(&o);
	o = run("--pin-path '%s' explain --live --iface lv0 --direction ingress --proto udp --src 1.1.1.1 "
		"--dst 2.2.2.2 --src-port 1 --dst-port 2 --length 3601", pin);
	CHECK(o.status == 2 && strstr(o.err, "does not fit"), "--length 3601: %d %s", o.status, o.err);
	out_free(&o);
	o = run("--pin-path '%s' explain --live --iface lv0 --direction ingress --proto tcp --src 1.1.1.1 "
		"--dst 2.2.2.2 --src-port 1 --dst-port 2 --length 30", pin);
	CHECK(o.status == 2 && strstr(o.err, "too short"), "--length 30 tcp: %d %s", o.status, o.err);
	out_free(&o);
}

/* A config whose file changed since loading, under the recorded path. */
static void test_changed_in_place(void)
{
	_cleanup_free_ char *text = strdup(config_text);
	char *p = strstr(text, "action: drop");
	struct out o;

	memcpy(p, "action: pass", 12);
	CHECK(write_file(conf, text) == 0, "rewrite %s", conf);
	o = run("--pin-path '%s' explain --live %s", pin, cases[2].args);
	CHECK(o.status == 1 && strstr(o.err, "MISMATCH") && strstr(o.err, "outcome:") &&
	      strstr(o.err, "changed after the daemon loaded it"), "changed in place: %d\n%s", o.status,
	      o.err);
	out_free(&o);
}

static int run_tests(void)
{
	uint64_t before;
	int r;

	if (unshare(CLONE_NEWNET) < 0)
		return pt_unavailable("unshare(CLONE_NEWNET) failed");
	if (system("ip link set lo up && ip link add lv0 type veth peer name lv1 && "
		   "ip link set lv0 up && ip link set lv1 up") != 0)
		return pt_unavailable("cannot create a veth pair");
	r = write_file(conf, config_text);
	CHECK(r == 0, "write config: %s", strerror(-r));
	r = load_generation();
	if (r < 0) {
		fprintf(stderr, "load the generation: %s\n%s\n", strerror(-r),
			dp ? pc_dp_verifier_log(dp) : "");
		return pt_unavailable("bpf datapath unavailable");
	}
	count_something();
	before = counters_sum();
	CHECK(before != UINT64_MAX && before > 0, "no live counts to compare");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		test_case(&cases[i]);
	test_json();
	CHECK(counters_sum() == before, "explain --live changed the live counters");
	test_mismatch();
	test_errors();
	test_changed_in_place();
	CHECK(counters_sum() == before, "explain --live changed the live counters");
	pc_dp_close(dp, false);
	dp = NULL;
	printf("# %u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}

static void cleanup(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", pin, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s or %s\n", pin, dir);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctl = getenv("PKTCLASSCTL");
	if (!ctl)
		return pt_unavailable("PKTCLASSCTL not set");
	if (geteuid() != 0)
		return pt_unavailable("needs root");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pktclassd-test-live-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "/tmp/pktclassd-test-live-%d", (int)getpid());
	snprintf(conf, sizeof(conf), "%s/pktclassd.yaml", dir);
	snprintf(conf2, sizeof(conf2), "%s/changed.yaml", dir);
	if (mkdir(dir, 0700) < 0)
		return 1;
	return pt_run_forked(run_tests, cleanup);
}
