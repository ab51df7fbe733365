/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tc.c - the clsact qdisc and our cls_bpf filter.
 *
 * Our filter is the one at (clsact ingress/egress, PC_TC_PRIO, PC_TC_HANDLE)
 * of kind "bpf" whose TCA_BPF_NAME starts with PC_TC_NAME; anything else in
 * that place is foreign and never replaced nor deleted (-EBUSY / -ENOENT).
 *
 * Errors besides the kernel's own:
 *   -ENODEV      no such interface (every call)
 *   -EOPNOTSUPP  the kernel has no clsact qdisc or no cls_bpf classifier
 *                (it answers ENOENT for an unknown kind)
 *   -EEXIST      clsact_ensure: another qdisc (e.g. "ingress") holds the
 *                ffff:fff1 slot
 *   -ENOENT      filter_attach: no clsact qdisc on the interface
 *   -EBUSY       filter_attach: a foreign filter holds our priority/handle
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "netlink/netlink.h"
#include "netlink/internal.h"
#include "pktclass.h"

#define PC_BPF_NAME_MAX 256

/* ---- tc message parsing ----------------------------------------------------- */

static void tc_msg(struct nlmsghdr *nlh, int ifindex, uint32_t parent, uint32_t handle,
		   uint32_t info)
{
	struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));

	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = parent;
	t->tcm_handle = handle;
	t->tcm_info = info;
}

static int tc_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type > TCA_MAX)
		return MNL_CB_OK;
	if (type == TCA_KIND && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_ERROR;
	if (type == TCA_OPTIONS && mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return MNL_CB_ERROR;
	if (type == TCA_CHAIN && mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

/* The tcmsg of an RTM_NEW{QDISC,TFILTER} reply, and its attributes in tb. */
static const struct tcmsg *tc_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct tcmsg)) {
		errno = EBADMSG;
		return NULL;
	}
	if (mnl_attr_parse(nlh, sizeof(struct tcmsg), tc_attr_cb, tb) < 0)
		return NULL;
	return mnl_nlmsg_get_payload(nlh);
}

/* The tcmsg of a dump reply of type type about (ifindex, parent), its
 * attributes in tb.  NULL for any other message, with *ret what the dump
 * callback answers: MNL_CB_OK (pass over it), MNL_CB_ERROR (malformed). */
static const struct tcmsg *tc_reply(const struct nlmsghdr *nlh, uint16_t type, int ifindex,
				    uint32_t parent, const struct nlattr **tb, int *ret)
{
	const struct tcmsg *t;

	*ret = MNL_CB_OK;
	if (nlh->nlmsg_type != type)
		return NULL;
	t = tc_parse(nlh, tb);
	if (!t) {
		*ret = MNL_CB_ERROR;
		return NULL;
	}
	if (t->tcm_ifindex != ifindex || t->tcm_parent != parent)
		return NULL;
	return t;
}

static bool tc_kind_is(const struct nlattr **tb, const char *kind)
{
	return tb[TCA_KIND] && strcmp(mnl_attr_get_str(tb[TCA_KIND]), kind) == 0;
}

/* ---- clsact qdisc ------------------------------------------------------------ */

#define CLSACT_HANDLE TC_H_MAKE(TC_H_CLSACT, 0)

struct qdisc_scan {
	int ifindex;
	struct {
		bool clsact;
	} res;
};

static int qdisc_scan_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TCA_MAX + 1] = {};
	struct qdisc_scan *s = data;
	const struct tcmsg *t;
	int r;

	t = tc_reply(nlh, RTM_NEWQDISC, s->ifindex, TC_H_CLSACT, tb, &r);
	if (!t)
		return r;
	if (t->tcm_handle == CLSACT_HANDLE && tc_kind_is(tb, "clsact"))
		s->res.clsact = true;
	return MNL_CB_OK;
}

static int clsact_lookup(struct pc_nl *nl, int ifindex, bool *exists)
{
	struct qdisc_scan s = { .ifindex = ifindex };
	char buf[PC_NL_REQ_SIZE] = {};
	struct nlmsghdr *nlh;
	int r;

	nlh = pc_nl_dump_msg(buf, RTM_GETQDISC);
	tc_msg(nlh, ifindex, 0, 0, 0);
	r = pc_nl_dump(nl, nlh, qdisc_scan_cb, &s, &s.res, sizeof(s.res));
	if (r < 0)
		return r;
	*exists = s.res.clsact;
	return 0;
}

bool pc_nl_clsact_exists(struct pc_nl *nl, int ifindex)
{
	bool exists = false;

	if (ifindex <= 0)
		return false;
	return clsact_lookup(nl, ifindex, &exists) == 0 && exists;
}

static int clsact_request(struct pc_nl *nl, int ifindex, uint16_t type, uint16_t flags)
{
	char buf[PC_NL_REQ_SIZE] = {};
	struct nlmsghdr *nlh;

	nlh = pc_nl_msg(buf, type, flags);
	tc_msg(nlh, ifindex, TC_H_CLSACT, CLSACT_HANDLE, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	return pc_nl_talk(nl, nlh, NULL, NULL);
}

/* The kernel says ENOENT for a qdisc or classifier kind it does not know. */
static int kind_unsupported(int r)
{
	return r == -ENOENT ? -EOPNOTSUPP : r;
}

int pc_nl_clsact_ensure(struct pc_nl *nl, int ifindex, bool *created)
{
	bool exists, dummy;
	int r;

	if (!created)
		created = &dummy;
	*created = false;
	if (ifindex <= 0)
		return -ENODEV;
	r = clsact_lookup(nl, ifindex, &exists);
	if (r < 0 || exists)
		return r;
	r = clsact_request(nl, ifindex, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
	if (r == -EEXIST) {
		/* Someone made it meanwhile, or another qdisc holds the slot. */
		r = clsact_lookup(nl, ifindex, &exists);
		return r < 0 ? r : exists ? 0 : -EEXIST;
	}
	if (r < 0)
		return kind_unsupported(r);
	*created = true;
	return 0;
}

/* ---- filters: scanning one side of clsact ------------------------------------ */

static int hook_parent(int hook, uint32_t *parent)
{
	switch (hook) {
	case PC_HOOK_INGRESS:
		*parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
		return 0;
	case PC_HOOK_EGRESS:
		*parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS);
		return 0;
	default:
		return -EINVAL;
	}
}

/* tcm_info of our filter: priority in the upper half, protocol below. */
static uint32_t our_info(void)
{
	return TC_H_MAKE((uint32_t)PC_TC_PRIO << 16, htons(ETH_P_ALL));
}

struct filter_scan {
	int ifindex;
	uint32_t parent;
	struct {
		bool any;        /* some filter hangs off the parent */
		bool ours;       /* our filter is there, running prog_id */
		bool foreign;    /* a foreign filter holds our priority/handle */
		uint32_t prog_id;
	} res;
};

struct bpf_opts {
	const char *name;
	uint32_t id;
};

static int bpf_attr_cb(const struct nlattr *a, void *data)
{
	struct bpf_opts *o = data;

	switch (mnl_attr_get_type(a)) {
	case TCA_BPF_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		o->name = mnl_attr_get_str(a);
		break;
	case TCA_BPF_ID:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		o->id = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

static bool name_is_ours(const char *name)
{
	return name && strncmp(name, PC_TC_NAME, strlen(PC_TC_NAME)) == 0;
}

/* The filter at our priority and handle, in chain 0. */
static int filter_scan_ours(struct filter_scan *s, const struct nlattr **tb)
{
	struct bpf_opts o = {};

	if (!tc_kind_is(tb, "bpf") || !tb[TCA_OPTIONS])
		goto foreign;
	if (mnl_attr_parse_nested(tb[TCA_OPTIONS], bpf_attr_cb, &o) < 0)
		return MNL_CB_ERROR;
	if (!name_is_ours(o.name) || o.id == 0)
		goto foreign;
	s->res.ours = true;
	s->res.prog_id = o.id;
	return MNL_CB_OK;
foreign:
	s->res.foreign = true;
	return MNL_CB_OK;
}

static int filter_scan_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[TCA_MAX + 1] = {};
	struct filter_scan *s = data;
	const struct tcmsg *t;
	int r;

	t = tc_reply(nlh, RTM_NEWTFILTER, s->ifindex, s->parent, tb, &r);
	if (!t)
		return r;
	s->res.any = true;
	if (TC_H_MAJ(t->tcm_info) != TC_H_MAJ(our_info()))
		return MNL_CB_OK;
	if (tb[TCA_CHAIN] && mnl_attr_get_u32(tb[TCA_CHAIN]) != 0)
		return MNL_CB_OK;
	/* Another kind or protocol at our priority: the kernel would refuse
	 * ours there (EINVAL), and it is not ours to take. */
	if (!tc_kind_is(tb, "bpf") || t->tcm_info != our_info()) {
		s->res.foreign = true;
		return MNL_CB_OK;
	}
	if (t->tcm_handle != PC_TC_HANDLE)
		return MNL_CB_OK;
	return filter_scan_ours(s, tb);
}

static int filter_scan(struct pc_nl *nl, int ifindex, uint32_t parent, struct filter_scan *s)
{
	char buf[PC_NL_REQ_SIZE] = {};
	struct nlmsghdr *nlh;

	*s = (struct filter_scan) { .ifindex = ifindex, .parent = parent };
	nlh = pc_nl_dump_msg(buf, RTM_GETTFILTER);
	tc_msg(nlh, ifindex, parent, 0, 0);
	return pc_nl_dump(nl, nlh, filter_scan_cb, s, &s->res, sizeof(s->res));
}

/* Scan the hook's side; -ENODEV when the interface is not there at all
 * (a filter dump of a missing interface is simply empty). */
static int filter_lookup(struct pc_nl *nl, int ifindex, int hook, struct filter_scan *s)
{
	uint32_t parent;
	int r;

	if (ifindex <= 0)
		return -ENODEV;
	r = hook_parent(hook, &parent);
	if (r < 0)
		return r;
	r = filter_scan(nl, ifindex, parent, s);
	if (r < 0)
		return r;
	if (!s->res.any)
		return pc_nl_link_check(nl, ifindex);
	return 0;
}

/* ---- filters: the public operations ------------------------------------------- */

static int filter_request(struct pc_nl *nl, int ifindex, uint32_t parent, int prog_fd,
			  const char *name)
{
	char buf[PC_NL_REQ_SIZE] = {};
	struct nlmsghdr *nlh;
	struct nlattr *opts;

	nlh = pc_nl_msg(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE);
	tc_msg(nlh, ifindex, parent, PC_TC_HANDLE, our_info());
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u32(nlh, TCA_BPF_FD, prog_fd);
	mnl_attr_put_strz(nlh, TCA_BPF_NAME, name);
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_nest_end(nlh, opts);
	return pc_nl_talk(nl, nlh, NULL, NULL);
}

static int check_attach_args(int prog_fd, const char *name)
{
	if (prog_fd < 0)
		return -EBADF;
	if (!name_is_ours(name) || strlen(name) >= PC_BPF_NAME_MAX)
		return -EINVAL;
	return 0;
}

int pc_nl_filter_attach(struct pc_nl *nl, int ifindex, int hook, int prog_fd, const char *name)
{
	struct filter_scan s;
	bool exists;
	int r;

	if (!name)
		name = PC_TC_NAME;
	r = check_attach_args(prog_fd, name);
	if (r < 0)
		return r;
	r = filter_lookup(nl, ifindex, hook, &s);
	if (r < 0)
		return r;
	if (s.res.foreign)
		return -EBUSY;
	r = filter_request(nl, ifindex, s.parent, prog_fd, name);
	if (r != -EINVAL)
		return kind_unsupported(r);
	/* The kernel says EINVAL, among others, when the parent qdisc is missing. */
	if (clsact_lookup(nl, ifindex, &exists) == 0 && !exists)
		return -ENOENT;
	return r;
}

/* filter_lookup, and -ENOENT when our filter is not there. */
static int filter_lookup_ours(struct pc_nl *nl, int ifindex, int hook, struct filter_scan *s)
{
	int r = filter_lookup(nl, ifindex, hook, s);

	if (r < 0)
		return r;
	return s->res.ours ? 0 : -ENOENT;
}

int pc_nl_filter_find(struct pc_nl *nl, int ifindex, int hook, uint32_t *prog_id)
{
	struct filter_scan s;
	int r;

	r = filter_lookup_ours(nl, ifindex, hook, &s);
	if (r < 0)
		return r;
	if (prog_id)
		*prog_id = s.res.prog_id;
	return 0;
}

int pc_nl_filter_detach(struct pc_nl *nl, int ifindex, int hook)
{
	char buf[PC_NL_REQ_SIZE] = {};
	struct nlmsghdr *nlh;
	struct filter_scan s;
	int r;

	r = filter_lookup_ours(nl, ifindex, hook, &s);
	if (r < 0)
		return r;
	/* Priority and handle both set: the kernel deletes that one filter. */
	nlh = pc_nl_msg(buf, RTM_DELTFILTER, 0);
	tc_msg(nlh, ifindex, s.parent, PC_TC_HANDLE, our_info());
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	return pc_nl_talk(nl, nlh, NULL, NULL);
}

/* ---- removing the clsact qdisc ---------------------------------------------------- */

static int clsact_has_filters(struct pc_nl *nl, int ifindex)
{
	static const int hooks[] = { PC_HOOK_INGRESS, PC_HOOK_EGRESS };
	struct filter_scan s;
	uint32_t parent;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(hooks); i++) {
		(void) hook_parent(hooks[i], &parent);
		r = filter_scan(nl, ifindex, parent, &s);
		if (r < 0)
			return r;
		if (s.res.any)
			return 1;
	}
	return 0;
}

int pc_nl_clsact_remove_if_empty(struct pc_nl *nl, int ifindex)
{
	bool exists;
	int r;

	if (ifindex <= 0)
		return -ENODEV;
	r = clsact_lookup(nl, ifindex, &exists);
	if (r < 0)
		return r;
	if (!exists) {
		r = pc_nl_link_check(nl, ifindex);
		return r < 0 ? r : -ENOENT;
	}
	r = clsact_has_filters(nl, ifindex);
	if (r != 0)
		return r < 0 ? r : -EBUSY;
	return clsact_request(nl, ifindex, RTM_DELQDISC, 0);
}
