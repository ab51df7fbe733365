/* SPDX-License-Identifier: GPL-2.0-only */
/* test-records - the journal records the daemon builds (daemon/pktclassd/records.c):
 * fields, MESSAGE_IDs, readable messages; and the catalog has an entry for
 * every MESSAGE_ID in log.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "lib/util.h"
#include "lib/log.h"
#include "pktclassd/records.h"



/* The record's fields, one "NAME=value" a line, for exact comparison. */
static const char *fields_of(const struct pc_record *r)
{
	static char buf[4096];
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; r->fields[i]; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\n", r->fields[i]);
	return buf;
}


static void test_stats(void)
{
	struct pc_record r;

	pc_record_build_stats(&r, "voice", (struct pc_count){ 5000, 4613734 },
			      (struct pc_count){ 3800, 3460300 }, 7, 60000000);
	CHECK_STR(r.message_id, PC_MID_STATS);
	CHECK(r.level == LOG_INFO);
	CHECK_STR(r.message, "class voice: 1200 packets, 1.1 MiB in 60 s (total 5000 packets, 4.4 MiB)");
	CHECK_STR(fields_of(&r),
		  "PKTCLASS_CLASS=voice\n"
		  "PKTCLASS_PACKETS=5000\n"
		  "PKTCLASS_BYTES=4613734\n"
		  "PKTCLASS_PACKETS_DELTA=1200\n"
		  "PKTCLASS_BYTES_DELTA=1153434\n"
		  "PKTCLASS_GENERATION=7\n"
		  "PKTCLASS_INTERVAL_USEC=60000000\n");

	/* counters that went down (a reset): the delta is all of it */
	pc_record_build_stats(&r, "web", (struct pc_count){ 10, 600 },
			      (struct pc_count){ 50, 3000 }, 2, 1500000);
	CHECK_STR(r.message, "class web: 10 packets, 600 B in 1.5 s (total 10 packets, 600 B)");
	CHECK(strstr(fields_of(&r), "PKTCLASS_PACKETS_DELTA=10\nPKTCLASS_BYTES_DELTA=600\n"));

	/* the first record after start has no interval */
	pc_record_build_stats(&r, "x", (struct pc_count){ 0, 0 }, (struct pc_count){ 0, 0 }, 1, 0);
	CHECK_STR(r.message, "class x: 0 packets, 0 B (total 0 packets, 0 B)");
	CHECK(!strstr(fields_of(&r), "INTERVAL"));
}

static void test_bytes(void)
{
	char b[32];

	pc_format_bytes(1023, b, sizeof(b));
	CHECK_STR(b, "1023 B");
	pc_format_bytes(1024, b, sizeof(b));
	CHECK_STR(b, "1.0 KiB");
	pc_format_bytes(5ull << 40, b, sizeof(b));
	CHECK_STR(b, "5.0 TiB");
	pc_format_bytes(UINT64_MAX, b, sizeof(b));
	CHECK_STR(b, "16.0 EiB");
}

static struct pc_log_rec rec4(void)
{
	struct pc_log_rec rec = { .slot = 5, .ifindex = 3, .hook = PC_HOOK_INGRESS, .len = 74 };

	rec.key.w[PC_W_SRC0] = 0x0a000001; /* 10.0.0.1 */
	rec.key.w[PC_W_DST0] = 0xc0a80102; /* 192.168.1.2 */
	rec.key.w[PC_W_SPORT] = 40000;
	rec.key.w[PC_W_DPORT] = 443;
	rec.key.w[PC_W_PROTO] = 6;
	rec.key.w[PC_W_L3] = 0x0800;
	rec.key.w[PC_W_VLAN] = PC_VLAN_NONE;
	rec.key.w[PC_W_DIR] = PC_DIR_INGRESS;
	return rec;
}

static void test_pktlog_ipv4(void)
{
	struct pc_log_rec rec = rec4();
	struct pc_record r;

	pc_record_build_pktlog(&r, &rec, "web", "www", "eth0");
	CHECK_STR(r.message_id, PC_MID_PKTLOG);
	CHECK_STR(r.message, "rule web (class www): eth0 ingress, tcp 10.0.0.1:40000 -> 192.168.1.2:443, 74 bytes");
	CHECK_STR(fields_of(&r),
		  "PKTCLASS_RULE=web\n"
		  "PKTCLASS_CLASS=www\n"
		  "PKTCLASS_IFACE=eth0\n"
		  "PKTCLASS_HOOK=ingress\n"
		  "PKTCLASS_DIRECTION=ingress\n"
		  "PKTCLASS_L3=ipv4\n"
		  "PKTCLASS_SRC=10.0.0.1\n"
		  "PKTCLASS_DST=192.168.1.2\n"
		  "PKTCLASS_PROTO=tcp\n"
		  "PKTCLASS_SRC_PORT=40000\n"
		  "PKTCLASS_DST_PORT=443\n"
		  "PKTCLASS_LENGTH=74\n");

	/* a monitor hook, egress, tagged, a protocol without a name and without
	 * ports; names the daemon could not resolve */
	rec.hook = PC_HOOK_MONITOR;
	rec.key.w[PC_W_DIR] = PC_DIR_EGRESS;
	rec.key.w[PC_W_VLAN] = 100;
	rec.key.w[PC_W_PROTO] = 253;
	rec.key.w[PC_W_SPORT] = rec.key.w[PC_W_DPORT] = PC_PORT_NONE;
	pc_record_build_pktlog(&r, &rec, NULL, NULL, NULL);
	CHECK_STR(r.message, "rule ? (class ?): ? monitor egress, 253 10.0.0.1 -> 192.168.1.2, 74 bytes");
	CHECK_STR(fields_of(&r),
		  "PKTCLASS_RULE=?\n"
		  "PKTCLASS_CLASS=?\n"
		  "PKTCLASS_IFACE=?\n"
		  "PKTCLASS_HOOK=monitor\n"
		  "PKTCLASS_DIRECTION=egress\n"
		  "PKTCLASS_L3=ipv4\n"
		  "PKTCLASS_SRC=10.0.0.1\n"
		  "PKTCLASS_DST=192.168.1.2\n"
		  "PKTCLASS_PROTO=253\n"
		  "PKTCLASS_LENGTH=74\n"
		  "PKTCLASS_VLAN=100\n");
}

static void test_pktlog_ipv6_arp(void)
{
	struct pc_log_rec rec = rec4();
	struct pc_record r;

	/* 2001:db8::1 -> 2001:db8:0:1::ff, udp */
	rec.key.w[PC_W_L3] = 0x86dd;
	rec.key.w[PC_W_SRC0] = 0x20010db8;
	rec.key.w[PC_W_SRC1] = rec.key.w[PC_W_SRC2] = 0;
	rec.key.w[PC_W_SRC3] = 1;
	rec.key.w[PC_W_DST0] = 0x20010db8;
	rec.key.w[PC_W_DST1] = 1;
	rec.key.w[PC_W_DST2] = 0;
	rec.key.w[PC_W_DST3] = 0xff;
	rec.key.w[PC_W_PROTO] = 17;
	rec.key.w[PC_W_SPORT] = 5060;
	rec.key.w[PC_W_DPORT] = 5061;
	pc_record_build_pktlog(&r, &rec, "sip", "voice", "br0");
	CHECK_STR(r.message, "rule sip (class voice): br0 ingress, udp [2001:db8::1]:5060 -> [2001:db8:0:1::ff]:5061, 74 bytes");
	CHECK(strstr(fields_of(&r), "PKTCLASS_L3=ipv6\nPKTCLASS_SRC=2001:db8::1\n"
			    "PKTCLASS_DST=2001:db8:0:1::ff\nPKTCLASS_PROTO=udp\n"
			    "PKTCLASS_SRC_PORT=5060\nPKTCLASS_DST_PORT=5061\n"));

	/* ARP: no addresses, protocol or ports */
	rec = rec4();
	rec.key.w[PC_W_L3] = 0x0806;
	rec.key.w[PC_W_PROTO] = PC_PROTO_NONE;
	rec.key.w[PC_W_SPORT] = rec.key.w[PC_W_DPORT] = PC_PORT_NONE;
	rec.len = 42;
	pc_record_build_pktlog(&r, &rec, "arp", "arp", "eth1");
	CHECK_STR(r.message, "rule arp (class arp): eth1 ingress, arp, 42 bytes");
	CHECK_STR(fields_of(&r),
		  "PKTCLASS_RULE=arp\n"
		  "PKTCLASS_CLASS=arp\n"
		  "PKTCLASS_IFACE=eth1\n"
		  "PKTCLASS_HOOK=ingress\n"
		  "PKTCLASS_DIRECTION=ingress\n"
		  "PKTCLASS_L3=arp\n"
		  "PKTCLASS_LENGTH=42\n");
}

static void test_suppressed(void)
{
	struct pc_record r;

	pc_record_build_suppressed(&r, 9979, 20, 60000000);
	CHECK_STR(r.message_id, PC_MID_PKTLOG_SUPPRESSED);
	CHECK_STR(r.message, "packet log: 9979 records suppressed in 60 s (log_rate 20 per second)");
	CHECK_STR(fields_of(&r),
		  "PKTCLASS_SUPPRESSED=9979\n"
		  "PKTCLASS_LOG_RATE=20\n"
		  "PKTCLASS_INTERVAL_USEC=60000000\n");
}

/* A full record stops at PC_RECORD_FIELDS_MAX and stays terminated. */
static void test_full(void)
{
	struct pc_record r = {};

	for (int i = 0; i < PC_RECORD_FIELDS_MAX; i++)
		CHECK(pc_record_add(&r, "F%d=%d", i, i));
	CHECK(!pc_record_add(&r, "X=1"));
	CHECK(r.fields[PC_RECORD_FIELDS_MAX] == NULL);
	CHECK_STR(r.fields[PC_RECORD_FIELDS_MAX - 1], "F15=15");
}

/* Every MESSAGE_ID of log.h has a catalog entry: "-- ID" and a Subject. */
static void test_catalog(const char *path)
{
	static const char *const ids[] = {
		PC_MID_STATS, PC_MID_RELOAD, PC_MID_START, PC_MID_PKTLOG, PC_MID_ATTACH,
		PC_MID_DETACH, PC_MID_PKTLOG_SUPPRESSED,
	};
	char text[65536], head[64];
	size_t n;
	FILE *f = fopen(path, "re");

	CHECK(f);
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
		const char *p;

		CHECK(strlen(ids[i]) == 32 && strspn(ids[i], "0123456789abcdef") == 32);
		snprintf(head, sizeof(head), "\n-- %s\nSubject: ", ids[i]);
		p = strstr(text, head);
		if (!p)
			fprintf(stderr, "no catalog entry for %s\n", ids[i]);
		CHECK(p);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(ids[i], ids[j]) != 0);
	}
}

int main(int argc, char **argv)
{
	test_stats();
	test_bytes();
	test_pktlog_ipv4();
	test_pktlog_ipv6_arp();
	test_suppressed();
	test_full();
	test_catalog(argc > 1 ? argv[1] : "systemd/pktclassd.catalog");
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
