/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a plan of some sources only (ifm_apply_scoped, for `watch`) reads,
 * and what it cannot decide from there (scope.c).
 */
#ifndef IFMIRROR_SCOPE_H
#define IFMIRROR_SCOPE_H

#include "plan.h"
#include "reach.h"
#include "view.h"

/* The links of all that source patterns need to judge the sources only[n]
 * (sorted): those, their masters, the sessions' destinations. Into small
 * (ifm_view_free it); 0 or -ENOMEM. */
int ifm_scope_view(const struct ifm_view *all, const struct ifm_config *c, const int *only,
		   size_t n, struct ifm_view *small);
/* ifm_view_scan_only on the sources only[n] (sorted) and their
 * destinations dsts[ndsts] (any order, 0s ignored) */
int ifm_scope_scan(struct ifm_view *v, struct ifm_nl *nl, const int *only, size_t n,
		   const int *dsts, size_t ndsts);
/* Did the last ifm_reach_loops on g pass a device with hooks whose filters v
 * did not read? Its mirrors are not in g: the answer "no loop" is not sure. */
bool ifm_scope_unknown_seen(const struct ifm_view *v, const struct ifm_reach *g);

#endif
