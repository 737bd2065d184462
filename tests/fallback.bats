#!/usr/bin/env bats
# The kernel-dependent paths. Each runs where the kernel has what it needs;
# IFMIRROR_AVOID makes ifmirror treat a kind as absent, so the fallbacks run
# on full kernels too (the stock-kernel lane), and nothing skips there.

load helpers

setup() {
	lab_up
	veth s0 d0
}

teardown() { lab_down; }

N=150

count_both() {
	local before
	before=$(rx_packets d0p)
	send_in s0 $N
	send_out s0 $N
	expect_rx d0p "$before" $((2 * N))
}

@test "matchall is the classifier where the kernel has it" {
	require_kernel matchall "the matchall path needs cls_matchall"
	run ifm up s0 --to d0
	assert_success
	assert_output --partial "(clsact, matchall, pref 1)"
	count_both
	run ifm status s0 --json
	assert_output --partial '"classifier": "matchall"'
	run nsx tc filter show dev s0 ingress
	assert_output --partial "matchall"
	assert_output --partial "continue"
	run ifm down s0
	assert_success
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
}

@test "u32 match-all where matchall is missing" {
	kernel_has matchall && export IFMIRROR_AVOID=matchall
	run ifm up s0 --to d0
	assert_success
	assert_output --partial "(clsact, u32, pref 1)"
	count_both
	run ifm status s0 --json
	assert_output --partial '"classifier": "u32"'
	run ifm down s0
	assert_success
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
}

@test "u32: down removes its own filters by handle; a user's u32 filter in that pref survives" {
	kernel_has matchall && export IFMIRROR_AVOID=matchall
	veth u0
	run ifm up s0 --to d0
	assert_output --partial "(clsact, u32, pref 1)"
	nsx tc filter add dev s0 ingress pref 1 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev u0
	run ifm down s0
	assert_success
	assert_output --partial "s0: ingress mirror to d0 removed"
	run nsx tc filter show dev s0 ingress
	assert_output --partial "pref 1 u32"
	assert_output --partial "device u0"
	refute_output --partial cookie
	run nsx tc filter show dev s0 egress
	refute_output --partial cookie
	bd=$(rx_packets d0p)
	bu=$(rx_packets u0p)
	send_in s0 $N
	send_out s0 $N
	expect_rx u0p "$bu" $N
	expect_rx d0p "$bd" 0
	# the qdisc holds the user's filter: it stays, and is theirs now
	run nsx tc qdisc show dev s0
	assert_output --partial clsact
	run ifm flush
	run nsx tc filter show dev s0 ingress
	assert_output --partial "device u0"
}

@test "u32: down of one session leaves no empty u32 instance behind" {
	kernel_has matchall && export IFMIRROR_AVOID=matchall
	veth u0 d1
	# the user's own u32 filter in another pref keeps the clsact; ifmirror's pref goes whole
	nsx tc qdisc add dev s0 clsact
	nsx tc filter add dev s0 ingress pref 9 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev u0
	ifm up s0 --to d0 -q
	ifm up s0 --to d1 -q
	run ifm down s0 --to d0
	assert_success
	run nsx tc filter show dev s0 ingress
	refute_output --partial "pref 1 "
	assert_output --partial "pref 2 u32"
	run nsx tc filter show dev s0 egress
	refute_output --partial "pref 1 "
	run ifm down s0
	run nsx tc filter show dev s0 ingress
	refute_output --partial "pref 2 "
	assert_output --partial "pref 9 u32"
	run nsx tc filter show dev s0 egress
	refute_output --partial "pref 2 "
}

@test "user filters of another kind at later prefs keep running after a matchall mirror" {
	require_kernel matchall "the matchall path needs cls_matchall"
	veth u0
	nsx tc qdisc add dev s0 clsact
	nsx tc filter add dev s0 ingress pref 50 protocol all matchall action mirred egress mirror dev u0
	run ifm up s0 --to d0 --direction ingress
	assert_success
	bu=$(rx_packets u0p)
	bd=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$bd" $N
	expect_rx u0p "$bu" $N
}

@test "no clsact: the ingress qdisc and a prio root in place of the default qdisc" {
	require_kernel prio "the egress fallback without clsact needs sch_prio"
	export IFMIRROR_AVOID=clsact
	state=$(tc_state)
	run ifm up s0 --to d0
	assert_success
	assert_output --partial "notice: the kernel has no clsact qdisc"
	assert_output --partial "ingress mirror to d0 added (ingress,"
	assert_output --partial "egress mirror to d0 added (prio,"
	run nsx tc qdisc show dev s0
	assert_output --partial "qdisc prio 1f1f: root"
	assert_output --partial "qdisc ingress ffff:"
	count_both
	run ifm status s0 --json
	assert_output --partial '"hook": "prio"'
	assert_output --partial '"hook": "ingress"'
	run ifm up s0 --to d0
	assert_success
	refute_output --partial added
	run ifm down s0
	assert_success
	assert_equal "$(tc_state)" "$state"
}

@test "no clsact and no prio: egress refused with the reason, ingress still works" {
	export IFMIRROR_AVOID=clsact
	kernel_has prio && IFMIRROR_AVOID=clsact,prio
	state=$(tc_state)
	run ifm up s0 --to d0 --direction egress
	assert_failure 1
	assert_output "ifmirror: s0: cannot mirror egress: the kernel has neither the clsact nor the prio qdisc (sch_prio)"
	assert_equal "$(tc_state)" "$state"
	run ifm up s0 --to d0 --direction ingress
	assert_success
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" $N
	run ifm down s0
	assert_success
	assert_equal "$(tc_state)" "$state"
}

@test "the user's ingress qdisc blocks clsact: egress needs prio, else a clear refusal" {
	nsx tc qdisc add dev s0 ingress
	state=$(tc_state)
	if kernel_has prio; then
		run ifm up s0 --to d0 --direction egress
		assert_success
		assert_output --partial "egress mirror to d0 added (prio,"
		before=$(rx_packets d0p)
		send_out s0 $N
		expect_rx d0p "$before" $N
		run ifm down s0
		assert_success
	else
		run ifm up s0 --to d0 --direction egress
		assert_failure 1
		assert_output --partial "s0: cannot mirror egress"
	fi
	assert_equal "$(tc_state)" "$state"
}
