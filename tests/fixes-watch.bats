#!/usr/bin/env bats
# ifmirror watch: defects fixed (issue h17): one watch per namespace and run
# directory; a device deleted while its session is being made costs only
# that session.

load helpers
load watch-helpers

setup() { watch_lab_up; }

teardown() { watch_lab_down; }

conf_vms() {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap*
	to = brm
	EOT
}

# every filter of DEV..., both hooks
filters() {
	local d
	for d in "$@"; do
		nsx tc filter show dev "$d" ingress
		nsx tc filter show dev "$d" egress
	done
}

# bats test_tags=kernel-neutral
@test "fixes-watch: a second watch (same file or another) refuses to start beside the first, which goes on; after kill -9 a new one starts" {
	conf_vms
	tap tap1
	watch_start
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 ingress brm')"
	other=$BATS_TEST_TMPDIR/other.conf
	printf '[session other]\nsource = d0\nto = c0\ndirection = egress\n' >"$other"
	chmod 0644 "$other"
	before=$(filters tap1 d0)
	for f in "$CONF" "$other"; do
		# (timeout: a watch that does start runs until killed)
		run timeout 5 ip netns exec "$NS" "$IFM" watch --config "$f"
		assert_failure 1
		assert_output "ifmirror: watch: another watch (PID $WATCH) runs in this network namespace with run directory $IFMIRROR_RUN_DIR: two would remove each other's sessions; not started"
	done
	[[ $(filters tap1 d0) == "$before" ]]
	kill -0 "$WATCH"

	# the first one goes on: a tap made now is mirrored
	tap tap2
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 ingress brm' 'tap2 egress brm' 'tap2 ingress brm')"
	before=$(counter_settles c0p)
	send_out tap2 10
	expect_rx c0p "$before" 10

	# kill -9 releases the lock by itself: a new watch starts and works
	kill -9 "$WATCH"
	wait "$WATCH" || true
	LOG=$BATS_TEST_TMPDIR/watch2.log
	watch_start_plain
	tap tap3
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 ingress brm' 'tap2 egress brm' 'tap2 ingress brm' 'tap3 egress brm' 'tap3 ingress brm')"
	before=$(counter_settles c0p)
	send_out tap3 10
	expect_rx c0p "$before" 10
	run cat "$LOG"
	refute_output --partial "another watch"
}

# the taps of the lab's namespace, sorted
taps() { nsx ls /sys/class/net | grep '^tap' | sort; }

# ifmirror's mirror actions on the taps: their number (an action by its
# index: u32 on clsact lists the filters of both hooks under each)
tap_mirrors() {
	nsx sh -c 'for t in $(ls /sys/class/net | grep "^tap"); do
		tc filter show dev "$t" ingress; tc filter show dev "$t" egress; done' |
		awk '/mirred/ { m = 1 } m && $1 == "index" { i = $2 }
		     m && $1 == "cookie" && $2 ~ /^69666d72/ { print i; m = 0 }' | sort -u | wc -l
}

# bats test_tags=kernel-neutral
@test "fixes-watch: taps deleted while their sessions are being made cost only their own; the others are mirrored in the same run" {
	conf_vms
	watch_start
	for round in 1 2 3 4 5; do
		add=$BATS_TEST_TMPDIR/add.$round del=$BATS_TEST_TMPDIR/del.$round
		: >"$add"
		: >"$del"
		for ((i = 1; i <= 36; i++)); do
			echo "tuntap add mode tap tap${round}x$i" >>"$add"
			if ((i % 3 == 1)); then echo "link del tap${round}x$i" >>"$del"; fi
		done
		# a third of them deleted while they are being made, while watch
		# plans and adds their sessions (-force: a tap not made yet is no error)
		nsx ip -batch "$add" &
		adder=$!
		sleep "0.0$round"
		nsx ip -force -batch "$del" 2>/dev/null || true
		wait "$adder"
		survivors=($(taps))
		want=$(for t in "${survivors[@]}"; do printf '%s egress brm\n%s ingress brm\n' "$t" "$t"; done | sort)
		wait_until have_session_lines "$want"
	done
	# exactly one ifmirror mirror per survivor and direction, none of the others
	[[ $(tap_mirrors) == $((2 * ${#survivors[@]})) ]]
	run cat "$LOG"
	refute_output --partial "not applied"
	refute_output --partial "stopped"
	for t in "${survivors[@]}"; do refute_output --partial "$t: cannot"; done
	kill -0 "$WATCH"
}
