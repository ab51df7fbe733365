/* SPDX-License-Identifier: GPL-2.0-only */
/* pktclassctl explain --live: the described packet, built as an Ethernet
 * frame, runs through a private traced copy of the loaded classifier on the
 * live tables (datapath.h, pc_dp_live_*), as if it came on --iface in
 * --direction.  The rule, class and outcome are shown as explain shows
 * them, with what the program did; the trace (rule index and key) must
 * agree with the reference classifier on the config the daemon loaded (its
 * recorded path, or -c): a disagreement is reported loudly and exits 1. */
#include <errno.h>
#include <inttypes.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl/explain.h"
#include "datapath/datapath.h"
#include "lib/inet.h"
#include "lib/json.h"
#include "lib/util.h"
#include "lib/pktgen.h"

#define MISMATCH_MAX 24

struct ctl_live {
	const struct pc_live_info *info;
	int hook;
	const struct ctl_packet *p;
	const char *config_path;
	struct pc_live_run run;
	struct pc_rule_out out;          /* the live outs[rule] */
	struct pc_slot_name name, class_slot;
	char mismatch[MISMATCH_MAX][192];
	unsigned nmismatch;
};

static const char *const word_names[PC_KEY_WORDS] = {
	"src[0]", "src[1]", "src[2]", "src[3]", "dst[0]", "dst[1]", "dst[2]", "dst[3]",
	"src_port", "dst_port", "proto", "l3", "vlan", "dscp", "length", "tcp_flags",
	"direction", "iface bits", "set bits",
};

int ctl_live_check(const struct ctl_packet *p)
{
	if (!ctl_is_ip(p->l3) && (p->l3 == PC_ETH_P_8021Q || p->l3 == PC_ETH_P_8021AD))
		return ctl_usage_error("explain --live: --l3 0x%04" PRIx32 " is a VLAN tag: use --vlan",
				       p->l3);
	if (ctl_is_ip(p->l3) && p->len > CTL_LIVE_L3_MAX)
		return ctl_usage_error("explain --live: --length above %u does not fit the BPF test "
				       "runner", CTL_LIVE_L3_MAX);
	return CTL_OK;
}

/* ---- the frame ----------------------------------------------------------- */
static int build_frame(const struct ctl_packet *p, uint8_t *buf, size_t cap)
{
	struct pg_pkt q = { .ethertype = (uint16_t)p->l3, .l4_len = -1 };
	uint32_t hdr, l4;

	if (p->has_vlan) {
		q.ntags = 1;
		q.vid[0] = (uint16_t)p->vlan;
	}
	if (ctl_is_ip(p->l3)) {
		hdr = p->l3 == PC_ETH_P_IP ? 20 : 40;
		l4 = ctl_l4_header_len(p->proto);
		if (p->len - hdr < l4) /* cut by the length: only ICMP gets here */
			q.l4_len = (int)(l4 = p->len - hdr);
		q.payload = p->len - hdr - l4;
		ctl_addr_words(&p->src, q.src);
		ctl_addr_words(&p->dst, q.dst);
		q.dscp = (uint8_t)(p->has_dscp ? p->dscp : 0);
		q.proto = (uint8_t)p->proto;
		q.sport = (uint16_t)p->sport;
		q.dport = (uint16_t)p->dport;
		q.tcp_flags = (uint8_t)p->tcp_flags;
	}
	return pg_build(&q, buf, cap);
}

/* ---- agreement ----------------------------------------------------------- */
static void mismatch(struct ctl_live *lv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mismatch(struct ctl_live *lv, const char *fmt, ...)
{
	va_list ap;

	if (lv->nmismatch >= MISMATCH_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(lv->mismatch[lv->nmismatch++], sizeof(lv->mismatch[0]), fmt, ap);
	va_end(ap);
}

static void compare_key(struct ctl_live *lv, const struct pc_key *ref)
{
	const struct pc_key *k = &lv->run.trace.key;

	for (int w = 0; w < PC_KEY_WORDS; w++)
		if (k->w[w] != ref->w[w])
			mismatch(lv, "key %s: the BPF parser says %#" PRIx32 ", explain expects %#" PRIx32,
				 word_names[w], k->w[w], ref->w[w]);
}

static void compare_rule(struct ctl_live *lv, const struct ctl_result *res)
{
	const struct pc_rule_out *o = &res->rs->outs[res->idx];
	const struct pc_rule_out *l = &lv->out;

	if (lv->run.trace.rule != res->idx || strcmp(lv->name.name, res->rs->rule_name[res->idx]))
		mismatch(lv, "rule: the BPF program chose '%s' (index %" PRIu32 "), the reference "
			 "classifier '%s' (index %" PRIu32 ")", lv->name.name, lv->run.trace.rule,
			 res->rs->rule_name[res->idx], res->idx);
	if (strcmp(lv->name.class_name, res->rs->class_name[res->idx]))
		mismatch(lv, "class: live '%s', reference '%s'", lv->name.class_name,
			 res->rs->class_name[res->idx]);
	if (l->action != o->action || l->flags != o->flags ||
	    ((o->flags & PC_F_MARK) && l->mark != o->mark) ||
	    ((o->flags & PC_F_PRIO) && l->priority != o->priority) ||
	    ((o->flags & PC_F_DSCP) && l->dscp != o->dscp))
		mismatch(lv, "outcome: the live table differs from the config's (action %s/%s, "
			 "flags %#x/%#x, mark %#" PRIx32 "/%#" PRIx32 ", priority %#" PRIx32 "/%#"
			 PRIx32 ", dscp %u/%u)", ctl_action_name(l->action),
			 ctl_action_name(o->action), l->flags, o->flags, l->mark, o->mark,
			 l->priority, o->priority, l->dscp, o->dscp);
}

static uint32_t expected_retval(const struct pc_rule_out *o)
{
	if (o->action == PC_ACT_DROP)
		return TC_ACT_SHOT;
	if (o->action == PC_ACT_REDIRECT && o->redirect_ifindex)
		return TC_ACT_REDIRECT;
	return (uint32_t)TC_ACT_UNSPEC;
}

/* DSCP of the frame after the run, or -1 when not IP. */
static int dscp_after(const struct ctl_live *lv)
{
	const uint8_t *h = lv->run.data + lv->run.trace.l3_off;

	if (lv->run.trace.l3_off + 20 > lv->run.data_len)
		return -1;
	if (lv->p->l3 == PC_ETH_P_IP)
		return h[1] >> 2;
	if (lv->p->l3 == PC_ETH_P_IPV6)
		return ((h[0] & 0xf) << 2) | (h[1] >> 6);
	return -1;
}

/* What the program did to the packet, against the live outcome. */
static void compare_effects(struct ctl_live *lv, const uint8_t *frame, uint32_t len)
{
	const struct pc_rule_out *o = &lv->out;
	const uint8_t *h = lv->run.data + lv->run.trace.l3_off;
	int d = dscp_after(lv);

	if (lv->run.retval != expected_retval(o))
		mismatch(lv, "verdict: the program returned %d for action %s", (int)lv->run.retval,
			 ctl_action_name(o->action));
	if (lv->run.mark != (o->flags & PC_F_MARK ? o->mark : 0))
		mismatch(lv, "mark: the program set %#" PRIx32, lv->run.mark);
	if (lv->run.priority != (o->flags & PC_F_PRIO ? o->priority : 0))
		mismatch(lv, "priority: the program set %#" PRIx32, lv->run.priority);
	if (!(o->flags & PC_F_DSCP)) {
		if (lv->run.data_len != len || memcmp(lv->run.data, frame, len))
			mismatch(lv, "the program changed the packet without a dscp rewrite");
		return;
	}
	if (d != o->dscp)
		mismatch(lv, "dscp: %d after the run, the rule sets %u", d, o->dscp);
	if (lv->p->l3 == PC_ETH_P_IP && pc_inet_csum(h, (h[0] & 0xfu) * 4))
		mismatch(lv, "dscp: the IPv4 header checksum is wrong after the rewrite");
}

/* ---- output -------------------------------------------------------------- */
static const char *verdict_name(uint32_t retval, char *buf, size_t len)
{
	switch ((int)retval) {
	case TC_ACT_UNSPEC: return "pass (TC_ACT_UNSPEC)";
	case TC_ACT_OK: return "pass (TC_ACT_OK)";
	case TC_ACT_SHOT: return "drop (TC_ACT_SHOT)";
	case TC_ACT_REDIRECT: return "redirect (TC_ACT_REDIRECT)";
	}
	snprintf(buf, len, "return value %d", (int)retval);
	return buf;
}

static bool enforced(const struct ctl_live *lv)
{
	return lv->run.trace.attach != PC_ATTACH_NONE;
}

void ctl_live_text(const struct ctl_live *lv)
{
	const struct pc_live_info *i = lv->info;
	char buf[32], dn[16];
	int d = dscp_after(lv);

	printf("live:      generation %" PRIu32 " (program id %" PRIu32 "): ", i->cfg.generation,
	       i->prog_id[lv->hook]);
	if (lv->run.trace.rule < i->cfg.nrules)
		printf("rule %s (rule %" PRIu32 " of %" PRIu32 ")", lv->name.name,
		       lv->run.trace.rule + 1, i->cfg.nrules);
	else
		printf("%s: no rule matches", lv->name.name);
	printf(", class %s\n", lv->name.class_name);
	printf("verdict:   %s, mark %#" PRIx32 ", priority %" PRIx32 ":%" PRIx32,
	       verdict_name(lv->run.retval, buf, sizeof(buf)), lv->run.mark, lv->run.priority >> 16,
	       lv->run.priority & 0xffff);
	if (d >= 0)
		printf(", dscp %d%s", d, ctl_dscp_name((uint32_t)d, dn, sizeof(dn)));
	printf("\n");
	if (!enforced(lv))
		printf("note:      pktclassd has no %s hook on %s: nothing is enforced there\n",
		       lv->hook == PC_HOOK_INGRESS ? "tc ingress" : "tc egress", lv->p->iface);
	if (lv->nmismatch)
		printf("check:     MISMATCH with the reference classifier on %s\n", lv->config_path);
	else
		printf("check:     agrees with the reference classifier on %s\n", lv->config_path);
}

void ctl_live_json(struct pc_json *j, const struct ctl_live *lv)
{
	char prio[32];
	int d = dscp_after(lv);

	pc_json_key(j, "live");
	pc_json_object_begin(j);
	pc_json_kv_u64(j, "generation", lv->info->cfg.generation);
	pc_json_kv_u64(j, "prog_id", lv->info->prog_id[lv->hook]);
	pc_json_kv_bool(j, "same_code", lv->info->same_code);
	pc_json_kv_string(j, "rule", lv->name.name);
	pc_json_kv_u64(j, "rule_index", lv->run.trace.rule);
	pc_json_kv_string(j, "class", lv->name.class_name);
	pc_json_key(j, "retval");
	pc_json_i64(j, (int32_t)lv->run.retval);
	pc_json_kv_u64(j, "mark", lv->run.mark);
	snprintf(prio, sizeof(prio), "%" PRIx32 ":%" PRIx32, lv->run.priority >> 16,
		 lv->run.priority & 0xffff);
	pc_json_kv_string(j, "priority", prio);
	if (d >= 0)
		pc_json_kv_u64(j, "dscp", (uint64_t)d);
	pc_json_kv_bool(j, "enforced", enforced(lv));
	pc_json_kv_bool(j, "agrees", lv->nmismatch == 0);
	pc_json_key(j, "mismatches");
	pc_json_array_begin(j);
	for (unsigned m = 0; m < lv->nmismatch; m++)
		pc_json_string(j, lv->mismatch[m]);
	pc_json_array_end(j);
	pc_json_key(j, "key");
	pc_json_array_begin(j);
	for (int w = 0; w < PC_KEY_WORDS; w++)
		pc_json_u64(j, lv->run.trace.key.w[w]);
	pc_json_array_end(j);
	pc_json_object_end(j);
}

/* ---- the command --------------------------------------------------------- */
static void live_closep(struct pc_live **l)
{
	pc_dp_live_close(*l);
}

static int open_error(const char *pin, int r)
{
	switch (r) {
	case -ENOENT:
		return ctl_error("explain --live: no pktclassd state under %s (is pktclassd running?)",
				 pin);
	case -ENODATA:
		return ctl_error("explain --live: pktclassd under %s has no rules loaded", pin);
	case -EPROTO:
		return ctl_error("explain --live: the state under %s is not from a compatible pktclassd",
				 pin);
	case -EPERM:
	case -EACCES:
		return ctl_error("explain --live: cannot load the classifier: %s (run as root)",
				 strerror(-r));
	}
	return ctl_error("explain --live: cannot load a copy of the live classifier: %s",
			 strerror(-r));
}

/* The trace says the packet was not classified: why. */
static int unclassified(const struct ctl_live *lv)
{
	if (lv->run.trace.status == PC_PARSE_MALFORMED)
		return ctl_error("explain --live: the BPF parser found the packet malformed");
	return ctl_error("explain --live: %s is not among the live generation's interfaces: "
			 "pktclassd does not classify packets there", lv->p->iface);
}

static void report_mismatch(const struct ctl_live *lv)
{
	struct stat st;

	fprintf(stderr, "pktclassctl: explain --live: MISMATCH: the loaded BPF program (generation %"
		PRIu32 ") and the reference classifier on %s disagree:\n",
		lv->info->cfg.generation, lv->config_path);
	for (unsigned m = 0; m < lv->nmismatch; m++)
		fprintf(stderr, "  %s\n", lv->mismatch[m]);
	if (stat(lv->config_path, &st) == 0 &&
	    (uint64_t)st.st_mtim.tv_sec * 1000000u + (uint64_t)st.st_mtim.tv_nsec / 1000u >
		    lv->info->meta.loaded_realtime_usec)
		fprintf(stderr, "  (%s changed after the daemon loaded it: reload pktclassd, or give "
			"the loaded config with -c)\n", lv->config_path);
}

/* The frame through the live copy, against the reference's answer res. */
static int live_compare(struct ctl *c, struct pc_live *l, struct ctl_live *lv,
			struct ctl_result *res, const uint8_t *frame, uint32_t len, unsigned ifindex)
{
	int r;

	r = pc_dp_live_run(l, lv->hook, ifindex, frame, len, &lv->run);
	if (r < 0)
		return ctl_error("explain --live: BPF_PROG_TEST_RUN: %s", strerror(-r));
	if (lv->run.trace.rule == PC_TRACE_NO_RULE)
		return unclassified(lv);
	r = pc_dp_live_rule(l, lv->run.trace.rule, &lv->out, &lv->name, &lv->class_slot);
	if (r < 0)
		return ctl_error("explain --live: rule %" PRIu32 " of the live tables: %s",
				 lv->run.trace.rule, strerror(-r));
	compare_key(lv, &res->key);
	compare_rule(lv, res);
	compare_effects(lv, frame, len);
	r = ctl_explain_print(c, res);
	if (lv->nmismatch) {
		report_mismatch(lv);
		return CTL_ERROR;
	}
	return r;
}

static int live_run(struct ctl *c, struct pc_live *l, const struct ctl_packet *p,
		    struct ctl_live *lv)
{
	_cleanup_(pc_config_freep) struct pc_config *cfg = NULL;
	_cleanup_(pc_ruleset_freep) struct pc_ruleset *rs = NULL;
	struct ctl_result res = { .p = p, .live = lv };
	uint8_t frame[PC_LIVE_DATA_MAX];
	unsigned ifindex = if_nametoindex(p->iface);
	int len, r;

	if (!ifindex)
		return ctl_error("explain --live: no interface '%s' here", p->iface);
	len = build_frame(p, frame, sizeof(frame));
	if (len < 0)
		return ctl_error("explain --live: cannot build the packet");
	lv->config_path = res.config_path = c->config ? c->config : lv->info->meta.config_path;
	if (!lv->config_path[0])
		return ctl_error("explain --live: the daemon recorded no config path: give -c FILE");
	if (ctl_explain_load(lv->config_path, &cfg, &rs) < 0)
		return CTL_ERROR;
	r = ctl_explain_reference(c, cfg, rs, &res);
	if (r == CTL_OK)
		r = live_compare(c, l, lv, &res, frame, (uint32_t)len, ifindex);
	ctl_sets_clear(&res.sets);
	return r;
}

int ctl_explain_live(struct ctl *c, const struct ctl_packet *p)
{
	_cleanup_(live_closep) struct pc_live *l = NULL;
	_cleanup_free_ struct ctl_live *lv = NULL;
	const char *pin;
	int r;

	if (ctl_pin_path(c, &pin) != CTL_OK)
		return CTL_ERROR;
	r = pc_dp_live_open(pin, &l);
	if (r < 0)
		return open_error(pin, r);
	lv = calloc(1, sizeof(*lv));
	if (!lv)
		return ctl_error("out of memory");
	lv->info = pc_dp_live_info(l);
	lv->p = p;
	lv->hook = p->dir == PC_DIR_EGRESS ? PC_HOOK_EGRESS : PC_HOOK_INGRESS;
	if (!lv->info->same_code)
		fprintf(stderr, "pktclassctl: warning: the live classifier is not this build's code "
			"(program tags differ): the copy runs this build's code on the live tables\n");
	return live_run(c, l, p, lv);
}
