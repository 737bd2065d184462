#!/usr/bin/env bats
# status reads the host in few dumps (issue 16): it stays exact while the
# kernel's lists change under it. A link dump that a device made or deleted
# interrupted (NLM_F_DUMP_INTR) is read again, and a device asked for by name
# is looked up on its own before it is called missing.

load helpers

# bats file_tags=kernel-neutral

setup() {
	lab_up
	veth D
}

teardown() {
	[[ -n ${CHURN:-} ]] && kill "$CHURN" 2>/dev/null && wait "$CHURN" 2>/dev/null
	lab_down
}

# many_veths N: v0..v{N-1} (peers p*), up, in one ip -batch
many_veths() {
	local i
	for ((i = 0; i < $1; i++)); do
		echo "link add v$i type veth peer name p$i"
		echo "link set v$i up"
		echo "link set p$i up"
	done >"$BATS_TEST_TMPDIR/links.ip"
	nsx ip -batch "$BATS_TEST_TMPDIR/links.ip"
}

@test "status while devices come and go: every session, and a source is never 'no such device'" {
	local i n=150 conf=$BATS_TEST_TMPDIR/m.conf
	many_veths $n   # 300 devices and more: a link dump of many parts
	for ((i = 0; i < 40; i++)); do printf '[session s%d]\nsource = v%d\nto = D\ndirection = both\n\n' $i $i; done >"$conf"
	chmod 0644 "$conf"
	run ifm apply --config "$conf" -q
	assert_success
	# churn: veth pairs made and deleted without pause (new ifindexes, and
	# deletions before the dump's position) while status reads
	nsx bash -c 'i=0; while :; do ip link add c$i type veth peer name cp$i && ip link del c$i; i=$(((i + 1) % 50)); done' \
		>/dev/null 2>&1 &
	CHURN=$!
	for ((i = 0; i < 25; i++)); do
		run ifm status v$((i % 40))
		assert_success
		[[ $(grep -c " -> D (up)" <<<"$output") == 2 ]] || fail "status v$((i % 40)), round $i: $output"
		run ifm status --json
		assert_success
		[[ $(jq '.sessions | length' <<<"$output") == 80 ]] || fail "status --json, round $i: $(jq -c '[.sessions[].source]' <<<"$output" | head -c 400)"
	done
	kill "$CHURN"; wait "$CHURN" 2>/dev/null || true; CHURN=
}

# the sessions of status --json without their counters, one per line
sessions_of() { jq -cS '.sessions[] | del(.packets, .bytes, .dropped, .drops)' <<<"$1"; }

@test "many hooks are read in parts, side by side: the same sessions as one reader finds" {
	local i n=300 conf=$BATS_TEST_TMPDIR/m.conf trace=$BATS_TEST_TMPDIR/trace one parts
	(($(nproc) >= 2)) || skip "one CPU: hooks are read by one reader, the path every other test takes"
	many_veths $n
	for ((i = 0; i < n; i++)); do printf '[session s%d]\nsource = v%d\nto = D\ndirection = both\n\n' $i $i; done >"$conf"
	chmod 0644 "$conf"
	run ifm apply --config "$conf" -q
	assert_success
	# one CPU allowed: one reader, no thread
	run nsx taskset -c 0 strace -f -qq -E "$TRACED_ASAN" -o "$trace" -e trace=clone,clone3 "$IFM" status --json
	assert_success
	one=$(sessions_of "$output")
	[[ $(grep -c . <<<"$one") == $((2 * n)) ]]
	run grep -c 'clone' "$trace"
	assert_output 0
	# every CPU: 300 hooks are read in two parts at least, a thread for each beyond the first
	run nsx strace -f -qq -E "$TRACED_ASAN" -o "$trace" -e trace=clone,clone3 "$IFM" status --json
	assert_success
	parts=$(sessions_of "$output")
	grep -q 'clone' "$trace" || fail "status --json of $n sessions started no thread"
	assert_equal "$parts" "$one"
	# a part without a socket (no file descriptor left beyond the first) is
	# read by the caller: the same sessions, no thread
	# (bats' own descriptors closed first: the limit counts from 3)
	run nsx bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done
		exec strace -f -qq -E "$TRACED_ASAN" -o "$1" -e trace=socket,clone,clone3 prlimit --nofile=4 "$2" status --json' - "$trace" "$IFM"
	assert_success
	assert_equal "$(sessions_of "$output")" "$one"
	grep -q 'socket(AF_NETLINK.* = -1 EMFILE' "$trace" || fail "the second socket did not fail: $(cat "$trace")"
	run grep -c 'clone' "$trace"
	assert_output 0
	# and apply, which plans from the same reading, finds nothing to change
	run ifm apply --config "$conf"
	assert_success
	assert_output --partial "nothing to change"
}
