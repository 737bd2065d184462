// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hooks: the qdiscs mirror filters hang from. clsact carries both directions
 * and never replaces the root qdisc, so it is the first choice. Kernels
 * without clsact get the ingress qdisc for ingress and, for egress, a prio
 * root -- but only in place of the kernel's default root qdisc, never over a
 * qdisc somebody configured.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#ifndef TC_H_CLSACT
#define TC_H_CLSACT TC_H_INGRESS
#endif
#ifndef TC_H_MIN_INGRESS
#define TC_H_MIN_INGRESS 0xFFF2U
#define TC_H_MIN_EGRESS 0xFFF3U
#endif

struct nl_msg *ifm_qdisc_msg(int type, int flags, int ifindex, uint32_t parent,
			     uint32_t handle, const char *kind)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = parent,
		.tcm_handle = handle,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    (kind && nla_put_string(msg, TCA_KIND, kind) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int qdisc_add(struct ifm_nl *nl, int ifindex, uint32_t parent, uint32_t handle,
		     const char *kind, const void *opts, size_t optlen)
{
	struct nl_msg *msg = ifm_qdisc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex,
					   parent, handle, kind);

	if (!msg)
		return -ENOMEM;
	if (opts && nla_put(msg, TCA_OPTIONS, (int)optlen, opts) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return ifm_nl_talk(nl, msg);
}

static int qdisc_del(struct ifm_nl *nl, int ifindex, uint32_t parent, uint32_t handle)
{
	struct nl_msg *msg = ifm_qdisc_msg(RTM_DELQDISC, 0, ifindex, parent, handle, NULL);

	if (!msg)
		return -ENOMEM;
	return ifm_nl_talk(nl, msg);
}

struct nl_msg *ifm_clsact_msg(bool add, int ifindex)
{
	return ifm_qdisc_msg(add ? RTM_NEWQDISC : RTM_DELQDISC, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
			     ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), add ? "clsact" : NULL);
}

struct nl_msg *ifm_clsact_shared_msg(int ifindex, uint32_t ingress_block, uint32_t egress_block)
{
	struct nl_msg *msg = ifm_clsact_msg(true, ifindex);

	if (msg && ((ingress_block && nla_put_u32(msg, TCA_INGRESS_BLOCK, ingress_block) < 0) ||
		    (egress_block && nla_put_u32(msg, TCA_EGRESS_BLOCK, egress_block) < 0))) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

uint32_t ifm_block_index(const char *section, enum ifm_dir dir)
{
	/* 1..0x7fff: never IFM_BLOCK_MIN - 2 (0x1f1c0000), which would read as no hash */
	uint32_t h = ifm_name_hash(section) % 0x7fffU + 1;

	return 0x1f1c0000U | h << 1 | (dir == IFM_DIR_EGRESS);
}

bool ifm_block_ours(uint32_t block)
{
	return block >= IFM_BLOCK_MIN && block <= IFM_BLOCK_MAX;
}

uint32_t ifm_hook_block(const struct ifm_qdiscs *q, enum ifm_dir dir)
{
	if (strcmp(q->ingress_kind, "clsact") && strcmp(q->ingress_kind, "ingress"))
		return 0;
	return dir == IFM_DIR_INGRESS ? q->ingress_block
	       : !strcmp(q->ingress_kind, "clsact") ? q->egress_block : 0;
}

/* clsact */
static uint32_t clsact_parent(enum ifm_dir dir)
{
	return TC_H_MAKE(TC_H_CLSACT, dir == IFM_DIR_INGRESS ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

static int clsact_create(struct ifm_nl *nl, int ifindex)
{
	return qdisc_add(nl, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), "clsact", NULL, 0);
}

static int clsact_destroy(struct ifm_nl *nl, int ifindex)
{
	return qdisc_del(nl, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0));
}

const struct ifm_hook_ops ifm_hook_clsact = {
	.kind = "clsact",
	.parent = clsact_parent,
	.create = clsact_create,
	.destroy = clsact_destroy,
};

/* ingress (kernels before 4.5, or a device whose owner added one) */
static uint32_t ingress_parent(enum ifm_dir dir)
{
	return dir == IFM_DIR_INGRESS ? TC_H_MAKE(TC_H_INGRESS, TC_H_MIN_INGRESS) : 0;
}

static int ingress_create(struct ifm_nl *nl, int ifindex)
{
	return qdisc_add(nl, ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0), "ingress", NULL, 0);
}

static int ingress_destroy(struct ifm_nl *nl, int ifindex)
{
	return qdisc_del(nl, ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0));
}

const struct ifm_hook_ops ifm_hook_ingress = {
	.kind = "ingress",
	.parent = ingress_parent,
	.create = ingress_create,
	.destroy = ingress_destroy,
};

/* prio at the root, egress only, with pfifo_fast's bands and priomap */
static uint32_t prio_parent(enum ifm_dir dir)
{
	return dir == IFM_DIR_EGRESS ? TC_H_MAKE(IFM_PRIO_MAJOR << 16, 0) : 0;
}

static int prio_create(struct ifm_nl *nl, int ifindex)
{
	struct tc_prio_qopt q = {
		.bands = 3,
		.priomap = { 1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 },
	};

	return qdisc_add(nl, ifindex, TC_H_ROOT, IFM_PRIO_MAJOR << 16, "prio", &q, sizeof(q));
}

static int prio_destroy(struct ifm_nl *nl, int ifindex)
{
	return qdisc_del(nl, ifindex, TC_H_ROOT, IFM_PRIO_MAJOR << 16);
}

const struct ifm_hook_ops ifm_hook_prio = {
	.kind = "prio",
	.parent = prio_parent,
	.create = prio_create,
	.destroy = prio_destroy,
};

struct qscan {
	int ifindex;
	struct ifm_qdiscs *q;
};

static int qdisc_cb(struct nlmsghdr *hdr, void *arg)
{
	struct qscan *s = arg;
	struct tcmsg *tcm = nlmsg_data(hdr);
	struct nlattr *tb[TCA_MAX + 1];
	const char *kind;

	if (hdr->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex != s->ifindex)
		return 0;
	if (nlmsg_parse(hdr, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 || !tb[TCA_KIND])
		return 0;
	kind = nla_get_string(tb[TCA_KIND]);
	if (tcm->tcm_parent == TC_H_INGRESS) {
		strncpy(s->q->ingress_kind, kind, sizeof(s->q->ingress_kind) - 1);
		if (tb[TCA_INGRESS_BLOCK] && nla_len(tb[TCA_INGRESS_BLOCK]) >= 4)
			s->q->ingress_block = nla_get_u32(tb[TCA_INGRESS_BLOCK]);
		if (tb[TCA_EGRESS_BLOCK] && nla_len(tb[TCA_EGRESS_BLOCK]) >= 4)
			s->q->egress_block = nla_get_u32(tb[TCA_EGRESS_BLOCK]);
	} else if (tcm->tcm_parent == TC_H_ROOT) {
		strncpy(s->q->root_kind, kind, sizeof(s->q->root_kind) - 1);
		s->q->root_handle = tcm->tcm_handle;
	}
	return 0;
}

/*
 * Gets, not a dump (one where a clsact answers the first): the kernel answers a qdisc dump with every qdisc of
 * the namespace whatever ifindex is asked, which made per-device scans
 * quadratic on hosts with many interfaces.
 */
int ifm_qdiscs_scan(struct ifm_nl *nl, int ifindex, struct ifm_qdiscs *q)
{
	static const uint32_t parents[] = { TC_H_INGRESS, TC_H_ROOT };
	struct qscan s = { .ifindex = ifindex, .q = q };

	memset(q, 0, sizeof(*q));
	/* the root matters only where no clsact holds egress (a prio of ours) */
	for (size_t i = 0; i < 2 && (i == 0 || strcmp(q->ingress_kind, "clsact")); i++) {
		/* the kernel answers a qdisc get only to requests that ask for an echo */
		struct nl_msg *msg = ifm_qdisc_msg(RTM_GETQDISC, NLM_F_ECHO, ifindex, parents[i], 0, NULL);
		int r;

		if (!msg)
			return -ENOMEM;
		r = ifm_nl_get(nl, msg, qdisc_cb, &s);
		if (r == -ENODEV)
			return r;
		/* ENOENT/EINVAL: no such qdisc there */
	}
	/* an ingress queue left by a deleted clsact holds the noop qdisc */
	if (!strcmp(q->ingress_kind, "noop"))
		q->ingress_kind[0] = '\0';
	return 0;
}

struct qscan_all {
	struct ifm_qdisc_map *m;
	int err;
};

static int qdisc_all_cb(struct nlmsghdr *hdr, void *arg)
{
	struct qscan_all *s = arg;
	struct tcmsg *tcm = nlmsg_data(hdr);
	struct ifm_qdisc_map *m = s->m;

	if (hdr->nlmsg_type != RTM_NEWQDISC || tcm->tcm_ifindex <= 0)
		return 0;
	if (tcm->tcm_ifindex > m->max) {
		int max = tcm->tcm_ifindex * 2;
		struct ifm_qdiscs *q = realloc(m->q, ((size_t)max + 1) * sizeof(*q));

		if (!q)
			return -ENOMEM;
		memset(q + m->max + 1, 0, (size_t)(max - m->max) * sizeof(*q));
		m->q = q;
		m->max = max;
	}
	{
		struct qscan one = { .ifindex = tcm->tcm_ifindex, .q = &m->q[tcm->tcm_ifindex] };

		return qdisc_cb(hdr, &one);
	}
}

static void drop_noop(struct ifm_qdisc_map *m)
{
	for (int i = 0; i <= m->max; i++)
		if (!strcmp(m->q[i].ingress_kind, "noop"))
			m->q[i].ingress_kind[0] = '\0';
}

int ifm_qdiscs_scan_all(struct ifm_nl *nl, struct ifm_qdisc_map *m)
{
	struct qscan_all s = { .m = m };
	int r = -EINTR;

	memset(m, 0, sizeof(*m));
	m->q = calloc(257, sizeof(*m->q));
	if (!m->q)
		return -ENOMEM;
	m->max = 256;
	for (int i = 0; r == -EINTR; i++) {   /* as ifm_link_list */
		struct nl_msg *msg = ifm_qdisc_msg(RTM_GETQDISC, NLM_F_DUMP, 0, 0, 0, NULL);

		if (!msg)
			return -ENOMEM;
		memset(m->q, 0, ((size_t)m->max + 1) * sizeof(*m->q));
		r = ifm_nl_dump(nl, msg, qdisc_all_cb, &s);
		if (r == -EINTR && i + 1 == IFM_DUMP_TRIES)
			r = 0;   /* as ifm_link_list */
	}
	if (r == 0)
		drop_noop(m);
	return r;
}

const struct ifm_qdiscs *ifm_qdisc_map_get(const struct ifm_qdisc_map *m, int ifindex)
{
	static const struct ifm_qdiscs none;

	return ifindex > 0 && ifindex <= m->max ? &m->q[ifindex] : &none;
}

void ifm_qdisc_map_free(struct ifm_qdisc_map *m)
{
	free(m->q);
	memset(m, 0, sizeof(*m));
}

const struct ifm_hook_ops *ifm_hook_present(const struct ifm_qdiscs *q, enum ifm_dir dir)
{
	if (!strcmp(q->ingress_kind, "clsact"))
		return &ifm_hook_clsact;
	if (dir == IFM_DIR_INGRESS)
		return !strcmp(q->ingress_kind, "ingress") ? &ifm_hook_ingress : NULL;
	if (!strcmp(q->root_kind, "prio") && q->root_handle == IFM_PRIO_MAJOR << 16)
		return &ifm_hook_prio;
	return NULL;
}
