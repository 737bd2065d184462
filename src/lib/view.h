/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host at one moment, read in few requests: one dump of the links, one
 * of all qdiscs, filter dumps only for devices that have hooks. apply and
 * flush plan from it.
 */
#ifndef IFMIRROR_VIEW_H
#define IFMIRROR_VIEW_H

#include "ifmirror.h"

struct ifm_view_dev {
	bool hooked, scanned, clsact_new, tidy;
	bool clsact_rec;               /* its clsact's record written ahead */
	bool leads_on;                 /* mirrors, sessions or ports lead out of it */
	bool detach;                   /* apply: its clsact leaves ifmirror's shared blocks */
	int member;                    /* apply: 1 + the shared session on it, 0: none */
	unsigned int clsact_result;    /* index in a batch */
	uint16_t next_pref;
	struct ifm_dev_tc t;
	const struct ifm_link *link;   /* in links */
};

struct ifm_view {
	struct ifm_link *links;
	size_t nlinks;
	struct ifm_link **by_name;     /* sorted, for bsearch */
	struct ifm_qdisc_map qmap;
	struct ifm_blocks blocks;      /* shared blocks' filters, each dumped once;
					* blocks.keep set: the devices' filters are
					* only those it keeps, next_pref and leads_on
					* unknown (status) */
	struct ifm_view_dev *devs;     /* by ifindex */
	int maxdev;
};

int ifm_view_links(struct ifm_view *v, struct ifm_nl *nl);
/* the links known already (watch's, kept from the kernel's events): a copy */
int ifm_view_use_links(struct ifm_view *v, const struct ifm_link *links, size_t n);
/* qdiscs and filters of every device (after ifm_view_links) */
int ifm_view_scan(struct ifm_view *v, struct ifm_nl *nl);
/* the same, with filters read only on the devices of only[] (ifindexes,
 * sorted): the others' are not known (hooked, not scanned) */
int ifm_view_scan_only(struct ifm_view *v, struct ifm_nl *nl, const int *only, size_t nonly);
/* the qdiscs, and the filters of every device that holds one: links only
 * of those devices, each with its ifindex and name alone (flush) */
int ifm_view_hooked(struct ifm_view *v, struct ifm_nl *nl);
void ifm_view_scan_free(struct ifm_view *v);
void ifm_view_free(struct ifm_view *v);
/* is ifindex in sorted[n]? */
bool ifm_index_listed(const int *sorted, size_t n, int ifindex);
const struct ifm_link *ifm_view_link(const struct ifm_view *v, const char *name);
struct ifm_view_dev *ifm_view_dev(struct ifm_view *v, int ifindex);
/* "a deleted device" when there is none */
const char *ifm_view_name(const struct ifm_view *v, int ifindex);

#endif
