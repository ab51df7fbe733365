/* SPDX-License-Identifier: GPL-2.0-only */
/* test-ctl-pins: pktclassctl status/stats against a fake pinned state.
 *
 * Creates, in a private bpffs directory, the maps the daemon pins (meta,
 * slots, attach, cnt with per-CPU inner arrays holding known per-CPU
 * values, each also pinned as cnt_<attach slot>), runs the built pktclassctl ($PKTCLASSCTL) on it, parses its
 * JSON and text output and checks every name and number.  The pins are
 * removed at exit, whatever happened.  When /sys/fs/bpf is not a bpffs,
 * the test mounts a private one there in its own mount namespace (gone
 * with the test).  Needs root: otherwise exit 77, or fail when CI=true. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/util.h"
#include "pktclass.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define SLOT_CAP 10

static char pin_dir[128];
static const char *ctl;
static int failures;

/* ---- plumbing ------------------------------------------------------------ */
static void cleanup(void)
{
	static const char *const names[] = { "meta", "slots", "attach", "cnt", "cnt_0", "cnt_1",
					     "cnt_2" };
	char p[256];

	if (!pin_dir[0])
		return;
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", pin_dir, names[i]);
		unlink(p);
	}
	rmdir(pin_dir);
}

static void skip(const char *why)
{
	const char *ci = getenv("CI");

	fprintf(stderr, "test-ctl-pins: cannot run: %s\n", why);
	exit(ci && strcmp(ci, "true") == 0 ? 1 : 77);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FATAL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	failures++;
	va_start(ap, fmt);
	fputs("FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Run pktclassctl with args; its stdout in a malloc'ed string. */
static char *run_at(const char *dir, int *status, const char *args)
{
	char cmd[1024], *out = NULL;
	size_t len = 0, cap = 0, n;
	char buf[4096];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' --pin-path '%s' %s", ctl, dir, args);
	f = popen(cmd, "r");
	if (!f)
		die("popen: %m");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
			if (!out)
				die("out of memory");
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	if (!out)
		out = calloc(1, 1);
	out[len] = 0;
	*status = pclose(f);
	*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
	if (getenv("CTLTEST_VERBOSE")) /* to look at the output by eye */
		fprintf(stderr, "$ %s  [exit %d]\n%s", cmd, *status, out);
	return out;
}

static char *run(int *status, const char *args)
{
	return run_at(pin_dir, status, args);
}

/* ---- a minimal JSON reader ---------------------------------------------- */
enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	bool b;
	uint64_t u;       /* J_NUM, when a non-negative integer */
	char *s;          /* J_STR */
	struct jv *v;     /* J_ARR, J_OBJ members */
	char **k;         /* J_OBJ keys */
	size_t n;
};

static const char *jp; /* parse position */

static void jws(void)
{
	while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r')
		jp++;
}

static char *jstring(void)
{
	char *s = malloc(strlen(jp) + 1), *o = s;

	if (*jp++ != '"' || !s)
		die("JSON: string expected at '%.20s'", jp - 1);
	while (*jp && *jp != '"') {
		if (*jp != '\\') {
			*o++ = *jp++;
			continue;
		}
		jp++;
		switch (*jp) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'u': *o++ = '?'; jp += 4; break; /* not needed here */
		default: *o++ = *jp;
		}
		jp++;
	}
	if (*jp++ != '"')
		die("JSON: unterminated string");
	*o = 0;
	return s;
}

static void jvalue(struct jv *v);

static void jmembers(struct jv *v, char close, bool keys)
{
	jp++;
	jws();
	if (*jp == close) {
		jp++;
		return;
	}
	for (;;) {
		v->v = realloc(v->v, (v->n + 1) * sizeof(*v->v));
		v->k = realloc(v->k, (v->n + 1) * sizeof(*v->k));
		if (!v->v || !v->k)
			die("out of memory");
		jws();
		v->k[v->n] = keys ? jstring() : NULL;
		if (keys) {
			jws();
			if (*jp++ != ':')
				die("JSON: ':' expected");
		}
		jvalue(&v->v[v->n++]);
		jws();
		if (*jp == ',') {
			jp++;
			continue;
		}
		if (*jp++ != close)
			die("JSON: '%c' expected at '%.20s'", close, jp - 1);
		return;
	}
}

static void jvalue(struct jv *v)
{
	char *end;

	memset(v, 0, sizeof(*v));
	jws();
	if (*jp == '{') {
		v->t = J_OBJ;
		jmembers(v, '}', true);
	} else if (*jp == '[') {
		v->t = J_ARR;
		jmembers(v, ']', false);
	} else if (*jp == '"') {
		v->t = J_STR;
		v->s = jstring();
	} else if (strncmp(jp, "true", 4) == 0 || strncmp(jp, "false", 5) == 0) {
		v->t = J_BOOL;
		v->b = *jp == 't';
		jp += v->b ? 4 : 5;
	} else if (strncmp(jp, "null", 4) == 0) {
		jp += 4;
	} else {
		v->t = J_NUM;
		errno = 0;
		v->u = strtoull(jp, &end, 10);
		if (end == jp || errno)
			die("JSON: value expected at '%.20s'", jp);
		jp = end;
		if (*jp == '.' || *jp == 'e' || *jp == 'E') {
			strtod(jp, &end);
			jp = end;
		}
	}
}

static struct jv *jparse(const char *text)
{
	struct jv *v = calloc(1, sizeof(*v));

	if (!v)
		die("out of memory");
	jp = text;
	jvalue(v);
	jws();
	if (*jp)
		die("JSON: trailing text '%.20s'", jp);
	return v;
}

static void jfree_members(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree_members(&v->v[i]);
		if (v->k)
			free(v->k[i]);
	}
	free(v->v);
	free(v->k);
	free(v->s);
}

static void jfree(struct jv *v)
{
	jfree_members(v);
	free(v);
}

/* "classes.0.interfaces.1.packets": members by key, array items by index.
 * NULL when the path does not exist. */
static const struct jv *jpath(const struct jv *v, const char *path)
{
	char buf[256], *save = NULL, *seg;

	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = strtok_r(buf, ".", &save); seg && v; seg = strtok_r(NULL, ".", &save)) {
		const struct jv *next = NULL;

		if (v->t == J_ARR) {
			size_t i = strtoul(seg, NULL, 10);

			next = i < v->n ? &v->v[i] : NULL;
		} else if (v->t == J_OBJ) {
			for (size_t i = 0; i < v->n && !next; i++)
				if (strcmp(v->k[i], seg) == 0)
					next = &v->v[i];
		}
		v = next;
	}
	return v;
}

static void expect_u64(const struct jv *root, const char *path, uint64_t want)
{
	const struct jv *v = jpath(root, path);

	check(v && v->t == J_NUM && v->u == want, "%s: want %" PRIu64 ", got %s%" PRIu64, path, want,
	      !v ? "(missing) " : v->t != J_NUM ? "(not a number) " : "", v ? v->u : 0);
}

static void expect_str(const struct jv *root, const char *path, const char *want)
{
	const struct jv *v = jpath(root, path);

	check(v && v->t == J_STR && strcmp(v->s, want) == 0, "%s: want \"%s\", got %s%s%s", path,
	      want, !v ? "(missing)" : v->t != J_STR ? "(not a string)" : "\"",
	      v && v->t == J_STR ? v->s : "", v && v->t == J_STR ? "\"" : "");
}

static void expect_bool(const struct jv *root, const char *path, bool want)
{
	const struct jv *v = jpath(root, path);

	check(v && v->t == J_BOOL && v->b == want, "%s: want %s", path, want ? "true" : "false");
}

static void expect_len(const struct jv *root, const char *path, size_t want)
{
	const struct jv *v = jpath(root, path);

	check(v && (v->t == J_ARR || v->t == J_OBJ) && v->n == want,
	      "%s: want %zu entries, got %zu", path, want, v ? v->n : 0);
}

/* ---- the fake state ----------------------------------------------------- */
static int ncpus;
static int meta_fd = -1;

struct fake_slot {
	const char *name, *class_name;
	uint32_t rule_index, kind;
};

static const struct fake_slot fake_slots[SLOT_CAP] = {
	{ "(default)", "other", 3, PC_SLOT_RULE },
	{ "(malformed)", "", 0xffffffff, PC_SLOT_RULE },
	{ "sip", "voice", 1, PC_SLOT_RULE },
	{ "voice", "", 0, PC_SLOT_CLASS },
	{ "web", "web", 0, PC_SLOT_RULE },
	{ "web", "", 0, PC_SLOT_CLASS },
	{ "other", "", 0, PC_SLOT_CLASS },
	{ "ntp", "other", 2, PC_SLOT_RULE },
	{ "", "", 0, PC_SLOT_FREE },
	{ "stale", "gone", 9, PC_SLOT_FREE }, /* free slots are not shown */
};

/* Attachment slots 0 and 2 are in use; 1 is a stale record, with a counter
 * array that must not be counted. */
static const struct pc_attach_info fake_att[3] = {
	{ "veth-a", 11, PC_HOOK_INGRESS, 101, PC_ATT_IN_USE | PC_ATT_OWN_QDISC },
	{ "stale0", 99, PC_HOOK_EGRESS, 999, 0 },
	{ "veth-b", 12, PC_HOOK_MONITOR, 102, PC_ATT_IN_USE },
};

static uint64_t fake_packets(uint32_t att, uint32_t slot, int cpu)
{
	return 1000ull * (att + 1) + 10ull * slot + (uint64_t)cpu + 1;
}

static uint64_t fake_bytes(uint32_t att, uint32_t slot, int cpu)
{
	return fake_packets(att, slot, cpu) * 64 + slot;
}

/* Expected sums over CPUs for attachment att (att < 0: both in use). */
static uint64_t want_packets(int att, uint32_t slot)
{
	uint64_t sum = 0;

	for (int c = 0; c < ncpus; c++)
		sum += att >= 0 ? fake_packets(att, slot, c)
				: fake_packets(0, slot, c) + fake_packets(2, slot, c);
	return sum;
}

static uint64_t want_bytes(int att, uint32_t slot)
{
	uint64_t sum = 0;

	for (int c = 0; c < ncpus; c++)
		sum += att >= 0 ? fake_bytes(att, slot, c)
				: fake_bytes(0, slot, c) + fake_bytes(2, slot, c);
	return sum;
}

static void pin(int fd, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", pin_dir, name);
	if (bpf_obj_pin(fd, p) < 0)
		die("pin %s: %m", p);
}

static int array(enum bpf_map_type type, const char *name, uint32_t vsize, uint32_t n,
		 const struct bpf_map_create_opts *o)
{
	int fd = bpf_map_create(type, name, sizeof(uint32_t), vsize, n, o);

	if (fd < 0)
		skip("bpf_map_create failed (no bpf() here?)");
	return fd;
}

static struct pc_meta fake_meta(void)
{
	struct pc_meta m = {
		.magic = PC_META_MAGIC,
		.abi_version = PC_ABI_VERSION,
		.generation = 7,
		.loaded_realtime_usec = 1700000000123456ull,
		.nrules = 3,
		.nclasses = 3,
		.slot_cap = SLOT_CAP,
		.flags = PC_META_RELOAD_FAILED,
		.pid = (uint32_t)getpid(),
	};

	snprintf(m.config_path, sizeof(m.config_path), "/nonexistent/pktclassd-ctltest.yaml");
	snprintf(m.status, sizeof(m.status), "generation 7, 3 rules \"quoted\"");
	return m;
}

static void put_meta(const struct pc_meta *m)
{
	uint32_t k = 0;

	if (bpf_map_update_elem(meta_fd, &k, m, 0) < 0)
		die("meta update: %m");
}

/* One chunk of PC_CNT_CHUNK slots (SLOT_CAP < PC_CNT_CHUNK); the slots from
 * SLOT_CAP on hold 1s, which no slot pktclassctl shows may pick up. */
static int inner_counters(uint32_t att)
{
	struct pc_cnt_chunk *v = calloc(ncpus, sizeof(*v));
	int fd = array(BPF_MAP_TYPE_PERCPU_ARRAY, "ctltest_inner", sizeof(*v), 1, NULL);
	uint32_t k = 0;

	if (!v)
		die("out of memory");
	for (uint32_t slot = 0; slot < PC_CNT_CHUNK; slot++)
		for (int c = 0; c < ncpus; c++) {
			v[c].c[slot].packets = slot < SLOT_CAP ? fake_packets(att, slot, c) : 1;
			v[c].c[slot].bytes = slot < SLOT_CAP ? fake_bytes(att, slot, c) : 1;
		}
	if (bpf_map_update_elem(fd, &k, v, 0) < 0)
		die("counter update: %m");
	free(v);
	return fd;
}

static void make_state(void)
{
	struct pc_meta m = fake_meta();
	int slots, att, cnt, inner[3];

	meta_fd = array(BPF_MAP_TYPE_ARRAY, "ctltest_meta", sizeof(m), 1, NULL);
	put_meta(&m);
	slots = array(BPF_MAP_TYPE_ARRAY, "ctltest_slots", sizeof(struct pc_slot_name), SLOT_CAP, NULL);
	for (uint32_t i = 0; i < SLOT_CAP; i++) {
		struct pc_slot_name sn = { .rule_index = fake_slots[i].rule_index,
					   .kind = fake_slots[i].kind };

		snprintf(sn.name, sizeof(sn.name), "%s", fake_slots[i].name);
		snprintf(sn.class_name, sizeof(sn.class_name), "%s", fake_slots[i].class_name);
		if (bpf_map_update_elem(slots, &i, &sn, 0) < 0)
			die("slots update: %m");
	}
	att = array(BPF_MAP_TYPE_ARRAY, "ctltest_attach", sizeof(struct pc_attach_info),
		    PC_MAX_ATTACH, NULL);
	for (uint32_t i = 0; i < 3; i++) {
		inner[i] = inner_counters(i);
		if (bpf_map_update_elem(att, &i, &fake_att[i], 0) < 0)
			die("attach update: %m");
	}
	LIBBPF_OPTS(bpf_map_create_opts, o, .inner_map_fd = inner[0]);
	cnt = array(BPF_MAP_TYPE_ARRAY_OF_MAPS, "ctltest_cnt", sizeof(uint32_t), PC_MAX_ATTACH, &o);
	for (uint32_t i = 0; i < 3; i++)
		if (bpf_map_update_elem(cnt, &i, &inner[i], 0) < 0)
			die("cnt update: %m");
	pin(meta_fd, "meta");
	pin(slots, "slots");
	pin(att, "attach");
	pin(cnt, "cnt");
	/* each inner array pinned by path, as the daemon does */
	for (int i = 0; i < 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "cnt_%d", i);
		pin(inner[i], name);
		close(inner[i]);
	}
	close(slots);
	close(att);
	close(cnt);
}

/* ---- the checks --------------------------------------------------------- */
/* path.packets/bytes and path.interfaces for counter slot `slot`. */
static void expect_counts(const struct jv *root, const char *path, uint32_t slot)
{
	static const char *const iface[2] = { "veth-a", "veth-b" };
	static const char *const hook[2] = { "ingress", "monitor" };
	static const uint64_t ifindex[2] = { 11, 12 };
	char p[256];

	snprintf(p, sizeof(p), "%s.packets", path);
	expect_u64(root, p, want_packets(-1, slot));
	snprintf(p, sizeof(p), "%s.bytes", path);
	expect_u64(root, p, want_bytes(-1, slot));
	snprintf(p, sizeof(p), "%s.interfaces", path);
	expect_len(root, p, 2);
	for (int i = 0; i < 2; i++) {
		int att = i == 0 ? 0 : 2;

		snprintf(p, sizeof(p), "%s.interfaces.%d.iface", path, i);
		expect_str(root, p, iface[i]);
		snprintf(p, sizeof(p), "%s.interfaces.%d.hook", path, i);
		expect_str(root, p, hook[i]);
		snprintf(p, sizeof(p), "%s.interfaces.%d.ifindex", path, i);
		expect_u64(root, p, ifindex[i]);
		snprintf(p, sizeof(p), "%s.interfaces.%d.packets", path, i);
		expect_u64(root, p, want_packets(att, slot));
		snprintf(p, sizeof(p), "%s.interfaces.%d.bytes", path, i);
		expect_u64(root, p, want_bytes(att, slot));
	}
}

static void test_stats_json(bool rules)
{
	/* Classes by the first rule that uses them: web (0), voice (1), other (2). */
	static const char *const classes[3] = { "web", "voice", "other" };
	static const uint32_t class_slot[3] = { 5, 3, 6 };
	static const char *const rule_names[3] = { "web", "sip", "ntp" };
	static const char *const rule_class[3] = { "web", "voice", "other" };
	static const uint32_t rule_slot[3] = { 4, 2, 7 };
	int rc;
	char *out = run(&rc, rules ? "stats --json --rules" : "stats --json");
	struct jv *root;
	char p[64];

	check(rc == 0, "stats --json%s: exit %d", rules ? " --rules" : "", rc);
	root = jparse(out);
	expect_u64(root, "generation", 7);
	expect_len(root, "classes", 3);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "classes.%d.name", i);
		expect_str(root, p, classes[i]);
		snprintf(p, sizeof(p), "classes.%d", i);
		expect_counts(root, p, class_slot[i]);
	}
	if (rules) {
		expect_len(root, "rules", 3);
		for (int i = 0; i < 3; i++) {
			snprintf(p, sizeof(p), "rules.%d.name", i);
			expect_str(root, p, rule_names[i]);
			snprintf(p, sizeof(p), "rules.%d.class", i);
			expect_str(root, p, rule_class[i]);
			snprintf(p, sizeof(p), "rules.%d", i);
			expect_counts(root, p, rule_slot[i]);
		}
	} else {
		check(jpath(root, "rules") == NULL, "stats --json: \"rules\" without --rules");
	}
	expect_str(root, "default.class", "other");
	expect_counts(root, "default", PC_SLOT_DEFAULT);
	expect_counts(root, "malformed", PC_SLOT_MALFORMED);
	jfree(root);
	free(out);
}

/* The text table: "NAME PACKETS BYTES" for each class, then per interface. */
static void test_stats_text(void)
{
	int rc;
	char *out = run(&rc, "stats"), *line, *save = NULL;
	bool seen_voice = false, seen_sub = false;
	char name[64];
	uint64_t pk, by;

	check(rc == 0, "stats: exit %d", rc);
	check(strstr(out, "generation 7") != NULL, "stats: no generation line:\n%s", out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "voice %" SCNu64 " %" SCNu64, &pk, &by) == 2) {
			seen_voice = true;
			check(pk == want_packets(-1, 3) && by == want_bytes(-1, 3),
			      "stats: voice line '%s'", line);
		}
		if (sscanf(line, " veth-b monitor %" SCNu64 " %" SCNu64, &pk, &by) == 2 &&
		    pk == want_packets(2, 3))
			seen_sub = by == want_bytes(2, 3);
		check(sscanf(line, "%63s", name) != 1 || strcmp(name, "stale") != 0,
		      "stats: a free slot is shown");
	}
	check(seen_voice, "stats: no line for class voice");
	check(seen_sub, "stats: no veth-b monitor line for class voice");
	free(out);
}

/* With --rules, a second table: "RULE CLASS PACKETS BYTES". */
static void test_stats_rules_text(void)
{
	int rc;
	char *out = run(&rc, "stats --rules"), *line, *save = NULL;
	bool seen_sip = false, seen_default = false, seen_malformed = false;
	uint64_t pk, by;

	check(rc == 0, "stats --rules: exit %d", rc);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "sip voice %" SCNu64 " %" SCNu64, &pk, &by) == 2)
			seen_sip = pk == want_packets(-1, 2) && by == want_bytes(-1, 2);
		if (sscanf(line, "(default) other %" SCNu64 " %" SCNu64, &pk, &by) == 2)
			seen_default = pk == want_packets(-1, 0) && by == want_bytes(-1, 0);
		if (sscanf(line, "(malformed) - %" SCNu64 " %" SCNu64, &pk, &by) == 2)
			seen_malformed = pk == want_packets(-1, 1) && by == want_bytes(-1, 1);
	}
	check(seen_sip, "stats --rules: no right line for rule sip:\n%s", out);
	check(seen_default, "stats --rules: no right line for (default)");
	check(seen_malformed, "stats --rules: no right line for (malformed)");
	free(out);
}

static void expected_loaded(char *buf, size_t len)
{
	time_t t = 1700000000;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void test_status_json(bool running, uint32_t pid)
{
	int rc;
	char *out = run(&rc, "status --json"), when[64];
	const struct jv *loaded;
	struct jv *root;

	check(rc == 0, "status --json: exit %d", rc);
	root = jparse(out);
	expect_bool(root, "running", running);
	expect_u64(root, "pid", pid);
	expect_str(root, "config", "/nonexistent/pktclassd-ctltest.yaml");
	expect_u64(root, "generation", 7);
	expect_u64(root, "rules", 3);
	expect_u64(root, "classes", 3);
	expect_str(root, "reload", "failed");
	expect_str(root, "status", "generation 7, 3 rules \"quoted\"");
	expected_loaded(when, sizeof(when));
	loaded = jpath(root, "loaded");
	/* ISO 8601 local time with the offset as +hh:mm */
	check(loaded && loaded->t == J_STR && strncmp(loaded->s, when, strlen(when)) == 0 &&
	      strlen(loaded->s) == strlen(when) + 6 && loaded->s[strlen(when) + 3] == ':',
	      "loaded: want %s+hh:mm, got %s", when, loaded && loaded->s ? loaded->s : "?");
	expect_len(root, "attachments", 2);
	expect_str(root, "attachments.0.iface", "veth-a");
	expect_u64(root, "attachments.0.ifindex", 11);
	expect_str(root, "attachments.0.hook", "ingress");
	expect_u64(root, "attachments.0.prog_id", 101);
	expect_str(root, "attachments.1.iface", "veth-b");
	expect_u64(root, "attachments.1.ifindex", 12);
	expect_str(root, "attachments.1.hook", "monitor");
	expect_u64(root, "attachments.1.prog_id", 102);
	jfree(root);
	free(out);
}

static void test_status_text(void)
{
	int rc;
	char *out = run(&rc, "status"), want[64];

	check(rc == 0, "status: exit %d", rc);
	snprintf(want, sizeof(want), "running (pid %d)", (int)getpid());
	check(strstr(out, want) != NULL, "status: no '%s' in:\n%s", want, out);
	check(strstr(out, "last reload: failed") != NULL, "status: no failed reload in:\n%s", out);
	check(strstr(out, "veth-b") && strstr(out, "monitor") && strstr(out, "prog 102"),
	      "status: no veth-b attachment in:\n%s", out);
	free(out);
}

/* A pid that no longer exists: the daemon is gone, its state is not. */
static uint32_t dead_pid(void)
{
	pid_t p = fork();

	if (p < 0)
		die("fork: %m");
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return (uint32_t)p;
}

/* pktclassctl reads the counters by path (cnt_<slot>) only: never through
 * the "cnt" map of maps (by id, which needs CAP_SYS_ADMIN). */
static void test_counter_pins(void)
{
	char p[256];
	uint32_t k;
	int cnt;

	snprintf(p, sizeof(p), "%s/cnt", pin_dir);
	cnt = bpf_obj_get(p);
	if (cnt < 0)
		die("bpf_obj_get of the pins: %m");
	/* no counter array in "cnt" at all: the pins alone give the counts */
	for (k = 0; k < 3; k++)
		if (bpf_map_delete_elem(cnt, &k) < 0)
			die("cnt delete: %m");
	test_stats_json(true);
	close(cnt);
}

static void test_bad_states(void)
{
	struct pc_meta m = fake_meta();
	char nodir[160], *out;
	struct jv *root;
	int rc;

	snprintf(nodir, sizeof(nodir), "%s-missing", pin_dir);
	out = run_at(nodir, &rc, "status --json");
	check(rc == 1, "status without state: exit %d, want 1", rc);
	root = jparse(out);
	expect_bool(root, "running", false);
	jfree(root);
	free(out);
	free(run_at(nodir, &rc, "stats"));
	check(rc == 1, "stats without state: exit %d, want 1", rc);

	m.magic = 0x1234; /* someone else's map */
	put_meta(&m);
	free(run(&rc, "stats --json"));
	check(rc == 1, "stats on a foreign meta: exit %d, want 1", rc);
	free(run(&rc, "status"));
	check(rc == 1, "status on a foreign meta: exit %d, want 1", rc);

	m = fake_meta();
	m.abi_version = PC_ABI_VERSION + 1;
	put_meta(&m);
	free(run(&rc, "stats"));
	check(rc == 1, "stats on another ABI version: exit %d, want 1", rc);
}

/* bpffs at /sys/fs/bpf: the shared one, or a private instance in a mount
 * namespace of our own (the children we run inherit it). */
static int ensure_bpffs(void)
{
	struct statfs sfs;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
		return -errno;
	return 0;
}

int main(void)
{
	uint32_t pid;

	ctl = getenv("PKTCLASSCTL");
	if (!ctl || access(ctl, X_OK) < 0)
		skip("PKTCLASSCTL does not name the built pktclassctl");
	if (geteuid() != 0)
		skip("needs root");
	if (ensure_bpffs() < 0)
		skip("no bpffs at /sys/fs/bpf, and cannot mount a private one");
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		die("libbpf_num_possible_cpus: %d", ncpus);

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/pktclassd-ctltest-%d", (int)getpid());
	atexit(cleanup);
	if (mkdir(pin_dir, 0700) < 0)
		die("mkdir %s: %m", pin_dir);
	/* So that pktclassctl sees "a process named pktclassd" at meta.pid. */
	prctl(PR_SET_NAME, "pktclassd");
	make_state();

	test_stats_json(true);
	test_stats_json(false);
	test_stats_text();
	test_stats_rules_text();
	test_status_json(true, (uint32_t)getpid());
	test_status_text();
	test_counter_pins();

	pid = dead_pid();
	{
		struct pc_meta m = fake_meta();

		m.pid = pid;
		put_meta(&m);
	}
	test_status_json(false, pid);
	test_bad_states();

	if (failures) {
		fprintf(stderr, "test-ctl-pins: %d failures\n", failures);
		return 1;
	}
	printf("test-ctl-pins: ok (%d CPUs)\n", ncpus);
	return 0;
}
