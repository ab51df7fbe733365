/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl set list|show|add|del|load|flush: the running daemon's sets,
 * through its control socket (lib/ctlproto.h, pktclassd/setcmd.c).  The
 * daemon parses and applies a change whole; its errors are printed as it
 * words them (an element file's as FILE:LINE:COLUMN). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/ctlproto.h"
#include "lib/json.h"
#include "lib/util.h"

/* ---- the daemon ------------------------------------------------------------------ */
static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = PC_CTL_TIMEOUT_SEC * 4 };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (!strscpy_ok(sa.sun_path, sizeof(sa.sun_path), path))
		return -ENAMETOOLONG;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return TAKE_FD(fd);
}

int ctl_daemon_request(struct ctl *c, const char *req, size_t len, int pass_fd, bool quiet,
		       struct pc_ctl_msg *reply)
{
	char path[PC_PATH_MAX];
	_cleanup_close_ int fd = -1;
	const char *pin;
	int r;

	if (ctl_pin_path(c, &pin) != CTL_OK)
		return -EINVAL;
	r = pc_ctl_socket_path(pin, PC_DEFAULT_PIN_PATH, path, sizeof(path));
	if (r >= 0)
		r = fd = connect_to(path);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		if (!quiet)
			ctl_error("pktclassd is not running for %s (no control socket %s)", pin, path);
		return -ENOTCONN;
	}
	if (r >= 0)
		r = pc_ctl_msg_send(fd, req, len, pass_fd);
	if (r >= 0 && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	if (r >= 0)
		r = pc_ctl_msg_recv(fd, SIZE_MAX / 2, reply);
	if (r < 0 && !quiet)
		ctl_error("talking to pktclassd (%s): %s", path, strerror(-r));
	return r;
}

/* The reply's first line: 0 for "ok", else the daemon's errno. */
static int reply_status(char **body)
{
	char *line = pc_ctl_next_line(body);
	int e;

	if (!line)
		return -EPROTO;
	if (!strcmp(line, "ok"))
		return 0;
	if (sscanf(line, "error %d", &e) == 1 && e > 0)
		return -e;
	return -EPROTO;
}

/* ---- output ------------------------------------------------------------------------ */
static const char *origin(unsigned flags)
{
	if ((flags & PC_SE_F_CONFIG) && (flags & PC_SE_F_RUNTIME))
		return "config+runtime";
	return flags & PC_SE_F_RUNTIME ? "runtime" : "config";
}

static void mem_str(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= 10u << 20)
		snprintf(buf, len, "%.1f MiB", bytes / 1048576.0);
	else
		snprintf(buf, len, "%.1f KiB", bytes / 1024.0);
}

static int list_out(struct ctl *c, char *body)
{
	struct pc_json j;
	char *line;

	if (c->json) {
		pc_json_init(&j, stdout, true);
		pc_json_object_begin(&j);
		pc_json_key(&j, "sets");
		pc_json_array_begin(&j);
	} else
		printf("%-24s %-7s %-8s %10s %12s\n", "SET", "TYPE", "DYNAMIC", "ELEMENTS", "MEMORY");
	while ((line = pc_ctl_next_line(&body))) {
		char name[PC_SET_NAME_MAX], type[16], mem[32];
		unsigned long long n, bytes;
		int dyn;

		if (sscanf(line, "%63s %15s %d %llu %llu", name, type, &dyn, &n, &bytes) != 5)
			return ctl_error("set list: cannot read the daemon's reply");
		if (!c->json) {
			mem_str(bytes, mem, sizeof(mem));
			printf("%-24s %-7s %-8s %10llu %12s\n", name, type, dyn ? "yes" : "no", n, mem);
			continue;
		}
		pc_json_object_begin(&j);
		pc_json_kv_string(&j, "name", name);
		pc_json_kv_string(&j, "type", type);
		pc_json_kv_bool(&j, "dynamic", dyn);
		pc_json_kv_u64(&j, "elements", n);
		pc_json_kv_u64(&j, "memory_bytes", bytes);
		pc_json_object_end(&j);
	}
	if (c->json) {
		pc_json_array_end(&j);
		pc_json_object_end(&j);
		return pc_json_finish(&j) < 0 ? CTL_ERROR : CTL_OK;
	}
	return CTL_OK;
}

/* One element a line: what `set load` takes back. */
static int show_out(struct ctl *c, char *body)
{
	char name[PC_SET_NAME_MAX], type[16], *line = pc_ctl_next_line(&body);
	unsigned long long n;
	struct pc_json j;
	int dyn;

	if (!line || sscanf(line, "%63s %15s %d %llu", name, type, &dyn, &n) != 4)
		return ctl_error("set show: cannot read the daemon's reply");
	if (c->json) {
		pc_json_init(&j, stdout, true);
		pc_json_object_begin(&j);
		pc_json_kv_string(&j, "name", name);
		pc_json_kv_string(&j, "type", type);
		pc_json_kv_bool(&j, "dynamic", dyn);
		pc_json_kv_u64(&j, "count", n);
		pc_json_key(&j, "elements");
		pc_json_array_begin(&j);
	} else
		printf("# set %s: %s, %s, %llu element%s\n", name, type, dyn ? "dynamic" : "not dynamic",
		       n, n == 1 ? "" : "s");
	while ((line = pc_ctl_next_line(&body))) {
		char *tab = strchr(line, '\t');
		unsigned flags = tab ? (unsigned)strtoul(tab + 1, NULL, 10) : 0;

		if (tab)
			*tab = 0;
		if (!c->json) {
			if (flags & PC_SE_F_RUNTIME)
				printf("%s  # %s\n", line, origin(flags));
			else
				printf("%s\n", line);
			continue;
		}
		pc_json_object_begin(&j);
		pc_json_kv_string(&j, "element", line);
		pc_json_kv_string(&j, "origin", origin(flags));
		pc_json_object_end(&j);
	}
	if (c->json) {
		pc_json_array_end(&j);
		pc_json_object_end(&j);
		return pc_json_finish(&j) < 0 ? CTL_ERROR : CTL_OK;
	}
	return CTL_OK;
}

static int change_out(struct ctl *c, const char *verb, const char *name, char *body)
{
	unsigned long long a, r, n;
	struct pc_json j;

	if (sscanf(body, "%llu %llu %llu", &a, &r, &n) != 3)
		return ctl_error("set %s: cannot read the daemon's reply", verb);
	if (!c->json) {
		printf("set %s: %llu added, %llu removed, %llu element%s\n", name, a, r, n,
		       n == 1 ? "" : "s");
		return CTL_OK;
	}
	pc_json_init(&j, stdout, true);
	pc_json_object_begin(&j);
	pc_json_kv_string(&j, "set", name);
	pc_json_kv_string(&j, "operation", verb);
	pc_json_kv_u64(&j, "added", a);
	pc_json_kv_u64(&j, "removed", r);
	pc_json_kv_u64(&j, "elements", n);
	pc_json_object_end(&j);
	return pc_json_finish(&j) < 0 ? CTL_ERROR : CTL_OK;
}

/* ---- the command ------------------------------------------------------------------- */
/* The request text: "VERB [NAME [FILE]]", then the elements a line. */
static char *build_request(const char *verb, const char *name, const char *file, char **elems,
			   int nelems, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	fprintf(f, "%s%s%s%s%s\n", verb, name ? " " : "", name ? name : "", file ? " " : "",
		file ? file : "");
	for (int i = 0; i < nelems; i++)
		fprintf(f, "%s\n", elems[i]);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Bad usage, or CTL_OK: verb (argv[0]) has what it needs. */
static int check_args(const char *verb, int n)
{
	static const struct { const char *verb; int min, max; } v[] = {
		{ "list", 0, 0 }, { "show", 1, 1 }, { "add", 2, -1 }, { "del", 2, -1 },
		{ "load", 2, 2 }, { "flush", 1, 1 },
	};

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		if (strcmp(verb, v[i].verb))
			continue;
		if (n < v[i].min)
			return ctl_usage_error("set %s: %s", verb, v[i].min == 1 ? "which set?" :
					       !strcmp(verb, "load") ? "needs NAME FILE" :
					       "needs NAME and at least one ELEMENT");
		if (v[i].max >= 0 && n > v[i].max)
			return ctl_usage_error("set %s: too many arguments", verb);
		return CTL_OK;
	}
	return ctl_usage_error("set: unknown subcommand '%s' (list, show, add, del, load, flush)",
			       verb);
}

static int open_file(const char *file)
{
	int fd;

	if (!strcmp(file, "-"))
		return fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		ctl_error("set load: cannot open %s: %s", file, strerror(errno));
	return fd;
}

static int set_run(struct ctl *c, const char *verb, int n, char **args)
{
	struct pc_ctl_msg reply = { .fd = -1 };
	_cleanup_free_ char *req = NULL;
	_cleanup_close_ int fd = -1;
	const char *name = n > 0 ? args[0] : NULL;
	bool load = !strcmp(verb, "load");
	char *body, *line;
	size_t len;
	int r;

	if (load && (fd = open_file(args[1])) < 0)
		return CTL_ERROR;
	req = build_request(verb, name, load ? args[1] : NULL, load ? NULL : args + 1,
			    load || n < 1 ? 0 : n - 1, &len);
	if (!req)
		return ctl_error("out of memory");
	if (ctl_daemon_request(c, req, len, fd, false, &reply) < 0)
		return CTL_ERROR;
	body = reply.buf;
	r = reply_status(&body);
	if (r < 0) {
		/* an element file's FILE:LINE:COLUMN lines as they are */
		while ((line = pc_ctl_next_line(&body)))
			if (strstr(line, ": error: ") || strstr(line, ": warning: "))
				fprintf(stderr, "%s\n", line);
			else
				fprintf(stderr, "pktclassctl: set %s%s%s: %s\n", verb, name ? " " : "",
					name ? name : "", line);
		if (r == -EPROTO)
			ctl_error("set %s: the daemon's reply makes no sense", verb);
		else if (strcmp(verb, "list") && strcmp(verb, "show"))
			ctl_error("set %s%s%s: nothing changed", verb, name ? " " : "", name ? name : "");
		pc_ctl_msg_clear(&reply);
		return CTL_ERROR;
	}
	if (!strcmp(verb, "list"))
		r = list_out(c, body);
	else if (!strcmp(verb, "show"))
		r = show_out(c, body);
	else
		r = change_out(c, verb, name, body);
	pc_ctl_msg_clear(&reply);
	return fflush(stdout) == 0 ? r : ctl_error("cannot write the output");
}

int ctl_set(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = { CTL_COMMON_LONGOPTS, {} };
	int o, stop, r;

	while ((o = ctl_getopt(c, argc, argv, "", longopts, &stop)) != -1)
		return CTL_USAGE;
	if (stop >= 0)
		return stop;
	if (optind >= argc)
		return ctl_usage_error("set: which subcommand? (list, show, add, del, load, flush)");
	r = check_args(argv[optind], argc - optind - 1);
	if (r != CTL_OK)
		return r;
	return set_run(c, argv[optind], argc - optind - 1, argv + optind + 1);
}
