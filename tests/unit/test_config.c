// SPDX-License-Identifier: GPL-2.0-or-later
/* The /etc/ifmirror.conf parser (cli/config.c): what it takes, what it refuses, and where. */
#include "cli.h"
#include "check.h"

#include <errno.h>
#include <string.h>

static char errors[4096];

static void collect(enum ifm_level level, const char *text, void *arg)
{
	(void)arg;
	if (level == IFM_LEVEL_ERROR)
		snprintf(errors + strlen(errors), sizeof(errors) - strlen(errors), "%s\n", text);
}

static int parse(const char *text, struct ifm_config *c)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	errors[0] = '\0';
	r = ifm_config_parse(f, "t.conf", c);
	fclose(f);
	return r;
}

/* the file is refused, and the errors include this line */
static bool refused(const char *text, const char *error)
{
	struct ifm_config c;
	int r = parse(text, &c);

	if (r == 0)
		ifm_config_free(&c);
	if (r == 0 || !strstr(errors, error))
		fprintf(stderr, "  expected '%s', got:\n%s", error, errors);
	return r == -EINVAL && strstr(errors, error);
}

int main(void)
{
	struct ifm_config c;

	ifm_report_set(&(struct ifm_report){ .prog = "test", .line = collect });
	CHECK(parse("# a plan\n"
		    "[collector br-mirror]\nports = eth1, eth2\nsnaplen = 128\n\n"
		    "[tunnel vx0]\ntype = vxlan\nremote = 192.0.2.50\nvni = 42\ndstport = 4790\n"
		    "[session web]\nsource = eth0 eth3\nto = br-mirror\ndirection = ingress\n"
		    "match = tcp port 443\nsample = 10\n", &c) == 0);
	CHECK(c.ncollectors == 1 && c.collectors[0].nports == 2 &&
	      !strcmp(c.collectors[0].ports[1], "eth2") && c.collectors[0].snaplen == 128);
	CHECK(c.ntunnels == 1 && !strcmp(c.tunnels[0].type, "vxlan") && c.tunnels[0].id == 42 &&
	      !strcmp(c.tunnels[0].id_key, "vni") && c.tunnels[0].dstport == 4790);
	CHECK(c.nsessions == 1 && c.sessions[0].nsources == 2 && c.sessions[0].dir == IFM_DIR_INGRESS &&
	      !strcmp(c.sessions[0].match, "tcp port 443") && c.sessions[0].sample == 10 &&
	      c.sessions[0].line == 11 && c.sessions[0].source_line == 12);
	ifm_config_free(&c);

	/* source patterns: kept apart from the names, in their order */
	CHECK(parse("[session vms]\nsource = eth0 tap*, @master:vmbr0 !tapmgmt0\nto = br0\n", &c) == 0);
	CHECK(c.sessions[0].nsources == 1 && !strcmp(c.sessions[0].sources[0], "eth0") &&
	      c.sessions[0].npats == 3 && !strcmp(c.sessions[0].pats[0], "tap*") &&
	      !strcmp(c.sessions[0].pats[1], "@master:vmbr0") &&
	      !strcmp(c.sessions[0].pats[2], "!tapmgmt0"));
	ifm_config_free(&c);
	CHECK(parse("[session vms]\nsource = vnet*\nto = br0\n", &c) == 0);
	CHECK(c.sessions[0].nsources == 0 && c.sessions[0].npats == 1);
	ifm_config_free(&c);
	CHECK(refused("[session a]\nsource = !tap0 !tap1\nto = br0\n",
		      "t.conf:2: source: exclusions only; name a device or a pattern too"));
	CHECK(refused("[session a]\nsource = tap[0-\nto = br0\n",
		      "t.conf:2: source 'tap[0-': pattern has a '[' without its ']'"));
	CHECK(refused("[session a]\nsource = @bridge:br1\nto = br0\n",
		      "t.conf:2: source '@bridge:br1': a pattern starting with '@' is @master:BRIDGE"));

	CHECK(refused("[session a]\nsource = eth0\nto = eth1\nsample = 0\n",
		      "t.conf:4: sample '0': not a whole number from 1 to 2147483647"));
	CHECK(refused("[collector c]\nports = eth1\nsnaplen = 10\n",
		      "t.conf:3: snaplen '10': not a number of bytes from 14"));
	CHECK(refused("[tunnel t]\ntype = vxlan\nremote = 192.0.2.300\nvni = 1\n",
		      "t.conf:3: remote '192.0.2.300': not an IPv4 or IPv6 address"));
	CHECK(refused("[tunnel t]\ntype = vxlan\nremote = 192.0.2.1\nkey = 1\n",
		      "t.conf:4: key: a vxlan tunnel takes 'vni'"));
	CHECK(refused("[tunnel t]\ntype = ipip\nremote = 192.0.2.1\n",
		      "type 'ipip': not vxlan, gretap, erspan or geneve"));
	/* geneve and erspan version 2 */
	CHECK(parse("[tunnel g]\ntype = geneve\nremote = 2001:db8::5\nvni = 16777215\ndstport = 6082\n"
		    "[tunnel e]\ntype = erspan\nremote = 192.0.2.1\nsession-id = 3\nversion = 2\n"
		    "hwid = 63\n", &c) == 0);
	CHECK(c.ntunnels == 2 && !strcmp(c.tunnels[0].type, "geneve") && c.tunnels[0].id == 16777215 &&
	      c.tunnels[0].dstport == 6082 && c.tunnels[1].version == 2 && c.tunnels[1].hwid == 63 &&
	      c.tunnels[1].has_hwid);
	ifm_config_free(&c);
	CHECK(refused("[tunnel t]\ntype = geneve\nremote = 192.0.2.1\nvni = 16777216\n",
		      "t.conf:4: vni '16777216': not a number from 0 to 16777215"));
	CHECK(refused("[tunnel t]\ntype = geneve\nremote = 192.0.2.1\nvni = 1\nlocal = 192.0.2.2\n",
		      "[tunnel t]: geneve takes no 'local' (the route to the remote picks it)"));
	CHECK(refused("[tunnel t]\ntype = geneve\nremote = 192.0.2.1\nvni = 1\ndev = eth0\n",
		      "[tunnel t]: geneve takes no 'dev' (the route to the remote picks it)"));
	CHECK(refused("[tunnel t]\ntype = erspan\nremote = 192.0.2.1\nsession-id = 1\nversion = 3\n",
		      "t.conf:5: version '3': not 1 or 2 (erspan's)"));
	CHECK(refused("[tunnel t]\ntype = erspan\nremote = 192.0.2.1\nsession-id = 1\nhwid = 64\n",
		      "t.conf:5: hwid '64': not a number from 0 to 63"));
	CHECK(refused("[tunnel t]\ntype = erspan\nremote = 192.0.2.1\nsession-id = 1\nhwid = 5\n",
		      "t.conf:5: [tunnel t]: hwid is for erspan version 2 (version = 2)"));
	CHECK(refused("[tunnel t]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\nversion = 2\n",
		      "t.conf:5: [tunnel t]: version is for erspan tunnels only"));
	CHECK(refused("[tunnel t]\ntype = erspan\nremote = 192.0.2.1\nsession-id = 1024\n",
		      "session-id '1024': not a number from 0 to 1023"));
	CHECK(refused("[tunnel t]\ntype = gretap\nremote = 192.0.2.1\ndstport = 4789\n",
		      "[tunnel t]: dstport is for vxlan or geneve tunnels only"));
	CHECK(refused("[session a]\nsource = eth0 averyveryverylongname\nto = eth1\n",
		      "t.conf:2: source 'averyveryverylongname': interface name longer than 15"));
	CHECK(refused("[session a]\nsource = eth0\nto = eth0\n", "source eth0 is also its destination"));
	CHECK(refused("[session a]\nsource = eth0\nto = eth1\n[session b]\nsource = eth0\nto = eth1\n",
		      "eth0 to eth1 is in [session a] (line 1) already"));
	CHECK(refused("[session a]\nsource = eth0\nsource = eth2\nto = eth1\n",
		      "t.conf:3: source given twice in this section"));
	/* ids: per-source ids of a tunnel */
	CHECK(parse("[tunnel vx]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\n"
		    "ids = eth0:ingress=2, eth0:egress=3 eth1=4\n", &c) == 0);
	CHECK(c.tunnels[0].nids == 3 && c.tunnels[0].ids_line == 5 &&
	      !strcmp(c.tunnels[0].ids[2].source, "eth1") && c.tunnels[0].ids[2].dir == IFM_DIR_BOTH &&
	      c.tunnels[0].ids[1].dir == IFM_DIR_EGRESS && c.tunnels[0].ids[1].id == 3);
	ifm_config_free(&c);
	CHECK(refused("[tunnel vx]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\nids = eth0=1\n",
		      "t.conf:5: ids: 1 is the tunnel's own vni"));
	CHECK(refused("[tunnel vx]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\nids = eth0=2 eth1:in=2\n",
		      "t.conf:5: ids 'eth1:in=2': id 2 is eth0 both's already"));
	CHECK(refused("[tunnel vx]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\nids = eth0=2 eth0:in=3\n",
		      "t.conf:5: ids 'eth0:in=3': eth0 ingress has an id already (2)"));
	CHECK(refused("[tunnel e]\ntype = erspan\nremote = 192.0.2.1\nsession-id = 1\nids = eth0=1024\n",
		      "t.conf:5: ids: eth0 both=1024: the erspan session id must be 0 to 1023"));
	CHECK(refused("[tunnel averylongname1]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\nids = eth0=12\n",
		      "t.conf:5: ids: the device for id 12, averylongname1-12, would be longer than 15 bytes"));
	CHECK(refused("[tunnel vx]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\nids = ,\n",
		      "t.conf:5: ids: none given"));
	CHECK(refused("[tunnel vx]\ntype = vxlan\nremote = 192.0.2.1\nvni = 1\nids = eth0=2\n"
		      "[collector vx-2]\nports = eth3\n",
		      "t.conf:5: ids: the device for id 2, vx-2, is a section of this file"));
	CHECK(refused("[bogus x]\n", "unknown section type 'bogus'"));
	CHECK(refused("key = value\n", "t.conf:1: 'key' outside of any section"));
	CHECK(refused("[collector c]\n", "[collector c] needs 'ports'"));
	/* a match too long to be recorded whole is refused, not cut */
	{
		static char big[1200 + 64];

		snprintf(big, sizeof(big), "[session a]\nsource = eth0\nto = eth1\nmatch = ");
		memset(big + strlen(big), 'x', 1100);
		CHECK(refused(big, "t.conf:4: match: longer than 1023 bytes"));
	}
	return CHECK_DONE("config");
}
