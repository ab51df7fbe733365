/* SPDX-License-Identifier: GPL-2.0-only */
/* test-packet-random.c - the packet parser and classifier in BPF against
 * their userspace build, on random and mutated frames (fixed seed).
 *
 * The deterministic, bounded counterpart of tests/fuzz/fuzz-packet.c (which
 * needs clang and libFuzzer): the same check (tests/lib/pktcheck.c) on
 * PC_RANDOM_FRAMES frames (default 20000) from PC_RANDOM_SEED: crafted
 * frames (daemon/lib/pktgen.c) mutated a few times each (bits, bytes, length
 * fields, extension header chains, cuts, extensions), and frames of random
 * bytes behind a plausible L2/L3 start.  Any disagreement is printed with a
 * hex dump of the frame, and fails the test.
 *
 *   test-packet-random --write-corpus DIR   writes the crafted frames, the
 *   fuzzer's seed corpus (tests/fuzz/corpus-packet), and exits.
 *
 * Root only (BPF): exit 77 otherwise, or failure when CI=true. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/pktcheck.h"
#include "lib/pktgen.h"

#include "../lib/privtest.h"
#include "lib/util.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define NCRAFT 64

static uint64_t rs_state;

static uint32_t rnd(void)
{
	rs_state ^= rs_state << 13;
	rs_state ^= rs_state >> 7;
	rs_state ^= rs_state << 17;
	return (uint32_t)(rs_state >> 11);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* ---- crafted frames -------------------------------------------------------- */
struct craft {
	const char *name;
	struct pg_pkt p;
};

static size_t crafted(struct craft *c)
{
	size_t n = 0;
	struct pg_pkt p;

	c[n++] = (struct craft){ "udp-sip", pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 17, 4000, 5060) };
	c[n++] = (struct craft){ "tcp-web-ack", pg_ipv4(IP4(10, 1, 2, 3), IP4(192, 0, 2, 9), 6, 40000, 443) };
	c[n - 1].p.tcp_flags = 0x10;
	c[n++] = (struct craft){ "tcp-syn", pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 1, 9, 9), 6, 40000, 8080) };
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 1, 9, 9), 17, 53, 5061);
	p.ip_opts = 12;
	p.dscp = 46;
	p.ecn = 3;
	c[n++] = (struct craft){ "udp-options-ef", p };
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 1, 9, 9), 17, 53, 5061);
	p.frag_off = 185;
	c[n++] = (struct craft){ "ipv4-fragment", p };
	p.frag_off = 0;
	p.more_frags = true;
	c[n++] = (struct craft){ "ipv4-first-fragment", p };
	c[n++] = (struct craft){ "sctp", pg_ipv4(IP4(198, 51, 100, 1), IP4(198, 51, 100, 2), 132, 9, 5060) };
	c[n++] = (struct craft){ "udplite", pg_ipv4(IP4(198, 51, 100, 1), IP4(198, 51, 100, 2), 136, 9, 5060) };
	c[n++] = (struct craft){ "icmp", pg_ipv4(IP4(198, 51, 100, 1), IP4(198, 51, 100, 2), 1, 0, 0) };
	c[n++] = (struct craft){ "gre", pg_ipv4(IP4(198, 51, 100, 1), IP4(198, 51, 100, 2), 47, 0, 0) };
	p = pg_ipv4(IP4(198, 51, 100, 1), IP4(198, 51, 100, 2), 17, 1, 9);
	p.payload = 1100;
	c[n++] = (struct craft){ "udp-big", p };
	p = pg_ipv4(IP4(192, 0, 2, 1), IP4(192, 0, 2, 2), 6, 1, 80);
	p.l4_len = 10;
	p.payload = 0;
	c[n++] = (struct craft){ "tcp-cut", p };
	p = pg_ipv4(IP4(10, 7, 0, 1), IP4(10, 1, 0, 2), 17, 53, 53);
	p.ntags = 1;
	p.vid[0] = 100;
	c[n++] = (struct craft){ "vlan100-udp", p };
	p.ntags = 2;
	p.tpid[0] = 0x88a8;
	p.vid[0] = 4000;
	p.vid[1] = 7;
	c[n++] = (struct craft){ "qinq-udp", p };
	p.ntags = 3;
	c[n++] = (struct craft){ "three-tags", p };
	c[n++] = (struct craft){ "arp", (struct pg_pkt){ .ethertype = 0x0806 } };
	c[n++] = (struct craft){ "lldp", (struct pg_pkt){ .ethertype = 0x88cc } };
	c[n++] = (struct craft){ "ipv6-ssh", pg_ipv6("2001:db8::1", "2001:db8:1::2", 6, 5555, 22) };
	/* the leaf entries hold "l3 is IPv4/IPv6" as a flag: an IPv6 packet whose
	 * first address words lie in the IPv4 prefixes of "nets", and IPv4 ssh */
	c[n++] = (struct craft){ "ipv6-in-ipv4-nets", pg_ipv6("a01:203::1", "c000:209::2", 17, 53, 53) };
	c[n++] = (struct craft){ "ipv4-ssh", pg_ipv4(IP4(10, 1, 2, 3), IP4(192, 0, 2, 9), 6, 5555, 22) };
	p = pg_ipv6("2001:db8::1", "2001:db8:1::2", 17, 5555, 5060);
	p.dscp = 63;
	p.ecn = 1;
	c[n++] = (struct craft){ "ipv6-sip", p };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 6, 5555, 443);
	p.tcp_flags = 0x18;
	p.n_ext = 4;
	p.ext[0] = 0;
	p.ext[1] = 60;
	p.ext[2] = 43;
	p.ext[3] = 44;
	c[n++] = (struct craft){ "ipv6-ext-chain", p };
	p.frag_off = 3;
	c[n++] = (struct craft){ "ipv6-fragment", p };
	p.frag_off = 0;
	p.n_ext = PC_IPV6_EXT_MAX + 1;
	for (int i = 0; i < PC_IPV6_EXT_MAX + 1; i++)
		p.ext[i] = 60;
	c[n++] = (struct craft){ "ipv6-ext-too-deep", p };
	c[n++] = (struct craft){ "icmpv6", pg_ipv6("fe80::1", "ff02::1", 58, 0, 0) };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 17, 5555, 5060);
	p.ntags = 1;
	p.vid[0] = 0;
	c[n++] = (struct craft){ "vlan0-ipv6", p };
	p = pg_ipv4(IP4(10, 1, 2, 3), IP4(10, 9, 9, 9), 17, 53, 5060);
	p.totlen_delta = 40;
	c[n++] = (struct craft){ "ipv4-totlen-long", p };
	p.totlen_delta = -30;
	c[n++] = (struct craft){ "ipv4-totlen-short", p };
	p.totlen_delta = 0;
	p.bad_ihl = true;
	c[n++] = (struct craft){ "ipv4-bad-ihl", p };
	p = pg_ipv6("2001:db8::1", "2001:db8::2", 17, 5555, 5060);
	p.totlen_delta = -4;
	c[n++] = (struct craft){ "ipv6-plen-short", p };
	p.totlen_delta = 0;
	p.bad_version = true;
	c[n++] = (struct craft){ "ipv6-bad-version", p };
	return n;
}

static int write_corpus(const char *dir)
{
	struct craft c[NCRAFT];
	size_t n = crafted(c);

	for (size_t i = 0; i < n; i++) {
		uint8_t buf[PG_FRAME_MAX];
		int len = pg_build(&c[i].p, buf, sizeof(buf));
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%02zu-%s", dir, i, c[i].name);
		f = fopen(path, "we");
		if (len < 0 || !f || fwrite(buf, 1, len, f) != (size_t)len || fclose(f) != 0) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
	}
	printf("%zu frames in %s\n", n, dir);
	return 0;
}

/* ---- mutations ---------------------------------------------------------------- */
static const uint8_t interesting[] = { 0, 1, 0x7f, 0x80, 0xff, 0x45, 0x60, 0x86, 0xdd, 0x08,
				       0x81, 0x88, 0xa8, 6, 17, 44, 43, 60, 58, 132, 136, 0x3b };

static void mutate(uint8_t *f, uint32_t *len)
{
	uint32_t at = *len > 14 ? 12 + below(*len - 12) : below(*len);

	switch (below(8)) {
	case 0:
	case 1:
		f[at] ^= (uint8_t)(1u << below(8));
		break;
	case 2:
		f[at] = interesting[below(sizeof(interesting))];
		break;
	case 3: /* cut */
		*len = 14 + below(*len - 13);
		break;
	case 4: /* grow with random bytes */
		for (uint32_t n = 1 + below(64); n-- && *len < PK_FRAME_MAX;)
			f[(*len)++] = (uint8_t)rnd();
		break;
	case 5: /* a 16-bit field near its old value: lengths, fragment offsets */
		if (at + 1 < *len) {
			uint32_t v = ((uint32_t)f[at] << 8 | f[at + 1]) + below(9) - 4;

			f[at] = (uint8_t)(v >> 8);
			f[at + 1] = (uint8_t)v;
		}
		break;
	case 6: /* an L3 start copied in at another offset */
		if (*len > 40 && at + 20 < *len)
			memmove(f + at, f + 14, 20);
		break;
	default:
		f[at] = (uint8_t)rnd();
		break;
	}
}

/* Random bytes after a plausible start: ethertype, IP version, lengths. */
static uint32_t random_frame(uint8_t *f)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x88cc, 0x0400, 0x05ff };
	uint32_t len = 14 + below(rnd() % 8 ? 160 : 1600);

	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)rnd();
	if (rnd() % 8) {
		uint16_t t = types[below(ELEMENTSOF(types))];

		f[12] = (uint8_t)(t >> 8);
		f[13] = (uint8_t)t;
		if (len > 20 && t == 0x0800) {
			f[14] = 0x40 | (uint8_t)(5 + below(11));
			f[16] = (uint8_t)((len - 14) >> 8);
			f[17] = (uint8_t)(len - 14 - below(30));
			f[20] &= rnd() % 2 ? 0x00 : 0xff;
		} else if (len > 20 && t == 0x86dd) {
			f[14] = (uint8_t)(0x60 | (f[14] & 0xf));
			f[18] = 0;
			f[19] = (uint8_t)(len > 54 ? len - 54 - below(20) : 0);
		}
	}
	return len;
}

/* ---- the run ---------------------------------------------------------------- */
static void hexdump(const uint8_t *f, uint32_t len)
{
	for (uint32_t i = 0; i < len && i < 256; i++)
		fprintf(stderr, "%s%02x", i % 32 == 0 ? (i ? "\n    " : "    ") : " ", f[i]);
	fprintf(stderr, "%s\n", len > 256 ? " ..." : "");
}

static int run_tests(void)
{
	const char *s = getenv("PC_RANDOM_SEED"), *nf = getenv("PC_RANDOM_FRAMES");
	unsigned long frames = nf ? strtoul(nf, NULL, 0) : 20000, mism = 0, errs = 0;
	static uint8_t bases[NCRAFT][PG_FRAME_MAX], f[PK_FRAME_MAX + 64];
	uint32_t base_len[NCRAFT];
	struct craft c[NCRAFT];
	size_t nc = crafted(c);
	struct pk_ctx *ctx = NULL;
	const struct pk_stats *st;
	char why[1024];
	int r;

	rs_state = s ? strtoull(s, NULL, 0) : 0x5eed5eed5eedull;
	if (!rs_state)
		rs_state = 1;
	if (unshare(CLONE_NEWNET) < 0)
		return pt_unavailable("unshare(CLONE_NEWNET) failed");
	r = pk_open(&ctx);
	if (r < 0) {
		fprintf(stderr, "pk_open: %s\n", strerror(-r));
		return pt_unavailable("bpf datapath unavailable");
	}
	for (size_t i = 0; i < nc; i++)
		base_len[i] = (uint32_t)pg_build(&c[i].p, bases[i], sizeof(bases[i]));
	for (unsigned long i = 0; i < frames + nc; i++) {
		uint32_t len;

		if (i < nc) { /* each crafted frame as it is, first */
			len = base_len[i];
			memcpy(f, bases[i], len);
		} else if (rnd() % 4 == 0) {
			len = random_frame(f);
		} else {
			size_t b = below(nc);

			len = base_len[b];
			memcpy(f, bases[b], len);
			for (uint32_t m = 1 + below(4); m--;)
				mutate(f, &len);
		}
		r = pk_check(ctx, f, len, why, sizeof(why));
		if (r == -EPROTO && mism++ < 8) {
			fprintf(stderr, "FAIL frame %lu (%u bytes): %s\n", i, len, why);
			hexdump(f, len);
		} else if (r < 0 && r != -EPROTO && errs++ < 8)
			fprintf(stderr, "FAIL frame %lu: check: %s\n", i, strerror(-r));
	}
	st = pk_stats(ctx);
	printf("# %lu frames (seed %#llx): %llu run, %llu refused by the kernel; "
	       "status ok %llu, l4-unknown %llu, malformed %llu; %llu matched a rule; "
	       "%llu second runs answered by the flow cache\n",
	       frames + nc, (unsigned long long)(s ? strtoull(s, NULL, 0) : 0x5eed5eed5eedull),
	       (unsigned long long)st->runs, (unsigned long long)st->refused,
	       (unsigned long long)st->status[0], (unsigned long long)st->status[1],
	       (unsigned long long)st->status[2], (unsigned long long)st->rules,
	       (unsigned long long)st->fc_hits);
	printf("# %lu disagreements, %lu errors\n", mism, errs);
	/* the frames must reach every parser outcome, or the test proves little */
	if (st->runs < frames / 2 || !st->refused || st->status[0] < frames / 10 ||
	    st->status[1] < frames / 100 || st->status[2] < frames / 100 || st->rules < frames / 10 ||
	    st->fc_hits < (st->runs - st->status[2]) / 2) {
		fprintf(stderr, "FAIL: the frames do not cover the parser's outcomes (or the flow "
				"cache answered few second runs)\n");
		errs++;
	}
	pk_close(ctx);
	return mism || errs ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--write-corpus DIR]\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0)
		return pt_unavailable("needs root");
	return run_tests();
}
