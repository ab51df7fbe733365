/* SPDX-License-Identifier: GPL-2.0-only */
/* config.h - the YAML configuration, parsed and validated (pktclassd.yaml(5)).
 * The parser owns no policy beyond the schema: compile.c turns a config
 * into classifier tables. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buildconf.h"
#include "lib/diag.h"
#include "pktclass.h"

#define PC_IFNAME_MAX 16 /* IFNAMSIZ */
#define PC_RULE_NAME_MAX 63
#define PC_MAX_RULES 200000
#define PC_MAX_IFACE_PATTERNS 32 /* distinct `match.iface` patterns */
#define PC_METRICS_PATH_MAX 1024
#define PC_MAX_SETS 32768        /* sets in one config (a directory block) */

struct pc_range {
	uint32_t lo, hi;
	struct pc_pos pos;
};

struct pc_ranges {
	struct pc_range *v;
	size_t n; /* 0 = key absent = any */
};

struct pc_prefix {
	uint8_t family;    /* 4 or 6 */
	uint8_t len;       /* prefix length */
	uint8_t addr[16];  /* network byte order; IPv4 in the first 4 bytes;
			    * host bits cleared (a warning says so) */
	struct pc_pos pos;
};

struct pc_prefixes {
	struct pc_prefix *v;
	size_t n;
};

/* References to sets (indexes into pc_config.sets), with their positions. */
struct pc_setrefs {
	uint32_t *v;
	struct pc_pos *pos;
	size_t n;
};

/* A growable array of set elements. */
struct pc_set_elems {
	struct pc_set_elem *v;
	size_t n, cap;
};

struct pc_set_cfg {
	char name[PC_RULE_NAME_MAX + 1];
	struct pc_pos pos;          /* of its name */
	uint32_t type;              /* PC_SET_PREFIX or PC_SET_PORT */
	bool dynamic;
	char *file;                 /* resolved against the config's directory;
				     * NULL when absent */
	struct pc_set_elems elems;  /* inline and file elements, sorted, no
				     * duplicates, flags PC_SE_F_CONFIG */
};

struct pc_strs {
	char **v;
	struct pc_pos *pos;
	size_t n;
};

enum pc_dir_match {
	PC_MATCH_DIR_ANY = -1, /* else PC_DIR_INGRESS / PC_DIR_EGRESS */
};

struct pc_match {
	struct pc_strs iface;       /* names or fnmatch globs */
	int direction;              /* PC_MATCH_DIR_ANY or PC_DIR_* */
	struct pc_ranges vlan;      /* 0..4095 */
	struct pc_ranges l3;        /* ethertypes, lo == hi */
	struct pc_prefixes src, dst;
	struct pc_setrefs src_sets, dst_sets; /* "@NAME" items of src, dst */
	struct pc_ranges proto;     /* 0..255, lo == hi */
	struct pc_ranges src_port, dst_port;
	struct pc_setrefs sport_sets, dport_sets;
	bool has_tcp_flags;
	uint8_t tcp_flags_mask;     /* flags named, with or without '!' */
	uint8_t tcp_flags_value;    /* flags named without '!' */
	struct pc_ranges dscp;      /* 0..63, lo == hi */
	struct pc_ranges length;    /* one range */
};

struct pc_rule {
	char name[PC_RULE_NAME_MAX + 1];
	struct pc_pos pos;          /* of the rule's mapping */
	struct pc_match match;
	int action;                 /* PC_ACT_PASS / PC_ACT_DROP / PC_ACT_REDIRECT */
	char redirect[PC_IFNAME_MAX];
	bool set_mark, set_priority, set_dscp;
	uint32_t mark, priority;
	uint8_t dscp;
	char class_name[PC_RULE_NAME_MAX + 1]; /* the rule's name when absent */
	bool log;
};

struct pc_iface_cfg {
	char name[PC_IFNAME_MAX];   /* name or glob */
	unsigned hooks;             /* bit (1 << PC_HOOK_*) */
	struct pc_pos pos;
};

struct pc_class_cfg {
	char name[PC_RULE_NAME_MAX + 1];
	char *description;
	struct pc_pos pos;
};

struct pc_settings {
	uint64_t stats_interval_usec; /* 0 = disabled; default 60 s */
	char pin_path[256];           /* default /sys/fs/bpf/pktclassd */
	uint32_t log_rate;            /* default 20 */
	bool keep_on_exit;            /* default false */
	char metrics_file[PC_METRICS_PATH_MAX]; /* "" = none: no metrics file */
};

struct pc_config {
	char *path;
	struct pc_settings settings;
	struct pc_iface_cfg *ifaces;
	size_t n_ifaces;
	struct pc_class_cfg *classes;
	size_t n_classes;
	struct pc_rule *rules;
	size_t n_rules;
	struct pc_set_cfg *sets;    /* in config order */
	size_t n_sets;
	char default_class[PC_RULE_NAME_MAX + 1]; /* default "default" */
	int default_action;                        /* PC_ACT_PASS or _DROP */
	char **includes;            /* the files `include:` read, in that order;
				     * positions in them point at these names */
	size_t n_includes;
};

#define PC_DEFAULT_PIN_PATH "/sys/fs/bpf/pktclassd"
/* PC_DEFAULT_CONFIG (SYSCONFDIR/pktclassd/pktclassd.yaml) comes from meson: lib/buildconf.h. */

/* Parse and validate. Every problem found goes to diags.  Returns 0 with
 * *ret set when there is no error (warnings allowed), -EINVAL when diags
 * holds errors, or another negative errno (file unreadable: also a diag).
 * pc_config_load() opens path with pc_config_open(); it does not judge
 * who may write the file (pc_config_check_perms() does). */
int pc_config_load(const char *path, struct pc_config **ret, struct pc_diags *diags);
/* The same from fd, open on path (the name used in messages). */
int pc_config_load_fd(int fd, const char *path, struct pc_config **ret, struct pc_diags *diags);
int pc_config_parse(const char *name, const char *buf, size_t len,
		    struct pc_config **ret, struct pc_diags *diags);
void pc_config_free(struct pc_config *c);
static inline void pc_config_freep(struct pc_config **c) { if (*c) pc_config_free(*c); }

/* Open a config file for reading, once: anything but a regular file
 * (FIFO, directory, device, socket) is refused with the diag "not a
 * regular file", without opening it and without blocking.  0 with *ret_fd,
 * or -errno with one diag at no position. */
int pc_config_open(const char *path, int *ret_fd, struct pc_diags *diags);

/* Whose hands the config open on fd (opened from path) is in: the file
 * (by fstat on fd) must be owned by root and not writable by others or by
 * a group other than root; each directory from / down to it, on the path
 * as written and on the path it resolves to, must be owned by root and
 * not writable by others or a non-root group unless it is sticky; a
 * symbolic link on the way must be root's.  Where euid (the caller, not
 * root) stands in for root, the result is a warning that the daemon
 * refuses it instead of an error.  0, or -EPERM with the diags. */
int pc_config_check_perms(int fd, const char *path, uid_t euid, struct pc_diags *diags);

/* Helpers shared with pktclassctl explain: parse one value as the config
 * would.  0 or -EINVAL. */
int pc_parse_prefix(const char *s, struct pc_prefix *ret);
int pc_parse_proto(const char *s, uint32_t *ret);
/* The config's name of an IP protocol ("tcp"), or its number written to buf. */
const char *pc_proto_name(uint32_t proto, char *buf, size_t len);
int pc_parse_duration_usec(const char *s, uint64_t *ret);

/* ---- set elements (sets.c) ------------------------------------------------ */
/* One element of a set of type (PC_SET_*), as the config writes it: a prefix
 * or bare address, or a port or "LO-HI".  0, -EINVAL (not an element),
 * -EDOM (prefix length), -ERANGE (port out of range or LO > HI: -EDOM).
 * *host_bits: bits past the prefix length were set (now cleared). */
int pc_set_elem_parse(uint32_t type, const char *s, struct pc_set_elem *ret, bool *host_bits);
/* What is wrong with s, for an error message ("invalid prefix ..."). */
const char *pc_set_elem_error(uint32_t type, int r);
/* The element as the config writes it. */
const char *pc_set_elem_str(const struct pc_set_elem *e, char *buf, size_t len);
/* Order of elements: family, address, length (ports: lo, hi). */
int pc_set_elem_cmp(const struct pc_set_elem *a, const struct pc_set_elem *b);
/* The first of v[0 .. n) (sorted) not below k. */
size_t pc_set_elem_lower_bound(const struct pc_set_elem *v, size_t n, const struct pc_set_elem *k);
int pc_set_elems_add(struct pc_set_elems *s, const struct pc_set_elem *e);
/* Sort, and merge duplicates (their flags or-ed). */
void pc_set_elems_normalize(struct pc_set_elems *s);
void pc_set_elems_clear(struct pc_set_elems *s);
/* Elements of an element file's text (one a line, '#' comments), with flags;
 * each bad element an error at file:LINE:COLUMN (the first
 * PC_SET_FILE_ERRORS of them, then one that counts the rest).  0, -EINVAL
 * (errors), -ENOMEM. */
#define PC_SET_FILE_ERRORS 20
int pc_set_parse_text(uint32_t type, const char *file, const char *buf, size_t len,
		      uint8_t flags, struct pc_set_elems *out, struct pc_diags *diags);
/* The name of a set type ("prefix", "port"). */
const char *pc_set_type_name(uint32_t type);
const struct pc_set_cfg *pc_config_find_set(const struct pc_config *c, const char *name);
