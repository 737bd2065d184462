// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spec judges (lib/spec.c), the report escape and the JSON UTF-8 check:
 * the input's NUL-separated fields are fed to each.
 */
#include "fuzz.h"
#include "cli.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[4];
	char *buf = fuzz_fields(data, size, f, 4), esc[64], big[8192];
	const char *v = f[0], *self = f[1];
	struct ifm_names names;
	unsigned char addr[16];
	unsigned long n;
	unsigned int u;
	enum ifm_dir dir;
	int family;

	fuzz_quiet();
	ifm_ifname_problem(v);
	ifm_spec_number(v, 1, 65535, &n);
	ifm_spec_sample(v, &u);
	ifm_spec_snaplen(v, &u);
	ifm_spec_port(v, &u);
	{
		unsigned long long bits;

		/* a rate taken is in range */
		if (!ifm_spec_rate(v, &bits) && (bits < IFM_RATE_MIN || bits > IFM_RATE_MAX))
			abort();
		if (!ifm_spec_burst(v, &u) && (u < IFM_BURST_MIN || u > IFM_BURST_MAX))
			abort();
	}
	ifm_spec_dir(v, &dir);
	{
		char src[IFM_IFNAMSIZ];

		if (!ifm_spec_tunnel_id(v, src, &dir, &n) && ifm_ifname_problem(src))
			abort(); /* a source taken is a valid name */
	}
	ifm_spec_match(v);
	ifm_spec_addr(v, &family, addr);
	ifm_name_hash(v);
	if (ifm_spec_names(v, 8, self && *self == 'r', self, "itself", &names) == 0) {
		for (int i = 0; i < names.n; i++)
			if (ifm_ifname_problem(names.v[i]))
				abort(); /* a name taken is a valid name */
	} else {
		ifm_names_problem(&names, "field", esc, sizeof(esc));
	}
	ifm_names_free(&names);
	/* escaping: one line, never past the buffer */
	ifm_report_escape(v, esc, sizeof(esc));
	if (strchr(esc, '\n') || ifm_report_escape(v, big, sizeof(big)) != strlen(big))
		abort();
	for (const unsigned char *p = (const unsigned char *)v; *p;) {
		size_t k = ifm_utf8_len(p);

		p += k ? k : 1;
	}
	free(buf);
	return 0;
}
