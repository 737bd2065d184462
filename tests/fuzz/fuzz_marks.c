// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The marks ifmirror reads back from the kernel (lib/marks.c, tunnel.c): a
 * device alias (collector, sink, tunnel), a snaplen filter name, the action
 * cookie. A collector mark read is written again and read back the same; so
 * is a tunnel's spec its judge passes (id, erspan version, hwid, direction).
 */
#include "fuzz.h"
#include "marks.h"
#include "tunnel.h"
#include "tunnel_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ifm_collector_mark m, again;
	struct ifm_link l = { .is_bridge = true };
	struct ifm_tunnel_spec t;
	struct ifm_cookie cookie;
	char store[IFM_ALIAS_MAX], out[IFM_ALIAS_MAX];
	const char *ports[IFM_MAX_PORTS];

	fuzz_quiet();
	if (size >= sizeof(cookie)) {
		memcpy(&cookie, data, sizeof(cookie));
		ifm_cookie_is_ours(&cookie);
	}
	/* what the kernel hands back: at most 255 bytes, NUL-terminated */
	if (size >= sizeof(l.alias))
		size = sizeof(l.alias) - 1;
	memcpy(l.alias, data, size);
	l.alias[size] = '\0';
	ifm_snaplen_mark_parse(l.alias);
	ifm_tunnel_mark_is(l.alias);
	ifm_is_sink(&l);
	ifm_is_sink_of(&l, "br0");
	ifm_collector_has_port(&l, "eth1");
	ifm_collector_sink_is(&l, "s0");
	if (ifm_tunnel_alias_spec("t0", l.alias, &t, store, sizeof(store)) &&
	    !ifm_tunnel_spec_problem(&t, out, sizeof(out))) {
		struct ifm_tunnel_spec t2;
		struct ifm_tunnel_addrs a;
		char alias2[IFM_ALIAS_MAX], store2[IFM_ALIAS_MAX];

		ifm_tunnel_addrs(&t, &a);
		if (ifm_tunnel_alias(&t, &a, alias2, sizeof(alias2)) == 0 &&
		    (!ifm_tunnel_alias_spec("t0", alias2, &t2, store2, sizeof(store2)) ||
		     ifm_tunnel_spec_problem(&t2, out, sizeof(out)) || t2.id != t.id ||
		     t2.has_id != t.has_id || strcmp(t2.type, t.type) ||
		     ifm_tunnel_spec_version(&t2) != ifm_tunnel_spec_version(&t) ||
		     t2.hwid != t.hwid ||
		     (t2.erspan_dir == IFM_DIR_EGRESS) != (t.erspan_dir == IFM_DIR_EGRESS)))
			abort();
	}
	if (ifm_tunnel_alias_of(l.alias, out) && ifm_ifname_problem(out))
		abort(); /* "of=" is a whole, valid name or none */
	if (ifm_collector_mark_parse(l.alias, &m)) {
		for (int i = 0; i < m.nports; i++) {
			if (ifm_ifname_problem(m.ports[i]))
				abort(); /* never a cut or bad name */
			ports[i] = m.ports[i];
		}
		if (ifm_collector_mark_format(m.sink, ports, m.nports, out, sizeof(out)) == 0) {
			if (!ifm_collector_mark_parse(out, &again) || again.nports != m.nports ||
			    strcmp(again.sink, m.sink))
				abort();
			for (int i = 0; i < m.nports; i++)
				if (strcmp(again.ports[i], m.ports[i]))
					abort();
		}
	}
	return 0;
}
