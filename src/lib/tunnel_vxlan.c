// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VXLAN (RFC 7348): what AWS Traffic Mirroring and many IDS setups use, UDP
 * port 4789. Overhead: outer Ethernet + IPv4 20 / IPv6 40 + UDP 8 + VXLAN 8,
 * i.e. 50 / 70 bytes between the underlay's MTU and the tunnel's. The
 * kernel sets DF on the outer IPv4 header only when asked (ifmirror does
 * not), so an oversize copy is fragmented; over IPv6 it is dropped.
 */
#include "ifmirror.h"

#include <arpa/inet.h>
#include <string.h>
#include <linux/if_link.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>

static int put_addr(struct nl_msg *msg, int attr4, int attr6, int family, const unsigned char *a)
{
	return family == AF_INET6 ? nla_put(msg, attr6, 16, a) : nla_put(msg, attr4, 4, a);
}

static int build(struct nl_msg *msg, const struct ifm_tunnel_spec *t,
		 const struct ifm_tunnel_addrs *a, int dev)
{
	int r = 0;

	r |= nla_put_u32(msg, IFLA_VXLAN_ID, (uint32_t)t->id);
	r |= put_addr(msg, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, a->family, a->remote);
	if (a->has_local)
		r |= put_addr(msg, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, a->family, a->local);
	if (dev)
		r |= nla_put_u32(msg, IFLA_VXLAN_LINK, (uint32_t)dev);
	r |= nla_put_u16(msg, IFLA_VXLAN_PORT, htons((uint16_t)a->dstport));
	r |= nla_put_u8(msg, IFLA_VXLAN_LEARNING, 0);
	return r < 0 ? -1 : 0;
}

static void parse(struct nlattr *data, struct ifm_tunnel_info *ti)
{
	struct nlattr *tb[IFLA_VXLAN_MAX + 1];

	ti->dstport = 4789;
	if (!data || nla_parse_nested(tb, IFLA_VXLAN_MAX, data, NULL) < 0)
		return;
	if (tb[IFLA_VXLAN_GROUP6] && nla_len(tb[IFLA_VXLAN_GROUP6]) == 16) {
		ti->family = AF_INET6;
		memcpy(ti->remote, nla_data(tb[IFLA_VXLAN_GROUP6]), 16);
	} else if (tb[IFLA_VXLAN_GROUP] && nla_len(tb[IFLA_VXLAN_GROUP]) == 4) {
		ti->family = AF_INET;
		memcpy(ti->remote, nla_data(tb[IFLA_VXLAN_GROUP]), 4);
	}
	if (tb[IFLA_VXLAN_LOCAL6] && nla_len(tb[IFLA_VXLAN_LOCAL6]) == 16) {
		ti->family = AF_INET6;
		memcpy(ti->local, nla_data(tb[IFLA_VXLAN_LOCAL6]), 16);
	} else if (tb[IFLA_VXLAN_LOCAL] && nla_len(tb[IFLA_VXLAN_LOCAL]) == 4) {
		memcpy(ti->local, nla_data(tb[IFLA_VXLAN_LOCAL]), 4);
	}
	if (tb[IFLA_VXLAN_ID]) {
		ti->id = nla_get_u32(tb[IFLA_VXLAN_ID]);
		ti->has_id = true;
	}
	if (tb[IFLA_VXLAN_LINK])
		ti->link = (int)nla_get_u32(tb[IFLA_VXLAN_LINK]);
	if (tb[IFLA_VXLAN_PORT])
		ti->dstport = ntohs(nla_get_u16(tb[IFLA_VXLAN_PORT]));
	/* the kernel sets DF on the outer IPv4 header only when asked */
	ti->df = ti->family == AF_INET6 ||
		 (tb[IFLA_VXLAN_DF] && nla_get_u8(tb[IFLA_VXLAN_DF]) != VXLAN_DF_UNSET);
	ti->overhead = IFM_ETH_HDR + (ti->family == AF_INET6 ? 40 : 20) + 8 /* UDP */ + 8 /* VXLAN */;
}

const struct ifm_tunnel_ops ifm_tunnel_vxlan = {
	.type = "vxlan",
	.kind4 = "vxlan",
	.kind6 = "vxlan",
	.module4 = "vxlan",
	.module6 = "vxlan",
	.id_key = "vni",
	.id_words = "vni",
	.id_max = 16777215UL,
	.id_required = true,
	.dstport_default = 4789,
	.build = build,
	.parse = parse,
};
