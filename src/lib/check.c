// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A session, before it is made: what would go wrong. The destination down or
 * without carrier, a loop, a root qdisc egress cannot hang from, frames too
 * big for the destination or a tunnel's underlay. It changes nothing.
 */
#include "probe.h"

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

void ifm_check_session(struct ifm_nl *nl, const struct ifm_probe *res,
			  const struct ifm_tunnel_info *src, const struct ifm_tunnel_info *dst,
			  enum ifm_dir dir, struct ifm_warnings *w)
{
	struct ifm_tunnel_info *links = NULL;
	struct ifm_qdiscs q;
	unsigned int snaplen = 0, frame, vlan = 0;
	char from[80];
	size_t n = 0;

	ifm_tnl_links(nl, &links, &n);

	/* the destination */
	if (!(dst->flags & IFF_UP))
		warn(w, "down", "%s is down: copies are dropped until it is up", dst->name);
	else if (!(dst->flags & IFF_LOWER_UP) && !strcmp(dst->kind, "bridge"))
		warn(w, "carrier", "%s is a bridge without carrier (none of its ports has one): "
		     "copies are dropped; an always-up sink port keeps it up (ifmirror collector up "
		     "%s --port ...)", dst->name, dst->name);
	else if (!(dst->flags & IFF_LOWER_UP))
		warn(w, "carrier", "%s has no carrier: copies are dropped until it has", dst->name);
	if (ifm_reaches(nl, dst->ifindex, src->ifindex))
		warn(w, "loop", "%s already leads back into %s (a mirror or bridge path): a loop, "
		     "which ifmirror up refuses", dst->name, src->name);

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

	/* the largest frame: the source's MTU, its Ethernet header, a VLAN tag if it has VLANs */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(links[i].kind, "vlan") && links[i].link == src->ifindex)
			vlan = 4;
	frame = src->mtu + 14 + vlan;
	snprintf(from, sizeof(from), "%s's MTU %u%s", src->name, src->mtu,
		 vlan ? " + a VLAN tag" : "");
	if (ifm_snaplen_get(nl, dst->ifindex, &snaplen) == 0 && snaplen && snaplen < frame) {
		frame = snaplen;
		snprintf(from, sizeof(from), "cut to %u by %s's snaplen", snaplen, dst->name);
	}
	if (dst->type) {
		tunnel_mtu(nl, w, dst, frame, from);
	} else if (!strcmp(dst->kind, "bridge")) {
		for (size_t i = 0; i < n; i++) {
			const struct ifm_tunnel_info *p = &links[i];

			if (p->master != dst->ifindex ||
			    !strncmp(p->alias, IFM_MARK_SINK, strlen(IFM_MARK_SINK)))
				continue;
			if (p->type) {
				int before = w->n;

				tunnel_mtu(nl, w, p, frame, from);
				if (w->n > before)
					continue;
			}
			if (frame - 14 - vlan > p->mtu)
				warn(w, "mtu", "%u-byte frames (%s) exceed the MTU %u of %s's port %s: "
				     "the bridge drops them there; raise %s's MTU to %u", frame, from,
				     p->mtu, dst->name, p->name, p->name, frame - 14 - vlan);
		}
	} else if (frame - 14 - vlan > dst->mtu) {
		warn(w, "mtu", "%u-byte frames (%s) exceed %s's MTU %u: they may be dropped; "
		     "raise %s's MTU to %u", frame, from, dst->name, dst->mtu, dst->name,
		     frame - 14 - vlan);
	}
	free(links);
}

