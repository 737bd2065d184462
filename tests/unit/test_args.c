// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the argv parser of up, down and status. */
#include "cli.h"
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>


static int parse(enum ifm_cmd_kind k, const char *line, struct ifm_opts *o, char *err)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return ifm_parse_opts(k, argc, argv, o, err, 160);
}

static void test_names(void)
{
	CHECK(ifm_ifname_problem("eth0") == NULL);
	CHECK(ifm_ifname_problem("a") == NULL);
	CHECK(ifm_ifname_problem("123456789012345") == NULL);
	CHECK(ifm_ifname_problem("1234567890123456") != NULL);
	CHECK(ifm_ifname_problem("") != NULL);
	CHECK(ifm_ifname_problem(NULL) != NULL);
	CHECK(ifm_ifname_problem(".") != NULL);
	CHECK(ifm_ifname_problem("..") != NULL);
	CHECK(ifm_ifname_problem("...") == NULL);
	CHECK(ifm_ifname_problem("eth/0") != NULL);
	CHECK(ifm_ifname_problem("eth0:1") != NULL);
	CHECK(ifm_ifname_problem("eth 0") != NULL);
	CHECK(ifm_ifname_problem("eth\t0") != NULL);
	CHECK(ifm_ifname_problem("br-mirror.10") == NULL);
}

static void test_dirs(void)
{
	CHECK(ifm_dir_parse("ingress") == IFM_DIR_INGRESS);
	CHECK(ifm_dir_parse("egress") == IFM_DIR_EGRESS);
	CHECK(ifm_dir_parse("both") == IFM_DIR_BOTH);
	CHECK(ifm_dir_parse("Both") == 0);
	CHECK(ifm_dir_parse("") == 0);
	CHECK(!strcmp(ifm_dir_name(IFM_DIR_EGRESS), "egress"));
}

static void test_opts(void)
{
	struct ifm_opts o;
	char err[160];

	CHECK(parse(IFM_ARGS_UP, "up eth0 --to eth1", &o, err) == 0);
	CHECK(!strcmp(o.source, "eth0") && !strcmp(o.dest, "eth1") && o.dir == IFM_DIR_BOTH);
	CHECK(parse(IFM_ARGS_UP, "up --to=eth1 eth0 --direction=ingress", &o, err) == 0);
	CHECK(o.dir == IFM_DIR_INGRESS && !strcmp(o.source, "eth0"));
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to eth1 --direction egress -q", &o, err) == 0);
	CHECK(o.dir == IFM_DIR_EGRESS && o.quiet);
	CHECK(parse(IFM_ARGS_UP, "up eth0", &o, err) < 0 && strstr(err, "--to"));
	CHECK(parse(IFM_ARGS_UP, "up --to eth1", &o, err) < 0 && strstr(err, "SOURCE"));
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to", &o, err) < 0);
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to eth0", &o, err) < 0 && strstr(err, "same"));
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to eth1 --direction sideways", &o, err) < 0 &&
	      strstr(err, "sideways"));
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to eth1 --bogus", &o, err) < 0 && strstr(err, "--bogus"));
	CHECK(parse(IFM_ARGS_UP, "up eth0 eth2 --to eth1", &o, err) < 0 && strstr(err, "eth2"));
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to eth1 --to eth2", &o, err) < 0);
	CHECK(parse(IFM_ARGS_UP, "up eth0/1 --to eth1", &o, err) < 0 && strstr(err, "eth0/1"));
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to averyveryverylongname", &o, err) < 0);
	CHECK(parse(IFM_ARGS_UP, "up eth0 --to eth1 --json", &o, err) < 0);
	CHECK(parse(IFM_ARGS_DOWN, "down eth0", &o, err) == 0 && !o.dest);
	CHECK(parse(IFM_ARGS_DOWN, "down eth0 --to eth1", &o, err) == 0 && !strcmp(o.dest, "eth1"));
	CHECK(parse(IFM_ARGS_DOWN, "down", &o, err) < 0);
	CHECK(parse(IFM_ARGS_DOWN, "down eth0 --direction ingress", &o, err) < 0);
	CHECK(parse(IFM_ARGS_STATUS, "status", &o, err) == 0 && !o.source);
	CHECK(parse(IFM_ARGS_STATUS, "status eth0 --json", &o, err) == 0 && o.json);
	CHECK(parse(IFM_ARGS_STATUS, "status eth0 --to eth1", &o, err) < 0);
}

static void test_hash(void)
{
	CHECK(ifm_name_hash("eth1") == ifm_name_hash("eth1"));
	CHECK(ifm_name_hash("eth1") != ifm_name_hash("eth2"));
	CHECK(ifm_name_hash("") == 2166136261u);
}

/* issue 12: repeated --match/--sample were last-wins; names with a newline made two lines */
static void test_repeats_and_escapes(void)
{
	struct ifm_opts o;
	char err[160], out[64];

	CHECK(parse(IFM_ARGS_UP, "up s0 --to d0 --match tcp --match udp", &o, err) < 0 &&
	      !strcmp(err, "--match given twice"));
	CHECK(parse(IFM_ARGS_UP, "up s0 --to d0 --sample 2 --sample=3", &o, err) < 0 &&
	      !strcmp(err, "--sample given twice"));
	CHECK(parse(IFM_ARGS_UP, "up s0 --to d0 --sample 2 --match tcp", &o, err) == 0 &&
	      o.sample == 2 && !strcmp(o.match, "tcp"));
	CHECK(!strcmp(ifm_ifname_problem("a\nb"), "interface name contains a control character"));
	CHECK(!strcmp(ifm_ifname_problem("a\x7f"), "interface name contains a control character"));
	CHECK(ifm_report_escape("a\nb\tc\x01\x7f\xc3\xa9", out, sizeof(out)) == 17 &&
	      !strcmp(out, "a\\nb\\tc\\x01\\x7f\xc3\xa9"));
	CHECK(ifm_report_escape("\x01\x01", out, 7) == 4 && !strcmp(out, "\\x01"));
}

/* status --json of a name that is not UTF-8: still valid UTF-8 JSON */
static void test_json(void)
{
	char path[] = "/tmp/ifm-test-json.XXXXXX", buf[128] = "";
	int fd = mkstemp(path), saved = dup(1);
	ssize_t n;

	fflush(stdout);
	dup2(fd, 1);
	ifm_json_str("e\xc3\xa9\xff\xc3\"\\\n\x7f\xed\xa0\x80\xf0\x9f\x98\x80");
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(buf, "\"e\xc3\xa9\\u00ff\\u00c3\\\"\\\\\\u000a\\u007f"
			   "\\u00ed\\u00a0\\u0080\xf0\x9f\x98\x80\""));
	CHECK(ifm_utf8_len((const unsigned char *)"\xc0\x80") == 0); /* overlong */
	CHECK(ifm_utf8_len((const unsigned char *)"\xf4\x90\x80\x80") == 0); /* > U+10FFFF */
}

int main(void)
{
	test_names();
	test_dirs();
	test_opts();
	test_hash();
	test_repeats_and_escapes();
	test_json();
	return CHECK_DONE("args");
}
