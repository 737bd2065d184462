#!/usr/bin/env bats
# ifmirror watch's quick path: a device that came runs the engine for its own
# sessions only (ifm_apply_scoped), bursts are one run, and apply's loop
# check takes back a skipped device's mirror instead of building its graph
# again. Functional assertions only (bench/watch measures the time).

load helpers
load watch-helpers

setup() { watch_lab_up; }

teardown() { watch_lab_down; }

# the number of distinct mirred actions on all devices' hooks (one tc run;
# u32 lists a filter under both hooks of a clsact: actions counted once)
mirror_filters() {
	local d
	for d in $(nsx ls /sys/class/net); do
		echo "filter show dev $d ingress"
		echo "filter show dev $d egress"
	done >"$BATS_TEST_TMPDIR/show.tc"
	{ nsx tc -force -batch "$BATS_TEST_TMPDIR/show.tc" 2>/dev/null || true; } |
		awk 'm && $1 == "index" { seen[$2] } { m = /mirred/ } END { print length(seen) }'
}

# bats test_tags=kernel-neutral
@test "watch-speed: 200 taps created at once are all mirrored exactly once each; excluded ones are not" {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap* !tapx*
	to = brm
	direction = egress
	EOT
	watch_start
	for ((i = 0; i < 200; i++)); do
		echo "tuntap add mode tap tap$i"
		echo "link set tap$i up"
	done >"$BATS_TEST_TMPDIR/taps.ip"
	for ((i = 0; i < 5; i++)); do
		echo "tuntap add mode tap tapx$i"
		echo "link set tapx$i up"
	done >>"$BATS_TEST_TMPDIR/taps.ip"
	nsx ip -batch "$BATS_TEST_TMPDIR/taps.ip"
	want=$(for ((i = 0; i < 200; i++)); do echo "tap$i egress brm"; done | sort)
	wait_until have_session_lines "$want"
	# exactly once: one mirred filter per tap, none on the excluded ones
	assert_equal "$(mirror_filters)" 200
	before=$(counter_settles c0p)
	for ((i = 0; i < 200; i++)); do send_out "tap$i" 1; done
	for ((i = 0; i < 5; i++)); do send_out "tapx$i" 1; done
	expect_rx c0p "$before" 200
	# one line per change, none twice
	assert_equal "$(grep -c 'egress mirror to brm added' "$LOG")" 200
	assert_equal "$(grep 'egress mirror to brm added' "$LOG" | sort | uniq -d)" ""
	kill -0 "$WATCH"
}

@test "watch-speed: devices a pattern must skip (the collector's port, loops) do not stop the others" {
	# br0 with ports p0..p39; their peers q* would loop (br0 floods into
	# p*, which hands to q*): apply skips them all, one after the other
	nsx ip link add br0 type bridge
	nsx ip link set br0 up
	for ((i = 0; i < 40; i++)); do
		echo "link add p$i type veth peer name q$i"
		echo "link set p$i master br0"
		echo "link set p$i up"
		echo "link set q$i up"
	done | nsx ip -batch -
	conf <<-EOT
	[collector brm]
	ports = c0
	[session loopy]
	source = q* tap*
	to = br0
	direction = ingress
	[session port]
	source = c* tap*
	to = brm
	direction = egress
	EOT
	watch_start
	wait_until grep -q "skipping q39 to br0: it would loop" "$LOG"
	nsx ip tuntap add mode tap tap1
	nsx ip link set tap1 up
	# a new pair with one end put into br0 at once: its peer loops too
	nsx ip link add p40 type veth peer name q40
	nsx ip link set p40 master br0
	nsx ip link set p40 up
	nsx ip link set q40 up
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 ingress br0')"
	wait_until grep -q "skipping q40 to br0: it would loop" "$LOG"
	run session_lines
	refute_output --partial "q40"
	grep -q "skipping c0: it is a port of the destination" "$LOG"
	# 40 skips and 2 mirrors of tap1: nothing else on any device
	assert_equal "$(mirror_filters)" 2
	before=$(counter_settles c0p)
	send_out tap1 3
	expect_rx c0p "$before" 3
	kill -0 "$WATCH"
}

@test "watch-speed: a loop through a device whose filters the quick path did not read is still refused" {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap*
	to = d0
	direction = egress
	EOT
	# d0p (d0's peer) mirrors what it receives into xz: once xz is renamed
	# tapz, a mirror tapz -> d0 would send the copies round for ever
	nsx ip tuntap add mode tap xz
	nsx ip link set xz up
	ifm up d0p --to xz --direction ingress -q
	watch_start
	nsx ip tuntap add mode tap tap1
	nsx ip link set tap1 up
	wait_until have_session_lines "$(printf '%s\n' 'd0p ingress xz' 'tap1 egress d0')"
	nsx ip link set xz down
	nsx ip link set xz name tapz
	nsx ip link set tapz up
	wait_until grep -q "skipping tapz to d0: it would loop" "$LOG"
	run session_lines
	assert_output "$(printf '%s\n' 'd0p ingress tapz' 'tap1 egress d0')"
	kill -0 "$WATCH"
}

@test "watch-speed: a device renamed out of a pattern loses its mirror, renamed back in gets it again" {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap*
	to = brm
	direction = egress
	EOT
	watch_start
	nsx ip tuntap add mode tap tap1
	nsx ip tuntap add mode tap tap2
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap2 egress brm')"
	nsx ip link set tap1 name vm1
	wait_until have_session_lines "tap2 egress brm"
	assert_equal "$(mirror_filters)" 1
	nsx ip link set vm1 name tap9
	wait_until have_session_lines "$(printf '%s\n' 'tap2 egress brm' 'tap9 egress brm')"
	nsx ip link del tap2
	wait_until have_session_lines "tap9 egress brm"
	assert_equal "$(grep -c 'mirror to brm removed' "$LOG")" 1
	kill -0 "$WATCH"
}
