// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --snaplen: cut every frame that leaves a mirror destination to N bytes.
 *
 * A seven-instruction eBPF program on the destination's clsact egress calls
 * bpf_skb_change_tail() for longer frames and returns "continue", so other
 * filters there still run. It is loaded with the bpf() system call directly
 * (ebpf.c: no compiler, no libbpf) and attached with cls_bpf in direct-action
 * mode. Only mirrored copies pass a collector bridge, so only they are cut.
 *
 * The filter's name, "ifmirror-snaplen:N" (marks.c), is both the mark of
 * ownership and where status reads N back.
 */
#include "ifmirror.h"
#include "ebpf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

static int load_program(unsigned int snaplen, char *log, size_t loglen)
{
	struct bpf_insn prog[] = {
		/* r2 = skb->len */
		ifm_insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct __sk_buff, len), 0),
		/* if r2 <= snaplen: leave it */
		ifm_insn(BPF_JMP | BPF_JLE | BPF_K, BPF_REG_2, 0, 3, (int32_t)snaplen),
		/* bpf_skb_change_tail(skb, snaplen, 0) */
		ifm_insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)snaplen),
		ifm_insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0),
		ifm_insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_change_tail),
		/* TC_ACT_UNSPEC: the next filter runs */
		ifm_insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -1),
		ifm_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return ifm_bpf_prog_load(prog, sizeof(prog) / sizeof(prog[0]), "ifm_snaplen", log, loglen);
}

int ifm_egress_prog_attach(struct ifm_nl *nl, int ifindex, uint16_t pref, int fd,
			   const char *name)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_parent = ifm_hook_clsact.parent(IFM_DIR_EGRESS),
		.tcm_handle = 1,
		.tcm_info = TC_H_MAKE((uint32_t)pref << 16, htons(ETH_P_ALL)),
	};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *opts;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, TCA_KIND, "bpf") < 0 ||
	    !(opts = nla_nest_start(msg, TCA_OPTIONS)) ||
	    nla_put_u32(msg, TCA_BPF_FD, (uint32_t)fd) < 0 ||
	    nla_put_string(msg, TCA_BPF_NAME, name) < 0 ||
	    nla_put_u32(msg, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, opts);
	return ifm_nl_talk(nl, msg);
}

int ifm_egress_clsact(struct ifm_nl *nl, const struct ifm_link *dev, const struct ifm_dev_tc *t,
		      const char *what, bool *created)
{
	int r;

	*created = false;
	if (ifm_hook_block(&t->q, IFM_DIR_EGRESS)) {
		/* a filter there would act on every device's frames on that block */
		ifm_err("%s: %s: its egress hook is on shared tc block %u; not changed",
			dev->name, what, ifm_hook_block(&t->q, IFM_DIR_EGRESS));
		return -EBUSY;
	}
	if (!strcmp(t->q.ingress_kind, "clsact"))
		return 0;
	if (t->q.ingress_kind[0]) {
		ifm_err("%s: %s needs the clsact qdisc, and the device has an ingress qdisc",
			dev->name, what);
		return -EBUSY;
	}
	r = ifm_owned_set(dev->ifindex, "clsact", true); /* written ahead */
	if (r == 0)
		r = ifm_hook_clsact.create(nl, dev->ifindex);
	if (r < 0) {
		ifm_owned_set(dev->ifindex, "clsact", false);
		ifm_err("%s: %s needs the clsact qdisc: %s", dev->name, what, ifm_nl_reason(nl, r));
		return r;
	}
	*created = true;
	return 0;
}

void ifm_egress_clsact_undo(struct ifm_nl *nl, const struct ifm_link *dev, bool created)
{
	if (!created)
		return;
	ifm_hook_clsact.destroy(nl, dev->ifindex);
	ifm_owned_set(dev->ifindex, "clsact", false);
}

static unsigned int snaplen_of(const struct ifm_filter *f)
{
	return ifm_snaplen_mark_parse(f->bpf_name);
}

int ifm_snaplen_get(struct ifm_nl *nl, int ifindex, unsigned int *snaplen)
{
	struct ifm_dev_tc t;
	int r = ifm_dev_tc_scan(nl, ifindex, &t);

	*snaplen = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < t.nf; i++)
		if (t.f[i].hook_dir == IFM_DIR_EGRESS && ifm_filter_is_snaplen(&t.f[i]))
			*snaplen = snaplen_of(&t.f[i]);
	ifm_dev_tc_free(&t);
	return 0;
}

int ifm_snaplen_set(struct ifm_nl *nl, const struct ifm_link *dev, unsigned int snaplen)
{
	struct ifm_dev_tc t;
	const struct ifm_filter *old = NULL;
	bool created = false;
	char log[1024], name[48];
	uint16_t pref;
	int fd, r;

	r = ifm_dev_tc_scan(nl, dev->ifindex, &t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t.nf; i++)
		if (t.f[i].hook_dir == IFM_DIR_EGRESS && ifm_filter_is_snaplen(&t.f[i]))
			old = &t.f[i];
	if (old && snaplen_of(old) == snaplen) {
		ifm_dev_tc_free(&t);
		return 0;
	}
	if (snaplen) {
		if ((r = ifm_egress_clsact(nl, dev, &t, "--snaplen", &created)) < 0)
			goto out;
		fd = load_program(snaplen, log, sizeof(log));
		if (fd < 0) {
			r = fd;
			ifm_err("%s: cannot load the snaplen eBPF program: %s%s%.200s", dev->name,
				strerror(-r), log[0] ? ": " : "", log);
			goto undo;
		}
		pref = ifm_pref_free(&t);
		ifm_snaplen_mark(snaplen, name, sizeof(name));
		r = ifm_egress_prog_attach(nl, dev->ifindex, pref, fd, name);
		close(fd);
		if (r < 0) {
			ifm_err("%s: cannot attach the snaplen filter: %s", dev->name,
				ifm_nl_reason(nl, r));
			goto undo;
		}
		ifm_info("%s: frames leaving it are cut to %u bytes", dev->name, snaplen);
	}
	if (old) {
		r = ifm_filter_del(nl, &t, old);
		if (r < 0 && r != -ENOENT)
			goto out;
		r = 0;
		if (!snaplen)
			ifm_info("%s: frames leaving it are no longer cut", dev->name);
		ifm_hooks_tidy(nl, dev->ifindex);
	}
	goto out;
undo:
	ifm_egress_clsact_undo(nl, dev, created);
out:
	ifm_dev_tc_free(&t);
	return r;
}
