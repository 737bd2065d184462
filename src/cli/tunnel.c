// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror tunnel up NAME --type vxlan|gretap|erspan --remote ADDR
 *         [--local ADDR] [--dev IFACE] [--vni N | --key N | --session-id N]
 *         [--dstport N] [--snaplen BYTES] [-q]
 * ifmirror tunnel down NAME [-q]
 *
 * The command line only; tunnel.c does the work (the config file calls it too).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_tunnel(int argc, char *argv[])
{
	static const struct {
		const char *opt, *what;
	} strs[] = {
		{ "--type", "vxlan, gretap or erspan" },
		{ "--remote", "an IPv4 or IPv6 address" },
		{ "--local", "an IPv4 or IPv6 address" },
		{ "--dev", "an interface name" },
	};
	static const struct {
		const char *opt, *type;
		unsigned long lo, hi;
	} nums[] = {
		{ "--vni", "vxlan", 0, 16777215UL },
		{ "--key", "gretap", 0, 4294967295UL },
		{ "--session-id", "erspan", 0, 1023 },
		{ "--dstport", "vxlan", 1, 65535 },
		{ "--snaplen", NULL, IFM_SNAPLEN_MIN, IFM_SNAPLEN_MAX },
	};
	const char *sv[4] = { 0 }, *id_opt = NULL, *sub = argc > 1 ? argv[1] : "", *problem;
	unsigned long nv[5];
	bool has_num[5] = { 0 }, up = !strcmp(sub, "up"), missing;
	struct ifm_tunnel_spec spec = { 0 };
	struct ifm_nl nl;
	char buf[200];
	int lock, r, ret = IFM_EXIT_RUNTIME;

	if (!up && strcmp(sub, "down")) {
		ifm_err("tunnel: expected 'up' or 'down', not '%.20s'", sub);
		return IFM_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		bool known = false;

		for (size_t k = 0; up && !known && k < sizeof(strs) / sizeof(strs[0]); k++) {
			v = cli_opt_value(argc, argv, &i, strs[k].opt, &missing);
			if (!v && !missing)
				continue;
			known = true;
			if (!v || !*v) {
				ifm_err("tunnel up: %s needs %s", strs[k].opt, strs[k].what);
				return IFM_EXIT_USAGE;
			}
			if (sv[k]) {
				ifm_err("tunnel up: %s given twice", strs[k].opt);
				return IFM_EXIT_USAGE;
			}
			sv[k] = v;
		}
		for (size_t k = 0; up && !known && k < sizeof(nums) / sizeof(nums[0]); k++) {
			v = cli_opt_value(argc, argv, &i, nums[k].opt, &missing);
			if (!v && !missing)
				continue;
			known = true;
			if (!ifm_spec_number(v, nums[k].lo, nums[k].hi, &nv[k])) {
				ifm_err("tunnel up: %s '%.20s': not a whole number from %lu to %lu",
					nums[k].opt, v ? v : "", nums[k].lo, nums[k].hi);
				return IFM_EXIT_USAGE;
			}
			if (has_num[k]) {
				ifm_err("tunnel up: %s given twice", nums[k].opt);
				return IFM_EXIT_USAGE;
			}
			has_num[k] = true;
			if (k < 3) {
				if (id_opt) {
					ifm_err("tunnel up: %s and %s: give one (--vni for vxlan, --key "
						"for gretap, --session-id for erspan)", id_opt, nums[k].opt);
					return IFM_EXIT_USAGE;
				}
				id_opt = nums[k].opt;
				spec.id = nv[k];
				spec.has_id = true;
			}
		}
		if (known)
			continue;
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ifm_quiet_set(true);
		} else if (a[0] == '-' || spec.name) {
			ifm_err("tunnel %s: unexpected argument '%.40s' (see ifmirror --help)", sub, a);
			return IFM_EXIT_USAGE;
		} else {
			spec.name = a;
		}
	}
	if (!spec.name) {
		ifm_err("tunnel %s: needs a NAME", sub);
		return IFM_EXIT_USAGE;
	}
	if ((problem = ifm_ifname_problem(spec.name))) {
		ifm_err("tunnel %s: '%.40s': %s", sub, spec.name, problem);
		return IFM_EXIT_USAGE;
	}
	if (up) {
		spec.type = sv[0];
		spec.remote = sv[1];
		spec.local = sv[2];
		spec.dev = sv[3];
		if (!spec.type) {
			ifm_err("tunnel up: needs --type vxlan, gretap or erspan");
			return IFM_EXIT_USAGE;
		}
		if (strcmp(spec.type, "vxlan") && strcmp(spec.type, "gretap") &&
		    strcmp(spec.type, "erspan")) {
			ifm_err("tunnel up: --type '%.20s': not vxlan, gretap or erspan", spec.type);
			return IFM_EXIT_USAGE;
		}
		if (!spec.remote) {
			ifm_err("tunnel up: needs --remote ADDRESS (the collector's)");
			return IFM_EXIT_USAGE;
		}
		for (size_t k = 0; k < 4; k++) {
			if (has_num[k] && strcmp(nums[k].type, spec.type)) {
				ifm_err("tunnel up: %s is for %s, not %s", nums[k].opt, nums[k].type,
					spec.type);
				return IFM_EXIT_USAGE;
			}
		}
		if (!strcmp(spec.type, "vxlan") && !spec.has_id) {
			ifm_err("tunnel up: vxlan needs --vni N (0 to 16777215)");
			return IFM_EXIT_USAGE;
		}
		if (!strcmp(spec.type, "erspan") && !spec.has_id) {
			ifm_err("tunnel up: erspan needs --session-id N (0 to 1023)");
			return IFM_EXIT_USAGE;
		}
		spec.dstport = has_num[3] ? (unsigned int)nv[3] : 0;
		spec.snaplen = has_num[4] ? (unsigned int)nv[4] : 0;
		if ((problem = ifm_tunnel_spec_problem(&spec, buf, sizeof(buf)))) {
			ifm_err("tunnel up: %s: %s", spec.name, problem);
			return IFM_EXIT_USAGE;
		}
	}

	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	r = up ? ifm_tunnel_up(&nl, &spec) : ifm_tunnel_down(&nl, spec.name);
	if (r == 0)
		ret = IFM_EXIT_OK;
	ifm_end(&nl, lock);
	return ret;
}
