// SPDX-License-Identifier: GPL-2.0-or-later
/* Every field's judge (lib/spec.c): its limits, and that nothing is cut short. */
#include "ifmirror.h"
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static void test_number(void)
{
	unsigned long n = 7;

	CHECK(ifm_spec_number("0", 0, 10, &n) && n == 0);
	CHECK(ifm_spec_number("10", 0, 10, &n) && n == 10);
	CHECK(!ifm_spec_number("11", 0, 10, &n));
	CHECK(!ifm_spec_number("-1", 0, 10, &n));
	CHECK(!ifm_spec_number("+1", 0, 10, &n));
	CHECK(!ifm_spec_number(" 1", 0, 10, &n));
	CHECK(!ifm_spec_number("1 ", 0, 10, &n));
	CHECK(!ifm_spec_number("1x", 0, 10, &n));
	CHECK(!ifm_spec_number("", 0, 10, &n));
	CHECK(!ifm_spec_number(NULL, 0, 10, &n));
	CHECK(!ifm_spec_number("99999999999999999999999", 0, ~0UL, &n)); /* overflow */
	CHECK(ifm_spec_number("4294967295", 0, 4294967295UL, &n) && n == 4294967295UL);
	CHECK(!ifm_spec_number("4294967296", 0, 4294967295UL, &n));
}

static void test_sample(void)
{
	unsigned int s = 5;

	CHECK(ifm_spec_sample("1", &s) == NULL && s == 1);
	CHECK(ifm_spec_sample("2147483647", &s) == NULL && s == 2147483647U);
	CHECK(ifm_spec_sample("2147483648", &s) != NULL && s == 2147483647U);
	CHECK(ifm_spec_sample("0", &s) != NULL);
	{
		bool b = true;

		CHECK(ifm_spec_yes_no("no", &b) == NULL && !b);
		CHECK(ifm_spec_yes_no("yes", &b) == NULL && b);
		CHECK(ifm_spec_yes_no("Yes", &b) != NULL && b);
		CHECK(ifm_spec_yes_no("yes ", &b) != NULL && ifm_spec_yes_no("", &b) != NULL);
	}
	CHECK(ifm_spec_sample("zero", &s) != NULL);
	CHECK(!strcmp(ifm_spec_sample("0", &s), "not a whole number from 1 to 2147483647"));
}

static void test_snaplen_port(void)
{
	unsigned int v = 0;

	CHECK(ifm_spec_snaplen("14", &v) == NULL && v == 14);
	CHECK(ifm_spec_snaplen("65535", &v) == NULL && v == 65535);
	CHECK(ifm_spec_snaplen("13", &v) != NULL && v == 65535);
	CHECK(ifm_spec_snaplen("65536", &v) != NULL);
	CHECK(!strcmp(ifm_spec_snaplen("10", &v),
		      "not a number of bytes from 14 (the Ethernet header) to 65535"));
	CHECK(ifm_spec_port("1", &v) == NULL && v == 1);
	CHECK(ifm_spec_port("65535", &v) == NULL && v == 65535);
	CHECK(ifm_spec_port("0", &v) != NULL);
	CHECK(ifm_spec_port("65536", &v) != NULL);
}

static void test_rate_burst(void)
{
	unsigned long long b = 0;
	unsigned int u = 0;

	CHECK(ifm_spec_rate("100mbit", &b) == NULL && b == 100000000ULL);
	CHECK(ifm_spec_rate("1gbit", &b) == NULL && b == 1000000000ULL);
	CHECK(ifm_spec_rate("500kbit/s", &b) == NULL && b == 500000ULL);
	CHECK(ifm_spec_rate("1.5Gbit", &b) == NULL && b == 1500000000ULL);
	CHECK(ifm_spec_rate("8kbit", &b) == NULL && b == 8000ULL);
	CHECK(ifm_spec_rate("100gbit", &b) == NULL && b == 100000000000ULL);
	CHECK(ifm_spec_rate("1mbps", &b) == NULL && b == 8000000ULL);
	CHECK(ifm_spec_rate("2mibit", &b) == NULL && b == 2097152ULL);
	CHECK(ifm_spec_rate("7999bit", &b) != NULL && b == 2097152ULL);
	CHECK(ifm_spec_rate("101gbit", &b) != NULL);
	CHECK(ifm_spec_rate("100000", &b) != NULL);
	CHECK(!strncmp(ifm_spec_rate("100000", &b), "needs a unit", 12));
	CHECK(!strncmp(ifm_spec_rate("10furlongs", &b), "unknown unit", 12));
	CHECK(ifm_spec_rate("", &b) != NULL);
	CHECK(ifm_spec_rate("mbit", &b) != NULL);
	CHECK(ifm_spec_rate("-1mbit", &b) != NULL);
	CHECK(ifm_spec_rate(".5mbit", &b) != NULL);
	CHECK(ifm_spec_rate("5.mbit", &b) != NULL);
	CHECK(ifm_spec_rate("1.2.3mbit", &b) != NULL);
	CHECK(ifm_spec_rate("10mbit/", &b) != NULL);
	CHECK(ifm_spec_rate("10mbit/s/s", &b) != NULL);
	CHECK(ifm_spec_rate("99999999999999999999gbit", &b) != NULL);
	CHECK(ifm_spec_rate("10 mbit", &b) != NULL);
	CHECK(ifm_spec_rate(NULL, &b) != NULL);

	CHECK(ifm_spec_burst("2048", &u) == NULL && u == 2048);
	CHECK(ifm_spec_burst("64k", &u) == NULL && u == 65536);
	CHECK(ifm_spec_burst("64kb", &u) == NULL && u == 65536);
	CHECK(ifm_spec_burst("256mb", &u) == NULL && u == (256U << 20));
	CHECK(ifm_spec_burst("2047", &u) != NULL && u == (256U << 20));
	CHECK(ifm_spec_burst("257m", &u) != NULL);
	CHECK(ifm_spec_burst("4294967296", &u) != NULL);
	CHECK(ifm_spec_burst("99999999999999999999", &u) != NULL);
	CHECK(ifm_spec_burst("10kbit", &u) != NULL);
	CHECK(ifm_spec_burst("-5", &u) != NULL);
	CHECK(ifm_spec_burst("", &u) != NULL);
	CHECK(ifm_burst_default(8000) == 131072); /* one GSO packet whole: IFM_BURST_GSO */
	CHECK(ifm_burst_default(8000000ULL) == 131072);
	CHECK(ifm_burst_default(40000000ULL) == 250000);
	CHECK(ifm_burst_default(1000000000ULL) == 6250000);
	CHECK(ifm_burst_default(IFM_RATE_MAX) == IFM_BURST_MAX);
}

static void test_dir_match_addr(void)
{
	char longexpr[IFM_MATCH_MAX + 2];
	unsigned char a[16];
	enum ifm_dir d;
	int fam;

	CHECK(ifm_spec_dir("in", &d) == NULL && d == IFM_DIR_INGRESS);
	CHECK(ifm_spec_dir("both", &d) == NULL && d == IFM_DIR_BOTH);
	CHECK(ifm_spec_dir("sideways", &d) != NULL && d == 0);
	CHECK(ifm_spec_match("tcp") == NULL);
	CHECK(ifm_spec_match("") != NULL);
	memset(longexpr, 'x', sizeof(longexpr) - 1);
	longexpr[IFM_MATCH_MAX] = '\0';
	CHECK(ifm_spec_match(longexpr) == NULL);          /* 1023 bytes: taken whole */
	longexpr[IFM_MATCH_MAX] = 'x';
	longexpr[IFM_MATCH_MAX + 1] = '\0';
	CHECK(ifm_spec_match(longexpr) != NULL);          /* 1024: refused, never cut */
	CHECK(ifm_spec_addr("192.0.2.1", &fam, a) == NULL && fam == AF_INET && a[3] == 1);
	CHECK(ifm_spec_addr("2001:db8::2", &fam, a) == NULL && fam == AF_INET6 && a[15] == 2);
	CHECK(ifm_spec_addr("192.0.2.300", &fam, a) != NULL && fam == 0);
	CHECK(ifm_spec_addr("10.9.0", &fam, NULL) != NULL);
}

static void test_names(void)
{
	struct ifm_names n;
	char why[160], many[400] = "";

	CHECK(ifm_spec_names("eth1 eth2,eth3\teth4", 16, false, NULL, NULL, &n) == 0 && n.n == 4 &&
	      !strcmp(n.v[0], "eth1") && !strcmp(n.v[3], "eth4"));
	ifm_names_free(&n);
	CHECK(ifm_spec_names("eth1 eth1", 16, true, NULL, NULL, &n) == 0 && n.n == 1);
	ifm_names_free(&n);
	CHECK(ifm_spec_names("eth1 eth1", 16, false, NULL, NULL, &n) == 0 && n.n == 2);
	ifm_names_free(&n);
	CHECK(ifm_spec_names("eth1 eth/2", 16, false, NULL, NULL, &n) == -EINVAL &&
	      !strcmp(n.word, "eth/2"));
	CHECK(!strcmp(ifm_names_problem(&n, "mirror-to", why, sizeof(why)),
		      "mirror-to 'eth/2': interface name contains '/', ':' or white space"));
	ifm_names_free(&n);
	CHECK(ifm_spec_names("eth0 eth1", 16, false, "eth0", "the interface itself", &n) == -EINVAL);
	CHECK(!strcmp(ifm_names_problem(&n, "mirror-to", why, sizeof(why)),
		      "mirror-to 'eth0': that is the interface itself"));
	ifm_names_free(&n);
	CHECK(ifm_spec_names(" , ", 16, false, NULL, NULL, &n) == -EINVAL &&
	      !strcmp(ifm_names_problem(&n, "ports", why, sizeof(why)), "ports: no interface named"));
	ifm_names_free(&n);
	/* a name too long is refused, not cut to 15 characters */
	CHECK(ifm_spec_names("eth1 averyveryverylongname", 16, false, NULL, NULL, &n) == -EINVAL);
	ifm_names_free(&n);
	/* more names than allowed: refused, not the first 16 taken */
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "p%d ", i);
	CHECK(ifm_spec_names(many, 16, false, NULL, NULL, &n) == -EINVAL &&
	      !strcmp(n.why, "more than 16 interfaces"));
	ifm_names_free(&n);
	/* a long list is never cut short: 200 names, all there */
	{
		static char big[200 * 6 + 1];

		big[0] = '\0';
		for (int i = 0; i < 200; i++)
			snprintf(big + strlen(big), sizeof(big) - strlen(big), "v%03d ", i);
		CHECK(ifm_spec_names(big, 4096, false, NULL, NULL, &n) == 0 && n.n == 200 &&
		      !strcmp(n.v[199], "v199"));
		ifm_names_free(&n);
	}
}

static void test_ifname(void)
{
	CHECK(ifm_ifname_problem("123456789012345") == NULL);
	CHECK(ifm_ifname_problem("1234567890123456") != NULL);
	CHECK(ifm_ifname_problem("a\x01") != NULL);
}

static void test_source_patterns(void)
{
	const char *vms[] = { "tap*", "vnet?", "@master:vmbr0", "!tapmgmt0", "!@master:vmbr9" };
	const char *only_excl[] = { "!tap*" };

	/* the judge */
	CHECK(ifm_spec_source_word("eth0") == NULL);
	CHECK(ifm_spec_source_word("tap*") == NULL);
	CHECK(ifm_spec_source_word("eth[0-3]") == NULL);
	CHECK(ifm_spec_source_word("[@]x") == NULL);
	CHECK(ifm_spec_source_word("[]!]x") == NULL);
	CHECK(ifm_spec_source_word("[!]x") != NULL); /* the ] is a member: open */
	CHECK(ifm_spec_source_word("@master:vmbr0") == NULL);
	CHECK(ifm_spec_source_word("!tapmgmt0") == NULL);
	CHECK(ifm_spec_source_word("!tap9*") == NULL);
	CHECK(ifm_spec_source_word("!@master:br1") == NULL);
	CHECK(ifm_spec_source_word("") != NULL);
	CHECK(ifm_spec_source_word("!") != NULL);
	CHECK(ifm_spec_source_word("!!x") != NULL);
	CHECK(ifm_spec_source_word("@master:") != NULL);
	CHECK(ifm_spec_source_word("@master:br*") != NULL);
	CHECK(ifm_spec_source_word("@slave:br0") != NULL);
	CHECK(ifm_spec_source_word("@master:1234567890123456") != NULL);
	CHECK(ifm_spec_source_word("tap[0-3") != NULL);
	CHECK(ifm_spec_source_word("tap*/x") != NULL);
	CHECK(ifm_spec_source_word("tap*:1") != NULL);
	CHECK(ifm_spec_source_word("tap\x01*") != NULL);
	CHECK(ifm_spec_source_word("tap\x7f*") != NULL);
	CHECK(ifm_spec_source_word("tap *") != NULL);
	{
		char longpat[80];

		memset(longpat, 'a', sizeof(longpat));
		longpat[0] = '*';
		longpat[64] = '\0';
		CHECK(ifm_spec_source_word(longpat) != NULL);
		longpat[63] = '\0';
		CHECK(ifm_spec_source_word(longpat) == NULL);
	}
	CHECK(ifm_source_kind("eth0") == IFM_SRC_NAME && ifm_source_kind("tap*") == IFM_SRC_GLOB &&
	      ifm_source_kind("@master:b") == IFM_SRC_MASTER &&
	      ifm_source_kind("!x") == IFM_SRC_EXCLUDE);

	/* the matches */
	CHECK(ifm_sources_match(vms, 5, "tap100i0", NULL));
	CHECK(ifm_sources_match(vms, 5, "vnet1", NULL));
	CHECK(!ifm_sources_match(vms, 5, "vnet12", NULL));
	CHECK(ifm_sources_match(vms, 5, "fwpr1p0", "vmbr0"));
	CHECK(!ifm_sources_match(vms, 5, "fwpr1p0", "vmbr1"));
	CHECK(!ifm_sources_match(vms, 5, "fwpr1p0", NULL));
	CHECK(!ifm_sources_match(vms, 5, "tapmgmt0", NULL));        /* excluded */
	CHECK(!ifm_sources_match(vms, 5, "tapmgmt0", "vmbr0"));
	CHECK(!ifm_sources_match(vms, 5, "tap1", "vmbr9"));         /* excluded bridge */
	CHECK(ifm_sources_match(vms, 5, "tapmgmt1", NULL));
	CHECK(!ifm_sources_match(vms, 5, "eth0", NULL));
	CHECK(!ifm_sources_match(only_excl, 1, "eth0", NULL));       /* nothing positive */
	CHECK(!ifm_sources_match(only_excl, 1, "tap0", NULL));
	CHECK(ifm_source_pattern_matches("eth[0-3]", "eth2", NULL));
	CHECK(!ifm_source_pattern_matches("eth[0-3]", "eth4", NULL));
	CHECK(ifm_source_pattern_matches("[]!]x", "!x", NULL));
	CHECK(ifm_source_pattern_matches("[@]x", "@x", NULL));
	CHECK(ifm_source_pattern_matches("[*]x", "*x", NULL));
}

static void test_tunnel_id(void)
{
	char src[IFM_IFNAMSIZ];
	enum ifm_dir d = 0;
	unsigned long id = 0;

	CHECK(!ifm_spec_tunnel_id("eth0:ingress=101", src, &d, &id) && !strcmp(src, "eth0") &&
	      d == IFM_DIR_INGRESS && id == 101);
	CHECK(!ifm_spec_tunnel_id("eth0:out=0", src, &d, &id) && d == IFM_DIR_EGRESS && id == 0);
	CHECK(!ifm_spec_tunnel_id("tap9=4294967295", src, &d, &id) && !strcmp(src, "tap9") &&
	      d == IFM_DIR_BOTH && id == 4294967295UL);
	/* a name with '=' in it: the last '=' is the id's */
	CHECK(!ifm_spec_tunnel_id("a=b:both=7", src, &d, &id) && !strcmp(src, "a=b") && id == 7);
	CHECK(ifm_spec_tunnel_id("eth0:ingress=4294967296", src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id("eth0:ingress=", src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id("eth0:ingress=-1", src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id("eth0:ingress", src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id("eth0:sideways=1", src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id("eth0:ingressingress=1", src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id(":ingress=1", src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id("=1", src, &d, &id) != NULL);
	/* too long: refused, never cut */
	CHECK(!strcmp(ifm_spec_tunnel_id("abcdefghijklmnop:ingress=1", src, &d, &id),
		      "interface name longer than 15 characters"));
	CHECK(ifm_spec_tunnel_id("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm=1",
				 src, &d, &id) != NULL);
	CHECK(ifm_spec_tunnel_id(NULL, src, &d, &id) != NULL);
}

int main(void)
{
	test_source_patterns();
	test_number();
	test_sample();
	test_snaplen_port();
	test_rate_burst();
	test_dir_match_addr();
	test_names();
	test_ifname();
	test_tunnel_id();
	return CHECK_DONE("spec");
}
