/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's link events, for `ifmirror watch` (watch.c). */
#ifndef IFMIRROR_WATCH_H
#define IFMIRROR_WATCH_H

#include "ifmirror.h"

struct ifm_watch_link {
	int ifindex, master;
	char name[IFM_IFNAMSIZ];
};

struct ifm_watch {
	int fd;                          /* poll it for POLLIN */
	struct ifm_watch_link *known;    /* by ifindex, sorted */
	size_t n, cap;
};

/* subscribed to RTNLGRP_LINK: 0 or -errno */
int ifm_watch_open(struct ifm_watch *w);
void ifm_watch_close(struct ifm_watch *w);
/* what is known, from a dump (after open, and after -ENOBUFS) */
int ifm_watch_sync(struct ifm_watch *w, struct ifm_nl *nl);
/* every message waiting: 1 when a link came, went, was renamed or changed
 * master, 0 when nothing of that; -ENOBUFS: events were lost (sync again) */
int ifm_watch_read(struct ifm_watch *w);

#endif
