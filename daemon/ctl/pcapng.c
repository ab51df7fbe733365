/* SPDX-License-Identifier: GPL-2.0-only */
/* pcapng.c - pcapng blocks for pktclassctl capture (see pcapng.h).
 * Blocks are written in host byte order (the reader learns it from the
 * section header's magic); the cooked header is big-endian by definition. */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdbool.h>
#include <string.h>

#include "ctl/pcapng.h"

#define BT_SHB 0x0a0d0d0au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1a2b3c4du
#define OPT_END 0
#define OPT_IF_NAME 2
#define OPT_EPB_FLAGS 2
#define OPT_SHB_USERAPPL 4

static size_t pad4(size_t n)
{
	return (4 - n % 4) % 4;
}

static int put(FILE *f, const void *p, size_t n)
{
	static const uint8_t zero[4];

	if (n && fwrite(p, n, 1, f) != 1)
		return -EIO;
	return pad4(n) && fwrite(zero, pad4(n), 1, f) != 1 ? -EIO : 0;
}

static int put32(FILE *f, uint32_t v)
{
	return put(f, &v, sizeof(v));
}

/* An option: code, length, value padded to 4. */
static int put_opt(FILE *f, uint16_t code, const void *p, size_t n)
{
	uint16_t h[2] = { code, (uint16_t)n };

	return put(f, h, sizeof(h)) ?: put(f, p, n);
}

static size_t opt_len(size_t n)
{
	return 4 + n + pad4(n);
}

int pc_pcapng_header(FILE *f)
{
	static const char app[] = "pktclassctl capture";
	uint32_t len = 28 + (uint32_t)opt_len(strlen(app)) + 4;
	uint16_t version[2] = { 1, 0 };
	int64_t section_len = -1;
	int r;

	r = put32(f, BT_SHB) ?: put32(f, len) ?: put32(f, BYTE_ORDER_MAGIC);
	r = r ?: put(f, version, sizeof(version)) ?: put(f, &section_len, sizeof(section_len));
	r = r ?: put_opt(f, OPT_SHB_USERAPPL, app, strlen(app)) ?: put_opt(f, OPT_END, NULL, 0);
	return r ?: put32(f, len);
}

int pc_pcapng_interface(FILE *f, const char *ifname)
{
	size_t n = strlen(ifname);
	uint32_t len = 20 + (uint32_t)opt_len(n) + 4;
	uint16_t lt[2] = { PC_LINKTYPE_LINUX_SLL2, 0 };
	int r;

	r = put32(f, BT_IDB) ?: put32(f, len) ?: put(f, lt, sizeof(lt));
	r = r ?: put32(f, PC_PCAPNG_SNAPLEN);
	r = r ?: put_opt(f, OPT_IF_NAME, ifname, n) ?: put_opt(f, OPT_END, NULL, 0);
	return r ?: put32(f, len);
}

/* epb_flags: direction in bits 0-1 (1 inbound, 2 outbound), reception
 * type in bits 2-4 (1 unicast, 2 multicast, 3 broadcast, 4 promiscuous). */
static uint32_t epb_flags(uint8_t pkttype)
{
	switch (pkttype) {
	case PACKET_OUTGOING:
		return 2;
	case PACKET_HOST:
		return 1 | 1u << 2;
	case PACKET_MULTICAST:
		return 1 | 2u << 2;
	case PACKET_BROADCAST:
		return 1 | 3u << 2;
	case PACKET_OTHERHOST:
		return 1 | 4u << 2;
	default:
		return 1;
	}
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* LINUX_SLL2: protocol, reserved, ifindex, ARPHRD type, packet type,
 * address length, 8 bytes of address; then the VLAN tag (TCI and the
 * real protocol) when the kernel took it off, as libpcap does. */
static size_t cooked_header(const struct pc_pkt_meta *m, uint8_t *h)
{
	bool vlan = m->vlan >= 0;

	memset(h, 0, PC_SLL2_HDR_LEN + 4);
	be16(h, vlan ? m->vlan_tpid : m->protocol);
	be16(h + 4, (uint16_t)(m->ifindex >> 16));
	be16(h + 6, (uint16_t)m->ifindex);
	be16(h + 8, m->hatype);
	h[10] = m->pkttype;
	h[11] = m->halen > 8 ? 8 : m->halen;
	memcpy(h + 12, m->addr, h[11]);
	if (!vlan)
		return PC_SLL2_HDR_LEN;
	be16(h + 20, (uint16_t)m->vlan);
	be16(h + 22, m->protocol);
	return PC_SLL2_HDR_LEN + 4;
}

int pc_pcapng_packet(FILE *f, uint32_t ifid, const struct pc_pkt_meta *m, const uint8_t *data,
		     size_t caplen, size_t origlen)
{
	uint8_t hdr[PC_SLL2_HDR_LEN + 4];
	size_t hl = cooked_header(m, hdr), cap = hl + caplen;
	uint64_t ts = (uint64_t)m->tv.tv_sec * 1000000u + (uint64_t)m->tv.tv_usec;
	uint32_t flags = epb_flags(m->pkttype);
	uint32_t len = 28 + (uint32_t)(cap + pad4(cap)) + (uint32_t)opt_len(4) + 4 + 4;
	uint32_t fixed[5] = { ifid, (uint32_t)(ts >> 32), (uint32_t)ts, (uint32_t)cap,
			      (uint32_t)(hl + origlen) };
	static const uint8_t zero[4];
	int r;

	r = put32(f, BT_EPB) ?: put32(f, len) ?: put(f, fixed, sizeof(fixed));
	if (r == 0 && (fwrite(hdr, hl, 1, f) != 1 ||
		       (caplen && fwrite(data, caplen, 1, f) != 1) ||
		       (pad4(cap) && fwrite(zero, pad4(cap), 1, f) != 1)))
		r = -EIO;
	r = r ?: put_opt(f, OPT_EPB_FLAGS, &flags, sizeof(flags)) ?: put_opt(f, OPT_END, NULL, 0);
	return r ?: put32(f, len);
}
