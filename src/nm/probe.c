// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What NetworkManager's own tc setting would need from this kernel: clsact,
 * matchall with the mirred action, and dummy devices for a collector's sink.
 * The library's kernel probe asks, in a thread of its own (GLib has threads).
 */
#include "ifmirror-nm.h"
#include "probe.h"

#include <stdio.h>
#include <string.h>

void nmm_probe_kernel(struct nmm_kernel *k)
{
	struct ifm_probe res;
	int r = ifm_probe_kernel_thread(&res);

	memset(k, 0, sizeof(*k));
	if (r == 0 && res.setup < 0)
		r = res.setup;
	if (r < 0) {
		snprintf(k->why, sizeof(k->why), "cannot make a scratch network namespace: %s",
			 strerror(-r));
		return;
	}
	k->probed = true;
	k->clsact = ifm_probe_usable(&res, IFM_P_CLSACT);
	k->matchall = k->clsact && ifm_probe_usable(&res, IFM_P_MATCHALL) &&
		      ifm_probe_usable(&res, IFM_P_MIRRED);
	k->dummy = ifm_probe_usable(&res, IFM_P_DUMMY);
}
