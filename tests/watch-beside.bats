#!/usr/bin/env bats
# ifmirror watch beside the real ifupdown hooks: both act on the same
# sources, destinations and collectors; whichever comes first, the end state
# is the same and nothing is doubled (one ifmirror filter per source and
# direction, frames counted exactly). And watch stopped while it waits for
# the lock. (Beside the NetworkManager dispatcher: watch-beside-nm.bats.)

load helpers
load watch-helpers

setup() {
	lab_up
	veth s0 c0 d0
	ifupdown_lab
	watch_setup
	cat >"$IFILE" <<-EOT
	iface br-mirror inet manual
	    mirror-collector c0

	iface c0 inet manual

	iface d0 inet manual

	iface s0 inet static
	    address 192.0.2.10/24
	    mirror-to br-mirror
	    mirror-direction both
	EOT
}

teardown() {
	watch_stop
	lab_down
}

status_lines() { ifm status | grep -c -- ' -> ' || true; }

N=50

# the end state of both orders, compared: sessions, collector, filters
end_state() {
	# (the hooks free a pref the kernel may not: which one is no matter)
	ifm status | sed -E 's/ pref [0-9]+\]/]/'
	for d in ingress egress; do echo "$d $(mirrors_on s0 $d)"; done
	nsx ls /sys/class/net/br-mirror/brif
}

conf_collector() {
	conf <<-EOT
	[collector br-mirror]
	ports = c0
	[session w]
	source = s?
	to = br-mirror
	EOT
}

@test "beside ifupdown: a source in the watch file and in a stanza, either first: one mirror each way" {
	conf_collector
	# watch first, then ifup of the collector and the source
	watch_start_plain
	wait_until one_each s0
	run ifupdown ifup br-mirror
	assert_success
	run ifupdown ifup s0
	assert_success
	sleep 0.5
	one_each s0
	assert_equal "$(status_lines)" 2
	port_forwarding c0
	mirrored s0 c0p
	first=$(end_state)

	# ifup first, then watch: the same
	kill -TERM "$WATCH"
	wait_until gone "$WATCH"
	WATCH=
	run ifupdown ifdown s0
	assert_success
	run ifupdown ifdown br-mirror
	assert_success
	ifm flush -q
	run ifupdown ifup br-mirror
	assert_success
	run ifupdown ifup s0
	assert_success
	watch_start_plain
	sleep 0.5
	one_each s0
	port_forwarding c0
	mirrored s0 c0p
	assert_equal "$(end_state)" "$first"
	run grep -c "cannot\|error\|failed" "$LOG"
	assert_output 0
}

@test "beside ifupdown: a destination deleted and re-created, repaired by watch and the hook at once: nothing doubled" {
	cat >"$IFILE" <<-EOT
	iface d0 inet manual

	iface s0 inet static
	    address 192.0.2.10/24
	    mirror-to d0
	    mirror-direction both
	EOT
	conf <<-EOT
	[session w]
	source = s0
	to = d0
	EOT
	run ifupdown ifup d0
	assert_success
	run ifupdown ifup s0
	assert_success
	watch_start_plain
	sleep 0.5
	one_each s0
	mirrored s0 d0p
	for round in 1 2 3; do
		nsx ip link del d0
		# re-created: watch sees the link, and ifup (as hotplug would) runs the hook
		veth d0
		run ifupdown ifup --force d0
		assert_success
		wait_until sh -c "! ip netns exec $NS $IFM status | grep -q gone"
		sleep 0.5
		one_each s0
		assert_equal "$(status_lines)" 2
		mirrored s0 d0p
	done
}

@test "beside ifupdown: a collector port unplugged and re-created, re-attached by watch and the hook: one port, one copy" {
	conf_collector
	run ifupdown ifup br-mirror
	assert_success
	run ifupdown ifup s0
	assert_success
	watch_start_plain
	sleep 0.5
	one_each s0
	port_forwarding c0
	mirrored s0 c0p
	for round in 1 2; do
		nsx ip link del c0
		nsx ip link add c0 type veth peer name c0p
		nsx ip link set c0p up
		run ifupdown ifup --force c0
		assert_success
		wait_until nsx test -e /sys/class/net/br-mirror/brif/c0
		port_forwarding c0
		sleep 0.5
		run nsx ls /sys/class/net/br-mirror/brif
		assert_output "$(printf 'br-mirror-sink\nc0')"
		one_each s0
		mirrored s0 c0p
	done
}

# bats test_tags=kernel-neutral
@test "watch waiting for the lock: SIGTERM and SIGINT end it at once, nothing changed, nothing left" {
	conf <<-EOT
	[session w]
	source = s0
	to = d0
	EOT
	mkdir -p "$IFMIRROR_RUN_DIR"
	state=$(tc_state)
	# the entries, not . and .. (whose sizes other tests' files change)
	runstate=$(ls -lA "$IFMIRROR_RUN_DIR")
	for sig in TERM INT; do
		: >"$LOG"
		# this shell holds the run directory's flock, as a running command would
		exec {lockfd}<"$IFMIRROR_RUN_DIR"
		flock -n "$lockfd"
		ip netns exec "$NS" "$IFM" watch --config "$CONF" 2>>"$LOG" {lockfd}<&- &
		WATCH=$!
		wait_until grep -q "watching $CONF" "$LOG"
		sleep 0.5
		kill -"$sig" "$WATCH"
		# promptly: within a second, with the lock still held
		for ((i = 0; i < 20; i++)); do gone "$WATCH" && break; sleep 0.05; done
		run gone "$WATCH"
		assert_success
		run wait "$WATCH"
		assert_success
		WATCH=
		grep -q "waiting for the lock in $IFMIRROR_RUN_DIR (another command holds it)" "$LOG"
		grep -q "while waiting for the lock: exiting; nothing changed" "$LOG"
		exec {lockfd}<&-
		assert_equal "$(tc_state)" "$state"
		assert_equal "$(ls -lA "$IFMIRROR_RUN_DIR")" "$runstate"
	done
	# no stale lock: a command runs at once
	run timeout 5 ip netns exec "$NS" "$IFM" up s0 --to d0 -q
	assert_success
}

# bats test_tags=kernel-neutral
@test "watch: SIGHUP while it waits for the lock is kept for later, SIGTERM still ends it" {
	conf <<-EOT
	[session w]
	source = s0
	to = d0
	EOT
	mkdir -p "$IFMIRROR_RUN_DIR"
	exec {lockfd}<"$IFMIRROR_RUN_DIR"
	flock -n "$lockfd"
	ip netns exec "$NS" "$IFM" watch --config "$CONF" 2>>"$LOG" {lockfd}<&- &
	WATCH=$!
	wait_until grep -q "waiting for the lock" "$LOG"
	kill -HUP "$WATCH"
	sleep 0.3
	kill -0 "$WATCH"
	# the lock given back: it converges, then reads the file again
	exec {lockfd}<&-
	wait_until grep -q "reloaded" "$LOG"
	one_each s0
	kill -TERM "$WATCH"
	wait_until gone "$WATCH"
	run wait "$WATCH"
	assert_success
	WATCH=
	one_each s0
}

# bats test_tags=kernel-neutral
@test "up takes one device: a source pattern is refused with where patterns go, exit 2, nothing changed" {
	veth tap1
	state=$(tc_state)
	refusals "$state" <<-'EOT'
	2|up: 'tap\*' is a source pattern: up takes one device; patterns go in the config file, for apply and watch$|up 'tap*' --to d0
	2|up: 'vnet\?' is a source pattern|up 'vnet?' --to d0
	2|up: 'tap\[12\]' is a source pattern|up 'tap[12]' --to d0
	2|up: '@master:br0' is a source pattern|up @master:br0 --to d0
	2|up: '!tap1' is a source pattern|up '!tap1' --to d0 --direction ingress
	EOT
	run ifm up tap1 --to d0 -q
	assert_success
}

@test "beside a hook: the file takes a hook's session over in place: one mirror each way at every moment, one copy per frame" {
	run ifm up s0 --to d0 -q          # what the hook of a stanza makes
	assert_success
	conf <<-EOT
	[session w]
	source = s0
	to = d0
	EOT
	# apply killed right after each change it asks for: never a second
	# mirror beside the first, never none
	for ((n = 1; n < 10; n++)); do
		run ip netns exec "$NS" "$BUILD/ifm-crashpoint" "$n" "$IFM" apply --config "$CONF" -q
		[[ $status == 0 || $status == 3 ]] || { echo "crashpoint: $status $output" >&2; false; }
		one_each s0
		[[ $status == 3 ]] && break
	done
	run ifm apply --config "$CONF"
	assert_success
	assert_output --partial "nothing to change"
	one_each s0
	mirrored s0 d0p
	# and under a stream of frames, watch taking it over: one copy each
	ifm down s0 -q
	ifm up s0 --to d0 --direction egress -q
	conf <<-EOT
	[session w]
	source = s0
	to = d0
	direction = egress
	EOT
	before=$(counter_settles d0p)
	send_out s0 100000 &
	sender=$!
	watch_start_plain
	wait "$sender"
	expect_rx d0p "$before" 100000
	grep -q "s0: egress mirror to d0 taken over by the config file" "$LOG"
}
