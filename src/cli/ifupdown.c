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
 * take the primary link down) nor ifdown. At ifdown a bad or unknown option
 * is a warning, and what is ifmirror's still goes: the sessions to the
 * mirror-to names when that option itself is good, else every ifmirror
 * session on the interface; at post-down the interface's collector bridge.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

enum phase { PRE_UP, UP, DOWN, POST_DOWN };

static const char *const known[] = { "TO", "DIRECTION", "MATCH", "SAMPLE", "COLLECTOR",
				     "SINK", "SNAPLEN" };


static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* "IFACE: OPTION 'VALUE': why", -EINVAL */
static int refuse(const struct ifm_ifupdown_opts *o, const char *option, const char *v,
		  const char *why)
{
	ifm_err("%s: %s '%.20s': %s", o->iface, option, v, why);
	return -EINVAL;
}

/* A list option ("eth1 eth2" or "eth1,eth2"), each name checked. */
static int names(const struct ifm_ifupdown_opts *o, const char *option, const char *value,
		 struct ifm_names *out)
{
	char why[160];

	if (ifm_spec_names(value, IFM_MAX_PORTS, false, o->iface, "the interface itself", out) < 0) {
		ifm_err("%s: %s", o->iface, ifm_names_problem(out, option, why, sizeof(why)));
		return -EINVAL;
	}
	return 0;
}

int ifm_ifupdown_read(struct ifm_ifupdown_opts *o)
{
	const char *to = env("IF_MIRROR_TO"), *dir = env("IF_MIRROR_DIRECTION");
	const char *ports = env("IF_MIRROR_COLLECTOR"), *sink = env("IF_MIRROR_SINK");
	const char *sample = env("IF_MIRROR_SAMPLE"), *snaplen = env("IF_MIRROR_SNAPLEN");
	const char *problem;

	o->dir = IFM_DIR_BOTH;
	o->sample = 1;
	o->match = env("IF_MIRROR_MATCH");
	if ((o->match || sample) && !to) {
		ifm_err("%s: mirror-%s without mirror-to", o->iface, o->match ? "match" : "sample");
		return -EINVAL;
	}
	if (o->match) {
		char what[64];

		if ((problem = ifm_spec_match(o->match))) {
			ifm_err("%s: mirror-match: %s", o->iface, problem);
			return -EINVAL;
		}
		/* checked before anything is brought up, so a typo fails ifup early */
		snprintf(what, sizeof(what), "%s: mirror-match", o->iface);
		if (ifm_match_check(o->match, 1, what) < 0)
			return -EINVAL;
	}
	if (sample && (problem = ifm_spec_sample(sample, &o->sample)))
		return refuse(o, "mirror-sample", sample, problem);
	if (snaplen) {
		if (!ports) {
			ifm_err("%s: mirror-snaplen '%.20s' without mirror-collector", o->iface, snaplen);
			return -EINVAL;
		}
		if ((problem = ifm_spec_snaplen(snaplen, &o->collector.snaplen)))
			return refuse(o, "mirror-snaplen", snaplen, problem);
	}
	if (dir) {
		if (!to) {
			ifm_err("%s: mirror-direction '%.20s' without mirror-to", o->iface, dir);
			return -EINVAL;
		}
		if ((problem = ifm_spec_dir(dir, &o->dir)))
			return refuse(o, "mirror-direction", dir, problem);
	}
	if (to && names(o, "mirror-to", to, &o->to) < 0)
		return -EINVAL;
	if (sink && !ports) {
		ifm_err("%s: mirror-sink '%.20s' without mirror-collector", o->iface, sink);
		return -EINVAL;
	}
	if (ports) {
		o->is_collector = true;
		o->collector.bridge = o->iface;
		if (names(o, "mirror-collector", ports, &o->ports) < 0)
			return -EINVAL;
		for (int i = 0; i < o->ports.n; i++)
			o->collector.ports[o->collector.nports++] = o->ports.v[i];
		if (sink && (problem = ifm_ifname_problem(sink))) {
			ifm_err("%s: mirror-sink '%.40s': %s", o->iface, sink, problem);
			return -EINVAL;
		}
		o->collector.sink = sink;
	}
	return 0;
}

/* Warns of each IF_MIRROR_* that is no option of ours (a typo); counts them. */
static int unknown_options(const char *iface)
{
	int n = 0;

	for (char **e = environ; *e; e++) {
		const char *name = *e + strlen("IF_MIRROR_"), *eq;
		bool ok = false;
		char opt[40];

		if (strncmp(*e, "IF_MIRROR_", strlen("IF_MIRROR_")) || !(eq = strchr(name, '=')))
			continue;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
			ok = strlen(known[i]) == (size_t)(eq - name) &&
			     !strncmp(known[i], name, (size_t)(eq - name));
		if (ok)
			continue;
		/* back to the option's spelling: IF_MIRROR_TOO -> mirror-too */
		snprintf(opt, sizeof(opt), "mirror-%.*s", (int)(eq - name), name);
		for (char *p = opt; *p; p++)
			*p = *p == '_' ? '-' : (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
		ifm_warn("%s: unknown option %s ignored", iface, opt);
		n++;
	}
	return n;
}

/* At ifdown a bad value is worth a warning, not an error: ifdown never fails. */
static void warn_line(enum ifm_level level, const char *text, void *arg)
{
	(void)arg;
	if (level >= IFM_LEVEL_INFO) {
		printf("%s\n", text);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "%s: %s%s\n", ifm_report_prog(),
		level == IFM_LEVEL_NOTICE ? "notice: " : "warning: ", text);
}

/*
 * ifdown of a stanza whose options do not read: the interface is going away,
 * so what is ifmirror's on it goes all the same. mirror-to, when it is good
 * itself, says which sessions; else every session of ifmirror's on it.
 */
static void down_anyway(struct ifm_nl *nl, enum phase ph, const char *iface)
{
	const char *to = env("IF_MIRROR_TO");
	struct ifm_names dests = { 0 };

	if (ph == POST_DOWN) {
		if (env("IF_MIRROR_COLLECTOR")) {
			ifm_warn("%s: removing its collector bridge all the same", iface);
			ifm_collector_down(nl, iface);
		}
		return;
	}
	if (!to && env("IF_MIRROR_COLLECTOR"))
		return; /* a collector stanza: its bridge goes at post-down */
	if (to && ifm_spec_names(to, IFM_MAX_PORTS, false, iface, "the interface itself",
				 &dests) == 0) {
		ifm_warn("%s: removing its sessions to %s all the same", iface, to);
		for (int i = 0; i < dests.n; i++)
			ifm_mirror_down_hook(nl, iface, dests.v[i]);
	} else {
		ifm_warn("%s: removing every ifmirror session on %s all the same", iface, iface);
		ifm_mirror_down_hook(nl, iface, NULL);
	}
	ifm_names_free(&dests);
}

void ifm_ifupdown_free(struct ifm_ifupdown_opts *o)
{
	ifm_names_free(&o->to);
	ifm_names_free(&o->ports);
}

static int run_phase(struct ifm_nl *nl, enum phase ph, struct ifm_ifupdown_opts *o)
{
	struct ifm_link l;
	int ret = IFM_EXIT_OK;

	switch (ph) {
	case PRE_UP:
		if (o->is_collector && ifm_collector_up(nl, &o->collector) < 0)
			ret = IFM_EXIT_RUNTIME; /* the bridge cannot come up without it */
		break;
	case UP:
		for (int i = 0; i < o->to.n; i++) {
			struct ifm_session_spec sp = { .source = o->iface, .dest = o->to.v[i],
						       .dir = o->dir, .match = o->match,
						       .sample = o->sample };

			if (ifm_link_get(nl, o->to.v[i], &l) == -ENODEV) {
				if (ifm_pending_add_spec(&sp) == 0)
					ifm_info("%s: %s mirror to %s deferred until %s exists",
					       o->iface, ifm_dir_name(o->dir), o->to.v[i], o->to.v[i]);
				continue;
			}
			/* a bad mirror-match is a bad option value: it fails ifup */
			if (ifm_mirror_up_spec(nl, &sp) == -IFM_EBADEXPR)
				ret = IFM_EXIT_USAGE;
		}
		ifm_refresh(nl, o->iface);
		break;
	case DOWN:
		for (int i = 0; i < o->to.n; i++)
			ifm_mirror_down_hook(nl, o->iface, o->to.v[i]);
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
	struct ifm_ifupdown_opts o = { 0 };
	const char *verbosity = env("VERBOSITY"), *addrfam = env("ADDRFAM");
	struct ifm_nl nl;
	int ph = -1, lock, ret, r;

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
	if (ph >= DOWN)
		ifm_report_set(&(struct ifm_report){ .prog = ifm_report_prog(),
						     .quiet = ifm_quiet(), .line = warn_line });
	r = ifm_ifupdown_read(&o);
	if (ph >= DOWN)
		ifm_report_set(&(struct ifm_report){ .prog = ifm_report_prog(),
						     .quiet = ifm_quiet() });
	if (unknown_options(o.iface) && r == 0 && ph == DOWN && !o.to.n)
		r = -EINVAL; /* mirror-too: what it named cannot be known */
	if (r < 0) {
		ifm_ifupdown_free(&o);
		if (ph <= UP)
			return IFM_EXIT_USAGE;
		/* ifdown never fails, and still removes what is ifmirror's */
		if ((lock = ifm_begin(&nl)) >= 0) {
			down_anyway(&nl, (enum phase)ph, o.iface);
			ifm_end(&nl, lock);
		}
		return IFM_EXIT_OK;
	}
	/* stanzas without mirror options only finish what waits for them */
	if (!o.to.n && !o.is_collector && ph != UP) {
		ret = IFM_EXIT_OK;
	} else {
		/* mirror-match was compiled by ifm_ifupdown_read, before the lock */
		if (ph == UP)
			ifm_refresh_prepare(o.iface);
		if ((lock = ifm_begin(&nl)) < 0) {
			ret = ph == PRE_UP && o.is_collector ? IFM_EXIT_RUNTIME : IFM_EXIT_OK;
		} else {
			ret = run_phase(&nl, (enum phase)ph, &o);
			ifm_end(&nl, lock);
		}
	}
	ifm_ifupdown_free(&o);
	return ret;
}
