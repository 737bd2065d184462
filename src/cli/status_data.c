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
	for (size_t i = 0; ifindex > 0 && i < st->nlinks; i++)
		if (st->links[i].ifindex == ifindex)
			return &st->links[i];
	return NULL;
}

static const struct ifm_link *by_name(const struct st_status *st, const char *name)
{
	for (size_t i = 0; i < st->nlinks; i++)
		if (!strcmp(st->links[i].name, name))
			return &st->links[i];
	return NULL;
}

static const char *hook_kind(const struct ifm_dev_tc *t, enum ifm_dir dir)
{
	const struct ifm_hook_ops *h = ifm_hook_present(&t->q, dir);

	return h ? h->kind : "?";
}

/* the largest frame out of src: its MTU, the Ethernet header, a VLAN tag
 * when a VLAN device sits on it (as check counts it) */
static unsigned int frame_of(const struct st_status *st, const struct ifm_link *src)
{
	unsigned int vlan = 0;

	for (size_t i = 0; i < st->nlinks; i++)
		if (!strcmp(st->links[i].kind, "vlan") && st->links[i].link == src->ifindex)
			vlan = 4;
	return src->mtu + IFM_ETH_HDR + vlan;
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
	size_t cap = 0;

	for (size_t i = 0; i < st->nlinks; i++) {
		const struct ifm_link *src = &st->links[i];
		struct ifm_dev_tc t;

		if (only && strcmp(src->name, only))
			continue;
		if (ifm_dev_tc_scan(nl, src->ifindex, &t) < 0)
			continue; /* the device went away meanwhile */
		for (size_t j = 0; j < t.nf; j++) {
			const struct ifm_filter *f = &t.f[j];
			struct st_session s = { .src = src, .dir = f->hook_dir };
			char expr[1024] = "";

			if (!ifm_filter_is_ours(f))
				continue;
			s.dest = by_index(st, f->act.ifindex);
			s.dest_ifindex = s.dest ? (unsigned)s.dest->ifindex : f->act.cookie.dest_ifindex;
			s.packets = f->act.packets;
			s.bytes = f->act.bytes;
			s.dropped = f->act.overlimits;
			s.budget_drops = f->budget_drops;
			snprintf(s.hook, sizeof(s.hook), "%s", hook_kind(&t, f->hook_dir));
			snprintf(s.classifier, sizeof(s.classifier), "%s", f->kind);
			s.pref = f->pref;
			s.sample = f->sample;
			if (ifm_match_has_expr(f->prog_len, f->sample)) {
				if (!ifm_match_recall(f->prog_hash, expr, sizeof(expr)))
					snprintf(expr, sizeof(expr), "(a BPF program of %u instructions)",
						 f->prog_len);
				if (!(s.match = strdup(expr))) {
					ifm_dev_tc_free(&t);
					return -ENOMEM;
				}
			}
			if (s.dest)
				ifm_snaplen_get(nl, s.dest->ifindex, &s.snaplen);
			s.frame = frame_of(st, src);
			if (s.snaplen && s.snaplen < s.frame)
				s.frame = s.snaplen;
			if (add_session(st, &cap, &s) < 0) {
				free(s.match);
				ifm_dev_tc_free(&t);
				return -ENOMEM;
			}
		}
		ifm_dev_tc_free(&t);
	}
	return 0;
}

static void port_of(const struct st_status *st, const struct ifm_link *br, const char *name,
		    struct st_port *p)
{
	p->name = name;
	p->l = by_name(st, name);
	p->attached = p->l && p->l->master == br->ifindex;
}

static int read_collectors(const char *only, struct st_status *st)
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
	int r = ifm_tnl_links(nl, &ti, &n);

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

int st_read(struct ifm_nl *nl, const char *only, struct st_status *st)
{
	bool all;
	int r;

	memset(st, 0, sizeof(*st));
	r = ifm_link_list(nl, &st->links, &st->nlinks);
	if (r < 0) {
		ifm_err("cannot list devices: %s", strerror(-r));
		return r;
	}
	if (only && !by_name(st, only)) {
		ifm_err("%s: no such device", only);
		return -ENODEV;
	}
	/* a tunnel's headroom counts every session that sends into it */
	all = only && ifm_tunnel_mark_is(by_name(st, only)->alias);
	r = read_sessions(nl, all ? NULL : only, st);
	if (r == 0)
		r = read_collectors(only, st);
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
	free(st->links);
	memset(st, 0, sizeof(*st));
}
