/* SPDX-License-Identifier: GPL-2.0-only */
/* pcapng.h - the capture file of pktclassctl capture: pcapng, one
 * interface description block per interface (its name in if_name), each
 * of link type LINUX_SLL2, so that every packet says which interface it
 * was on and in which direction it went, both in the pcapng flags
 * (epb_flags) and in its cooked header, which tcpdump prints. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#define PC_PCAPNG_SNAPLEN 65535u
#define PC_LINKTYPE_LINUX_SLL2 276u
#define PC_SLL2_HDR_LEN 20u

/* What AF_PACKET says of a packet (struct sockaddr_ll, PACKET_AUXDATA). */
struct pc_pkt_meta {
	struct timeval tv;
	uint16_t protocol;      /* ethertype, host order */
	uint32_t ifindex;
	uint16_t hatype;        /* ARPHRD_* */
	uint8_t pkttype;        /* PACKET_HOST, PACKET_OUTGOING... */
	uint8_t halen;
	uint8_t addr[8];        /* the link-layer source address */
	int vlan;               /* the tag the kernel took off (TCI), or -1 */
	uint16_t vlan_tpid;
};

/* The section header block.  0 or -EIO. */
int pc_pcapng_header(FILE *f);
/* Interface description block of interface id (0, 1, ... in order). */
int pc_pcapng_interface(FILE *f, const char *ifname);
/* One enhanced packet block: caplen bytes of data from the network
 * header (AF_PACKET SOCK_DGRAM), origlen the packet's length, behind a
 * LINUX_SLL2 header and the VLAN tag when the kernel had taken it off. */
int pc_pcapng_packet(FILE *f, uint32_t ifid, const struct pc_pkt_meta *m, const uint8_t *data,
		     size_t caplen, size_t origlen);
