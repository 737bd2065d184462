// SPDX-License-Identifier: GPL-2.0-or-later
/* The MTU headroom arithmetic of tunnels (lib/headroom.c) and its warning text. */
#include "ifmirror.h"
#include "check.h"

#include <arpa/inet.h>
#include <string.h>

static struct ifm_tunnel_info tunnel(const char *type, int family, unsigned int overhead)
{
	struct ifm_tunnel_info ti = { .family = family, .overhead = overhead, .mtu = 1450 };

	ti.ops = ifm_tunnel_type(type);
	ti.type = type;
	snprintf(ti.name, sizeof(ti.name), "t0");
	return ti;
}

int main(void)
{
	struct ifm_tunnel_info ti = tunnel("vxlan", AF_INET, 50);
	struct ifm_headroom h = { 0 };
	char text[400];

	/* vxlan over IPv4: 50 bytes; a 1514-byte frame needs an underlay MTU of 1550 */
	ifm_headroom_compute(&ti, 1500, 1514, &h);
	CHECK(h.need == 1550 && h.snaplen == 1464 && !h.fits);
	ifm_headroom_compute(&ti, 1550, 1514, &h);
	CHECK(h.need == 1550 && h.snaplen == 1514 && h.fits);
	ifm_headroom_compute(&ti, 1500, 1464, &h);
	CHECK(h.fits);
	ifm_headroom_compute(&ti, 40, 1514, &h);       /* an underlay smaller than the overhead */
	CHECK(h.snaplen == 0 && !h.fits);

	ifm_headroom_compute(&ti, 1500, 1514, &h);
	snprintf(h.underlay, sizeof(h.underlay), "eth2");
	ifm_headroom_text(&ti, &h, "eth0's MTU 1500", text, sizeof(text));
	CHECK(!strcmp(text, "1514-byte frames (eth0's MTU 1500) + 36 bytes of vxlan/IPv4 headers = "
			    "1550 > 1500, the MTU of the underlay eth2: such copies leave as IP "
			    "fragments"));
	ti.df = true;
	ifm_headroom_text(&ti, &h, "x", text, sizeof(text));
	CHECK(strstr(text, ": such copies are dropped") != NULL);

	/* gretap without DF: fragments, but inner IPv4 with DF is dropped */
	ti = tunnel("gretap", AF_INET, 42);
	ifm_headroom_compute(&ti, 1500, 1514, &h);
	CHECK(h.need == 1542 && h.snaplen == 1472 && !h.fits);
	ifm_headroom_text(&ti, &h, "x", text, sizeof(text));
	CHECK(strstr(text, "those of IPv4 packets with DF are dropped") != NULL);

	/* erspan cuts frames longer than its own MTU itself */
	ti = tunnel("erspan", AF_INET6, 70);
	ti.mtu = 1400;
	ifm_headroom_compute(&ti, 1500, 1514, &h);
	CHECK(h.need == 1570 && h.snaplen == 1414 && !h.fits);
	ifm_headroom_text(&ti, &h, "x", text, sizeof(text));
	CHECK(strstr(text, "erspan cuts such copies to 1414 bytes") && strstr(text, "erspan/IPv6"));
	return CHECK_DONE("headroom");
}
