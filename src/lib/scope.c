// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The quick path of `watch` (ifm_apply_scoped): a plan of the devices an
 * event named reads the filters of those devices and of their destinations
 * only. The loop check still runs on the whole host's links (watch knows
 * them from the events), so every path through bridges, veth peers and
 * VLANs is there; only mirrors of devices whose filters were not read are
 * missing. A search that passed one of those cannot say "no loop": the
 * caller runs the whole apply instead.
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
