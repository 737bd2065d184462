// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tunnel specs (lib/tunnel.c): the judge of ERSPAN version 2's fields and of
 * geneve, the alias that records them, and each type's link message read
 * back by its own parser (what the kernel would echo: version, hwid,
 * direction bit, overhead).
 */
#include "ifmirror.h"
#include "tunnel_int.h"
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <linux/if_link.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

static const char *problem(const struct ifm_tunnel_spec *t)
{
	static char buf[200];

	return ifm_tunnel_spec_problem(t, buf, sizeof(buf));
}

static bool refused(struct ifm_tunnel_spec t, const char *why)
{
	const char *p = problem(&t);

	if (!p || strcmp(p, why))
		fprintf(stderr, "  expected '%s', got '%s'\n", why, p ? p : "(accepted)");
	return p && !strcmp(p, why);
}

static void test_judge(void)
{
	struct ifm_tunnel_spec e = { .name = "e0", .type = "erspan", .remote = "192.0.2.9",
				     .id = 5, .has_id = true };
	struct ifm_tunnel_spec g = { .name = "g0", .type = "geneve", .remote = "2001:db8::9",
				     .id = 16777215, .has_id = true };
	struct ifm_tunnel_spec t;

	/* version 1 as before; version 2 with every hwid and both directions */
	CHECK(!problem(&e) && ifm_tunnel_spec_version(&e) == 1);
	t = e, t.version = 1;
	CHECK(!problem(&t) && ifm_tunnel_spec_version(&t) == 1);
	t = e, t.version = 2, t.hwid = 63, t.has_hwid = true, t.erspan_dir = IFM_DIR_EGRESS;
	CHECK(!problem(&t) && ifm_tunnel_spec_version(&t) == 2);
	t.erspan_dir = IFM_DIR_INGRESS;
	CHECK(!problem(&t));
	t = e, t.version = 3;
	CHECK(refused(t, "the erspan version must be 1 or 2"));
	t = e, t.version = 2, t.hwid = 64, t.has_hwid = true;
	CHECK(refused(t, "the erspan hwid must be 0 to 63"));
	/* what version 1 has no field for is refused, not dropped */
	t = e, t.hwid = 1, t.has_hwid = true;
	CHECK(refused(t, "a hwid is for erspan version 2"));
	t = e, t.version = 1, t.erspan_dir = IFM_DIR_EGRESS;
	CHECK(refused(t, "the direction bit is for erspan version 2"));
	t = e, t.version = 2, t.erspan_dir = IFM_DIR_BOTH;
	CHECK(refused(t, "the erspan direction bit is ingress or egress"));
	t = g, t.version = 2;
	CHECK(refused(t, "a version, hwid or direction bit is for erspan, not geneve"));
	t = g, t.type = "vxlan", t.has_hwid = true;
	CHECK(refused(t, "a version, hwid or direction bit is for erspan, not vxlan"));
	t = g, t.type = "gretap", t.erspan_dir = IFM_DIR_EGRESS;
	CHECK(refused(t, "a version, hwid or direction bit is for erspan, not gretap"));
	CHECK(ifm_tunnel_spec_version(&g) == 0);

	/* geneve: a 24-bit vni, IPv4 or IPv6, a UDP port; no local, no dev */
	CHECK(!problem(&g));
	t = g, t.remote = "192.0.2.9", t.dstport = 6082;
	CHECK(!problem(&t));
	t = g, t.id = 16777216;
	CHECK(refused(t, "the geneve vni must be 0 to 16777215"));
	t = g, t.has_id = false;
	CHECK(refused(t, "geneve needs a vni (0 to 16777215)"));
	t = g, t.local = "2001:db8::1";
	CHECK(refused(t, "geneve takes no local address (the route to the remote picks it)"));
	t = g, t.dev = "eth2";
	CHECK(refused(t, "geneve takes no underlay device (the route to the remote picks it)"));
	CHECK(ifm_tunnel_type("geneve") && !strcmp(ifm_tunnel_type_list(),
						  "vxlan, gretap, erspan or geneve"));
	CHECK(!strcmp(ifm_tunnel_udp_types(), "vxlan or geneve"));
}

static bool alias_is(const struct ifm_tunnel_spec *t, const char *want)
{
	struct ifm_tunnel_addrs a;
	char alias[IFM_ALIAS_MAX];

	ifm_tunnel_addrs(t, &a);
	if (ifm_tunnel_alias(t, &a, alias, sizeof(alias)) < 0 || strcmp(alias, want)) {
		fprintf(stderr, "  alias '%s', expected '%s'\n", alias, want);
		return false;
	}
	return true;
}

static void test_alias(void)
{
	struct ifm_tunnel_spec t = { .name = "e0", .type = "erspan", .remote = "192.0.2.9",
				     .id = 5, .has_id = true, .version = 2, .hwid = 7,
				     .has_hwid = true, .erspan_dir = IFM_DIR_EGRESS };
	struct ifm_tunnel_spec back;
	char store[IFM_ALIAS_MAX];

	CHECK(alias_is(&t, "ifmirror-tunnel type=erspan remote=192.0.2.9 session-id=5 version=2 "
			   "hwid=7 dir=egress"));
	CHECK(ifm_tunnel_alias_spec("e0", "ifmirror-tunnel type=erspan remote=192.0.2.9 session-id=5 "
				    "version=2 hwid=7 dir=egress", &back, store, sizeof(store)));
	CHECK(back.version == 2 && back.hwid == 7 && back.has_hwid &&
	      back.erspan_dir == IFM_DIR_EGRESS && back.id == 5 && !problem(&back));
	/* the defaults are not written: version 1, hwid 0 and ingress as before */
	t.hwid = 0, t.erspan_dir = IFM_DIR_INGRESS;
	CHECK(alias_is(&t, "ifmirror-tunnel type=erspan remote=192.0.2.9 session-id=5 version=2"));
	t.version = 1, t.has_hwid = false;
	CHECK(alias_is(&t, "ifmirror-tunnel type=erspan remote=192.0.2.9 session-id=5"));
	/* an alias of a tunnel made before there were versions */
	CHECK(ifm_tunnel_alias_spec("e0", "ifmirror-tunnel type=erspan remote=192.0.2.9 session-id=5",
				    &back, store, sizeof(store)));
	CHECK(ifm_tunnel_spec_version(&back) == 1 && !back.has_hwid && !back.erspan_dir &&
	      !problem(&back));

	t = (struct ifm_tunnel_spec){ .name = "g0", .type = "geneve", .remote = "2001:db8::9",
				      .id = 42, .has_id = true };
	CHECK(alias_is(&t, "ifmirror-tunnel type=geneve remote=2001:db8::9 vni=42"));
	t.dstport = 6082;
	CHECK(alias_is(&t, "ifmirror-tunnel type=geneve remote=2001:db8::9 vni=42 dstport=6082"));
	CHECK(ifm_tunnel_alias_spec("g0", "ifmirror-tunnel type=geneve remote=2001:db8::9 vni=42 "
				    "dstport=6082", &back, store, sizeof(store)));
	CHECK(!strcmp(back.type, "geneve") && back.id == 42 && back.dstport == 6082 && !problem(&back));
}

/* the type's link message, read back by the type's parser */
static bool echo(const struct ifm_tunnel_spec *t, struct ifm_tunnel_info *ti)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct ifm_tunnel_addrs a;
	struct nlattr *data;
	bool ok;

	memset(ti, 0, sizeof(*ti));
	ifm_tunnel_addrs(t, &a);
	ti->ops = ifm_tunnel_type(t->type);
	ti->type = t->type;
	snprintf(ti->kind, sizeof(ti->kind), "%s", a.kind);
	ok = msg && (data = nla_nest_start(msg, IFLA_INFO_DATA)) &&
	     ti->ops->build(msg, t, &a, 0) == 0;
	if (ok) {
		nla_nest_end(msg, data);
		ti->ops->parse(data, ti);
	}
	nlmsg_free(msg);
	return ok;
}

static void test_messages(void)
{
	struct ifm_tunnel_spec t = { .name = "e0", .type = "erspan", .remote = "192.0.2.9",
				     .id = 5, .has_id = true };
	struct ifm_tunnel_info ti;
	char text[100];

	/* version 1: a type II header, 8 bytes */
	CHECK(echo(&t, &ti) && ti.version == 1 && ti.id == 5 && ti.overhead == 50);
	/* version 2: a type III header, 12 bytes, with hwid and direction bit */
	t.version = 2, t.hwid = 33, t.has_hwid = true, t.erspan_dir = IFM_DIR_EGRESS;
	CHECK(echo(&t, &ti) && ti.version == 2 && ti.hwid == 33 &&
	      ti.erspan_dir == IFM_DIR_EGRESS && ti.overhead == 54);
	t.remote = "2001:db8::9", t.erspan_dir = 0;
	CHECK(echo(&t, &ti) && !strcmp(ti.kind, "ip6erspan") && ti.version == 2 && ti.hwid == 33 &&
	      ti.erspan_dir == IFM_DIR_INGRESS && ti.overhead == 74 && ti.family == AF_INET6);
	CHECK(!strcmp(ifm_tunnel_version_text(ti.version, ti.hwid, ti.erspan_dir, text,
					      sizeof(text)), ", version 2, hwid 33, direction ingress"));
	CHECK(!strcmp(ifm_tunnel_version_text(1, 0, IFM_DIR_INGRESS, text, sizeof(text)), ""));

	/* geneve: outer IP + UDP 8 + Geneve 8 + inner Ethernet 14 */
	t = (struct ifm_tunnel_spec){ .name = "g0", .type = "geneve", .remote = "192.0.2.9",
				      .id = 4242, .has_id = true };
	CHECK(echo(&t, &ti) && ti.family == AF_INET && ti.id == 4242 && ti.dstport == 6081 &&
	      ti.overhead == 50 && !ti.df);
	t.remote = "2001:db8::9", t.dstport = 7000;
	CHECK(echo(&t, &ti) && ti.family == AF_INET6 && ti.dstport == 7000 && ti.overhead == 70 &&
	      ti.df && !strcmp(ti.kind, "geneve"));
}

int main(void)
{
	test_judge();
	test_alias();
	test_messages();
	return CHECK_DONE("tunnel");
}
