/* SPDX-License-Identifier: GPL-2.0-only */
/* snapshot.c - the counters by name in a text file, for a stop and start
 * of the daemon (a clean stop removes the pins, and the counters with
 * them).
 *
 *   pktclassd-counters 1
 *   att IFNAME HOOK              one per published attachment
 *   rule|class|reserved NAME PACKETS BYTES  its non-zero slots
 *
 * Names are those of the config ([A-Za-z0-9_.-]), or "(default)",
 * "(malformed)", "(would drop)" (with a space: the rest of the line up to
 * the two numbers); interface names have no white space.  A
 * restore seeds the counter arrays of a generation that has not gone live
 * in a new state, by (interface, hook) and (kind, name); what the new
 * config or the interfaces present do not have is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>

#include "datapath/internal.h"

#define SNAP_MAGIC "pktclassd-counters 1"

static const char *const kind_words[] = {
	[PC_SLOT_RULE] = "rule", [PC_SLOT_CLASS] = "class", [PC_SLOT_RESERVED] = "reserved",
};

static const char *kind_word(uint32_t kind)
{
	return kind < ELEMENTSOF(kind_words) ? kind_words[kind] : NULL;
}

/* The kind of a word, or PC_SLOT_FREE. */
static uint32_t word_kind(const char *w)
{
	for (uint32_t k = 0; k < ELEMENTSOF(kind_words); k++)
		if (kind_words[k] && strcmp(kind_words[k], w) == 0)
			return k;
	return PC_SLOT_FREE;
}

/* One attachment's named, non-zero slots. */
static int save_att(struct pc_dp *dp, FILE *f, uint32_t a)
{
	_cleanup_free_ struct pc_cnt_chunk *v = calloc(dp->ncpus, sizeof(*v));
	int fd = dp->cs->arr[a];

	if (!v)
		return -ENOMEM;
	fprintf(f, "att %s %u\n", dp->att[a].ifname, dp->att[a].hook);
	for (uint32_t k = 0; k < dp->cs->slot_cap / PC_CNT_CHUNK; k++) {
		if (bpf_map_lookup_elem(fd, &k, v) < 0)
			return -errno;
		for (uint32_t i = 0; i < PC_CNT_CHUNK; i++) {
			uint32_t s = k * PC_CNT_CHUNK + i;
			uint64_t p = 0, b = 0;
			const char *kw = s < dp->mirror_cap ? kind_word(dp->slots[s].kind) : NULL;

			if (!kw)
				continue;
			for (int c = 0; c < dp->ncpus; c++) {
				p += v[c].c[i].packets;
				b += v[c].c[i].bytes;
			}
			if (p || b)
				fprintf(f, "%s %s %" PRIu64 " %" PRIu64 "\n", kw, dp->slots[s].name, p, b);
		}
	}
	return 0;
}

int pc_dp_snapshot_save(struct pc_dp *dp, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	fprintf(f, SNAP_MAGIC "\n");
	for (uint32_t a = 0; r >= 0 && a < dp->natt; a++)
		if (dp->att_pub[a] && a < dp->cs->narr && dp->cs->arr[a] >= 0)
			r = save_att(dp, f, a);
	if (fflush(f) != 0 || ferror(f))
		r = r < 0 ? r : -EIO;
	if (fclose(f) != 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* ---- restore --------------------------------------------------------------- */

/* The attach slot g names for (ifname, hook), or -1. */
static int64_t att_of(const struct pc_dp *dp, const struct pc_gen *g, const char *ifname,
		      uint32_t hook)
{
	for (size_t i = 0; i < g->natt; i++) {
		uint32_t a = g->att[i];

		if (pc_dp_att_in_use(dp, a) && dp->att[a].hook == hook &&
		    strcmp(dp->att[a].ifname, ifname) == 0)
			return a;
	}
	return -1;
}

/* Add to CPU 0's value of slot s: the arrays are not live yet. */
static int seed(struct pc_dp *dp, int fd, uint32_t s, uint64_t p, uint64_t b,
		struct pc_cnt_chunk *v)
{
	uint32_t k = s / PC_CNT_CHUNK;

	if (bpf_map_lookup_elem(fd, &k, v) < 0)
		return -errno;
	v[0].c[s % PC_CNT_CHUNK].packets += p;
	v[0].c[s % PC_CNT_CHUNK].bytes += b;
	return bpf_map_update_elem(fd, &k, v, BPF_EXIST) < 0 ? -errno : 0;
}

struct restore {
	struct pc_dp *dp;
	struct pc_gen *g;
	struct pc_slot_ix *ix;
	struct pc_cnt_chunk *v;
	int fd;            /* the current attachment's array, -1: skip */
	bool dry;          /* only check the lines */
	size_t n;
};

/* "WORD NAME PACKETS BYTES", NAME possibly with spaces. */
static int parse_count(const char *line, char w[16], char name[PC_NAME_MAX], uint64_t *p,
		       uint64_t *b)
{
	const char *end = line + strcspn(line, "\n"), *nb, *np;
	int n;

	if (sscanf(line, "%15s %n", w, &n) != 1)
		return -EBADMSG;
	/* the two numbers are the last two words */
	for (nb = end; nb > line && nb[-1] != ' '; nb--)
		;
	for (np = nb - 1; np > line && np[-1] != ' '; np--)
		;
	if (np <= line + n || np - 1 - (line + n) >= PC_NAME_MAX ||
	    sscanf(np, "%" SCNu64 " %" SCNu64, p, b) != 2)
		return -EBADMSG;
	memcpy(name, line + n, np - 1 - (line + n));
	name[np - 1 - (line + n)] = '\0';
	return 0;
}

static int restore_line(struct restore *st, const char *line)
{
	char w[16], name[PC_NAME_MAX];
	uint64_t p, b;
	uint32_t hook;
	int64_t s;

	if (sscanf(line, "att %15s %u", name, &hook) == 2) {
		int64_t a = st->dry ? -1 : att_of(st->dp, st->g, name, hook);

		st->fd = a < 0 ? -1 : pc_cset_array(st->dp, st->g->cs, (uint32_t)a);
		return st->fd == -ENOMEM ? -ENOMEM : 0;
	}
	if (parse_count(line, w, name, &p, &b) < 0 || word_kind(w) == PC_SLOT_FREE)
		return -EBADMSG;
	if (st->fd < 0)
		return 0;
	s = pc_dp_slot_ix_find(st->dp, st->ix, word_kind(w), name);
	if (s < 0 || (uint32_t)s >= st->g->cs->slot_cap)
		return 0;
	st->n++;
	return seed(st->dp, st->fd, (uint32_t)s, p, b, st->v);
}

int pc_dp_snapshot_restore(struct pc_dp *dp, struct pc_gen *g, const char *path, size_t *n)
{
	struct restore st = { .dp = dp, .g = g, .fd = -1 };
	char line[256];
	FILE *f;
	int r;

	*n = 0;
	if (dp->adopted || g->live || g->dp != dp)
		return -EBUSY;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	r = fgets(line, sizeof(line), f) && !strncmp(line, SNAP_MAGIC "\n", sizeof(SNAP_MAGIC))
		? 0 : -EBADMSG;
	st.v = calloc(dp->ncpus, sizeof(*st.v));
	if (r >= 0 && !st.v)
		r = -ENOMEM;
	if (r >= 0)
		r = pc_dp_slot_ix_new(dp, &st.ix);
	/* the whole file checked first: a damaged one seeds nothing */
	for (int pass = 0; r >= 0 && pass < 2; pass++) {
		st.dry = pass == 0;
		st.fd = -1;
		rewind(f);
		if (!fgets(line, sizeof(line), f))
			r = -EBADMSG;
		while (r >= 0 && fgets(line, sizeof(line), f))
			r = restore_line(&st, line);
	}
	fclose(f);
	pc_dp_slot_ix_free(st.ix);
	free(st.v);
	*n = st.n;
	return r;
}
