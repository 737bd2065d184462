// SPDX-License-Identifier: GPL-2.0-or-later
/* The host at one moment: links by name, every qdisc, the filters on hooks. */
#include "view.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* the filters of ifindex's hooks */
static int scan_dev(struct ifm_view *v, struct ifm_nl *nl, int ifindex, struct ifm_blocks *cache)
{
	struct ifm_view_dev *d = &v->devs[ifindex];
	struct ifm_qdiscs q = d->t.q;   /* the scan starts d->t afresh */
	int r = ifm_dev_tc_scan_blocks(nl, ifindex, &q, &d->t, cache);

	if (r < 0)
		return r;
	d->scanned = true;
	if (cache && cache->keep)
		return 0;   /* not all is known: no pref or lead to say */
	d->next_pref = ifm_pref_free(&d->t);
	for (size_t j = 0; j < d->t.nf; j++)
		d->leads_on |= d->t.f[j].has_action && d->t.f[j].act.is_mirred;
	return 0;
}

static bool on_block(const struct ifm_view_dev *d)
{
	return ifm_hook_block(&d->t.q, IFM_DIR_INGRESS) || ifm_hook_block(&d->t.q, IFM_DIR_EGRESS);
}

/*
 * Filters are read by a dump per hook, and most of a dump's cost is not the
 * kernel's walk under RTNL (about a third) but the system call, the copy,
 * the parsing and the memory it lands in, which run side by side: with
 * many hooks, parts of the devices are read by threads, each on its own
 * socket. Devices on shared blocks are read first, by the caller, as they
 * share the blocks' cache.
 */
#define SCAN_PARTS_MAX 4
#define SCAN_DEVS_PER_PART 128   /* below: a thread and a socket cost more than they save */

struct scan_part {
	struct ifm_view *v;
	const int *work;              /* ifindexes to read: every step-th from first */
	size_t nwork, first, step;
	struct ifm_nl *nl;            /* the caller's, or own */
	struct ifm_blocks *cache;     /* the view's, or own (its scratch array only) */
	struct ifm_nl own;
	struct ifm_blocks own_cache;
	pthread_t tid;
	bool started;
	int r;
};

static void *scan_part_run(void *arg)
{
	struct scan_part *p = arg;

	for (size_t k = p->first; k < p->nwork && p->r == 0; k += p->step)
		p->r = scan_dev(p->v, p->nl, p->work[k], p->cache);
	return NULL;
}

/* how many parts: the CPUs this process may run on, one per SCAN_DEVS_PER_PART devices */
static size_t scan_parts(size_t nwork)
{
	size_t parts = nwork / SCAN_DEVS_PER_PART;
	cpu_set_t cpus;

	if (parts < 2 || sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		return 1;
	if (parts > (size_t)CPU_COUNT(&cpus))
		parts = (size_t)CPU_COUNT(&cpus);
	return parts > SCAN_PARTS_MAX ? SCAN_PARTS_MAX : parts;
}

static int scan_qmap_known(struct ifm_view *v, struct ifm_nl *nl, const int *only, size_t nonly);

int ifm_view_scan_only(struct ifm_view *v, struct ifm_nl *nl, const int *only, size_t nonly)
{
	int r = ifm_qdiscs_scan_all(nl, &v->qmap);

	return r < 0 ? r : scan_qmap_known(v, nl, only, nonly);
}

/*
 * A link dump fills about a kilobyte a device (1 000 veth pairs: 9 ms here,
 * a seventh of a flush); the devices that hold qdiscs are known from the
 * qdisc dump, and SIOCGIFNAME names them one system call each.
 */
int ifm_view_hooked(struct ifm_view *v, struct ifm_nl *nl)
{
	int fd, r = ifm_qdiscs_scan_all(nl, &v->qmap);

	if (r < 0)
		return r;
	free(v->links);
	free(v->by_name);
	v->by_name = NULL;
	v->nlinks = 0;
	if (!(v->links = calloc((size_t)v->qmap.max + 1, sizeof(*v->links))))
		return -ENOMEM;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	for (int i = 1; i <= v->qmap.max; i++) {
		const struct ifm_qdiscs *q = &v->qmap.q[i];
		struct ifreq ifr = { .ifr_ifindex = i };
		struct ifm_link *l = &v->links[v->nlinks];

		if (!q->ingress_kind[0] && !ifm_hook_present(q, IFM_DIR_EGRESS))
			continue;
		/* gone since the dump: nothing of it to read or remove */
		if (ioctl(fd, SIOCGIFNAME, &ifr) < 0)
			continue;
		l->ifindex = i;
		snprintf(l->name, sizeof(l->name), "%.*s", (int)sizeof(ifr.ifr_name), ifr.ifr_name);
		v->nlinks++;
	}
	close(fd);
	if ((r = index_names(v)) < 0)
		return r;
	return scan_qmap_known(v, nl, NULL, 0);
}

static int scan_qmap_known(struct ifm_view *v, struct ifm_nl *nl, const int *only, size_t nonly)
{
	struct scan_part parts[SCAN_PARTS_MAX];
	size_t nparts, nwork = 0;
	sigset_t all, old;
	int *work, r = 0;

	v->maxdev = 0;
	for (size_t i = 0; i < v->nlinks; i++)
		if (v->links[i].ifindex > v->maxdev)
			v->maxdev = v->links[i].ifindex;
	v->devs = calloc((size_t)v->maxdev + 1, sizeof(*v->devs));
	if (!v->devs)
		return -ENOMEM;
	if (!(work = malloc((v->nlinks ? v->nlinks : 1) * sizeof(*work))))
		return -ENOMEM;
	/* the devices with hooks (those asked for): on shared blocks now, with
	 * the view's cache of them; the others in parts */
	for (size_t i = 0; i < v->nlinks && r == 0; i++) {
		int ifindex = v->links[i].ifindex;
		const struct ifm_qdiscs *q = ifm_qdisc_map_get(&v->qmap, ifindex);
		struct ifm_view_dev *d = &v->devs[ifindex];

		d->next_pref = 1;
		d->link = &v->links[i];
		d->hooked = ifm_hook_present(q, IFM_DIR_INGRESS) || ifm_hook_present(q, IFM_DIR_EGRESS);
		d->t.q = *q;
		if ((!d->hooked && !q->ingress_kind[0]) || (only && !ifm_index_listed(only, nonly, ifindex)))
			continue;
		if (on_block(d))
			r = scan_dev(v, nl, ifindex, &v->blocks);
		else
			work[nwork++] = ifindex;
	}
	nparts = r == 0 ? scan_parts(nwork) : 1;
	memset(parts, 0, sizeof(parts));
	/* the threads take no signal: the caller's handlers (watch's) stay
	 * with the caller */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t k = 0; k < nparts; k++) {
		struct scan_part *p = &parts[k];

		*p = (struct scan_part){ .v = v, .work = work, .nwork = nwork, .first = k,
					 .step = nparts, .nl = nl, .cache = &v->blocks };
		/* part 0 is the caller's; a part without a socket or a thread is
		 * read by the caller after the others */
		if (k > 0 && ifm_nl_open(&p->own) == 0) {
			p->nl = &p->own;
			p->cache = &p->own_cache;
			p->own_cache.keep = v->blocks.keep;
			p->started = pthread_create(&p->tid, NULL, scan_part_run, p) == 0;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0) {
		scan_part_run(&parts[0]);
		r = parts[0].r;
	}
	for (size_t k = 1; k < nparts; k++) {
		struct scan_part *p = &parts[k];

		if (p->started)
			pthread_join(p->tid, NULL);
		if (r == 0 && p->r < 0) {   /* the kernel's reason, for the caller */
			nl->err = p->own.err;
			memcpy(nl->extack, p->own.extack, sizeof(nl->extack));
		}
		ifm_nl_close(&p->own);
		ifm_blocks_free(&p->own_cache);
		if (!p->started && r == 0) {
			p->nl = nl;
			p->cache = &v->blocks;
			scan_part_run(p);
		}
		if (r == 0)
			r = p->r;
	}
	free(work);
	if (r < 0)
		return r;
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
