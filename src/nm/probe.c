// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What NetworkManager's own tc setting would need from this kernel, asked by
 * trying it where nothing can break: a thread of its own moves into a fresh
 * network namespace (unshare(CLONE_NEWNET) affects only the calling thread),
 * adds a clsact qdisc and a matchall filter with a mirred action to its
 * loopback device, and creates a dummy device. The namespace, and everything
 * in it, is gone when the thread ends. IFMIRROR_AVOID is honoured, as in the
 * core.
 */
#include "ifmirror-nm.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

static int matchall_mirred(struct ifm_nl *nl, int ifindex)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS),
		.tcm_info = TC_H_MAKE(1U << 16, htons(ETH_P_ALL)),
	};
	struct ifm_link lo = { .ifindex = ifindex, .name = "lo" };
	struct ifm_cookie ck;
	struct nl_msg *msg;
	struct nlattr *opts;

	if (ifm_avoid("matchall"))
		return -ENOENT;
	ifm_cookie_make(&ck, IFM_DIR_INGRESS, &lo);
	msg = nlmsg_alloc_simple(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, TCA_KIND, "matchall") < 0 ||
	    !(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
	    ifm_mirred_put(msg, TCA_MATCHALL_ACT, ifindex, &ck) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, opts);
	return ifm_nl_talk(nl, msg);
}

static void *probe_thread(void *arg)
{
	struct nmm_kernel *k = arg;
	struct ifm_link lo;
	struct ifm_nl nl;
	int r;

	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(k->why, sizeof(k->why), "cannot make a scratch network namespace: %s",
			 strerror(errno));
		return NULL;
	}
	r = ifm_nl_open(&nl);
	if (r < 0) {
		snprintf(k->why, sizeof(k->why), "cannot open rtnetlink: %s", strerror(-r));
		return NULL;
	}
	if (ifm_link_get(&nl, "lo", &lo) == 0) {
		k->probed = true;
		k->clsact = ifm_hook_clsact.create(&nl, lo.ifindex) == 0;
		k->matchall = k->clsact && matchall_mirred(&nl, lo.ifindex) == 0;
		k->dummy = ifm_link_create(&nl, "ifmnm-probe", "dummy", NULL) == 0;
	} else {
		snprintf(k->why, sizeof(k->why), "no loopback device in a new namespace");
	}
	ifm_nl_close(&nl);
	return NULL;
}

void nmm_probe_kernel(struct nmm_kernel *k)
{
	pthread_t t;

	memset(k, 0, sizeof(*k));
	if (pthread_create(&t, NULL, probe_thread, k) != 0) {
		snprintf(k->why, sizeof(k->why), "cannot start a thread");
		return;
	}
	pthread_join(t, NULL);
}
