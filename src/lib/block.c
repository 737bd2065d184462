// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shared tc blocks: the one mirror a block carries for every device on it,
 * kept when it is right, else added and the older one of ours removed
 * after it (so no frame goes uncopied in between). apply sets it from the
 * file; refresh re-points it when its destination comes back.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/rtnetlink.h>

int ifm_block_mirror(struct ifm_nl *nl, const struct ifm_block_mirror *bm, bool *replaced)
{
	const struct ifm_cls_ops *cls = bm->m->insns ? &ifm_cls_bpf : ifm_cls_mirror;
	struct ifm_dev_tc bt;
	struct ifm_budget_join join;
	struct ifm_cookie ck;
	bool have = false;
	int r;
	uint16_t pref;

	*replaced = false;
	if (bm->dry && bm->fresh) {
		ifm_out("would add: %s %s mirror to %s on shared tc block %u", bm->what,
			ifm_dir_name(bm->dir), bm->dest->name, bm->block);
		return 0;
	}
	/* read now: a block whose last device left and came back is a new one */
	r = ifm_block_scan(nl, bm->block, bm->dir, &bt);
	if (r < 0) {
		ifm_err("%s: cannot read shared tc block %u: %s", bm->what, bm->block,
			ifm_nl_reason(nl, r));
		ifm_dev_tc_free(&bt);
		return r;
	}
	if ((r = ifm_budget_join(nl, bm->dest, !bm->m->insns, bm->dry, &join)) < 0) {
		ifm_dev_tc_free(&bt);
		return r;
	}
	for (size_t i = 0; i < bt.nf && !have; i++) {
		const struct ifm_filter *f = &bt.f[i];

		have = ifm_filter_is_ours(f) && f->act.ifindex == bm->dest->ifindex &&
		       !(f->act.cookie.flags & IFM_COOKIE_FROM_CONFIG) == !bm->from_config &&
		       f->prog_hash == bm->m->hash && f->has_police == join.has_police &&
		       (!join.has_police || f->police.index == join.pol.index) &&
		       ifm_filter_is_bucket(f) == (join.bucket_fd >= 0);
		if (have)
			bt.f[i].block = 0;   /* kept */
		*replaced |= ifm_filter_is_ours(f) && !have;
	}
	pref = ifm_pref_free(&bt);
	if (!have && !bm->dry) {
		ifm_cookie_make(&ck, bm->dir, bm->dest);
		if (bm->from_config)
			ck.flags |= IFM_COOKIE_FROM_CONFIG;
		for (;;) {
			r = ifm_filter_add(nl, (int)TCM_IFINDEX_MAGIC_BLOCK, bm->block, pref, cls, bm->m,
					   bm->dest->ifindex, &ck, &join);
			if (r == -ENOENT && cls->fallback) {
				cls = cls->fallback;   /* no matchall in this kernel */
				continue;
			}
			break;
		}
		if (r < 0) {
			ifm_err("%s: cannot add the %s mirror to %s on shared tc block %u: %s", bm->what,
				ifm_dir_name(bm->dir), bm->dest->name, bm->block, ifm_nl_reason(nl, r));
			ifm_budget_join_release(&join);
			ifm_dev_tc_free(&bt);
			return r;
		}
		ifm_match_remember(bm->m);
		ifm_info("%s: %s mirror to %s on shared tc block %u (%s, pref %u)", bm->what,
			 ifm_dir_name(bm->dir), bm->dest->name, bm->block,
			 join.bucket_fd >= 0 ? "bpf, the budget's bucket" : cls->kind, pref);
	} else if (!have) {
		ifm_out("would add: %s %s mirror to %s on shared tc block %u", bm->what,
			ifm_dir_name(bm->dir), bm->dest->name, bm->block);
	}
	/* the block's older mirrors of ours (not the one kept) */
	for (size_t i = 0; i < bt.nf && r == 0; i++) {
		const struct ifm_filter *f = &bt.f[i];

		if (!f->block || !ifm_filter_is_ours(f))
			continue;
		if (bm->dry) {
			ifm_out("would remove: %s an older %s mirror on shared tc block %u", bm->what,
				ifm_dir_name(bm->dir), bm->block);
			continue;
		}
		r = ifm_filter_del(nl, &bt, f);
		if (r == -ENOENT)
			r = 0;
	}
	*replaced = *replaced && !have && !bm->dry;
	ifm_budget_join_release(&join);
	ifm_dev_tc_free(&bt);
	return r;
}
