/* SPDX-License-Identifier: GPL-2.0-only */
/* explain.h - pktclassctl explain: what explain.c (the described
 * packet, the reference classifier, the output) shares with live.c
 * (--live: the packet through the loaded BPF program). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "classifier/compile.h"
#include "ctl/ctl.h"


struct ctl_packet {
	const char *iface;
	int dir;                   /* -1: not given */
	bool has_l3, has_src, has_dst, has_proto, has_sport, has_dport;
	bool has_vlan, has_dscp, has_len, has_tcp_flags, live;
	uint32_t l3, proto, sport, dport, vlan, dscp, len, tcp_flags;
	struct pc_prefix src, dst;
};

struct ctl_live;
struct pc_json;

/* A set reference of the rules, for the described packet. */
struct ctl_setmatch {
	struct pc_set_ref ref;
	char value[64];     /* the packet's field, "" when it has none */
	bool in;
	char element[64];   /* the most specific element that holds it */
	bool live;          /* the daemon's contents, else the config's */
};

struct ctl_sets {
	struct ctl_setmatch *v;  /* one per reference of the rule set */
	size_t n;
	uint32_t bits;           /* PC_W_SETS */
	uint32_t *lazy;          /* the references past PC_SET_REFS_EAGER */
};

struct ctl_result {
	const struct ctl_packet *p;
	const struct pc_ruleset *rs;
	const struct pc_rule *rule; /* NULL for the default */
	const char *config_path;
	struct pc_key key;
	uint32_t idx;
	const struct ctl_live *live; /* --live: what the BPF program did */
	const struct pc_config *cfg;
	struct ctl_sets sets;
};

bool ctl_is_ip(uint32_t l3);
/* Bytes of the transport header that explain assumes (0: none). */
uint32_t ctl_l4_header_len(uint32_t proto);
/* An address as key words (IPv4: w[0], the rest 0). */
void ctl_addr_words(const struct pc_prefix *a, uint32_t *w);
/* The key the BPF parser derives from the packet (ifbits from rs). */
void ctl_packet_key(const struct ctl_packet *p, const struct pc_ruleset *rs, struct pc_key *k);
const char *ctl_action_name(uint8_t action);
/* " (ef)", " (af41)", " (cs1)" or "" */
const char *ctl_dscp_name(uint32_t dscp, char *buf, size_t len);
const struct pc_rule *ctl_find_rule(const struct pc_config *cfg, const char *name);
/* Load and compile quietly (errors are printed, warnings are not). */
int ctl_explain_load(const char *path, struct pc_config **cfg, struct pc_ruleset **rs);
void ctl_text_result(const struct ctl_result *r);
void ctl_json_result(const struct ctl_result *r);
/* The reference classifier's answer for res->p: key (with the set bits:
 * the daemon's contents when it answers c, else the config's), idx, rule.
 * CTL_OK or CTL_ERROR (printed).  ctl_sets_clear(&res->sets) after. */
int ctl_explain_reference(struct ctl *c, const struct pc_config *cfg, const struct pc_ruleset *rs,
			  struct ctl_result *res);

/* explainsets.c */
int ctl_sets_eval(struct ctl *c, const struct pc_config *cfg, const struct pc_ruleset *rs,
		  const struct pc_key *k, struct ctl_sets *out);
void ctl_sets_clear(struct ctl_sets *s);
/* The references of the matched box that hold, one "in set:" line each. */
void ctl_sets_text(const struct ctl_result *r, const struct pc_config *cfg);
void ctl_sets_json(struct pc_json *j, const struct ctl_result *r, const struct pc_config *cfg);
/* Text or JSON (c->json); CTL_OK or CTL_ERROR. */
int ctl_explain_print(struct ctl *c, const struct ctl_result *res);

/* live.c */
/* Limits of --live: what BPF_PROG_TEST_RUN takes in one page. */
#define CTL_LIVE_L3_MAX 3600u
/* The --live part of the packet checks: CTL_OK or CTL_USAGE. */
int ctl_live_check(const struct ctl_packet *p);
int ctl_explain_live(struct ctl *c, const struct ctl_packet *p);
void ctl_live_text(const struct ctl_live *lv);
void ctl_live_json(struct pc_json *j, const struct ctl_live *lv);
