/* SPDX-License-Identifier: GPL-2.0-only */
/* setcmd.c - pktclassctl's set requests (lib/ctlproto.h) on the live sets:
 *
 *   list                     ok, then NAME TYPE DYNAMIC ELEMENTS BYTES a line
 *   show NAME                ok, NAME TYPE DYNAMIC ELEMENTS, then ELEMENT FLAGS a line
 *   find + SET FIELD VALUE.. ok, then per line the element that holds VALUE, or -
 *   add|del NAME + ELEMENT.. ok, then ADDED REMOVED ELEMENTS
 *   load NAME FILE (+ fd)    the same; FILE names the descriptor in messages
 *   flush NAME               the same
 *
 * Fields are tab-separated.  A change is parsed whole first: one bad
 * element and nothing changes.  Every change and every refused one gets a
 * journal record. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "lib/readall.h"
#include "lib/util.h"
#include "pktclassd/records.h"
#include "pktclassd/setcmd.h"

#define SET_LOAD_MAX (1u << 30)
#define ELEM_ERRORS 20

static const char *const op_names[] = {
	[PC_SET_OP_ADD] = "add", [PC_SET_OP_DEL] = "del", [PC_SET_OP_LOAD] = "load",
	[PC_SET_OP_FLUSH] = "flush",
};

static void reply_error(FILE *out, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_error(FILE *out, int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "error %d\n", err < 0 ? -err : err);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void set_record(const char *set, enum pc_set_op op, int r, const struct pc_set_result *res,
		       uint64_t t0, const char *why)
{
	struct pc_set_event ev = { .set = set, .op = op_names[op], .ok = r >= 0, .why = why,
				   .usec = pc_now_usec(CLOCK_MONOTONIC) - t0 };
	struct pc_record rec;

	if (res) {
		ev.added = res->added;
		ev.removed = res->removed;
		ev.elements = res->elements;
	}
	pc_record_build_set(&rec, &ev);
	pc_record_emit(&rec);
}

/* ---- reading ------------------------------------------------------------------------ */
static void cmd_list(struct pc_dp *dp, FILE *out)
{
	_cleanup_free_ struct pc_set_info *v = NULL;
	size_t n = 0;
	int r = pc_dp_sets_list(dp, &v, &n);

	if (r < 0) {
		reply_error(out, r, "listing the sets: %s", strerror(-r));
		return;
	}
	fputs("ok\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s\t%s\t%d\t%zu\t%" PRIu64 "\n", v[i].name, pc_set_type_name(v[i].type),
			!!(v[i].flags & PC_SET_F_DYNAMIC), v[i].elements, v[i].bytes);
}

static int no_set(FILE *out, const char *name, int r)
{
	if (r == -ENOENT)
		reply_error(out, r, "no set \"%s\" in the running configuration", name);
	else
		reply_error(out, r, "set \"%s\": %s", name, strerror(-r));
	return r;
}

static void cmd_show(struct pc_dp *dp, const char *name, FILE *out)
{
	struct pc_set_info info;
	struct pc_set_view v;
	char buf[64];
	int r = pc_dp_set_get(dp, name, &info, &v);

	if (r < 0) {
		no_set(out, name, r);
		return;
	}
	fprintf(out, "ok\n%s\t%s\t%d\t%zu\n", info.name, pc_set_type_name(info.type),
		!!(info.flags & PC_SET_F_DYNAMIC), info.elements);
	for (size_t i = 0; i < v.n; i++)
		fprintf(out, "%s\t%u\n", pc_set_elem_str(&v.v[i], buf, sizeof(buf)), v.v[i].flags);
}

/* "FIELD VALUE" as the key words of a packet. */
static int find_key(const char *field, const char *value, struct pc_key *k, unsigned *f)
{
	static const char *const fields[] = { "src", "dst", "src_port", "dst_port" };
	struct pc_set_elem e;
	bool host;

	memset(k, 0, sizeof(*k));
	for (*f = 0; *f < ELEMENTSOF(fields) && strcmp(fields[*f], field); (*f)++)
		;
	if (*f >= ELEMENTSOF(fields))
		return -EINVAL;
	if (*f >= PC_SF_SPORT) {
		if (pc_set_elem_parse(PC_SET_PORT, value, &e, &host) < 0 || e.port.lo != e.port.hi)
			return -EINVAL;
		k->w[*f == PC_SF_SPORT ? PC_W_SPORT : PC_W_DPORT] = e.port.lo;
		return 0;
	}
	if (pc_set_elem_parse(PC_SET_PREFIX, value, &e, &host) < 0)
		return -EINVAL;
	k->w[PC_W_L3] = e.family == 4 ? PC_ETH_P_IP : PC_ETH_P_IPV6;
	for (unsigned i = 0; i < (e.family == 4 ? 1u : 4u); i++)
		k->w[(*f == PC_SF_SRC ? PC_W_SRC0 : PC_W_DST0) + i] =
			(uint32_t)e.addr[4 * i] << 24 | (uint32_t)e.addr[4 * i + 1] << 16 |
			(uint32_t)e.addr[4 * i + 2] << 8 | e.addr[4 * i + 3];
	return 0;
}

static void cmd_find(struct pc_dp *dp, char *body, FILE *out)
{
	char *line, buf[64];

	fputs("ok\n", out);
	while ((line = pc_ctl_next_line(&body))) {
		char *set = strtok(line, "\t "), *field = strtok(NULL, "\t "), *value = strtok(NULL, "\t ");
		struct pc_set_view v;
		struct pc_key k;
		unsigned f;
		long i;

		if (!set || !field || !value || pc_dp_set_get(dp, set, NULL, &v) < 0 ||
		    find_key(field, value, &k, &f) < 0) {
			fputs("?\n", out);
			continue;
		}
		i = pc_set_find(&v, &k, f);
		fprintf(out, "%s\n", i >= 0 ? pc_set_elem_str(&v.v[i], buf, sizeof(buf)) : "-");
	}
}

/* ---- changing ------------------------------------------------------------------------- */
/* The elements of body, one a line, for a set of type; bad ones listed. */
static int parse_elems(uint32_t type, char *body, struct pc_set_elems *out, FILE *err)
{
	size_t idx = 0, bad = 0;
	char *line;

	while ((line = pc_ctl_next_line(&body))) {
		struct pc_set_elem e;
		bool host;
		int r;

		idx++;
		r = pc_set_elem_parse(type, line, &e, &host);
		if (r < 0) {
			if (bad++ < ELEM_ERRORS)
				fprintf(err, "element %zu: %s \"%s\" (a %s set)\n", idx,
					pc_set_elem_error(type, r), line, pc_set_type_name(type));
			continue;
		}
		if (pc_set_elems_add(out, &e) < 0)
			return -ENOMEM;
	}
	if (bad > ELEM_ERRORS)
		fprintf(err, "%zu more bad elements\n", bad - ELEM_ERRORS);
	return bad ? -EINVAL : 0;
}

/* The file that came with a load request: its elements, or the errors
 * (FILE:LINE:COLUMN) in err. */
static int parse_file(uint32_t type, int fd, const char *file, struct pc_set_elems *out,
		      FILE *err)
{
	_cleanup_free_ char *buf = NULL;
	struct pc_diags d;
	char line[1024];
	size_t len;
	int r;

	if (fd < 0) {
		fprintf(err, "%s: no file came with the request\n", file);
		return -EBADF;
	}
	r = pc_read_all(fd, SET_LOAD_MAX, &buf, &len);
	if (r < 0) {
		fprintf(err, "%s: cannot read: %s\n", file, strerror(-r));
		return r;
	}
	pc_diags_init(&d, file);
	r = pc_set_parse_text(type, file, buf, len, 0, out, &d);
	pc_diags_sort(&d);
	for (size_t i = 0; i < d.n; i++) {
		pc_diag_format(&d, i, line, sizeof(line));
		fprintf(err, "%s\n", line);
	}
	pc_diags_clear(&d);
	return r;
}

static void cmd_change(struct pc_dp *dp, enum pc_set_op op, const char *name, const char *file,
		       struct pc_ctl_msg *req, char *body, FILE *out)
{
	uint64_t t0 = pc_now_usec(CLOCK_MONOTONIC);
	_cleanup_free_ char *errs = NULL;
	struct pc_set_elems e = {};
	struct pc_set_result res;
	struct pc_set_info info;
	size_t errlen = 0;
	FILE *err;
	int r;

	r = pc_dp_set_get(dp, name, &info, NULL);
	if (r < 0) {
		no_set(out, name, r);
		set_record(name, op, r, NULL, t0, r == -ENOENT ? "no such set" : strerror(-r));
		return;
	}
	if (!(info.flags & PC_SET_F_DYNAMIC)) {
		reply_error(out, EPERM, "set \"%s\" is not dynamic: its elements change with the "
			    "configuration only (dynamic: true allows set add, del, load, flush)", name);
		set_record(name, op, -EPERM, NULL, t0, "the set is not dynamic");
		return;
	}
	err = open_memstream(&errs, &errlen);
	if (!err) {
		reply_error(out, ENOMEM, "out of memory");
		return;
	}
	r = 0;
	if (op == PC_SET_OP_ADD || op == PC_SET_OP_DEL)
		r = parse_elems(info.type, body, &e, err);
	else if (op == PC_SET_OP_LOAD)
		r = parse_file(info.type, req->fd, file, &e, err);
	fclose(err);
	if (r >= 0) {
		r = pc_dp_set_change(dp, name, op, e.v, e.n, &res);
		if (r < 0)
			reply_error(out, r, "set \"%s\": %s failed: %s", name, op_names[op], strerror(-r));
	} else {
		size_t n = errs ? strlen(errs) : 0;

		while (n && errs[n - 1] == '\n')
			errs[--n] = 0;
		reply_error(out, r, "%s", n ? errs : "bad elements");
	}
	pc_set_elems_clear(&e);
	set_record(name, op, r, r >= 0 ? &res : NULL, t0,
		   r == -EINVAL ? "bad elements" : r < 0 ? strerror(-r) : NULL);
	if (r >= 0)
		fprintf(out, "ok\n%zu\t%zu\t%zu\n", res.added, res.removed, res.elements);
}

void pc_setcmd(struct pc_dp *dp, struct pc_ctl_msg *req, FILE *out)
{
	char *body = req->buf, *line = pc_ctl_next_line(&body), *verb, *name, *rest;
	static const struct { const char *verb; enum pc_set_op op; } ops[] = {
		{ "add", PC_SET_OP_ADD }, { "del", PC_SET_OP_DEL }, { "load", PC_SET_OP_LOAD },
		{ "flush", PC_SET_OP_FLUSH },
	};

	verb = line ? strtok_r(line, " ", &rest) : NULL;
	name = verb ? strtok_r(NULL, " ", &rest) : NULL;
	if (!verb) {
		reply_error(out, EINVAL, "empty request");
		return;
	}
	if (!strcmp(verb, "list")) {
		cmd_list(dp, out);
		return;
	}
	if (!strcmp(verb, "find")) {
		cmd_find(dp, body, out);
		return;
	}
	if (!name) {
		reply_error(out, EINVAL, "%s: no set named", verb);
		return;
	}
	if (!strcmp(verb, "show")) {
		cmd_show(dp, name, out);
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		if (!strcmp(verb, ops[i].verb)) {
			cmd_change(dp, ops[i].op, name, rest && *rest ? rest : "-", req, body, out);
			return;
		}
	reply_error(out, EINVAL, "unknown request \"%s\"", verb);
}
