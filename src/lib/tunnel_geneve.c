// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Geneve (RFC 8926): what OVS, Antrea and newer cloud mirroring use, UDP
 * port 6081, a 24-bit VNI. One kind, "geneve", over IPv4 (IFLA_GENEVE_REMOTE)
 * and IPv6 (IFLA_GENEVE_REMOTE6) underlays. The kernel's geneve has no local
 * address and no underlay device: the route to the remote picks both, and
 * the kernel binds the tunnel's MTU to that route's device. Overhead: outer
 * Ethernet + IPv4 20 / IPv6 40 + UDP 8 + Geneve 8 (no options), 50 / 70
 * bytes between the underlay's MTU and the tunnel's. Like vxlan, DF on the
 * outer IPv4 header only when asked (ifmirror does not): an oversize copy is
 * fragmented; over IPv6 it is dropped.
 */
#include "ifmirror.h"

#include <arpa/inet.h>
#include <string.h>
#include <linux/if_link.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>

static int build(struct nl_msg *msg, const struct ifm_tunnel_spec *t,
		 const struct ifm_tunnel_addrs *a, int dev)
{
	int r = 0;

	(void)dev;   /* no underlay device: refused by the spec's judge */
	r |= nla_put_u32(msg, IFLA_GENEVE_ID, (uint32_t)t->id);
	if (a->family == AF_INET6)
		r |= nla_put(msg, IFLA_GENEVE_REMOTE6, 16, a->remote);
	else
		r |= nla_put(msg, IFLA_GENEVE_REMOTE, 4, a->remote);
	r |= nla_put_u16(msg, IFLA_GENEVE_PORT, htons((uint16_t)a->dstport));
	return r < 0 ? -1 : 0;
}

static void parse(struct nlattr *data, struct ifm_tunnel_info *ti)
{
	struct nlattr *tb[IFLA_GENEVE_MAX + 1];

	ti->dstport = 6081;
	if (!data || nla_parse_nested(tb, IFLA_GENEVE_MAX, data, NULL) < 0)
		return;
	if (tb[IFLA_GENEVE_REMOTE6] && nla_len(tb[IFLA_GENEVE_REMOTE6]) == 16) {
		ti->family = AF_INET6;
		memcpy(ti->remote, nla_data(tb[IFLA_GENEVE_REMOTE6]), 16);
	} else if (tb[IFLA_GENEVE_REMOTE] && nla_len(tb[IFLA_GENEVE_REMOTE]) == 4) {
		ti->family = AF_INET;
		memcpy(ti->remote, nla_data(tb[IFLA_GENEVE_REMOTE]), 4);
	}
	if (tb[IFLA_GENEVE_ID]) {
		ti->id = nla_get_u32(tb[IFLA_GENEVE_ID]);
		ti->has_id = true;
	}
	if (tb[IFLA_GENEVE_PORT])
		ti->dstport = ntohs(nla_get_u16(tb[IFLA_GENEVE_PORT]));
	ti->df = ti->family == AF_INET6 ||
		 (tb[IFLA_GENEVE_DF] && nla_get_u8(tb[IFLA_GENEVE_DF]) != GENEVE_DF_UNSET);
	ti->overhead = IFM_ETH_HDR + (ti->family == AF_INET6 ? 40 : 20) + 8 /* UDP */ + 8 /* Geneve */;
}

const struct ifm_tunnel_ops ifm_tunnel_geneve = {
	.type = "geneve",
	.kind4 = "geneve",
	.kind6 = "geneve",
	.module4 = "geneve",
	.module6 = "geneve",
	.id_key = "vni",
	.id_words = "vni",
	.id_max = 16777215UL,
	.id_required = true,
	.dstport_default = 6081,
	.mtu_by_route = true,
	.no_local = true,
	.no_dev = true,
	.build = build,
	.parse = parse,
};
