// SPDX-License-Identifier: GPL-2.0-or-later
/* ifmirror-nm: port mirroring in NetworkManager profiles, and its dispatcher. */
#include "ifmirror-nm.h"
#include "commands.h"

static const struct ifm_command commands[] = {
	{ .name = "profile", .fn = nmm_cmd_profile, .help =
		  "  profile CONNECTION --to DEST [--to DEST]... [--direction both|ingress|egress]\n"
		  "          [--match EXPR] [--sample N]\n"
		  "          [--mode auto|native|dispatcher] [--print | --keyfile FILE | --commit]\n"
		  "          [--remove] [-q]\n"
		  "      Put a mirror of CONNECTION's interface to DEST into the profile (or,\n"
		  "      with --remove, take it out: all of it, or the sessions to DEST).\n"
		  "      native: NetworkManager's own tc setting (clsact, matchall, mirred);\n"
		  "      it fails the whole activation while DEST is missing;\n"
		  "      dispatcher: user data the dispatcher script applies with ifmirror;\n"
		  "      auto (default): dispatcher (native only when asked for).\n"
		  "      Not into a profile with connection.permissions (users may edit it).\n"
		  "      --print (default): show the nmcli commands and keyfile lines;\n"
		  "      --keyfile FILE: write the whole profile as a keyfile (- for stdout);\n"
		  "      --commit: change the saved profile through NetworkManager, and\n"
		  "      reapply it where that can be done live (user data, not tc).\n" },
	{ .name = "collector", .fn = nmm_cmd_collector, .help =
		  "  collector BRIDGE --port IFACE [--port IFACE]... [--sink NAME]\n"
		  "          [--print | --keyfile DIR | --commit] [--remove] [-q]\n"
		  "      Profiles for a failover collector bridge: the bridge (no STP, no\n"
		  "      snooping, no IP), its ports, and the always-up sink (a dummy profile,\n"
		  "      or an ifb device the dispatcher adds where the kernel has no dummy).\n" },
	{ .name = "dispatch", .fn = nmm_cmd_dispatch, .help =
		  "  dispatch IFACE ACTION\n"
		  "      Run by the NetworkManager dispatcher script: applies a profile's\n"
		  "      sessions on up and reapply, removes them on pre-down and down, and\n"
		  "      finishes what waits for IFACE on every up. Always exits 0.\n", .own_help = true },
	{ .name = NULL },
};

int main(int argc, char *argv[])
{
	return ifm_commands_main("ifmirror-nm", commands, argc, argv);
}
