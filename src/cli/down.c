// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror down SOURCE [--to DEST]
 *
 * The command line only; session.c does the work.
 */
#include "cli.h"

#include <stdio.h>

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
	ifm_quiet_set(o.quiet);
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	if (ifm_mirror_down(&nl, o.source, o.dest) == 0)
		ret = IFM_EXIT_OK;
	ifm_end(&nl, lock);
	return ret;
}
