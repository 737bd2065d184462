# Shared helpers for the bats suites: throwaway network namespaces, frame
# counting, kernel feature probes and tc state snapshots.
# shellcheck shell=bash

# bats-support and bats-assert, their parts sourced directly (they only
# define functions): each load.bash runs dirname once a part, 15 processes a
# test; in a stock-lane guest, where a process start costs about 60 ms, a
# second a test
for _part in /usr/lib/bats/bats-support/src/*.bash /usr/lib/bats/bats-assert/src/*.bash; do
	# shellcheck disable=SC1090 # bats' own libraries
	source "$_part"
done
unset _part

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BUILD=${IFMIRROR_BUILD_DIR:-$TOP/build}
IFM=$BUILD/ifmirror
# strace -E for a traced ifmirror (ifm-crashpoint reads it too): a sanitizer
# build's leak check dies under ptrace (ASan's other checks stay; other
# builds ignore it)
export TRACED_ASAN=ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
SENDFRAMES=$BUILD/ifm-sendframes

# One namespace per test; the name is unique across parallel bats runs.
lab_up() {
	NS=ifmt-$$-${BATS_TEST_NUMBER:-0}
	ip netns add "$NS"
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	nsx ip link set lo up
	# every test runs with its own lock and ownership markers
	export IFMIRROR_RUN_DIR=$BATS_TEST_TMPDIR/run
}

lab_down() {
	[[ -n ${NS:-} ]] || return 0
	local pids
	pids=$(ip netns pids "$NS" 2>/dev/null || true)
	[[ -n $pids ]] && kill $pids 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
}

# in_ns NETNS COMMAND...: COMMAND in NETNS. ip and tc switch there
# themselves (-n: the same setns, private mount namespace and sysfs as ip
# netns exec), which spares a process start a call.
in_ns() {
	local ns=$1
	shift
	case $1 in
	ip | tc) "$1" -n "$ns" "${@:2}" ;;
	*) ip netns exec "$ns" "$@" ;;
	esac
}

# nsx COMMAND...: COMMAND in the lab namespace
nsx() { in_ns "$NS" "$@"; }
ifm() { ip netns exec "$NS" "$IFM" "$@"; }

# veth NAME...: NAME and its peer NAMEp, both up, no IPv6, no addresses.
veth() {
	local n
	for n in "$@"; do
		echo "link add $n type veth peer name ${n}p"
		echo "link set $n up"
		echo "link set ${n}p up"
	done | nsx ip -batch -
}

rx_packets() { nsx cat "/sys/class/net/$1/statistics/rx_packets"; }
tx_packets() { nsx cat "/sys/class/net/$1/statistics/tx_packets"; }

# Frames INTO dev (sent by its peer) and OUT of dev (through its egress).
send_in() { nsx "$SENDFRAMES" "${1}p" "$2" "${@:3}"; }
send_out() { nsx "$SENDFRAMES" "$1" "$2" "${@:3}"; }

# counter_settles DEV: wait until DEV's rx counter stops moving, print it.
counter_settles() {
	local dev=$1 last=-1 now i
	for ((i = 0; i < 50; i++)); do
		now=$(rx_packets "$dev")
		[[ $now == "$last" ]] && { echo "$now"; return 0; }
		last=$now
		sleep 0.05
	done
	echo "$now"
}

# expect_rx DEV BEFORE EXPECTED: DEV received exactly EXPECTED frames since BEFORE.
expect_rx() {
	local dev=$1 before=$2 want=$3 now
	now=$(counter_settles "$dev")
	if (( now - before != want )); then
		echo "$dev received $((now - before)) frames, expected $want" >&2
		return 1
	fi
}

# Everything tc and ip say about the lab, without counters and carrier flags
# (the kernel settles carrier asynchronously): equal snapshots mean the
# kernel state did not change.
# (One tc process for all of it: process starts are slow under qemu.)
tc_state() {
	nsx sh -c '
		echo "qdisc show"
		for dev in /sys/class/net/*; do
			dev=${dev##*/}
			echo "filter show dev $dev ingress"
			echo "filter show dev $dev egress"
			echo "filter show dev $dev root"
		done | tc -force -batch - 2>/dev/null
		ip -o link show | sed -E "s/ state [A-Z]+//; s/(NO-CARRIER|LOWER_UP|M-DOWN),?//g; s/,>/>/"'
}

# --- kernel features, probed in a scratch namespace ---
_probe() {
	local ns=ifmprobe-$$ rc
	ip netns add "$ns" || return 2
	ip netns exec "$ns" ip link add p0 type veth peer name p1 >/dev/null 2>&1
	ip netns exec "$ns" ip link set p0 up
	ip netns exec "$ns" ip link set p1 up
	ip netns exec "$ns" sh -c "$1" >/dev/null 2>&1
	rc=$?
	ip netns del "$ns"
	return $rc
}

# kernel_has FEATURE: probed once per bats run, then remembered
kernel_has() {
	local memo=${BATS_RUN_TMPDIR:-/tmp}/kernel_has.$1 rc
	if [[ -f $memo ]]; then
		return "$(cat "$memo")"
	fi
	_kernel_has "$1"
	rc=$?
	echo "$rc" >"$memo"
	return $rc
}

_kernel_has() {
	case $1 in
	matchall) _probe 'tc qdisc add dev p0 clsact && tc filter add dev p0 ingress matchall action mirred egress mirror dev p1' ;;
	prio) _probe 'tc qdisc add dev p0 root handle 1: prio' ;;
	clsact) _probe 'tc qdisc add dev p0 clsact' ;;
	dummy) _probe 'ip link add d9 type dummy' ;;
	gretap) _probe 'ip link add g9 type gretap remote 192.0.2.1 local 192.0.2.2' ;;
	erspan) _probe 'ip link add e9 type erspan remote 192.0.2.1 local 192.0.2.2 seq key 1 erspan_ver 1 erspan 7' ;;
	geneve) _probe 'ip link add g9 type geneve id 1 remote 192.0.2.1' ;;
	police) _probe 'tc actions add action police rate 1mbit burst 16k index 77' ;;
	# the eBPF bucket of a copy budget: cls_bpf, and the bpf() syscall making
	# the array maps it keeps its state in (asked by python, not by ifmirror)
	bucket) _probe 'tc qdisc add dev p0 clsact && tc filter add dev p0 ingress bpf bytecode "1,6 0 0 0"' &&
		python3 -c '
import ctypes, os, struct, sys
nr = {"x86_64": 321, "aarch64": 280, "riscv64": 280}[os.uname().machine]
libc = ctypes.CDLL(None, use_errno=True)
for kind in (2, 6):  # BPF_MAP_TYPE_ARRAY, _PERCPU_ARRAY
    attr = struct.pack("IIII", kind, 4, 24, 1) + bytes(112)
    if libc.syscall(nr, 0, attr, len(attr)) < 0:
        sys.exit(1)
' ;;
	*) return 2 ;;
	esac
}

# require_kernel FEATURE WHY: skip (saying why) where the kernel lacks it. On
# the stock-kernel lane nothing kernel-related may skip, so there it fails.
require_kernel() {
	if ! kernel_has "$1"; then
		if [[ ${IFMIRROR_LANE:-host} == stock ]]; then
			echo "kernel $(uname -r) lacks $1 on the stock-kernel lane" >&2
			return 1
		fi
		skip "kernel $(uname -r) has no $1: ${2:-needed by this test}"
	fi
}

# require_kernel_without FEATURE WHY: for tests of what happens where a
# feature is missing.
require_kernel_without() {
	if kernel_has "$1"; then
		skip "kernel $(uname -r) has $1: ${2:-this test is about kernels without it}"
	fi
}

# --- the real ifupdown, privately ---
# ifupdown_lab: hooks of this build in private hook directories, a private
# interfaces file ($IFILE, written by the test) and state directory.
ifupdown_lab() {
	HOOKS=$BATS_TEST_TMPDIR/hooks
	STATE=$BATS_TEST_TMPDIR/state
	IFILE=$BATS_TEST_TMPDIR/interfaces
	mkdir -p "$STATE" "$IFMIRROR_RUN_DIR"
	cp -r "$BUILD/hooks/test" "$HOOKS"
}

# ifupdown ifup|ifdown ARGS...: runs the real command in the lab namespace.
# ip netns exec gives every call its own mount namespace; in it only
# ifmirror's hooks sit in /etc/network/if-*.d, and /run/ifmirror is the
# test's own (ifupdown passes hooks no environment of ours).
ifupdown() {
	local cmd=$1
	shift
	mkdir -p /run/ifmirror 2>/dev/null || true
	nsx sh -c '
		for d in if-pre-up.d if-up.d if-down.d if-post-down.d; do
			mount --bind "$0/$d" "/etc/network/$d" || exit 97
		done
		mount --bind "$1" /run/ifmirror || exit 97
		shift
		exec "$@"' "$HOOKS" "$IFMIRROR_RUN_DIR" "$cmd" -i "$IFILE" --state-dir "$STATE" "$@"
}

# port_forwarding PORT: waits (3 s at most) until the bridge forwards on PORT;
# carrier changes reach the bridge through linkwatch, up to a second late.
port_forwarding() {
	local i
	for ((i = 0; i < 60; i++)); do
		[[ $(nsx cat "/sys/class/net/$1/brport/state" 2>/dev/null) == 3 ]] && return 0
		sleep 0.05
	done
	echo "bridge port $1 is not forwarding after 3 s" >&2
	return 1
}

# capture_start NAME DEV [tcpdump args]: a capture into $BATS_TEST_TMPDIR/NAME.pcap,
# returned once tcpdump listens. capture_stop NAME ends it.
capture_start() {
	local name=$1 dev=$2 i
	shift 2
	rm -f "$BATS_TEST_TMPDIR/$name.pcap" "$BATS_TEST_TMPDIR/$name.err"
	# a simple command, not the function nsx: $! is then tcpdump itself (ip
	# execs it), not a subshell whose end would leave tcpdump running.
	# -s/-B: in immediate mode libpcap sizes each ring slot for the snap
	# length (262144 by default), so its 2 MiB ring held 8 frames and a burst
	# of 52 sent at once lost 15 to 20 of them ("dropped by kernel"); frames
	# here are at most a few KiB, so 8 KiB slots in 8 MiB: about 1000
	ip netns exec "$NS" tcpdump -s 8192 -B 8192 -i "$dev" --immediate-mode -U -w "$BATS_TEST_TMPDIR/$name.pcap" "$@" \
		2>"$BATS_TEST_TMPDIR/$name.err" &
	eval "CAPTURE_$name=$!"
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$BATS_TEST_TMPDIR/$name.err" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "tcpdump on $dev did not start" >&2
	return 1
}

# capture_stop NAME: once the capture file has stopped growing for half a
# second, and stays so after tcpdump has shown it had the CPU (SIGUSR1 makes
# it print its counts: a loaded machine can leave it unscheduled, its frames
# in the socket, longer than the file was still), up to 10 s, stop it.
# ("captured" against "received by filter" is no test: the kernel's count
# includes frames libpcap drops itself, so they differ for good.)
capture_stop() {
	local pid_var=CAPTURE_$1 f=$BATS_TEST_TMPDIR/$1.pcap err=$BATS_TEST_TMPDIR/$1.err
	local last=-1 size stable=0 i lines asked=0
	for ((i = 0; i < 100; i++)); do
		sleep 0.1
		size=$(stat -c %s "$f" 2>/dev/null || echo 0)
		if ((size == last)); then
			stable=$((stable + 1))
		else
			stable=0 last=$size asked=0
		fi
		((stable >= 5)) || continue
		lines=$(grep -c 'captured, ' "$err" 2>/dev/null || true)
		if ((asked == 0)); then
			kill -USR1 "${!pid_var}" 2>/dev/null || break
			asked=$((lines + 1))
		elif ((lines >= asked && stable >= 7)); then
			break   # it ran after the file went still, and wrote nothing more
		fi
	done
	kill "${!pid_var}" 2>/dev/null
	wait "${!pid_var}" 2>/dev/null || true
}

# frames FILE [EXPR]: one line per frame, its bytes in hex, sorted.
frames() {
	tcpdump -r "$1" -nn -t -xx ${2:+"$2"} 2>/dev/null |
		awk '/^[^ \t]/ { if (f) print f; f = "" ; next } { $1 = ""; f = f $0 } END { if (f) print f }' |
		tr -d ' ' | sort
}

# packets FILE [EXPR]: how many packets of the capture FILE (that EXPR
# selects). Count them so, never as tcpdump's lines: tcpdump prints the
# payload of an EtherType it does not know (0x88b5, ifm-sendframes' frames,
# also inside GRE) as hex lines after the packet's own, 7 lines for a
# 100-byte frame.
packets() {
	tcpdump -r "$1" -nn --count ${2:+"$2"} 2>/dev/null | awk '/^[0-9]+ packets?$/ { print $1 }'
}

# refusals STATE <<TABLE: one "CODE|REGEX|ARGS" line per bad input. Each run
# of ifmirror ARGS must exit CODE with one line "ifmirror: REGEX..." and leave
# tc_state equal to STATE.
refusals() {
	local state=$1 code re args
	while IFS='|' read -r code re args; do
		[[ -n $code ]] || continue
		eval "set -- $args"
		run ifm "$@"
		if [[ $status != "$code" || ${#lines[@]} != 1 || ! $output =~ ^"ifmirror: "$re ]]; then
			echo "ifmirror $args: exit $status, expected $code; output:" >&2
			echo "$output" >&2
			echo "expected: ifmirror: $re" >&2
			return 1
		fi
		assert_equal "$(tc_state)" "$state"
	done
}
