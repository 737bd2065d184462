// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror up SOURCE --to DEST [--id N] [--direction D] [--match EXPR] [--sample N] [--defer]
 *
 * The command line only; session.c does the work.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cmd_up(int argc, char *argv[])
{
	struct ifm_session_spec spec;
	struct ifm_opts o;
	struct ifm_nl nl;
	struct ifm_link l;
	char err[160], idname[IFM_IFNAMSIZ];
	int lock, r, ret = IFM_EXIT_RUNTIME;

	if (ifm_parse_opts(IFM_ARGS_UP, argc, argv, &o, err, sizeof(err)) < 0) {
		ifm_err("up: %s", err);
		return IFM_EXIT_USAGE;
	}
	spec = (struct ifm_session_spec){ .source = o.source, .dest = o.dest, .dir = o.dir,
					  .match = o.match, .sample = o.sample };
	ifm_quiet_set(o.quiet);
	/* compiled before the lock: libpcap's time holds up no other command */
	if (o.match && (r = ifm_match_check(o.match, o.sample, "up: --match")) < 0)
		return r == -IFM_EBADEXPR ? IFM_EXIT_USAGE : IFM_EXIT_RUNTIME;
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	/* --id: DEST's device of that id (tunnel_ids.c), made when missing */
	if (o.has_id) {
		if (ifm_tunnel_id_up(&nl, o.dest, o.id, idname, sizeof(idname)) < 0)
			goto out;
		spec.dest = idname;
	}
	if (o.defer) {
		const char *missing = ifm_link_get(&nl, o.source, &l) == -ENODEV ? o.source
				    : ifm_link_get(&nl, o.dest, &l) == -ENODEV ? o.dest : NULL;

		if (missing) {
			r = ifm_pending_add_spec(&spec);
			if (r < 0) {
				ifm_err("%s: cannot record the deferred session: %s", o.source,
					strerror(-r));
				goto out;
			}
			ifm_info("%s: %s mirror to %s deferred until %s exists", o.source,
				 ifm_dir_name(o.dir), o.dest, missing);
			ret = IFM_EXIT_OK;
			goto out;
		}
	}
	r = ifm_mirror_up_spec(&nl, &spec);
	if (r == 0)
		ret = IFM_EXIT_OK;
	else if (r == -IFM_EBADEXPR)
		ret = IFM_EXIT_USAGE;
out:
	ifm_end(&nl, lock);
	return ret;
}
