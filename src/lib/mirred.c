// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The mirred action. Each one ifmirror makes carries a 16-byte cookie
 * (TCA_ACT_COOKIE, kernel >= 4.11): the cookie is how ifmirror tells its
 * own filters from everybody else's, and it remembers the destination
 * after the destination is gone (the kernel then reports ifindex 0).
 */
#include "marks.h"

#include <errno.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <linux/gen_stats.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

/* mirred as action prio of the list being built */
static int mirred_one(struct nl_msg *msg, int prio, int target_ifindex,
		      const struct ifm_cookie *cookie)
{
	struct tc_mirred p = {
		/*
		 * "continue": classification goes on after the copy, so the
		 * user's own filters at later prefs still see every packet.
		 */
		.action = TC_ACT_UNSPEC,
		.eaction = TCA_EGRESS_MIRROR,
		.ifindex = (__u32)target_ifindex,
	};
	struct nlattr *act, *opts;

	if (!(act = nla_nest_start(msg, prio)) ||
	    nla_put_string(msg, TCA_ACT_KIND, "mirred") < 0 ||
	    nla_put(msg, TCA_ACT_COOKIE, sizeof(*cookie), cookie) < 0 ||
	    !(opts = nla_nest_start(msg, TCA_ACT_OPTIONS)) ||
	    nla_put(msg, TCA_MIRRED_PARMS, sizeof(p), &p) < 0)
		return -ENOMEM;
	nla_nest_end(msg, opts);
	nla_nest_end(msg, act);
	return 0;
}

int ifm_mirred_put(struct nl_msg *msg, int attrtype, int target_ifindex,
		   const struct ifm_cookie *cookie)
{
	return ifm_actions_put(msg, attrtype, NULL, target_ifindex, cookie);
}

/*
 * The police of a copy budget. Its rate table is required by the kernel
 * (qdisc_get_rtab) though the rate it polices by is the rate itself; the
 * burst goes as time (psched ticks of 64 ns) at that rate.
 */
int ifm_police_put(struct nl_msg *msg, int prio, const struct ifm_police *pol)
{
	struct tc_police p = { 0 };
	uint32_t rtab[256];
	struct nlattr *act, *opts;
	double tick_per_byte = pol->bps ? 1e9 / 64.0 / (double)pol->bps : 0;
	double burst = (double)pol->burst * tick_per_byte;

	p.index = pol->index;
	p.action = TC_ACT_UNSPEC;          /* exceed: skip the copy, classification goes on */
	p.mtu = pol->mtu;
	p.burst = burst > UINT32_MAX ? UINT32_MAX : (uint32_t)burst;
	if (pol->bps) {
		p.rate.rate = pol->bps > UINT32_MAX ? UINT32_MAX : (uint32_t)pol->bps;
		p.rate.cell_log = 3;
		p.rate.cell_align = -1;
		p.rate.linklayer = TC_LINKLAYER_ETHERNET;
	}
	for (int i = 0; i < 256; i++) {
		double t = (double)((i + 1) << 3) * tick_per_byte;

		rtab[i] = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
	}
	if (!(act = nla_nest_start(msg, prio)) ||
	    nla_put_string(msg, TCA_ACT_KIND, "police") < 0 ||
	    nla_put(msg, TCA_ACT_COOKIE, sizeof(pol->cookie), &pol->cookie) < 0 ||
	    !(opts = nla_nest_start(msg, TCA_ACT_OPTIONS)) ||
	    nla_put(msg, TCA_POLICE_TBF, sizeof(p), &p) < 0 ||
	    (pol->bps && nla_put(msg, TCA_POLICE_RATE, sizeof(rtab), rtab) < 0) ||
	    (pol->bps > UINT32_MAX && nla_put_u64(msg, TCA_POLICE_RATE64, pol->bps) < 0) ||
	    /* conform: on to the mirred */
	    nla_put_u32(msg, TCA_POLICE_RESULT, TC_ACT_PIPE) < 0)
		return -ENOMEM;
	nla_nest_end(msg, opts);
	nla_nest_end(msg, act);
	return 0;
}

int ifm_actions_put(struct nl_msg *msg, int attrtype, const struct ifm_police *pol,
		    int target_ifindex, const struct ifm_cookie *cookie)
{
	struct nlattr *list;
	struct ifm_police join;
	int prio = 1;

	/*
	 * A filter joins the budget's police by its index and changes nothing
	 * of it (bind: the kernel takes an existing one as it is). No rate goes
	 * with it: were it gone (it is not: the lock is held and it was just
	 * read), one without a rate would pass every copy, and none is dropped.
	 */
	if (pol) {
		join = *pol;
		join.bps = 0;
		join.burst = 0;
	}
	if (!(list = nla_nest_start(msg, attrtype)) ||
	    (pol && ifm_police_put(msg, prio++, &join) < 0) ||
	    mirred_one(msg, prio, target_ifindex, cookie) < 0)
		return -ENOMEM;
	nla_nest_end(msg, list);
	return 0;
}

static void parse_stats(struct nlattr *attr, struct ifm_action *a)
{
	struct nlattr *tb[TCA_STATS_MAX + 1];

	if (nla_parse_nested(tb, TCA_STATS_MAX, attr, NULL) < 0)
		return;
	if (tb[TCA_STATS_BASIC] && nla_len(tb[TCA_STATS_BASIC]) >= 12) {
		struct gnet_stats_basic b = { 0 };

		memcpy(&b, nla_data(tb[TCA_STATS_BASIC]),
		       (size_t)nla_len(tb[TCA_STATS_BASIC]) < sizeof(b)
			       ? (size_t)nla_len(tb[TCA_STATS_BASIC]) : sizeof(b));
		a->bytes = b.bytes;
		a->packets = b.packets;
	}
	if (tb[TCA_STATS_PKT64] && nla_len(tb[TCA_STATS_PKT64]) >= 8)
		a->packets = nla_get_u64(tb[TCA_STATS_PKT64]);
	if (tb[TCA_STATS_QUEUE] &&
	    (size_t)nla_len(tb[TCA_STATS_QUEUE]) >= sizeof(struct gnet_stats_queue)) {
		struct gnet_stats_queue q;

		memcpy(&q, nla_data(tb[TCA_STATS_QUEUE]), sizeof(q));
		a->drops = q.drops;
		a->overlimits = q.overlimits;
	}
}

static void parse_one(struct nlattr *attr, struct ifm_action *a)
{
	struct nlattr *tb[TCA_ACT_MAX + 1];

	memset(a, 0, sizeof(*a));
	if (nla_parse_nested(tb, TCA_ACT_MAX, attr, NULL) < 0 || !tb[TCA_ACT_KIND])
		return;
	if (tb[TCA_ACT_STATS])
		parse_stats(tb[TCA_ACT_STATS], a);
	if (tb[TCA_ACT_COOKIE] && nla_len(tb[TCA_ACT_COOKIE]) == sizeof(a->cookie)) {
		memcpy(&a->cookie, nla_data(tb[TCA_ACT_COOKIE]), sizeof(a->cookie));
		a->ours = ifm_cookie_is_ours(&a->cookie);
	}
	if (!strcmp(nla_get_string(tb[TCA_ACT_KIND]), "mirred") && tb[TCA_ACT_OPTIONS]) {
		struct nlattr *mt[TCA_MIRRED_MAX + 1];

		if (nla_parse_nested(mt, TCA_MIRRED_MAX, tb[TCA_ACT_OPTIONS], NULL) == 0 &&
		    mt[TCA_MIRRED_PARMS] &&
		    (size_t)nla_len(mt[TCA_MIRRED_PARMS]) >= sizeof(struct tc_mirred)) {
			struct tc_mirred p;

			memcpy(&p, nla_data(mt[TCA_MIRRED_PARMS]), sizeof(p));
			a->is_mirred = true;
			a->ifindex = (int)p.ifindex;
			a->eaction = p.eaction;
			a->control = p.action;
			a->index = p.index;
		}
	}
	/* parsed next to what builds it: ifm_police_put */
	if (!strcmp(nla_get_string(tb[TCA_ACT_KIND]), "police") && tb[TCA_ACT_OPTIONS]) {
		struct nlattr *pt[TCA_POLICE_MAX + 1];

		if (nla_parse_nested(pt, TCA_POLICE_MAX, tb[TCA_ACT_OPTIONS], NULL) == 0 &&
		    pt[TCA_POLICE_TBF] &&
		    (size_t)nla_len(pt[TCA_POLICE_TBF]) >= sizeof(struct tc_police)) {
			struct tc_police p;

			memcpy(&p, nla_data(pt[TCA_POLICE_TBF]), sizeof(p));
			a->is_police = true;
			a->index = p.index;
			a->control = p.action;
			a->police_bindcnt = (uint32_t)p.bindcnt;
			a->police_bps = pt[TCA_POLICE_RATE64] && nla_len(pt[TCA_POLICE_RATE64]) >= 8
					? nla_get_u64(pt[TCA_POLICE_RATE64]) : p.rate.rate;
			/* back from ticks of 64 ns at that rate, to the byte */
			if (a->police_bps)
				a->police_burst = (uint32_t)((double)p.burst * 64.0 *
							     (double)a->police_bps / 1e9 + 0.5);
		}
	}
}

int ifm_actions_parse(struct nlattr *acts, struct ifm_action *out, int max)
{
	struct nlattr *a;
	int rem, n = 0;

	nla_for_each_nested(a, acts, rem) {
		if (n >= max)
			break;
		parse_one(a, &out[n++]);
	}
	return n;
}

int ifm_mirred_set_cookie(struct ifm_nl *nl, const struct ifm_action *a,
			  const struct ifm_cookie *cookie)
{
	struct tcamsg t = { .tca_family = AF_UNSPEC };
	struct tc_mirred p = {
		.index = a->index,
		.action = a->control,
		.eaction = a->eaction,
		.ifindex = (__u32)a->ifindex,
	};
	struct nlattr *list, *act, *opts;
	struct nl_msg *msg;

	if (!a->is_mirred || !a->index || a->ifindex <= 0)
		return -EINVAL;
	msg = nlmsg_alloc_simple(RTM_NEWACTION, NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &t, sizeof(t), NLMSG_ALIGNTO) < 0 ||
	    !(list = nla_nest_start(msg, TCA_ACT_TAB)) ||
	    !(act = nla_nest_start(msg, 1)) ||
	    nla_put_string(msg, TCA_ACT_KIND, "mirred") < 0 ||
	    nla_put(msg, TCA_ACT_COOKIE, sizeof(*cookie), cookie) < 0 ||
	    !(opts = nla_nest_start(msg, TCA_ACT_OPTIONS)) ||
	    nla_put(msg, TCA_MIRRED_PARMS, sizeof(p), &p) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, opts);
	nla_nest_end(msg, act);
	nla_nest_end(msg, list);
	return ifm_nl_talk(nl, msg);
}
