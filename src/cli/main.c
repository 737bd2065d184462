// SPDX-License-Identifier: GPL-2.0-or-later
/* ifmirror: port mirroring with tc, over netlink. One file per subcommand. */
#include "cli.h"
#include "commands.h"

/* the commands, and their part of --help, in the order --help shows them */
static const struct ifm_command commands[] = {
	{ .name = "up", .fn = cmd_up, .help =
		  "  up SOURCE --to DEST [--direction both|ingress|egress] [--match EXPR]\n"
		  "     [--sample N] [--id N] [--defer] [-q]\n"
		  "      Mirror what SOURCE receives (ingress), sends (egress) or both\n"
		  "      (the default) to DEST. Running it again changes nothing.\n"
		  "      SOURCE is one device: source patterns (tap*, @master:BR) go in\n"
		  "      the config file, for apply and watch.\n"
		  "      --match: only what the tcpdump expression selects;\n"
		  "      --sample: one frame in N.\n"
		  "      --id: into DEST-N, a device like the tunnel DEST with N as its\n"
		  "      VNI, key or session id (made when missing).\n"
		  "      --defer: if SOURCE or DEST does not exist yet, remember the\n"
		  "      session and apply it when `refresh` sees the device.\n" },
	{ .name = "down", .fn = cmd_down, .help =
		  "  down SOURCE [--to DEST] [-q]\n"
		  "      Remove ifmirror's sessions on SOURCE (all, or the one to DEST).\n"
		  "      Exits 0 when there is nothing to remove or SOURCE is gone.\n" },
	{ .name = "status", .fn = cmd_status, .help =
		  "  status [SOURCE] [--json] [--config FILE]\n"
		  "  status [SOURCE] --prometheus [--textfile DIR]\n"
		  "      One line per session: direction, destination and its state,\n"
		  "      packets and bytes mirrored, copies dropped (over-budget: those\n"
		  "      the destination's --rate budget took); then the collectors;\n"
		  "      --config: then the devices each source pattern of FILE matches.\n"
		  "      --json: sessions, collectors and tunnels as one object;\n"
		  "      --prometheus: the Prometheus text format; --textfile: written\n"
		  "      atomically into DIR/ifmirror.prom (node_exporter's textfile\n"
		  "      collector) instead of standard output.\n" },
	{ .name = "collector", .fn = cmd_collector, .help =
		  "  collector up BRIDGE --port IFACE [--port IFACE]... [--sink NAME]\n"
		  "     [--snaplen BYTES] [--rate BITS[/s] [--burst BYTES]] [-q]\n"
		  "      Create or complete a failover mirror bridge: the ports plus an\n"
		  "      always-up sink; no learning, STP, snooping, ARP or IPv6.\n"
		  "      --rate (100mbit, 1gbit, 500kbit): a budget all copies into it\n"
		  "      share; copies over it are not made (act_police, where the\n"
		  "      kernel has it, else an eBPF token bucket) or dropped (a tbf\n"
		  "      shaper on the bridge, where neither can be); the source is\n"
		  "      never slowed. --burst: bytes let through at once\n"
		  "      (default 50 ms of the rate, at least 128k). Without --rate, a\n"
		  "      budget it had is removed.\n"
		  "  collector down BRIDGE [-q]\n"
		  "      Remove the bridge and its sink; release the ports.\n" },
	{ .name = "refresh", .fn = cmd_refresh, .help =
		  "  refresh IFACE [-q]\n"
		  "      IFACE appeared: re-attach it to its collector, repair sessions\n"
		  "      whose deleted destination had its name, apply deferred ones.\n" },
	{ .name = "tunnel", .fn = cmd_tunnel, .help =
		  "  tunnel up NAME --type vxlan|gretap|erspan|geneve --remote ADDR\n"
		  "            [--local ADDR] [--dev IFACE] [--vni N | --key N | --session-id N]\n"
		  "            [--dstport N] [--snaplen BYTES] [--erspan-version 1|2]\n"
		  "            [--hwid N] [--erspan-dir ingress|egress]\n"
		  "            [--rate BITS[/s] [--burst BYTES]] [-q]\n"
		  "      A mirror destination toward a remote collector, over IPv4 or IPv6:\n"
		  "      vxlan (--vni, UDP --dstport, default 4789), gretap (optional\n"
		  "      --key), erspan (--session-id; version 1, or 2 with --hwid 0-63\n"
		  "      and the direction bit --erspan-dir, default ingress) or geneve\n"
		  "      (--vni, UDP --dstport, default 6081; no --local, no --dev).\n"
		  "      gretap/erspan over IPv6 without --local: the route's source.\n"
		  "      Running it again changes nothing; another spec re-creates it.\n"
		  "      Warns when the underlay cannot carry whole copies. --rate/--burst:\n"
		  "      a copy budget, as for collector up.\n"
		  "  tunnel down NAME [-q]\n"
		  "      Remove a tunnel ifmirror made.\n" },
	{ .name = "check", .fn = cmd_check, .help =
		  "  check [SOURCE --to DEST [--direction D]] [--json]\n"
		  "      What this kernel offers (probed in a scratch network namespace),\n"
		  "      the strategy ifmirror uses, and what would go wrong for a session:\n"
		  "      destination down, a loop, more mirrors in a row than the kernel\n"
		  "      nests, copies too big for the way into DEST, a hook egress cannot use.\n" },
	{ .name = "ifupdown-hook", .fn = cmd_ifupdown_hook, .help =
		  "  ifupdown-hook pre-up|up|down|post-down\n"
		  "      Run by the ifupdown hooks; reads IFACE and IF_MIRROR_*.\n" },
	{ .name = "apply", .fn = cmd_apply, .help =
		  "  apply [--config FILE] [--dry-run] [-q]\n"
		  "      Make the kernel match FILE (default /etc/ifmirror.conf): tunnels,\n"
		  "      collectors, sessions; remove sessions an earlier apply made that\n"
		  "      the file no longer names. Nothing else is touched.\n" },
	{ .name = "flush", .fn = cmd_flush, .help =
		  "  flush [-q]\n"
		  "      Remove everything ifmirror made.\n" },
	{ .name = "watch", .fn = cmd_watch, .help =
		  "  watch [--config FILE] [-q]\n"
		  "      Keep the kernel equal to FILE while devices come and go: apply,\n"
		  "      then again at each link event that matters (a device came, went,\n"
		  "      was renamed or moved to another bridge). SIGHUP reloads FILE;\n"
		  "      SIGTERM exits, leaving the mirrors (at once, changing nothing,\n"
		  "      while it waits for the lock). One line per change, on stderr.\n"
		  "      One watch per network namespace: a second one refuses to start.\n" },
	{ .name = NULL },
};

int main(int argc, char *argv[])
{
	return ifm_commands_main("ifmirror", commands, argc, argv);
}
