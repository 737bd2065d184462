// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror ifupdown-hook PHASE
 *
 * The executor behind the hook shims in /etc/network/if-*.d. PHASE is the
 * directory the shim lives in (pre-up, up, down, post-down): ifupdown2 and
 * ifupdown-ng set MODE and PHASE differently, so only IFACE, VERBOSITY,
 * ADDRFAM and the stanza's options (IF_MIRROR_*) are read from ifupdown.
 *
 *   iface br-mirror inet manual          iface eth0 inet static
 *       mirror-collector eth1                mirror-to br-mirror
 *       mirror-sink br-mirror-sink           mirror-direction both
 *       mirror-snaplen 128                   mirror-match tcp port 443
 *                                            mirror-sample 10
 *
 * pre-up    collector stanza: create or complete the bridge
 * up        source stanza: apply its sessions (deferred while DEST is missing);
 *           any stanza: `refresh` (re-attach a returning collector port,
 *           complete sessions that waited for this interface)
 * down      source stanza: remove its sessions
 * post-down collector stanza: remove the bridge
 *
 * A bad option value fails ifup, naming interface, option and reason. Other
 * failures are reported but never fail ifup of the source (a mirror must not
 * take the primary link down) nor ifdown.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum phase { PRE_UP, UP, DOWN, POST_DOWN };

struct hook_opts {
	const char *iface;
	char to_buf[256];
	const char *to[16];
	int nto;
	enum ifm_dir dir;
	const char *match;
	unsigned int sample;
	struct ifm_collector_spec collector;
	char collector_buf[256];
	bool is_collector;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Splits a list option ("eth1 eth2" or "eth1,eth2") and checks each name. */
static int split_names(const char *iface, const char *option, const char *value, char *buf,
		       size_t buflen, const char **out, int max, int *n)
{
	char *save = NULL;

	snprintf(buf, buflen, "%s", value);
	*n = 0;
	for (char *w = strtok_r(buf, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
		const char *problem = ifm_ifname_problem(w);

		if (problem) {
			ifm_err("%s: %s '%.40s': %s", iface, option, w, problem);
			return -EINVAL;
		}
		if (!strcmp(w, iface)) {
			ifm_err("%s: %s '%s': that is the interface itself", iface, option, w);
			return -EINVAL;
		}
		if (*n == max) {
			ifm_err("%s: %s: more than %d interfaces", iface, option, max);
			return -EINVAL;
		}
		out[(*n)++] = w;
	}
	if (*n == 0) {
		ifm_err("%s: %s: no interface named", iface, option);
		return -EINVAL;
	}
	return 0;
}

static int read_options(struct hook_opts *o)
{
	const char *to = env("IF_MIRROR_TO"), *dir = env("IF_MIRROR_DIRECTION");
	const char *ports = env("IF_MIRROR_COLLECTOR"), *sink = env("IF_MIRROR_SINK");
	const char *sample = env("IF_MIRROR_SAMPLE"), *snaplen = env("IF_MIRROR_SNAPLEN");
	const char *problem;
	char *end;
	int r;

	o->dir = IFM_DIR_BOTH;
	o->sample = 1;
	o->match = env("IF_MIRROR_MATCH");
	if ((o->match || sample) && !to) {
		ifm_err("%s: mirror-%s without mirror-to", o->iface, o->match ? "match" : "sample");
		return -EINVAL;
	}
	if (o->match) {
		char what[64];

		/* checked before anything is brought up, so a typo fails ifup early */
		snprintf(what, sizeof(what), "%s: mirror-match", o->iface);
		if (ifm_match_check(o->match, 1, what) < 0)
			return -EINVAL;
	}
	if (sample) {
		unsigned long n = strtoul(sample, &end, 10);

		if (*sample < '1' || *sample > '9' || *end || n > 0x7fffffff) {
			ifm_err("%s: mirror-sample '%.20s': not a whole number from 1 to 2147483647",
				o->iface, sample);
			return -EINVAL;
		}
		o->sample = (unsigned int)n;
	}
	if (snaplen) {
		unsigned long n = strtoul(snaplen, &end, 10);

		if (!ports) {
			ifm_err("%s: mirror-snaplen '%.20s' without mirror-collector", o->iface, snaplen);
			return -EINVAL;
		}
		if (*snaplen < '0' || *snaplen > '9' || *end || n < IFM_SNAPLEN_MIN ||
		    n > IFM_SNAPLEN_MAX) {
			ifm_err("%s: mirror-snaplen '%.20s': not a number of bytes from %d (the "
				"Ethernet header) to %d", o->iface, snaplen, IFM_SNAPLEN_MIN,
				IFM_SNAPLEN_MAX);
			return -EINVAL;
		}
		o->collector.snaplen = (unsigned int)n;
	}
	if (dir) {
		if (!to) {
			ifm_err("%s: mirror-direction '%.20s' without mirror-to", o->iface, dir);
			return -EINVAL;
		}
		o->dir = ifm_dir_parse(dir);
		if (!o->dir) {
			ifm_err("%s: mirror-direction '%.20s': not ingress, egress or both",
				o->iface, dir);
			return -EINVAL;
		}
	}
	if (to) {
		r = split_names(o->iface, "mirror-to", to, o->to_buf, sizeof(o->to_buf), o->to, 16,
				&o->nto);
		if (r < 0)
			return r;
	}
	if (sink && !ports) {
		ifm_err("%s: mirror-sink '%.20s' without mirror-collector", o->iface, sink);
		return -EINVAL;
	}
	if (ports) {
		o->is_collector = true;
		o->collector.bridge = o->iface;
		r = split_names(o->iface, "mirror-collector", ports, o->collector_buf,
				sizeof(o->collector_buf), o->collector.ports, 16, &o->collector.nports);
		if (r < 0)
			return r;
		if (sink && (problem = ifm_ifname_problem(sink))) {
			ifm_err("%s: mirror-sink '%.40s': %s", o->iface, sink, problem);
			return -EINVAL;
		}
		o->collector.sink = sink;
	}
	return 0;
}

static int run_phase(struct ifm_nl *nl, enum phase ph, struct hook_opts *o)
{
	struct ifm_link l;
	int ret = IFM_EXIT_OK;

	switch (ph) {
	case PRE_UP:
		if (o->is_collector && ifm_collector_up(nl, &o->collector) < 0)
			ret = IFM_EXIT_RUNTIME; /* the bridge cannot come up without it */
		break;
	case UP:
		for (int i = 0; i < o->nto; i++) {
			struct ifm_session_spec sp = { .source = o->iface, .dest = o->to[i],
						       .dir = o->dir, .match = o->match,
						       .sample = o->sample };

			if (ifm_link_get(nl, o->to[i], &l) == -ENODEV) {
				if (ifm_pending_add_spec(&sp) == 0)
					ifm_info("%s: %s mirror to %s deferred until %s exists",
					       o->iface, ifm_dir_name(o->dir), o->to[i], o->to[i]);
				continue;
			}
			/* a bad mirror-match is a bad option value: it fails ifup */
			if (ifm_mirror_up_spec(nl, &sp) == -IFM_EBADEXPR)
				ret = IFM_EXIT_USAGE;
		}
		ifm_refresh(nl, o->iface);
		break;
	case DOWN:
		for (int i = 0; i < o->nto; i++)
			ifm_mirror_down(nl, o->iface, o->to[i]);
		break;
	case POST_DOWN:
		if (o->is_collector)
			ifm_collector_down(nl, o->iface);
		break;
	}
	return ret;
}

int cmd_ifupdown_hook(int argc, char *argv[])
{
	static const char *const names[] = { "pre-up", "up", "down", "post-down" };
	struct hook_opts o = { 0 };
	const char *verbosity = env("VERBOSITY"), *addrfam = env("ADDRFAM");
	struct ifm_nl nl;
	int ph = -1, lock, ret;

	for (int i = 0; argc == 2 && i < 4; i++)
		if (!strcmp(argv[1], names[i]))
			ph = i;
	if (ph < 0) {
		ifm_err("ifupdown-hook: expected one of pre-up, up, down, post-down");
		return IFM_EXIT_USAGE;
	}
	o.iface = env("IFACE");
	/* lo, and the --all pass (ADDRFAM=meta), are none of ours */
	if (!o.iface || !strcmp(o.iface, "lo") || (addrfam && !strcmp(addrfam, "meta")))
		return IFM_EXIT_OK;
	ifm_quiet_set(!(verbosity && !strcmp(verbosity, "1")));
	if (read_options(&o) < 0)
		return ph <= UP ? IFM_EXIT_USAGE : IFM_EXIT_OK; /* ifdown never fails */
	/* stanzas without mirror options only finish what waits for them */
	if (!o.nto && !o.is_collector && ph != UP)
		return IFM_EXIT_OK;

	lock = ifm_begin(&nl);
	if (lock < 0)
		return ph == PRE_UP && o.is_collector ? IFM_EXIT_RUNTIME : IFM_EXIT_OK;
	ret = run_phase(&nl, (enum phase)ph, &o);
	ifm_end(&nl, lock);
	return ret;
}
