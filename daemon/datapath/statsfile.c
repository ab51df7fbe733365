/* SPDX-License-Identifier: GPL-2.0-only */
/* statsfile.c - struct pc_stats to a line-based text file and back
 * (statsfile.h has the format). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/statsfile.h"
#include "lib/util.h"

#define MAGIC "pktclassd-stats 1"
#define SLOT_CAP_MAX (1u << 26)

/* The rest of a line: no control bytes, so that one line stays one. */
static void print_text(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s ", key);
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
	fputc('\n', f);
}

static void print_counts(FILE *f, const struct pc_stats *s)
{
	for (size_t a = 0; a < s->natt; a++) {
		const struct pc_stats_attach *at = &s->att[a];

		fprintf(f, "att %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %s\n",
			at->slot, at->info.ifindex, at->info.hook, at->info.flags, at->info.prog_id,
			at->info.ifname);
		for (uint32_t i = 0; i < s->slot_cap; i++)
			if (at->by_slot[i].packets || at->by_slot[i].bytes)
				fprintf(f, "cnt %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu64 "\n", at->slot,
					i, at->by_slot[i].packets, at->by_slot[i].bytes);
	}
}

int pc_statsfile_print(FILE *f, const struct pc_stats *s, const struct pc_statsfile *sf)
{
	const struct pc_meta *m = &s->meta;

	fprintf(f, MAGIC "\nwritten %" PRIu64 " %" PRIu32 " %s\n", sf->written_usec, sf->pid,
		sf->running ? "running" : "stopped");
	fprintf(f, "daemon %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", sf->daemon.reloads_ok,
		sf->daemon.reloads_failed, sf->daemon.log_suppressed, sf->daemon.log_suppressed_daemon);
	fprintf(f, "meta %" PRIu32 " %" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32
		" %" PRIu32 "\n", m->generation, (uint64_t)m->loaded_realtime_usec, m->nrules,
		m->nclasses, s->slot_cap, m->flags, m->pid);
	print_text(f, "config", m->config_path);
	print_text(f, "status", m->status);
	for (uint32_t i = 0; i < s->slot_cap; i++) {
		const struct pc_slot_name *sl = &s->slots[i];

		if (sl->kind != PC_SLOT_FREE)
			fprintf(f, "slot %" PRIu32 " %" PRIu32 " %" PRIu32 " %s %s\n", i, sl->kind,
				sl->rule_index, sl->name, sl->class_name[0] ? sl->class_name : "-");
	}
	print_counts(f, s);
	for (size_t i = 0; i < sf->nsets; i++)
		fprintf(f, "set %s %s %" PRIu64 "\n", sf->sets[i].name, sf->sets[i].family,
			sf->sets[i].elements);
	fputs("end\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---- reading ------------------------------------------------------------------- */

struct reader {
	struct pc_stats *s;
	struct pc_statsfile *sf;
	bool meta, end;
};

static int copy_rest(char *dst, size_t size, const char *line, size_t keylen)
{
	const char *p = line + keylen;

	if (*p == ' ')
		p++;
	strscpy_ok(dst, size, p);
	return 0;
}

static int read_meta(struct reader *rd, const char *line)
{
	struct pc_stats *s = rd->s;
	struct pc_meta *m = &s->meta;
	uint64_t loaded;
	uint32_t cap;

	if (sscanf(line, "meta %" SCNu32 " %" SCNu64 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32
		   " %" SCNu32, &m->generation, &loaded, &m->nrules, &m->nclasses, &cap, &m->flags,
		   &m->pid) != 7 || rd->meta || cap > SLOT_CAP_MAX)
		return -EPROTO;
	m->loaded_realtime_usec = loaded;
	m->magic = PC_META_MAGIC;
	m->abi_version = PC_ABI_VERSION;
	m->slot_cap = cap;
	s->slot_cap = cap;
	s->slots = calloc(cap ? cap : 1, sizeof(*s->slots));
	rd->meta = true;
	return s->slots ? 0 : -ENOMEM;
}

static int read_slot(struct reader *rd, const char *line)
{
	char name[PC_NAME_MAX], cls[PC_NAME_MAX];
	struct pc_slot_name *sl;
	uint32_t i, kind, idx;

	if (!rd->meta || sscanf(line, "slot %" SCNu32 " %" SCNu32 " %" SCNu32 " %63s %63s", &i, &kind,
				&idx, name, cls) != 5 || i >= rd->s->slot_cap)
		return -EPROTO;
	sl = &rd->s->slots[i];
	sl->kind = kind;
	sl->rule_index = idx;
	strscpy_ok(sl->name, sizeof(sl->name), name);
	strscpy_ok(sl->class_name, sizeof(sl->class_name), strcmp(cls, "-") ? cls : "");
	return 0;
}

static int read_att(struct reader *rd, const char *line)
{
	struct pc_stats *s = rd->s;
	struct pc_stats_attach *a;
	char ifname[16];
	void *p;

	if (!rd->meta)
		return -EPROTO;
	p = reallocarray(s->att, s->natt + 1, sizeof(*s->att));
	if (!p)
		return -ENOMEM;
	s->att = p;
	a = &s->att[s->natt];
	*a = (struct pc_stats_attach){};
	if (sscanf(line, "att %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %15s",
		   &a->slot, &a->info.ifindex, &a->info.hook, &a->info.flags, &a->info.prog_id,
		   ifname) != 6)
		return -EPROTO;
	strscpy_ok(a->info.ifname, sizeof(a->info.ifname), ifname);
	a->by_slot = calloc(s->slot_cap ? s->slot_cap : 1, sizeof(*a->by_slot));
	if (!a->by_slot)
		return -ENOMEM;
	s->natt++;
	return 0;
}

static int read_cnt(struct reader *rd, const char *line)
{
	struct pc_stats *s = rd->s;
	uint32_t att, slot;
	uint64_t p, b;

	if (sscanf(line, "cnt %" SCNu32 " %" SCNu32 " %" SCNu64 " %" SCNu64, &att, &slot, &p, &b) != 4 ||
	    s->natt == 0 || s->att[s->natt - 1].slot != att || slot >= s->slot_cap)
		return -EPROTO;
	s->att[s->natt - 1].by_slot[slot] = (struct pc_count){ .packets = p, .bytes = b };
	return 0;
}

static int read_set(struct reader *rd, const char *line)
{
	struct pc_statsfile *sf = rd->sf;
	struct pc_set_count *v;
	char name[PC_NAME_MAX], family[PC_SET_FAMILY_MAX];
	uint64_t n;

	if (sscanf(line, "set %63s %7s %" SCNu64, name, family, &n) != 3)
		return -EPROTO;
	v = reallocarray(sf->sets, sf->nsets + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	sf->sets = v;
	strscpy_ok(v[sf->nsets].name, sizeof(v->name), name);
	strscpy_ok(v[sf->nsets].family, sizeof(v->family), family);
	v[sf->nsets++].elements = n;
	return 0;
}

static int read_written(struct reader *rd, const char *line)
{
	struct pc_statsfile *sf = rd->sf;
	char state[16];

	if (sscanf(line, "written %" SCNu64 " %" SCNu32 " %15s", &sf->written_usec, &sf->pid,
		   state) != 3)
		return -EPROTO;
	sf->running = strcmp(state, "running") == 0;
	return sf->running || strcmp(state, "stopped") == 0 ? 0 : -EPROTO;
}

static int read_line(struct reader *rd, const char *line)
{
	struct pc_statsfile *sf = rd->sf;
	struct pc_meta *m = &rd->s->meta;

	if (rd->end)
		return -EPROTO;
	if (!strncmp(line, "written ", 8))
		return read_written(rd, line);
	if (!strncmp(line, "daemon ", 7))
		return sscanf(line, "daemon %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
			      &sf->daemon.reloads_ok, &sf->daemon.reloads_failed,
			      &sf->daemon.log_suppressed, &sf->daemon.log_suppressed_daemon) == 4
			       ? 0 : -EPROTO;
	if (!strncmp(line, "meta ", 5))
		return read_meta(rd, line);
	if (!strncmp(line, "config", 6))
		return copy_rest(m->config_path, sizeof(m->config_path), line, 6);
	if (!strncmp(line, "status", 6))
		return copy_rest(m->status, sizeof(m->status), line, 6);
	if (!strncmp(line, "slot ", 5))
		return read_slot(rd, line);
	if (!strncmp(line, "att ", 4))
		return read_att(rd, line);
	if (!strncmp(line, "cnt ", 4))
		return read_cnt(rd, line);
	if (!strncmp(line, "set ", 4))
		return read_set(rd, line);
	if (!strcmp(line, "end"))
		return rd->end = true, 0;
	return 0; /* a line of a later version */
}

static int read_stream(FILE *f, struct reader *rd)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool first = true;
	int r;

	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (first && strcmp(line, MAGIC) != 0)
			return -EPROTO;
		r = first ? 0 : read_line(rd, line);
		if (r < 0)
			return r;
		first = false;
	}
	/* a file cut short (it never is: it is renamed into place whole) */
	return rd->meta && rd->end ? 0 : -EPROTO;
}

int pc_statsfile_read(const char *path, struct pc_stats **ret, struct pc_statsfile *sf)
{
	_cleanup_(pc_stats_freep) struct pc_stats *s = calloc(1, sizeof(*s));
	_cleanup_fclose_ FILE *f = NULL;
	struct reader rd;
	int r;

	*sf = (struct pc_statsfile){};
	if (!s)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	rd = (struct reader){ .s = s, .sf = sf };
	r = read_stream(f, &rd);
	if (r >= 0)
		r = pc_stats_sum_totals(s);
	if (r < 0) {
		pc_statsfile_clear(sf);
		return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

void pc_statsfile_clear(struct pc_statsfile *sf)
{
	free(sf->sets);
	*sf = (struct pc_statsfile){};
}
