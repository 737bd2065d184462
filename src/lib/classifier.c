// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Classifiers that match every frame. matchall is the cheapest and the one
 * NICs offload; u32 with one all-zero key is in every kernel. u32 runs its
 * actions only for a TERMINAL key, and libnl's u32 module sends no selector
 * until a key exists, so we build the selector ourselves.
 */
#include "ifmirror.h"

#include <errno.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/pkt_cls.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

static int matchall_put_match(struct nl_msg *msg, const struct ifm_match *m)
{
	(void)msg;
	(void)m;
	return 0;
}

const struct ifm_cls_ops ifm_cls_matchall = {
	.kind = "matchall",
	.fallback = &ifm_cls_u32,
	.handle = 1,
	.act_attr = TCA_MATCHALL_ACT,
	.options_max = TCA_MATCHALL_MAX,
	.put_match = matchall_put_match,
};

static int u32_put_match(struct nl_msg *msg, const struct ifm_match *m)
{
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} s;

	(void)m;
	memset(&s, 0, sizeof(s));
	s.sel.flags = TC_U32_TERMINAL;
	s.sel.nkeys = 1; /* value 0, mask 0 at offset 0: every frame */
	return nla_put(msg, TCA_U32_SEL, sizeof(s), &s) < 0 ? -ENOMEM : 0;
}

const struct ifm_cls_ops ifm_cls_u32 = {
	.kind = "u32",
	.handle = 0,
	.act_attr = TCA_U32_ACT,
	.options_max = TCA_U32_MAX,
	.put_match = u32_put_match,
};

/* classic BPF from --match/--sample; non-zero return runs the actions */
static int bpf_put_match(struct nl_msg *msg, const struct ifm_match *m)
{
	if (nla_put_u16(msg, TCA_BPF_OPS_LEN, (uint16_t)m->len) < 0 ||
	    nla_put(msg, TCA_BPF_OPS, (int)(m->len * sizeof(*m->insns)), m->insns) < 0)
		return -ENOMEM;
	return 0;
}

const struct ifm_cls_ops ifm_cls_bpf = {
	.kind = "bpf",
	.handle = 1,
	.act_attr = TCA_BPF_ACT,
	.options_max = TCA_BPF_MAX,
	.put_match = bpf_put_match,
};

/*
 * The order of preference for a mirror of every frame: matchall, else u32
 * (each ops' fallback). --match and --sample need bpf, which has none.
 */
const struct ifm_cls_ops *const ifm_cls_mirror = &ifm_cls_matchall;

const struct ifm_cls_ops *ifm_cls_by_kind(const char *kind)
{
	if (!strcmp(kind, "matchall"))
		return &ifm_cls_matchall;
	if (!strcmp(kind, "u32"))
		return &ifm_cls_u32;
	if (!strcmp(kind, "bpf"))
		return &ifm_cls_bpf;
	return NULL;
}
