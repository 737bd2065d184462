// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror check [SOURCE --to DEST [--direction D]] [--json]
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

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>


enum probe {
	P_CLSACT, P_INGRESS, P_PRIO, P_MATCHALL, P_U32, P_BPF, P_MIRRED, P_DUMMY, P_IFB, P_BRIDGE,
	P_VXLAN, P_VXLAN6, P_GRETAP, P_GRETAP6, P_ERSPAN, P_ERSPAN6, NPROBE
};

static const struct {
	const char *name;       /* what ifmirror and IFMIRROR_AVOID call it */
	const char *module;     /* where the kernel keeps it */
} probes[NPROBE] = {
	[P_CLSACT] = { "clsact", "sch_ingress" },
	[P_INGRESS] = { "ingress", "sch_ingress" },
	[P_PRIO] = { "prio", "sch_prio" },
	[P_MATCHALL] = { "matchall", "cls_matchall" },
	[P_U32] = { "u32", "cls_u32" },
	[P_BPF] = { "bpf", "cls_bpf" },
	[P_MIRRED] = { "mirred", "act_mirred" },
	[P_DUMMY] = { "dummy", "dummy" },
	[P_IFB] = { "ifb", "ifb" },
	[P_BRIDGE] = { "bridge", "bridge" },
	[P_VXLAN] = { "vxlan", "vxlan" },
	[P_VXLAN6] = { "vxlan", "vxlan" },
	[P_GRETAP] = { "gretap", "ip_gre" },
	[P_GRETAP6] = { "ip6gretap", "ip6_gre" },
	[P_ERSPAN] = { "erspan", "ip_gre" },
	[P_ERSPAN6] = { "ip6erspan", "ip6_gre" },
};

struct probe_res {
	int setup;              /* 0, or why the scratch namespace could not be made */
	int r[NPROBE];          /* 0 present, -errno otherwise */
};

/*
 * Loading some modules creates devices: dummy and ifb add dummy0, ifb0 and
 * ifb1 to the host's namespace, ip_gre and ip6_gre add gre0, gretap0,
 * erspan0, ip6tnl0, ip6gre0 to every namespace. `check` must not be what
 * loads them: it probes such a kind only when its module is loaded or built
 * in, and otherwise reports it as available (-EAGAIN) or missing.
 */
#define NOT_LOADED (-EAGAIN)

static bool lists_module(const char *path, const char *mod)
{
	char line[1024], want[64];
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "/%s.ko", mod);
	while (!found && fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, want);

		found = at && (at[strlen(want)] == ':' || at[strlen(want)] == '.' ||
			       at[strlen(want)] == '\n' || at[strlen(want)] == '\0');
	}
	fclose(f);
	return found;
}

static int module_gate(const char *mod)
{
	char path[300];
	struct utsname u;

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	if (access(path, F_OK) == 0 || uname(&u) < 0)
		return 0;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", u.release);
	if (lists_module(path, mod))
		return 0;
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	if (access(path, R_OK) < 0)
		return 0; /* no module tree: nothing can be loaded, probing is harmless */
	return lists_module(path, mod) ? NOT_LOADED : -EOPNOTSUPP;
}

/* ---- the child, in its own network namespace ---- */

static int veth_pair(struct ifm_nl *nl, const char *a, const char *b)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *info, *data, *peer;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, a) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "veth") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    !(peer = nla_nest_start(msg, VETH_INFO_PEER)) ||
	    nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, b) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, peer);
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return ifm_nl_talk(nl, msg);
}

/*
 * A classifier: the filter ifmirror itself would add (with the mirror action
 * and its cookie). Without mirred in the kernel, the classifier alone: then
 * only "unknown kind" (ENOENT) counts as absent, since some kernels refuse
 * a classifier without options or actions for other reasons.
 */
static int cls_probe(struct ifm_nl *nl, int ifindex, uint32_t parent, uint16_t pref,
		     const struct ifm_cls_ops *cls, const struct ifm_link *target, bool mirred)
{
	struct sock_filter all = BPF_STMT(BPF_RET | BPF_K, 0xffffffffU);
	struct ifm_match m = { .insns = &all, .len = 1, .sample = 1 };
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_handle = cls->handle,
		.tcm_info = TC_H_MAKE((uint32_t)pref << 16, htons(0x0003 /* ETH_P_ALL */)),
	};
	struct ifm_cookie ck;
	struct nl_msg *msg;
	struct nlattr *opts;
	int r;

	if (mirred) {
		ifm_cookie_make(&ck, IFM_DIR_INGRESS, target);
		return ifm_filter_add(nl, ifindex, parent, pref, cls, &m, target->ifindex, &ck);
	}
	msg = nlmsg_alloc_simple(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, TCA_KIND, cls->kind) < 0 ||
	    !(opts = nla_nest_start(msg, TCA_OPTIONS)) || cls->put_match(msg, &m) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, opts);
	r = ifm_nl_talk(nl, msg);
	return r == -ENOENT ? r : 0;
}

/* the mirror action as ifmirror sends it (with its cookie), alone */
static int mirred_probe(struct ifm_nl *nl, const struct ifm_link *target)
{
	struct tcamsg tca = { .tca_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWACTION, NLM_F_CREATE | NLM_F_EXCL);
	struct ifm_cookie ck;

	if (!msg)
		return -ENOMEM;
	ifm_cookie_make(&ck, IFM_DIR_INGRESS, target);
	if (nlmsg_append(msg, &tca, sizeof(tca), NLMSG_ALIGNTO) < 0 ||
	    ifm_mirred_put(msg, TCA_ACT_TAB, target->ifindex, &ck) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return ifm_nl_talk(nl, msg);
}

static int link_probe(struct ifm_nl *nl, const char *name, const char *kind)
{
	struct ifm_link l;
	int r = ifm_link_create(nl, name, kind, NULL);

	if (r == 0 && ifm_link_get(nl, name, &l) == 0)
		ifm_link_delete(nl, l.ifindex);
	return r;
}

static void probe_all(struct probe_res *res)
{
	struct ifm_nl nl;
	struct ifm_link p0, p1;
	uint32_t parent = 0;
	int dev = 0;

	for (int i = 0; i < NPROBE; i++)
		res->r[i] = -ENOSYS; /* not probed */
	if (unshare(CLONE_NEWNET) < 0) {
		res->setup = -errno;
		return;
	}
	if ((res->setup = ifm_nl_open(&nl)) < 0)
		return;
	if ((res->setup = veth_pair(&nl, "p0", "p1")) < 0 ||
	    (res->setup = ifm_link_get(&nl, "p0", &p0)) < 0 ||
	    (res->setup = ifm_link_get(&nl, "p1", &p1)) < 0 ||
	    (res->setup = ifm_link_quiet_up(&nl, &p0)) < 0 ||
	    (res->setup = ifm_link_quiet_up(&nl, &p1)) < 0)
		goto out;

	res->r[P_CLSACT] = ifm_hook_clsact.create(&nl, p0.ifindex);
	res->r[P_INGRESS] = ifm_hook_ingress.create(&nl, p1.ifindex);
	res->r[P_PRIO] = ifm_hook_prio.create(&nl, p0.ifindex);
	res->r[P_MIRRED] = mirred_probe(&nl, &p1);
	if (res->r[P_CLSACT] == 0) {
		dev = p0.ifindex;
		parent = ifm_hook_clsact.parent(IFM_DIR_INGRESS);
	} else if (res->r[P_INGRESS] == 0) {
		dev = p1.ifindex;
		parent = ifm_hook_ingress.parent(IFM_DIR_INGRESS);
	}
	if (dev) {
		res->r[P_MATCHALL] = cls_probe(&nl, dev, parent, 1, &ifm_cls_matchall, &p1,
					       res->r[P_MIRRED] == 0);
		res->r[P_U32] = cls_probe(&nl, dev, parent, 2, &ifm_cls_u32, &p1,
					  res->r[P_MIRRED] == 0);
		res->r[P_BPF] = cls_probe(&nl, dev, parent, 3, &ifm_cls_bpf, &p1,
					  res->r[P_MIRRED] == 0);
	}
	res->r[P_DUMMY] = module_gate("dummy") ?: link_probe(&nl, "ifmprobe-d", "dummy");
	res->r[P_IFB] = module_gate("ifb") ?: link_probe(&nl, "ifmprobe-i", "ifb");
	res->r[P_BRIDGE] = link_probe(&nl, "ifmprobe-b", "bridge");
	res->r[P_VXLAN] = ifm_tunnel_probe(&nl, "vxlan", AF_INET);
	res->r[P_VXLAN6] = ifm_tunnel_probe(&nl, "vxlan", AF_INET6);
	res->r[P_GRETAP] = module_gate("ip_gre") ?: ifm_tunnel_probe(&nl, "gretap", AF_INET);
	res->r[P_GRETAP6] = module_gate("ip6_gre") ?: ifm_tunnel_probe(&nl, "gretap", AF_INET6);
	res->r[P_ERSPAN] = module_gate("ip_gre") ?: ifm_tunnel_probe(&nl, "erspan", AF_INET);
	res->r[P_ERSPAN6] = module_gate("ip6_gre") ?: ifm_tunnel_probe(&nl, "erspan", AF_INET6);
out:
	ifm_nl_close(&nl);
}

/* Forks the prober; its namespace goes away with it. */
static int probe_kernel(struct ifm_nl *parent, struct probe_res *res)
{
	int fds[2], status;
	ssize_t n = 0, got = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		struct probe_res mine = { 0 };

		close(fds[0]);
		ifm_nl_close(parent); /* the child's copy; it makes its own in its namespace */
		/* the kernel's own answers: IFMIRROR_AVOID is applied by the parent */
		unsetenv("IFMIRROR_AVOID");
		probe_all(&mine);
		if (write(fds[1], &mine, sizeof(mine)) != (ssize_t)sizeof(mine))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	while (got < (ssize_t)sizeof(*res) &&
	       (n = read(fds[0], (char *)res + got, sizeof(*res) - (size_t)got)) > 0)
		got += n;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof(*res))
		return -EPIPE;
	return 0;
}

/* ---- what the answers mean ---- */

/* there, or loaded the moment ifmirror uses it */
static bool present(const struct probe_res *res, int p)
{
	return res->r[p] == 0 || res->r[p] == NOT_LOADED;
}

static bool usable(const struct probe_res *res, int p)
{
	return present(res, p) && !ifm_avoid(probes[p].name);
}

struct strategy {
	const char *hook, *classifier, *match, *sink;
	bool can_mirror;
};

static void choose(const struct probe_res *res, struct strategy *s)
{
	memset(s, 0, sizeof(*s));
	if (usable(res, P_CLSACT))
		s->hook = "clsact";
	else if (usable(res, P_INGRESS) && usable(res, P_PRIO))
		s->hook = "ingress+prio";
	else if (usable(res, P_INGRESS))
		s->hook = "ingress";
	s->classifier = usable(res, P_MATCHALL) ? "matchall" : usable(res, P_U32) ? "u32" : NULL;
	s->match = usable(res, P_BPF) ? "bpf" : NULL;
	s->sink = usable(res, P_DUMMY) ? "dummy" : usable(res, P_IFB) ? "ifb" : NULL;
	s->can_mirror = s->hook && s->classifier && usable(res, P_MIRRED);
}

static void json_str_or_null(const char *s)
{
	if (s)
		ifm_json_str(s);
	else
		printf("null");
}

/* "yes", "no (kernel module M)", "yes (treated as missing: IFMIRROR_AVOID)" */
static void feature_text(const struct probe_res *res, int p, char *buf, size_t len)
{
	int r = res->r[p];

	if (r == 0)
		snprintf(buf, len, "yes%s", ifm_avoid(probes[p].name) ?
			 " (treated as missing: IFMIRROR_AVOID)" : "");
	else if (r == NOT_LOADED)
		snprintf(buf, len, "yes (module %s, not loaded yet: check does not load it, as "
			 "loading it adds devices)%s", probes[p].module, ifm_avoid(probes[p].name) ?
			 " (treated as missing: IFMIRROR_AVOID)" : "");
	else if (r == -ENOENT || r == -EOPNOTSUPP)
		snprintf(buf, len, "no (kernel module %s)", probes[p].module);
	else if (r == -ENOSYS)
		snprintf(buf, len, "unknown (nothing to probe it on)");
	else
		snprintf(buf, len, "unknown (%s)", strerror(-r));
}

/* one line for a tunnel type over both underlay families */
static void tunnel_text(const struct probe_res *res, int p4, int p6, char *buf, size_t len)
{
	const char *type = probes[p4].name;
	bool avoided = ifm_avoid(type) || ifm_avoid(probes[p4].name) || ifm_avoid(probes[p6].name);
	bool y4 = present(res, p4), y6 = present(res, p6);

	if (y4 && y6)
		snprintf(buf, len, "yes");
	else if (y4 || y6)
		snprintf(buf, len, "yes, %s underlays only (kernel module %s missing)",
			 y4 ? "IPv4" : "IPv6", probes[y4 ? p6 : p4].module);
	else if (!strcmp(probes[p4].module, probes[p6].module))
		snprintf(buf, len, "no (kernel module %s)", probes[p4].module);
	else
		snprintf(buf, len, "no (kernel modules %s, %s)", probes[p4].module,
			 probes[p6].module);
	if (res->r[p4] == NOT_LOADED || res->r[p6] == NOT_LOADED)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 " (module not loaded yet: check does not load it, as loading it adds "
			 "devices)");
	if ((y4 || y6) && avoided)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 " (treated as missing: IFMIRROR_AVOID)");
}

/* ---- a session: what would go wrong ---- */

#define MAXWARN 16
struct warnings {
	int n;
	const char *kind[MAXWARN];
	char text[MAXWARN][600];
};

static void warn(struct warnings *w, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(struct warnings *w, const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (w->n == MAXWARN)
		return;
	w->kind[w->n] = kind;
	va_start(ap, fmt);
	vsnprintf(w->text[w->n], sizeof(w->text[w->n]), fmt, ap);
	va_end(ap);
	w->n++;
}

/* A tunnel's underlay against the largest frame sent into it. */
static void tunnel_mtu(struct ifm_nl *nl, struct warnings *w, const struct ifm_tunnel_info *t,
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

static void check_session(struct ifm_nl *nl, const struct probe_res *res,
			  const struct ifm_tunnel_info *src, const struct ifm_tunnel_info *dst,
			  enum ifm_dir dir, struct warnings *w)
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
	    strcmp(q.ingress_kind, "clsact") && (q.ingress_kind[0] || !usable(res, P_CLSACT))) {
		const char *why = q.ingress_kind[0] ? "it has an ingress qdisc, which clsact "
			"cannot join" : present(res, P_CLSACT) ? "clsact is treated as missing "
			"(IFMIRROR_AVOID)" : "the kernel has no clsact qdisc";

		if (!usable(res, P_PRIO))
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

/* ---- the command ---- */

static void print_text(const struct probe_res *res, const struct strategy *s,
		       const char *kernel)
{
	static const int order[] = { P_CLSACT, P_INGRESS, P_PRIO, P_MATCHALL, P_U32, P_BPF,
				     P_MIRRED, P_DUMMY, P_IFB, P_BRIDGE };
	char buf[160];

	printf("kernel: %s (probed in a scratch network namespace)\n", kernel);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		feature_text(res, order[i], buf, sizeof(buf));
		printf("%s: %s\n", probes[order[i]].name, buf);
	}
	tunnel_text(res, P_VXLAN, P_VXLAN6, buf, sizeof(buf));
	printf("vxlan: %s\n", buf);
	tunnel_text(res, P_GRETAP, P_GRETAP6, buf, sizeof(buf));
	printf("gretap: %s\n", buf);
	tunnel_text(res, P_ERSPAN, P_ERSPAN6, buf, sizeof(buf));
	printf("erspan: %s\n", buf);
	if (!usable(res, P_MIRRED))
		printf("strategy: none: without the mirred action (kernel module act_mirred) "
		       "nothing can be mirrored\n");
	else if (!s->can_mirror)
		printf("strategy: none: the kernel has %s\n", !s->hook ?
		       "neither the clsact nor the ingress qdisc" : "neither matchall nor u32");
	else
		printf("strategy: hook %s%s, classifier %s, --match %s, collector sink %s\n",
		       s->hook, !strcmp(s->hook, "ingress") ? " (ingress only: no prio for egress)"
		       : "", s->classifier, s->match ? "bpf" : "unavailable (no cls_bpf)",
		       s->sink ? s->sink : "none (no dummy or ifb)");
}

static void print_json(const struct probe_res *res, const struct strategy *s,
		       const char *kernel, const char *source, const char *dest,
		       const struct warnings *w)
{
	static const char *const keys[NPROBE] = {
		[P_VXLAN6] = "vxlan_ipv6", [P_GRETAP6] = "gretap_ipv6", [P_ERSPAN6] = "erspan_ipv6",
	};
	bool first = true;

	printf("{\n  \"kernel\": ");
	ifm_json_str(kernel);
	printf(",\n  \"features\": {");
	for (int p = 0; p < NPROBE; p++)
		printf("%s\"%s\": %s", p ? ", " : "", keys[p] ? keys[p] : probes[p].name,
		       present(res, p) ? "true" : "false");
	printf("},\n  \"avoided\": [");
	for (int p = 0; p < NPROBE; p++) {
		if (keys[p] || !ifm_avoid(probes[p].name))
			continue;
		printf("%s\"%s\"", first ? "" : ", ", probes[p].name);
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
	printf("},\n  \"session\": ");
	if (!source) {
		printf("null\n}\n");
		return;
	}
	printf("{\"source\": ");
	ifm_json_str(source);
	printf(", \"destination\": ");
	ifm_json_str(dest);
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
	struct warnings w = { 0 };
	struct probe_res res;
	struct strategy s;
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

	r = ifm_nl_open(&nl);
	if (r < 0) {
		ifm_err("cannot open rtnetlink socket: %s", strerror(-r));
		return IFM_EXIT_RUNTIME;
	}
	if (source) {
		if ((r = ifm_tnl_link(&nl, source, 0, &src)) < 0 ||
		    (r = ifm_tnl_link(&nl, dest, 0, &dst)) < 0) {
			ifm_err("%s: %s", src.ifindex ? dest : source,
				r == -ENODEV ? "no such device" : ifm_nl_reason(&nl, r));
			goto out;
		}
	}
	r = probe_kernel(&nl, &res);
	if (r == 0 && res.setup < 0)
		r = res.setup;
	if (r < 0) {
		ifm_err("check: cannot probe the kernel in a scratch network namespace: %s",
			strerror(-r));
		goto out;
	}
	choose(&res, &s);
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	if (source)
		check_session(&nl, &res, &src, &dst, dir, &w);
	if (json) {
		print_json(&res, &s, u.release, source, dest, &w);
	} else {
		print_text(&res, &s, u.release);
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
