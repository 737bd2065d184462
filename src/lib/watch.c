// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's link events, for `ifmirror watch`: a plain rtnetlink socket
 * in RTNLGRP_LINK, non-blocking, read to the end at each wake-up (a burst of
 * events is one answer). Only what a plan depends on counts as a change: a
 * link that came, went, was renamed or changed its master; the rest (flags,
 * statistics, the bridge's own AF_BRIDGE messages, the echo of a change
 * already known) is read and dropped. What is known comes from a dump of
 * the links, again after an overrun (ENOBUFS), and is then kept up to date
 * from the messages themselves (each RTM_NEWLINK carries the whole link):
 * the links a plan of some devices starts from, without a dump.
 */
#include "watch.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RCVBUF (4 << 20)

int ifm_watch_open(struct ifm_watch *w)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int size = RCVBUF;

	memset(w, 0, sizeof(*w));
	w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (w->fd < 0)
		return -errno;
	/* root may pass rmem_max; anyone else gets what the limit allows */
	if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(w->fd);
		w->fd = -1;
		return r;
	}
	return 0;
}

void ifm_watch_close(struct ifm_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->known);
	free(w->ev);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

static size_t find(const struct ifm_watch *w, int ifindex, bool *found)
{
	size_t lo = 0, hi = w->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->known[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < w->n && w->known[lo].ifindex == ifindex;
	return lo;
}

void ifm_watch_events_clear(struct ifm_watch *w)
{
	w->nev = 0;
	w->overflow = false;
}

static void note(struct ifm_watch *w, enum ifm_watch_what what, const struct ifm_watch_link *now,
		 const struct ifm_watch_link *before)
{
	struct ifm_watch_event *e;

	if (w->overflow)
		return;
	if (w->nev == w->capev) {
		size_t cap = w->capev ? w->capev * 2 : 64;
		struct ifm_watch_event *g = NULL;

		if (cap <= IFM_WATCH_EVENTS_MAX)
			g = realloc(w->ev, cap * sizeof(*g));
		if (!g) {
			w->overflow = true;
			return;
		}
		w->ev = g;
		w->capev = cap;
	}
	e = &w->ev[w->nev++];
	memset(e, 0, sizeof(*e));
	e->what = what;
	if (now)
		e->now = *now;
	if (before)
		e->before = *before;
}

static struct ifm_watch_link brief(const struct ifm_link *l)
{
	struct ifm_watch_link b = { .ifindex = l->ifindex, .master = l->master };

	memcpy(b.name, l->name, sizeof(b.name));
	return b;
}

/* true when it changed what a plan depends on (the rest is kept quietly) */
static bool learn(struct ifm_watch *w, const struct ifm_link *l, bool gone)
{
	bool found;
	size_t i = find(w, l->ifindex, &found);
	struct ifm_link *k;
	struct ifm_watch_link now, before;

	if (gone) {
		if (!found)
			return false;
		before = brief(&w->known[i]);
		note(w, IFM_WATCH_GONE, NULL, &before);
		memmove(&w->known[i], &w->known[i + 1], (w->n - i - 1) * sizeof(*w->known));
		w->n--;
		return true;
	}
	if (found) {
		k = &w->known[i];
		before = brief(k);
		*k = *l;
		if (!strcmp(before.name, l->name) && before.master == l->master)
			return false;
		now = brief(k);
		note(w, IFM_WATCH_CHANGED, &now, &before);
		return true;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct ifm_link *g = realloc(w->known, cap * sizeof(*g));

		if (!g) {
			w->overflow = true; /* unknown: a resync of the plan at least */
			return true;
		}
		w->known = g;
		w->cap = cap;
	}
	memmove(&w->known[i + 1], &w->known[i], (w->n - i) * sizeof(*w->known));
	w->n++;
	k = &w->known[i];
	*k = *l;
	now = brief(k);
	note(w, IFM_WATCH_NEW, &now, NULL);
	return true;
}

int ifm_watch_sync(struct ifm_watch *w, struct ifm_nl *nl)
{
	struct ifm_link *links;
	size_t n;
	int r = ifm_link_list(nl, &links, &n);

	if (r < 0)
		return r;
	w->n = 0;
	for (size_t i = 0; i < n; i++)
		learn(w, &links[i], false);
	free(links);
	ifm_watch_events_clear(w);
	return 0;
}

/* the string of attribute a, when it is one that fits in len bytes */
static const char *string(const struct rtattr *a, size_t len)
{
	return RTA_PAYLOAD(a) > 0 && RTA_PAYLOAD(a) <= len && memchr(RTA_DATA(a), '\0', RTA_PAYLOAD(a))
		       ? RTA_DATA(a) : NULL;
}

static void kind(struct ifm_link *l, const struct rtattr *info)
{
	int len = (int)RTA_PAYLOAD(info);
	const char *k;

	for (const struct rtattr *a = RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_INFO_KIND && (k = string(a, sizeof(l->kind))))
			snprintf(l->kind, sizeof(l->kind), "%s", k);
}

/* What link.c's fill() takes from libnl, from the message itself. */
static bool parse(const struct nlmsghdr *h, struct ifm_link *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *a;
	const char *v;
	bool nsid = false;
	int len, link = 0;

	memset(l, 0, sizeof(*l));
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_family != AF_UNSPEC)
		return false;
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			if ((v = string(a, sizeof(l->name))))
				snprintf(l->name, sizeof(l->name), "%s", v);
			break;
		case IFLA_IFALIAS:
			if ((v = string(a, sizeof(l->alias))))
				snprintf(l->alias, sizeof(l->alias), "%s", v);
			break;
		case IFLA_MASTER:
			if (RTA_PAYLOAD(a) >= sizeof(int))
				memcpy(&l->master, RTA_DATA(a), sizeof(int));
			break;
		case IFLA_LINK:
			if (RTA_PAYLOAD(a) >= sizeof(int))
				memcpy(&link, RTA_DATA(a), sizeof(int));
			break;
		case IFLA_LINK_NETNSID:
			nsid = true;
			break;
		case IFLA_MTU:
			if (RTA_PAYLOAD(a) >= sizeof(int))
				memcpy(&l->mtu, RTA_DATA(a), sizeof(int));
			break;
		case IFLA_LINKINFO:
			kind(l, a);
			break;
		}
	}
	/* a veth's peer, a VLAN's lower device: only when it is in this namespace */
	if (!nsid)
		l->link = link;
	l->is_bridge = !strcmp(l->kind, "bridge");
	return h->nlmsg_type == RTM_DELLINK || l->name[0];
}

static bool message(struct ifm_watch *w, const struct nlmsghdr *h)
{
	struct ifm_link l;

	if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) || !parse(h, &l))
		return false;
	return learn(w, &l, h->nlmsg_type == RTM_DELLINK);
}

/* NLMSG_OK without its mix of signed and unsigned (clang's -Wsign-compare) */
static bool message_ok(const struct nlmsghdr *h, int len)
{
	return len >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
	       h->nlmsg_len <= (unsigned int)len;
}

int ifm_watch_read(struct ifm_watch *w)
{
	static char buf[64 << 10] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool changed = false;

	for (;;) {
		ssize_t n = recv(w->fd, buf, sizeof(buf), 0);
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return changed;
		if (n < 0)
			return -errno;   /* ENOBUFS: events were lost */
		len = (int)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; message_ok(h, len);
		     h = NLMSG_NEXT(h, len))
			changed |= message(w, h);
	}
}
