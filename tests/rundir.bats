#!/usr/bin/env bats
# The run directory (issue 12): what decides what ifmirror deletes lives
# there, so a symlink, a directory others can write, or one replaced under a
# running command must not mislead it; and a record of a qdisc ifmirror made
# must not claim a user's qdisc on a device made later under the same index.

load helpers

# bats file_tags=kernel-neutral

setup() {
	lab_up
	veth s0 s1 d0
	CRASH=$BUILD/ifm-crashpoint
}

teardown() { lab_down; }

@test "rundir: a symlink as the run directory is refused, nothing written through it" {
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$IFMIRROR_RUN_DIR"
	run ifm up s0 --to d0
	assert_failure
	assert_output --partial "symlink"
	[[ -z $(ls -A "$BATS_TEST_TMPDIR/elsewhere") ]]
	[[ -z $(nsx tc qdisc show dev s0 | grep clsact) ]]
}

@test "rundir: a run directory writable by others is refused" {
	mkdir -m 0777 "$IFMIRROR_RUN_DIR"
	chmod 0777 "$IFMIRROR_RUN_DIR"
	run ifm up s0 --to d0
	assert_failure
	assert_output --partial "writable by group or others"
}

@test "rundir: planted symlinks under the run directory are not followed" {
	mkdir -m 0755 "$IFMIRROR_RUN_DIR" "$BATS_TEST_TMPDIR/victim"
	echo keep >"$BATS_TEST_TMPDIR/victim/file"
	# a subdirectory replaced by a symlink: deferred sessions are not written there
	ln -s "$BATS_TEST_TMPDIR/victim" "$IFMIRROR_RUN_DIR/pending"
	run ifm up nosuch --to d0 --defer
	assert_failure
	assert_equal "$(ls "$BATS_TEST_TMPDIR/victim")" "file"
	# a record replaced by a symlink: the file it points to is not truncated
	rm "$IFMIRROR_RUN_DIR/pending"
	run ifm up nosuch --to d0 --defer
	assert_success
	rec=$(ls "$IFMIRROR_RUN_DIR/pending")
	rm "$IFMIRROR_RUN_DIR/pending/$rec"
	ln -s "$BATS_TEST_TMPDIR/victim/file" "$IFMIRROR_RUN_DIR/pending/$rec"
	run ifm up nosuch --to d0 --defer
	assert_failure
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim/file")" "keep"
}

@test "rundir: the lock holds when the run directory is removed under its holder" {
	# the first command stops holding the lock, right after its first request
	nsx env IFM_CRASHPOINT_HOLD=6 "$CRASH" 1 "$IFM" up s0 --to d0 >"$BATS_TEST_TMPDIR/hold" &
	for ((i = 0; i < 100; i++)); do
		grep -q holding "$BATS_TEST_TMPDIR/hold" && break
		sleep 0.05
	done
	grep -q holding "$BATS_TEST_TMPDIR/hold"
	rm -rf "$IFMIRROR_RUN_DIR"
	# a second command waits for the first instead of running beside it
	run timeout 2 ip netns exec "$NS" "$IFM" up s1 --to d0
	assert_equal "$status" 124
	wait
	run ifm up s1 --to d0
	assert_success
}

@test "rundir: a stale record does not claim a user's clsact on a device made again" {
	run ifm up s0 --to d0
	assert_success
	idx=$(nsx cat /sys/class/net/s0/ifindex)
	# the device goes without ifmirror (its record stays), and the user makes
	# one of the same name and index, with a clsact of theirs
	nsx ip link del s0
	nsx ip link add s0 index "$idx" type veth peer name s0p
	nsx ip link set s0 up
	nsx ip link set s0p up
	nsx tc qdisc add dev s0 clsact
	run ifm up s0 --to d0
	assert_success
	run ifm down s0 --to d0
	assert_success
	nsx tc qdisc show dev s0 | grep -q clsact
	run ifm flush -q
	assert_success
	nsx tc qdisc show dev s0 | grep -q clsact
}
