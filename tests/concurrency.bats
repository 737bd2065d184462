#!/usr/bin/env bats
# ifupdown and NetworkManager run hooks in parallel: 32 concurrent ifmirror
# processes must end in exactly the state their commands describe.

load helpers

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
	run jq -r 'map("\(.source) \(.direction) \(.destination)") | sort | .[]' <<<"$output"
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
