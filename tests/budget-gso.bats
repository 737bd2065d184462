#!/usr/bin/env bats
# A copy budget under a real TCP bulk sender, whose data crosses the source
# in GSO packets of up to 64 KiB (veth passes them whole). With police, a
# packet longer than the burst never conforms, so a default burst below one
# GSO packet (32 KiB before) copied none of the data: only small frames got
# through (0.82 of the budget in bench/budget under the stock kernel, all of
# it ACKs). The default burst is now at least 128 KiB (IFM_BURST_GSO), and a
# smaller --burst under police says what it costs. On the host lane (no
# act_police) the eBPF bucket, which takes a packet whole as police does, and
# the shaper are tested with the same traffic: tbf cuts a GSO packet into its
# segments.

load helpers
load budget-helpers
load tunnel-helpers

setup() {
	# the sender in the second namespace $CNS (tunnel_lab_up), so its TCP
	# crosses s0 (within one namespace it would take lo)
	tunnel_lab_up s0 c0
	nsx ip link set s0p netns "$CNS"
	nsx ip addr add 10.77.0.1/24 dev s0
	cx ip addr add 10.77.0.2/24 dev s0p
	cx ip link set s0p up
	# the receiver, in the lab (lab_down ends it by PID)
	nsx python3 -c '
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.77.0.1", 5001))
l.listen(1)
c, _ = l.accept()
while c.recv(1 << 20):
    pass' </dev/null &
	local i
	for ((i = 0; i < 100; i++)); do
		nsx ss -ltn | grep -q '10.77.0.1:5001' && return 0
		sleep 0.05
	done
	echo "the TCP sink did not start" >&2
	return 1
}

teardown() { tunnel_lab_down; }

# one TCP stream into s0 for up to 60 s (budget_holds stops it by PID: exec
# makes the backgrounded shell the sender)
tcp_sender() {
	exec ip netns exec "$CNS" python3 -c '
import socket, time
s = socket.create_connection(("10.77.0.1", 5001))
b = b"x" * (1 << 18)
t = time.time() + 60
while time.time() < t:
    s.sendall(b)'
}

# the default burst: copies of GSO data within 10% of the budget
gso_budget_holds() {
	run ifm collector up br0 --port c0 --rate 4mbit
	assert_success
	assert_output --partial "capped at 4mbit (burst 131072 bytes)"
	refute_output --partial "GSO"
	ifm up s0 --to br0 --direction ingress -q   # the data only, none of the ACKs
	local b0 p0 b1 p1
	b0=$(rx_bytes s0) p0=$(rx_packets s0)
	budget_holds 300000 8 tcp_sender
	# the data did come in GSO packets: more bytes per packet than a frame
	b1=$(rx_bytes s0) p1=$(rx_packets s0)
	echo "bytes per packet into s0: $(((b1 - b0) / (p1 - p0)))" >&2
	(((b1 - b0) / (p1 - p0) > 1514))
	run ifm status --json
	jq -e '.sessions[0].drops.budget > 0' <<<"$output"
}

# WHO (police, the bucket): a --burst under one GSO packet is said, once
# (the same budget again changes nothing and says nothing)
small_burst_said_once() {
	run ifm collector up br0 --port c0 --rate 4mbit --burst 32k
	assert_success
	assert_line "ifmirror: notice: br0: $1 never copies a packet longer than the burst, and a GSO packet (a TCP sender's bulk data) is up to 64 KiB and more: 32768 bytes may copy none of it; a burst of 128k or more lets it through"
	run ifm collector up br0 --port c0 --rate 4mbit --burst 32k
	assert_success
	assert_output ""
}

@test "budget-gso: police with the default burst copies a TCP sender's GSO data within 10% of the budget" {
	require_kernel police "act_police (kernel module act_police); the host lane's shaper has the next test"
	gso_budget_holds
	run ifm status --json
	jq -e '.sessions[0].destination_budget.how == "police"' <<<"$output"
}

@test "budget-gso: the bucket with the default burst copies a TCP sender's GSO data within 10% of the budget" {
	require_kernel bucket "cls_bpf and the bpf() syscall's array maps"
	export IFMIRROR_AVOID=police
	gso_budget_holds
	run ifm status --json
	jq -e '.sessions[0].destination_budget.how == "bucket"' <<<"$output"
}

@test "budget-gso: the shaper with the default burst holds the budget under GSO data too" {
	export IFMIRROR_AVOID=police,bucket
	gso_budget_holds
	run ifm status --json
	jq -e '.sessions[0].destination_budget.how == "shaper"' <<<"$output"
}

@test "budget-gso: the bucket with a --burst under one GSO packet says what it costs, once" {
	require_kernel bucket "cls_bpf and the bpf() syscall's array maps"
	export IFMIRROR_AVOID=police
	small_burst_said_once "the bucket"
}

@test "budget-gso: police with a --burst under one GSO packet says what it costs, once" {
	require_kernel police "act_police (kernel module act_police)"
	small_burst_said_once police
}
