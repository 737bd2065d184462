/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What this kernel offers, found out for real without touching the host: a
 * child process in a network namespace of its own tries every qdisc,
 * classifier, action and link kind ifmirror may use. check, up's fallbacks
 * and ifmirror-nm's choice of mode all read the same answers.
 */
#ifndef IFMIRROR_PROBE_H
#define IFMIRROR_PROBE_H

#include "ifmirror.h"

enum ifm_probe_id {
	IFM_P_CLSACT, IFM_P_INGRESS, IFM_P_PRIO, IFM_P_MATCHALL, IFM_P_U32, IFM_P_BPF,
	IFM_P_MIRRED, IFM_P_DUMMY, IFM_P_IFB, IFM_P_BRIDGE,
	IFM_P_POLICE,            /* act_police: the copy budget's first choice (budget.c) */
	IFM_P_BUCKET,            /* an eBPF token bucket on cls_bpf: its second (bucket.c) */
	IFM_P_TUNNELS,           /* then two per tunnel type: IPv4, IPv6 underlay */
};
#define IFM_PROBE_MAX_TUNNEL_TYPES 8
#define IFM_NPROBE (IFM_P_TUNNELS + 2 * IFM_PROBE_MAX_TUNNEL_TYPES)
/* present, but its module is not loaded: check does not load it, as that adds devices */
#define IFM_PROBE_NOT_LOADED (-EAGAIN)

struct ifm_probe {
	int setup;              /* 0, or why the scratch namespace could not be made */
	int ntunnels;           /* tunnel types probed */
	int r[IFM_NPROBE];      /* 0 present, -errno otherwise; -ENOSYS: not probed */
};

/* the probe of tunnel type ifm_tunnel_types[i] over an IPv4 or IPv6 underlay */
static inline int ifm_probe_tunnel(int i, bool v6)
{
	return IFM_P_TUNNELS + 2 * i + (v6 ? 1 : 0);
}

/* Forks the prober (parent: a socket the child must not use, or NULL). */
int ifm_probe_kernel(struct ifm_nl *parent, struct ifm_probe *res);
/* the same in a thread, for programs with threads (ifmirror-nm) */
int ifm_probe_kernel_thread(struct ifm_probe *res);
/* what ifmirror and IFMIRROR_AVOID call it; where the kernel keeps it */
const char *ifm_probe_name(int p);
const char *ifm_probe_module(int p);
/* there, or loaded the moment ifmirror uses it */
bool ifm_probe_present(const struct ifm_probe *res, int p);
/* treated as missing (IFMIRROR_AVOID) */
bool ifm_probe_avoided(int p);
/* present and not treated as missing */
bool ifm_probe_usable(const struct ifm_probe *res, int p);

struct ifm_strategy {
	const char *hook, *classifier, *match, *sink;
	const char *budget;     /* a copy budget's mechanism: police, bucket, shaper */
	bool can_mirror;
};
void ifm_probe_strategy(const struct ifm_probe *res, struct ifm_strategy *s);

/* ---- check.c: a session, before it is made ---- */
#define IFM_MAXWARN 16
struct ifm_warnings {
	int n;
	const char *kind[IFM_MAXWARN];   /* "down", "carrier", "loop", "hook", "mtu" */
	char text[IFM_MAXWARN][600];
};
void ifm_check_session(struct ifm_nl *nl, const struct ifm_probe *res,
		       const struct ifm_tunnel_info *src, const struct ifm_tunnel_info *dst,
		       enum ifm_dir dir, struct ifm_warnings *w);

#endif
