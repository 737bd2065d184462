// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror collector up BRIDGE --port IFACE [--port IFACE]... [--sink NAME]
 *                           [--snaplen BYTES] [--rate BITS[/s] [--burst BYTES]]
 * ifmirror collector down BRIDGE
 *
 * The command line only; collector.c in the library does the work.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_collector(int argc, char *argv[])
{
	struct ifm_collector_spec spec = { 0 };
	struct ifm_nl nl;
	const char *problem, *sub = argc > 1 ? argv[1] : "";
	bool up = !strcmp(sub, "up");
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
			} else if (spec.nports == IFM_MAX_PORTS) {
				ifm_err("collector %s: at most %d ports", sub, IFM_MAX_PORTS);
				return IFM_EXIT_USAGE;
			} else {
				spec.ports[spec.nports++] = argv[++i];
			}
		} else if (up && !strcmp(a, "--snaplen")) {
			const char *v = i + 1 < argc ? argv[++i] : "";

			if ((problem = ifm_spec_snaplen(v, &spec.snaplen))) {
				ifm_err("collector %s: --snaplen '%.20s': %s", sub, v, problem);
				return IFM_EXIT_USAGE;
			}
		} else if (up && !strcmp(a, "--rate")) {
			const char *v = i + 1 < argc ? argv[++i] : "";

			if ((problem = ifm_spec_rate(v, &spec.rate))) {
				ifm_err("collector %s: --rate '%.30s': %s", sub, v, problem);
				return IFM_EXIT_USAGE;
			}
		} else if (up && !strcmp(a, "--burst")) {
			const char *v = i + 1 < argc ? argv[++i] : "";

			if ((problem = ifm_spec_burst(v, &spec.burst))) {
				ifm_err("collector %s: --burst '%.20s': %s", sub, v, problem);
				return IFM_EXIT_USAGE;
			}
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ifm_quiet_set(true);
		} else if (a[0] == '-' || spec.bridge) {
			ifm_err("collector %s: unexpected argument '%.40s' (see ifmirror --help)", sub, a);
			return IFM_EXIT_USAGE;
		} else {
			spec.bridge = a;
		}
	}
	if (cli_name("collector", sub, "a BRIDGE name", spec.bridge) < 0)
		return IFM_EXIT_USAGE;
	if (spec.burst && !spec.rate) {
		ifm_err("collector %s: --burst needs --rate (the budget it is the burst of)", sub);
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
	r = up ? ifm_collector_up(&nl, &spec) : ifm_collector_down(&nl, spec.bridge);
	if (r == 0)
		ret = IFM_EXIT_OK;
	ifm_end(&nl, lock);
	return ret;
}
