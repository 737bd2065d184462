// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror down SOURCE [--to DEST]
 *
 * Removes only filters that carry ifmirror's cookie, then the qdiscs
 * ifmirror created once nothing else hangs on them. Nothing to remove, or
 * SOURCE gone, is success: ifdown must never fail because of a mirror.
 */
#include "ifmirror.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ifm_mirror_down(struct ifm_nl *nl, const char *source, const char *dest, bool quiet)
{
	struct ifm_link src, dst = { 0 };
	struct ifm_dev_tc t;
	unsigned int hash = 0;
	int r, removed = 0;

	ifm_pending_del(source, dest);
	r = ifm_link_get(nl, source, &src);
	if (r == -ENODEV) {
		if (!quiet)
			printf("%s: no such device, nothing to remove\n", source);
		return 0;
	} else if (r < 0) {
		ifm_err("%s: %s", source, strerror(-r));
		return r;
	}
	if (dest) {
		/* a deleted destination is still matched by the name it had */
		if (ifm_link_get(nl, dest, &dst) < 0)
			dst.ifindex = 0;
		hash = ifm_name_hash(dest);
	}

	r = ifm_dev_tc_scan(nl, src.ifindex, &t);
	if (r < 0) {
		ifm_err("%s: cannot read tc state: %s", src.name, ifm_nl_reason(nl, r));
		return r;
	}
	for (size_t i = 0; i < t.nf; i++) {
		const struct ifm_filter *f = &t.f[i];
		struct ifm_link target;
		const char *name;

		if (!ifm_filter_is_ours(f))
			continue;
		if (dest && !(dst.ifindex && f->act.ifindex == dst.ifindex) &&
		    f->act.cookie.dest_hash != hash)
			continue;
		r = ifm_filter_del(nl, src.ifindex, f->parent, f->pref);
		if (r < 0 && r != -ENOENT) {
			ifm_err("%s: cannot remove %s mirror filter (pref %u): %s", src.name,
				ifm_dir_name(f->hook_dir), f->pref, ifm_nl_reason(nl, r));
			ifm_dev_tc_free(&t);
			return r;
		}
		removed++;
		if (quiet)
			continue;
		if (ifm_link_by_index(nl, f->act.ifindex, &target) == 0)
			name = target.name;
		else
			name = dest ? dest : "a deleted device";
		printf("%s: %s mirror to %s removed\n", src.name, ifm_dir_name(f->hook_dir), name);
	}
	ifm_dev_tc_free(&t);

	r = ifm_hooks_tidy(nl, src.ifindex, !quiet);
	if (r < 0) {
		ifm_err("%s: mirror removed, but its qdisc could not be: %s", src.name,
			ifm_nl_reason(nl, r));
		return r;
	}
	if (!removed && !quiet)
		printf("%s: no ifmirror session%s%s, nothing to remove\n", src.name,
		       dest ? " to " : "", dest ? dest : "");
	return 0;
}

int cmd_down(int argc, char *argv[])
{
	struct ifm_opts o;
	struct ifm_nl nl;
	char err[160];
	int lock, ret = IFM_EXIT_RUNTIME;

	if (ifm_parse_opts(IFM_ARGS_DOWN, argc, argv, &o, err, sizeof(err)) < 0) {
		ifm_err("down: %s", err);
		return IFM_EXIT_USAGE;
	}
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	if (ifm_mirror_down(&nl, o.source, o.dest, o.quiet) == 0)
		ret = IFM_EXIT_OK;
	ifm_end(&nl, lock);
	return ret;
}
