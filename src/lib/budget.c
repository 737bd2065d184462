// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --rate/--burst: a copy budget on a collector bridge or a tunnel, the
 * devices ifmirror made and only copies pass. What all copies into the
 * device may use together is capped by a tbf root qdisc on it; copies over
 * the budget are dropped there (tbf's drop counter: status's
 * dropped_budget). The source's own frames never pass the device, so the
 * budget never slows, delays or drops them.
 *
 * The qdisc's handle, IFM_BUDGET_MAJOR:, marks it as ifmirror's; its limit
 * (the queue, in bytes) is the burst, which is where status reads it back.
 * A root qdisc of somebody else on the device is never replaced. The qdisc
 * goes with the device (collector down, tunnel down, flush).
 *
 * Not done: act_police on the mirror filters (the brief's first choice on
 * kernels that have it); the shaper is used on every kernel.
 */
#include "ifmirror.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#define BUDGET_HANDLE (IFM_BUDGET_MAJOR << 16)

/* a message about the root qdisc: the budget's handle but to get one */
static struct nl_msg *qmsg(int type, int flags, int ifindex, const char *kind)
{
	return ifm_qdisc_msg(type, flags, ifindex, TC_H_ROOT,
			     type == RTM_GETQDISC ? 0 : BUDGET_HANDLE, kind);
}

struct root {
	int ifindex;
	bool found;
	char kind[16];
	uint32_t handle;
	uint64_t bytes_per_s;
	uint32_t limit;
	uint64_t drops, packets, bytes;
};

static int root_cb(struct nlmsghdr *hdr, void *arg)
{
	struct root *q = arg;
	struct tcmsg *tcm = nlmsg_data(hdr);
	struct nlattr *tb[TCA_MAX + 1], *o[TCA_TBF_MAX + 1], *st[TCA_STATS_MAX + 1];

	if (hdr->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex != q->ifindex ||
	    tcm->tcm_parent != TC_H_ROOT)
		return 0;
	if (nlmsg_parse(hdr, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 || !tb[TCA_KIND])
		return 0;
	q->found = true;
	q->handle = tcm->tcm_handle;
	strncpy(q->kind, nla_get_string(tb[TCA_KIND]), sizeof(q->kind) - 1);
	if (!strcmp(q->kind, "tbf") && tb[TCA_OPTIONS] &&
	    nla_parse_nested(o, TCA_TBF_MAX, tb[TCA_OPTIONS], NULL) == 0 && o[TCA_TBF_PARMS] &&
	    nla_len(o[TCA_TBF_PARMS]) >= (int)sizeof(struct tc_tbf_qopt)) {
		const struct tc_tbf_qopt *p = nla_data(o[TCA_TBF_PARMS]);

		q->bytes_per_s = o[TCA_TBF_RATE64] ? nla_get_u64(o[TCA_TBF_RATE64]) : p->rate.rate;
		q->limit = p->limit;
	}
	if (tb[TCA_STATS2] && nla_parse_nested(st, TCA_STATS_MAX, tb[TCA_STATS2], NULL) == 0) {
		if (st[TCA_STATS_QUEUE] &&
		    nla_len(st[TCA_STATS_QUEUE]) >= (int)sizeof(struct gnet_stats_queue))
			q->drops = ((const struct gnet_stats_queue *)nla_data(st[TCA_STATS_QUEUE]))->drops;
		if (st[TCA_STATS_BASIC] &&
		    nla_len(st[TCA_STATS_BASIC]) >= (int)sizeof(struct gnet_stats_basic)) {
			const struct gnet_stats_basic *b = nla_data(st[TCA_STATS_BASIC]);

			q->packets = b->packets;
			q->bytes = b->bytes;
		}
	}
	return 0;
}

static int root_get(struct ifm_nl *nl, int ifindex, struct root *q)
{
	/* the kernel answers a qdisc get only to requests that ask for an echo */
	struct nl_msg *msg = qmsg(RTM_GETQDISC, NLM_F_ECHO, ifindex, NULL);
	int r;

	memset(q, 0, sizeof(*q));
	q->ifindex = ifindex;
	if (!msg)
		return -ENOMEM;
	r = ifm_nl_get(nl, msg, root_cb, q);
	return r == -ENOENT || r == -EINVAL ? 0 : r;
}

static bool root_is_ours(const struct root *q)
{
	return q->found && q->handle == BUDGET_HANDLE && !strcmp(q->kind, "tbf");
}

int ifm_budget_get(struct ifm_nl *nl, int ifindex, struct ifm_budget_state *out)
{
	struct root q;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = root_get(nl, ifindex, &q)) < 0)
		return r;
	if (!root_is_ours(&q))
		return 0;
	out->how = "shaper";
	out->bits = q.bytes_per_s * 8;
	out->burst = q.limit;
	out->dropped = q.drops;
	out->packets = q.packets;
	out->bytes = q.bytes;
	return 0;
}

static int tbf_put(struct ifm_nl *nl, int ifindex, bool create, unsigned long long bits,
		   unsigned int burst)
{
	struct nl_msg *msg = qmsg(RTM_NEWQDISC, create ? NLM_F_CREATE | NLM_F_EXCL : 0, ifindex,
				  "tbf");
	uint64_t bps = bits / 8;
	struct tc_tbf_qopt p = { 0 };
	struct nlattr *o;

	if (!msg)
		return -ENOMEM;
	p.rate.linklayer = TC_LINKLAYER_ETHERNET; /* no rate table needed */
	p.rate.rate = bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
	p.limit = burst; /* a queue of one burst: more waiting is dropped */
	if (!(o = nla_nest_start(msg, TCA_OPTIONS)) ||
	    nla_put(msg, TCA_TBF_PARMS, sizeof(p), &p) < 0 ||
	    (bps > UINT32_MAX && nla_put_u64(msg, TCA_TBF_RATE64, bps) < 0) ||
	    nla_put_u32(msg, TCA_TBF_BURST, burst) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, o);
	return ifm_nl_talk(nl, msg);
}

static void rate_text(unsigned long long bits, char *buf, size_t len)
{
	if (bits % 1000000000ULL == 0)
		snprintf(buf, len, "%llugbit", bits / 1000000000ULL);
	else if (bits % 1000000ULL == 0)
		snprintf(buf, len, "%llumbit", bits / 1000000ULL);
	else if (bits % 1000ULL == 0)
		snprintf(buf, len, "%llukbit", bits / 1000ULL);
	else
		snprintf(buf, len, "%llubit", bits);
}

int ifm_budget_set(struct ifm_nl *nl, const struct ifm_link *dev, unsigned long long bits,
		   unsigned int burst)
{
	struct root q;
	char rate[32];
	int r;

	if ((r = root_get(nl, dev->ifindex, &q)) < 0) {
		ifm_err("%s: cannot read its root qdisc: %s", dev->name, ifm_nl_reason(nl, r));
		return r;
	}
	if (!bits) {
		if (!root_is_ours(&q))
			return 0; /* none, or somebody else's: left alone */
		r = ifm_nl_talk(nl, qmsg(RTM_DELQDISC, 0, dev->ifindex, NULL));
		if (r < 0 && r != -ENOENT) {
			ifm_err("%s: cannot remove the copy budget: %s", dev->name,
				ifm_nl_reason(nl, r));
			return r;
		}
		ifm_info("%s: copy budget removed", dev->name);
		return 0;
	}
	if (!burst)
		burst = ifm_burst_default(bits);
	/* tbf never lets a frame larger than the burst pass */
	if (burst < dev->mtu + 14) {
		ifm_err("%s: --burst %u is less than one whole frame of it (MTU %u + 14): such "
			"copies would all be dropped", dev->name, burst, dev->mtu);
		return -EINVAL;
	}
	/* bits are kept as bytes per second: what the kernel can tell back */
	bits -= bits % 8;
	if (q.found && q.handle && !root_is_ours(&q)) {
		ifm_err("%s: has a root qdisc of somebody else (%s %x:); not replacing it with "
			"the copy budget", dev->name, q.kind, q.handle >> 16);
		return -EBUSY;
	}
	if (root_is_ours(&q) && q.bytes_per_s * 8 == bits && q.limit == burst)
		return 0;
	rate_text(bits, rate, sizeof(rate));
	r = tbf_put(nl, dev->ifindex, !root_is_ours(&q), bits, burst);
	if (r < 0) {
		ifm_err("%s: cannot set the copy budget (tbf): %s", dev->name, ifm_nl_reason(nl, r));
		return r;
	}
	ifm_info("%s: copies into it are capped at %s (burst %u bytes); those over it are "
		 "dropped", dev->name, rate, burst);
	return 0;
}
