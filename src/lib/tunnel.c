// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Remote collectors: a tunnel device (vxlan, gretap or erspan, over IPv4 or
 * IPv6) that mirror sessions send their copies into.
 *
 * The tunnel records what it is in its alias, in the kernel:
 *   "ifmirror-tunnel type=vxlan remote=192.0.2.2 vni=42"
 * which is both the mark of ownership (a same-named device without it is
 * never touched) and the spec `tunnel up` compares to: the same spec again
 * changes nothing, another one re-creates the device (a vxlan's VNI cannot
 * be changed in place) and re-points the sessions that mirrored into it.
 *
 * Encapsulation costs bytes: the kernel gives a tunnel bound to an underlay
 * the MTU "underlay MTU - overhead", and a copy larger than that is
 * fragmented (vxlan and gretap over IPv4: ifmirror sets no DF bit), dropped
 * (over IPv6, or inner IPv4 with DF through GRE) or cut (erspan). Measured
 * overheads (bytes between the underlay's MTU and the tunnel's, i.e. the
 * outer Ethernet header plus everything the tunnel prepends):
 *   vxlan 50 / 70 (IPv4 / IPv6 underlay), gretap with key 42 / 62 (38 / 58
 *   without), erspan version 1: 50 / 70.
 * IPv6 GRE tunnels are made without the 8-byte encapsulation-limit option
 * (iproute2's "encaplimit none"), which collectors do not need.
 */
#include "ifmirror.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#define ETH_HDR 14
#define VXLAN_PORT_DEFAULT 4789
#define VNI_MAX 16777215UL
#define ERSPAN_ID_MAX 1023UL
#define KEY_MAX 4294967295UL

const char *ifm_tunnel_module(const char *kind)
{
	if (!strcmp(kind, "vxlan"))
		return "vxlan";
	if (!strcmp(kind, "gretap") || !strcmp(kind, "erspan"))
		return "ip_gre";
	if (!strcmp(kind, "ip6gretap") || !strcmp(kind, "ip6erspan"))
		return "ip6_gre";
	return kind;
}

static int addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static void parse_vxlan(struct nlattr *data, struct ifm_tunnel_info *ti)
{
	struct nlattr *tb[IFLA_VXLAN_MAX + 1];

	ti->dstport = VXLAN_PORT_DEFAULT;
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
	ti->overhead = ETH_HDR + (ti->family == AF_INET6 ? 40 : 20) + 8 /* UDP */ + 8 /* VXLAN */;
}

static void parse_gre(struct nlattr *data, struct ifm_tunnel_info *ti, bool v6, bool erspan)
{
	struct nlattr *tb[IFLA_GRE_MAX + 1];
	uint16_t oflags = 0;
	uint32_t flags = 0;
	int ver = 1;

	ti->family = v6 ? AF_INET6 : AF_INET;
	if (data && nla_parse_nested(tb, IFLA_GRE_MAX, data, NULL) == 0) {
		if (tb[IFLA_GRE_REMOTE] && nla_len(tb[IFLA_GRE_REMOTE]) == addr_len(ti->family))
			memcpy(ti->remote, nla_data(tb[IFLA_GRE_REMOTE]), (size_t)addr_len(ti->family));
		if (tb[IFLA_GRE_LOCAL] && nla_len(tb[IFLA_GRE_LOCAL]) == addr_len(ti->family))
			memcpy(ti->local, nla_data(tb[IFLA_GRE_LOCAL]), (size_t)addr_len(ti->family));
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
		if (tb[IFLA_GRE_ERSPAN_VER])
			ver = nla_get_u8(tb[IFLA_GRE_ERSPAN_VER]);
		ti->df = v6 || !tb[IFLA_GRE_PMTUDISC] || nla_get_u8(tb[IFLA_GRE_PMTUDISC]);
	}
	ti->overhead = ETH_HDR + (v6 ? 40 : 20);
	if (erspan) {
		/* GRE with sequence number, then the ERSPAN type II or III header */
		ti->overhead += 8 + (ver == 2 ? 12 : 8);
	} else {
		ti->overhead += 4 + (oflags & GRE_KEY ? 4 : 0) + (oflags & GRE_SEQ ? 4 : 0) +
				(oflags & GRE_CSUM ? 4 : 0);
	}
	if (v6 && !(flags & IP6_TNL_F_IGN_ENCAP_LIMIT))
		ti->overhead += 8; /* the destination option carrying the encapsulation limit */
}

static int link_cb(struct nlmsghdr *hdr, void *arg)
{
	struct ifm_tunnel_info *ti = arg;
	struct ifinfomsg *ifi = nlmsg_data(hdr);
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];

	if (hdr->nlmsg_type != RTM_NEWLINK || nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return 0;
	memset(ti, 0, sizeof(*ti));
	ti->ifindex = ifi->ifi_index;
	ti->flags = ifi->ifi_flags;
	if (tb[IFLA_IFNAME])
		snprintf(ti->name, sizeof(ti->name), "%s", nla_get_string(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		ti->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_LINK])
		ti->link = (int)nla_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_MASTER])
		ti->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_IFALIAS])
		snprintf(ti->alias, sizeof(ti->alias), "%.*s", nla_len(tb[IFLA_IFALIAS]),
			 (const char *)nla_data(tb[IFLA_IFALIAS]));
	if (!tb[IFLA_LINKINFO] || nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0 ||
	    !li[IFLA_INFO_KIND])
		return 0;
	snprintf(ti->kind, sizeof(ti->kind), "%s", nla_get_string(li[IFLA_INFO_KIND]));
	if (!strcmp(ti->kind, "vxlan")) {
		ti->type = "vxlan";
		parse_vxlan(li[IFLA_INFO_DATA], ti);
	} else if (!strcmp(ti->kind, "gretap") || !strcmp(ti->kind, "ip6gretap")) {
		ti->type = "gretap";
		parse_gre(li[IFLA_INFO_DATA], ti, ti->kind[0] == 'i', false);
	} else if (!strcmp(ti->kind, "erspan") || !strcmp(ti->kind, "ip6erspan")) {
		ti->type = "erspan";
		parse_gre(li[IFLA_INFO_DATA], ti, ti->kind[0] == 'i', true);
	}
	return 0;
}

/* A device with what its kind says about a tunnel: -ENODEV when there is none. */
int ifm_tnl_link(struct ifm_nl *nl, const char *name, int ifindex, struct ifm_tunnel_info *ti)
{
	struct nl_msg *msg = ifm_link_msg(RTM_GETLINK, 0, ifindex);
	int r;

	memset(ti, 0, sizeof(*ti));
	if (!msg)
		return -ENOMEM;
	if (name && nla_put_string(msg, IFLA_IFNAME, name) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = ifm_nl_get(nl, msg, link_cb, ti);
	if (r == 0 && !ti->ifindex)
		r = -ENODEV;
	return r;
}

struct infos {
	struct ifm_tunnel_info *v;
	size_t n, cap;
};

static int infos_cb(struct nlmsghdr *hdr, void *arg)
{
	struct infos *s = arg;

	if (hdr->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct ifm_tunnel_info *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	link_cb(hdr, &s->v[s->n]);
	if (s->v[s->n].ifindex)
		s->n++;
	return 0;
}

/* Every device of this namespace; *out is malloc'ed. */
int ifm_tnl_links(struct ifm_nl *nl, struct ifm_tunnel_info **out, size_t *n)
{
	struct infos s = { 0 };
	struct nl_msg *msg = ifm_link_msg(RTM_GETLINK, NLM_F_DUMP, 0);
	int r;

	*out = NULL;
	*n = 0;
	if (!msg)
		return -ENOMEM;
	r = ifm_nl_dump(nl, msg, infos_cb, &s);
	if (r < 0) {
		free(s.v);
		return r;
	}
	*out = s.v;
	*n = s.n;
	return 0;
}

/* ---- the underlay: --dev, or the device of the route to the remote ---- */

struct route_ans {
	bool got;
	int oif;
	unsigned int mtu;
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
	    nla_put(msg, RTA_DST, addr_len(family), dst) < 0 ||
	    (oif && nla_put_u32(msg, RTA_OIF, (uint32_t)oif) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return ifm_nl_get(nl, msg, route_cb, a);
}

static bool addr_zero(const unsigned char *a)
{
	static const unsigned char zero[16];

	return !memcmp(a, zero, sizeof(zero));
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
	if (!ti->type || !ti->family || addr_zero(ti->remote))
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
	h->underlay_mtu = u.mtu;
	if (a.mtu && a.mtu < h->underlay_mtu)
		h->underlay_mtu = a.mtu;
	h->frame = frame;
	h->need = frame + ti->overhead - ETH_HDR;
	h->snaplen = h->underlay_mtu > ti->overhead ? h->underlay_mtu - ti->overhead + ETH_HDR : 0;
	/* erspan cuts frames longer than its own MTU itself */
	if (!strcmp(ti->type, "erspan") && ti->mtu && ti->mtu + ETH_HDR < h->snaplen)
		h->snaplen = ti->mtu + ETH_HDR;
	h->fits = frame <= h->snaplen;
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
	const char *what;
	char cut[64];

	if (!strcmp(ti->type, "erspan")) {
		snprintf(cut, sizeof(cut), "erspan cuts such copies to %u bytes", h->snaplen);
		what = cut;
	} else if (ti->df) {
		what = "such copies are dropped";
	} else if (!strcmp(ti->type, "vxlan")) {
		what = "such copies leave as IP fragments";
	} else {
		what = "such copies leave as IP fragments, those of IPv4 packets with DF are dropped";
	}
	snprintf(buf, len, "%u-byte frames (%s) + %u bytes of %s/%s headers = %u > %u, the MTU of "
		 "the underlay %s: %s", h->frame, from, ti->overhead - ETH_HDR, ti->type,
		 family_name(ti->family), h->need, h->underlay_mtu, h->underlay, what);
}

/* ---- the spec, its alias, and the kernel's link message ---- */

struct parsed {
	const char *kind;         /* rtnl kind */
	int family;
	unsigned char remote[16], local[16];
	bool has_local;
	unsigned int dstport;
};

const char *ifm_tunnel_spec_problem(const struct ifm_tunnel_spec *t, char *buf, size_t len)
{
	unsigned char a[16] = { 0 };
	int fr, fl = 0;

	if (!t->type || (strcmp(t->type, "vxlan") && strcmp(t->type, "gretap") &&
			 strcmp(t->type, "erspan")))
		return "the type must be vxlan, gretap or erspan";
	if (!t->remote || !*t->remote)
		return "needs a remote address";
	fr = inet_pton(AF_INET, t->remote, a) == 1 ? AF_INET
	   : inet_pton(AF_INET6, t->remote, a) == 1 ? AF_INET6 : 0;
	if (!fr) {
		snprintf(buf, len, "remote '%.64s': not an IPv4 or IPv6 address", t->remote);
		return buf;
	}
	if (addr_zero(a)) {
		snprintf(buf, len, "remote '%.64s': not a usable address", t->remote);
		return buf;
	}
	if (t->local) {
		memset(a, 0, sizeof(a));
		fl = inet_pton(AF_INET, t->local, a) == 1 ? AF_INET
		   : inet_pton(AF_INET6, t->local, a) == 1 ? AF_INET6 : 0;
		if (!fl) {
			snprintf(buf, len, "local '%.64s': not an IPv4 or IPv6 address", t->local);
			return buf;
		}
		if (fl != fr) {
			snprintf(buf, len, "local %.64s and remote %.64s are not of one address family",
				 t->local, t->remote);
			return buf;
		}
	}
	if (t->dev && ifm_ifname_problem(t->dev)) {
		snprintf(buf, len, "dev '%.40s': %s", t->dev, ifm_ifname_problem(t->dev));
		return buf;
	}
	if (t->dev && t->name && !strcmp(t->dev, t->name))
		return "the underlay device cannot be the tunnel itself";
	if (!strcmp(t->type, "vxlan")) {
		if (!t->has_id)
			return "vxlan needs a VNI (0 to 16777215)";
		if (t->id > VNI_MAX)
			return "the VNI must be 0 to 16777215";
		if (t->dstport > 65535)
			return "the UDP port must be 1 to 65535";
	} else {
		if (t->dstport)
			return "a UDP destination port is for vxlan only";
		if (!strcmp(t->type, "erspan")) {
			if (!t->has_id)
				return "erspan needs a session id (0 to 1023)";
			if (t->id > ERSPAN_ID_MAX)
				return "the erspan session id must be 0 to 1023";
		} else if (t->has_id && t->id > KEY_MAX) {
			return "the GRE key must be 0 to 4294967295";
		}
	}
	if (t->snaplen && (t->snaplen < IFM_SNAPLEN_MIN || t->snaplen > IFM_SNAPLEN_MAX))
		return "snaplen must be 14 to 65535";
	return NULL;
}

static void spec_parse(const struct ifm_tunnel_spec *t, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->family = inet_pton(AF_INET, t->remote, p->remote) == 1 ? AF_INET : AF_INET6;
	if (p->family == AF_INET6)
		inet_pton(AF_INET6, t->remote, p->remote);
	if (t->local)
		p->has_local = inet_pton(p->family, t->local, p->local) == 1;
	p->dstport = t->dstport ? t->dstport : VXLAN_PORT_DEFAULT;
	if (!strcmp(t->type, "vxlan"))
		p->kind = "vxlan";
	else if (!strcmp(t->type, "gretap"))
		p->kind = p->family == AF_INET6 ? "ip6gretap" : "gretap";
	else
		p->kind = p->family == AF_INET6 ? "ip6erspan" : "erspan";
}

static const char *id_name(const char *type)
{
	return !strcmp(type, "vxlan") ? "vni" : !strcmp(type, "gretap") ? "key" : "session-id";
}

/* the canonical text of a spec: addresses as inet_ntop writes them */
static void spec_alias(const struct ifm_tunnel_spec *t, const struct parsed *p, char *buf,
		       size_t len)
{
	char a[INET6_ADDRSTRLEN];
	size_t n;

	inet_ntop(p->family, p->remote, a, sizeof(a));
	n = (size_t)snprintf(buf, len, "%s type=%s remote=%s", IFM_MARK_TUNNEL, t->type, a);
	if (p->has_local && n < len) {
		inet_ntop(p->family, p->local, a, sizeof(a));
		n += (size_t)snprintf(buf + n, len - n, " local=%s", a);
	}
	if (t->dev && n < len)
		n += (size_t)snprintf(buf + n, len - n, " dev=%s", t->dev);
	if (t->has_id && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s=%lu", id_name(t->type), t->id);
	if (p->dstport != VXLAN_PORT_DEFAULT && n < len)
		snprintf(buf + n, len - n, " dstport=%u", p->dstport);
}

/* The spec an alias records, for putting an old tunnel back; strings live in store. */
static bool alias_spec(const char *name, const char *alias, struct ifm_tunnel_spec *t,
		       char *store, size_t len)
{
	char *save = NULL;

	memset(t, 0, sizeof(*t));
	t->name = name;
	if (!ifm_tunnel_mark_is(alias))
		return false;
	snprintf(store, len, "%s", alias + strlen(IFM_MARK_TUNNEL));
	for (char *w = strtok_r(store, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *v = strchr(w, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(w, "type"))
			t->type = v;
		else if (!strcmp(w, "remote"))
			t->remote = v;
		else if (!strcmp(w, "local"))
			t->local = v;
		else if (!strcmp(w, "dev"))
			t->dev = v;
		else if (!strcmp(w, "dstport"))
			t->dstport = (unsigned int)strtoul(v, NULL, 10);
		else if (!strcmp(w, "vni") || !strcmp(w, "key") || !strcmp(w, "session-id")) {
			t->id = strtoul(v, NULL, 10);
			t->has_id = true;
		}
	}
	return t->type && t->remote;
}

static int put_addr(struct nl_msg *msg, int attr4, int attr6, int family, const unsigned char *a)
{
	return family == AF_INET6 ? nla_put(msg, attr6, 16, a) : nla_put(msg, attr4, 4, a);
}

static struct nl_msg *tunnel_msg(const char *name, const struct ifm_tunnel_spec *t,
				 const struct parsed *p, int dev)
{
	struct nl_msg *msg = ifm_link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data;
	bool v6 = p->family == AF_INET6;
	int r = 0;

	if (!msg)
		return NULL;
	if (nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, p->kind) < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)))
		goto nomem;
	if (!strcmp(t->type, "vxlan")) {
		r |= nla_put_u32(msg, IFLA_VXLAN_ID, (uint32_t)t->id);
		r |= put_addr(msg, IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, p->family, p->remote);
		if (p->has_local)
			r |= put_addr(msg, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, p->family, p->local);
		if (dev)
			r |= nla_put_u32(msg, IFLA_VXLAN_LINK, (uint32_t)dev);
		r |= nla_put_u16(msg, IFLA_VXLAN_PORT, htons((uint16_t)p->dstport));
		r |= nla_put_u8(msg, IFLA_VXLAN_LEARNING, 0);
	} else {
		bool erspan = !strcmp(t->type, "erspan");
		uint16_t gflags = (uint16_t)((t->has_id ? GRE_KEY : 0) | (erspan ? GRE_SEQ : 0));

		r |= put_addr(msg, IFLA_GRE_REMOTE, IFLA_GRE_REMOTE, p->family, p->remote);
		if (p->has_local)
			r |= put_addr(msg, IFLA_GRE_LOCAL, IFLA_GRE_LOCAL, p->family, p->local);
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
		if (erspan)
			r |= nla_put_u8(msg, IFLA_GRE_ERSPAN_VER, 1);
	}
	if (r < 0)
		goto nomem;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return msg;
nomem:
	nlmsg_free(msg);
	return NULL;
}

/* -EOPNOTSUPP when the kernel (or IFMIRROR_AVOID) has no such kind */
static int tunnel_create(struct ifm_nl *nl, const char *name, const struct ifm_tunnel_spec *t,
			 const struct parsed *p, int dev)
{
	struct nl_msg *msg;

	if (ifm_avoid(t->type) || ifm_avoid(p->kind))
		return -EOPNOTSUPP; /* see IFMIRROR_AVOID in ifmirror(8) */
	msg = tunnel_msg(name, t, p, dev);
	return msg ? ifm_nl_talk(nl, msg) : -ENOMEM;
}

/*
 * Does the kernel know this link kind? Asked without creating anything: a
 * request whose first data attribute is too short for the kind's policy
 * fails with EOPNOTSUPP when the kind is unknown, else with the policy's
 * error (vxlan's and GRE's attribute 1 are both u32s).
 */
static int kind_known(struct ifm_nl *nl, const char *kind)
{
	struct nl_msg *msg = ifm_link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data;
	uint8_t one = 0;
	int r;

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, IFLA_IFNAME, "ifmprobe0") < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, kind) < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) || nla_put(msg, 1, 1, &one) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	r = ifm_nl_talk(nl, msg);
	if (r == 0) { /* a kernel that took it anyway */
		struct ifm_tunnel_info ti;

		if (ifm_tnl_link(nl, "ifmprobe0", 0, &ti) == 0)
			ifm_link_delete(nl, ti.ifindex);
	}
	return r == -EOPNOTSUPP ? r : 0;
}

/* For `check`: can this kernel make such a tunnel? (in a scratch namespace) */
int ifm_tunnel_probe(struct ifm_nl *nl, const char *type, int family)
{
	struct ifm_tunnel_spec t = {
		.name = "ifmprobe0",
		.type = type,
		.remote = family == AF_INET6 ? "2001:db8::2" : "192.0.2.2",
		.local = family == AF_INET6 ? "2001:db8::1" : "192.0.2.1",
		.id = 1,
		.has_id = true,
	};
	struct ifm_tunnel_info ti;
	struct parsed p;
	int r;

	spec_parse(&t, &p);
	r = tunnel_create(nl, t.name, &t, &p, 0);
	if (r == 0 && ifm_tnl_link(nl, t.name, 0, &ti) == 0)
		ifm_link_delete(nl, ti.ifindex);
	return r;
}

static void missing_kind(const char *type, const char *kind, char *buf, size_t len)
{
	snprintf(buf, len, "the kernel has no %s devices (kernel module %s)%s", kind,
		 ifm_tunnel_module(kind), ifm_avoid(type) || ifm_avoid(kind)
		 ? " (treated as missing: IFMIRROR_AVOID)" : "");
}

/* ---- sessions into the tunnel ---- */

/* Sources that mirror into ifindex: how many, and the largest MTU among them. */
static int sources_into(struct ifm_nl *nl, int ifindex, unsigned int *max_mtu)
{
	struct ifm_tunnel_info *links = NULL;
	size_t n = 0;
	int count = 0;

	*max_mtu = 0;
	if (ifm_tnl_links(nl, &links, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct ifm_dev_tc t;
		bool into = false;

		if (links[i].ifindex == ifindex || ifm_dev_tc_scan(nl, links[i].ifindex, &t) < 0)
			continue;
		for (size_t j = 0; j < t.nf; j++)
			if (ifm_filter_is_ours(&t.f[j]) && t.f[j].act.ifindex == ifindex)
				into = true;
		ifm_dev_tc_free(&t);
		if (into) {
			count++;
			if (links[i].mtu > *max_mtu)
				*max_mtu = links[i].mtu;
		}
	}
	free(links);
	return count;
}

static void describe(const struct ifm_tunnel_spec *t, const struct parsed *p, char *buf,
		     size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s to %s", p->kind, t->remote);

	if (t->has_id && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", %s %lu",
				      !strcmp(t->type, "vxlan") ? "vni" :
				      !strcmp(t->type, "gretap") ? "key" : "session id", t->id);
	if (!strcmp(t->type, "vxlan") && n < len)
		snprintf(buf + n, len - n, ", UDP port %u", p->dstport);
}

/* The MTU warning of `tunnel up`: for the sources mirroring into it, else 1500. */
static void warn_headroom(struct ifm_nl *nl, const struct ifm_tunnel_spec *t, bool fresh)
{
	const char *name = t->name;
	struct ifm_tunnel_info ti;
	struct ifm_headroom h;
	unsigned int src_mtu = 0, frame;
	char text[400], from[80];
	int r, nsrc;

	if (ifm_tnl_link(nl, name, 0, &ti) < 0 || !ti.type)
		return;
	/* sources may come later: Ethernet's usual 1500 bytes at least */
	nsrc = sources_into(nl, ti.ifindex, &src_mtu);
	if (src_mtu <= 1500) {
		src_mtu = 1500;
		nsrc = 0;
	}
	frame = src_mtu + ETH_HDR;
	if (t->snaplen && t->snaplen < frame)
		frame = t->snaplen;
	r = ifm_tunnel_headroom(nl, &ti, frame, &h);
	if (r < 0) {
		fflush(stdout);
		ifm_notice("%s: no route to %s yet: cannot tell whether the underlay carries whole "
			   "copies (see ifmirror check)", name, t->remote);
		return;
	}
	/* the kernel's own MTU for a tunnel it bound to the underlay is the truth */
	if (fresh && ti.mtu && ti.mtu + ti.overhead < h.underlay_mtu &&
	    (ti.link || strcmp(ti.type, "vxlan"))) {
		ti.overhead = h.underlay_mtu - ti.mtu;
		r = ifm_tunnel_headroom(nl, &ti, frame, &h);
	}
	if (r < 0 || h.fits)
		return;
	if (frame < src_mtu + ETH_HDR)
		snprintf(from, sizeof(from), "--snaplen %u", frame);
	else
		snprintf(from, sizeof(from), "%s MTU %u", nsrc ? "its sources' largest" :
			 "sources with", src_mtu);
	ifm_headroom_text(&ti, &h, from, text, sizeof(text));
	ifm_warn("%s: %s; raise %s's MTU to %u (%u for VLAN-tagged frames), or cut copies with "
		 "--snaplen %u", name, text, h.underlay, h.need,
		h.need + 4, h.snaplen);
}

/* ---- tunnel up / down ---- */

int ifm_tunnel_up(struct ifm_nl *nl, const struct ifm_tunnel_spec *t)
{
	struct ifm_tunnel_info old;
	struct ifm_link dev = { 0 }, l;
	struct parsed p;
	char alias[256], problem[200], desc[160], store[256];
	const char *why;
	bool had = false, created = false;
	int r;

	if (!t->name || ifm_ifname_problem(t->name)) {
		ifm_err("%s: %s", t->name ? t->name : "tunnel",
			t->name ? ifm_ifname_problem(t->name) : "needs a name");
		return -EINVAL;
	}
	if ((why = ifm_tunnel_spec_problem(t, problem, sizeof(problem)))) {
		ifm_err("%s: %s", t->name, why);
		return -EINVAL;
	}
	spec_parse(t, &p);
	spec_alias(t, &p, alias, sizeof(alias));
	describe(t, &p, desc, sizeof(desc));
	if (t->dev && (r = ifm_link_get(nl, t->dev, &dev)) < 0) {
		ifm_err("%s: underlay %s: %s", t->name, t->dev,
			r == -ENODEV ? "no such device" : strerror(-r));
		return r;
	}

	r = ifm_tnl_link(nl, t->name, 0, &old);
	if (r < 0 && r != -ENODEV) {
		ifm_err("%s: %s", t->name, ifm_nl_reason(nl, r));
		return r;
	}
	had = r == 0;
	if (had && !ifm_tunnel_mark_is(old.alias)) {
		ifm_err("%s: exists and is not an ifmirror tunnel (no '%s' alias); not touching it",
			t->name, IFM_MARK_TUNNEL);
		return -EEXIST;
	}
	if (had && !strcmp(old.alias, alias) && (!t->dev || old.link == dev.ifindex)) {
		ifm_info("%s: tunnel unchanged (%s)", t->name, desc);
	} else {
		/* a kind the kernel lacks must not cost the old tunnel */
		if (had && strcmp(old.kind, p.kind) &&
		    (ifm_avoid(t->type) || ifm_avoid(p.kind) || kind_known(nl, p.kind) < 0)) {
			missing_kind(t->type, p.kind, problem, sizeof(problem));
			ifm_err("%s: %s; the tunnel stays as it was", t->name, problem);
			return -EOPNOTSUPP;
		}
		if (had && (r = ifm_link_delete(nl, old.ifindex)) < 0) {
			ifm_err("%s: cannot remove the old tunnel: %s", t->name, ifm_nl_reason(nl, r));
			return r;
		}
		r = tunnel_create(nl, t->name, t, &p, dev.ifindex);
		if (r < 0) {
			struct ifm_tunnel_spec o;
			struct parsed op;
			bool back = false;

			if (r == -EOPNOTSUPP)
				missing_kind(t->type, p.kind, problem, sizeof(problem));
			else
				snprintf(problem, sizeof(problem), "cannot create the %s tunnel: %s",
					 p.kind, ifm_nl_reason(nl, r));
			/* put the old one back: the sessions into it are re-pointed below */
			if (had && alias_spec(t->name, old.alias, &o, store, sizeof(store)) &&
			    !ifm_tunnel_spec_problem(&o, desc, sizeof(desc))) {
				struct ifm_link od = { 0 };

				spec_parse(&o, &op);
				back = (!o.dev || ifm_link_get(nl, o.dev, &od) == 0) &&
				       tunnel_create(nl, t->name, &o, &op, od.ifindex) == 0 &&
				       ifm_link_get(nl, t->name, &l) == 0 &&
				       ifm_link_set_alias(nl, l.ifindex, old.alias) == 0 &&
				       ifm_link_quiet_up(nl, &l) == 0;
				if (back)
				{
					bool was = ifm_quiet_set(true);

					ifm_refresh(nl, t->name);
					ifm_quiet_set(was);
				}
			}
			ifm_err("%s: %s%s", t->name, problem,
				back ? "; the tunnel stays as it was" : had ? "; the old tunnel is gone" : "");
			return r;
		}
		created = true;
		if ((r = ifm_link_get(nl, t->name, &l)) < 0 ||
		    (r = ifm_link_set_alias(nl, l.ifindex, alias)) < 0) {
			ifm_err("%s: cannot mark the tunnel as ifmirror's: %s", t->name,
				ifm_nl_reason(nl, r));
			goto fail;
		}
		if (had)
			ifm_info("%s: tunnel re-created as %s (was:%s); sessions into it are re-pointed",
			       t->name, desc, old.alias + strlen(IFM_MARK_TUNNEL));
		else
			ifm_info("%s: tunnel created (%s)", t->name, desc);
	}
	if ((r = ifm_link_get(nl, t->name, &l)) < 0)
		goto fail;
	if ((r = ifm_link_quiet_up(nl, &l)) < 0) {
		ifm_err("%s: cannot bring the tunnel up: %s", t->name, ifm_nl_reason(nl, r));
		goto fail;
	}
	if ((r = ifm_snaplen_set(nl, &l, t->snaplen)) < 0)
		goto fail;
	/* sessions waiting for this name, or left dangling by the device it replaced */
	r = ifm_refresh(nl, t->name);
	if (!ifm_quiet()) /* -q: no warnings either, as ever */
		warn_headroom(nl, t, created);
	return r;
fail:
	/* a device that is not up and marked is of no use; a re-run makes it again */
	if (created && ifm_link_get(nl, t->name, &l) == 0)
		ifm_link_delete(nl, l.ifindex);
	return r < 0 ? r : -EIO;
}

int ifm_tunnel_down(struct ifm_nl *nl, const char *name)
{
	struct ifm_tunnel_info ti;
	unsigned int mtu;
	int r, nsrc;

	r = ifm_tnl_link(nl, name, 0, &ti);
	if (r == -ENODEV) {
		ifm_info("%s: no such device, nothing to remove", name);
		return 0;
	}
	if (r < 0) {
		ifm_err("%s: %s", name, ifm_nl_reason(nl, r));
		return r;
	}
	if (!ifm_tunnel_mark_is(ti.alias)) {
		ifm_err("%s: not an ifmirror tunnel (no '%s' alias); not removing it", name,
			IFM_MARK_TUNNEL);
		return -EPERM;
	}
	nsrc = ifm_quiet() ? 0 : sources_into(nl, ti.ifindex, &mtu);
	r = ifm_link_delete(nl, ti.ifindex);
	if (r < 0) {
		ifm_err("%s: cannot delete the tunnel: %s", name, ifm_nl_reason(nl, r));
		return r;
	}
	ifm_owned_set(ti.ifindex, "clsact", false);
	if (nsrc)
		ifm_info("%s: tunnel removed; %d source%s mirrored into it (status shows them as "
		       "gone until %s is back)", name, nsrc, nsrc == 1 ? "" : "s", name);
	else
		ifm_info("%s: tunnel removed", name);
	return 0;
}
