// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The filters on a device's hooks, ifmirror's and everybody else's, and the
 * primitives that add and remove one mirror filter.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

/* Where common classifiers keep their actions, to follow foreign mirrors too. */
static int act_attr_of(const char *kind, int *max)
{
	static const struct { const char *kind; int act, max; } t[] = {
		{ "matchall", TCA_MATCHALL_ACT, TCA_MATCHALL_MAX },
		{ "u32", TCA_U32_ACT, TCA_U32_MAX },
		{ "flower", TCA_FLOWER_ACT, TCA_FLOWER_MAX },
		{ "bpf", TCA_BPF_ACT, TCA_BPF_MAX },
		{ "basic", TCA_BASIC_ACT, TCA_BASIC_MAX },
		{ "fw", TCA_FW_ACT, TCA_FW_MAX },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(kind, t[i].kind)) {
			*max = t[i].max;
			return t[i].act;
		}
	}
	return -1;
}

struct fscan {
	struct ifm_dev_tc *t;
	enum ifm_dir dir;
	uint32_t parent;
	uint32_t block;
};

static int append(struct ifm_dev_tc *t, const struct ifm_filter *f)
{
	if (t->nf == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ifm_filter *nf = realloc(t->f, cap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		t->f = nf;
		t->cap = cap;
	}
	t->f[t->nf++] = *f;
	return 0;
}

static int filter_cb(struct nlmsghdr *hdr, void *arg)
{
	struct fscan *s = arg;
	struct ifm_dev_tc *t = s->t;
	struct tcmsg *tcm = nlmsg_data(hdr);
	struct nlattr *tb[TCA_MAX + 1];
	struct ifm_filter *f;
	int act, max;

	if (hdr->nlmsg_type != RTM_NEWTFILTER)
		return 0;
	if (nlmsg_parse(hdr, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 || !tb[TCA_KIND])
		return 0;
	if (append(t, &(struct ifm_filter){ 0 }) < 0)
		return -ENOMEM;
	f = &t->f[t->nf - 1];
	f->hook_dir = s->dir;
	f->parent = s->parent;
	f->block = s->block;
	f->sample = 1;
	f->pref = (uint16_t)(TC_H_MAJ(tcm->tcm_info) >> 16);
	f->handle = tcm->tcm_handle;
	strncpy(f->kind, nla_get_string(tb[TCA_KIND]), sizeof(f->kind) - 1);

	act = act_attr_of(f->kind, &max);
	if (act > 0 && tb[TCA_OPTIONS]) {
		struct nlattr *ot[max + 1];
		struct ifm_action acts[8];
		int n;

		if (nla_parse_nested(ot, max, tb[TCA_OPTIONS], NULL) < 0)
			return 0;
		if (!strcmp(f->kind, "bpf")) {
			if (ot[TCA_BPF_OPS] && ot[TCA_BPF_OPS_LEN]) {
				const struct sock_filter *ops = nla_data(ot[TCA_BPF_OPS]);

				f->prog_len = nla_get_u16(ot[TCA_BPF_OPS_LEN]);
				if ((size_t)nla_len(ot[TCA_BPF_OPS]) < f->prog_len * sizeof(*ops))
					f->prog_len = 0;
				f->prog_hash = ifm_match_hash(ops, f->prog_len);
				f->sample = ifm_match_sample_of(ops, f->prog_len);
			}
			if (ot[TCA_BPF_NAME])
				snprintf(f->bpf_name, sizeof(f->bpf_name), "%s",
					 nla_get_string(ot[TCA_BPF_NAME]));
			if (ot[TCA_BPF_ID])
				f->bpf_id = nla_get_u32(ot[TCA_BPF_ID]);
		}
		if (ot[act]) {
			n = ifm_actions_parse(ot[act], acts, 8);
			for (int i = 0; i < n; i++) {
				/* a copy budget's police before the mirred: ifm_actions_put */
				if (acts[i].is_police && !f->has_police) {
					f->police = acts[i];
					f->has_police = true;
				}
				if (!f->has_action || (acts[i].is_mirred && !f->act.is_mirred)) {
					f->act = acts[i];
					f->has_action = true;
				}
			}
		}
	}
	return 0;
}

/* the filters of a hook: the device's own block, or the shared block it
 * hangs on (asked by its index: the same answer, and one dump serves all) */
static int dump_filters(struct ifm_nl *nl, struct ifm_dev_tc *t, enum ifm_dir dir,
			uint32_t parent, uint32_t block)
{
	struct {
		struct nlmsghdr h;
		struct tcmsg tcm;
	} req;
	struct fscan s = { .t = t, .dir = dir, .parent = parent, .block = block };
	size_t before = t->nf;
	int r = -EINTR;

	for (int i = 0; r == -EINTR; i++) {
		memset(&req, 0, sizeof(req));
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.tcm));
		req.h.nlmsg_type = RTM_GETTFILTER;
		req.h.nlmsg_flags = NLM_F_DUMP;
		req.tcm.tcm_family = AF_UNSPEC;
		req.tcm.tcm_ifindex = block ? (int)TCM_IFINDEX_MAGIC_BLOCK : t->ifindex;
		req.tcm.tcm_parent = block ? block : parent;
		t->nf = before;   /* an inconsistent dump's filters go */
		r = ifm_nl_dump_raw(nl, &req.h, filter_cb, &s);
		if (r == -EINTR && i + 1 == IFM_DUMP_TRIES)
			r = 0;   /* as ifm_link_list */
	}
	return r;
}

static const struct ifm_dev_tc *blocks_get(const struct ifm_blocks *cache, uint32_t block)
{
	for (size_t i = 0; i < cache->n; i++)
		if (cache->b[i].block == block)
			return &cache->b[i].t;
	return NULL;
}

/* copies of a shared block's filters on t (hook dir), the block dumped once
 * per cache (NULL: a cache for this call only) */
static int block_copies(struct ifm_nl *nl, struct ifm_dev_tc *t, enum ifm_dir dir,
			uint32_t parent, uint32_t block, struct ifm_blocks *cache)
{
	struct ifm_blocks own = { 0 };
	const struct ifm_dev_tc *b;
	int r = 0;

	if (!cache)
		cache = &own;
	if (!(b = blocks_get(cache, block))) {
		struct ifm_dev_tc *nt;

		if (cache->n == cache->cap) {
			size_t cap = cache->cap ? cache->cap * 2 : 4;
			struct ifm_block_filters *nb = realloc(cache->b, cap * sizeof(*nb));

			if (!nb)
				return -ENOMEM;
			cache->b = nb;
			cache->cap = cap;
		}
		nt = &cache->b[cache->n].t;
		memset(nt, 0, sizeof(*nt));
		if ((r = dump_filters(nl, nt, dir, parent, block)) < 0) {
			ifm_dev_tc_free(nt);
			return r;
		}
		cache->b[cache->n++].block = block;
		b = nt;
	}
	for (size_t i = 0; i < b->nf && r == 0; i++) {
		struct ifm_filter f = b->f[i];

		f.hook_dir = dir;
		f.parent = parent;
		r = append(t, &f);
	}
	ifm_blocks_free(&own);
	return r;
}

int ifm_block_scan(struct ifm_nl *nl, uint32_t block, enum ifm_dir dir, struct ifm_dev_tc *t)
{
	memset(t, 0, sizeof(*t));
	t->ifindex = (int)TCM_IFINDEX_MAGIC_BLOCK;
	return dump_filters(nl, t, dir, block, block);
}

void ifm_blocks_free(struct ifm_blocks *cache)
{
	for (size_t i = 0; i < cache->n; i++)
		ifm_dev_tc_free(&cache->b[i].t);
	free(cache->b);
	free(cache->scratch);
	*cache = (struct ifm_blocks){ .keep = cache->keep };
}

int ifm_dev_tc_scan(struct ifm_nl *nl, int ifindex, struct ifm_dev_tc *t)
{
	struct ifm_qdiscs q;
	int r = ifm_qdiscs_scan(nl, ifindex, &q);

	if (r < 0) {
		memset(t, 0, sizeof(*t));
		return r;
	}
	return ifm_dev_tc_scan_known(nl, ifindex, &q, t);
}

int ifm_dev_tc_scan_known(struct ifm_nl *nl, int ifindex, const struct ifm_qdiscs *q,
			  struct ifm_dev_tc *t)
{
	return ifm_dev_tc_scan_blocks(nl, ifindex, q, t, NULL);
}

/*
 * A view holds every device's filters at once. Doubling from a fresh array
 * per device left a third of the slots unused (1 000 u32 sources: 4.7 MB for
 * 2.9 MB of filters), and memory touched first costs a page fault each page
 * (about 18 us under this lane's hypervisor, a third of `status`'s time).
 * So the filters are read into the cache's scratch array and kept in one of
 * their size: the scratch is reused by the next device; with cache->keep,
 * only those it keeps (status: 2 of a u32 source's 10). r: the scan's result.
 */
static bool kept(const struct ifm_blocks *cache, const struct ifm_filter *f)
{
	return !cache->keep || cache->keep(f);
}

static int keep_exact(struct ifm_dev_tc *t, struct ifm_blocks *cache, int r)
{
	struct ifm_filter *f = NULL;
	size_t n = 0;

	cache->scratch = t->f;
	cache->scratch_cap = t->cap;
	for (size_t i = 0; r == 0 && i < t->nf; i++)
		n += kept(cache, &t->f[i]);
	if (r == 0 && n && !(f = malloc(n * sizeof(*f))))
		r = -ENOMEM;
	for (size_t i = 0, k = 0; f && i < t->nf; i++)
		if (kept(cache, &t->f[i]))
			f[k++] = t->f[i];
	t->f = f;
	t->cap = t->nf = f ? n : 0;
	return r;
}

int ifm_dev_tc_scan_blocks(struct ifm_nl *nl, int ifindex, const struct ifm_qdiscs *q,
			   struct ifm_dev_tc *t, struct ifm_blocks *cache)
{
	static const enum ifm_dir dirs[] = { IFM_DIR_INGRESS, IFM_DIR_EGRESS };
	int r = 0;

	memset(t, 0, sizeof(*t));
	t->ifindex = ifindex;
	t->q = *q;
	if (cache) {
		t->f = cache->scratch;
		t->cap = cache->scratch_cap;
	}
	for (size_t i = 0; r == 0 && i < 2; i++) {
		const struct ifm_hook_ops *h = ifm_hook_present(&t->q, dirs[i]);
		uint32_t block = ifm_hook_block(&t->q, dirs[i]);

		if (h && block)
			r = block_copies(nl, t, dirs[i], h->parent(dirs[i]), block, cache);
		else if (h)
			r = dump_filters(nl, t, dirs[i], h->parent(dirs[i]), 0);
	}
	if (cache && (r = keep_exact(t, cache, r)) < 0)
		return r;
	if (r < 0)
		ifm_dev_tc_free(t);
	return r;
}

void ifm_dev_tc_free(struct ifm_dev_tc *t)
{
	free(t->f);
	t->f = NULL;
	t->nf = t->cap = 0;
}

bool ifm_filter_is_snaplen(const struct ifm_filter *f)
{
	return !strcmp(f->kind, "bpf") && ifm_snaplen_mark_parse(f->bpf_name) > 0;
}

bool ifm_filter_is_budget_holder(const struct ifm_filter *f)
{
	return !strcmp(f->kind, "bpf") && !strcmp(f->bpf_name, IFM_MARK_BUDGET_HOLDER) &&
	       !f->has_action && f->bpf_id;
}

bool ifm_filter_is_bucket(const struct ifm_filter *f)
{
	return !strcmp(f->kind, "bpf") && !strcmp(f->bpf_name, IFM_MARK_BUDGET_BUCKET);
}

bool ifm_filter_is_devprog(const struct ifm_filter *f)
{
	return ifm_filter_is_snaplen(f) || ifm_filter_is_budget_holder(f);
}

bool ifm_filter_is_ours(const struct ifm_filter *f)
{
	return f->has_action && f->act.ours && f->act.cookie.dir == f->hook_dir;
}

uint16_t ifm_pref_free(const struct ifm_dev_tc *t)
{
	for (unsigned int pref = 1; pref <= 0xffff; pref++) {
		bool used = false;

		for (size_t i = 0; i < t->nf && !used; i++)
			used = t->f[i].pref == pref;
		if (!used)
			return (uint16_t)pref;
	}
	return 0;
}

/* The classifier instance of a pref (handle 0) or a u32 hash table (no key). */
static bool is_table(const struct ifm_filter *f)
{
	return f->handle == 0 || (!strcmp(f->kind, "u32") && TC_U32_KEY(f->handle) == 0);
}

bool ifm_hooks_have_foreign(const struct ifm_dev_tc *t, enum ifm_dir dirs)
{
	for (size_t i = 0; i < t->nf; i++) {
		const struct ifm_filter *f = &t->f[i];

		if (!(f->hook_dir & dirs))
			continue;
		if (ifm_filter_is_devprog(f) || (f->has_action && f->act.ours))
			continue;
		/* the instance and u32 table of a pref that holds ours are ours too;
		 * a filter of somebody else in that pref is not */
		if (is_table(f)) {
			bool ours_pref = false;

			for (size_t j = 0; j < t->nf && !ours_pref; j++)
				ours_pref = t->f[j].pref == f->pref && t->f[j].has_action &&
					    t->f[j].act.ours;
			if (ours_pref)
				continue;
		}
		return true;
	}
	return false;
}

bool ifm_hooks_have_ours(const struct ifm_dev_tc *t, enum ifm_dir dirs)
{
	for (size_t i = 0; i < t->nf; i++)
		if ((t->f[i].hook_dir & dirs) &&
		    (ifm_filter_is_ours(&t->f[i]) || ifm_filter_is_devprog(&t->f[i])))
			return true;
	return false;
}

_Static_assert(IFM_FILTER_MSG_BASE + IFM_MATCH_INSNS_MAX * 8 <= IFM_NL_MSG_MAX,
	       "the longest --match program fits one request");

/* a session's classifier that draws from a copy budget's bucket (bucket.c):
 * not direct-action, so that its "copy" (-1) runs the mirred */
static int bucket_put_match(struct nl_msg *msg, int fd)
{
	if (nla_put_u32(msg, TCA_BPF_FD, (uint32_t)fd) < 0 ||
	    nla_put_string(msg, TCA_BPF_NAME, IFM_MARK_BUDGET_BUCKET) < 0)
		return -ENOMEM;
	return 0;
}

struct nl_msg *ifm_filter_add_msg(int ifindex, uint32_t parent, uint16_t pref,
				  const struct ifm_cls_ops *cls, const struct ifm_match *m,
				  int target_ifindex, const struct ifm_cookie *cookie,
				  const struct ifm_budget_join *join)
{
	bool bucket = join && join->bucket_fd >= 0 && !(m && m->insns) && cookie;
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_info = TC_H_MAKE((uint32_t)pref << 16, htons(ETH_P_ALL)),
	};
	/* sized to the program it carries: a page holds about 500 instructions */
	struct nl_msg *msg = ifm_nl_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL,
					IFM_FILTER_MSG_BASE + (m ? m->len * sizeof(*m->insns) : 0));
	struct nlattr *opts;

	if (!msg)
		return NULL;
	if (bucket)
		cls = &ifm_cls_bpf;
	tcm.tcm_handle = cls->handle;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, TCA_KIND, cls->kind) < 0 ||
	    !(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
	    (bucket ? bucket_put_match(msg, join->bucket_fd) : cls->put_match(msg, m)) < 0 ||
	    (cookie && ifm_actions_put(msg, cls->act_attr, join && join->has_police ? &join->pol : NULL,
				       target_ifindex, cookie) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	nla_nest_end(msg, opts);
	return msg;
}

int ifm_filter_add(struct ifm_nl *nl, int ifindex, uint32_t parent, uint16_t pref,
		   const struct ifm_cls_ops *cls, const struct ifm_match *m, int target_ifindex,
		   const struct ifm_cookie *cookie, const struct ifm_budget_join *join)
{
	struct nl_msg *msg;

	msg = ifm_filter_add_msg(ifindex, parent, pref, cls, m, target_ifindex, cookie, join);
	return msg ? ifm_nl_talk(nl, msg) : -ENOMEM;
}

static struct nl_msg *del_msg(int ifindex, uint32_t parent, uint16_t pref, uint32_t handle,
			      const char *kind)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_handle = handle,
		.tcm_info = TC_H_MAKE((uint32_t)pref << 16, 0),
	};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELTFILTER, 0);

	if (msg && (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
		    (kind && nla_put_string(msg, TCA_KIND, kind) < 0))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * u32 keeps an instance with an empty table when a key goes and another u32
 * instance shares the qdisc's tables (both hooks of a clsact do). f may take
 * its pref with it when the key is the only one in that table and the pref
 * shows no table beyond the instances' own (a user's table could hang there).
 */
static bool u32_alone(const struct ifm_dev_tc *t, const struct ifm_filter *f)
{
	bool shared = !strcmp(t->q.ingress_kind, "clsact"); /* both hooks: one qdisc */
	size_t instances = 0, tables = 0;

	if (strcmp(f->kind, "u32") || TC_U32_KEY(f->handle) == 0)
		return false;
	for (size_t i = 0; i < t->nf; i++) {
		const struct ifm_filter *g = &t->f[i];
		bool here = g->hook_dir == f->hook_dir;

		if (g->pref != f->pref || strcmp(g->kind, "u32"))
			continue;
		if (g->handle == 0) {
			instances += here || shared; /* a clsact's hooks list each other's tables */
			continue;
		}
		if (!here)
			continue;
		if (TC_U32_KEY(g->handle) == 0)
			tables++;
		else if (TC_U32_HTID(g->handle) == TC_U32_HTID(f->handle) && g->handle != f->handle)
			return false;
	}
	return tables <= instances;
}

struct nl_msg *ifm_filter_del_msg(const struct ifm_dev_tc *t, const struct ifm_filter *f)
{
	/* a shared block's filter: from the block, for every device on it */
	int ifindex = f->block ? (int)TCM_IFINDEX_MAGIC_BLOCK : t->ifindex;
	uint32_t parent = f->block ? f->block : f->parent;

	if (u32_alone(t, f))
		return del_msg(ifindex, parent, f->pref, 0, f->kind);
	return del_msg(ifindex, parent, f->pref, f->handle, f->kind);
}

int ifm_filter_del(struct ifm_nl *nl, const struct ifm_dev_tc *t, const struct ifm_filter *f)
{
	struct nl_msg *msg = ifm_filter_del_msg(t, f);

	return msg ? ifm_nl_talk(nl, msg) : -ENOMEM;
}

struct nl_msg *ifm_filter_del_pref_msg(int ifindex, uint32_t parent, uint16_t pref)
{
	return del_msg(ifindex, parent, pref, 0, NULL);
}

int ifm_filter_del_pref(struct ifm_nl *nl, int ifindex, uint32_t parent, uint16_t pref)
{
	struct nl_msg *msg = ifm_filter_del_pref_msg(ifindex, parent, pref);

	return msg ? ifm_nl_talk(nl, msg) : -ENOMEM;
}

static int tidy_one(struct ifm_nl *nl, const struct ifm_dev_tc *t,
		    const struct ifm_hook_ops *h, enum ifm_dir dirs, bool owned)
{
	int r;

	if (ifm_hooks_have_ours(t, dirs))
		return 0;
	if (!owned)
		return 0;
	if (ifm_hooks_have_foreign(t, dirs)) {
		/* somebody else uses it now: it is theirs from here on */
		return ifm_owned_set(t->ifindex, h->kind, false);
	}
	r = h->destroy(nl, t->ifindex);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		return r;
	return ifm_owned_set(t->ifindex, h->kind, false);
}

int ifm_hooks_tidy(struct ifm_nl *nl, int ifindex)
{
	struct ifm_dev_tc t;
	int r;

	r = ifm_dev_tc_scan(nl, ifindex, &t);
	if (r < 0)
		return r;
	if (!strcmp(t.q.ingress_kind, "clsact"))
		r = tidy_one(nl, &t, &ifm_hook_clsact, IFM_DIR_BOTH,
			     ifm_owned(ifindex, "clsact"));
	else if (!strcmp(t.q.ingress_kind, "ingress"))
		r = tidy_one(nl, &t, &ifm_hook_ingress, IFM_DIR_INGRESS,
			     ifm_owned(ifindex, "ingress"));
	if (r == 0 && ifm_hook_present(&t.q, IFM_DIR_EGRESS) == &ifm_hook_prio)
		r = tidy_one(nl, &t, &ifm_hook_prio, IFM_DIR_EGRESS, true); /* handle marks it */
	ifm_dev_tc_free(&t);
	return r;
}
