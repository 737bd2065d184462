#!/usr/bin/env bats
# Ownership records of the qdiscs ifmirror creates: one file per network
# namespace, RUN_DIR/owned/NETNS, replaced whole; the per-qdisc files of
# earlier versions (RUN_DIR/owned/NETNS.IFINDEX.KIND) recognised and cleaned,
# so that an upgrade on a running host loses no record.

load helpers

# bats file_tags=kernel-neutral

setup() {
	lab_up
	veth s0 s1 s2 d0
}

teardown() { lab_down; }

owned() { ls -A "$IFMIRROR_RUN_DIR/owned" 2>/dev/null; }

# the namespace's name for records: the one file `up` leaves
netns_id() {
	ifm up s2 --to d0 -q || return 1
	local f
	f=$(owned)
	[[ $f =~ ^[0-9]+$ ]] || return 1
	ifm down s2 -q || return 1
	echo "$f"
}

# old_record DEV: a clsact on DEV made by hand, and the record an earlier
# version wrote for it when it had created it
old_record() {
	local id=$1 dev=$2 idx ino
	nsx tc qdisc add dev "$dev" clsact
	idx=$(nsx cat "/sys/class/net/$dev/ifindex")
	ino=$(nsx stat -L -c %i "/sys/class/net/$dev")
	mkdir -p "$IFMIRROR_RUN_DIR/owned"
	echo "$dev $ino" >"$IFMIRROR_RUN_DIR/owned/$id.$idx.clsact"
}

@test "records: one file for the namespace, a line per qdisc, gone with the last qdisc" {
	cat >"$BATS_TEST_TMPDIR/c.conf" <<-EOT
	[session a]
	source = s0 s1 s2
	to = d0
	EOT
	chmod 0644 "$BATS_TEST_TMPDIR/c.conf"
	run ifm apply --config "$BATS_TEST_TMPDIR/c.conf" -q
	assert_success
	run owned
	assert_output --regexp '^[0-9]+$'
	local f=$output
	run cat "$IFMIRROR_RUN_DIR/owned/$f"
	assert_line --index 0 --regexp "^$(nsx cat /sys/class/net/s0/ifindex) clsact s0 [0-9]+$"
	assert_line --index 1 --regexp "^$(nsx cat /sys/class/net/s1/ifindex) clsact s1 [0-9]+$"
	assert_line --index 2 --regexp "^$(nsx cat /sys/class/net/s2/ifindex) clsact s2 [0-9]+$"
	assert_equal "${#lines[@]}" 3
	# down of one source: its line goes, the others stay
	run ifm down s1 -q
	assert_success
	refute [ -n "$(nsx tc qdisc show dev s1 | grep clsact)" ]
	run cat "$IFMIRROR_RUN_DIR/owned/$f"
	assert_equal "${#lines[@]}" 2
	refute_output --partial " s1 "
	run ifm flush -q
	assert_success
	assert_equal "$(owned)" ""
	assert_equal "$(nsx tc qdisc show | grep -c clsact)" 0
}

@test "records: a clsact recorded the old way (a file per qdisc) is flushed, and its file goes" {
	local id
	id=$(netns_id)
	old_record "$id" s0
	# a user's own clsact beside it, not recorded: it stays
	nsx tc qdisc add dev s1 clsact
	run ifm flush -q
	assert_success
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
	run nsx tc qdisc show dev s1
	assert_output --partial clsact
	assert_equal "$(owned)" ""
}

@test "records: up and down over an old-way record: the clsact stays ifmirror's, and goes with down" {
	local id
	id=$(netns_id)
	old_record "$id" s0
	run ifm up s0 --to d0 -q
	assert_success
	run nsx tc filter show dev s0 ingress
	assert_output --partial "mirred"
	run ifm down s0 -q
	assert_success
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
	assert_equal "$(owned)" ""
}

@test "records: the file written aside is never followed: a link planted there is replaced" {
	local id
	id=$(netns_id)
	echo precious >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$IFMIRROR_RUN_DIR/owned/.$id.new"
	run ifm up s0 --to d0 -q
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim")" precious
	run owned
	assert_output "$id"
	run ifm down s0 -q
	assert_success
	assert_equal "$(owned)" ""
}

@test "records: a record for another device of the same index is not ours" {
	local id idx
	id=$(netns_id)
	# the record names s0 by the inode its sysfs directory had before it was made again
	idx=$(nsx cat /sys/class/net/s0/ifindex)
	nsx tc qdisc add dev s0 clsact
	echo "$idx clsact s0 1" >"$IFMIRROR_RUN_DIR/owned/$id"
	run ifm flush -q
	assert_success
	run nsx tc qdisc show dev s0
	assert_output --partial clsact
}

@test "records: apply writes the namespace's file with the old-way records in it, and drops the old files" {
	local id
	id=$(netns_id)
	old_record "$id" s0
	cat >"$BATS_TEST_TMPDIR/c.conf" <<-EOT
	[session a]
	source = s0 s1
	to = d0
	EOT
	chmod 0644 "$BATS_TEST_TMPDIR/c.conf"
	run ifm apply --config "$BATS_TEST_TMPDIR/c.conf" -q
	assert_success
	run owned
	assert_output "$id"
	run cat "$IFMIRROR_RUN_DIR/owned/$id"
	assert_output --partial " clsact s0 "
	assert_output --partial " clsact s1 "
	run ifm flush -q
	assert_success
	assert_equal "$(nsx tc qdisc show | grep -c clsact)" 0
	assert_equal "$(owned)" ""
}

@test "records: a device that went takes its record with it at the next write (a long-lived watch kept them all)" {
	nsx ip link add t0 type veth peer name t0p
	nsx ip link set t0 up
	ifm up t0 --to d0 -q
	ifm up s0 --to d0 -q
	idx=$(nsx cat /sys/class/net/t0/ifindex)
	f="$IFMIRROR_RUN_DIR/owned/$(owned)"
	grep -q "^$idx clsact t0 " "$f"
	nsx ip link del t0
	# the next write (another device's clsact) drops t0's record
	ifm up s1 --to d0 -q
	run grep -c "^$idx clsact t0 " "$f"
	assert_output 0
	run grep -c " clsact s[01] " "$f"
	assert_output 2
}

@test "records: apply asks the kernel about no device its own view lists when it writes the file" {
	# a watch writes the file at every run; each record's device was asked
	# for by an ioctl (SIOCGIFNAME): 1000 a run with 1000 taps mirrored
	local i trace=$BATS_TEST_TMPDIR/trace
	for ((i = 0; i < 20; i++)); do veth "m$i"; done
	printf '[session m]\nsource = m*\nto = d0\n' >"$BATS_TEST_TMPDIR/c.conf"
	chmod 0644 "$BATS_TEST_TMPDIR/c.conf"
	run ifm apply --config "$BATS_TEST_TMPDIR/c.conf" -q
	assert_success
	f="$IFMIRROR_RUN_DIR/owned/$(owned)"
	run grep -c " clsact m" "$f"
	assert_output 40   # the veths and their peers (mIp)
	# one more source: the file is written again, the 40 records kept
	printf '[session m]\nsource = m* s0\nto = d0\n' >"$BATS_TEST_TMPDIR/c.conf"
	run nsx strace -f -qq -E "$TRACED_ASAN" -o "$trace" -e trace=ioctl "$IFM" apply \
		--config "$BATS_TEST_TMPDIR/c.conf" -q
	assert_success
	run grep -c " clsact [ms]" "$f"
	assert_output 41
	run grep -c SIOCGIFNAME "$trace"
	(( output <= 1 )) || fail "$output SIOCGIFNAME ioctls for 41 records: $(head -c 400 "$trace")"
}
