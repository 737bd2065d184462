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
	if (ifm_config_parse(f, "fuzz.conf", &c) == 0)
		ifm_config_free(&c);
	fclose(f);
	return 0;
}
