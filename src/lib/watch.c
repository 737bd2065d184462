// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's link events, for `ifmirror watch`: a plain rtnetlink socket
 * in RTNLGRP_LINK, non-blocking, read to the end at each wake-up (a burst of
 * events is one answer). Only what a plan depends on counts as a change: a
 * link that came, went, was renamed or changed its master; the rest (flags,
 * statistics, the bridge's own AF_BRIDGE messages, the echo of a change
 * already known) is read and dropped. What is known comes from a dump of
 * the links, again after an overrun (ENOBUFS).
 */
#include "watch.h"

#include <errno.h>
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

/* true when it changed what a plan depends on */
static bool learn(struct ifm_watch *w, int ifindex, const char *name, int master, bool gone)
{
	bool found;
	size_t i = find(w, ifindex, &found);
	struct ifm_watch_link *k;

	if (gone) {
		if (!found)
			return false;
		memmove(&w->known[i], &w->known[i + 1], (w->n - i - 1) * sizeof(*w->known));
		w->n--;
		return true;
	}
	if (found) {
		k = &w->known[i];
		if (!strcmp(k->name, name) && k->master == master)
			return false;
		snprintf(k->name, sizeof(k->name), "%s", name);
		k->master = master;
		return true;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct ifm_watch_link *g = realloc(w->known, cap * sizeof(*g));

		if (!g)
			return true; /* unknown: a resync of the plan at least */
		w->known = g;
		w->cap = cap;
	}
	memmove(&w->known[i + 1], &w->known[i], (w->n - i) * sizeof(*w->known));
	w->n++;
	k = &w->known[i];
	k->ifindex = ifindex;
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->master = master;
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
		learn(w, links[i].ifindex, links[i].name, links[i].master, false);
	free(links);
	return 0;
}

static bool message(struct ifm_watch *w, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *a;
	const char *name = NULL;
	int master = 0, len;

	if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_family != AF_UNSPEC)
		return false;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) > 0 && RTA_PAYLOAD(a) <= IFM_IFNAMSIZ &&
		    memchr(RTA_DATA(a), '\0', RTA_PAYLOAD(a)))
			name = RTA_DATA(a);
		else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(&master, RTA_DATA(a), sizeof(master));
	}
	if (h->nlmsg_type == RTM_DELLINK)
		return learn(w, ifi->ifi_index, "", 0, true);
	return name && learn(w, ifi->ifi_index, name, master, false);
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
