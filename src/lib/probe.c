// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel probe: a child process moves into a network namespace of its
 * own, makes a veth pair there and tries every qdisc, classifier, action and
 * link kind ifmirror may use, then reports through a pipe. Its namespace,
 * and everything in it, goes away with it.
 */
#include "probe.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
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

static const struct {
	const char *name;       /* what ifmirror and IFMIRROR_AVOID call it */
	const char *module;     /* where the kernel keeps it */
} base[IFM_P_TUNNELS] = {
	[IFM_P_CLSACT] = { "clsact", "sch_ingress" },
	[IFM_P_INGRESS] = { "ingress", "sch_ingress" },
	[IFM_P_PRIO] = { "prio", "sch_prio" },
	[IFM_P_MATCHALL] = { "matchall", "cls_matchall" },
	[IFM_P_U32] = { "u32", "cls_u32" },
	[IFM_P_BPF] = { "bpf", "cls_bpf" },
	[IFM_P_MIRRED] = { "mirred", "act_mirred" },
	[IFM_P_DUMMY] = { "dummy", "dummy" },
	[IFM_P_IFB] = { "ifb", "ifb" },
	[IFM_P_BRIDGE] = { "bridge", "bridge" },
	[IFM_P_POLICE] = { "police", "act_police" },
	[IFM_P_BUCKET] = { "bucket", "cls_bpf" },
};

static const struct ifm_tunnel_ops *tunnel_of(int p)
{
	int i = (p - IFM_P_TUNNELS) / 2;

	for (int k = 0; k <= i; k++)
		if (!ifm_tunnel_types[k])
			return NULL;
	return ifm_tunnel_types[i];
}

/* the name (what = 0) or the module (what = 1) of probe p */
static const char *probe_word(int p, int what)
{
	const struct ifm_tunnel_ops *t;
	bool v6 = (p - IFM_P_TUNNELS) % 2;

	if (p < IFM_P_TUNNELS)
		return what ? base[p].module : base[p].name;
	if (!(t = tunnel_of(p)))
		return "?";
	return what ? (v6 ? t->module6 : t->module4) : (v6 ? t->kind6 : t->kind4);
}

const char *ifm_probe_name(int p)
{
	return probe_word(p, 0);
}

const char *ifm_probe_module(int p)
{
	return probe_word(p, 1);
}

/*
 * Loading some modules creates devices: dummy and ifb add dummy0, ifb0 and
 * ifb1 to the host's namespace, ip_gre and ip6_gre add gre0, gretap0,
 * erspan0, ip6tnl0, ip6gre0 to every namespace. `check` must not be what
 * loads them: it probes such a kind only when its module is loaded or built
 * in, and otherwise reports it as available (-EAGAIN) or missing.
 */

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
	return lists_module(path, mod) ? IFM_PROBE_NOT_LOADED : -EOPNOTSUPP;
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
	struct ifm_cookie ck;
	struct nl_msg *msg;
	int r;

	if (mirred) {
		ifm_cookie_make(&ck, IFM_DIR_INGRESS, target);
		return ifm_filter_add(nl, ifindex, parent, pref, cls, &m, target->ifindex, &ck, NULL);
	}
	msg = ifm_filter_add_msg(ifindex, parent, pref, cls, &m, 0, NULL, NULL);
	if (!msg)
		return -ENOMEM;
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

/* a standalone police action (a budget's), made and removed again */
static int police_probe(struct ifm_nl *nl)
{
	struct tcamsg tca = { .tca_family = AF_UNSPEC };
	struct ifm_link l = { .ifindex = 1, .name = "lo" };
	struct ifm_police pol = { .index = IFM_POLICE_INDEX(1), .bps = 125000, .burst = 16384,
				  .mtu = 65535 };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWACTION, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *list;
	int r;

	if (!msg)
		return -ENOMEM;
	ifm_cookie_make(&pol.cookie, 0, &l);
	if (nlmsg_append(msg, &tca, sizeof(tca), NLMSG_ALIGNTO) < 0 ||
	    !(list = nla_nest_start(msg, TCA_ACT_TAB)) || ifm_police_put(msg, 1, &pol) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, list);
	r = ifm_nl_talk(nl, msg);
	/* nothing to remove: the scratch namespace goes, its actions with it */
	return r;
}

static int link_probe(struct ifm_nl *nl, const char *name, const char *kind)
{
	struct ifm_link l;
	int r = ifm_link_create(nl, name, kind, NULL);

	if (r == 0 && ifm_link_get(nl, name, &l) == 0)
		ifm_link_delete(nl, l.ifindex);
	return r;
}

static void probe_all(struct ifm_probe *res)
{
	struct ifm_nl nl;
	struct ifm_link p0, p1;
	uint32_t parent = 0;
	int dev = 0;

	for (int i = 0; i < IFM_NPROBE; i++)
		res->r[i] = -ENOSYS; /* not probed */
	while (res->ntunnels < IFM_PROBE_MAX_TUNNEL_TYPES && ifm_tunnel_types[res->ntunnels])
		res->ntunnels++;
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

	res->r[IFM_P_CLSACT] = ifm_hook_clsact.create(&nl, p0.ifindex);
	res->r[IFM_P_INGRESS] = ifm_hook_ingress.create(&nl, p1.ifindex);
	res->r[IFM_P_PRIO] = ifm_hook_prio.create(&nl, p0.ifindex);
	res->r[IFM_P_MIRRED] = mirred_probe(&nl, &p1);
	if (res->r[IFM_P_CLSACT] == 0) {
		dev = p0.ifindex;
		parent = ifm_hook_clsact.parent(IFM_DIR_INGRESS);
	} else if (res->r[IFM_P_INGRESS] == 0) {
		dev = p1.ifindex;
		parent = ifm_hook_ingress.parent(IFM_DIR_INGRESS);
	}
	if (dev) {
		res->r[IFM_P_MATCHALL] = cls_probe(&nl, dev, parent, 1, &ifm_cls_matchall, &p1,
					       res->r[IFM_P_MIRRED] == 0);
		res->r[IFM_P_U32] = cls_probe(&nl, dev, parent, 2, &ifm_cls_u32, &p1,
					  res->r[IFM_P_MIRRED] == 0);
		res->r[IFM_P_BPF] = cls_probe(&nl, dev, parent, 3, &ifm_cls_bpf, &p1,
					  res->r[IFM_P_MIRRED] == 0);
	}
	res->r[IFM_P_DUMMY] = module_gate("dummy") ?: link_probe(&nl, "ifmprobe-d", "dummy");
	res->r[IFM_P_IFB] = module_gate("ifb") ?: link_probe(&nl, "ifmprobe-i", "ifb");
	res->r[IFM_P_BRIDGE] = link_probe(&nl, "ifmprobe-b", "bridge");
	res->r[IFM_P_POLICE] = police_probe(&nl);
	/* its program and maps loaded, as a budget loads them; cls_bpf attaches it */
	res->r[IFM_P_BUCKET] = res->r[IFM_P_BPF] ?: ifm_bucket_probe();
	for (int i = 0; i < res->ntunnels; i++) {
		const struct ifm_tunnel_ops *t = ifm_tunnel_types[i];

		for (int v6 = 0; v6 < 2; v6++) {
			int gate = t->module_adds_devices ? module_gate(v6 ? t->module6 : t->module4) : 0;

			res->r[ifm_probe_tunnel(i, v6)] =
				gate ?: ifm_tunnel_probe(&nl, t, v6 ? AF_INET6 : AF_INET);
		}
	}
out:
	ifm_nl_close(&nl);
}

/* Forks the prober; its namespace goes away with it. */
int ifm_probe_kernel(struct ifm_nl *parent, struct ifm_probe *res)
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
		struct ifm_probe mine = { 0 };

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

static void *probe_thread(void *arg)
{
	probe_all(arg);
	return NULL;
}

/*
 * The same in a thread of its own (unshare(CLONE_NEWNET) moves only the
 * calling thread): for a program with threads of its own (GLib), where a
 * forked child could block on a lock another thread held. IFMIRROR_AVOID
 * stays set, so avoided kinds read as absent.
 */
int ifm_probe_kernel_thread(struct ifm_probe *res)
{
	pthread_t t;

	memset(res, 0, sizeof(*res));
	if (pthread_create(&t, NULL, probe_thread, res) != 0)
		return -EAGAIN;
	pthread_join(t, NULL);
	return 0;
}

/* ---- what the answers mean ---- */

/* there, or loaded the moment ifmirror uses it */
bool ifm_probe_present(const struct ifm_probe *res, int p)
{
	return res->r[p] == 0 || res->r[p] == IFM_PROBE_NOT_LOADED;
}

bool ifm_probe_avoided(int p)
{
	return ifm_avoid(ifm_probe_name(p));
}

bool ifm_probe_usable(const struct ifm_probe *res, int p)
{
	return ifm_probe_present(res, p) && !ifm_probe_avoided(p);
}

void ifm_probe_strategy(const struct ifm_probe *res, struct ifm_strategy *s)
{
	memset(s, 0, sizeof(*s));
	if (ifm_probe_usable(res, IFM_P_CLSACT))
		s->hook = "clsact";
	else if (ifm_probe_usable(res, IFM_P_INGRESS) && ifm_probe_usable(res, IFM_P_PRIO))
		s->hook = "ingress+prio";
	else if (ifm_probe_usable(res, IFM_P_INGRESS))
		s->hook = "ingress";
	s->classifier = ifm_probe_usable(res, IFM_P_MATCHALL) ? "matchall"
		      : ifm_probe_usable(res, IFM_P_U32) ? "u32" : NULL;
	s->match = ifm_probe_usable(res, IFM_P_BPF) ? "bpf" : NULL;
	s->sink = ifm_probe_usable(res, IFM_P_DUMMY) ? "dummy"
		: ifm_probe_usable(res, IFM_P_IFB) ? "ifb" : NULL;
	s->can_mirror = s->hook && s->classifier && ifm_probe_usable(res, IFM_P_MIRRED);
	s->budget = ifm_probe_usable(res, IFM_P_POLICE) ? "police"
		  : ifm_probe_usable(res, IFM_P_BUCKET) ? "bucket" : "shaper";
}

