// SPDX-License-Identifier: GPL-2.0-or-later
/* /etc/ifmirror.conf's parser (cli/config.c, config_keys.c): any bytes. */
#include "fuzz.h"
#include "cli.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ifm_config c;
	FILE *f;

	fuzz_quiet();
	f = fmemopen(size ? (void *)data : (void *)"", size ? size : 1, "r");
	if (!f)
		return 0;
	if (ifm_config_parse(f, "fuzz.conf", &c) == 0) {
		/* apply's per-id devices of a file the parser took: whole, valid names */
		if (ifm_tunnel_ids_expand(&c) == 0)
			for (int i = 0; i < c.ntunnels; i++)
				if (ifm_ifname_problem(c.tunnels[i].name))
					abort();
		ifm_config_free(&c);
	}
	fclose(f);
	return 0;
}
