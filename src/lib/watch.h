/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's link events, for `ifmirror watch` (watch.c). */
#ifndef IFMIRROR_WATCH_H
#define IFMIRROR_WATCH_H

#include "ifmirror.h"

struct ifm_watch_link {
	int ifindex, master;
	char name[IFM_IFNAMSIZ];
};

/* what changed, for a plan restricted to the devices it names */
enum ifm_watch_what { IFM_WATCH_NEW, IFM_WATCH_CHANGED, IFM_WATCH_GONE };
struct ifm_watch_event {
	enum ifm_watch_what what;
	struct ifm_watch_link now, before;   /* before: CHANGED and GONE */
};
#define IFM_WATCH_EVENTS_MAX 4096

struct ifm_watch {
	int fd;                          /* poll it for POLLIN */
	/* the links as the events left them (the kernel's, as of the last
	 * message read), by ifindex, sorted: a plan can start from them
	 * without a dump */
	struct ifm_link *known;
	size_t n, cap;
	/* the changes read since ifm_watch_events_clear, in order; more than
	 * IFM_WATCH_EVENTS_MAX (or no memory): overflow, and only that counts */
	struct ifm_watch_event *ev;
	size_t nev, capev;
	bool overflow;
};

/* subscribed to RTNLGRP_LINK: 0 or -errno */
int ifm_watch_open(struct ifm_watch *w);
void ifm_watch_close(struct ifm_watch *w);
/* what is known, from a dump (after open, and after -ENOBUFS) */
int ifm_watch_sync(struct ifm_watch *w, struct ifm_nl *nl);
/* every message waiting: 1 when a link came, went, was renamed or changed
 * master, 0 when nothing of that; -ENOBUFS: events were lost (sync again) */
int ifm_watch_read(struct ifm_watch *w);
void ifm_watch_events_clear(struct ifm_watch *w);

#endif
