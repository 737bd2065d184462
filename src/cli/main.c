// SPDX-License-Identifier: GPL-2.0-or-later
/* ifmirror: port mirroring with tc, over netlink. One file per subcommand. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char *argv[]);
	const char *summary;
} commands[] = {
	{ "up", cmd_up, "mirror SOURCE's traffic to DEST" },
	{ "down", cmd_down, "remove ifmirror's mirror sessions from SOURCE" },
	{ "status", cmd_status, "list mirror sessions with their counters" },
	{ "collector", cmd_collector, "create or remove a failover collector bridge" },
	{ "refresh", cmd_refresh, "finish what waits for an interface that appeared" },
	{ "tunnel", cmd_tunnel, "create or remove a tunnel to a remote collector" },
	{ "check", cmd_check, "what this kernel offers, and warnings for a session" },
	{ "apply", cmd_apply, "make the kernel match /etc/ifmirror.conf" },
	{ "flush", cmd_flush, "remove everything ifmirror made" },
	{ "ifupdown-hook", cmd_ifupdown_hook, "the executor of the ifupdown hooks" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [ARGS]\n"
		"\n"
		"  up SOURCE --to DEST [--direction both|ingress|egress] [--match EXPR]\n"
		"     [--sample N] [--defer] [-q]\n"
		"      Mirror what SOURCE receives (ingress), sends (egress) or both\n"
		"      (the default) to DEST. Running it again changes nothing.\n"
		"      --match: only what the tcpdump expression selects;\n"
		"      --sample: one frame in N.\n"
		"      --defer: if SOURCE or DEST does not exist yet, remember the\n"
		"      session and apply it when `refresh` sees the device.\n"
		"  down SOURCE [--to DEST] [-q]\n"
		"      Remove ifmirror's sessions on SOURCE (all, or the one to DEST).\n"
		"      Exits 0 when there is nothing to remove or SOURCE is gone.\n"
		"  status [SOURCE] [--json]\n"
		"      One line per session: direction, destination and its state,\n"
		"      packets and bytes mirrored, copies dropped; then the collectors.\n"
		"  collector up BRIDGE --port IFACE [--port IFACE]... [--sink NAME]\n"
		"     [--snaplen BYTES] [-q]\n"
		"      Create or complete a failover mirror bridge: the ports plus an\n"
		"      always-up sink; no learning, STP, snooping, ARP or IPv6.\n"
		"  collector down BRIDGE [-q]\n"
		"      Remove the bridge and its sink; release the ports.\n"
		"  refresh IFACE [-q]\n"
		"      IFACE appeared: re-attach it to its collector, repair sessions\n"
		"      whose deleted destination had its name, apply deferred ones.\n"
		"  tunnel up NAME --type vxlan|gretap|erspan --remote ADDR [--local ADDR]\n"
		"            [--dev IFACE] [--vni N | --key N | --session-id N]\n"
		"            [--dstport N] [--snaplen BYTES] [-q]\n"
		"      A mirror destination toward a remote collector, over IPv4 or IPv6:\n"
		"      vxlan (--vni, UDP --dstport, default 4789), gretap (optional\n"
		"      --key) or erspan version 1 (--session-id). Running it again\n"
		"      changes nothing; another spec re-creates it. Warns when the\n"
		"      underlay cannot carry whole copies.\n"
		"  tunnel down NAME [-q]\n"
		"      Remove a tunnel ifmirror made.\n"
		"  check [SOURCE --to DEST [--direction D]] [--json]\n"
		"      What this kernel offers (probed in a scratch network namespace),\n"
		"      the strategy ifmirror uses, and what would go wrong for a session:\n"
		"      destination down, a loop, MTU headroom, a hook egress cannot use.\n"
		"  ifupdown-hook pre-up|up|down|post-down\n"
		"      Run by the ifupdown hooks; reads IFACE and IF_MIRROR_*.\n"
		"  apply [--config FILE] [--dry-run] [-q]\n"
		"      Make the kernel match FILE (default /etc/ifmirror.conf): tunnels,\n"
		"      collectors, sessions; remove sessions an earlier apply made that\n"
		"      the file no longer names. Nothing else is touched.\n"
		"  flush [-q]\n"
		"      Remove everything ifmirror made.\n"
		"\n"
		"  -h, --help      this text\n"
		"  -V, --version   the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime error, 2 usage error.\n"
		"See ifmirror(8).\n",
		ifm_report_prog());
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		ifm_err("no command given (see %s --help)", ifm_report_prog());
		return IFM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return IFM_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ifmirror %s\n", IFMIRROR_VERSION);
		return IFM_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			for (int j = 2; j < argc; j++) {
				if (!strcmp(argv[j], "-h") || !strcmp(argv[j], "--help")) {
					usage(stdout);
					return IFM_EXIT_OK;
				}
			}
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	ifm_err("unknown command '%.40s' (see %s --help)", argv[1], ifm_report_prog());
	return IFM_EXIT_USAGE;
}
