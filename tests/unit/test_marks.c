// SPDX-License-Identifier: GPL-2.0-or-later
/* The ownership marks (lib/marks.c) and the tunnel alias: written, read back, never cut. */
#include "ifmirror.h"
#include "tunnel_int.h"
#include "check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_collector(void)
{
	const char *ports[] = { "eth1", "eth2" };
	struct ifm_collector_mark m;
	struct ifm_link br = { .is_bridge = true };
	char buf[IFM_ALIAS_MAX];

	CHECK(ifm_collector_mark_format("br-sink", ports, 2, buf, sizeof(buf)) == 0);
	CHECK(!strcmp(buf, "ifmirror-collector sink=br-sink ports=eth1,eth2"));
	CHECK(ifm_collector_mark_parse(buf, &m) && m.nports == 2 && !strcmp(m.sink, "br-sink") &&
	      !strcmp(m.ports[1], "eth2"));
	CHECK(ifm_collector_mark_format("s", NULL, 0, buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "ifmirror-collector sink=s"));
	CHECK(!ifm_collector_mark_parse("ifmirror-collectorX sink=a", &m));
	CHECK(!ifm_collector_mark_parse("somebody's bridge", &m));
	snprintf(br.alias, sizeof(br.alias), "ifmirror-collector sink=s ports=a,b");
	CHECK(ifm_is_collector(&br) && ifm_collector_has_port(&br, "b") &&
	      !ifm_collector_has_port(&br, "c") && ifm_collector_sink_is(&br, "s"));
	/* a port name longer than an interface name is skipped, not cut to a
	 * prefix that names another device (issue 12: refresh enslaved it) */
	snprintf(br.alias, sizeof(br.alias),
		 "ifmirror-collector sink=s ports=a,port-0123456789abcdef,b");
	CHECK(ifm_collector_has_port(&br, "a") && ifm_collector_has_port(&br, "b") &&
	      !ifm_collector_has_port(&br, "port-0123456789"));
	CHECK(ifm_collector_mark_parse(br.alias, &m) && m.nports == 2);
	br.is_bridge = false;
	CHECK(!ifm_is_collector(&br) && !ifm_collector_has_port(&br, "b"));
	/* 16 ports of 15 characters do not fit an alias: refused, not cut */
	{
		static char names[IFM_MAX_PORTS][IFM_IFNAMSIZ];
		const char *many[IFM_MAX_PORTS];

		for (int i = 0; i < IFM_MAX_PORTS; i++) {
			snprintf(names[i], sizeof(names[i]), "port-%010d", i);
			many[i] = names[i];
		}
		CHECK(ifm_collector_mark_format("sink", many, IFM_MAX_PORTS, buf, sizeof(buf)) ==
		      -ENAMETOOLONG);
		CHECK(ifm_collector_mark_format("sink", many, 8, buf, sizeof(buf)) == 0);
		CHECK(ifm_collector_mark_parse(buf, &m) && m.nports == 8 &&
		      !strcmp(m.ports[7], names[7]));
	}
}

static void test_sink_snaplen_cookie(void)
{
	struct ifm_link l = { .ifindex = 7, .name = "br0" };
	struct ifm_cookie c;
	char name[IFM_IFNAMSIZ], buf[64];

	ifm_sink_default_name("br-mirror", name);
	CHECK(!strcmp(name, "br-mirror-sink"));
	ifm_sink_default_name("a-long-bridge1", name);   /* 10 + "-sink" fits IFNAMSIZ */
	CHECK(!strcmp(name, "a-long-bri-sink") && strlen(name) == 15);
	ifm_sink_mark("br0", l.alias, sizeof(l.alias));
	CHECK(!strcmp(l.alias, "ifmirror-sink of br0") && ifm_is_sink(&l) && ifm_is_sink_of(&l, "br0") &&
	      !ifm_is_sink_of(&l, "br1"));
	ifm_snaplen_mark(128, buf, sizeof(buf));
	CHECK(!strcmp(buf, "ifmirror-snaplen:128") && ifm_snaplen_mark_parse(buf) == 128);
	CHECK(ifm_snaplen_mark_parse("ifm_snaplen") == 0);
	ifm_cookie_make(&c, IFM_DIR_EGRESS, &l);
	CHECK(sizeof(c) == 16 && ifm_cookie_is_ours(&c) && c.dir == IFM_DIR_EGRESS &&
	      c.dest_ifindex == 7 && c.dest_hash == ifm_name_hash("br0"));
	c.version++;
	CHECK(!ifm_cookie_is_ours(&c));
	CHECK(ifm_tunnel_mark_is("ifmirror-tunnel type=vxlan") && !ifm_tunnel_mark_is("ifmirror-tunnelx"));
}

static void test_tunnel_alias(void)
{
	struct ifm_tunnel_spec t = { .name = "vx0", .type = "vxlan", .remote = "2001:db8:0:0::2",
				     .local = "2001:db8::1", .dev = "eth2", .id = 42, .has_id = true,
				     .dstport = 4790 };
	struct ifm_tunnel_spec back;
	struct ifm_tunnel_addrs a;
	char alias[IFM_ALIAS_MAX], store[IFM_ALIAS_MAX];

	ifm_tunnel_addrs(&t, &a);
	CHECK(a.family == AF_INET6 && !strcmp(a.kind, "vxlan") && a.dstport == 4790);
	CHECK(ifm_tunnel_alias(&t, &a, alias, sizeof(alias)) == 0);
	/* addresses as inet_ntop writes them: the canonical text */
	CHECK(!strcmp(alias, "ifmirror-tunnel type=vxlan remote=2001:db8::2 local=2001:db8::1 "
			     "dev=eth2 vni=42 dstport=4790"));
	CHECK(ifm_tunnel_alias_spec("vx0", alias, &back, store, sizeof(store)));
	CHECK(!strcmp(back.type, "vxlan") && !strcmp(back.remote, "2001:db8::2") && back.id == 42 &&
	      back.has_id && back.dstport == 4790 && !strcmp(back.dev, "eth2"));
	t = (struct ifm_tunnel_spec){ .name = "e0", .type = "erspan", .remote = "192.0.2.9",
				      .id = 5, .has_id = true };
	ifm_tunnel_addrs(&t, &a);
	CHECK(!strcmp(a.kind, "erspan") && ifm_tunnel_alias(&t, &a, alias, sizeof(alias)) == 0 &&
	      !strcmp(alias, "ifmirror-tunnel type=erspan remote=192.0.2.9 session-id=5"));
	CHECK(ifm_tunnel_alias(&t, &a, alias, 20) == -ENAMETOOLONG);
	CHECK(!ifm_tunnel_alias_spec("x", "not ours", &back, store, sizeof(store)));
}

/* the inode in lo's record: -1 when there is none */
static long long lo_inode(const char *dir)
{
	char path[512], line[256], name[64];
	long long ino = -1, i;
	struct dirent *e;
	DIR *d;
	FILE *f;
	int idx;

	snprintf(path, sizeof(path), "%s/owned", dir);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/owned/%s", dir, e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%d clsact %63s %lld", &idx, name, &i) == 3 && idx == 1 &&
			    !strcmp(name, "lo"))
				ino = i;
		fclose(f);
		unlink(path);
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/owned", dir);
	rmdir(path);
	return ino;
}

/*
 * Whether /sys shows this namespace's devices is decided once a process, on
 * a device asked about. A first device that is gone already (a watch's
 * source deleted in a burst) is no answer: it decided "not ours" for good,
 * and every record after it carried inode 0 instead of the device's.
 */
static void test_owned_first_device_gone(void)
{
	char dir[] = "/tmp/ifm-test-marks-XXXXXX";
	long long ino;

	CHECK(mkdtemp(dir) != NULL);
	setenv("IFMIRROR_RUN_DIR", dir, 1);
	CHECK(ifm_owned_set_dev(999999, "ifmgone0", "clsact", true) == 0);
	CHECK(ifm_owned_set_dev(1, "lo", "clsact", true) == 0);
	CHECK(ifm_owned_sync() == 0);
	ino = lo_inode(dir);
	CHECK(ino > 0);
	if (ino <= 0)
		fprintf(stderr, "lo's record has inode %lld\n", ino);
	rmdir(dir);
}

int main(void)
{
	test_collector();
	test_owned_first_device_gone();
	test_sink_snaplen_cookie();
	test_tunnel_alias();
	return CHECK_DONE("marks");
}
