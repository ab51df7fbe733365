/* SPDX-License-Identifier: GPL-2.0-only */
/* bpfrun.h - what the BPF tests do with a classifier: run a frame through a
 * program with BPF_PROG_TEST_RUN, read the per-CPU "trace" entry of the run,
 * read a counter slot of an attachment summed over the CPUs. */
#pragma once

#include <stdint.h>

#include <linux/bpf.h>

#include "pktclass.h"
#include "lib/pktgen.h"

struct pc_dp;

struct bt_run {
	int err;
	uint32_t retval;
	struct __sk_buff ctx;
	uint8_t out[PG_FRAME_MAX + 64];
	uint32_t out_len;
};

/* One run of prog_fd on data; cb: __sk_buff->cb[PC_CB_HOOK] (pc_tc's hook). */
void bt_run(int prog_fd, uint32_t cb, uint32_t ifindex, const uint8_t *data, uint32_t len,
	    struct bt_run *r);
/* The trace entry of the CPU that ran the program (the one whose run count
 * moved), *total the runs over all CPUs; the map is reset. */
int bt_trace_read(int fd, int ncpus, struct pc_trace *ret, uint32_t *total);
/* Slot `slot` of a counter array (chunks of PC_CNT_CHUNK), per CPU into v[ncpus]. */
int bt_slot_read_cpus(int fd, int ncpus, uint32_t slot, struct pc_counter *v);
/* Slot `slot` of attach slot a's counters, summed over the CPUs. */
int bt_counter_read(struct pc_dp *dp, int ncpus, uint32_t a, uint32_t slot,
		    struct pc_counter *ret);
