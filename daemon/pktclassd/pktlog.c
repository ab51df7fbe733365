/* SPDX-License-Identifier: GPL-2.0-only */
/* pktlog.c - the packet log's consumer (see pktlog.h). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "lib/log.h"
#include "pktclassd/pktlog.h"
#include "lib/ratelimit.h"
#include "pktclassd/records.h"
#include "lib/util.h"

struct pc_pktlog {
	struct pc_dp *dp;
	struct ring_buffer *rb;
	sd_event_source *io, *timer;
	struct pc_ratelimit rl;
	uint32_t rate;
	uint64_t interval_usec;
	uint64_t suppressed;   /* by our bucket since the last summary */
	uint64_t suppressed_total; /* by our bucket, since we started */
	uint64_t kernel_base;  /* the kernel's count at the last summary */
	uint64_t since_usec;   /* start of the summary period */
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct pc_pktlog *p = ctx;
	const struct pc_slot_name *sn;
	struct pc_log_rec rec;
	char ifname[IF_NAMESIZE + 8];
	struct pc_record r;

	if (size < sizeof(rec))
		return 0;
	if (!pc_ratelimit_take(&p->rl, pc_now_usec(CLOCK_MONOTONIC))) {
		p->suppressed++;
		p->suppressed_total++;
		return 0;
	}
	memcpy(&rec, data, sizeof(rec));
	sn = pc_dp_slot_name(p->dp, rec.slot);
	if (!if_indextoname(rec.ifindex, ifname))
		snprintf(ifname, sizeof(ifname), "if%u", rec.ifindex);
	pc_record_build_pktlog(&r, &rec, sn ? sn->name : NULL, sn ? sn->class_name : NULL,
			       ifname);
	pc_record_emit(&r);
	return 0;
}

static void consume(struct pc_pktlog *p)
{
	int r = ring_buffer__consume(p->rb);

	if (r < 0)
		log_warning_errno(r, "reading the packet log");
}

static int on_ring(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	consume(userdata);
	return 0;
}

/* One record for what was suppressed since the last one, if anything. */
static void summarize(struct pc_pktlog *p)
{
	uint64_t kernel = p->kernel_base, now = pc_now_usec(CLOCK_MONOTONIC), n;
	struct pc_record r;
	int err;

	err = pc_dp_log_suppressed(p->dp, &kernel);
	if (err < 0)
		log_debug("reading the packet log's kernel counters: %s", strerror(-err));
	n = p->suppressed + (kernel >= p->kernel_base ? kernel - p->kernel_base : kernel);
	if (n > 0) {
		pc_record_build_suppressed(&r, n, p->rate, now - p->since_usec);
		pc_record_emit(&r);
	}
	p->suppressed = 0;
	p->kernel_base = kernel;
	p->since_usec = now;
}

static int arm_timer(struct pc_pktlog *p)
{
	int r;

	r = sd_event_source_set_time_relative(p->timer, p->interval_usec);
	return r < 0 ? r : sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct pc_pktlog *p = userdata;

	summarize(p);
	arm_timer(p);
	return 0;
}

int pc_pktlog_new(sd_event *e, struct pc_dp *dp, uint32_t rate, uint64_t interval_usec,
		  struct pc_pktlog **ret)
{
	struct pc_pktlog *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dp = dp;
	p->rate = rate;
	p->interval_usec = interval_usec;
	p->since_usec = pc_now_usec(CLOCK_MONOTONIC);
	pc_ratelimit_init(&p->rl, rate, rate);
	if (pc_dp_log_suppressed(dp, &p->kernel_base) < 0)
		p->kernel_base = 0;
	p->rb = ring_buffer__new(pc_dp_log_fd(dp), on_record, p, NULL);
	if (!p->rb) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(e, &p->io, ring_buffer__epoll_fd(p->rb), EPOLLIN, on_ring, p);
	if (r >= 0)
		r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, interval_usec, 0,
					       on_timer, p);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	pc_pktlog_free(p);
	return r;
}

void pc_pktlog_set(struct pc_pktlog *p, uint32_t rate, uint64_t interval_usec)
{
	if (rate != p->rate) {
		summarize(p); /* the count so far was against the old rate */
		pc_ratelimit_set(&p->rl, rate, rate);
		p->rate = rate;
	}
	if (interval_usec != p->interval_usec) {
		p->interval_usec = interval_usec;
		arm_timer(p);
	}
}

void pc_pktlog_flush(struct pc_pktlog *p)
{
	if (!p)
		return;
	consume(p);
	summarize(p);
}

uint64_t pc_pktlog_suppressed(const struct pc_pktlog *p)
{
	return p ? p->suppressed_total : 0;
}

void pc_pktlog_free(struct pc_pktlog *p)
{
	if (!p)
		return;
	sd_event_source_disable_unref(p->io);
	sd_event_source_disable_unref(p->timer);
	ring_buffer__free(p->rb);
	free(p);
}
