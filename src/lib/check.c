// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A session, before it is made: what would go wrong. The destination down or
 * without carrier, a loop, a root qdisc egress cannot hang from, frames too
 * big for the destination or a tunnel's underlay. It changes nothing.
 */
#include "probe.h"
#include "reach.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>

static void warn(struct ifm_warnings *w, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(struct ifm_warnings *w, const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (w->n == IFM_MAXWARN)
		return;
	w->kind[w->n] = kind;
	va_start(ap, fmt);
	vsnprintf(w->text[w->n], sizeof(w->text[w->n]), fmt, ap);
	va_end(ap);
	w->n++;
}

/* A tunnel's underlay against the largest frame sent into it. */
static void tunnel_mtu(struct ifm_nl *nl, struct ifm_warnings *w, const struct ifm_tunnel_info *t,
		       unsigned int frame, const char *from)
{
	struct ifm_headroom h;
	char text[400];
	int r = ifm_tunnel_headroom(nl, t, frame, &h);

	if (r < 0) {
		warn(w, "mtu", "cannot tell whether %s's underlay carries whole copies: %s", t->name,
		     r == -EDESTADDRREQ ? "it has no remote address" : "no route to its remote");
		return;
	}
	if (h.fits)
		return;
	ifm_headroom_text(t, &h, from, text, sizeof(text));
	warn(w, "mtu", "%s: %s; raise %s's MTU to %u, or cut copies to %u bytes (ifmirror tunnel up "
	     "%s ... --snaplen %u)", t->name, text, h.underlay, h.need, h.snaplen, t->name,
	     h.snaplen);
}

static const struct ifm_link *link_of(const struct ifm_view *v, int ifindex)
{
	for (size_t i = 0; ifindex > 0 && i < v->nlinks; i++)
		if (v->links[i].ifindex == ifindex)
			return &v->links[i];
	return NULL;
}

/*
 * Where a copy sent out of dev is dropped for its size: a veth hands it to
 * its peer, which takes no frame beyond its own MTU (the veth's own MTU does
 * not matter); any other device takes up to its MTU. The device that limits.
 */
static const struct ifm_link *mtu_limit(const struct ifm_view *v, const struct ifm_link *dev)
{
	const struct ifm_link *peer = !strcmp(dev->kind, "veth") ? link_of(v, dev->link) : NULL;

	return peer ? peer : dev;
}

/* "raise X's MTU to N", and --snaplen where ifmirror can cut copies there */
static void mtu_fix(char *buf, size_t len, const char *dev, unsigned int need,
		    const struct ifm_link *collector, unsigned int limit)
{
	int n = snprintf(buf, len, "raise %s's MTU to %u", dev, need);

	if (collector && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", or cut copies to %u bytes (ifmirror collector "
			 "up %s ... --snaplen %u)", limit + IFM_ETH_HDR, collector->name,
			 limit + IFM_ETH_HDR);
}

/* A port of the bridge a copy is sent into: its MTU, or its veth peer's. */
static void port_mtu(struct ifm_warnings *w, const struct ifm_view *v, const struct ifm_link *br,
		     const struct ifm_link *p, unsigned int frame, unsigned int vlan, const char *from)
{
	const struct ifm_link *lim = mtu_limit(v, p);
	struct ifm_collector_mark mark;
	const struct ifm_link *coll = ifm_collector_mark_parse(br->alias, &mark) ? br : NULL;
	char fix[200];

	if (frame - IFM_ETH_HDR - vlan > p->mtu) {
		mtu_fix(fix, sizeof(fix), p->name, frame - IFM_ETH_HDR - vlan, coll, p->mtu);
		warn(w, "mtu", "%u-byte frames (%s) exceed the MTU %u of %s's port %s: the bridge "
		     "drops them there; %s", frame, from, p->mtu, br->name, p->name, fix);
	} else if (lim != p && frame - IFM_ETH_HDR - vlan > lim->mtu) {
		mtu_fix(fix, sizeof(fix), lim->name, frame - IFM_ETH_HDR - vlan, coll, lim->mtu);
		warn(w, "mtu", "%u-byte frames (%s) exceed the MTU %u of %s, the peer of %s's port "
		     "%s: it drops them; %s", frame, from, lim->mtu, lim->name, br->name, p->name,
		     fix);
	}
}

/*
 * What becomes of the copies on their way from src into dst: a way back into
 * src (a loop), more mirror actions in a row than the kernel nests, frames
 * larger than a device on the way takes.
 */
static void check_path_in(struct ifm_nl *nl, struct ifm_view *vp, struct ifm_reach *g,
			  const struct ifm_tunnel_info *src, const struct ifm_tunnel_info *dst,
			  enum ifm_dir dir, bool loop, struct ifm_warnings *w)
{
	struct ifm_tunnel_info *links = NULL;
	struct ifm_view_dev *dd;
	const struct ifm_link *d;
	unsigned int snaplen = 0, frame, vlan = 0;
	char from[80], path[400];
	size_t n = 0;
	int nest;

#define v (*vp)
	if (loop && ifm_reach_loops(g, dst->ifindex, src->ifindex))
		warn(w, "loop", "%s already leads back into %s (through mirrors, bridges or a veth's "
		     "peer): copies would loop and storm, which ifmirror up refuses", dst->name,
		     src->name);
	else if ((nest = ifm_reach_nest(g, src->ifindex, dir, dst->ifindex, path, sizeof(path))) >
		 IFM_MIRROR_NEST)
		warn(w, "chain", "copies would pass %d mirror actions in a row (%s): the kernel "
		     "nests at most %d, and the one past them drops the copy the one before was "
		     "sending, so the end of the chain gets none; mirror into it directly",
		     nest, path, IFM_MIRROR_NEST);

	/* the largest frame: the source's MTU, its Ethernet header, a VLAN tag if it has VLANs */
	for (size_t i = 0; i < v.nlinks; i++)
		if (!strcmp(v.links[i].kind, "vlan") && v.links[i].link == src->ifindex)
			vlan = 4;
	frame = src->mtu + IFM_ETH_HDR + vlan;
	snprintf(from, sizeof(from), "%s's MTU %u%s", src->name, src->mtu,
		 vlan ? " + a VLAN tag" : "");
	/* the snaplen filter hangs on dst's clsact: the view has its filters */
	dd = ifm_view_dev(&v, dst->ifindex);
	for (size_t i = 0; dd && dd->scanned && i < dd->t.nf; i++)
		if (dd->t.f[i].hook_dir == IFM_DIR_EGRESS && ifm_filter_is_snaplen(&dd->t.f[i]))
			snaplen = ifm_snaplen_mark_parse(dd->t.f[i].bpf_name);
	if (snaplen && snaplen < frame) {
		frame = snaplen;
		snprintf(from, sizeof(from), "cut to %u by %s's snaplen", snaplen, dst->name);
	}
	d = link_of(&v, dst->ifindex);
	if (dst->type) {
		tunnel_mtu(nl, w, dst, frame, from);
	} else if (d && d->is_bridge) {
		ifm_tnl_links(nl, &links, &n); /* its ports, tunnels among them */
		for (size_t i = 0; i < n; i++) {
			const struct ifm_tunnel_info *p = &links[i];
			const struct ifm_link *pl = link_of(&v, p->ifindex);

			if (p->master != dst->ifindex || !pl ||
			    !strncmp(p->alias, IFM_MARK_SINK, strlen(IFM_MARK_SINK)))
				continue;
			if (p->type) {
				int before = w->n;

				tunnel_mtu(nl, w, p, frame, from);
				if (w->n > before)
					continue;
			}
			port_mtu(w, &v, d, pl, frame, vlan, from);
		}
	} else if (d) {
		const struct ifm_link *lim = mtu_limit(&v, d);
		char fix[200];

		mtu_fix(fix, sizeof(fix), lim->name, frame - IFM_ETH_HDR - vlan, NULL, 0);
		if (frame - IFM_ETH_HDR - vlan > lim->mtu && lim == d)
			warn(w, "mtu", "%u-byte frames (%s) exceed %s's MTU %u: they may be dropped; %s",
			     frame, from, d->name, d->mtu, fix);
		else if (frame - IFM_ETH_HDR - vlan > lim->mtu)
			warn(w, "mtu", "%u-byte frames (%s) exceed the MTU %u of %s's peer %s: it drops "
			     "them; %s", frame, from, lim->mtu, d->name, lim->name, fix);
	}
	free(links);
#undef v
}

static void check_path(struct ifm_nl *nl, const struct ifm_tunnel_info *src,
		       const struct ifm_tunnel_info *dst, enum ifm_dir dir, bool loop,
		       struct ifm_warnings *w)
{
	struct ifm_view v = { 0 };
	struct ifm_reach *g = NULL;

	if (ifm_view_links(&v, nl) == 0 && ifm_view_scan(&v, nl) == 0 && (g = ifm_reach_new(&v, 0)))
		check_path_in(nl, &v, g, src, dst, dir, loop, w);
	ifm_reach_free(g);
	ifm_view_free(&v);
}

/* a device as the view shows it; a tunnel asked of the kernel for its details */
static int info_of(struct ifm_nl *nl, const struct ifm_link *l, struct ifm_tunnel_info *ti)
{
	if (ifm_tnl_kind(l->kind))
		return ifm_tnl_link(nl, NULL, l->ifindex, ti);
	memset(ti, 0, sizeof(*ti));
	ti->ifindex = l->ifindex;
	snprintf(ti->name, sizeof(ti->name), "%s", l->name);
	snprintf(ti->kind, sizeof(ti->kind), "%s", l->kind);
	snprintf(ti->alias, sizeof(ti->alias), "%s", l->alias);
	ti->link = l->link;
	ti->master = l->master;
	ti->mtu = l->mtu;
	ti->flags = l->flags;
	return 0;
}

void ifm_session_warn(struct ifm_nl *nl, struct ifm_view *v, struct ifm_reach *g,
		      const struct ifm_link *source, const struct ifm_link *dest, enum ifm_dir dir)
{
	struct ifm_tunnel_info src, dst;
	struct ifm_warnings w = { 0 };

	if (info_of(nl, source, &src) < 0 || info_of(nl, dest, &dst) < 0)
		return;
	check_path_in(nl, v, g, &src, &dst, dir, false, &w);
	for (int i = 0; i < w.n; i++)
		ifm_warn("%s: %s", src.name, w.text[i]);
}

void ifm_check_session(struct ifm_nl *nl, const struct ifm_probe *res,
			  const struct ifm_tunnel_info *src, const struct ifm_tunnel_info *dst,
			  enum ifm_dir dir, struct ifm_warnings *w)
{
	struct ifm_qdiscs q;

	/* the destination */
	if (!(dst->flags & IFF_UP))
		warn(w, "down", "%s is down: copies are dropped until it is up", dst->name);
	else if (!(dst->flags & IFF_LOWER_UP) && !strcmp(dst->kind, "bridge"))
		warn(w, "carrier", "%s is a bridge without carrier (none of its ports has one): "
		     "copies are dropped; an always-up sink port keeps it up (ifmirror collector up "
		     "%s --port ...)", dst->name, dst->name);
	else if (!(dst->flags & IFF_LOWER_UP))
		warn(w, "carrier", "%s has no carrier: copies are dropped until it has", dst->name);

	/* the hook for egress */
	if ((dir & IFM_DIR_EGRESS) && ifm_qdiscs_scan(nl, src->ifindex, &q) == 0 &&
	    strcmp(q.ingress_kind, "clsact") &&
	    (q.ingress_kind[0] || !ifm_probe_usable(res, IFM_P_CLSACT))) {
		const char *why = q.ingress_kind[0] ? "it has an ingress qdisc, which clsact "
			"cannot join" : ifm_probe_present(res, IFM_P_CLSACT) ? "clsact is treated as missing "
			"(IFMIRROR_AVOID)" : "the kernel has no clsact qdisc";

		if (!ifm_probe_usable(res, IFM_P_PRIO))
			warn(w, "hook", "egress of %s cannot be mirrored: %s, and the kernel has no "
			     "prio qdisc (kernel module sch_prio)", src->name, why);
		else if (q.root_handle && !(!strcmp(q.root_kind, "prio") &&
					    q.root_handle == IFM_PRIO_MAJOR << 16))
			warn(w, "hook", "egress of %s would be refused: %s, and its root qdisc is "
			     "%s %x:, which ifmirror does not replace", src->name, why,
			     q.root_kind[0] ? q.root_kind : "?", q.root_handle >> 16);
	}

	check_path(nl, src, dst, dir, true, w);
}

