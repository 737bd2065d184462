// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * flush removes everything ifmirror made: sessions of any origin, snaplen
 * filters, the qdiscs ifmirror created, collectors, tunnels, deferred
 * sessions. Filters go out as one batch; a qdisc of ours with nothing else
 * on it goes whole, filters and all.
 */
#include "plan.h"
#include "view.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/*
 * The whole link list is needed only for the collectors and tunnels at the
 * end, so a thread on its own socket reads it while the qdisc deletes go
 * out. The kernel takes RTNL for both (a link dump pass of some 30 links; a
 * delete, which also waits for a grace period under it), so they take turns
 * there; what runs side by side is the rest: the copy and parsing of about
 * a kilobyte a link, and the deletes' messages, answers and records.
 */
struct link_reader {
	pthread_t tid;
	bool started;
	struct ifm_nl nl;
	struct ifm_link *links;
	size_t n;
	int r;
};

static void *read_links(void *arg)
{
	struct link_reader *lr = arg;

	lr->r = ifm_link_list(&lr->nl, &lr->links, &lr->n);
	return NULL;
}

/* start reading; where no thread or socket can be had, the caller reads */
static void links_start(struct link_reader *lr)
{
	sigset_t all, old;

	memset(lr, 0, sizeof(*lr));
	if (ifm_nl_open(&lr->nl) < 0)
		return;
	sigfillset(&all);   /* the thread takes no signal */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	lr->started = pthread_create(&lr->tid, NULL, read_links, lr) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int links_finish(struct link_reader *lr, struct ifm_nl *nl)
{
	if (lr->started)
		pthread_join(lr->tid, NULL);
	else
		lr->r = ifm_link_list(nl, &lr->links, &lr->n);
	if (lr->r < 0 && lr->started) {   /* the kernel's reason, for the caller */
		nl->err = lr->nl.err;
		memcpy(nl->extack, lr->nl.extack, sizeof(nl->extack));
	}
	ifm_nl_close(&lr->nl);
	lr->started = false;
	return lr->r;
}

static int flush_pending(const struct ifm_session_spec *s, void *arg)
{
	(void)arg;
	ifm_pending_del(s->source, s->dest);
	return 0;
}

int ifm_flush(struct ifm_nl *nl, int *sessions, int *devices)
{
	struct ifm_view v = { 0 };
	struct ifm_batch b = { 0 };
	struct link_reader lr = { 0 };
	struct ifm_link *links;
	size_t nlinks;
	int r, lr_r;

	*sessions = *devices = 0;
	if ((r = ifm_view_hooked(&v, nl)) < 0 || (r = ifm_batch_init(&b, nl)) < 0)
		goto out;
	links_start(&lr);
	/* newest device first: the kernel keeps every block of a device without
	 * offload (veth, tap, bridge...) on one global list, newest at the head,
	 * and walks it from the head to unbind each one (flow_offload.c,
	 * find_indir_dev), so deleting clsacts oldest first costs O(n^2) */
	for (int i = v.maxdev; i >= 1 && r == 0; i--) {
		struct ifm_view_dev *d = &v.devs[i];
		bool any = false;

		for (size_t j = 0; d->scanned && j < d->t.nf; j++) {
			if (ifm_filter_is_ours(&d->t.f[j]))
				(*sessions)++;
			any |= ifm_filter_is_ours(&d->t.f[j]) || ifm_filter_is_devprog(&d->t.f[j]);
		}
		if (!any) {
			/* a clsact ifmirror made and was killed before filling */
			if (d->scanned && !d->t.nf && !strcmp(d->t.q.ingress_kind, "clsact") &&
			    ifm_owned_dev(i, ifm_view_name(&v, i), "clsact")) {
				(*devices)++;
				d->clsact_new = true;
				d->clsact_result = b.n;
				r = ifm_batch_add(&b, ifm_clsact_msg(false, i));
			}
			continue;
		}
		(*devices)++;
		if (!ifm_hooks_have_foreign(&d->t, IFM_DIR_BOTH) &&
		    !strcmp(d->t.q.ingress_kind, "clsact") &&
		    ifm_owned_dev(i, ifm_view_name(&v, i), "clsact")) {
			d->clsact_new = true; /* here: deleted whole */
			d->clsact_result = b.n;
			r = ifm_batch_add(&b, ifm_clsact_msg(false, i));
			continue;
		}
		d->tidy = true;
		for (size_t j = 0; j < d->t.nf && r == 0; j++) {
			const struct ifm_filter *f = &d->t.f[j];

			if (ifm_filter_is_ours(f) || ifm_filter_is_devprog(f))
				r = ifm_batch_add(&b, ifm_filter_del_msg(&d->t, f));
		}
	}
	if (r == 0)
		r = ifm_batch_finish(&b);
	ifm_owned_hold(true);
	for (int i = 1; i <= v.maxdev; i++) {
		struct ifm_view_dev *d = &v.devs[i];

		if (d->clsact_new && d->clsact_result < b.n && b.results[d->clsact_result] == 0)
			ifm_owned_set(i, "clsact", false);
	}
	ifm_owned_hold(false);
	ifm_owned_sync();
	for (int i = v.maxdev; i >= 1; i--)
		if (r == 0 && v.devs[i].tidy && !v.devs[i].clsact_new)
			ifm_hooks_tidy(nl, i);
	if ((lr_r = links_finish(&lr, nl)) < 0) {
		r = r ?: lr_r;
		goto out;
	}
	links = lr.links;
	nlinks = lr.n;
	/* collectors and tunnels, by the alias that marks them; links ifmirror
	 * was making when it was killed, before their alias, by their record */
	for (size_t i = 0; i < nlinks; i++) {
		if (ifm_half_made(links[i].name, links[i].kind, links[i].alias)) {
			if (ifm_link_delete(nl, links[i].ifindex) == 0)
				ifm_making_set(links[i].name, links[i].kind, false);
			(*devices)++;
		} else if (ifm_is_collector(&links[i]))
			ifm_collector_down(nl, links[i].name);
		else if (ifm_tunnel_mark_is(links[i].alias) && !strstr(links[i].alias, " of="))
			ifm_tunnel_down(nl, links[i].name);   /* and its per-id devices */
	}
	/* per-id devices whose tunnel is gone */
	for (size_t i = 0; i < nlinks; i++)
		if (ifm_tunnel_mark_is(links[i].alias) && strstr(links[i].alias, " of=") &&
		    ifm_link_get(nl, links[i].name, &(struct ifm_link){ 0 }) == 0)
			ifm_tunnel_down(nl, links[i].name);
	ifm_pending_each(flush_pending, NULL);
	/* police budgets of devices gone, no filter holding them now */
	if (r == 0)
		ifm_budget_gc(nl, NULL, 0, true);
out:
	if (lr.started)
		links_finish(&lr, nl);
	free(lr.links);
	ifm_batch_free(&b);
	ifm_view_free(&v);
	return r;
}
