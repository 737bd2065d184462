// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tunnel types: the table, the spec every front end fills, the alias that
 * marks a tunnel as ifmirror's and records its spec, and the link message.
 *
 * The tunnel records what it is in its alias, in the kernel:
 *   "ifmirror-tunnel type=vxlan remote=192.0.2.2 vni=42"
 * which is both the mark of ownership (a same-named device without it is
 * never touched) and the spec `tunnel up` compares to (tunnel_up.c).
 */
#include "ifmirror.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#include "tunnel_int.h"

extern const struct ifm_tunnel_ops ifm_tunnel_vxlan, ifm_tunnel_gretap, ifm_tunnel_erspan,
	ifm_tunnel_geneve;

/* A new type: its file, and one line here. */
const struct ifm_tunnel_ops *const ifm_tunnel_types[] = {
	&ifm_tunnel_vxlan,
	&ifm_tunnel_gretap,
	&ifm_tunnel_erspan,
	&ifm_tunnel_geneve,
	NULL,
};

const struct ifm_tunnel_ops *ifm_tunnel_type(const char *type)
{
	for (size_t i = 0; type && ifm_tunnel_types[i]; i++)
		if (!strcmp(ifm_tunnel_types[i]->type, type))
			return ifm_tunnel_types[i];
	return NULL;
}

static const struct ifm_tunnel_ops *type_of_kind(const char *kind)
{
	for (size_t i = 0; ifm_tunnel_types[i]; i++)
		if (!strcmp(ifm_tunnel_types[i]->kind4, kind) || !strcmp(ifm_tunnel_types[i]->kind6, kind))
			return ifm_tunnel_types[i];
	return NULL;
}

bool ifm_tnl_kind(const char *kind)
{
	return type_of_kind(kind) != NULL;
}

const char *ifm_tunnel_type_list(void)
{
	static char buf[128];

	if (!buf[0]) {
		size_t n = 0, count = 0;

		while (ifm_tunnel_types[count])
			count++;
		for (size_t i = 0; i < count && n < sizeof(buf); i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
					      i == 0 ? "" : i + 1 == count ? " or " : ", ",
					      ifm_tunnel_types[i]->type);
	}
	return buf;
}

const char *ifm_tunnel_id_list(char *buf, size_t len, const char *fmt)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; ifm_tunnel_types[i] && n < len; i++) {
		n += (size_t)snprintf(buf + n, len - n, "%s", i ? ", " : "");
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, fmt, ifm_tunnel_types[i]->id_key,
					      ifm_tunnel_types[i]->type);
	}
	return buf;
}

const char *ifm_tunnel_udp_types(void)
{
	static char buf[128];
	static bool done;
	size_t n = 0;

	/* once (a test of buf[0] in the loop stopped it after the first type) */
	for (size_t i = 0; !done && ifm_tunnel_types[i] && n < sizeof(buf); i++)
		if (ifm_tunnel_types[i]->dstport_default)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " or " : "",
					      ifm_tunnel_types[i]->type);
	done = true;
	return buf;
}

const char *ifm_tunnel_module(const char *kind)
{
	for (size_t i = 0; ifm_tunnel_types[i]; i++) {
		if (!strcmp(ifm_tunnel_types[i]->kind4, kind))
			return ifm_tunnel_types[i]->module4;
		if (!strcmp(ifm_tunnel_types[i]->kind6, kind))
			return ifm_tunnel_types[i]->module6;
	}
	return kind;
}

/* ---- links: what a device says about itself ---- */

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
	ti->ops = type_of_kind(ti->kind);
	if (ti->ops) {
		ti->type = ti->ops->type;
		ti->ops->parse(li[IFLA_INFO_DATA], ti);
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
	int r = -EINTR;

	*out = NULL;
	*n = 0;
	for (int i = 0; r == -EINTR; i++) {   /* as ifm_link_list */
		struct nl_msg *msg = ifm_link_msg(RTM_GETLINK, NLM_F_DUMP, 0);

		if (!msg) {
			free(s.v);
			return -ENOMEM;
		}
		s.n = 0;
		r = ifm_nl_dump(nl, msg, infos_cb, &s);
		if (r == -EINTR && i + 1 == IFM_DUMP_TRIES)
			r = 0;   /* as ifm_link_list */
	}
	if (r < 0) {
		free(s.v);
		return r;
	}
	*out = s.v;
	*n = s.n;
	return 0;
}

/* ---- the spec ---- */

unsigned int ifm_tunnel_spec_version(const struct ifm_tunnel_spec *t)
{
	const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);

	if (!ops || !ops->versions)
		return 0;
	return t->version ? t->version : 1;
}

const char *ifm_tunnel_version_text(unsigned int version, unsigned int hwid, enum ifm_dir dir,
				    char *buf, size_t len)
{
	if (version != 2)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, ", version 2, hwid %u, direction %s", hwid,
			 dir == IFM_DIR_EGRESS ? "egress" : "ingress");
	return buf;
}

const char *ifm_tunnel_spec_problem(const struct ifm_tunnel_spec *t, char *buf, size_t len)
{
	const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);
	unsigned char a[16];
	int fr, fl = 0;

	if (!ops) {
		snprintf(buf, len, "the type must be %s", ifm_tunnel_type_list());
		return buf;
	}
	if (!t->remote || !*t->remote)
		return "needs a remote address";
	if (ifm_spec_addr(t->remote, &fr, a)) {
		snprintf(buf, len, "remote '%.64s': not an IPv4 or IPv6 address", t->remote);
		return buf;
	}
	if (ifm_addr_is_zero(a)) {
		snprintf(buf, len, "remote '%.64s': not a usable address", t->remote);
		return buf;
	}
	if (t->local) {
		if (ifm_spec_addr(t->local, &fl, NULL)) {
			snprintf(buf, len, "local '%.64s': not an IPv4 or IPv6 address", t->local);
			return buf;
		}
		if (fl != fr) {
			snprintf(buf, len, "local %.64s and remote %.64s are not of one address family",
				 t->local, t->remote);
			return buf;
		}
	}
	if (t->local && ops->no_local) {
		snprintf(buf, len, "%s takes no local address (the route to the remote picks it)",
			 ops->type);
		return buf;
	}
	if (t->dev && ops->no_dev) {
		snprintf(buf, len, "%s takes no underlay device (the route to the remote picks it)",
			 ops->type);
		return buf;
	}
	if (t->dev && ifm_ifname_problem(t->dev)) {
		snprintf(buf, len, "dev '%.40s': %s", t->dev, ifm_ifname_problem(t->dev));
		return buf;
	}
	if (t->dev && t->name && !strcmp(t->dev, t->name))
		return "the underlay device cannot be the tunnel itself";
	if (t->of && ifm_ifname_problem(t->of)) {
		snprintf(buf, len, "of '%.40s': %s", t->of, ifm_ifname_problem(t->of));
		return buf;
	}
	if (ops->id_required && !t->has_id) {
		snprintf(buf, len, "%s needs a %s (0 to %lu)", ops->type, ops->id_words, ops->id_max);
		return buf;
	}
	if (t->has_id && t->id > ops->id_max) {
		snprintf(buf, len, "the %s %s must be 0 to %lu", ops->type, ops->id_words, ops->id_max);
		return buf;
	}
	if (t->dstport && !ops->dstport_default) {
		snprintf(buf, len, "a UDP destination port is not for %s", ops->type);
		return buf;
	}
	if (t->dstport > 65535)
		return "the UDP port must be 1 to 65535";
	if (t->snaplen && (t->snaplen < IFM_SNAPLEN_MIN || t->snaplen > IFM_SNAPLEN_MAX))
		return "snaplen must be 14 to 65535";
	if ((t->version || t->has_hwid || t->erspan_dir) && !ops->versions) {
		snprintf(buf, len, "a version, hwid or direction bit is for erspan, not %s", ops->type);
		return buf;
	}
	if (t->version > 2)
		return "the erspan version must be 1 or 2";
	if (t->has_hwid && ifm_tunnel_spec_version(t) != 2)
		return "a hwid is for erspan version 2";
	if (t->hwid > IFM_ERSPAN_HWID_MAX)
		return "the erspan hwid must be 0 to 63";
	if (t->erspan_dir && t->erspan_dir != IFM_DIR_INGRESS && t->erspan_dir != IFM_DIR_EGRESS)
		return "the erspan direction bit is ingress or egress";
	if (t->erspan_dir == IFM_DIR_EGRESS && ifm_tunnel_spec_version(t) != 2)
		return "the direction bit is for erspan version 2";
	return NULL;
}

/* the bytes of a spec that ifm_tunnel_spec_problem() passed */
void ifm_tunnel_addrs(const struct ifm_tunnel_spec *t, struct ifm_tunnel_addrs *a)
{
	const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);

	memset(a, 0, sizeof(*a));
	ifm_spec_addr(t->remote, &a->family, a->remote);
	if (t->local)
		a->has_local = inet_pton(a->family, t->local, a->local) == 1;
	a->dstport = t->dstport ? t->dstport : ops->dstport_default;
	a->kind = a->family == AF_INET6 ? ops->kind6 : ops->kind4;
}

/* ---- the alias: ownership mark and the spec, canonical ---- */

int ifm_tunnel_alias(const struct ifm_tunnel_spec *t, const struct ifm_tunnel_addrs *a,
		     char *buf, size_t len)
{
	const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);
	char s[INET6_ADDRSTRLEN];
	size_t n;

	inet_ntop(a->family, a->remote, s, sizeof(s));
	n = (size_t)snprintf(buf, len, "%s type=%s remote=%s", IFM_MARK_TUNNEL, t->type, s);
	if (a->has_local && n < len) {
		inet_ntop(a->family, a->local, s, sizeof(s));
		n += (size_t)snprintf(buf + n, len - n, " local=%s", s);
	}
	if (t->dev && n < len)
		n += (size_t)snprintf(buf + n, len - n, " dev=%s", t->dev);
	if (t->has_id && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s=%lu", ops->id_key, t->id);
	if (a->dstport != ops->dstport_default && n < len)
		n += (size_t)snprintf(buf + n, len - n, " dstport=%u", a->dstport);
	/* version 1, hwid 0, ingress: the defaults are not written, so that
	 * the aliases of tunnels made before versions existed stay the same */
	if (ifm_tunnel_spec_version(t) == 2 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " version=2");
	if (ifm_tunnel_spec_version(t) == 2 && t->hwid && n < len)
		n += (size_t)snprintf(buf + n, len - n, " hwid=%u", t->hwid);
	if (ifm_tunnel_spec_version(t) == 2 && t->erspan_dir == IFM_DIR_EGRESS && n < len)
		n += (size_t)snprintf(buf + n, len - n, " dir=egress");
	if (t->of && n < len)
		n += (size_t)snprintf(buf + n, len - n, " of=%s", t->of);
	return n < len ? 0 : -ENAMETOOLONG;
}

bool ifm_tunnel_alias_spec(const char *name, const char *alias, struct ifm_tunnel_spec *t,
			   char *store, size_t len)
{
	const struct ifm_tunnel_ops *ops;
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
		else if (!strcmp(w, "of"))
			t->of = v;
		else if (!strcmp(w, "dstport"))
			t->dstport = (unsigned int)strtoul(v, NULL, 10);
		else if (!strcmp(w, "version"))
			t->version = (unsigned int)strtoul(v, NULL, 10);
		else if (!strcmp(w, "hwid")) {
			t->hwid = (unsigned int)strtoul(v, NULL, 10);
			t->has_hwid = true;
		} else if (!strcmp(w, "dir"))
			t->erspan_dir = !strcmp(v, "egress") ? IFM_DIR_EGRESS : IFM_DIR_INGRESS;
		else if ((ops = ifm_tunnel_type(t->type)) && !strcmp(w, ops->id_key)) {
			t->id = strtoul(v, NULL, 10);
			t->has_id = true;
		}
	}
	return t->type && t->remote;
}

/* "of=NAME": a whole, valid interface name (the kernel's alias is anyone's text) */
bool ifm_tunnel_alias_of(const char *alias, char *buf)
{
	const char *w = alias;

	if (!ifm_tunnel_mark_is(alias))
		return false;
	while ((w = strstr(w, " of="))) {
		size_t n;

		w += 4;
		n = strcspn(w, " ");
		if (n && n < IFM_IFNAMSIZ) {
			memcpy(buf, w, n);
			buf[n] = '\0';
			if (!ifm_ifname_problem(buf))
				return true;
		}
	}
	return false;
}

/* ---- the kernel's link message ---- */

static struct nl_msg *tunnel_msg(const char *name, const struct ifm_tunnel_spec *t,
				 const struct ifm_tunnel_addrs *a, int dev)
{
	const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);
	struct nl_msg *msg = ifm_link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data;

	if (!msg)
		return NULL;
	if (nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, a->kind) < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    ops->build(msg, t, a, dev) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return msg;
}

/* -EOPNOTSUPP when the kernel (or IFMIRROR_AVOID) has no such kind */
int ifm_tunnel_create(struct ifm_nl *nl, const char *name, const struct ifm_tunnel_spec *t,
		      const struct ifm_tunnel_addrs *a, int dev)
{
	struct nl_msg *msg;

	msg = tunnel_msg(name, t, a, dev);
	return msg ? ifm_nl_talk(nl, msg) : -ENOMEM;
}

/*
 * Does the kernel know this link kind? Asked without creating anything: a
 * request whose first data attribute is too short for the kind's policy
 * fails with EOPNOTSUPP when the kind is unknown, else with the policy's
 * error (vxlan's and GRE's attribute 1 are both u32s).
 */
int ifm_tunnel_kind_known(struct ifm_nl *nl, const char *kind)
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
int ifm_tunnel_probe(struct ifm_nl *nl, const struct ifm_tunnel_ops *ops, int family)
{
	struct ifm_tunnel_spec t = {
		.name = "ifmprobe0",
		.type = ops->type,
		.remote = family == AF_INET6 ? "2001:db8::2" : "192.0.2.2",
		.local = ops->no_local ? NULL : family == AF_INET6 ? "2001:db8::1" : "192.0.2.1",
		.id = 1,
		.has_id = true,
	};
	struct ifm_tunnel_info ti;
	struct ifm_tunnel_addrs a;
	int r;

	ifm_tunnel_addrs(&t, &a);
	r = ifm_tunnel_create(nl, t.name, &t, &a, 0);
	if (r == 0 && ifm_tnl_link(nl, t.name, 0, &ti) == 0)
		ifm_link_delete(nl, ti.ifindex);
	return r;
}
