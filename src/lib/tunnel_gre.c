// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GRE: gretap (an optional key) and ERSPAN, type II (version 1: a session
 * id) or type III (version 2: session id, hardware id and the direction
 * bit), over IPv4 (gretap, erspan; module ip_gre) or IPv6 (ip6gretap,
 * ip6erspan; ip6_gre). One parser and one builder, as in iproute2's
 * link_gre.c. Measured overheads (outer Ethernet plus what the tunnel
 * prepends): gretap with key 42 / 62 (38 / 58 without), erspan version 1
 * 50 / 70, version 2 54 / 74 (its header is 12 bytes, not 8).
 * IPv6 tunnels are made without the 8-byte encapsulation-limit option
 * (iproute2's "encaplimit none"), which collectors do not need. Over IPv4
 * no DF is set, like vxlan, so a copy too big for the path is fragmented.
 */
#include "ifmirror.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>

static bool is_erspan(const struct ifm_tunnel_spec *t)
{
	return !strcmp(t->type, "erspan");
}

static int build(struct nl_msg *msg, const struct ifm_tunnel_spec *t,
		 const struct ifm_tunnel_addrs *a, int dev)
{
	bool v6 = a->family == AF_INET6, erspan = is_erspan(t);
	int alen = v6 ? 16 : 4;
	uint16_t gflags = (uint16_t)((t->has_id ? GRE_KEY : 0) | (erspan ? GRE_SEQ : 0));
	int r = 0;

	r |= nla_put(msg, IFLA_GRE_REMOTE, alen, a->remote);
	if (a->has_local)
		r |= nla_put(msg, IFLA_GRE_LOCAL, alen, a->local);
	if (dev)
		r |= nla_put_u32(msg, IFLA_GRE_LINK, (uint32_t)dev);
	r |= nla_put_u8(msg, IFLA_GRE_TTL, 64);
	if (v6)
		r |= nla_put_u32(msg, IFLA_GRE_FLAGS, IP6_TNL_F_IGN_ENCAP_LIMIT);
	else    /* like vxlan: no DF, so a copy too big for the path is fragmented */
		r |= nla_put_u8(msg, IFLA_GRE_PMTUDISC, 0);
	if (gflags) {
		r |= nla_put_u16(msg, IFLA_GRE_IFLAGS, gflags);
		r |= nla_put_u16(msg, IFLA_GRE_OFLAGS, gflags);
	}
	if (t->has_id) {
		r |= nla_put_u32(msg, IFLA_GRE_IKEY, htonl((uint32_t)t->id));
		r |= nla_put_u32(msg, IFLA_GRE_OKEY, htonl((uint32_t)t->id));
	}
	if (erspan) {
		unsigned int ver = t->version ? t->version : 1;

		r |= nla_put_u8(msg, IFLA_GRE_ERSPAN_VER, (uint8_t)ver);
		if (ver == 2) {
			/* the direction bit: 0 ingress, 1 egress */
			r |= nla_put_u8(msg, IFLA_GRE_ERSPAN_DIR,
					t->erspan_dir == IFM_DIR_EGRESS ? 1 : 0);
			r |= nla_put_u16(msg, IFLA_GRE_ERSPAN_HWID, (uint16_t)t->hwid);
		}
	}
	return r < 0 ? -1 : 0;
}

static void parse(struct nlattr *data, struct ifm_tunnel_info *ti)
{
	struct nlattr *tb[IFLA_GRE_MAX + 1];
	bool v6 = ti->kind[0] == 'i', erspan = strstr(ti->kind, "erspan") != NULL;
	int alen = v6 ? 16 : 4;
	uint16_t oflags = 0;
	uint32_t flags = 0;

	ti->family = v6 ? AF_INET6 : AF_INET;
	ti->version = erspan ? 1 : 0;
	ti->erspan_dir = IFM_DIR_INGRESS;
	if (data && nla_parse_nested(tb, IFLA_GRE_MAX, data, NULL) == 0) {
		if (tb[IFLA_GRE_REMOTE] && nla_len(tb[IFLA_GRE_REMOTE]) == alen)
			memcpy(ti->remote, nla_data(tb[IFLA_GRE_REMOTE]), (size_t)alen);
		if (tb[IFLA_GRE_LOCAL] && nla_len(tb[IFLA_GRE_LOCAL]) == alen)
			memcpy(ti->local, nla_data(tb[IFLA_GRE_LOCAL]), (size_t)alen);
		if (tb[IFLA_GRE_LINK])
			ti->link = (int)nla_get_u32(tb[IFLA_GRE_LINK]);
		if (tb[IFLA_GRE_OFLAGS])
			oflags = nla_get_u16(tb[IFLA_GRE_OFLAGS]);
		if (tb[IFLA_GRE_OKEY] && (oflags & GRE_KEY)) {
			ti->id = ntohl(nla_get_u32(tb[IFLA_GRE_OKEY]));
			ti->has_id = true;
		}
		if (tb[IFLA_GRE_FLAGS])
			flags = nla_get_u32(tb[IFLA_GRE_FLAGS]);
		if (erspan && tb[IFLA_GRE_ERSPAN_VER])
			ti->version = nla_get_u8(tb[IFLA_GRE_ERSPAN_VER]);
		if (erspan && tb[IFLA_GRE_ERSPAN_HWID])
			ti->hwid = nla_get_u16(tb[IFLA_GRE_ERSPAN_HWID]);
		if (erspan && tb[IFLA_GRE_ERSPAN_DIR])
			ti->erspan_dir = nla_get_u8(tb[IFLA_GRE_ERSPAN_DIR]) ? IFM_DIR_EGRESS
									   : IFM_DIR_INGRESS;
		ti->df = v6 || !tb[IFLA_GRE_PMTUDISC] || nla_get_u8(tb[IFLA_GRE_PMTUDISC]);
	}
	ti->overhead = IFM_ETH_HDR + (v6 ? 40 : 20);
	if (erspan) {
		/* GRE with sequence number, then the ERSPAN type II or III header */
		ti->overhead += 8 + (ti->version == 2 ? 12 : 8);
	} else {
		ti->overhead += 4 + (oflags & GRE_KEY ? 4 : 0) + (oflags & GRE_SEQ ? 4 : 0) +
				(oflags & GRE_CSUM ? 4 : 0);
	}
	if (v6 && !(flags & IP6_TNL_F_IGN_ENCAP_LIMIT))
		ti->overhead += 8; /* the destination option carrying the encapsulation limit */
}

static const char *gretap_oversize(const struct ifm_tunnel_info *ti, const struct ifm_headroom *h,
				   char *buf, size_t len)
{
	(void)h;
	(void)buf;
	(void)len;
	return ti->df ? NULL
		      : "such copies leave as IP fragments, those of IPv4 packets with DF are dropped";
}

static const char *erspan_oversize(const struct ifm_tunnel_info *ti, const struct ifm_headroom *h,
				   char *buf, size_t len)
{
	(void)ti;
	snprintf(buf, len, "erspan cuts such copies to %u bytes", h->snaplen);
	return buf;
}

const struct ifm_tunnel_ops ifm_tunnel_gretap = {
	.type = "gretap",
	.kind4 = "gretap",
	.kind6 = "ip6gretap",
	.module4 = "ip_gre",
	.module6 = "ip6_gre",
	.module_adds_devices = true,
	.id_key = "key",
	.id_words = "key",
	.id_max = 4294967295UL,
	.mtu_by_route = true,
	.local6_needed = true,
	.build = build,
	.parse = parse,
	.oversize = gretap_oversize,
};

const struct ifm_tunnel_ops ifm_tunnel_erspan = {
	.type = "erspan",
	.kind4 = "erspan",
	.kind6 = "ip6erspan",
	.module4 = "ip_gre",
	.module6 = "ip6_gre",
	.module_adds_devices = true,
	.id_key = "session-id",
	.id_words = "session id",
	.id_max = 1023,
	.id_required = true,
	.mtu_by_route = true,
	.local6_needed = true,
	.versions = true,
	.cuts_to_mtu = true,
	.build = build,
	.parse = parse,
	.oversize = erspan_oversize,
};
