// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The collector bridge's up and down (link.c makes its links, marks.c its alias).
 *
 * The bridge records what it is in its alias, in the kernel:
 *   "ifmirror-collector sink=br-mirror-sink ports=eth1,eth2"
 * so `refresh` can re-attach a port that comes back, and `down` knows what
 * it may delete, without any state of ifmirror's own.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sink: dummy where the kernel has it, else ifb (also always up). */
static int create_sink(struct ifm_nl *nl, const char *name, const char *bridge,
		       const char **kind)
{
	char alias[64];
	int r;

	ifm_sink_mark(bridge, alias, sizeof(alias));
	*kind = "dummy";
	r = ifm_link_create(nl, name, "dummy", alias);
	if (r == -EOPNOTSUPP || r == -ENOENT) {
		*kind = "ifb";
		r = ifm_link_create(nl, name, "ifb", alias);
		if (r == 0)
			ifm_info("%s: notice: the kernel has no dummy device; the sink %s is an ifb "
			       "device instead", bridge, name);
	}
	return r;
}

int ifm_collector_up(struct ifm_nl *nl, const struct ifm_collector_spec *spec)
{
	struct ifm_link br = { 0 }, sink = { 0 }, *links = NULL;
	struct ifm_collector_mark old;
	char sname[IFM_IFNAMSIZ], alias[IFM_ALIAS_MAX];
	const char *sink_kind = NULL;
	bool created_br = false, created_sink = false;
	size_t nlinks = 0;
	int r;

	if (spec->sink)
		snprintf(sname, sizeof(sname), "%s", spec->sink);
	else
		ifm_sink_default_name(spec->bridge, sname);
	if (ifm_collector_mark_format(sname, spec->ports, spec->nports, alias, sizeof(alias)) < 0) {
		ifm_err("%s: the names of its ports are too long together to be recorded in the "
			"bridge's alias (%d bytes at most)", spec->bridge, IFM_ALIAS_MAX - 1);
		return -ENAMETOOLONG;
	}

	/* a bridge or sink ifmirror was making when it was killed, before its alias */
	if (ifm_link_get(nl, spec->bridge, &br) == 0 && ifm_half_made(br.name, br.kind, br.alias) &&
	    ifm_link_delete(nl, br.ifindex) == 0)
		ifm_making_set(br.name, br.kind, false);
	if (ifm_link_get(nl, sname, &sink) == 0 && ifm_half_made(sink.name, sink.kind, sink.alias) &&
	    ifm_link_delete(nl, sink.ifindex) == 0)
		ifm_making_set(sink.name, sink.kind, false);
	r = ifm_link_get(nl, spec->bridge, &br);
	if (r == 0 && (!br.is_bridge || !ifm_collector_mark_parse(br.alias, &old))) {
		ifm_err("%s: exists and is not an ifmirror collector (no '%s' alias); "
			"not touching it", spec->bridge, IFM_MARK_COLLECTOR);
		return -EEXIST;
	}
	r = ifm_link_get(nl, sname, &sink);
	if (r == 0 && !ifm_is_sink(&sink)) {
		ifm_err("%s: exists and is not an ifmirror sink; choose another --sink", sname);
		return -EEXIST;
	}
	/* check the ports before creating anything */
	for (int i = 0; i < spec->nports; i++) {
		struct ifm_link p, m;

		if (ifm_link_get(nl, spec->ports[i], &p) < 0)
			continue;
		if (p.master && p.master != br.ifindex && ifm_link_by_index(nl, p.master, &m) == 0) {
			ifm_err("%s: already a port of %s; not taking it for collector %s",
				p.name, m.name, spec->bridge);
			return -EBUSY;
		}
		if (p.is_bridge) {
			ifm_err("%s: is a bridge; a collector port must be a plain interface", p.name);
			return -EINVAL;
		}
	}

	if (ifm_link_get(nl, spec->bridge, &br) == -ENODEV) {
		char first[IFM_ALIAS_MAX];

		ifm_collector_mark_format(sname, NULL, 0, first, sizeof(first));
		r = ifm_link_create(nl, spec->bridge, "bridge", first);
		if (r < 0) {
			ifm_err("%s: cannot create the collector bridge: %s", spec->bridge,
				ifm_nl_reason(nl, r));
			return r;
		}
		created_br = true;
		if ((r = ifm_link_get(nl, spec->bridge, &br)) < 0)
			goto fail;
	}
	if (ifm_link_get(nl, sname, &sink) == -ENODEV) {
		r = create_sink(nl, sname, spec->bridge, &sink_kind);
		if (r < 0) {
			ifm_err("%s: cannot create the sink %s: %s", spec->bridge, sname,
				ifm_nl_reason(nl, r));
			goto fail;
		}
		created_sink = true;
		if ((r = ifm_link_get(nl, sname, &sink)) < 0)
			goto fail;
	}
	if ((r = ifm_link_quiet_up(nl, &br)) < 0 || (r = ifm_port_attach(nl, &sink, br.ifindex)) < 0) {
		ifm_err("%s: cannot set up the collector bridge: %s", spec->bridge,
			ifm_nl_reason(nl, r));
		goto fail;
	}
	if (created_br)
		ifm_info("%s: collector bridge created (sink %s, %s)", spec->bridge, sname,
		       sink_kind ? sink_kind : sink.kind);

	for (int i = 0; i < spec->nports; i++) {
		struct ifm_link p;

		if (ifm_link_get(nl, spec->ports[i], &p) < 0) {
			ifm_info("%s: port %s is not present; it is attached when it appears "
			       "(ifmirror refresh %s)", spec->bridge, spec->ports[i],
			       spec->ports[i]);
			continue;
		}
		if (ifm_reaches(nl, p.ifindex, br.ifindex)) {
			ifm_err("%s: refusing to make %s a port: %s mirrors into %s, which would loop",
				spec->bridge, p.name, p.name, spec->bridge);
			r = -ELOOP;
			goto fail;
		}
		r = ifm_port_attach(nl, &p, br.ifindex);
		if (r < 0) {
			ifm_err("%s: cannot attach port %s: %s", spec->bridge, p.name,
				ifm_nl_reason(nl, r));
			goto fail;
		}
		if (p.master != br.ifindex)
			ifm_info("%s: port %s attached", spec->bridge, p.name);
	}

	/* ports no longer named are released, not deleted */
	if (ifm_link_list(nl, &links, &nlinks) == 0) {
		for (size_t i = 0; i < nlinks; i++) {
			if (links[i].master != br.ifindex || links[i].ifindex == sink.ifindex ||
			    ifm_name_listed(spec->ports, spec->nports, links[i].name))
				continue;
			if (ifm_port_release(nl, &links[i]) == 0)
				ifm_info("%s: port %s released", spec->bridge, links[i].name);
		}
		free(links);
	}

	if (strcmp(alias, br.alias) && (r = ifm_link_set_alias(nl, br.ifindex, alias)) < 0) {
		ifm_err("%s: cannot record the ports in the bridge's alias: %s", spec->bridge,
			ifm_nl_reason(nl, r));
		goto fail;
	}
	r = ifm_snaplen_set(nl, &br, spec->snaplen);
	if (r == 0)
		r = ifm_budget_set(nl, &br, spec->rate, spec->burst);
	if (r < 0)
		goto fail;
	/* sessions waiting for this bridge, or left dangling when it went away */
	return ifm_refresh(nl, spec->bridge);
fail:
	if (created_sink && ifm_link_get(nl, sname, &sink) == 0)
		ifm_link_delete(nl, sink.ifindex);
	if (created_br && ifm_link_get(nl, spec->bridge, &br) == 0) {
		if (ifm_link_list(nl, &links, &nlinks) == 0) {
			for (size_t i = 0; i < nlinks; i++)
				if (links[i].master == br.ifindex)
					ifm_port_release(nl, &links[i]);
			free(links);
		}
		ifm_link_delete(nl, br.ifindex);
	}
	return r < 0 ? r : -EIO;
}

int ifm_collector_down(struct ifm_nl *nl, const char *bridge)
{
	struct ifm_link br, sink, *links = NULL;
	struct ifm_collector_mark a;
	size_t nlinks = 0;
	int r;

	r = ifm_link_get(nl, bridge, &br);
	if (r == -ENODEV) {
		ifm_info("%s: no such device, nothing to remove", bridge);
		return 0;
	}
	if (r < 0)
		return r;
	if (!br.is_bridge || !ifm_collector_mark_parse(br.alias, &a)) {
		ifm_err("%s: not an ifmirror collector (no '%s' alias); not removing it", bridge,
			IFM_MARK_COLLECTOR);
		return -EPERM;
	}
	if ((r = ifm_link_list(nl, &links, &nlinks)) < 0)
		return r;
	for (size_t i = 0; i < nlinks; i++) {
		if (links[i].master != br.ifindex || !strcmp(links[i].name, a.sink))
			continue;
		r = ifm_port_release(nl, &links[i]);
		if (r < 0)
			ifm_err("%s: cannot release port %s: %s", bridge, links[i].name,
				ifm_nl_reason(nl, r));
		else
			ifm_info("%s: port %s released", bridge, links[i].name);
	}
	free(links);
	if (a.sink[0] && ifm_link_get(nl, a.sink, &sink) == 0 &&
	    ifm_is_sink(&sink))
		ifm_link_delete(nl, sink.ifindex);
	r = ifm_link_delete(nl, br.ifindex);
	if (r < 0) {
		ifm_err("%s: cannot delete the bridge: %s", bridge, ifm_nl_reason(nl, r));
		return r;
	}
	ifm_info("%s: collector bridge removed", bridge);
	/* its police budget, unless sessions into it still hold it (then the
	 * last of them to go takes it) */
	ifm_budget_gc(nl, NULL, 0, false);
	return 0;
}
