// SPDX-License-Identifier: GPL-2.0-or-later
/* ifmirror-nm: port mirroring in NetworkManager profiles, and its dispatcher. */
#include "ifmirror-nm.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [ARGS]\n"
		"\n"
		"  profile CONNECTION --to DEST [--to DEST]... [--direction both|ingress|egress]\n"
		"          [--match EXPR] [--sample N]\n"
		"          [--mode auto|native|dispatcher] [--print | --keyfile FILE | --commit]\n"
		"          [--remove] [-q]\n"
		"      Put a mirror of CONNECTION's interface to DEST into the profile (or,\n"
		"      with --remove, take it out: all of it, or the sessions to DEST).\n"
		"      native: NetworkManager's own tc setting (clsact, matchall, mirred);\n"
		"      dispatcher: user data the dispatcher script applies with ifmirror;\n"
		"      auto (default): native only where this kernel and NetworkManager can\n"
		"      carry it safely, else dispatcher; says which and why.\n"
		"      --print (default): show the nmcli commands and keyfile lines;\n"
		"      --keyfile FILE: write the whole profile as a keyfile (- for stdout);\n"
		"      --commit: change the saved profile through NetworkManager, and\n"
		"      reapply it where that can be done live (user data, not tc).\n"
		"  collector BRIDGE --port IFACE [--port IFACE]... [--sink NAME]\n"
		"          [--print | --keyfile DIR | --commit] [--remove] [-q]\n"
		"      Profiles for a failover collector bridge: the bridge (no STP, no\n"
		"      snooping, no IP), its ports, and the always-up sink (a dummy profile,\n"
		"      or an ifb device the dispatcher adds where the kernel has no dummy).\n"
		"  dispatch IFACE ACTION\n"
		"      Run by the NetworkManager dispatcher script: applies a profile's\n"
		"      sessions on up and reapply, removes them on pre-down and down, and\n"
		"      finishes what waits for IFACE on every up. Always exits 0.\n"
		"\n"
		"  -h, --help      this text\n"
		"  -V, --version   the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime error, 2 usage error.\n"
		"See ifmirror-nm(8).\n",
		ifm_report_prog());
}

int main(int argc, char *argv[])
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char *argv[]);
	} commands[] = {
		{ "profile", nmm_cmd_profile },
		{ "collector", nmm_cmd_collector },
		{ "dispatch", nmm_cmd_dispatch },
	};

	ifm_report_set(&(struct ifm_report){ .prog = "ifmirror-nm" });
	if (argc < 2) {
		ifm_err("no command given (see %s --help)", ifm_report_prog());
		return IFM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return IFM_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ifmirror-nm %s\n", IFMIRROR_VERSION);
		return IFM_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		for (int j = 2; j < argc && strcmp(argv[1], "dispatch"); j++) {
			if (!strcmp(argv[j], "-h") || !strcmp(argv[j], "--help")) {
				usage(stdout);
				return IFM_EXIT_OK;
			}
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	ifm_err("unknown command '%.40s' (see %s --help)", argv[1], ifm_report_prog());
	return IFM_EXIT_USAGE;
}
