/* SPDX-License-Identifier: GPL-2.0-only */
/* bench-hops.c - what one dependent load from a BPF array costs on this
 * machine, by how much memory the loads range over: the classifier's walk is
 * a chain of such loads (tree nodes, leaf entries, the counter), so this is
 * the price of each, and where it jumps is the cache the tables must fit.
 *
 *   bench-hops [-r REPEAT] [-k ROUNDS] [KIB ...]   (default 256 ... 8192)
 *
 * Per size: a random cycle through the first KIB/64 lines, written into both
 * layouts of bench_hops.bpf.c; then ROUNDS rounds of BPF_PROG_TEST_RUN with
 * REPEAT runs each of bh_none, bh_flat and bh_split in turn (each run goes
 * on from where the last stopped, so every load is one the chain has not
 * touched for a whole cycle).  ns/hop = (program − bh_none) / BH_HOPS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/util.h"
#include "bench_hops.h"
#include "bench_hops.skel.h"

struct hops {
	struct bench_hops *skel;
	int inner[BH_LINES / BH_INNER];
};

static int inner_create(struct hops *h)
{
	int outer = bpf_map__fd(h->skel->maps.split);

	for (uint32_t o = 0; o < BH_LINES / BH_INNER; o++) {
		h->inner[o] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bh_inner", 4, sizeof(struct bh_line),
					     BH_INNER, NULL);
		if (h->inner[o] < 0 || bpf_map_update_elem(outer, &o, &h->inner[o], BPF_ANY) < 0)
			return -errno;
	}
	return 0;
}

static void hops_free(struct hops *h)
{
	for (uint32_t o = 0; o < BH_LINES / BH_INNER; o++)
		if (h->inner[o] >= 0)
			close(h->inner[o]);
	bench_hops__destroy(h->skel);
}

/* Line i links to the next one of a random permutation of 0..n-1. */
static int cycle_write(struct hops *h, uint32_t n)
{
	_cleanup_free_ uint32_t *perm = malloc(n * sizeof(*perm));
	int flat = bpf_map__fd(h->skel->maps.flat);
	uint32_t zero = 0;

	if (!perm)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	srand(1);
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)rand() % (i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint32_t k = 0; k < n; k++) {
		struct bh_line l = { .next = perm[(k + 1) % n] };
		uint32_t i = perm[k], j = i % BH_INNER;

		if (bpf_map_update_elem(flat, &i, &l, BPF_ANY) < 0 ||
		    bpf_map_update_elem(h->inner[i / BH_INNER], &j, &l, BPF_ANY) < 0)
			return -errno;
	}
	return bpf_map_update_elem(bpf_map__fd(h->skel->maps.at), &zero, &perm[0], BPF_ANY) < 0 ?
		       -errno : 0;
}

static int run_ns(int fd, unsigned repeat, double *ns)
{
	uint8_t pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	*ns += o.duration;
	return 0;
}

/* ns per hop of bh_flat and bh_split over a cycle of n lines. */
static int measure(struct hops *h, uint32_t n, unsigned repeat, unsigned rounds, double hop[2])
{
	int fds[3] = { bpf_program__fd(h->skel->progs.bh_none),
		       bpf_program__fd(h->skel->progs.bh_flat),
		       bpf_program__fd(h->skel->progs.bh_split) };
	double ns[3] = { 0 };
	int r = cycle_write(h, n);

	for (unsigned k = 0; r == 0 && k < rounds; k++)
		for (int p = 0; r == 0 && p < 3; p++)
			r = run_ns(fds[p], repeat, &ns[p]);
	if (r < 0)
		return r;
	for (int p = 0; p < 2; p++)
		hop[p] = (ns[p + 1] - ns[0]) / rounds / BH_HOPS;
	return 0;
}

static int run(unsigned repeat, unsigned rounds, char **kib, int nkib)
{
	static const char *const dflt[] = { "256", "512", "1024", "2048", "4096", "8192" };
	struct hops h = { 0 };
	int r;

	memset(h.inner, -1, sizeof(h.inner));
	h.skel = bench_hops__open_and_load();
	if (!h.skel)
		return -errno;
	r = inner_create(&h);
	printf("| KiB | flat array, ns/hop | 32 KiB inner arrays, ns/hop |\n|---|---|---|\n");
	for (int i = 0; r == 0 && i < (nkib ? nkib : (int)ELEMENTSOF(dflt)); i++) {
		unsigned long n = strtoul(nkib ? kib[i] : dflt[i], NULL, 10) * 1024 / 64;
		double hop[2];

		if (n < 2 || n > BH_LINES) {
			r = -EINVAL;
			break;
		}
		r = measure(&h, (uint32_t)n, repeat, rounds, hop);
		if (r == 0)
			printf("| %lu | %.1f | %.1f |\n", n * 64 / 1024, hop[0], hop[1]);
	}
	hops_free(&h);
	return r;
}

int main(int argc, char **argv)
{
	unsigned repeat = 1000, rounds = 30;
	int c, r;

	while ((c = getopt(argc, argv, "r:k:")) != -1) {
		if (c == 'r')
			repeat = (unsigned)atoi(optarg);
		else if (c == 'k')
			rounds = (unsigned)atoi(optarg);
		else
			goto usage;
	}
	if (!repeat || !rounds)
		goto usage;
	r = run(repeat, rounds, argv + optind, argc - optind);
	if (r < 0)
		fprintf(stderr, "bench-hops: %s (sizes are 1..%u KiB)\n", strerror(-r), BH_LINES / 16);
	return r < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: %s [-r REPEAT] [-k ROUNDS] [KIB ...]\n", argv[0]);
	return 2;
}
