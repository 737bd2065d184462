// SPDX-License-Identifier: GPL-2.0-or-later
/* The host at one moment: links by name, every qdisc, the filters on hooks. */
#include "view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct ifm_link *const *)a)->name, (*(struct ifm_link *const *)b)->name);
}

static int index_names(struct ifm_view *v);

int ifm_view_links(struct ifm_view *v, struct ifm_nl *nl)
{
	int r;

	free(v->links);
	free(v->by_name);
	v->by_name = NULL;
	r = ifm_link_list(nl, &v->links, &v->nlinks);
	if (r < 0)
		return r;
	return index_names(v);
}

int ifm_view_use_links(struct ifm_view *v, const struct ifm_link *links, size_t n)
{
	free(v->links);
	free(v->by_name);
	v->by_name = NULL;
	v->nlinks = 0;
	v->links = malloc((n ? n : 1) * sizeof(*v->links));
	if (!v->links)
		return -ENOMEM;
	memcpy(v->links, links, n * sizeof(*links));
	v->nlinks = n;
	return index_names(v);
}

static int index_names(struct ifm_view *v)
{
	v->by_name = calloc(v->nlinks + 1, sizeof(*v->by_name));
	if (!v->by_name)
		return -ENOMEM;
	for (size_t i = 0; i < v->nlinks; i++)
		v->by_name[i] = &v->links[i];
	qsort(v->by_name, v->nlinks, sizeof(*v->by_name), cmp_name);
	return 0;
}

const struct ifm_link *ifm_view_link(const struct ifm_view *v, const char *name)
{
	struct ifm_link key, *kp = &key, **found;

	snprintf(key.name, sizeof(key.name), "%s", name);
	found = bsearch(&kp, v->by_name, v->nlinks, sizeof(*v->by_name), cmp_name);
	return found ? *found : NULL;
}

struct ifm_view_dev *ifm_view_dev(struct ifm_view *v, int ifindex)
{
	return ifindex > 0 && ifindex <= v->maxdev ? &v->devs[ifindex] : NULL;
}

const char *ifm_view_name(const struct ifm_view *v, int ifindex)
{
	if (v->devs && ifindex > 0 && ifindex <= v->maxdev && v->devs[ifindex].link)
		return v->devs[ifindex].link->name;
	for (size_t i = 0; i < v->nlinks; i++)
		if (v->links[i].ifindex == ifindex)
			return v->links[i].name;
	return "a deleted device";
}

/* One qdisc dump for all devices, filter dumps only where hooks hang. */
int ifm_view_scan(struct ifm_view *v, struct ifm_nl *nl)
{
	return ifm_view_scan_only(v, nl, NULL, 0);
}

bool ifm_index_listed(const int *sorted, size_t n, int ifindex)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sorted[mid] < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && sorted[lo] == ifindex;
}

int ifm_view_scan_only(struct ifm_view *v, struct ifm_nl *nl, const int *only, size_t nonly)
{
	int r = ifm_qdiscs_scan_all(nl, &v->qmap);

	if (r < 0)
		return r;
	v->maxdev = 0;
	for (size_t i = 0; i < v->nlinks; i++)
		if (v->links[i].ifindex > v->maxdev)
			v->maxdev = v->links[i].ifindex;
	v->devs = calloc((size_t)v->maxdev + 1, sizeof(*v->devs));
	if (!v->devs)
		return -ENOMEM;
	for (size_t i = 0; i < v->nlinks; i++) {
		int ifindex = v->links[i].ifindex;
		const struct ifm_qdiscs *q = ifm_qdisc_map_get(&v->qmap, ifindex);
		struct ifm_view_dev *d = &v->devs[ifindex];

		d->next_pref = 1;
		d->link = &v->links[i];
		d->hooked = ifm_hook_present(q, IFM_DIR_INGRESS) || ifm_hook_present(q, IFM_DIR_EGRESS);
		d->t.q = *q;
		if ((!d->hooked && !q->ingress_kind[0]) || (only && !ifm_index_listed(only, nonly, ifindex)))
			continue;
		r = ifm_dev_tc_scan_blocks(nl, ifindex, q, &d->t, &v->blocks);
		if (r < 0)
			return r;
		d->scanned = true;
		d->next_pref = ifm_pref_free(&d->t);
		for (size_t j = 0; j < d->t.nf; j++)
			d->leads_on |= d->t.f[j].has_action && d->t.f[j].act.is_mirred;
	}
	/* bridges lead on into their ports */
	for (size_t i = 0; i < v->nlinks; i++)
		if (v->links[i].master > 0 && v->links[i].master <= v->maxdev)
			v->devs[v->links[i].master].leads_on = true;
	return 0;
}

void ifm_view_scan_free(struct ifm_view *v)
{
	for (int i = 0; v->devs && i <= v->maxdev; i++)
		ifm_dev_tc_free(&v->devs[i].t);
	free(v->devs);
	v->devs = NULL;
	v->maxdev = 0;
	ifm_qdisc_map_free(&v->qmap);
	ifm_blocks_free(&v->blocks);
}

void ifm_view_free(struct ifm_view *v)
{
	ifm_view_scan_free(v);
	free(v->links);
	free(v->by_name);
	memset(v, 0, sizeof(*v));
}
