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
