// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifmirror refresh IFACE
 *
 * The command line only; refresh.c in the library does the work.
 */
#include "cli.h"

#include <string.h>

int cmd_refresh(int argc, char *argv[])
{
	struct ifm_nl nl;
	const char *ifname = NULL;
	int lock, ret = IFM_EXIT_RUNTIME;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			ifm_quiet_set(true);
		} else if (argv[i][0] == '-' || ifname) {
			ifm_err("refresh: unexpected argument '%.40s'", argv[i]);
			return IFM_EXIT_USAGE;
		} else {
			ifname = argv[i];
		}
	}
	if (cli_name("refresh", NULL, "an interface name", ifname) < 0)
		return IFM_EXIT_USAGE;
	ifm_refresh_prepare(ifname); /* libpcap's time outside the lock */
	lock = ifm_begin(&nl);
	if (lock < 0)
		return IFM_EXIT_RUNTIME;
	if (ifm_refresh(&nl, ifname) == 0)
		ret = IFM_EXIT_OK;
	ifm_end(&nl, lock);
	return ret;
}
