// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ifupdown's environment (cli/ifupdown.c): IFACE and the IF_MIRROR_* options
 * from NUL-separated fields. mirror-match is left out: it is libpcap's
 * compiler (lib/spec.c's length rule is in fuzz_spec).
 */
#include "fuzz.h"
#include "cli.h"

static const char *const vars[] = { "IF_MIRROR_TO", "IF_MIRROR_DIRECTION", "IF_MIRROR_COLLECTOR",
				    "IF_MIRROR_SINK", "IF_MIRROR_SAMPLE", "IF_MIRROR_SNAPLEN" };
#define NVARS (int)(sizeof(vars) / sizeof(vars[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[NVARS + 1];
	char *buf = fuzz_fields(data, size, f, NVARS + 1);
	struct ifm_ifupdown_opts o = { 0 };

	fuzz_quiet();
	unsetenv("IF_MIRROR_MATCH");
	for (int i = 0; i < NVARS; i++) {
		if (f[i + 1] && *f[i + 1])
			setenv(vars[i], f[i + 1], 1);
		else
			unsetenv(vars[i]);
	}
	o.iface = f[0] && *f[0] ? f[0] : "eth0";
	if (ifm_ifupdown_read(&o) == 0) {
		for (int i = 0; i < o.to.n; i++)
			if (ifm_ifname_problem(o.to.v[i]) || !strcmp(o.to.v[i], o.iface))
				abort();
		for (int i = 0; i < o.collector.nports; i++)
			if (ifm_ifname_problem(o.collector.ports[i]))
				abort();
	}
	ifm_ifupdown_free(&o);
	free(buf);
	return 0;
}
