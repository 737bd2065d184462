#!/usr/bin/env bats
# ifmirror up/down/status on the real kernel, judged by frames counted at the
# destination's peer.

load helpers

setup() {
	lab_up
	veth s0 d0
}

teardown() { lab_down; }

N=200

@test "ingress only: frames into SOURCE are copied, frames out of it are not" {
	run ifm up s0 --to d0 --direction ingress
	assert_success
	assert_output --partial "s0: ingress mirror to d0 added"
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" $N
	before=$(rx_packets d0p)
	send_out s0 $N
	expect_rx d0p "$before" 0
}

@test "egress only: frames out of SOURCE are copied, frames into it are not" {
	run ifm up s0 --to d0 --direction egress
	assert_success
	before=$(rx_packets d0p)
	send_out s0 $N
	expect_rx d0p "$before" $N
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" 0
}

@test "both directions (the default): every frame in and out, once" {
	run ifm up s0 --to d0
	assert_success
	before=$(rx_packets d0p)
	send_in s0 $N
	send_out s0 $N
	expect_rx d0p "$before" $((2 * N))
	# the source itself still gets and sends everything
	expect_rx s0 0 $N
	expect_rx s0p 0 $N
}

@test "mirrored copies arrive byte for byte as the source saw them" {
	run ifm up s0 --to d0 --direction ingress
	assert_success
	ip netns exec "$NS" tcpdump -i d0p --immediate-mode -U -w "$BATS_TEST_TMPDIR/d.pcap" ether proto 0x88b5 2>/dev/null &
	d=$!
	ip netns exec "$NS" tcpdump -i s0 --immediate-mode -U -Q in -w "$BATS_TEST_TMPDIR/s.pcap" ether proto 0x88b5 2>/dev/null &
	s=$!
	sleep 0.5
	send_in s0 5 --size 1400
	send_in s0 5 --size 64
	sleep 0.3
	kill "$d" "$s"; wait "$d" "$s" || true
	# hex dumps without timestamps: equal frames, equal order
	dump() { tcpdump -r "$1" -nn -t -xx 2>/dev/null; }
	src=$(dump "$BATS_TEST_TMPDIR/s.pcap")
	dst=$(dump "$BATS_TEST_TMPDIR/d.pcap")
	assert_equal "$(grep -c 'length 1400' <<<"$dst")" 5
	assert_equal "$(grep -c 'length 64' <<<"$dst")" 5
	assert_equal "$dst" "$src"
}

@test "two sources into one destination" {
	veth s1
	run ifm up s0 --to d0
	assert_success
	run ifm up s1 --to d0
	assert_success
	before=$(rx_packets d0p)
	send_in s0 $N
	send_out s1 $N
	send_in s1 50
	expect_rx d0p "$before" $((2 * N + 50))
}

@test "one source into two destinations: one session each" {
	veth d1
	run ifm up s0 --to d0
	assert_success
	run ifm up s0 --to d1 --direction egress
	assert_success
	b0=$(rx_packets d0p)
	b1=$(rx_packets d1p)
	send_in s0 $N
	send_out s0 $N
	expect_rx d0p "$b0" $((2 * N))
	expect_rx d1p "$b1" $N
	run ifm status s0
	assert_success
	assert_equal "$(wc -l <<<"$output")" 3
	# removing one session leaves the other
	run ifm down s0 --to d0
	assert_success
	run ifm status s0
	assert_output --regexp '^s0 egress -> d1 '
	assert_equal "$(wc -l <<<"$output")" 1
}

@test "a second identical up changes nothing: same tc state, one copy per frame" {
	run ifm up s0 --to d0
	assert_success
	state=$(tc_state)
	run ifm up s0 --to d0
	assert_success
	assert_output --partial "ingress mirror to d0 unchanged"
	assert_output --partial "egress mirror to d0 unchanged"
	refute_output --partial added
	assert_equal "$(tc_state)" "$state"
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" $N
}

@test "up with another direction changes the session to that direction" {
	run ifm up s0 --to d0
	assert_success
	run ifm up s0 --to d0 --direction ingress
	assert_success
	assert_output --partial "egress mirror to d0 removed"
	run ifm status s0 --json
	assert_output --partial '"direction": "ingress"'
	refute_output --partial '"direction": "egress"'
	before=$(rx_packets d0p)
	send_out s0 $N
	send_in s0 $N
	expect_rx d0p "$before" $N
}

@test "down removes everything ifmirror added and restores the device" {
	state=$(tc_state)
	run ifm up s0 --to d0
	assert_success
	run ifm down s0
	assert_success
	assert_output --partial "ingress mirror to d0 removed"
	assert_equal "$(tc_state)" "$state"
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" 0
}

@test "down of a session that does not exist, or of a missing SOURCE, succeeds" {
	state=$(tc_state)
	run ifm down s0
	assert_success
	assert_output --partial "nothing to remove"
	run ifm down s0 --to d0
	assert_success
	run ifm down nosuchdev
	assert_success
	assert_output --partial "no such device"
	assert_equal "$(tc_state)" "$state"
}

@test "down --to removes only that destination's session" {
	veth d1
	ifm up s0 --to d0 -q
	ifm up s0 --to d1 -q
	run ifm down s0 --to d1
	assert_success
	run ifm status --json
	assert_output --partial '"destination": "d0"'
	refute_output --partial '"destination": "d1"'
}

@test "the user's htb root and own clsact filter survive and keep counting" {
	veth u0
	nsx tc qdisc add dev s0 root handle 1: htb default 10
	nsx tc class add dev s0 parent 1: classid 1:10 htb rate 100mbit
	nsx tc class add dev s0 parent 1: classid 1:20 htb rate 10mbit
	nsx tc qdisc add dev s0 clsact
	nsx tc filter add dev s0 ingress pref 100 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev u0
	state=$(tc_state)

	run ifm up s0 --to d0
	assert_success
	assert_output --partial "pref 1)"
	bd=$(rx_packets d0p)
	bu=$(rx_packets u0p)
	send_in s0 $N
	send_out s0 $N
	expect_rx d0p "$bd" $((2 * N))   # the mirror sees everything first
	expect_rx u0p "$bu" $N           # and the user's filter still runs after it
	nsx tc class show dev s0 | grep -q '1:20'

	run ifm down s0
	assert_success
	assert_equal "$(tc_state)" "$state"
	bu=$(rx_packets u0p)
	send_in s0 $N
	expect_rx u0p "$bu" $N
}

@test "a user's filter at pref 1 is left alone; the mirror takes the next free pref" {
	veth u0
	nsx tc qdisc add dev s0 clsact
	nsx tc filter add dev s0 egress pref 1 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev u0 continue
	run ifm up s0 --to d0
	assert_success
	assert_output --partial "pref 2)"
	bd=$(rx_packets d0p)
	bu=$(rx_packets u0p)
	send_out s0 $N
	expect_rx d0p "$bd" $N
	expect_rx u0p "$bu" $N
	run ifm down s0
	assert_success
	run nsx tc filter show dev s0 egress
	assert_output --partial "pref 1 u32"
	refute_output --partial "cookie"
}

@test "destination administratively down: copies dropped and counted, source unaffected" {
	run ifm up s0 --to d0
	assert_success
	nsx ip link set d0 down
	bs=$(rx_packets s0)
	bp=$(rx_packets s0p)
	send_in s0 $N
	send_out s0 $N
	expect_rx s0 "$bs" $N
	expect_rx s0p "$bp" $N
	run ifm status s0
	assert_output --regexp "s0 ingress -> d0 \(down\) packets $N bytes [0-9]+ dropped $N"
	run ifm status s0 --json
	assert_output --partial '"destination_state": "down"'
	# back up: mirroring resumes by itself (the action kept the device)
	nsx ip link set d0 up
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" $N
}

@test "destination without carrier: status says so, source unaffected" {
	run ifm up s0 --to d0 --direction egress
	assert_success
	nsx ip link set d0p down
	bp=$(rx_packets s0p)
	send_out s0 $N
	expect_rx s0p "$bp" $N
	run ifm status s0
	assert_output --regexp "s0 egress -> d0 \(no-carrier\) packets $N bytes [0-9]+ dropped $N"
}

@test "destination deleted: status shows it gone, source unaffected, up again repairs" {
	run ifm up s0 --to d0
	assert_success
	nsx ip link del d0
	bs=$(rx_packets s0)
	send_in s0 $N
	expect_rx s0 "$bs" $N
	run ifm status s0
	assert_success
	assert_output --partial "deleted device"
	assert_output --partial "(gone"
	run ifm status s0 --json
	assert_output --partial '"destination": null'
	assert_output --partial '"destination_state": "gone"'
	# the same name comes back with a new ifindex: the kernel does not re-bind
	veth d0
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" 0
	# ifmirror up again replaces the dangling filters
	run ifm up s0 --to d0
	assert_success
	assert_output --partial "replaced"
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" $N
	run ifm status s0
	assert_equal "$(wc -l <<<"$output")" 2
	refute_output --partial gone
}

@test "down --to a deleted destination removes its dangling session" {
	veth d1
	ifm up s0 --to d0 -q
	ifm up s0 --to d1 -q
	nsx ip link del d0
	run ifm down s0 --to d0
	assert_success
	run ifm status s0
	assert_equal "$(wc -l <<<"$output")" 2
	refute_output --partial gone
}

@test "down --to NAME means the device NAME names now, not one renamed away from it" {
	ifm up s0 --to d0 -q
	# (Linux 6.1 renames only a device that is down)
	nsx ip link set d0 down
	nsx ip link set d0p down
	nsx ip link set d0 name d9
	nsx ip link set d0p name d9p
	nsx ip link set d9 up
	nsx ip link set d9p up
	# no device is called d0: the live session to d9 (once d0) is not d0's
	run ifm down s0 --to d0
	assert_success
	assert_output --partial "no ifmirror session to d0"
	before=$(rx_packets d9p)
	send_in s0 $N
	expect_rx d9p "$before" $N
	# another device takes the name: --to d0 is that one only
	veth d0
	ifm up s0 --to d0 -q
	run ifm down s0 --to d0
	assert_success
	assert_output --partial "s0: ingress mirror to d0 removed"
	refute_output --partial d9
	run ifm status s0 --json
	assert_output --partial '"destination": "d9"'
	refute_output --partial '"destination": "d0"'
	before=$(rx_packets d9p)
	send_in s0 $N
	expect_rx d9p "$before" $N
}

@test "down leaves a user's bpf filter that shares the pref of a --match session" {
	veth u0
	ifm up s0 --to d0 --direction ingress --match ip -q
	nsx tc filter show dev s0 ingress | grep -q "pref 1 bpf"
	# the user's own classic BPF filter (accept all) in the same pref, another handle
	nsx tc filter add dev s0 ingress pref 1 handle 7 protocol all bpf \
		bytecode '1,6 0 0 262144' action mirred egress mirror dev u0
	run ifm down s0
	assert_success
	run nsx tc filter show dev s0 ingress
	assert_output --partial "handle 0x7"
	assert_output --partial "u0"
	refute_output --partial cookie
	bd=$(rx_packets d0p)
	bu=$(rx_packets u0p)
	send_in s0 $N
	expect_rx u0p "$bu" $N
	expect_rx d0p "$bd" 0
}

@test "refuses a loop: DEST already mirrors into SOURCE" {
	run ifm up d0 --to s0 --direction egress
	assert_success
	state=$(tc_state)
	run ifm up s0 --to d0
	assert_failure 1
	assert_output --regexp "^ifmirror: d0: refusing to mirror s0 into it: .*loop"
	assert_equal "$(tc_state)" "$state"
}

@test "refuses a loop: DEST is a bridge SOURCE is a port of" {
	nsx ip link add br0 type bridge
	nsx ip link set br0 up
	nsx ip link set s0 master br0
	state=$(tc_state)
	run ifm up s0 --to br0
	assert_failure 1
	assert_output --partial "loop"
	assert_equal "$(tc_state)" "$state"
}

@test "the user's ingress qdisc is used for ingress; no clsact is forced over it" {
	nsx tc qdisc add dev s0 ingress
	run ifm up s0 --to d0 --direction ingress
	assert_success
	assert_output --partial "(ingress, "
	before=$(rx_packets d0p)
	send_in s0 $N
	expect_rx d0p "$before" $N
	run ifm down s0
	assert_success
	run nsx tc qdisc show dev s0
	assert_output --partial "qdisc ingress ffff:"
}

@test "status --json prints the documented keys" {
	run ifm status --json
	assert_success
	run jq -e '. == {"sessions": [], "collectors": [], "tunnels": []}' <<<"$output"
	assert_success
	ifm up s0 --to d0 -q
	run ifm status --json
	assert_success
	for key in source direction destination destination_ifindex destination_state \
		packets bytes dropped hook classifier pref; do
		assert_output --partial "\"$key\": "
	done
	run jq -e '.sessions | length == 2 and (map(.direction) | sort) == ["egress", "ingress"] and all(.[]; .source == "s0" and .destination == "d0" and .packets == 0)' <<<"$(ifm status --json)"
	assert_success
}

# bats test_tags=kernel-neutral
@test "--help and --version" {
	run "$IFM" --help
	assert_success
	assert_output --partial "up SOURCE --to DEST"
	assert_output --partial "status [SOURCE] [--json]"
	run "$IFM" --version
	assert_success
	assert_output --regexp '^ifmirror [0-9]+\.[0-9]+\.[0-9]+$'
	run "$IFM" up --help
	assert_success
}

# many_veths N PREFIX: N veth pairs PREFIX1..PREFIXN (and their peers), up, made at once
many_veths() {
	local i
	for ((i = 1; i <= $1; i++)); do
		echo "link add $2$i type veth peer name $2${i}p"
		echo "link set $2$i up"
		echo "link set $2${i}p up"
	done | nsx ip -batch -
}

@test "refuses a loop through a bridge of 70 ports, the source its last port" {
	nsx ip link add br0 type bridge
	nsx ip link set br0 up
	many_veths 70 p
	for ((i = 1; i <= 70; i++)); do echo "link set p$i master br0"; done | nsx ip -batch -
	veth s9
	nsx ip link set s9 master br0
	state=$(tc_state)
	run ifm up s9 --to br0
	assert_failure 1
	assert_output "ifmirror: br0: refusing to mirror s9 into it: br0 already leads back into s9 (through mirrors, bridges or a veth's peer), which would loop"
	assert_equal "$(tc_state)" "$state"
}

@test "refuses to mirror into a veth whose peer is a port of the source's bridge (a storm)" {
	# copies into v0 come out of v0p into br0, which floods them out of s0 again
	veth v0
	nsx ip link add br0 type bridge
	nsx ip link set br0 up
	nsx ip link set s0 master br0
	nsx ip link set v0p master br0
	state=$(tc_state)
	for dir in ingress egress both; do
		run ifm up s0 --to v0 --direction $dir
		assert_failure 1
		assert_output "ifmirror: v0: refusing to mirror s0 into it: v0 already leads back into s0 (through mirrors, bridges or a veth's peer), which would loop"
	done
	# the bridge itself as the source, and the far end of a port's link
	run ifm up br0 --to v0
	assert_failure 1
	run ifm up s0p --to v0
	assert_failure 1
	assert_equal "$(tc_state)" "$state"
	# a veth whose peer is in another bridge is fine
	nsx ip link add br1 type bridge
	nsx ip link set v0p nomaster
	nsx ip link set v0p master br1
	run ifm up s0 --to v0 -q
	assert_success
}

@test "refresh re-points every dangling session to the new device, however many" {
	many_veths 70 x
	conf=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[session many]\nsource = %s\nto = d0\ndirection = ingress\n' \
		"$(echo x{1..70})" >"$conf"
	chmod 0644 "$conf"
	run ifm apply --config "$conf" -q
	assert_success
	nsx ip link del d0
	veth d0
	run ifm refresh d0 -q
	assert_success
	run sh -c "ip netns exec $NS $IFM status --json | jq '[.sessions[] | select(.destination == \"d0\")] | length'"
	assert_output 70
	before=$(rx_packets d0p)
	send_in x70 5
	send_in x1 5
	expect_rx d0p "$before" 10
}
