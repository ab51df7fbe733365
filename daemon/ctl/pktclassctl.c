/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl - inspect and test pktclassd (pktclassctl(8)).
 * This file: option handling and the helpers the commands share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/diag.h"
#include "lib/util.h"

void ctl_usage(FILE *f)
{
	fputs("Usage: pktclassctl [-c FILE] [--pin-path DIR] COMMAND [OPTIONS]\n"
	      "\n"
	      "Commands:\n"
	      "  status [--json]                 is pktclassd running; generation, rules, attachments\n"
	      "  stats [--rules] [--json] [--watch SECONDS] [--openmetrics]\n"
	      "                                  packets and bytes per class (and per rule), in total\n"
	      "                                  and per interface and hook; --openmetrics: as\n"
	      "                                  Prometheus metrics\n"
	      "  check [-c FILE] [--json] [FILE] validate a config file and summarize it\n"
	      "  explain [-c FILE] [--json] [--live] PACKET\n"
	      "                                  which rule and class a described packet gets;\n"
	      "                                  --live: run it through the loaded BPF program\n"
	      "                                  (a private copy; root) and check that they agree\n"
	      "     PACKET: --iface IF --direction ingress|egress [--l3 ipv4|ipv6|arp|ETHERTYPE]\n"
	      "             [--proto P --src ADDR --dst ADDR] [--src-port N --dst-port N]\n"
	      "             [--vlan N] [--dscp N|NAME] [--length N] [--tcp-flags syn,ack,...]\n"
	      "  capture --class NAME [--iface IF] [--count N] -w FILE\n"
	      "                                  write the packets of one class to a pcapng file\n"
	      "                                  (FILE '-': stdout) until N packets or Ctrl-C,\n"
	      "                                  with their interface and direction\n"
	      "  set list [--json]               the sets of the running daemon: type, elements\n"
	      "  set show NAME [--json]          a set's elements, one a line\n"
	      "  set add NAME ELEMENT...         add elements to a dynamic set (all or none)\n"
	      "  set del NAME ELEMENT...         remove elements from a dynamic set\n"
	      "  set load NAME FILE              replace all elements with FILE's ('-': stdin)\n"
	      "  set flush NAME                  remove every element\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE  config file (default " PC_DEFAULT_CONFIG ")\n"
	      "      --pin-path DIR daemon state in bpffs (default: the config's settings.pin_path,\n"
	      "                     else " PC_DEFAULT_PIN_PATH ")\n"
	      "      --json         machine-readable output\n"
	      "  -h, --help         show this help\n"
	      "      --version      show the version and the default config\n"
	      "\n"
	      "Exit status: 0 success, 1 error, 2 bad usage.\n", f);
}

static void vmsg(const char *fmt, va_list ap)
{
	fputs("pktclassctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fputs("Try 'pktclassctl --help'.\n", stderr);
	return CTL_USAGE;
}

int ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return CTL_ERROR;
}

void ctl_getopt_reset(void)
{
	optind = 0; /* glibc: full reinitialisation */
	opterr = 0;
}

/* The option as written, for messages. */
static const char *bad_option(char **argv)
{
	static char buf[3];

	if (optopt > 0 && optopt < 0x80 && optind > 0 && argv[optind - 1][0] == '-' &&
	    argv[optind - 1][1] != '-') {
		buf[0] = '-';
		buf[1] = (char)optopt;
		buf[2] = 0;
		return buf;
	}
	return argv[optind - 1];
}

bool ctl_common_option(struct ctl *c, int o, int config_opt)
{
	if (o == config_opt)
		c->config = optarg;
	else if (o == CTL_OPT_PIN_PATH)
		c->pin_path = optarg;
	else if (o == CTL_OPT_JSON)
		c->json = true;
	else
		return false;
	return true;
}

int ctl_getopt(struct ctl *c, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *stop)
{
	bool plus = shortopts[0] == '+';
	char opts[64];
	int o;

	*stop = -1;
	/* '+' (stop at the first non-option) must lead, then ':' (report a
	 * missing argument as ':'). */
	snprintf(opts, sizeof(opts), "%s:%s%s", plus ? "+" : "", CTL_COMMON_SHORTOPTS, shortopts + plus);
	for (;;) {
		o = getopt_long(argc, argv, opts, longopts, NULL);
		if (ctl_common_option(c, o, 'c'))
			continue;
		switch (o) {
		case 'h':
			ctl_usage(stdout);
			*stop = CTL_OK;
			return -1;
		case ':':
			*stop = ctl_usage_error("option '%s' needs an argument", bad_option(argv));
			return -1;
		case '?':
			*stop = ctl_usage_error("unknown option '%s'", bad_option(argv));
			return -1;
		default:
			return o;
		}
	}
}

int ctl_load_config(struct ctl *c, const char *path, bool quiet)
{
	struct pc_diags d;
	int r;

	if (c->cfg)
		return 0;
	pc_diags_init(&d, path);
	r = pc_config_load(path, &c->cfg, &d);
	if (!quiet) {
		pc_diags_sort(&d);
		pc_diags_print(&d, stderr);
		if (r < 0 && d.nerrors == 0)
			fprintf(stderr, "%s: error: %s\n", path, strerror(-r));
	}
	pc_diags_clear(&d);
	return r < 0 ? r : 0;
}

int ctl_pin_path(struct ctl *c, const char **ret)
{
	if (c->pin_path) {
		*ret = c->pin_path;
		return CTL_OK;
	}
	if (c->config) {
		if (ctl_load_config(c, c->config, false) < 0)
			return CTL_ERROR;
	} else if (access(PC_DEFAULT_CONFIG, R_OK) == 0) {
		/* Only to find a pin_path setting: a broken default config
		 * is the daemon's business, not ours. */
		(void)ctl_load_config(c, PC_DEFAULT_CONFIG, true);
	}
	*ret = c->cfg && c->cfg->settings.pin_path[0] ? c->cfg->settings.pin_path
						      : PC_DEFAULT_PIN_PATH;
	return CTL_OK;
}

int ctl_parse_u32(const char *s, uint32_t max, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

void ctl_format_time(uint64_t realtime_usec, char *buf, size_t len)
{
	time_t t = (time_t)(realtime_usec / 1000000);
	struct tm tm;
	char off[8];
	size_t n;

	if (!localtime_r(&t, &tm) || !(n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, len, "?");
		return;
	}
	/* strftime's %z is +0200; ISO 8601 extended form wants +02:00. */
	if (strftime(off, sizeof(off), "%z", &tm) == 5)
		snprintf(buf + n, len - n, "%.3s:%.2s", off, off + 3);
}

static const struct {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
} commands[] = {
	{ "status", ctl_status },
	{ "stats", ctl_stats },
	{ "check", ctl_check },
	{ "explain", ctl_explain },
	{ "capture", ctl_capture },
	{ "set", ctl_set },
};

static int run_command(struct ctl *c, int argc, char **argv)
{
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(argv[0], commands[i].name) == 0) {
			ctl_getopt_reset();
			return commands[i].run(c, argc, argv);
		}
	if (strcmp(argv[0], "help") == 0) {
		ctl_usage(stdout);
		return CTL_OK;
	}
	return ctl_usage_error("unknown command '%s'", argv[0]);
}

/* As pktclassd --version: "pktclassctl VERSION", then the default config. */
static int version(void)
{
	printf("pktclassctl %s\ndefault config: %s\n", PC_VERSION, PC_DEFAULT_CONFIG);
	return CTL_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ "version", no_argument, NULL, CTL_OPT_VERSION },
		{}
	};
	struct ctl c = {};
	int o, stop, r;

	ctl_getopt_reset();
	/* '+': stop at the command; what follows is the command's. */
	while ((o = ctl_getopt(&c, argc, argv, "+", longopts, &stop)) != -1)
		return o == CTL_OPT_VERSION ? version() : ctl_usage_error("unknown option");
	if (stop >= 0)
		return stop;
	if (optind >= argc)
		return ctl_usage_error("missing command");
	r = run_command(&c, argc - optind, argv + optind);
	pc_config_freep(&c.cfg);
	return r;
}
