// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Links, read and written: look-ups through libnl-route's link objects, and
 * the requests ifmirror makes (create, delete, alias, up, bridge ports).
 *
 * The collector bridge: a persistent mirror target. mirred binds to an
 * ifindex and never re-binds, so a collector NIC that is unplugged and comes
 * back would end mirroring for good; a bridge that stays keeps the binding,
 * and an always-up sink port keeps it LOWER_UP (mirred drops copies sent to
 * a device without carrier) while the collector port is away.
 *
 * It must behave like a SPAN port: no learning and no multicast snooping, so
 * every mirrored frame leaves every port whatever its MAC; no STP; and the
 * host says nothing on it: no ARP, no IPv6 (so no ND, no MLD).
 */
#include "ifmirror.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>

/*
 * Links are read raw, not through libnl's cache: one request, answers
 * without statistics (RTEXT_FILTER_SKIP_STATS; older kernels ignore the
 * bit), and only the attributes ifmirror uses are kept.
 */
#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
	size_t n = a ? (size_t)nla_len(a) : 0;

	if (n >= len)
		n = len - 1;
	memcpy(dst, a ? nla_data(a) : "", n);
	dst[n] = '\0';
	dst[strnlen(dst, n)] = '\0';
}

/* 1: a link parsed into out; 0: not a link message */
static int parse_link(struct nlmsghdr *h, struct ifm_link *out)
{
	struct ifinfomsg *ifi = nlmsg_data(h);
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return 0;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	copy_str(out->name, sizeof(out->name), tb[IFLA_IFNAME]);
	if (tb[IFLA_MASTER] && nla_len(tb[IFLA_MASTER]) >= 4)
		out->master = (int)nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_MTU] && nla_len(tb[IFLA_MTU]) >= 4)
		out->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_OPERSTATE] && nla_len(tb[IFLA_OPERSTATE]) >= 1)
		out->operstate = nla_get_u8(tb[IFLA_OPERSTATE]);
	/* a veth's peer, a VLAN's lower device: only when it is in this namespace */
	if (!tb[IFLA_LINK_NETNSID] && tb[IFLA_LINK] && nla_len(tb[IFLA_LINK]) >= 4)
		out->link = (int)nla_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINKINFO] && nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0)
		copy_str(out->kind, sizeof(out->kind), li[IFLA_INFO_KIND]);
	out->is_bridge = !strcmp(out->kind, "bridge");
	if (tb[IFLA_IFALIAS])
		copy_str(out->alias, sizeof(out->alias), tb[IFLA_IFALIAS]);
	return 1;
}

static struct nl_msg *getlink_msg(int flags, int ifindex, const char *name)
{
	struct nl_msg *msg = ifm_link_msg(RTM_GETLINK, flags, ifindex);

	if (msg && (nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0 ||
		    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct one_link {
	struct ifm_link *out;
	bool found;
};

static int one_cb(struct nlmsghdr *h, void *arg)
{
	struct one_link *o = arg;

	if (!o->found && parse_link(h, o->out))
		o->found = true;
	return 0;
}

static int lookup(struct ifm_nl *nl, int ifindex, const char *name, struct ifm_link *out)
{
	struct one_link o = { .out = out };
	struct nl_msg *msg;
	int r;

	if (name && strlen(name) >= IFM_IFNAMSIZ)
		return -ENODEV;
	if (!(msg = getlink_msg(0, ifindex, name)))
		return -ENOMEM;
	r = ifm_nl_get(nl, msg, one_cb, &o);
	if (r == -ENODEV || (r == 0 && !o.found))
		return -ENODEV;
	return r < 0 ? -EIO : 0;
}

int ifm_link_get(struct ifm_nl *nl, const char *name, struct ifm_link *out)
{
	return lookup(nl, 0, name, out);
}

int ifm_link_by_index(struct ifm_nl *nl, int ifindex, struct ifm_link *out)
{
	if (ifindex <= 0)
		return -ENODEV;
	return lookup(nl, ifindex, NULL, out);
}

struct all_links {
	struct ifm_link *l;
	size_t n, cap;
};

static int all_cb(struct nlmsghdr *h, void *arg)
{
	struct all_links *a = arg;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct ifm_link *l = realloc(a->l, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		a->l = l;
		a->cap = cap;
	}
	a->n += (size_t)parse_link(h, &a->l[a->n]);
	return 0;
}

int ifm_link_list(struct ifm_nl *nl, struct ifm_link **out, size_t *n)
{
	struct all_links a = { 0 };
	int r = -EINTR;

	*out = NULL;
	*n = 0;
	/* a device made, deleted or renamed while the dump ran: the kernel
	 * marks the dump, which may lack a device that was there all along */
	for (int i = 0; r == -EINTR; i++) {
		struct nl_msg *msg = getlink_msg(NLM_F_DUMP, 0, NULL);

		if (!msg) {
			free(a.l);
			return -ENOMEM;
		}
		a.n = 0;
		r = ifm_nl_dump(nl, msg, all_cb, &a);
		/* links that never stop changing: the last dump, as ip does
		 * (a device asked for by name is looked up on its own) */
		if (r == -EINTR && i + 1 == IFM_DUMP_TRIES)
			r = 0;
	}
	if (r < 0) {
		free(a.l);
		return r == -ENOMEM ? r : -EIO;
	}
	if (!a.l && !(a.l = calloc(1, sizeof(*a.l))))
		return -ENOMEM;
	*out = a.l;
	*n = a.n;
	return 0;
}

const char *ifm_link_state(const struct ifm_link *l)
{
	if (!(l->flags & IFF_UP))
		return "down";
	if (!(l->flags & IFF_LOWER_UP))
		return "no-carrier";
	return "up";
}

const char *ifm_link_operstate(const struct ifm_link *l)
{
	/* the kernel's names (net/core/net-sysfs.c, operstates[]) */
	static const char *const names[] = { "unknown", "notpresent", "down", "lowerlayerdown",
					     "testing", "dormant", "up" };

	return l->operstate < sizeof(names) / sizeof(names[0]) ? names[l->operstate] : "unknown";
}

bool ifm_link_carrier(const struct ifm_link *l)
{
	return l->flags & IFF_LOWER_UP;
}

/* ---- requests ---- */

struct nl_msg *ifm_link_msg(int type, int flags, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (msg && nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int ifm_link_create(struct ifm_nl *nl, const char *name, const char *kind, const char *alias)
{
	struct nl_msg *msg;
	struct nlattr *info, *data;
	struct ifm_link l;
	int r;

	msg = ifm_link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, kind) < 0)
		goto nomem;
	if (!strcmp(kind, "bridge")) {
		if (!(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
		    nla_put_u32(msg, IFLA_BR_STP_STATE, 0) < 0 ||
		    nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0) < 0)
			goto nomem;
		nla_nest_end(msg, data);
	}
	nla_nest_end(msg, info);
	/*
	 * The kernel takes an alias only on an existing link: until it is set,
	 * a record says that ifmirror is making this link (marks.c).
	 */
	if (alias && (r = ifm_making_set(name, kind, true)) < 0) {
		nlmsg_free(msg);
		return r;
	}
	r = ifm_nl_talk(nl, msg);
	if (r == 0)
		r = ifm_link_get(nl, name, &l);
	if (r == 0 && alias)
		r = ifm_link_set_alias(nl, l.ifindex, alias);
	if (alias && (r == 0 || ifm_link_get(nl, name, &l) == -ENODEV))
		ifm_making_set(name, kind, false);
	return r;
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

int ifm_link_delete(struct ifm_nl *nl, int ifindex)
{
	struct nl_msg *msg = ifm_link_msg(RTM_DELLINK, 0, ifindex);

	return msg ? ifm_nl_talk(nl, msg) : -ENOMEM;
}

int ifm_link_set_alias(struct ifm_nl *nl, int ifindex, const char *alias)
{
	struct nl_msg *msg = ifm_link_msg(RTM_NEWLINK, 0, ifindex);

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, IFLA_IFALIAS, alias) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return ifm_nl_talk(nl, msg);
}

static int set_flags(struct ifm_nl *nl, int ifindex, unsigned int flags, unsigned int change)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = flags,
		.ifi_change = change,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return ifm_nl_talk(nl, msg);
}

/* IPv6 per device is a sysctl; no IPv6 in the kernel is fine too. */
static int ipv6_disable(const char *ifname, const char *value)
{
	char path[128], def[8] = "0\n";
	ssize_t n;
	int fd;

	if (!value) {
		/* back to this namespace's default */
		fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, def, sizeof(def) - 1);
			def[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		value = def;
	}
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -errno : 0;
}

int ifm_link_quiet_up(struct ifm_nl *nl, const struct ifm_link *l)
{
	int r = ipv6_disable(l->name, "1\n");

	if (r < 0)
		return r;
	if ((l->flags & (IFF_UP | IFF_NOARP)) == (IFF_UP | IFF_NOARP))
		return 0; /* as it should be: no request, no change */
	return set_flags(nl, l->ifindex, IFF_UP | IFF_NOARP, IFF_UP | IFF_NOARP);
}

/* learning off on an attached port? (sysfs: cheaper than a netlink dump) */
static bool port_options_ok(struct ifm_nl *nl, const struct ifm_link *port)
{
	char path[128], v[4] = "";
	int fd;
	ssize_t n;

	(void)nl;
	snprintf(path, sizeof(path), "/sys/class/net/%s/brport/learning", port->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	return n > 0 && v[0] == '0';
}

int ifm_port_attach(struct ifm_nl *nl, const struct ifm_link *port, int bridge)
{
	struct nl_msg *msg;
	struct nlattr *info, *data;
	int r;

	if (port->master != bridge) {
		msg = ifm_link_msg(RTM_NEWLINK, 0, port->ifindex);
		if (!msg)
			return -ENOMEM;
		if (nla_put_u32(msg, IFLA_MASTER, (uint32_t)bridge) < 0) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		r = ifm_nl_talk(nl, msg);
		if (r < 0)
			return r;
	}
	if (port->master == bridge && port_options_ok(nl, port))
		return ifm_link_quiet_up(nl, port);
	/* the port options go to the master's driver, so only once enslaved */
	msg = ifm_link_msg(RTM_NEWLINK, 0, port->ifindex);
	if (!msg)
		return -ENOMEM;
	if (!(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_SLAVE_KIND, "bridge") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_SLAVE_DATA)) ||
	    nla_put_u8(msg, IFLA_BRPORT_LEARNING, 0) < 0 ||
	    nla_put_u8(msg, IFLA_BRPORT_UNICAST_FLOOD, 1) < 0 ||
	    nla_put_u8(msg, IFLA_BRPORT_MCAST_FLOOD, 1) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	r = ifm_nl_talk(nl, msg);
	if (r < 0)
		return r;
	return ifm_link_quiet_up(nl, port);
}

int ifm_port_release(struct ifm_nl *nl, const struct ifm_link *port)
{
	struct nl_msg *msg = ifm_link_msg(RTM_NEWLINK, 0, port->ifindex);
	int r;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, IFLA_MASTER, 0) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = ifm_nl_talk(nl, msg);
	if (r < 0)
		return r;
	r = set_flags(nl, port->ifindex, 0, IFF_NOARP);
	if (r < 0)
		return r;
	return ipv6_disable(port->name, NULL);
}
