// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The quick path of `watch` (ifm_apply_scoped): a plan of the devices an
 * event named reads the filters of those devices and of their destinations
 * only. The loop check still runs on the whole host's links (watch knows
 * them from the events), so every path through bridges, veth peers and
 * VLANs is there; only mirrors of devices whose filters were not read are
 * missing. A search that passed one of those cannot say "no loop": the
 * caller runs the whole apply instead. The patterns are matched against
 * those devices only (and what judging them needs), not every link again.
 */
#include "scope.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

int ifm_scope_view(const struct ifm_view *all, const struct ifm_config *c, const int *only,
		   size_t n, struct ifm_view *small)
{
	struct ifm_link *l = calloc(all->nlinks + 1, sizeof(*l));
	/* the masters of those in scope, the destinations */
	int *extra = calloc(n + (size_t)c->nsessions + 1, sizeof(*extra)), r = -ENOMEM;
	size_t k = 0, ne = 0;

	memset(small, 0, sizeof(*small));
	if (!l || !extra)
		goto out;
	for (size_t i = 0; i < all->nlinks; i++)
		if (all->links[i].master > 0 && ifm_index_listed(only, n, all->links[i].ifindex))
			extra[ne++] = all->links[i].master;
	for (int i = 0; i < c->nsessions; i++) {
		const struct ifm_link *d = ifm_view_link(all, c->sessions[i].to);

		if (d)
			extra[ne++] = d->ifindex;
	}
	qsort(extra, ne, sizeof(*extra), cmp_int);
	for (size_t i = 0; i < all->nlinks; i++)
		if (ifm_index_listed(only, n, all->links[i].ifindex) ||
		    ifm_index_listed(extra, ne, all->links[i].ifindex))
			l[k++] = all->links[i];
	r = ifm_view_use_links(small, l, k);
out:
	free(l);
	free(extra);
	return r;
}

int ifm_scope_scan(struct ifm_view *v, struct ifm_nl *nl, const int *only, size_t n,
		   const int *dsts, size_t ndsts)
{
	int *list = calloc(n + ndsts + 1, sizeof(*list)), r;
	size_t k = n;

	if (!list)
		return -ENOMEM;
	memcpy(list, only, n * sizeof(*list));
	for (size_t i = 0; i < ndsts; i++)
		if (dsts[i] > 0)
			list[k++] = dsts[i];
	qsort(list, k, sizeof(*list), cmp_int);
	r = ifm_view_scan_only(v, nl, list, k);
	free(list);
	return r;
}

bool ifm_scope_unknown_seen(const struct ifm_view *v, const struct ifm_reach *g)
{
	for (int i = 1; i <= v->maxdev; i++)
		if (v->devs[i].hooked && !v->devs[i].scanned && ifm_reach_seen(g, i))
			return true;
	return false;
}
