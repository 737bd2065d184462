#!/usr/bin/env bats
# Shared tc blocks (`shared = yes` in a config section): the section's
# mirror hangs once on one block per direction, each source joins by a
# clsact made on those blocks. Frames of every source are copied exactly;
# devices with a qdisc of somebody else's keep filters of their own; a
# filter is never added to or removed from a shared block through one of
# its devices.

load helpers

setup() {
	lab_up
	veth s0 s1 s2 D E
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
}

teardown() { lab_down; }

conf() { cat >"$CONF"; chmod 0644 "$CONF"; }
apply() { ifm apply --config "$CONF" "$@"; }
group() {   # group SOURCES [DEST]: one shared section, both directions
	conf <<-EOT
	[session grp]
	source = $1
	to = ${2:-D}
	direction = both
	shared = yes
	EOT
}
# "INGRESS_BLOCK EGRESS_BLOCK" of DEV's clsact ("- -": none or no clsact)
blocks_of() {
	nsx tc qdisc show dev "$1" | awk '/clsact/ { for (i = 1; i < NF; i++) { if ($i == "ingress_block") a = $(i + 1); if ($i == "egress_block") b = $(i + 1) } }
		END { print (a ? a : "-") " " (b ? b : "-") }'
}
# mirred actions on block B
block_mirreds() { nsx tc filter show block "$1" | grep -c 'mirred (Egress Mirror' || true; }
rows() { ifm status --json | jq -r '.sessions | map("\(.source) \(.direction) \(.destination) \(.shared_block)") | sort | .[]'; }

@test "shared: one mirror per block serves every source; copies exact; apply again changes nothing" {
	group "s0 s1 s2"
	snap=$(tc_state)
	run apply --dry-run
	assert_success
	assert_line "would add: s0 both mirror to D (on shared tc blocks)"
	assert_line --regexp "^would add: \[session grp\] egress mirror to D on shared tc block [0-9]+$"
	assert_equal "$(tc_state)" "$snap"
	run apply
	assert_success
	assert_output --partial "3 added"
	read -r bi be < <(blocks_of s0)
	[[ $bi != - && $be != - && $bi != "$be" ]]
	for s in s1 s2; do assert_equal "$(blocks_of $s)" "$bi $be"; done
	assert_equal "$(block_mirreds "$bi")" 1
	assert_equal "$(block_mirreds "$be")" 1
	# one filter set in all: every device's dump shows the block's filter
	assert_equal "$(nsx tc -s filter show dev s0 ingress | grep -c 'mirred (Egress')" 1

	before=$(counter_settles Dp)
	send_in s0 10
	send_in s1 7
	send_out s2 5
	expect_rx Dp "$before" 22

	run rows
	assert_output "s0 egress D $be
s0 ingress D $bi
s1 egress D $be
s1 ingress D $bi
s2 egress D $be
s2 ingress D $bi"
	# the counters are the block's, the same on each of its devices
	run ifm status --json
	assert_equal "$(jq '[.sessions[] | select(.direction == "ingress") | .packets] | unique' <<<"$output" | jq -c .)" "[17]"

	snap=$(tc_state)
	run apply
	assert_success
	assert_output "$CONF: 3 sessions, nothing to change"
	assert_equal "$(tc_state)" "$snap"
}

@test "shared: a source out of the file leaves the block, down takes one off, the others still copy; flush leaves nothing" {
	group "s0 s1 s2"
	apply -q
	read -r bi be < <(blocks_of s0)
	group "s0 s2"
	run apply
	assert_success
	assert_output --partial "s1: off shared tc block $bi"
	assert_equal "$(blocks_of s1)" "- -"
	run nsx tc qdisc show dev s1
	refute_output --partial clsact

	run ifm down s2
	assert_success
	assert_equal "$(blocks_of s2)" "- -"
	assert_equal "$(blocks_of s0)" "$bi $be"
	assert_equal "$(block_mirreds "$bi")" 1
	before=$(counter_settles Dp)
	send_in s0 4
	send_in s1 3
	send_in s2 3
	expect_rx Dp "$before" 4

	run ifm flush
	assert_success
	run nsx tc qdisc show
	refute_output --partial clsact
	run nsx tc filter show block "$bi"
	assert_failure
	[[ -z $(cat "$IFMIRROR_RUN_DIR"/owned/* 2>/dev/null) ]]
}

@test "shared: a device with a clsact of somebody else's gets filters of its own; theirs survive apply and flush" {
	nsx tc qdisc add dev s1 clsact
	nsx tc filter add dev s1 ingress pref 7 protocol all u32 match u32 0 0 action mirred egress mirror dev E
	group "s0 s1"
	run apply
	assert_success
	assert_output --partial "s1: has a qdisc of its own"
	read -r bi _ < <(blocks_of s0)
	[[ $bi != - ]]
	assert_equal "$(blocks_of s1)" "- -"
	run rows
	assert_line "s1 ingress D null"
	assert_line "s0 ingress D $bi"
	before=$(counter_settles Dp)
	send_in s0 6
	send_in s1 5
	expect_rx Dp "$before" 11

	run ifm flush
	assert_success
	run nsx tc filter show dev s1 ingress
	assert_output --partial "pref 7 u32"
	assert_output --partial "Mirror to device E"
	refute_output --partial "Mirror to device D"
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
}

@test "shared: up, down of one direction and --snaplen never change a shared block through one device" {
	group "s0 s1"
	apply -q
	read -r bi _ < <(blocks_of s0)
	# a block of somebody else's, with their filter
	nsx tc qdisc add dev s2 ingress_block 77 clsact
	nsx tc filter add block 77 pref 3 protocol all u32 match u32 0 0 action mirred egress mirror dev E
	snap=$(tc_state)
	run ifm up s2 --to D
	assert_failure 1
	assert_output "ifmirror: s2: its ingress hook is on shared tc block 77: a mirror there would be every device's on that block; not changed"
	run ifm up s0 --to E --direction ingress
	assert_failure 1
	assert_output --partial "s0: its ingress hook is on shared tc block $bi"
	run ifm collector up s2 --snaplen 100
	assert_failure
	assert_equal "$(tc_state)" "$snap"
	run nsx tc filter show block 77
	assert_output --partial "pref 3 u32"
	assert_equal "$(block_mirreds "$bi")" 1
}

@test "shared: a new destination re-points the block; switching the section to shared and back moves its clsacts of ours" {
	conf <<-EOT
	[session grp]
	source = s0 s1
	to = D
	EOT
	apply -q
	assert_equal "$(blocks_of s0)" "- -"
	group "s0 s1"
	run apply
	assert_success
	read -r bi be < <(blocks_of s0)
	[[ $bi != - ]]
	assert_equal "$(blocks_of s1)" "$bi $be"

	group "s0 s1" E
	run apply
	assert_success
	assert_output --partial "2 changed"   # one mirror per block
	assert_equal "$(block_mirreds "$bi")" 1
	d=$(counter_settles Dp)
	e=$(counter_settles Ep)
	send_in s0 5
	send_out s1 4
	expect_rx Ep "$e" 9
	expect_rx Dp "$d" 0

	conf <<-EOT
	[session grp]
	source = s0 s1
	to = E
	EOT
	run apply
	assert_success
	assert_equal "$(blocks_of s0)" "- -"
	assert_equal "$(blocks_of s1)" "- -"
	run rows
	assert_output "s0 egress E null
s0 ingress E null
s1 egress E null
s1 ingress E null"
	e=$(counter_settles Ep)
	send_in s1 3
	expect_rx Ep "$e" 3
}

# bats test_tags=kernel-neutral
@test "shared: a bad value is refused with one line, nothing changed" {
	conf <<-EOT
	[session grp]
	source = s0
	to = D
	shared = maybe
	EOT
	snap=$(tc_state)
	run apply
	assert_failure 1
	assert_output "ifmirror: $CONF:4: shared 'maybe': not yes or no"
	assert_equal "$(tc_state)" "$snap"
}

@test "shared: a destination deleted and made again is re-pointed once for the block by refresh (the hooks' path)" {
	group "s0 s1"
	apply -q
	read -r bi be < <(blocks_of s0)
	nsx ip link del D
	veth D
	run ifm refresh D
	assert_success
	assert_output --partial "shared tc block $bi: ingress mirror to D on shared tc block $bi"
	assert_equal "$(block_mirreds "$bi")" 1
	assert_equal "$(block_mirreds "$be")" 1
	d=$(counter_settles Dp)
	send_in s0 3
	send_out s1 4
	expect_rx Dp "$d" 7
	# still the file's: apply has nothing to change
	run apply
	assert_output "$CONF: 2 sessions, nothing to change"
}
