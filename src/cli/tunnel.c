// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror tunnel up NAME --type TYPE --remote ADDR [--local ADDR] [--dev IFACE]
 *         [--ID N] [--dstport N] [--snaplen BYTES]
 *         [--erspan-version 1|2] [--hwid N] [--erspan-dir ingress|egress]
 *         [--rate BITS[/s] [--burst BYTES]] [-q]
 * ifmirror tunnel down NAME [-q]
 *
 * The command line only; the tunnel types' table (lib/tunnel.c) says which
 * types there are and which id option each takes (--vni, --key, ...).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define MAXTYPES 8
#define MAXNUM (MAXTYPES + 4)

struct num {
	char opt[24];
	const char *id_key;      /* the id option of the types with this key; NULL: any */
	unsigned long lo, hi;
	bool given;
	unsigned long v;
};

/* the id options of the types (one per key, the widest range), then --dstport, --snaplen,
 * --erspan-version, --hwid */
static int numeric_options(struct num *nums)
{
	int n = 0;

	for (int i = 0; ifm_tunnel_types[i] && n < MAXTYPES; i++) {
		const struct ifm_tunnel_ops *t = ifm_tunnel_types[i];
		int k = 0;

		while (k < n && strcmp(nums[k].id_key, t->id_key))
			k++;
		if (k == n) {
			nums[n] = (struct num){ .id_key = t->id_key };
			snprintf(nums[n++].opt, sizeof(nums[k].opt), "--%s", t->id_key);
		}
		if (t->id_max > nums[k].hi)
			nums[k].hi = t->id_max;
	}
	nums[n++] = (struct num){ .opt = "--dstport", .lo = 1, .hi = 65535 };
	nums[n++] = (struct num){ .opt = "--snaplen", .lo = IFM_SNAPLEN_MIN, .hi = IFM_SNAPLEN_MAX };
	nums[n++] = (struct num){ .opt = "--erspan-version", .lo = 1, .hi = 2 };
	nums[n++] = (struct num){ .opt = "--hwid", .lo = 0, .hi = IFM_ERSPAN_HWID_MAX };
	return n;
}

/* "gretap": the types whose id option is --KEY */
static const char *types_with_key(const char *key, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; ifm_tunnel_types[i] && n < len; i++)
		if (!strcmp(ifm_tunnel_types[i]->id_key, key))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " or " : "",
					      ifm_tunnel_types[i]->type);
	return buf;
}

static int up_options(int argc, char *argv[], struct ifm_tunnel_spec *spec)
{
	static const struct {
		const char *opt, *what;
	} strs[] = {
		{ "--type", NULL },
		{ "--remote", "an IPv4 or IPv6 address" },
		{ "--local", "an IPv4 or IPv6 address" },
		{ "--dev", "an interface name" },
		{ "--erspan-dir", "ingress or egress" },
	};
	const char *sv[5] = { 0 }, *id_opt = NULL, *problem;
	const struct ifm_tunnel_ops *ops;
	struct num nums[MAXNUM];
	int nnum = numeric_options(nums);
	char buf[200];
	bool missing;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		bool known = false;

		for (size_t k = 0; !known && k < sizeof(strs) / sizeof(strs[0]); k++) {
			v = cli_opt_value(argc, argv, &i, strs[k].opt, &missing);
			if (!v && !missing)
				continue;
			known = true;
			if (!v || !*v) {
				ifm_err("tunnel up: %s needs %s", strs[k].opt,
					strs[k].what ? strs[k].what : ifm_tunnel_type_list());
				return -1;
			}
			if (sv[k]) {
				ifm_err("tunnel up: %s given twice", strs[k].opt);
				return -1;
			}
			sv[k] = v;
		}
		for (int k = 0; !known && k < nnum; k++) {
			v = cli_opt_value(argc, argv, &i, nums[k].opt, &missing);
			if (!v && !missing)
				continue;
			known = true;
			if (!ifm_spec_number(v, nums[k].lo, nums[k].hi, &nums[k].v)) {
				ifm_err("tunnel up: %s '%.20s': not a whole number from %lu to %lu",
					nums[k].opt, v ? v : "", nums[k].lo, nums[k].hi);
				return -1;
			}
			if (nums[k].given) {
				ifm_err("tunnel up: %s given twice", nums[k].opt);
				return -1;
			}
			nums[k].given = true;
			if (nums[k].id_key) {
				if (id_opt) {
					ifm_err("tunnel up: %s and %s: give one (%s)", id_opt, nums[k].opt,
						ifm_tunnel_id_list(buf, sizeof(buf), "--%s for %s"));
					return -1;
				}
				id_opt = nums[k].opt;
				spec->id = nums[k].v;
				spec->has_id = true;
			}
		}
		if (known)
			continue;
		if ((v = cli_opt_value(argc, argv, &i, "--rate", &missing)) || missing) {
			if (spec->rate) {
				ifm_err("tunnel up: --rate given twice");
				return -1;
			}
			if ((problem = ifm_spec_rate(v ? v : "", &spec->rate))) {
				ifm_err("tunnel up: --rate '%.30s': %s", v ? v : "", problem);
				return -1;
			}
			continue;
		}
		if ((v = cli_opt_value(argc, argv, &i, "--burst", &missing)) || missing) {
			if (spec->burst) {
				ifm_err("tunnel up: --burst given twice");
				return -1;
			}
			if ((problem = ifm_spec_burst(v ? v : "", &spec->burst))) {
				ifm_err("tunnel up: --burst '%.20s': %s", v ? v : "", problem);
				return -1;
			}
			continue;
		}
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ifm_quiet_set(true);
		} else if (a[0] == '-' || spec->name) {
			ifm_err("tunnel up: unexpected argument '%.40s' (see ifmirror --help)", a);
			return -1;
		} else {
			spec->name = a;
		}
	}
	spec->type = sv[0];
	spec->remote = sv[1];
	spec->local = sv[2];
	spec->dev = sv[3];
	if (sv[4]) {
		if (!strcmp(sv[4], "ingress")) {
			spec->erspan_dir = IFM_DIR_INGRESS;
		} else if (!strcmp(sv[4], "egress")) {
			spec->erspan_dir = IFM_DIR_EGRESS;
		} else {
			ifm_err("tunnel up: --erspan-dir '%.20s': not ingress or egress", sv[4]);
			return -1;
		}
	}
	if (!spec->name || ifm_ifname_problem(spec->name))
		return 0; /* said by the caller, first */
	if (!spec->type) {
		ifm_err("tunnel up: needs --type %s", ifm_tunnel_type_list());
		return -1;
	}
	if (!(ops = ifm_tunnel_type(spec->type))) {
		ifm_err("tunnel up: --type '%.20s': not %s", spec->type, ifm_tunnel_type_list());
		return -1;
	}
	if (!spec->remote) {
		ifm_err("tunnel up: needs --remote ADDRESS (the collector's)");
		return -1;
	}
	for (int k = 0; k < nnum; k++) {
		if (nums[k].given && nums[k].id_key && strcmp(nums[k].id_key, ops->id_key)) {
			ifm_err("tunnel up: %s is for %s, not %s", nums[k].opt,
				types_with_key(nums[k].id_key, buf, sizeof(buf)), spec->type);
			return -1;
		}
		if (nums[k].given && !strcmp(nums[k].opt, "--dstport")) {
			if (!ops->dstport_default) {
				ifm_err("tunnel up: --dstport is for %s, not %s", ifm_tunnel_udp_types(),
					spec->type);
				return -1;
			}
			spec->dstport = (unsigned int)nums[k].v;
		}
		if (nums[k].given && !strcmp(nums[k].opt, "--snaplen"))
			spec->snaplen = (unsigned int)nums[k].v;
		if (nums[k].given && !strcmp(nums[k].opt, "--erspan-version"))
			spec->version = (unsigned int)nums[k].v;
		if (nums[k].given && !strcmp(nums[k].opt, "--hwid")) {
			spec->hwid = (unsigned int)nums[k].v;
			spec->has_hwid = true;
		}
		if (nums[k].given && !ops->versions && !strncmp(nums[k].opt, "--erspan", 8)) {
			ifm_err("tunnel up: %s is for erspan, not %s", nums[k].opt, spec->type);
			return -1;
		}
		if (nums[k].given && !ops->versions && !strcmp(nums[k].opt, "--hwid")) {
			ifm_err("tunnel up: --hwid is for erspan, not %s", spec->type);
			return -1;
		}
	}
	if (sv[4] && !ops->versions) {
		ifm_err("tunnel up: --erspan-dir is for erspan, not %s", spec->type);
		return -1;
	}
	if ((spec->has_hwid || sv[4]) && ifm_tunnel_spec_version(spec) != 2) {
		ifm_err("tunnel up: %s is for erspan version 2 (--erspan-version 2)",
			spec->has_hwid ? "--hwid" : "--erspan-dir");
		return -1;
	}
	if (sv[2] && ops->no_local) {
		ifm_err("tunnel up: --local is not for %s (the route to the remote picks it)",
			spec->type);
		return -1;
	}
	if (sv[3] && ops->no_dev) {
		ifm_err("tunnel up: --dev is not for %s (the route to the remote picks it)",
			spec->type);
		return -1;
	}
	if (spec->burst && !spec->rate) {
		ifm_err("tunnel up: --burst needs --rate (the budget it is the burst of)");
		return -1;
	}
	if (ops->id_required && !spec->has_id) {
		ifm_err("tunnel up: %s needs --%s N (0 to %lu)", ops->type, ops->id_key, ops->id_max);
		return -1;
	}
	if ((problem = ifm_tunnel_spec_problem(spec, buf, sizeof(buf)))) {
		ifm_err("tunnel up: %s: %s", spec->name, problem);
		return -1;
	}
	return 0;
}

int cmd_tunnel(int argc, char *argv[])
{
	const char *sub = argc > 1 ? argv[1] : "";
	struct ifm_tunnel_spec spec = { 0 };
	bool up = !strcmp(sub, "up");
	struct ifm_nl nl;
	int lock, r;

	if (!up && strcmp(sub, "down")) {
		ifm_err("tunnel: expected 'up' or 'down', not '%.20s'", sub);
		return IFM_EXIT_USAGE;
	}
	if (up && up_options(argc, argv, &spec) < 0)
		return IFM_EXIT_USAGE;
	for (int i = 2; !up && i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			ifm_quiet_set(true);
		} else if (argv[i][0] == '-' || spec.name) {
			ifm_err("tunnel down: unexpected argument '%.40s' (see ifmirror --help)", argv[i]);
			return IFM_EXIT_USAGE;
		} else {
			spec.name = argv[i];
		}
	}
	if (cli_name("tunnel", sub, "a NAME", spec.name) < 0)
		return IFM_EXIT_USAGE;
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	r = up ? ifm_tunnel_up(&nl, &spec) : ifm_tunnel_down(&nl, spec.name);
	ifm_end(&nl, lock);
	return r == 0 ? IFM_EXIT_OK : IFM_EXIT_RUNTIME;
}
