#!/usr/bin/env bats
# ifupdown and NetworkManager run hooks in parallel: 32 concurrent ifmirror
# processes must end in exactly the state their commands describe.

load helpers

# bats file_tags=kernel-neutral

setup() { lab_up; }
teardown() { lab_down; }

@test "32 concurrent up/down processes end in exactly the expected state" {
	local i pids=()
	veth d0 d1 d2
	for i in 0 1 2 3 4 5 6 7; do veth "s$i"; done
	# sessions that the concurrent downs will remove
	for i in 0 1 2 3 4 5 6 7; do ifm up "s$i" --to d2 -q; done

	for i in 0 1 2 3 4 5 6 7; do
		ifm up "s$i" --to d0 -q & pids+=($!)
		ifm up "s$i" --to d0 -q & pids+=($!)   # the same, twice
		ifm up "s$i" --to d1 --direction egress -q & pids+=($!)
		ifm down "s$i" --to d2 -q & pids+=($!)
	done
	assert_equal "${#pids[@]}" 32
	for p in "${pids[@]}"; do wait "$p"; done   # each must exit 0

	run ifm status --json
	assert_success
	run jq -r '.sessions | map("\(.source) \(.direction) \(.destination)") | sort | .[]' <<<"$output"
	expected=$(for i in 0 1 2 3 4 5 6 7; do
		echo "s$i egress d0"; echo "s$i egress d1"; echo "s$i ingress d0"
	done | sort)
	assert_equal "$output" "$expected"

	b0=$(rx_packets d0p); b1=$(rx_packets d1p); b2=$(rx_packets d2p)
	for i in 0 1 2 3 4 5 6 7; do
		send_in "s$i" 20
		send_out "s$i" 30
	done
	expect_rx d0p "$b0" $((8 * 50))
	expect_rx d1p "$b1" $((8 * 30))
	expect_rx d2p "$b2" 0
}

@test "--match is compiled before the lock: a down on another device is not held up by it" {
	# issue 12: libpcap compiled under the lock, and an unrelated down waited
	# for all of it. apply compiles 24 distinct expressions here (a few tenths
	# of a second each); the down must finish while apply is still compiling.
	local i n=24 pid out=$BATS_TEST_TMPDIR/apply.out
	veth s0 s1 x0
	run ifm up s1 --to x0
	assert_success
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	for ((i = 0; i < n; i++)); do
		echo "link add d$i type veth peer name d${i}p"
	done | nsx ip -batch -
	for ((i = 0; i < n; i++)); do
		printf '[session m%d]\nsource = s0\nto = d%d\nmatch = ' "$i" "$i"
		for ((p = 1000 * i + 1; p < 1000 * i + 40; p++)); do
			printf 'portrange %d-%d or ' "$p" $((p + 9000))
		done
		echo "port $((1000 * i))"
	done >"$CONF"
	ip netns exec "$NS" "$IFM" apply --config "$CONF" --dry-run >"$out" 2>&1 &
	pid=$!
	# apply has begun compiling once it has loaded libpcap
	for ((i = 0; i < 400; i++)); do
		grep -q libpcap "/proc/$pid/maps" 2>/dev/null && break
		sleep 0.05
	done
	grep -q libpcap "/proc/$pid/maps"
	run ifm down s1
	assert_success
	assert_line "s1: ingress mirror to x0 removed"
	run nsx tc filter show dev s1 ingress
	assert_output ""
	# apply is still at it: not a line out yet, not exited
	assert_equal "$(cat "$out")" ""
	[[ $(awk '/^State:/ { print $2 }' "/proc/$pid/status") != Z ]]
	wait "$pid"
	run cat "$out"
	assert_equal "$(grep -c '^would add: s0 both mirror to d' <<<"$output")" "$n"
	assert_line --partial "dry run, nothing was changed"
}

@test "a bad --match is refused before the lock: up and apply answer while another command holds it" {
	veth s0 d0
	run ifm up s0 --to d0 -q
	assert_success
	state=$(tc_state)
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[session a]\nsource = s0\nto = d0\nmatch = tcp port x\n' >"$CONF"
	# this shell holds the run directory's flock, as a running command would
	exec {lockfd}<"$IFMIRROR_RUN_DIR"
	flock -n "$lockfd"
	run timeout 60 ip netns exec "$NS" "$IFM" up s0 --to d0 --match 'tcp port x'
	assert_failure 2
	assert_output "ifmirror: up: --match 'tcp port x': unknown port 'x'"
	run timeout 60 ip netns exec "$NS" "$IFM" apply --config "$CONF" --dry-run
	assert_failure 1
	assert_output --regexp "^ifmirror: .*ifmirror.conf:4: match 'tcp port x': unknown port 'x'$"
	exec {lockfd}<&-
	assert_equal "$(tc_state)" "$state"
}
