// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Encapsulation costs bytes: the kernel gives a tunnel bound to an underlay
 * the MTU "underlay MTU - overhead", and a copy larger than that is
 * fragmented, dropped or cut, by the tunnel type (see its ops). Here: does
 * the underlay carry a frame of a size whole, and the warning that says so.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

/* ---- the underlay: --dev, or the device of the route to the remote ---- */

struct route_ans {
	bool got, has_src;
	int oif;
	unsigned int mtu;
	unsigned char src[16];
};

static int route_cb(struct nlmsghdr *hdr, void *arg)
{
	struct route_ans *a = arg;
	struct rtmsg *rtm = nlmsg_data(hdr);
	struct nlattr *tb[RTA_MAX + 1], *mx[RTAX_MAX + 1];

	if (hdr->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(hdr, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return 0;
	a->got = true;
	if (tb[RTA_OIF])
		a->oif = (int)nla_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PREFSRC] && (nla_len(tb[RTA_PREFSRC]) == 4 || nla_len(tb[RTA_PREFSRC]) == 16)) {
		memcpy(a->src, nla_data(tb[RTA_PREFSRC]), (size_t)nla_len(tb[RTA_PREFSRC]));
		a->has_src = true;
	}
	if (tb[RTA_METRICS] && nla_parse_nested(mx, RTAX_MAX, tb[RTA_METRICS], NULL) == 0 &&
	    mx[RTAX_MTU])
		a->mtu = nla_get_u32(mx[RTAX_MTU]);
	return 0;
}

static int route_get(struct ifm_nl *nl, int family, const unsigned char *dst, int oif,
		     struct route_ans *a)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)family,
			     .rtm_dst_len = (unsigned char)(family == AF_INET6 ? 128 : 32) };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);

	memset(a, 0, sizeof(*a));
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, family == AF_INET6 ? 16 : 4, dst) < 0 ||
	    (oif && nla_put_u32(msg, RTA_OIF, (uint32_t)oif) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return ifm_nl_get(nl, msg, route_cb, a);
}

int ifm_route_source(struct ifm_nl *nl, int family, const unsigned char *dst, int oif,
		     unsigned char *src)
{
	struct route_ans a;
	int r = route_get(nl, family, dst, oif, &a);

	if (r < 0)
		return r;
	if (!a.got)
		return -ENETUNREACH;
	if (!a.has_src || ifm_addr_is_zero(a.src))
		return -EADDRNOTAVAIL;
	memcpy(src, a.src, 16);
	return 0;
}

void ifm_headroom_compute(const struct ifm_tunnel_info *ti, unsigned int underlay_mtu,
			  unsigned int frame, struct ifm_headroom *h)
{
	h->underlay_mtu = underlay_mtu;
	h->frame = frame;
	h->need = frame + ti->overhead - IFM_ETH_HDR;
	h->snaplen = underlay_mtu > ti->overhead ? underlay_mtu - ti->overhead + IFM_ETH_HDR : 0;
	/* a tunnel that cuts frames longer than its own MTU itself (erspan) */
	if (ti->ops && ti->ops->cuts_to_mtu && ti->mtu && ti->mtu + IFM_ETH_HDR < h->snaplen)
		h->snaplen = ti->mtu + IFM_ETH_HDR;
	h->fits = frame <= h->snaplen;
}

/*
 * Can the underlay carry a frame of this size whole? The underlay is the
 * tunnel's own device when it has one, else the device of the route to
 * the remote; a route's MTU (a metric, or a learned path MTU) counts too.
 */
int ifm_tunnel_headroom(struct ifm_nl *nl, const struct ifm_tunnel_info *ti, unsigned int frame,
			struct ifm_headroom *h)
{
	struct ifm_tunnel_info u;
	struct route_ans a = { 0 };
	int r, dev = ti->link;

	memset(h, 0, sizeof(*h));
	if (!ti->type || !ti->family || ifm_addr_is_zero(ti->remote))
		return -EDESTADDRREQ;
	r = route_get(nl, ti->family, ti->remote, dev, &a);
	if (r == 0 && a.oif)
		dev = a.oif;
	if (!dev)
		return r < 0 ? r : -ENETUNREACH;
	r = ifm_tnl_link(nl, NULL, dev, &u);
	if (r < 0)
		return r;
	snprintf(h->underlay, sizeof(h->underlay), "%s", u.name);
	ifm_headroom_compute(ti, a.mtu && a.mtu < u.mtu ? a.mtu : u.mtu, frame, h);
	return 0;
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* "1514-byte frames (FROM) + 36 bytes of vxlan/IPv4 headers = 1550 > 1500, ...: consequence" */
void ifm_headroom_text(const struct ifm_tunnel_info *ti, const struct ifm_headroom *h,
		       const char *from, char *buf, size_t len)
{
	const char *what = NULL;
	char cut[64];

	if (ti->ops && ti->ops->oversize)
		what = ti->ops->oversize(ti, h, cut, sizeof(cut));
	if (!what)
		what = ti->df ? "such copies are dropped" : "such copies leave as IP fragments";
	snprintf(buf, len, "%u-byte frames (%s) + %u bytes of %s/%s headers = %u > %u, the MTU of "
		 "the underlay %s: %s", h->frame, from, ti->overhead - IFM_ETH_HDR, ti->type,
		 family_name(ti->family), h->need, h->underlay_mtu, h->underlay, what);
}

