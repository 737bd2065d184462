// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror collector up BRIDGE --port IFACE [--port IFACE]... [--sink NAME]
 * ifmirror collector down BRIDGE
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

struct collector_alias {
	char sink[IFM_IFNAMSIZ];
	char ports[16][IFM_IFNAMSIZ];
	int nports;
};

static bool parse_alias(const char *alias, struct collector_alias *a)
{
	size_t n = strlen(IFM_ALIAS_COLLECTOR);
	char buf[128], *save = NULL;

	memset(a, 0, sizeof(*a));
	if (strncmp(alias, IFM_ALIAS_COLLECTOR, n) || (alias[n] != ' ' && alias[n] != '\0'))
		return false;
	snprintf(buf, sizeof(buf), "%s", alias + n);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (!strncmp(w, "sink=", 5)) {
			snprintf(a->sink, sizeof(a->sink), "%s", w + 5);
		} else if (!strncmp(w, "ports=", 6)) {
			char *s2 = NULL;

			for (char *p = strtok_r(w + 6, ",", &s2); p && a->nports < 16;
			     p = strtok_r(NULL, ",", &s2))
				snprintf(a->ports[a->nports++], IFM_IFNAMSIZ, "%s", p);
		}
	}
	return true;
}

bool ifm_collector_has_port(const struct ifm_link *br, const char *port)
{
	struct collector_alias a;

	if (!br->is_bridge || !parse_alias(br->alias, &a))
		return false;
	for (int i = 0; i < a.nports; i++)
		if (!strcmp(a.ports[i], port))
			return true;
	return false;
}

static void sink_name(const char *bridge, char *out)
{
	snprintf(out, IFM_IFNAMSIZ, "%.10s-sink", bridge);
}

/* The sink: dummy where the kernel has it, else ifb (also always up). */
static int create_sink(struct ifm_nl *nl, const char *name, const char *bridge, bool quiet,
		       const char **kind)
{
	char alias[64];
	int r;

	snprintf(alias, sizeof(alias), "%s of %s", IFM_ALIAS_SINK, bridge);
	*kind = "dummy";
	r = ifm_link_create(nl, name, "dummy", alias);
	if (r == -EOPNOTSUPP || r == -ENOENT) {
		*kind = "ifb";
		r = ifm_link_create(nl, name, "ifb", alias);
		if (r == 0 && !quiet)
			printf("%s: notice: the kernel has no dummy device; the sink %s is an ifb "
			       "device instead\n", bridge, name);
	}
	return r;
}

static bool listed(const struct ifm_collector_spec *spec, const char *name)
{
	for (int i = 0; i < spec->nports; i++)
		if (!strcmp(spec->ports[i], name))
			return true;
	return false;
}

int ifm_collector_up(struct ifm_nl *nl, const struct ifm_collector_spec *spec, bool quiet)
{
	struct ifm_link br = { 0 }, sink = { 0 }, *links = NULL;
	struct collector_alias old;
	char sname[IFM_IFNAMSIZ], alias[128];
	const char *sink_kind = NULL;
	bool created_br = false, created_sink = false;
	size_t nlinks = 0, len;
	int r;

	if (spec->sink)
		snprintf(sname, sizeof(sname), "%s", spec->sink);
	else
		sink_name(spec->bridge, sname);

	r = ifm_link_get(nl, spec->bridge, &br);
	if (r == 0 && (!br.is_bridge || !parse_alias(br.alias, &old))) {
		ifm_err("%s: exists and is not an ifmirror collector (no '%s' alias); "
			"not touching it", spec->bridge, IFM_ALIAS_COLLECTOR);
		return -EEXIST;
	}
	r = ifm_link_get(nl, sname, &sink);
	if (r == 0 && strncmp(sink.alias, IFM_ALIAS_SINK, strlen(IFM_ALIAS_SINK))) {
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
		snprintf(alias, sizeof(alias), "%s sink=%s", IFM_ALIAS_COLLECTOR, sname);
		r = ifm_link_create(nl, spec->bridge, "bridge", alias);
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
		r = create_sink(nl, sname, spec->bridge, quiet, &sink_kind);
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
	if (!quiet && created_br)
		printf("%s: collector bridge created (sink %s, %s)\n", spec->bridge, sname,
		       sink_kind ? sink_kind : sink.kind);

	for (int i = 0; i < spec->nports; i++) {
		struct ifm_link p;

		if (ifm_link_get(nl, spec->ports[i], &p) < 0) {
			if (!quiet)
				printf("%s: port %s is not present; it is attached when it appears "
				       "(ifmirror refresh %s)\n", spec->bridge, spec->ports[i],
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
		if (!quiet && p.master != br.ifindex)
			printf("%s: port %s attached\n", spec->bridge, p.name);
	}

	/* ports no longer named are released, not deleted */
	if (ifm_link_list(nl, &links, &nlinks) == 0) {
		for (size_t i = 0; i < nlinks; i++) {
			if (links[i].master != br.ifindex || links[i].ifindex == sink.ifindex ||
			    listed(spec, links[i].name))
				continue;
			if (ifm_port_release(nl, &links[i]) == 0 && !quiet)
				printf("%s: port %s released\n", spec->bridge, links[i].name);
		}
		free(links);
	}

	len = (size_t)snprintf(alias, sizeof(alias), "%s sink=%s ports=", IFM_ALIAS_COLLECTOR, sname);
	for (int i = 0; i < spec->nports && len < sizeof(alias); i++)
		len += (size_t)snprintf(alias + len, sizeof(alias) - len, "%s%s", i ? "," : "",
					spec->ports[i]);
	if (strcmp(alias, br.alias) && (r = ifm_link_set_alias(nl, br.ifindex, alias)) < 0) {
		ifm_err("%s: cannot record the ports in the bridge's alias: %s", spec->bridge,
			ifm_nl_reason(nl, r));
		goto fail;
	}
	r = ifm_snaplen_set(nl, &br, spec->snaplen, quiet);
	if (r < 0)
		goto fail;
	/* sessions waiting for this bridge, or left dangling when it went away */
	return ifm_refresh(nl, spec->bridge, quiet);
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

int ifm_collector_down(struct ifm_nl *nl, const char *bridge, bool quiet)
{
	struct ifm_link br, sink, *links = NULL;
	struct collector_alias a;
	size_t nlinks = 0;
	int r;

	r = ifm_link_get(nl, bridge, &br);
	if (r == -ENODEV) {
		if (!quiet)
			printf("%s: no such device, nothing to remove\n", bridge);
		return 0;
	}
	if (r < 0)
		return r;
	if (!br.is_bridge || !parse_alias(br.alias, &a)) {
		ifm_err("%s: not an ifmirror collector (no '%s' alias); not removing it", bridge,
			IFM_ALIAS_COLLECTOR);
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
		else if (!quiet)
			printf("%s: port %s released\n", bridge, links[i].name);
	}
	free(links);
	if (a.sink[0] && ifm_link_get(nl, a.sink, &sink) == 0 &&
	    !strncmp(sink.alias, IFM_ALIAS_SINK, strlen(IFM_ALIAS_SINK)))
		ifm_link_delete(nl, sink.ifindex);
	r = ifm_link_delete(nl, br.ifindex);
	if (r < 0) {
		ifm_err("%s: cannot delete the bridge: %s", bridge, ifm_nl_reason(nl, r));
		return r;
	}
	if (!quiet)
		printf("%s: collector bridge removed\n", bridge);
	return 0;
}

void ifm_collector_status_text(struct ifm_nl *nl, const struct ifm_link *links, size_t n,
			       const char *only)
{
	(void)nl;
	for (size_t i = 0; i < n; i++) {
		struct collector_alias a;

		if (!links[i].is_bridge || !parse_alias(links[i].alias, &a) ||
		    (only && strcmp(only, links[i].name)))
			continue;
		printf("collector %s (%s)", links[i].name, ifm_link_state(&links[i]));
		for (size_t j = 0; j < n; j++)
			if (!strcmp(links[j].name, a.sink))
				printf(" sink %s %s (%s)", a.sink, links[j].kind,
				       ifm_link_state(&links[j]));
		for (int p = 0; p < a.nports; p++) {
			const struct ifm_link *port = NULL;

			for (size_t j = 0; j < n && !port; j++)
				if (!strcmp(links[j].name, a.ports[p]))
					port = &links[j];
			if (!port)
				printf(" port %s (missing)", a.ports[p]);
			else if (port->master != links[i].ifindex)
				printf(" port %s (%s, detached)", a.ports[p], ifm_link_state(port));
			else
				printf(" port %s (%s)", a.ports[p], ifm_link_state(port));
		}
		putchar('\n');
	}
}

int cmd_collector(int argc, char *argv[])
{
	struct ifm_collector_spec spec = { 0 };
	struct ifm_nl nl;
	const char *problem, *sub = argc > 1 ? argv[1] : "";
	bool quiet = false, up = !strcmp(sub, "up");
	int lock, r, ret = IFM_EXIT_RUNTIME;

	if (!up && strcmp(sub, "down")) {
		ifm_err("collector: expected 'up' or 'down', not '%.20s'", sub);
		return IFM_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (up && (!strcmp(a, "--port") || !strcmp(a, "--sink"))) {
			if (i + 1 >= argc) {
				ifm_err("collector %s: %s needs an interface name", sub, a);
				return IFM_EXIT_USAGE;
			}
			if ((problem = ifm_ifname_problem(argv[i + 1]))) {
				ifm_err("collector %s: %s '%.40s': %s", sub, a, argv[i + 1], problem);
				return IFM_EXIT_USAGE;
			}
			if (!strcmp(a, "--sink")) {
				spec.sink = argv[++i];
			} else if (spec.nports == 16) {
				ifm_err("collector %s: at most 16 ports", sub);
				return IFM_EXIT_USAGE;
			} else {
				spec.ports[spec.nports++] = argv[++i];
			}
		} else if (up && !strcmp(a, "--snaplen")) {
			char *end;
			unsigned long n = i + 1 < argc ? strtoul(argv[i + 1], &end, 10) : 0;

			if (i + 1 >= argc || !*argv[i + 1] || *end || n < IFM_SNAPLEN_MIN ||
			    n > IFM_SNAPLEN_MAX) {
				ifm_err("collector %s: --snaplen '%.20s': not a number of bytes from %d "
					"(the Ethernet header) to %d", sub, i + 1 < argc ? argv[i + 1] : "",
					IFM_SNAPLEN_MIN, IFM_SNAPLEN_MAX);
				return IFM_EXIT_USAGE;
			}
			spec.snaplen = (unsigned int)n;
			i++;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = true;
		} else if (a[0] == '-' || spec.bridge) {
			ifm_err("collector %s: unexpected argument '%.40s' (see ifmirror --help)", sub, a);
			return IFM_EXIT_USAGE;
		} else {
			spec.bridge = a;
		}
	}
	if (!spec.bridge) {
		ifm_err("collector %s: needs a BRIDGE name", sub);
		return IFM_EXIT_USAGE;
	}
	if ((problem = ifm_ifname_problem(spec.bridge))) {
		ifm_err("collector %s: '%.40s': %s", sub, spec.bridge, problem);
		return IFM_EXIT_USAGE;
	}
	for (int i = 0; i < spec.nports; i++) {
		if (!strcmp(spec.ports[i], spec.bridge) || (spec.sink && !strcmp(spec.ports[i], spec.sink))) {
			ifm_err("collector %s: %s: a port cannot be the bridge or its sink", sub,
				spec.ports[i]);
			return IFM_EXIT_USAGE;
		}
	}
	if (spec.sink && !strcmp(spec.sink, spec.bridge)) {
		ifm_err("collector %s: %s: the sink cannot be the bridge itself", sub, spec.sink);
		return IFM_EXIT_USAGE;
	}
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	r = up ? ifm_collector_up(&nl, &spec, quiet) : ifm_collector_down(&nl, spec.bridge, quiet);
	if (r == 0)
		ret = IFM_EXIT_OK;
	ifm_end(&nl, lock);
	return ret;
}
