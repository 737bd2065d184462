// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror check [SOURCE --to DEST [--direction D]] [--json]
 *
 * The command line and the report; lib/probe.c asks the kernel, lib/check.c
 * finds what would go wrong for a session.
 *
 * What this kernel offers, found out for real without touching the host's
 * interfaces: a child process moves into a network namespace of its own,
 * makes a veth pair there and tries every qdisc, classifier, action and
 * link kind ifmirror may use, then reports through a pipe. From that, the
 * strategy ifmirror will use; and for a session, what would go wrong:
 * destination down or without carrier, a loop, a root qdisc egress cannot
 * hang from, frames too big for the destination or a tunnel's underlay.
 * It changes nothing.
 */
#include "cli.h"
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static void json_str_or_null(const char *s)
{
	if (s)
		ifm_json_str(s);
	else
		printf("null");
}

/* "yes", "no (kernel module M)", "yes (treated as missing: IFMIRROR_AVOID)" */
static void feature_text(const struct ifm_probe *res, int p, char *buf, size_t len)
{
	int r = res->r[p];

	if (r == 0)
		snprintf(buf, len, "yes%s", ifm_probe_avoided(p) ?
			 " (treated as missing: IFMIRROR_AVOID)" : "");
	else if (r == IFM_PROBE_NOT_LOADED)
		snprintf(buf, len, "yes (module %s, not loaded yet: check does not load it, as "
			 "loading it adds devices)%s", ifm_probe_module(p), ifm_probe_avoided(p) ?
			 " (treated as missing: IFMIRROR_AVOID)" : "");
	else if (r == -ENOENT || r == -EOPNOTSUPP)
		snprintf(buf, len, "no (kernel module %s)", ifm_probe_module(p));
	else if (r == -ENOSYS)
		snprintf(buf, len, "unknown (nothing to probe it on)");
	else
		snprintf(buf, len, "unknown (%s)", strerror(-r));
}

/* one line for a tunnel type over both underlay families */
static void tunnel_text(const struct ifm_probe *res, int p4, int p6, char *buf, size_t len)
{
	bool avoided = ifm_probe_avoided(p4) || ifm_probe_avoided(p6);
	bool y4 = ifm_probe_present(res, p4), y6 = ifm_probe_present(res, p6);

	if (y4 && y6)
		snprintf(buf, len, "yes");
	else if (y4 || y6)
		snprintf(buf, len, "yes, %s underlays only (kernel module %s missing)",
			 y4 ? "IPv4" : "IPv6", ifm_probe_module(y4 ? p6 : p4));
	else if (!strcmp(ifm_probe_module(p4), ifm_probe_module(p6)))
		snprintf(buf, len, "no (kernel module %s)", ifm_probe_module(p4));
	else
		snprintf(buf, len, "no (kernel modules %s, %s)", ifm_probe_module(p4),
			 ifm_probe_module(p6));
	if (res->r[p4] == IFM_PROBE_NOT_LOADED || res->r[p6] == IFM_PROBE_NOT_LOADED)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 " (module not loaded yet: check does not load it, as loading it adds "
			 "devices)");
	if ((y4 || y6) && avoided)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 " (treated as missing: IFMIRROR_AVOID)");
}

/* "erspan to 10.9.0.2, session id 5, version 2, hwid 7, direction egress" */
static void tunnel_desc(const struct ifm_tunnel_info *t, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?", ver[80];
	size_t n;

	if (t->family)
		inet_ntop(t->family, t->remote, addr, sizeof(addr));
	n = (size_t)snprintf(buf, len, "%s to %s", t->kind, addr);
	if (t->has_id && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", %s %u", t->ops->id_words, t->id);
	if (t->ops->dstport_default && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", UDP port %u", t->dstport);
	if (n < len)
		snprintf(buf + n, len - n, "%s", ifm_tunnel_version_text(t->version, t->hwid,
									 t->erspan_dir, ver, sizeof(ver)));
}

static void tunnel_json(const struct ifm_tunnel_info *t)
{
	char addr[INET6_ADDRSTRLEN] = "";

	if (!t->ops) {
		printf("null");
		return;
	}
	if (t->family)
		inet_ntop(t->family, t->remote, addr, sizeof(addr));
	printf("{\"type\": ");
	ifm_json_str(t->ops->type);
	printf(", \"kind\": ");
	ifm_json_str(t->kind);
	printf(", \"remote\": ");
	json_str_or_null(addr[0] ? addr : NULL);
	printf(", \"%s\": ", t->ops->id_key);
	if (t->has_id)
		printf("%u", t->id);
	else
		printf("null");
	if (t->ops->dstport_default)
		printf(", \"dstport\": %u", t->dstport);
	if (t->ops->versions) {
		printf(", \"version\": %u", t->version);
		if (t->version == 2)
			printf(", \"hwid\": %u, \"direction\": \"%s\"", t->hwid,
			       t->erspan_dir == IFM_DIR_EGRESS ? "egress" : "ingress");
	}
	putchar('}');
}

/* ---- the command ---- */

static void print_text(const struct ifm_probe *res, const struct ifm_strategy *s,
		       const char *kernel)
{
	char buf[160];

	printf("kernel: %s (probed in a scratch network namespace)\n", kernel);
	for (int p = 0; p < IFM_P_TUNNELS; p++) {
		feature_text(res, p, buf, sizeof(buf));
		printf("%s: %s\n", ifm_probe_name(p), buf);
	}
	for (int i = 0; i < res->ntunnels; i++) {
		tunnel_text(res, ifm_probe_tunnel(i, false), ifm_probe_tunnel(i, true), buf,
			    sizeof(buf));
		printf("%s: %s\n", ifm_tunnel_types[i]->type, buf);
	}
	if (!ifm_probe_usable(res, IFM_P_MIRRED))
		printf("strategy: none: without the mirred action (kernel module act_mirred) "
		       "nothing can be mirrored\n");
	else if (!s->can_mirror)
		printf("strategy: none: the kernel has %s\n", !s->hook ?
		       "neither the clsact nor the ingress qdisc" : "neither matchall nor u32");
	else
		printf("strategy: hook %s%s, classifier %s, --match %s, collector sink %s, "
		       "budget %s\n", s->hook, !strcmp(s->hook, "ingress") ?
		       " (ingress only: no prio for egress)" : "", s->classifier,
		       s->match ? "bpf" : "unavailable (no cls_bpf)",
		       s->sink ? s->sink : "none (no dummy or ifb)", s->budget);
}

static void print_json(const struct ifm_probe *res, const struct ifm_strategy *s,
		       const char *kernel, const char *source, const char *dest,
		       const struct ifm_tunnel_info *dst, const struct ifm_warnings *w)
{
	bool first = true;

	printf("{\n  \"kernel\": ");
	ifm_json_str(kernel);
	printf(",\n  \"features\": {");
	for (int p = 0; p < IFM_P_TUNNELS + 2 * res->ntunnels; p++) {
		bool v6 = p >= IFM_P_TUNNELS && (p - IFM_P_TUNNELS) % 2;

		/* a tunnel type: "vxlan" (IPv4), "vxlan_ipv6" */
		printf("%s\"%s%s\": %s", p ? ", " : "",
		       p < IFM_P_TUNNELS ? ifm_probe_name(p)
					 : ifm_tunnel_types[(p - IFM_P_TUNNELS) / 2]->type,
		       v6 ? "_ipv6" : "", ifm_probe_present(res, p) ? "true" : "false");
	}
	printf("},\n  \"avoided\": [");
	for (int p = 0; p < IFM_P_TUNNELS + 2 * res->ntunnels; p++) {
		if ((p >= IFM_P_TUNNELS && (p - IFM_P_TUNNELS) % 2) || !ifm_probe_avoided(p))
			continue;
		printf("%s\"%s\"", first ? "" : ", ", ifm_probe_name(p));
		first = false;
	}
	printf("],\n  \"strategy\": {\"hook\": ");
	json_str_or_null(s->can_mirror ? s->hook : NULL);
	printf(", \"classifier\": ");
	json_str_or_null(s->can_mirror ? s->classifier : NULL);
	printf(", \"match_classifier\": ");
	json_str_or_null(s->match);
	printf(", \"sink\": ");
	json_str_or_null(s->sink);
	printf(", \"budget\": ");
	json_str_or_null(s->budget);
	printf("},\n  \"session\": ");
	if (!source) {
		printf("null\n}\n");
		return;
	}
	printf("{\"source\": ");
	ifm_json_str(source);
	printf(", \"destination\": ");
	ifm_json_str(dest);
	printf(", \"tunnel\": ");
	tunnel_json(dst);
	printf(", \"warnings\": [");
	for (int i = 0; i < w->n; i++) {
		printf("%s\n    {\"kind\": \"%s\", \"message\": ", i ? "," : "", w->kind[i]);
		ifm_json_str(w->text[i]);
		putchar('}');
	}
	printf("%s]}\n}\n", w->n ? "\n  " : "");
}

int cmd_check(int argc, char *argv[])
{
	const char *source = NULL, *dest = NULL, *problem;
	enum ifm_dir dir = IFM_DIR_BOTH;
	struct ifm_tunnel_info src, dst;
	struct ifm_warnings w = { 0 };
	struct ifm_probe res;
	struct ifm_strategy s;
	struct utsname u;
	struct ifm_nl nl;
	bool json = false;
	int r, ret = IFM_EXIT_RUNTIME;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--to") || !strncmp(a, "--to=", 5)) {
			if (dest) {
				ifm_err("check: --to given twice");
				return IFM_EXIT_USAGE;
			}
			dest = a[4] == '=' ? a + 5 : i + 1 < argc ? argv[++i] : NULL;
			if (!dest) {
				ifm_err("check: --to needs a destination interface");
				return IFM_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--direction") || !strncmp(a, "--direction=", 12)) {
			const char *v = a[11] == '=' ? a + 12 : i + 1 < argc ? argv[++i] : NULL;

			if ((problem = ifm_spec_dir(v, &dir))) {
				ifm_err("check: --direction '%.20s': %s", v ? v : "", problem);
				return IFM_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (a[0] == '-') {
			ifm_err("check: unknown option '%.40s' (see ifmirror --help)", a);
			return IFM_EXIT_USAGE;
		} else if (source) {
			ifm_err("check: unexpected argument '%.40s'", a);
			return IFM_EXIT_USAGE;
		} else {
			source = a;
		}
	}
	if (source && !dest) {
		ifm_err("check: checking a session needs SOURCE --to DEST");
		return IFM_EXIT_USAGE;
	}
	if (dest && !source) {
		ifm_err("check: --to needs a SOURCE before it");
		return IFM_EXIT_USAGE;
	}
	if (source && ((problem = ifm_ifname_problem(source)) || (problem = ifm_ifname_problem(dest)))) {
		ifm_err("check: '%.40s': %s", ifm_ifname_problem(source) ? source : dest, problem);
		return IFM_EXIT_USAGE;
	}
	if (source && !strcmp(source, dest)) {
		ifm_err("check: %s: source and destination are the same interface", source);
		return IFM_EXIT_USAGE;
	}

	if (ifm_begin_read(&nl) < 0)
		return IFM_EXIT_RUNTIME;
	if (source) {
		if ((r = ifm_tnl_link(&nl, source, 0, &src)) < 0 ||
		    (r = ifm_tnl_link(&nl, dest, 0, &dst)) < 0) {
			ifm_err("%s: %s", src.ifindex ? dest : source,
				r == -ENODEV ? "no such device" : ifm_nl_reason(&nl, r));
			goto out;
		}
	}
	r = ifm_probe_kernel(&nl, &res);
	if (r == 0 && res.setup < 0)
		r = res.setup;
	if (r < 0) {
		ifm_err("check: cannot probe the kernel in a scratch network namespace: %s",
			strerror(-r));
		goto out;
	}
	ifm_probe_strategy(&res, &s);
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	if (source)
		ifm_check_session(&nl, &res, &src, &dst, dir, &w);
	if (json) {
		print_json(&res, &s, u.release, source, dest, &dst, &w);
	} else {
		print_text(&res, &s, u.release);
		if (source && dst.ops) {
			char desc[200];

			tunnel_desc(&dst, desc, sizeof(desc));
			printf("destination %s: tunnel %s\n", dest, desc);
		}
		if (source)
			printf("session %s -> %s: %s\n", source, dest, !w.n ? "no warnings" :
			       w.n == 1 ? "1 warning" : "warnings:");
		for (int i = 0; i < w.n; i++)
			printf("warning: %s: %s\n", w.kind[i], w.text[i]);
	}
	ret = IFM_EXIT_OK;
out:
	ifm_nl_close(&nl);
	return ret;
}
