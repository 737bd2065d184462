// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --rate/--burst: a copy budget on a collector bridge or a tunnel, the
 * devices ifmirror made and only copies pass. Three mechanisms, chosen in
 * this order for a new budget:
 *
 * police (where the kernel has act_police, probed; IFMIRROR_AVOID=police
 * treats it as missing): one police action per budgeted device, at index
 * IFM_POLICE_INDEX(its ifindex), with an ifmirror cookie naming the device.
 * It is made standalone here (it holds the rate and burst, as the tbf does
 * on the device) and every session's filter into the device joins it by
 * index before its mirred (ifm_actions_put), so all sessions draw from one
 * bucket. Conform: TC_ACT_PIPE, on to the mirred; exceed: TC_ACT_UNSPEC,
 * the mirred is skipped and classification goes on as after a copy. The
 * source's frame is never dropped or delayed; a copy over the budget is
 * never made. It goes when its device goes (collector/tunnel down, flush)
 * once no filter uses it any more; ifm_budget_gc removes the ones a kill -9
 * or a device removed under its sessions left behind. A police action
 * without our cookie, or at another index, is never touched.
 *
 * bucket (no act_police, but cls_bpf and eBPF: ifm_bucket_usable;
 * IFMIRROR_AVOID=bucket): an eBPF token bucket whose maps a holder filter on
 * the device's clsact egress keeps (bucket.c says how); every plain
 * session's filter into the device is a cls_bpf classifier drawing from it
 * (ifm_budget_join). Sessions that cannot draw from it (--match/--sample
 * ones, whose classifier is already a program, and sessions made before
 * it) get a shaper beside it at the same rate, said so: both hold the
 * budget for what passes them. A rate change writes the map, live; removing
 * it writes rate 0 and deletes the holder, under the sessions.
 *
 * shaper (elsewhere): a tbf root qdisc on the device; copies over the
 * budget are dropped there (tbf's drop counter: status's dropped_budget).
 * The qdisc's handle, IFM_BUDGET_MAJOR:, marks it as ifmirror's; its limit
 * (the queue, in bytes) is the burst, which is where status reads it back.
 * A root qdisc of somebody else on the device is never replaced. The qdisc
 * goes with the device (collector down, tunnel down, flush).
 *
 * A budget keeps the mechanism it was made with while it is there: police
 * can only be joined by filters made after it, so a budget added to a
 * device that sessions already mirror into is a shaper (said so), and one
 * that sessions use cannot be removed under them (refused: their filters
 * hold it; take them down first).
 */
#include "ifmirror.h"
#include "probe.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/pkt_cls.h>
#include <stdlib.h>
#include <unistd.h>
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

/* ---- police ---- */

static struct nl_msg *act_msg(int type, int flags, uint32_t index, struct nlattr **list)
{
	struct tcamsg t = { .tca_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
	struct nlattr *act;

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &t, sizeof(t), NLMSG_ALIGNTO) < 0 ||
	    !(*list = nla_nest_start(msg, TCA_ACT_TAB)))
		goto fail;
	if (index) {
		if (!(act = nla_nest_start(msg, 1)) ||
		    nla_put_string(msg, TCA_ACT_KIND, "police") < 0 ||
		    nla_put_u32(msg, TCA_ACT_INDEX, index) < 0)
			goto fail;
		nla_nest_end(msg, act);
		nla_nest_end(msg, *list);
	}
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

struct acts {
	struct ifm_action *a;
	size_t n, cap;
};

static int acts_cb(struct nlmsghdr *hdr, void *arg)
{
	struct acts *v = arg;
	struct nlattr *tb[TCA_ROOT_MAX + 1];
	struct ifm_action got[32];
	int n;

	/* the kernel answers a get or a dump of actions with the request's type */
	if ((hdr->nlmsg_type != RTM_NEWACTION && hdr->nlmsg_type != RTM_GETACTION) ||
	    nlmsg_parse(hdr, sizeof(struct tcamsg), tb, TCA_ROOT_MAX, NULL) < 0 || !tb[TCA_ACT_TAB])
		return 0;
	n = ifm_actions_parse(tb[TCA_ACT_TAB], got, 32);
	for (int i = 0; i < n; i++) {
		if (!got[i].is_police)
			continue;
		if (v->n == v->cap) {
			size_t cap = v->cap ? 2 * v->cap : 8;
			struct ifm_action *na = realloc(v->a, cap * sizeof(*na));

			if (!na)
				return -ENOMEM;
			v->a = na;
			v->cap = cap;
		}
		v->a[v->n++] = got[i];
	}
	return 0;
}

/* the police action at index: 1 and *a, 0 when there is none */
static int police_get(struct ifm_nl *nl, uint32_t index, struct ifm_action *a)
{
	struct nlattr *list;
	struct nl_msg *msg = act_msg(RTM_GETACTION, 0, index, &list);
	struct acts v = { 0 };
	int r;

	memset(a, 0, sizeof(*a));
	if (!msg)
		return -ENOMEM;
	r = ifm_nl_get(nl, msg, acts_cb, &v);
	if (r == 0 && v.n)
		*a = v.a[0];
	free(v.a);
	/* no such action, or no act_police at all */
	if (r == -ENOENT || r == -EINVAL || r == -EOPNOTSUPP)
		return 0;
	return r < 0 ? r : v.n > 0;
}

/* ours, at the index of the device its cookie names */
static bool police_ours(const struct ifm_action *a)
{
	return a->is_police && a->ours && a->index == IFM_POLICE_INDEX(a->cookie.dest_ifindex);
}

static bool police_of(const struct ifm_action *a, const struct ifm_link *dev)
{
	return police_ours(a) && a->cookie.dest_ifindex == (uint32_t)dev->ifindex &&
	       a->cookie.dest_hash == ifm_name_hash(dev->name);
}

static int police_del(struct ifm_nl *nl, uint32_t index)
{
	struct nlattr *list;

	return ifm_nl_talk(nl, act_msg(RTM_DELACTION, 0, index, &list));
}

/* police and the bucket take a packet whole or not at all (a shaper cuts a GSO
 * packet into its segments) */
static void gso_notice(const struct ifm_link *dev, unsigned int burst, const char *how)
{
	if (burst < IFM_BURST_GSO)
		ifm_notice("%s: %s never copies a packet longer than the burst, and a GSO "
			   "packet (a TCP sender's bulk data) is up to 64 KiB and more: %u bytes "
			   "may copy none of it; a burst of %uk or more lets it through",
			   dev->name, how, burst, IFM_BURST_GSO / 1024);
}

static void police_of_dev(const struct ifm_link *dev, unsigned long long bits,
			  unsigned int burst, struct ifm_police *p)
{
	memset(p, 0, sizeof(*p));
	p->index = IFM_POLICE_INDEX(dev->ifindex);
	p->bps = bits / 8;
	p->burst = burst;
	p->mtu = 65535; /* a frame (or GSO packet) larger than the burst never conforms anyway */
	ifm_cookie_make(&p->cookie, 0, dev);
}

static int police_write(struct ifm_nl *nl, const struct ifm_police *p, bool create)
{
	struct nlattr *list;
	struct nl_msg *msg = act_msg(RTM_NEWACTION, create ? NLM_F_CREATE | NLM_F_EXCL
							   : NLM_F_REPLACE, 0, &list);

	if (!msg)
		return -ENOMEM;
	if (ifm_police_put(msg, 1, p) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, list);
	return ifm_nl_talk(nl, msg);
}

/* sources with a session (a filter of ours) into ifindex */
static int sessions_into(struct ifm_nl *nl, int ifindex)
{
	struct ifm_link *links = NULL;
	size_t n = 0;
	int count = 0, r;

	if ((r = ifm_link_list(nl, &links, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct ifm_dev_tc t;

		if (links[i].ifindex == ifindex || ifm_dev_tc_scan(nl, links[i].ifindex, &t) < 0)
			continue;
		bool into = false;

		for (size_t j = 0; j < t.nf; j++)
			into |= ifm_filter_is_ours(&t.f[j]) && t.f[j].act.ifindex == ifindex;
		count += into;
		ifm_dev_tc_free(&t);
	}
	free(links);
	return count;
}

/* the police budget of dest, ifmirror's: 1 (and *p), 0 when none */
static int budget_police(struct ifm_nl *nl, const struct ifm_link *dest, struct ifm_police *p)
{
	struct ifm_action a;
	int r;

	if (dest->ifindex <= 0 || dest->ifindex > 0xffff)
		return 0;
	if ((r = police_get(nl, IFM_POLICE_INDEX(dest->ifindex), &a)) <= 0)
		return r;
	if (!police_of(&a, dest))
		return 0;
	police_of_dev(dest, a.police_bps * 8, a.police_burst, p);
	p->cookie = a.cookie;
	return 1;
}

/* ---- bucket (bucket.c) ---- */

/* the bucket of ifindex: 1 (its maps open in *k, *pref its holder's pref),
 * 0 when it has none */
static int bucket_of(struct ifm_nl *nl, int ifindex, struct ifm_bucket *k, uint16_t *pref)
{
	struct ifm_dev_tc t;
	int r = ifm_dev_tc_scan(nl, ifindex, &t);

	k->bucket_fd = k->cnt_fd = k->holder_fd = -1;
	if (r < 0)
		return r == -ENODEV ? 0 : r;
	r = 0;
	for (size_t i = 0; i < t.nf && r == 0; i++) {
		const struct ifm_filter *f = &t.f[i];

		if (f->hook_dir != IFM_DIR_EGRESS || f->block || !ifm_filter_is_budget_holder(f))
			continue;
		r = ifm_bucket_open(f->bpf_id, k);
		if (r == 0) {
			r = 1;
			if (pref)
				*pref = f->pref;
		} else if (r == -ENOENT) {
			r = 0; /* gone meanwhile, or not one of ours after all */
		}
	}
	ifm_dev_tc_free(&t);
	return r;
}

/* the shaper beside a bucket: made (or set) at the bucket's rate */
static int bucket_shaper(struct ifm_nl *nl, const struct ifm_link *dev,
			 const struct ifm_bucket_state *st, const char *why)
{
	struct root q;
	int r;

	if ((r = root_get(nl, dev->ifindex, &q)) < 0)
		return r;
	if (root_is_ours(&q) && q.bytes_per_s * 8 == st->bits && q.limit == st->burst)
		return 0;
	if (q.found && q.handle && !root_is_ours(&q)) {
		ifm_err("%s: %s; their copies could only be capped by a shaper on it, and it has "
			"a root qdisc of somebody else (%s %x:)", dev->name, why, q.kind,
			q.handle >> 16);
		return -EBUSY;
	}
	if ((r = tbf_put(nl, dev->ifindex, !root_is_ours(&q), st->bits, st->burst)) < 0) {
		ifm_err("%s: cannot set the shaper of its copy budget (tbf): %s", dev->name,
			ifm_nl_reason(nl, r));
		return r;
	}
	if (!root_is_ours(&q))
		ifm_info("%s: %s: a shaper on it caps their copies (tbf, at the same budget)",
			 dev->name, why);
	return 0;
}

int ifm_budget_join(struct ifm_nl *nl, const struct ifm_link *dest, bool plain, bool dry,
		    struct ifm_budget_join *j)
{
	struct ifm_bucket k;
	struct ifm_bucket_state st;
	char log[256];
	int r;

	*j = IFM_BUDGET_JOIN_NONE;
	if ((r = budget_police(nl, dest, &j->pol)) != 0) {
		j->has_police = r > 0;
		return r < 0 ? r : 0;
	}
	if ((r = bucket_of(nl, dest->ifindex, &k, NULL)) <= 0)
		return r;
	if ((r = ifm_bucket_read(&k, &st)) == 0 && st.bits) {
		if (plain) {
			r = j->bucket_fd = ifm_bucket_program(&k, log, sizeof(log));
			if (r < 0)
				ifm_err("%s: cannot load the program of its copy budget: %s%s%.200s",
					dest->name, strerror(-r), log[0] ? ": " : "", log);
		} else if (!dry) {
			r = bucket_shaper(nl, dest, &st, "--match and --sample sessions cannot "
				"draw from its copy budget's bucket (eBPF)");
		}
	}
	ifm_bucket_close(&k);
	return r < 0 ? r : 0;
}

void ifm_budget_join_release(struct ifm_budget_join *j)
{
	if (j->bucket_fd >= 0)
		close(j->bucket_fd);
	j->bucket_fd = -1;
}

/* ifmirror's police actions now (one dump) */
static int police_dump(struct ifm_nl *nl, struct acts *v)
{
	struct nlattr *list, *act;
	struct nl_msg *msg = act_msg(RTM_GETACTION, NLM_F_DUMP, 0, &list);
	int r;

	memset(v, 0, sizeof(*v));
	if (!msg)
		return -ENOMEM;
	if (!(act = nla_nest_start(msg, 1)) || nla_put_string(msg, TCA_ACT_KIND, "police") < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, act);
	nla_nest_end(msg, list);
	r = ifm_nl_dump(nl, msg, acts_cb, v);
	if (r == -ENOENT || r == -EINVAL || r == -EOPNOTSUPP)
		r = 0; /* no act_police: nothing of ours can be there */
	return r;
}

int ifm_budget_gc(struct ifm_nl *nl, const struct ifm_budget_release *rel, size_t nrel,
		  bool all)
{
	struct ifm_link *links = NULL;
	size_t n = 0;
	int r = 0;

	/* 100 rounds of 10 ms: the kernel's release is usually done in the first */
	for (int round = 0; r == 0 && round < 100; round++) {
		struct acts v;
		bool wait = false;

		if (round)
			usleep(10000);
		if ((r = police_dump(nl, &v)) < 0)
			break;
		if (v.n && !links && (r = ifm_link_list(nl, &links, &n)) < 0) {
			free(v.a);
			break;
		}
		for (size_t i = 0; i < v.n; i++) {
			const struct ifm_action *a = &v.a[i];
			bool there = false;

			if (!police_ours(a))
				continue; /* somebody else's */
			for (size_t j = 0; j < n && !there; j++)
				there = police_of(a, &links[j]);
			if (there)
				continue;
			if (!a->police_bindcnt) {
				police_del(nl, a->index);
				continue;
			}
			/* held: by filters of sessions into the device gone (they
			 * take it when the last of them goes), or by filters just
			 * removed that the kernel has not let go of yet */
			wait |= all;
			for (size_t k = 0; k < nrel; k++)
				wait |= rel[k].index == a->index && a->police_bindcnt > rel[k].bound;
		}
		free(v.a);
		if (!wait)
			break;
	}
	free(links);
	return r;
}

static bool police_usable(struct ifm_nl *nl, const struct ifm_link *dev)
{
	struct ifm_probe res;

	if (dev->ifindex > 0xffff || ifm_avoid("police"))
		return false;
	return ifm_probe_kernel(nl, &res) == 0 && ifm_probe_usable(&res, IFM_P_POLICE);
}

static void police_state(const struct ifm_action *a, struct ifm_budget_state *out)
{
	out->how = "police";
	out->bits = a->police_bps * 8;
	out->burst = a->police_burst;
	/*
	 * The copies over the budget: the police's overlimits. An exceeding
	 * copy is not dropped by it (exceed is "continue": the mirred is
	 * skipped, the source's frame goes on), so its drop counter stays 0;
	 * overlimits counts every frame that found the bucket empty, which is
	 * exactly a copy not made. Its packets are every frame that reached
	 * it, conforming or not: those that passed are the difference.
	 */
	out->dropped = a->overlimits;
	out->packets = a->packets > a->overlimits ? a->packets - a->overlimits : 0;
	out->bytes = 0; /* the police counts the bytes of all, not of those that passed */
}

int ifm_budget_get(struct ifm_nl *nl, int ifindex, struct ifm_budget_state *out)
{
	struct ifm_bucket k;
	struct ifm_action a;
	struct root q;
	int r;

	memset(out, 0, sizeof(*out));
	if (ifindex > 0 && ifindex <= 0xffff &&
	    police_get(nl, IFM_POLICE_INDEX(ifindex), &a) > 0 && police_ours(&a) &&
	    a.cookie.dest_ifindex == (uint32_t)ifindex) {
		police_state(&a, out);
		return 0;
	}
	if ((r = root_get(nl, ifindex, &q)) < 0)
		return r;
	if ((r = bucket_of(nl, ifindex, &k, NULL)) < 0)
		return r;
	if (r > 0) {
		struct ifm_bucket_state st;

		r = ifm_bucket_read(&k, &st);
		ifm_bucket_close(&k);
		if (r < 0 || !st.bits)
			return r; /* rate 0: being removed */
		out->how = "bucket";
		out->bits = st.bits;
		out->burst = st.burst;
		out->not_made = out->dropped = st.not_made;
		out->packets = st.packets;
		out->bytes = st.bytes;
		if (root_is_ours(&q)) {
			/* every copy into the device passes its tbf */
			out->shaper_too = true;
			out->dropped += q.drops;
			out->packets = q.packets;
			out->bytes = q.bytes;
		}
		return 0;
	}
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

/* the police budget of dev: set (bits), or removed (bits 0) */
static int police_set(struct ifm_nl *nl, const struct ifm_link *dev, const struct ifm_action *a,
		      bool exists, unsigned long long bits, unsigned int burst)
{
	struct ifm_police p;
	char rate[32];
	int r;

	if (!bits) {
		r = police_del(nl, a->index);
		if (r == -EPERM) {
			ifm_err("%s: its copy budget (police) is held by %u mirror filter%s of "
				"sessions into it; take them down first (ifmirror down), then remove it",
				dev->name, a->police_bindcnt, a->police_bindcnt == 1 ? "" : "s");
			return -EBUSY;
		}
		if (r < 0 && r != -ENOENT) {
			ifm_err("%s: cannot remove the copy budget (police): %s", dev->name,
				ifm_nl_reason(nl, r));
			return r;
		}
		ifm_info("%s: copy budget removed", dev->name);
		return 0;
	}
	/* what the kernel will tell back: whole bytes per second, the burst as
	 * it comes back from its time at that rate */
	police_of_dev(dev, bits, burst, &p);
	if (exists && a->police_bps == p.bps &&
	    (a->police_burst == burst || a->police_burst + 1 == burst || a->police_burst == burst + 1))
		return 0;
	rate_text(bits, rate, sizeof(rate));
	r = police_write(nl, &p, !exists);
	if (r < 0) {
		ifm_err("%s: cannot set the copy budget (police): %s", dev->name,
			ifm_nl_reason(nl, r));
		return r;
	}
	ifm_info("%s: copies into it are capped at %s (burst %u bytes); those over it are "
		 "not made (police)", dev->name, rate, burst);
	gso_notice(dev, burst, "police");
	return 0;
}

/* a new bucket budget on dev (no budget there now) */
static int bucket_create(struct ifm_nl *nl, const struct ifm_link *dev, unsigned long long bits,
			 unsigned int burst, int sessions)
{
	struct ifm_bucket k = { -1, -1, -1 };
	struct ifm_dev_tc t;
	bool created = false;
	char log[256], rate[32];
	int r;

	if ((r = ifm_dev_tc_scan(nl, dev->ifindex, &t)) < 0) {
		ifm_err("%s: cannot read tc state: %s", dev->name, ifm_nl_reason(nl, r));
		return r;
	}
	if ((r = ifm_egress_clsact(nl, dev, &t, "a copy budget's bucket", &created)) < 0)
		goto out;
	if ((r = ifm_bucket_new(bits, burst, &k, log, sizeof(log))) < 0) {
		ifm_err("%s: cannot load the program of its copy budget: %s%s%.200s", dev->name,
			strerror(-r), log[0] ? ": " : "", log);
		goto undo;
	}
	/* one request: a kill before it leaves nothing (the maps go with this
	 * process), one after it a whole budget */
	r = ifm_egress_prog_attach(nl, dev->ifindex, ifm_pref_free(&t), k.holder_fd,
				   IFM_MARK_BUDGET_HOLDER);
	if (r < 0) {
		ifm_err("%s: cannot attach its copy budget's bucket: %s", dev->name,
			ifm_nl_reason(nl, r));
		goto undo;
	}
	rate_text(bits, rate, sizeof(rate));
	ifm_info("%s: copies into it are capped at %s (burst %u bytes); those over it are "
		 "not made (bucket)", dev->name, rate, burst);
	gso_notice(dev, burst, "the bucket");
	if (sessions > 0) {
		struct ifm_bucket_state st = { .bits = bits, .burst = burst };
		char why[96];

		snprintf(why, sizeof(why), "%d source%s mirror%s into it already, without the "
			 "bucket", sessions, sessions == 1 ? "" : "s", sessions == 1 ? "s" : "");
		r = bucket_shaper(nl, dev, &st, why);
	}
	goto out;
undo:
	ifm_egress_clsact_undo(nl, dev, created);
out:
	ifm_bucket_close(&k);
	ifm_dev_tc_free(&t);
	return r;
}

/* the bucket budget of dev (its maps k, holder at pref): set, or removed
 * (bits 0: copies pass from now, then the holder goes) */
static int bucket_change(struct ifm_nl *nl, const struct ifm_link *dev, const struct ifm_bucket *k,
			 uint16_t pref, unsigned long long bits, unsigned int burst, bool shaper)
{
	struct ifm_bucket_state st;
	char rate[32];
	int r;

	if ((r = ifm_bucket_read(k, &st)) < 0)
		return r;
	if (bits && st.bits == bits && st.burst == burst)
		return shaper ? bucket_shaper(nl, dev, &st, "") : 0;
	if ((r = ifm_bucket_set(k, bits, burst)) < 0) {
		ifm_err("%s: cannot set its copy budget (bucket): %s", dev->name, strerror(-r));
		return r;
	}
	if (!bits) {
		r = ifm_filter_del_pref(nl, dev->ifindex, ifm_hook_clsact.parent(IFM_DIR_EGRESS), pref);
		if (r < 0 && r != -ENOENT) {
			ifm_err("%s: cannot remove its copy budget's bucket: %s", dev->name,
				ifm_nl_reason(nl, r));
			return r;
		}
		ifm_hooks_tidy(nl, dev->ifindex);
		if (!shaper)
			ifm_info("%s: copy budget removed", dev->name);
		return 0;
	}
	st.bits = bits;
	st.burst = burst;
	if (shaper && (r = bucket_shaper(nl, dev, &st, "")) < 0)
		return r;
	rate_text(bits, rate, sizeof(rate));
	ifm_info("%s: copies into it are capped at %s (burst %u bytes); those over it are "
		 "not made (bucket)", dev->name, rate, burst);
	gso_notice(dev, burst, "the bucket");
	return 0;
}

int ifm_budget_set(struct ifm_nl *nl, const struct ifm_link *dev, unsigned long long bits,
		   unsigned int burst)
{
	struct ifm_action a = { 0 };
	struct ifm_bucket k;
	bool police = false, shaper, bucket;
	uint16_t pref = 0;
	struct root q;
	char rate[32];
	int r, n;

	if ((r = root_get(nl, dev->ifindex, &q)) < 0) {
		ifm_err("%s: cannot read its root qdisc: %s", dev->name, ifm_nl_reason(nl, r));
		return r;
	}
	shaper = root_is_ours(&q);
	if (dev->ifindex <= 0xffff) {
		if ((r = police_get(nl, IFM_POLICE_INDEX(dev->ifindex), &a)) < 0) {
			ifm_err("%s: cannot read the police action of its budget: %s", dev->name,
				ifm_nl_reason(nl, r));
			return r;
		}
		police = r > 0 && police_of(&a, dev);
	}
	if ((r = bucket_of(nl, dev->ifindex, &k, &pref)) < 0) {
		ifm_err("%s: cannot read the bucket of its budget: %s", dev->name, strerror(-r));
		return r;
	}
	bucket = r > 0;
	if (bits) {
		if (!burst)
			burst = ifm_burst_default(bits);
		/* none lets a frame larger than the burst pass */
		if (burst < dev->mtu + 14) {
			ifm_err("%s: --burst %u is less than one whole frame of it (MTU %u + 14): "
				"such copies would all be dropped", dev->name, burst, dev->mtu);
			if (bucket)
				ifm_bucket_close(&k);
			return -EINVAL;
		}
		/* bits are kept as bytes per second: what the kernel can tell back */
		bits -= bits % 8;
	}
	if (bucket) {
		r = bucket_change(nl, dev, &k, pref, bits, burst, shaper);
		ifm_bucket_close(&k);
		if (r < 0 || bits)
			return r;
		/* removed: its shaper, if it had one, below */
	}
	if (!bits) {
		if (police && (r = police_set(nl, dev, &a, true, 0, 0)) < 0)
			return r;
		if (!shaper)
			return 0; /* none, or somebody else's: left alone */
		r = ifm_nl_talk(nl, qmsg(RTM_DELQDISC, 0, dev->ifindex, NULL));
		if (r < 0 && r != -ENOENT) {
			ifm_err("%s: cannot remove the copy budget: %s", dev->name,
				ifm_nl_reason(nl, r));
			return r;
		}
		if (!police)
			ifm_info("%s: copy budget removed", dev->name);
		return 0;
	}
	/* a budget keeps its mechanism; a new one is police where it can be */
	if (police)
		return police_set(nl, dev, &a, true, bits, burst);
	if (!shaper && police_usable(nl, dev)) {
		struct ifm_action other;

		if ((r = police_get(nl, IFM_POLICE_INDEX(dev->ifindex), &other)) < 0)
			return r;
		if (r > 0 && police_ours(&other) && !other.police_bindcnt) {
			/* ours, of a device gone that had this ifindex's index */
			police_del(nl, other.index);
			r = 0;
		}
		if (r > 0) {
			ifm_info("%s: the police action index %u is somebody else's (or in use); "
				 "the copy budget is a shaper", dev->name, other.index);
		} else if ((n = sessions_into(nl, dev->ifindex)) > 0) {
			ifm_info("%s: %d source%s mirror%s into it already, without the budget: "
				 "the copy budget is a shaper (police takes only sessions made "
				 "after it)", dev->name, n, n == 1 ? "" : "s", n == 1 ? "s" : "");
		} else if (n < 0) {
			return n;
		} else {
			return police_set(nl, dev, &a, false, bits, burst);
		}
	} else if (!shaper && ifm_bucket_usable()) {
		if ((n = sessions_into(nl, dev->ifindex)) < 0)
			return n;
		if (!n || !q.found || !q.handle)
			return bucket_create(nl, dev, bits, burst, n);
		/* their copies would need a shaper, and the root is somebody else's */
	}
	if (q.found && q.handle && !shaper) {
		ifm_err("%s: has a root qdisc of somebody else (%s %x:); not replacing it with "
			"the copy budget", dev->name, q.kind, q.handle >> 16);
		return -EBUSY;
	}
	if (shaper && q.bytes_per_s * 8 == bits && q.limit == burst)
		return 0;
	rate_text(bits, rate, sizeof(rate));
	r = tbf_put(nl, dev->ifindex, !shaper, bits, burst);
	if (r < 0) {
		ifm_err("%s: cannot set the copy budget (tbf): %s", dev->name, ifm_nl_reason(nl, r));
		return r;
	}
	ifm_info("%s: copies into it are capped at %s (burst %u bytes); those over it are "
		 "dropped", dev->name, rate, burst);
	return 0;
}
