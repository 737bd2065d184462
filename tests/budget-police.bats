#!/usr/bin/env bats
# --rate/--burst by act_police (issue 15, item 2): where the kernel has
# act_police, a copy budget is one police action per collector or tunnel
# (index 0x1f1b0000 + its ifindex, an ifmirror cookie), joined by every
# session's filter into it before the mirred. Copies over the budget are not
# made (exceed: continue); the source's frames all pass. On kernels without
# act_police (the host lane) every test skips, naming it.
# tests/budget.bats tests the shaper (IFMIRROR_AVOID=police,bucket),
# tests/budget-bucket.bats the eBPF bucket.

load helpers
load budget-helpers

setup() {
	require_kernel police "act_police (kernel module act_police), which every test here is about"
	lab_up
	veth s0 c0
}

teardown() { lab_down; }

# ifmirror's police action of DEV: 1 or 0
police_of() {
	local idx
	idx=$(( (0x1f1b << 16) | $(nsx cat "/sys/class/net/$1/ifindex") ))
	nsx tc actions show action police | grep -c "police 0x$(printf %x $idx) " || true
}
polices() { nsx tc actions show action police | grep -c 'police 0x' || true; }
tbf_of() { nsx tc qdisc show dev "$1" | grep -c '^qdisc tbf 1f1b: root' || true; }

@test "police: copies within 10% of the budget, every source frame arrives both ways, over-budget in status" {
	# a burst of 500 ms: a policer has no queue, so a sender that gets the
	# CPU late (one loaded vCPU under qemu) loses what the bucket cannot
	# hold; 125000 (250 ms) gave 0.77 of the budget there
	run ifm collector up br0 --port c0 --rate 4mbit --burst 250000
	assert_success
	assert_output --partial "br0: copies into it are capped at 4mbit (burst 250000 bytes); those over it are not made (police)"
	[ "$(police_of br0)" = 1 ]
	[ "$(tbf_of br0)" = 0 ]
	run ifm up s0 --to br0 --direction both
	assert_success
	# the filters hold the police before the mirred
	run nsx tc filter show dev s0 ingress
	assert_output --regexp "action order 1:  police 0x1f1b[0-9a-f]+ rate 4Mbit burst"
	assert_output --partial "action order 2: mirred (Egress Mirror to device br0)"

	# far above the budget, both ways: every source frame reaches its real peer
	source_frames_arrive 20000

	# 8 s: a full bucket at the window's start is at most 6% of what the
	# budget lets through in it (4 MB)
	budget_holds 500000 8 || { nsx tc -s actions show action police >&2; false; }

	run ifm status --json
	assert_success
	jq -e '.sessions[] | select(.source == "s0" and .direction == "ingress")
		| .drops.budget > 1000 and .destination_budget.how == "police"
		and .destination_budget.rate_bits == 4000000
		and .destination_budget.burst_bytes == 250000' <<<"$output"
	run ifm status
	assert_success
	assert_output --regexp "s0 ingress -> br0 \(up\) packets [0-9]+ bytes [0-9]+ dropped [1-9][0-9]* over-budget [1-9][0-9]* budget 4000000bit/s"
	assert_output --regexp "collector br0 .* budget 4000000bit/s burst 250000 \(police\) passed [0-9]+ over-budget [1-9]"
	run ifm status --prometheus
	assert_success
	assert_output --regexp 'ifmirror_session_drops_total\{[^}]*cause="budget"[^}]*\} [1-9]'
}

@test "police: a foreign filter after ours still sees every frame; a rate change keeps the action" {
	nsx tc qdisc add dev s0 clsact
	ifm collector up br0 --port c0 --rate 8kbit --burst 2048 -q
	ifm up s0 --to br0 --direction ingress -q
	# somebody else's filter after ours: counts every frame by its own action
	nsx tc filter add dev s0 ingress pref 900 u32 match u32 0 0 action police rate 1gbit burst 1m conform-exceed ok index 5
	in0=$(rx_packets s0)
	send_in s0 500 --size $SIZE
	expect_rx s0 "$in0" 500
	run nsx tc -s filter show dev s0 ingress pref 900
	assert_output --regexp "Sent [0-9]+ bytes 500 pkt"
	run ifm collector up br0 --port c0 --rate 16kbit --burst 4096
	assert_success
	assert_output --partial "capped at 16kbit (burst 4096 bytes)"
	run nsx tc filter show dev s0 ingress
	assert_output --regexp "police 0x1f1b[0-9a-f]+ rate 16Kbit burst 4Kb"
	run ifm collector up br0 --port c0 --rate 16kbit --burst 4096
	refute_output --partial "capped"
}

@test "police: down keeps the collector's budget; collector down, flush remove it; a foreign police survives" {
	nsx tc actions add action police rate 1mbit burst 16k index 5
	ifm collector up br0 --port c0 --rate 10mbit -q
	ifm up s0 --to br0 -q
	assert_equal "$(police_of br0)" 1
	ifm down s0 --to br0 -q
	assert_equal "$(police_of br0)" 1
	ifm up s0 --to br0 -q
	# removed under its session: the session holds it until it goes
	run ifm collector down br0
	assert_success
	assert_equal "$(polices)" 2
	ifm down s0 -q
	assert_equal "$(polices)" 1
	run nsx tc actions show action police
	assert_output --partial "police 0x5 "
	# flush
	nsx ip addr add 10.9.0.1/24 dev c0
	ifm collector up br0 --port c0p --rate 10mbit -q
	ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 20mbit -q
	[ "$(police_of br0)" = 1 ]
	[ "$(police_of vx0)" = 1 ]
	ifm up s0 --to vx0 -q
	run ifm flush
	assert_success
	[ "$(polices)" = 1 ]
	run nsx tc actions show action police
	assert_output --partial "police 0x5 "
}

@test "police: removing the budget while sessions use it is refused; after them it goes" {
	ifm collector up br0 --port c0 --rate 10mbit -q
	ifm up s0 --to br0 -q
	STATE=$(tc_state)
	run ifm collector up br0 --port c0
	assert_failure 1
	assert_output --partial "br0: its copy budget (police) is held by 2 mirror filters of sessions into it; take them down first"
	assert_equal "$(tc_state)" "$STATE"
	ifm down s0 -q
	run ifm collector up br0 --port c0
	assert_success
	assert_output --partial "br0: copy budget removed"
	[ "$(police_of br0)" = 0 ]
}

@test "police: a budget added under existing sessions is a shaper, said so; IFMIRROR_AVOID=police,bucket gives the shaper" {
	ifm collector up br0 --port c0 -q
	ifm up s0 --to br0 -q
	run ifm collector up br0 --port c0 --rate 10mbit
	assert_success
	assert_output --partial "br0: 1 source mirrors into it already, without the budget: the copy budget is a shaper"
	[ "$(tbf_of br0)" = 1 ]
	[ "$(police_of br0)" = 0 ]
	ifm collector down br0 -q
	ifm down s0 -q
	IFMIRROR_AVOID=police,bucket ifm collector up br0 --port c0 --rate 10mbit -q
	[ "$(tbf_of br0)" = 1 ]
	[ "$(police_of br0)" = 0 ]
	run ifm status --json
	jq -e '.collectors[0].budget.how == "shaper"' <<<"$output"
}

@test "police: a kill -9 after the budget, before the session, leaves nothing flush cannot remove" {
	ifm collector up br0 --port c0 --rate 10mbit -q
	# the collector gone behind ifmirror's back: its police is an orphan
	nsx ip link del br0
	[ "$(polices)" = 1 ]
	run ifm flush
	assert_success
	[ "$(polices)" = 0 ]
}

@test "tunnel --rate: police on the tunnel's sessions; its drops are the sessions' over-budget" {
	tunnel_underlay
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 8kbit --burst 2048
	assert_success
	assert_output --partial "vx0: copies into it are capped at 8kbit (burst 2048 bytes); those over it are not made (police)"
	ifm up s0 --to vx0 --direction ingress -q
	in0=$(rx_packets s0)
	send_in s0 500 --size $SIZE
	expect_rx s0 "$in0" 500
	run ifm status --json
	jq -e '.sessions[0].drops.budget > 100 and .sessions[0].destination_budget.how == "police"' <<<"$output"
	run ifm tunnel down vx0
	assert_success
	assert_equal "$(polices)" 1   # held by the session into it
	ifm down s0 -q
	assert_equal "$(polices)" 0
}

# The lab as tc and ip show it, police actions included, without what
# differs between two runs that make the same objects (ifindexes, MACs,
# indexes, cookies, handles): as tests/crash.bats's state.
pstate() {
	{ tc_state; nsx tc actions show action police; } | sed -E 's/^[0-9]+: //; s/@if[0-9]+/@ifX/g;
		s/link\/ether [0-9a-f:]+/link\/ether X/; s/cookie [0-9a-f]+/cookie X/g;
		s/index [0-9]+/index X/g; s/police 0x[0-9a-f]+/police X/g; s/ id [0-9]+/ id X/g;
		s/handle [0-9a-fx:]+/handle X/g; s/fh [0-9a-f:]+/fh X/g; s/ht [0-9a-f]+/ht X/g;
		s/order [0-9]+/order X/g; s/^total acts [0-9]+//' | sort
}

@test "police: a kill -9 after any request of collector up --rate or apply leaves nothing the next command cannot recognise" {
	nsx tc actions add action police rate 1mbit burst 16k index 5
	nsx tc qdisc add dev s0 clsact
	nsx tc filter add dev s0 ingress pref 500 u32 match u32 0 0 action police index 5
	budget_crash pstate "collector up --rate" collector up br0 --port c0 --rate 10mbit
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[collector br0]\nports = c0\nrate = 4mbit\n[session a]\nsource = s0\nto = br0\n' >"$CONF"
	chmod 0644 "$CONF"
	budget_crash pstate "apply (collector with rate, session)" apply --config "$CONF"
	run nsx tc actions show action police
	assert_output --partial "police 0x5 "
}
