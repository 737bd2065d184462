// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tunnel up and down. The same spec again changes nothing; another one
 * re-creates the device (a vxlan's VNI cannot be changed in place) and
 * re-points the sessions that mirrored into it. A kind the kernel lacks
 * never costs the old tunnel.
 */
#include "ifmirror.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tunnel_int.h"

/* ---- sessions into the tunnel ---- */

/* Sources that mirror into ifindex: how many, and the largest MTU among them. */
static int sources_into(struct ifm_nl *nl, int ifindex, unsigned int *max_mtu)
{
	struct ifm_tunnel_info *links = NULL;
	size_t n = 0;
	int count = 0;

	*max_mtu = 0;
	if (ifm_tnl_links(nl, &links, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct ifm_dev_tc t;
		bool into = false;

		if (links[i].ifindex == ifindex || ifm_dev_tc_scan(nl, links[i].ifindex, &t) < 0)
			continue;
		for (size_t j = 0; j < t.nf; j++)
			if (ifm_filter_is_ours(&t.f[j]) && t.f[j].act.ifindex == ifindex)
				into = true;
		ifm_dev_tc_free(&t);
		if (into) {
			count++;
			if (links[i].mtu > *max_mtu)
				*max_mtu = links[i].mtu;
		}
	}
	free(links);
	return count;
}

static void describe(const struct ifm_tunnel_spec *t, const struct ifm_tunnel_addrs *a,
		     char *buf, size_t len)
{
	const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);
	size_t n = (size_t)snprintf(buf, len, "%s to %s", a->kind, t->remote);

	if (t->has_id && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", %s %lu", ops->id_words, t->id);
	if (ops->dstport_default && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", UDP port %u", a->dstport);
	if (n < len)
		ifm_tunnel_version_text(ifm_tunnel_spec_version(t), t->hwid, t->erspan_dir ?
					t->erspan_dir : IFM_DIR_INGRESS, buf + n, len - n);
}

/* Does the kernel's device still say what the spec asks for? (the alias
 * records the spec; this catches a device changed behind ifmirror's back) */
static bool kernel_is(const struct ifm_tunnel_info *ti, const struct ifm_tunnel_spec *t)
{
	unsigned int ver = ifm_tunnel_spec_version(t);

	if (!ti->ops || strcmp(ti->ops->type, t->type))
		return false;
	if (ver && ti->version != ver)
		return false;
	if (ver == 2 && (ti->hwid != t->hwid ||
			 (ti->erspan_dir == IFM_DIR_EGRESS) != (t->erspan_dir == IFM_DIR_EGRESS)))
		return false;
	return true;
}

static void missing_kind(const char *type, const char *kind, char *buf, size_t len)
{
	snprintf(buf, len, "the kernel has no %s devices (kernel module %s)%s", kind,
		 ifm_tunnel_module(kind), ifm_avoid(type) || ifm_avoid(kind)
		 ? " (treated as missing: IFMIRROR_AVOID)" : "");
}

/* The MTU warning of `tunnel up`: for the sources mirroring into it, else 1500. */
static void warn_headroom(struct ifm_nl *nl, const struct ifm_tunnel_spec *t, bool fresh)
{
	const char *name = t->name;
	struct ifm_tunnel_info ti;
	struct ifm_headroom h;
	unsigned int src_mtu = 0, frame;
	char text[400], from[80];
	int r, nsrc;

	if (ifm_tnl_link(nl, name, 0, &ti) < 0 || !ti.type)
		return;
	/* sources may come later: Ethernet's usual 1500 bytes at least */
	nsrc = sources_into(nl, ti.ifindex, &src_mtu);
	if (src_mtu <= 1500) {
		src_mtu = 1500;
		nsrc = 0;
	}
	frame = src_mtu + IFM_ETH_HDR;
	if (t->snaplen && t->snaplen < frame)
		frame = t->snaplen;
	r = ifm_tunnel_headroom(nl, &ti, frame, &h);
	if (r < 0) {
		fflush(stdout);
		ifm_notice("%s: no route to %s yet: cannot tell whether the underlay carries whole "
			   "copies (see ifmirror check)", name, t->remote);
		return;
	}
	/* the kernel's own MTU for a tunnel it bound to the underlay is the truth */
	if (fresh && ti.mtu && ti.mtu + ti.overhead < h.underlay_mtu &&
	    (ti.link || ti.ops->mtu_by_route)) {
		ti.overhead = h.underlay_mtu - ti.mtu;
		r = ifm_tunnel_headroom(nl, &ti, frame, &h);
	}
	if (r < 0 || h.fits)
		return;
	if (frame < src_mtu + IFM_ETH_HDR)
		snprintf(from, sizeof(from), "--snaplen %u", frame);
	else
		snprintf(from, sizeof(from), "%s MTU %u", nsrc ? "its sources' largest" :
			 "sources with", src_mtu);
	ifm_headroom_text(&ti, &h, from, text, sizeof(text));
	ifm_warn("%s: %s; raise %s's MTU to %u (%u for VLAN-tagged frames), or cut copies with "
		 "--snaplen %u", name, text, h.underlay, h.need,
		h.need + 4, h.snaplen);
}

/* ---- tunnel up / down ---- */

/*
 * A kind that sends nothing over IPv6 without a local address (ip6gre), and
 * none given: the source the kernel would use toward the remote (over the
 * underlay, when there is one). 1 when picked into a, 0 when not needed,
 * -EADDRNOTAVAIL when the route gives none.
 */
static int pick_local(struct ifm_nl *nl, const struct ifm_tunnel_spec *t,
		      struct ifm_tunnel_addrs *a, int dev)
{
	const struct ifm_tunnel_ops *ops = ifm_tunnel_type(t->type);

	if (!ops || !ops->local6_needed || a->family != AF_INET6 || a->has_local)
		return 0;
	if (ifm_route_source(nl, AF_INET6, a->remote, dev, a->local) < 0)
		return -EADDRNOTAVAIL;
	a->has_local = true;
	return 1;
}

int ifm_tunnel_up(struct ifm_nl *nl, const struct ifm_tunnel_spec *t)
{
	struct ifm_tunnel_info old;
	struct ifm_link dev = { 0 }, l;
	struct ifm_tunnel_addrs p;
	char alias[256], problem[200], desc[200], store[256];
	const char *why;
	bool had = false, created = false;
	int r, picked;

	if (!t->name || ifm_ifname_problem(t->name)) {
		ifm_err("%s: %s", t->name ? t->name : "tunnel",
			t->name ? ifm_ifname_problem(t->name) : "needs a name");
		return -EINVAL;
	}
	if ((why = ifm_tunnel_spec_problem(t, problem, sizeof(problem)))) {
		ifm_err("%s: %s", t->name, why);
		return -EINVAL;
	}
	ifm_tunnel_addrs(t, &p);
	if (ifm_tunnel_alias(t, &p, alias, sizeof(alias)) < 0) {
		ifm_err("%s: the spec is too long to be recorded in the tunnel's alias", t->name);
		return -ENAMETOOLONG;
	}
	describe(t, &p, desc, sizeof(desc));
	if (t->dev && (r = ifm_link_get(nl, t->dev, &dev)) < 0) {
		ifm_err("%s: underlay %s: %s", t->name, t->dev,
			r == -ENODEV ? "no such device" : strerror(-r));
		return r;
	}

	if ((picked = pick_local(nl, t, &p, dev.ifindex)) < 0) {
		ifm_err("%s: --local is needed: no route to %s with a source address", t->name,
			t->remote);
		return -EINVAL; /* as a spec refused: said, in one line */
	}
	r = ifm_tnl_link(nl, t->name, 0, &old);
	if (r < 0 && r != -ENODEV) {
		ifm_err("%s: %s", t->name, ifm_nl_reason(nl, r));
		return r;
	}
	had = r == 0;
	/* one ifmirror was making when it was killed, before its alias */
	if (had && ifm_half_made(old.name, old.kind, old.alias)) {
		if ((r = ifm_link_delete(nl, old.ifindex)) < 0) {
			ifm_err("%s: cannot remove a half-made tunnel: %s", t->name,
				ifm_nl_reason(nl, r));
			return r;
		}
		ifm_making_set(t->name, old.kind, false);
		had = false;
	}
	if (had && !ifm_tunnel_mark_is(old.alias)) {
		ifm_err("%s: exists and is not an ifmirror tunnel (no '%s' alias); not touching it",
			t->name, IFM_MARK_TUNNEL);
		return -EEXIST;
	}
	/* (a local address picked: the device must have that one) */
	if (had && !strcmp(old.alias, alias) && (!t->dev || old.link == dev.ifindex) &&
	    kernel_is(&old, t) && (!picked || !memcmp(old.local, p.local, 16))) {
		ifm_info("%s: tunnel unchanged (%s)", t->name, desc);
	} else {
		/* a kind the kernel lacks must not cost the old tunnel */
		if (had && strcmp(old.kind, p.kind) &&
		    ifm_tunnel_kind_known(nl, p.kind) < 0) {
			missing_kind(t->type, p.kind, problem, sizeof(problem));
			ifm_err("%s: %s; the tunnel stays as it was", t->name, problem);
			return -EOPNOTSUPP;
		}
		if (had && (r = ifm_link_delete(nl, old.ifindex)) < 0) {
			ifm_err("%s: cannot remove the old tunnel: %s", t->name, ifm_nl_reason(nl, r));
			return r;
		}
		if ((r = ifm_making_set(t->name, p.kind, true)) < 0) {
			ifm_err("%s: cannot write the record in %s: %s", t->name, ifm_run_dir(),
				strerror(-r));
			return r;
		}
		r = ifm_tunnel_create(nl, t->name, t, &p, dev.ifindex);
		if (r < 0) {
			struct ifm_tunnel_spec o;
			struct ifm_tunnel_addrs op;
			bool back = false;

			if (r == -EOPNOTSUPP)
				missing_kind(t->type, p.kind, problem, sizeof(problem));
			else
				snprintf(problem, sizeof(problem), "cannot create the %s tunnel: %s",
					 p.kind, ifm_nl_reason(nl, r));
			/* put the old one back: the sessions into it are re-pointed below */
			if (had && ifm_tunnel_alias_spec(t->name, old.alias, &o, store, sizeof(store)) &&
			    !ifm_tunnel_spec_problem(&o, desc, sizeof(desc))) {
				struct ifm_link od = { 0 };

				ifm_tunnel_addrs(&o, &op);
				ifm_making_set(t->name, p.kind, false);
				back = (!o.dev || ifm_link_get(nl, o.dev, &od) == 0) &&
				       pick_local(nl, &o, &op, od.ifindex) >= 0 &&
				       ifm_making_set(t->name, op.kind, true) == 0 &&
				       ifm_tunnel_create(nl, t->name, &o, &op, od.ifindex) == 0 &&
				       ifm_link_get(nl, t->name, &l) == 0 &&
				       ifm_link_set_alias(nl, l.ifindex, old.alias) == 0 &&
				       ifm_link_quiet_up(nl, &l) == 0;
				ifm_making_set(t->name, op.kind, false);
				if (back)
				{
					bool was = ifm_quiet_set(true);

					ifm_refresh(nl, t->name);
					ifm_quiet_set(was);
				}
			}
			ifm_making_set(t->name, p.kind, false);
			ifm_err("%s: %s%s", t->name, problem,
				back ? "; the tunnel stays as it was" : had ? "; the old tunnel is gone" : "");
			return r;
		}
		created = true;
		if ((r = ifm_link_get(nl, t->name, &l)) < 0 ||
		    (r = ifm_link_set_alias(nl, l.ifindex, alias)) < 0) {
			ifm_err("%s: cannot mark the tunnel as ifmirror's: %s", t->name,
				ifm_nl_reason(nl, r));
			goto fail;
		}
		ifm_making_set(t->name, p.kind, false);
		/* said once the tunnel is made: a refusal stays one line */
		if (picked) {
			char src[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, p.local, src, sizeof(src));
			ifm_notice("%s: no local address given: %s, the source the kernel picks "
				   "for %s, is used", t->name, src, t->remote);
		}
		if (had)
			ifm_info("%s: tunnel re-created as %s (was:%s); sessions into it are re-pointed",
			       t->name, desc, old.alias + strlen(IFM_MARK_TUNNEL));
		else
			ifm_info("%s: tunnel created (%s)", t->name, desc);
	}
	if ((r = ifm_link_get(nl, t->name, &l)) < 0)
		goto fail;
	if ((r = ifm_link_quiet_up(nl, &l)) < 0) {
		ifm_err("%s: cannot bring the tunnel up: %s", t->name, ifm_nl_reason(nl, r));
		goto fail;
	}
	if ((r = ifm_snaplen_set(nl, &l, t->snaplen)) < 0 ||
	    (r = ifm_budget_set(nl, &l, t->rate, t->burst)) < 0)
		goto fail;
	/* sessions waiting for this name, or left dangling by the device it replaced */
	r = ifm_refresh(nl, t->name);
	/* the police budget of the device it replaced, once nothing holds it */
	if (r == 0)
		ifm_budget_gc(nl, NULL, 0, false);
	/* -q: no warnings either, as ever; a per-id device's underlay is its tunnel's */
	if (!ifm_quiet() && !t->of)
		warn_headroom(nl, t, created);
	return r;
fail:
	/* a device that is not up and marked is of no use; a re-run makes it again */
	if (created && ifm_link_get(nl, t->name, &l) == 0)
		ifm_link_delete(nl, l.ifindex);
	return r < 0 ? r : -EIO;
}

/* The per-id devices of a tunnel (alias "of=NAME") go with it. */
static void down_ids(struct ifm_nl *nl, const char *name)
{
	struct ifm_tunnel_info *links = NULL;
	char of[IFM_IFNAMSIZ];
	size_t n = 0;

	if (ifm_tnl_links(nl, &links, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (ifm_tunnel_alias_of(links[i].alias, of) && !strcmp(of, name))
			ifm_tunnel_down(nl, links[i].name);
	free(links);
}

int ifm_tunnel_down(struct ifm_nl *nl, const char *name)
{
	struct ifm_tunnel_info ti;
	unsigned int mtu;
	int r, nsrc;

	down_ids(nl, name);
	r = ifm_tnl_link(nl, name, 0, &ti);
	if (r == -ENODEV) {
		ifm_info("%s: no such device, nothing to remove", name);
		return 0;
	}
	if (r < 0) {
		ifm_err("%s: %s", name, ifm_nl_reason(nl, r));
		return r;
	}
	if (!ifm_tunnel_mark_is(ti.alias)) {
		ifm_err("%s: not an ifmirror tunnel (no '%s' alias); not removing it", name,
			IFM_MARK_TUNNEL);
		return -EPERM;
	}
	nsrc = ifm_quiet() ? 0 : sources_into(nl, ti.ifindex, &mtu);
	r = ifm_link_delete(nl, ti.ifindex);
	if (r < 0) {
		ifm_err("%s: cannot delete the tunnel: %s", name, ifm_nl_reason(nl, r));
		return r;
	}
	ifm_owned_set(ti.ifindex, "clsact", false);
	ifm_budget_gc(nl, NULL, 0, false); /* its police budget, once no session into it holds it */
	if (nsrc)
		ifm_info("%s: tunnel removed; %d source%s mirrored into it (status shows them as "
		       "gone until %s is back)", name, nsrc, nsrc == 1 ? "" : "s", name);
	else
		ifm_info("%s: tunnel removed", name);
	return 0;
}
