#!/usr/bin/env bats
# --rate/--burst: a copy budget on a collector or a tunnel (issue 15, item 2).
# With the source sending far above the budget, the copies counted at the
# collector's port stay within 10% of budget x time, every one of the
# source's frames reaches its real peer, and the drops show as
# over-budget. The budget is a tbf root qdisc of ifmirror's (handle
# 1f1b:) on the bridge or tunnel, which only copies pass.
#
# The shaper is the last fallback: where the kernel has act_police (the stock
# lane), a budget is a police action (tests/budget-police.bats), else where
# it has cls_bpf an eBPF bucket (tests/budget-bucket.bats). This file tests
# the shaper on every kernel, with police and the bucket treated as missing.

load helpers
load budget-helpers

setup() {
	export IFMIRROR_AVOID=police,bucket
	lab_up
	veth s0 c0
}

teardown() { lab_down; }

ours() { nsx tc qdisc show dev "$1" | grep -c '^qdisc tbf 1f1b: root' || true; }

@test "collector --rate: copies within 10% of the budget, every source frame arrives, over-budget in status" {
	run ifm collector up br0 --port c0 --rate 4mbit
	assert_success
	assert_output --partial "br0: copies into it are capped at 4mbit (burst 131072 bytes)"
	# a burst of 250 ms: the shaper keeps the budget even where it gets the
	# CPU late (one loaded vCPU under qemu fell to 0.66 with 16k)
	ifm collector up br0 --port c0 --rate 4mbit --burst 125000 -q
	[ "$(ours br0)" = 1 ]
	run ifm up s0 --to br0 --direction both
	assert_success

	# the source's frames, both ways, all arrive at the real peer
	source_frames_arrive 2000

	# far above the budget; 6 s: a full bucket (the 125000-byte burst) at the
	# window's start is at most 4% of what the budget lets through in it (3 MB)
	budget_holds 300000 6

	run ifm status --json
	assert_success
	jq -e '.sessions[] | select(.source == "s0" and .direction == "ingress")
		| .drops.budget > 1000 and .destination_budget.how == "shaper"
		and .destination_budget.rate_bits == 4000000
		and .destination_budget.burst_bytes == 125000' <<<"$output"
	run ifm status
	assert_success
	assert_output --regexp "s0 ingress -> br0 \(up\) packets [0-9]+ bytes [0-9]+ dropped [0-9]+ over-budget [1-9][0-9]* budget 4000000bit/s"
	assert_output --regexp "collector br0 .* budget 4000000bit/s burst 125000 \(shaper\) passed [0-9]+ over-budget [1-9]"
}

@test "the same --rate again changes nothing; another one changes it; without --rate it goes; down removes it" {
	nsx tc qdisc add dev s0 root handle 7: htb default 1   # somebody else's, on a source
	ifm collector up br0 --port c0 --rate 10mbit --burst 32k -q
	ifm up s0 --to br0 -q
	STATE=$(tc_state)
	run ifm collector up br0 --port c0 --rate 10mbit --burst 32k
	assert_success
	refute_output --partial "capped"
	assert_equal "$(tc_state)" "$STATE"
	run ifm collector up br0 --port c0 --rate 1gbit
	assert_success
	assert_output --partial "capped at 1gbit (burst 6250000 bytes)"
	run nsx tc qdisc show dev br0
	assert_output --partial "qdisc tbf 1f1b: root"
	assert_output --partial "rate 1Gbit"
	run ifm collector up br0 --port c0
	assert_success
	assert_output --partial "br0: copy budget removed"
	[ "$(ours br0)" = 0 ]
	ifm collector up br0 --port c0 --rate 10mbit -q
	[ "$(ours br0)" = 1 ]
	run ifm collector down br0
	assert_success
	run nsx tc qdisc show
	refute_output --partial "1f1b:"
	assert_output --partial "qdisc htb 7: dev s0 root"
}

@test "flush removes the budget with the collector and the tunnel; foreign qdiscs survive" {
	nsx tc qdisc add dev s0 root handle 7: htb default 1
	nsx ip addr add 10.9.0.1/24 dev c0
	ifm collector up br0 --port c0p --rate 10mbit -q
	ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 20mbit -q
	[ "$(ours br0)" = 1 ]
	[ "$(ours vx0)" = 1 ]
	ifm up s0 --to vx0 -q
	run ifm flush
	assert_success
	run nsx tc qdisc show
	refute_output --partial "1f1b:"
	assert_output --partial "qdisc htb 7: dev s0 root"
}

@test "tunnel --rate: a shaper on the tunnel; its drops are the sessions' over-budget" {
	tunnel_underlay
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 8kbit --burst 2048
	assert_success
	assert_output --partial "vx0: copies into it are capped at 8kbit (burst 2048 bytes)"
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 8kbit --burst 2048
	assert_success
	refute_output --partial "capped"
	ifm up s0 --to vx0 --direction ingress -q
	in0=$(rx_packets s0)
	send_in s0 500 --size $SIZE
	expect_rx s0 "$in0" 500
	run ifm status --json
	jq -e '.sessions[0].drops.budget > 100 and .sessions[0].destination_budget.rate_bits == 8000' <<<"$output"
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5
	assert_success
	assert_output --partial "vx0: copy budget removed"
	[ "$(ours vx0)" = 0 ]
}

@test "a root qdisc of somebody else on the bridge is never replaced" {
	ifm collector up br0 --port c0 -q
	nsx tc qdisc add dev br0 root handle 5: htb default 1
	STATE=$(tc_state)
	run ifm collector up br0 --port c0 --rate 10mbit
	assert_failure 1
	assert_output --partial "br0: has a root qdisc of somebody else (htb 5:); not replacing it with the copy budget"
	assert_equal "$(tc_state)" "$STATE"
	run ifm collector up br0 --port c0
	assert_success
	assert_equal "$(tc_state)" "$STATE"
}

# bats test_tags=kernel-neutral
@test "bad --rate and --burst are refused with one line, exit 2, nothing changed" {
	STATE=$(tc_state)
	for bad in 100 7999bit 101gbit 10furlongs mbit 1.2.3mbit ''; do
		run ifm collector up br0 --port c0 --rate "$bad"
		assert_failure 2
		assert_output --partial "ifmirror: collector up: --rate '$bad': "
		assert_equal "${#lines[@]}" 1
	done
	run ifm collector up br0 --port c0 --rate 100
	assert_output "ifmirror: collector up: --rate '100': needs a unit (bit, kbit, mbit, gbit, or bps, kbps, mbps, gbps for bytes): tc reads a bare number as bytes per second"
	for bad in 2047 257m 10kbit -5; do
		run ifm collector up br0 --port c0 --rate 1mbit --burst "$bad"
		assert_failure 2
		assert_output "ifmirror: collector up: --burst '$bad': not a number of bytes from 2048 to 256mb (k/kb, m/mb: 1024, 1048576 bytes)"
	done
	ifm collector up br0 --port c0 -q
	nsx ip link set br0 mtu 3000
	STATE=$(tc_state)
	run ifm collector up br0 --port c0 --rate 1mbit --burst 2048
	assert_failure 1
	assert_output "ifmirror: br0: --burst 2048 is less than one whole frame of it (MTU 3000 + 14): such copies would all be dropped"
	assert_equal "$(tc_state)" "$STATE"
	run ifm collector up br0 --port c0 --burst 64k
	assert_failure 2
	assert_output "ifmirror: collector up: --burst needs --rate (the budget it is the burst of)"
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 1tbit
	assert_failure 2
	assert_output --partial "ifmirror: tunnel up: --rate '1tbit': not a rate from 8kbit to 100gbit"
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --burst 64k
	assert_failure 2
	assert_output "ifmirror: tunnel up: --burst needs --rate (the budget it is the burst of)"
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 1mbit --rate 2mbit
	assert_failure 2
	assert_output "ifmirror: tunnel up: --rate given twice"
	assert_equal "$(tc_state)" "$STATE"
}

@test "the config file: rate and burst of a collector and a tunnel, applied; bad ones name the line" {
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[collector br0]\nports = c0\nrate = 4mbit\nburst = 64k\n[session a]\nsource = s0\nto = br0\n' >"$CONF"
	chmod 0644 "$CONF"
	run ifm apply --config "$CONF"
	assert_success
	run nsx tc qdisc show dev br0
	assert_output --partial "qdisc tbf 1f1b: root"
	assert_output --partial "rate 4Mbit"
	STATE=$(tc_state)
	run ifm apply --config "$CONF"
	assert_success
	assert_equal "$(tc_state)" "$STATE"
	printf '[collector br0]\nports = c0\nrate = 4\n' >"$CONF"
	run ifm apply --config "$CONF"
	assert_failure 1
	assert_output --partial "ifmirror: $CONF:3: rate '4': needs a unit"
	printf '[tunnel vx0]\ntype = vxlan\nremote = 10.9.0.2\nvni = 5\nburst = 64k\n' >"$CONF"
	run ifm apply --config "$CONF"
	assert_failure 1
	assert_output --partial "ifmirror: $CONF:5: [tunnel vx0]: burst without rate"
	assert_equal "$(tc_state)" "$STATE"
}
