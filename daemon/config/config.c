/* SPDX-License-Identifier: GPL-2.0-only */
/* config.c - load a YAML config, check it against the schema
 * (daemon/man/pktclassd.yaml.5) and fill a struct pc_config; every problem
 * becomes a diag. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pktclass.h"
#include "config/internal.h"
#include "lib/readall.h"
#include "lib/util.h"

#define PC_CONFIG_MAX_SIZE (64u << 20)

/* ---- settings ---------------------------------------------------------------- */
static void v_duration(struct pc_vctx *v, const struct pc_ynode *n, uint64_t *ret)
{
	const char *s = pc_v_str(v, n, "settings.stats_interval");

	if (s && pc_parse_duration_usec(s, ret) < 0)
		pc_v_err(v, n, "settings.stats_interval: invalid duration \"%s\" (a number with "
			 "unit ms, s, m or h, or \"0\")", s);
}

static void v_pin_path(struct pc_vctx *v, const struct pc_ynode *n, char *buf, size_t size)
{
	const char *s = pc_v_str(v, n, "settings.pin_path");

	if (!s)
		return;
	if (s[0] != '/')
		pc_v_err(v, n, "settings.pin_path: \"%s\" is not an absolute path", s);
	else if (strlen(s) >= size)
		pc_v_err(v, n, "settings.pin_path: longer than %zu characters", size - 1);
	else
		strcpy(buf, s);
}

/* An absolute file name (not a directory); the node exporter's textfile
 * collector reads only *.prom files, so another name is worth a warning. */
static void v_metrics_file(struct pc_vctx *v, const struct pc_ynode *n, char *buf, size_t size)
{
	const char *s = pc_v_str(v, n, "settings.metrics_file");
	size_t len;

	if (!s)
		return;
	len = strlen(s);
	if (s[0] != '/')
		pc_v_err(v, n, "settings.metrics_file: \"%s\" is not an absolute path", s);
	else if (s[len - 1] == '/')
		pc_v_err(v, n, "settings.metrics_file: \"%s\" names a directory, not a file", s);
	else if (len >= size)
		pc_v_err(v, n, "settings.metrics_file: longer than %zu characters", size - 1);
	else {
		strcpy(buf, s);
		if (len < 5 || strcmp(s + len - 5, ".prom") != 0)
			pc_v_warn(v, n, "settings.metrics_file: \"%s\" does not end in .prom: the "
				  "node exporter's textfile collector reads only *.prom files", s);
	}
}

static void v_settings(struct pc_vctx *v, const struct pc_ynode *n, struct pc_settings *s)
{
	struct pc_vfield f[] = {
		PC_VF("stats_interval"), PC_VF("pin_path"), PC_VF("log_rate"),
		PC_VF("keep_on_exit"), PC_VF("metrics_file"),
	};

	if (!pc_v_map(v, n, "settings", f, ELEMENTSOF(f)))
		return;
	if (f[0].val)
		v_duration(v, f[0].val, &s->stats_interval_usec);
	if (f[1].val)
		v_pin_path(v, f[1].val, s->pin_path, sizeof(s->pin_path));
	if (f[2].val)
		pc_v_u32(v, f[2].val, "settings.log_rate", &s->log_rate);
	if (f[3].val)
		pc_v_bool(v, f[3].val, "settings.keep_on_exit", &s->keep_on_exit);
	if (f[4].val)
		v_metrics_file(v, f[4].val, s->metrics_file, sizeof(s->metrics_file));
}

/* ---- interfaces -------------------------------------------------------------- */
static const char *const hook_names[PC_HOOK_MAX] = {
	[PC_HOOK_INGRESS] = "ingress", [PC_HOOK_EGRESS] = "egress", [PC_HOOK_MONITOR] = "monitor",
};

static void v_hook(struct pc_vctx *v, const struct pc_ynode *n, unsigned *hooks)
{
	const char *s = pc_v_str(v, n, "hooks");

	if (!s)
		return;
	for (unsigned h = 0; h < PC_HOOK_MAX; h++) {
		if (strcmp(s, hook_names[h]))
			continue;
		if (*hooks & (1u << h))
			pc_v_err(v, n, "hooks: \"%s\" given twice", s);
		*hooks |= 1u << h;
		return;
	}
	pc_v_err(v, n, "hooks: unknown hook \"%s\" (ingress, egress or monitor)", s);
}

static void v_iface_name(struct pc_vctx *v, const struct pc_ynode *iface,
			 const struct pc_ynode *n, struct pc_iface_cfg *ic)
{
	struct pc_pos first;
	char where[PC_METRICS_PATH_MAX + 32];
	const char *s;
	int r;

	if (!n) {
		pc_v_err(v, iface, "interface: missing required key \"name\"");
		return;
	}
	s = pc_v_str(v, n, "name");
	if (!s)
		return;
	r = pc_cfg_ifname_check(s, true);
	if (r == -ENAMETOOLONG)
		pc_v_err(v, n, "name: interface name \"%s\" is longer than %u characters", s,
			 PC_IFNAME_MAX - 1);
	else if (r < 0)
		pc_v_err(v, n, "name: invalid interface name \"%s\"", s);
	else if ((r = pc_strset_add(&v->iface_names, s, n->pos, &first)) > 0)
		pc_v_err(v, n, "duplicate interface \"%s\" (first at %s)", s,
			 pc_v_where(v, first, n, where, sizeof(where)));
	else if (r < 0)
		v->oom = true;
	else
		strcpy(ic->name, s);
}

static void v_iface(struct pc_vctx *v, const struct pc_ynode *n, struct pc_iface_cfg *ic)
{
	struct pc_vfield f[] = { PC_VF("name"), PC_VF("hooks") };
	struct pc_vlist l;

	ic->pos = n->pos;
	if (!pc_v_map(v, n, "interface", f, ELEMENTSOF(f)))
		return;
	v_iface_name(v, n, f[0].val, ic);
	if (!f[1].val) {
		pc_v_err(v, n, "interface: missing required key \"hooks\"");
		return;
	}
	if (!pc_v_list(v, f[1].val, "hooks", &l))
		return;
	for (size_t i = 0; i < l.n; i++)
		v_hook(v, pc_vlist_at(&l, i), &ic->hooks);
}

void pc_v_interfaces(struct pc_vctx *v, const struct pc_ynode *n)
{
	struct pc_config *c = v->c;
	struct pc_iface_cfg *p;

	if (!pc_v_seq(v, n, "interfaces") || n->kind != PC_Y_SEQ || n->n == 0)
		return;
	p = reallocarray(c->ifaces, c->n_ifaces + n->n, sizeof(*c->ifaces));
	if (!p) {
		v->oom = true;
		return;
	}
	c->ifaces = p;
	memset(p + c->n_ifaces, 0, n->n * sizeof(*p));
	for (size_t i = 0; i < n->n; i++)
		v_iface(v, n->items[i], &p[c->n_ifaces + i]);
	c->n_ifaces += n->n;
}

/* ---- classes ----------------------------------------------------------------- */
static void v_class(struct pc_vctx *v, const struct pc_ynode *n, struct pc_class_cfg *cc)
{
	struct pc_vfield f[] = { PC_VF("name"), PC_VF("description") };
	struct pc_pos first;
	const char *s;
	int r;

	cc->pos = n->pos;
	if (!pc_v_map(v, n, "class", f, ELEMENTSOF(f)))
		return;
	if (!f[0].val)
		pc_v_err(v, n, "class: missing required key \"name\"");
	else if (pc_v_name(v, f[0].val, "name", cc->name)) {
		r = pc_strset_add(&v->class_names, f[0].val->str, f[0].val->pos, &first);
		if (r > 0)
			pc_v_err(v, f[0].val, "duplicate class \"%s\" (first at line %u)",
				 cc->name, first.line);
		else if (r < 0)
			v->oom = true;
	}
	if (!f[1].val || !(s = pc_v_str(v, f[1].val, "description")))
		return;
	cc->description = strdup(s);
	if (!cc->description)
		v->oom = true;
}

static void v_classes(struct pc_vctx *v, const struct pc_ynode *n, struct pc_config *c)
{
	if (!pc_v_seq(v, n, "classes") || n->kind != PC_Y_SEQ || n->n == 0)
		return;
	c->classes = calloc(n->n, sizeof(*c->classes));
	if (!c->classes) {
		v->oom = true;
		return;
	}
	c->n_classes = n->n;
	for (size_t i = 0; i < n->n; i++)
		v_class(v, n->items[i], &c->classes[i]);
}

/* ---- default, version, top level ------------------------------------------- */
static void v_default(struct pc_vctx *v, const struct pc_ynode *n, struct pc_config *c)
{
	struct pc_vfield f[] = { PC_VF("class"), PC_VF("action") };
	const char *s;

	if (!pc_v_map(v, n, "default", f, ELEMENTSOF(f)))
		return;
	if (f[0].val)
		pc_v_name(v, f[0].val, "default.class", c->default_class);
	if (!f[1].val || !(s = pc_v_str(v, f[1].val, "default.action")))
		return;
	if (!strcmp(s, "pass"))
		c->default_action = PC_ACT_PASS;
	else if (!strcmp(s, "drop"))
		c->default_action = PC_ACT_DROP;
	else
		pc_v_err(v, f[1].val, "default.action: expected pass or drop, got \"%s\"", s);
}

static void v_version(struct pc_vctx *v, const struct pc_ynode *root, const struct pc_ynode *n)
{
	const char *s;

	if (!n) {
		pc_v_err(v, root, "missing required key \"version\"");
		return;
	}
	s = pc_v_str(v, n, "version");
	if (s && (n->quoted || strcmp(s, "1")))
		pc_v_err(v, n, "version: unsupported version %s%s%s (only 1 is supported)",
			 n->quoted ? "\"" : "", s, n->quoted ? "\"" : "");
}

/* The sections that included files have too: each of them over the main
 * file's then the included files' (a set must be known before a rule of
 * any file refers to it). */
static void v_merged(struct pc_vctx *v, const struct pc_vdoc *main, const struct pc_vdocs *inc)
{
	if (main->interfaces)
		pc_v_interfaces(v, main->interfaces);
	for (size_t i = 0; i < inc->n; i++)
		if (inc->v[i].interfaces)
			pc_v_interfaces(v, inc->v[i].interfaces);
	/* the sets before the rules, which refer to them */
	if (main->sets)
		pc_v_sets(v, main->sets);
	for (size_t i = 0; i < inc->n; i++)
		if (inc->v[i].sets)
			pc_v_sets(v, inc->v[i].sets);
	if (main->rules)
		pc_v_rules(v, main->rules);
	for (size_t i = 0; i < inc->n; i++)
		if (inc->v[i].rules)
			pc_v_rules(v, inc->v[i].rules);
}

enum { K_VERSION, K_SETTINGS, K_INTERFACES, K_CLASSES, K_RULES, K_DEFAULT, K_INCLUDE, K_SETS, K_N };

static void v_root(struct pc_vctx *v, const struct pc_ynode *root)
{
	struct pc_vfield f[K_N] = {
		PC_VF("version"), PC_VF("settings"), PC_VF("interfaces"),
		PC_VF("classes"), PC_VF("rules"), PC_VF("default"), PC_VF("include"), PC_VF("sets"),
	};
	struct pc_vdocs inc = {};
	struct pc_vdoc main;

	if (!root || pc_ynode_is_null(root)) {
		pc_v_err(v, NULL, "empty configuration; \"version: 1\" is required");
		return;
	}
	if (root->kind != PC_Y_MAP) {
		pc_v_err(v, root, "configuration: expected a mapping, got %s", pc_ykind_name(root));
		return;
	}
	pc_v_map(v, root, "configuration", f, ELEMENTSOF(f));
	v_version(v, root, f[K_VERSION].val);
	if (f[K_SETTINGS].val)
		v_settings(v, f[K_SETTINGS].val, &v->c->settings);
	if (f[K_CLASSES].val)
		v_classes(v, f[K_CLASSES].val, v->c);
	if (f[K_INCLUDE].val)
		pc_v_includes(v, f[K_INCLUDE].val, &inc);
	main = (struct pc_vdoc){ .interfaces = f[K_INTERFACES].val, .rules = f[K_RULES].val,
				.sets = f[K_SETS].val };
	v_merged(v, &main, &inc);
	if (f[K_DEFAULT].val)
		v_default(v, f[K_DEFAULT].val, v->c);
	pc_vdocs_free(&inc);
}

/* ---- entry points ------------------------------------------------------------ */
static struct pc_config *config_new(const char *name)
{
	struct pc_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->path = strdup(name ? name : "");
	if (!c->path) {
		free(c);
		return NULL;
	}
	c->settings.stats_interval_usec = 60 * 1000000ull;
	strcpy(c->settings.pin_path, PC_DEFAULT_PIN_PATH);
	c->settings.log_rate = 20;
	strcpy(c->default_class, "default");
	c->default_action = PC_ACT_PASS;
	return c;
}

void pc_config_free(struct pc_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_rules; i++)
		pc_match_free(&c->rules[i].match);
	free(c->rules);
	for (size_t i = 0; i < c->n_sets; i++)
		pc_set_cfg_free(&c->sets[i]);
	free(c->sets);
	for (size_t i = 0; i < c->n_classes; i++)
		free(c->classes[i].description);
	free(c->classes);
	free(c->ifaces);
	for (size_t i = 0; i < c->n_includes; i++)
		free(c->includes[i]);
	free(c->includes);
	free(c->path);
	free(c);
}

static void vctx_done(struct pc_vctx *v)
{
	pc_strset_free(&v->rule_names);
	pc_strset_free(&v->class_names);
	pc_strset_free(&v->iface_names);
	pc_strset_free(&v->iface_patterns);
	pc_strset_free(&v->set_names);
}

static void ydoc_freep(struct pc_ydoc **d)
{
	pc_ydoc_free(*d);
}

int pc_config_parse(const char *name, const char *buf, size_t len,
		    struct pc_config **ret, struct pc_diags *diags)
{
	_cleanup_(pc_config_freep) struct pc_config *c = NULL;
	_cleanup_(ydoc_freep) struct pc_ydoc *doc = NULL;
	size_t nerrors = diags->nerrors;
	struct pc_vctx v = { .d = diags };
	int r;

	if (!diags->file && name)
		diags->file = strdup(name);
	r = pc_ydoc_parse(buf, len, &doc, diags);
	if (r < 0) {
		pc_diags_sort(diags);
		return r;
	}
	c = config_new(name);
	if (!c)
		return -ENOMEM;
	v.c = c;
	v_root(&v, doc->root);
	vctx_done(&v);
	pc_diags_sort(diags);
	if (v.oom)
		return -ENOMEM;
	if (diags->nerrors > nerrors)
		return -EINVAL;
	*ret = c;
	c = NULL;
	return 0;
}

int pc_config_load_fd(int fd, const char *path, struct pc_config **ret, struct pc_diags *diags)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	if (!diags->file)
		diags->file = strdup(path);
	r = pc_read_all(fd, PC_CONFIG_MAX_SIZE, &buf, &len);
	if (r < 0) {
		if (pc_diags_add(diags, PC_SEV_ERROR, (struct pc_pos){}, "cannot read: %s",
				 strerror(-r)) < 0)
			return -ENOMEM;
		return r;
	}
	return pc_config_parse(path, buf, len, ret, diags);
}

int pc_config_load(const char *path, struct pc_config **ret, struct pc_diags *diags)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!diags->file)
		diags->file = strdup(path);
	r = pc_config_open(path, &fd, diags);
	if (r < 0)
		return r;
	return pc_config_load_fd(fd, path, ret, diags);
}
