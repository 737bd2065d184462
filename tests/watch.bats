#!/usr/bin/env bats
# ifmirror watch: the kernel kept equal to the file while devices come and
# go, by the kernel's link events alone (no hook runs here).

load helpers
load watch-helpers

setup() { watch_lab_up; }

teardown() { watch_lab_down; }

conf_vms() {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap* vnet? !tapmgmt0
	to = brm
	EOT
}

@test "watch: taps and veths created after it started are mirrored exactly; an excluded one is not" {
	conf_vms
	watch_start
	run session_lines
	assert_output ""
	tap tap1 tapmgmt0
	veth vnet1
	want=$(printf '%s\n' 'tap1 egress brm' 'tap1 ingress brm' 'vnet1 egress brm' 'vnet1 ingress brm')
	wait_until have_session_lines "$want"
	before=$(counter_settles c0p)
	send_out tap1 10
	send_out tapmgmt0 10
	send_in vnet1 10
	send_out vnet1 10
	# tap1 out, vnet1 in and out; tapmgmt0 excluded
	expect_rx c0p "$before" 30
	run cat "$LOG"
	assert_output --partial "tap1: both mirror to brm added"
	assert_output --partial "vnet1: both mirror to brm added"
	refute_output --partial "tapmgmt0:"
	kill -0 "$WATCH"
}

@test "watch: a deleted device leaves status; a destination and a collector port re-created are repaired" {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap*
	to = d0
	direction = egress
	[session brm]
	source = tap1
	to = brm
	direction = egress
	EOT
	tap tap1 tap2
	watch_start
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 egress d0' 'tap2 egress d0')"
	nsx ip link del tap2
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 egress d0')"

	# the destination deleted (mirroring stops: the kernel never re-binds) and re-created
	nsx ip link del d0
	wait_until grep -q "to d0: no such device" "$LOG"
	veth d0
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 egress d0')"
	wait_until sh -c "! ip netns exec $NS $IFM status | grep -q gone"
	before=$(counter_settles d0p)
	send_out tap1 10
	expect_rx d0p "$before" 10

	# the collector port unplugged and re-created: attached again
	nsx ip link del c0
	veth c0
	wait_until nsx test -e /sys/class/net/brm/brif/c0
	port_forwarding c0
	before=$(counter_settles c0p)
	send_out tap1 10
	expect_rx c0p "$before" 10
	# the error of the missing destination was said once, not at every event
	run grep -c "to d0: no such device" "$LOG"
	assert_output 1
}

@test "watch: kill -9, changes meanwhile, a restart converges" {
	conf_vms
	tap tap1
	watch_start
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 ingress brm')"
	kill -9 "$WATCH"
	wait "$WATCH" || true
	WATCH=
	tap tap2 tapmgmt0
	# (down first: kernels before 6.2 refuse to rename a device that is up)
	nsx ip link set tap1 down
	nsx ip link set tap1 name vm1
	nsx ip link set vm1 up
	run session_lines
	assert_output "$(printf '%s\n' 'vm1 egress brm' 'vm1 ingress brm')"
	watch_start
	wait_until have_session_lines "$(printf '%s\n' 'tap2 egress brm' 'tap2 ingress brm')"
	before=$(counter_settles c0p)
	for t in tap2 vm1 tapmgmt0; do send_out "$t" 10; done
	expect_rx c0p "$before" 10
}

@test "watch: SIGHUP with an edited file converges; SIGTERM exits and leaves the mirrors" {
	conf_vms
	tap tap1 tapmgmt0
	watch_start
	wait_until have_session_lines "$(printf '%s\n' 'tap1 egress brm' 'tap1 ingress brm')"
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap* !tap1
	to = brm
	direction = ingress
	EOT
	kill -HUP "$WATCH"
	wait_until have_session_lines "tapmgmt0 ingress brm"
	assert_equal "$(grep -c 'reloaded' "$LOG")" 1

	# a broken file is refused; the plan read before stays
	echo "[session broken" >>"$CONF"
	kill -HUP "$WATCH"
	wait_until grep -q "not reloaded; the plan read before stays" "$LOG"
	tap tap3
	wait_until have_session_lines "$(printf '%s\n' 'tap3 ingress brm' 'tapmgmt0 ingress brm')"

	kill -TERM "$WATCH"
	wait_until gone "$WATCH"
	run wait "$WATCH"
	assert_success
	WATCH=
	grep -q "exiting; the mirrors stay as they are" "$LOG"
	run session_lines
	assert_output "$(printf '%s\n' 'tap3 ingress brm' 'tapmgmt0 ingress brm')"
}

@test "watch: 40 command-line calls in parallel beside it end consistent, nothing doubled" {
	conf_vms
	watch_start
	pids=()
	for i in $(seq 1 20); do
		(tap "tap$i" && ifm up "tap$i" --to d0 --direction ingress -q) &
		pids+=($!)
		ifm apply --config "$CONF" -q &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	want=$(for i in $(seq 1 20); do
		printf '%s\n' "tap$i egress brm" "tap$i ingress brm" "tap$i ingress d0"
	done | sort)
	wait_until have_session_lines "$want"
	before=$(counter_settles c0p)
	for i in $(seq 1 20); do send_out "tap$i" 1; done
	expect_rx c0p "$before" 20
	kill -0 "$WATCH"
}

# bats test_tags=kernel-neutral
@test "watch: an overrun of its event socket (ENOBUFS) is a resync, and it goes on" {
	conf <<-EOT
	[session vms]
	source = tap*
	to = d0
	direction = egress
	EOT
	watch_start_plain
	# stopped, it reads nothing: link events pile up until the socket overruns
	# (8000 links: several MiB of events, more than its 4 MiB buffer)
	kill -STOP "$WATCH"
	for ((i = 0; i < 4000; i++)); do
		echo "link add x$i type veth peer name y$i"
	done | nsx ip -batch -
	kill -CONT "$WATCH"
	wait_until grep -q "link events were lost (the socket overran): reading all links again" "$LOG"
	tap tap1
	wait_until have_session_lines "tap1 egress d0"
	before=$(counter_settles d0p)
	send_out tap1 10
	expect_rx d0p "$before" 10
}
