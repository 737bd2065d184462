# The remote collector of the tunnel suites (tests/tunnel*.bats): a second
# namespace, $CNS, that decapsulates with tunnel devices of its own, and the
# underlay u0 (in the lab) -- u0p (in $CNS) between them. Load after helpers.
# shellcheck shell=bash

# tunnel_lab_up VETH...: in setup(): the lab (lab_up) with these veths, and
# the collector's namespace $CNS; MIX, the frames of tests/data/mix.pcap
tunnel_lab_up() {
	lab_up
	veth "$@"
	CNS=$NS-c
	ip netns add "$CNS"
	cx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	cx ip link set lo up
	MIX=$TOP/tests/data/mix.pcap
}

# tunnel_lab_down: in teardown(): what runs in $CNS (by PID), the namespace,
# then the lab
tunnel_lab_down() {
	local pids
	if [[ -n ${CNS:-} ]]; then
		pids=$(ip netns pids "$CNS" 2>/dev/null || true)
		# shellcheck disable=SC2086 # one PID a word
		[[ -n $pids ]] && kill $pids 2>/dev/null
		ip netns del "$CNS" 2>/dev/null || true
	fi
	lab_down
}

# cx COMMAND...: COMMAND in the collector's namespace
cx() { in_ns "$CNS" "$@"; }

# underlay [--ipv4] [--resolve]: u0 here and u0p in the collector namespace,
# 1500 bytes, with IPv4 ($L4 -> $R4) and, unless --ipv4, IPv6 ($L6 -> $R6)
# addresses. --resolve: the collector's neighbour entries are resolved before
# the first copy, so that no copy waits in the kernel's short queue of
# unresolved ones
underlay() {
	local v6=1 resolve=
	while (($#)); do
		case $1 in
		--ipv4) v6= ;;
		--resolve) resolve=1 ;;
		*) echo "underlay: $1?" >&2; return 2 ;;
		esac
		shift
	done
	nsx ip link add u0 type veth peer name u0p netns "$CNS"
	if [[ -n $v6 ]]; then
		nsx sysctl -qw net.ipv6.conf.u0.disable_ipv6=0
		cx sysctl -qw net.ipv6.conf.u0p.disable_ipv6=0
	fi
	nsx ip addr add 10.9.0.1/24 dev u0
	cx ip addr add 10.9.0.2/24 dev u0p
	if [[ -n $v6 ]]; then
		nsx ip addr add fd00:9::1/64 dev u0 nodad
		cx ip addr add fd00:9::2/64 dev u0p nodad
	fi
	nsx ip link set u0 up
	cx ip link set u0p up
	L4=10.9.0.1 R4=10.9.0.2
	[[ -z $v6 ]] || L6=fd00:9::1 R6=fd00:9::2
	if [[ -n $resolve ]]; then
		nsx ping -c1 -W5 -q "$R4" >/dev/null
		[[ -z $v6 ]] || nsx ping -6 -c1 -W5 -q "$R6" >/dev/null
	fi
}
