// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * status: everything it shows, read once without the lock. Sessions are
 * ifmirror's mirror actions with their counters; collectors are bridges
 * with ifmirror's collector alias, their sink and ports; tunnels are
 * devices with ifmirror's tunnel alias, with their underlay's MTU headroom
 * for the largest frame the sessions send into them.
 */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *st_state(const struct ifm_link *l)
{
	return l ? ifm_link_state(l) : "gone";
}

static const struct ifm_link *by_index(const struct st_status *st, int ifindex)
{
	return ifindex > 0 && ifindex <= st->maxdev ? st->by_index[ifindex] : NULL;
}

static const struct ifm_link *by_name(const struct st_status *st, const char *name)
{
	return ifm_view_link(&st->v, name);
}

static const char *hook_kind(const struct ifm_dev_tc *t, enum ifm_dir dir)
{
	const struct ifm_hook_ops *h = ifm_hook_present(&t->q, dir);

	return h ? h->kind : "?";
}

/* the largest frame out of src: its MTU, the Ethernet header, a VLAN tag
 * when a VLAN device sits on it (as check counts it); vlan_on[ifindex] */
static unsigned int frame_of(const bool *vlan_on, const struct ifm_link *src)
{
	return src->mtu + IFM_ETH_HDR + (vlan_on[src->ifindex] ? 4 : 0);
}

/* what status reads of the filters: its sessions, the destinations' snaplen
 * (of 1 000 u32 sources' 10 000 filters, 2 000: the rest would cost a page
 * fault per 14, a tenth of the run) */
static bool status_keeps(const struct ifm_filter *f)
{
	return ifm_filter_is_ours(f) || ifm_filter_is_devprog(f);
}

/* the destination's snaplen from its filters in the view, 0: none */
static unsigned int view_snaplen(struct ifm_view *v, int ifindex)
{
	struct ifm_view_dev *d = ifm_view_dev(v, ifindex);
	unsigned int snaplen = 0;

	for (size_t i = 0; d && d->scanned && i < d->t.nf; i++)
		if (d->t.f[i].hook_dir == IFM_DIR_EGRESS && ifm_filter_is_snaplen(&d->t.f[i]))
			snaplen = ifm_snaplen_mark_parse(d->t.f[i].bpf_name);
	return snaplen;
}

static int add_session(struct st_status *st, size_t *cap, const struct st_session *s)
{
	if (st->ns == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		struct st_session *v = realloc(st->s, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->s = v;
		*cap = n;
	}
	st->s[st->ns++] = *s;
	return 0;
}

static int read_sessions(struct ifm_nl *nl, const char *only, struct st_status *st)
{
	bool *vlan_on = calloc((size_t)st->maxdev + 1, sizeof(*vlan_on));
	size_t cap = 0;
	int r = 0;

	if (!vlan_on)
		return -ENOMEM;
	for (size_t i = 0; i < st->nlinks; i++)
		if (!strcmp(st->links[i].kind, "vlan") && st->links[i].link > 0 &&
		    st->links[i].link <= st->maxdev)
			vlan_on[st->links[i].link] = true;
	for (size_t i = 0; i < st->nlinks && r == 0; i++) {
		const struct ifm_link *src = &st->links[i];
		struct ifm_view_dev *d = ifm_view_dev(&st->v, src->ifindex);
		const struct ifm_dev_tc *t = st->one_scanned ? &st->one : d && d->scanned ? &d->t : NULL;
		int last_budget = 0;
		struct ifm_budget_state budget = { 0 };
		struct ifm_collector_mark mark;

		if ((only && strcmp(src->name, only)) || !t)
			continue;
		for (size_t j = 0; j < t->nf; j++) {
			const struct ifm_filter *f = &t->f[j];
			struct st_session s = { .src = src, .dir = f->hook_dir };
			char expr[1024] = "";

			if (!ifm_filter_is_ours(f))
				continue;
			s.dest = by_index(st, f->act.ifindex);
			s.dest_ifindex = s.dest ? (unsigned)s.dest->ifindex : f->act.cookie.dest_ifindex;
			s.packets = f->act.packets;
			s.bytes = f->act.bytes;
			s.dropped = f->act.overlimits;
			/* budgets hang only on ifmirror's own bridges and tunnels */
			if (s.dest && (ifm_tunnel_mark_is(s.dest->alias) ||
				       (s.dest->is_bridge && ifm_collector_mark_parse(s.dest->alias, &mark)))) {
				if (last_budget != s.dest->ifindex &&
				    ifm_budget_get(nl, s.dest->ifindex, &budget) < 0)
					memset(&budget, 0, sizeof(budget));
				last_budget = s.dest->ifindex;
				s.budget = budget;
			}
			if (f->has_police) {
				/*
				 * A police budget: the copies it kept from the mirred
				 * are its overlimits (exceed skips the copy and drops
				 * nothing, so its drops stay 0). One bucket serves every
				 * session into the destination: this is theirs together.
				 * They count among the session's dropped, as the
				 * shaper's drops do (the mirred counts those).
				 */
				s.budget_drops = f->police.overlimits;
				s.dropped += s.budget_drops;
			} else if (ifm_filter_is_bucket(f) && s.budget.how &&
				   !strcmp(s.budget.how, "bucket")) {
				/* the bucket's: copies it never made, all sessions
				 * that draw from it together, as police's */
				s.budget_drops = s.budget.not_made;
				/* and with a shaper beside it, what that dropped of theirs */
				if (s.budget.shaper_too && !strcmp(ifm_link_state(s.dest), "up"))
					s.budget_drops += s.dropped;
				s.dropped += s.budget.not_made;
			} else if (s.budget.how && (!strcmp(s.budget.how, "shaper") ||
						    s.budget.shaper_too) &&
				   !strcmp(ifm_link_state(s.dest), "up")) {
				s.budget_drops = s.dropped;
			}
			snprintf(s.hook, sizeof(s.hook), "%s", hook_kind(t, f->hook_dir));
			snprintf(s.classifier, sizeof(s.classifier), "%s", f->kind);
			s.pref = f->pref;
			s.sample = f->sample;
			s.block = f->block;
			if (ifm_match_has_expr(f->prog_len, f->sample)) {
				if (!ifm_match_recall(f->prog_hash, expr, sizeof(expr)))
					snprintf(expr, sizeof(expr), "(a BPF program of %u instructions)",
						 f->prog_len);
				if (!(s.match = strdup(expr))) {
					r = -ENOMEM;
					break;
				}
			}
			if (s.dest && st->one_scanned)
				ifm_snaplen_get(nl, s.dest->ifindex, &s.snaplen);
			else if (s.dest)
				s.snaplen = view_snaplen(&st->v, s.dest->ifindex);
			s.frame = frame_of(vlan_on, src);
			if (s.snaplen && s.snaplen < s.frame)
				s.frame = s.snaplen;
			if ((r = add_session(st, &cap, &s)) < 0) {
				free(s.match);
				break;
			}
		}
	}
	free(vlan_on);
	return r;
}

static void port_of(const struct st_status *st, const struct ifm_link *br, const char *name,
		    struct st_port *p)
{
	snprintf(p->name, sizeof(p->name), "%s", name);   /* a name of a mark: it fits */
	p->l = by_name(st, name);
	p->attached = p->l && p->l->master == br->ifindex;
}

static int read_collectors(struct ifm_nl *nl, const char *only, struct st_status *st)
{
	for (size_t i = 0; i < st->nlinks; i++) {
		const struct ifm_link *br = &st->links[i];
		struct ifm_collector_mark m;
		struct st_collector *c, *v;

		if (!br->is_bridge || !ifm_collector_mark_parse(br->alias, &m) ||
		    (only && strcmp(only, br->name)))
			continue;
		if (!(v = realloc(st->c, (st->nc + 1) * sizeof(*v))))
			return -ENOMEM;
		st->c = v;
		c = &st->c[st->nc++];
		memset(c, 0, sizeof(*c));
		c->br = br;
		c->mark = m;
		port_of(st, br, c->mark.sink, &c->sink);
		for (int p = 0; p < m.nports; p++)
			port_of(st, br, c->mark.ports[p], &c->ports[c->nports++]);
		if (ifm_budget_get(nl, br->ifindex, &c->budget) < 0)
			memset(&c->budget, 0, sizeof(c->budget));
	}
	return 0;
}

/* the largest frame the sessions send into t: into it, or into the bridge
 * it is a port of; its own MTU's frame when none does. Cut by its snaplen. */
static void tunnel_frame(struct ifm_nl *nl, const struct st_status *st, struct st_tunnel *t)
{
	unsigned int snaplen = 0;

	t->frame = 0;
	for (size_t i = 0; i < st->ns; i++) {
		const struct ifm_link *d = st->s[i].dest;

		if (d && (d->ifindex == t->ti.ifindex || (t->ti.master && d->ifindex == t->ti.master)) &&
		    st->s[i].frame > t->frame)
			t->frame = st->s[i].frame;
	}
	t->frame_from = t->frame ? "sessions" : "mtu";
	if (!t->frame)
		t->frame = t->ti.mtu + IFM_ETH_HDR;
	if (ifm_snaplen_get(nl, t->ti.ifindex, &snaplen) == 0 && snaplen && snaplen < t->frame)
		t->frame = snaplen;
}

static int read_tunnels(struct ifm_nl *nl, const char *only, struct st_status *st)
{
	struct ifm_tunnel_info *ti = NULL;
	size_t n = 0;
	bool any = false;
	int r;

	for (size_t i = 0; i < st->nlinks && !any; i++)
		any = ifm_tunnel_mark_is(st->links[i].alias);
	if (!any)
		return 0;   /* no tunnel of ours: no second dump */
	r = ifm_tnl_links(nl, &ti, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct st_tunnel *t, *v;

		if (!ti[i].ops || !ifm_tunnel_mark_is(ti[i].alias) || (only && strcmp(only, ti[i].name)))
			continue;
		if (!(v = realloc(st->t, (st->nt + 1) * sizeof(*v)))) {
			free(ti);
			return -ENOMEM;
		}
		st->t = v;
		t = &st->t[st->nt++];
		memset(t, 0, sizeof(*t));
		t->ti = ti[i];
		t->l = by_index(st, ti[i].ifindex);
		tunnel_frame(nl, st, t);
		t->headroom_err = ifm_tunnel_headroom(nl, &t->ti, t->frame, &t->h);
		if (!t->headroom_err)
			t->headroom = (long)t->h.snaplen - (long)t->frame;
	}
	free(ti);
	return 0;
}

/* keeps the sessions whose source is name */
static void only_from(struct st_status *st, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < st->ns; i++) {
		if (strcmp(st->s[i].src->name, name))
			free(st->s[i].match);
		else
			st->s[n++] = st->s[i];
	}
	st->ns = n;
}

/*
 * One dump of the links (no statistics), one of all qdiscs, and filter
 * dumps only where a hook hangs (the view apply plans from); `status
 * SOURCE` reads that device's filters alone.
 */
int st_read(struct ifm_nl *nl, const char *only, struct st_status *st)
{
	bool all;
	int r;

	memset(st, 0, sizeof(*st));
	st->v.blocks.keep = status_keeps;
	for (int i = 0;; i++) {
		struct ifm_link l;

		r = ifm_view_links(&st->v, nl);
		if (r < 0) {
			ifm_err("cannot list devices: %s", ifm_nl_reason(nl, r));
			return r;
		}
		/* links that kept changing while they were listed: a device
		 * asked for is asked for by name before it is called missing */
		if (!only || ifm_view_link(&st->v, only) || i == IFM_DUMP_TRIES ||
		    ifm_link_get(nl, only, &l) < 0)
			break;
	}
	st->links = st->v.links;
	st->nlinks = st->v.nlinks;
	for (size_t i = 0; i < st->nlinks; i++)
		if (st->links[i].ifindex > st->maxdev)
			st->maxdev = st->links[i].ifindex;
	if (!(st->by_index = calloc((size_t)st->maxdev + 1, sizeof(*st->by_index)))) {
		ifm_err("status: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->nlinks; i++)
		st->by_index[st->links[i].ifindex] = &st->links[i];
	if (only && !by_name(st, only)) {
		ifm_err("%s: no such device", only);
		return -ENODEV;
	}
	/* a tunnel's headroom counts every session that sends into it */
	all = only && ifm_tunnel_mark_is(by_name(st, only)->alias);
	if (only && !all) {
		r = ifm_dev_tc_scan(nl, by_name(st, only)->ifindex, &st->one);
		if (r < 0) {
			ifm_err("%s: cannot read tc state: %s", only, ifm_nl_reason(nl, r));
			return r;
		}
		st->one_scanned = true;
	} else if ((r = ifm_view_scan(&st->v, nl)) < 0) {
		ifm_err("cannot read tc state: %s", ifm_nl_reason(nl, r));
		return r;
	}
	r = read_sessions(nl, all ? NULL : only, st);
	if (r == 0)
		r = read_collectors(nl, only, st);
	if (r == 0) {
		r = read_tunnels(nl, only, st);
		if (r < 0)
			ifm_err("cannot list tunnels: %s", ifm_nl_reason(nl, r));
	} else {
		ifm_err("cannot read the sessions: %s", strerror(-r));
	}
	if (all)
		only_from(st, only);
	return r;
}

void st_free(struct st_status *st)
{
	for (size_t i = 0; i < st->ns; i++)
		free(st->s[i].match);
	free(st->s);
	free(st->c);
	free(st->t);
	free(st->by_index);
	if (st->one_scanned)
		ifm_dev_tc_free(&st->one);
	ifm_view_free(&st->v);
	memset(st, 0, sizeof(*st));
}
