#!/usr/bin/env bats
# ifmirror watch beside the real NetworkManager dispatcher (ifmirror-nm),
# in the lab of tests/nm-helpers.bash: both act on the same sources and
# destinations, with the same run directory (lock, markers); whichever comes
# first, the end state is the same and nothing is doubled.

load helpers
load nm-helpers
load watch-helpers

setup_file() { nm_lab_up; }

teardown_file() { nm_lab_down; }

setup() {
	nm_setup
	watch_setup
}

teardown() {
	watch_stop
	nm_reset
	ifm flush -q || true
}

N=50

@test "beside the NM dispatcher: a source in the watch file and in a profile, either first: one mirror each way" {
	veth s11 d11
	nm_profile s11
	run ifmnm profile s11 --to d11 --mode dispatcher --commit
	assert_success
	conf <<-EOT
	[session w]
	source = s11
	to = d11
	EOT
	# watch first, then the profile's activation
	watch_start_plain
	eventually 10 one_each s11
	run nmcli connection up s11
	assert_success
	eventually 30 has_sessions s11 2
	sleep 1
	one_each s11
	mirrored s11 d11p
	first=$(ifm status s11 | sed -E 's/ pref [0-9]+\]/]/')

	# the profile first, then watch
	kill -TERM "$WATCH"
	eventually 10 gone "$WATCH"
	WATCH=
	nmcli connection down s11 >/dev/null
	# the sessions are the file's now (watch took them over): they stay
	sleep 1
	has_sessions s11 2
	ifm flush -q
	run nmcli connection up s11
	assert_success
	eventually 30 has_sessions s11 2
	watch_start_plain
	sleep 1
	one_each s11
	mirrored s11 d11p
	assert_equal "$(ifm status s11 | sed -E 's/ pref [0-9]+\]/]/')" "$first"
}

@test "beside the NM dispatcher: a destination deleted and re-created, repaired by watch and the dispatcher at once: nothing doubled" {
	veth s12 d12
	nm_profile s12
	nm_profile d12
	run ifmnm profile s12 --to d12 --mode dispatcher --commit
	assert_success
	conf <<-EOT
	[session w]
	source = s12
	to = d12
	EOT
	nmcli connection up d12 >/dev/null
	run nmcli connection up s12
	assert_success
	eventually 30 has_sessions s12 2
	watch_start_plain
	sleep 1
	one_each s12
	mirrored s12 d12p
	for round in 1 2 3; do
		nsx ip link del d12
		sleep 1   # watch and the dispatcher see it go (the mirrors stay, their target gone)
		# re-created: watch sees the link, the profile's activation runs the dispatcher
		veth d12
		nmcli connection up d12 >/dev/null
		eventually 30 sh -c "! nsenter -t $NM_HOLDER -m -n $IFM status s12 | grep -q gone"
		sleep 1
		one_each s12
		assert_equal "$(sessions s12)" 2
		mirrored s12 d12p
	done
	run grep -c "failed\|cannot" "$LOG"
	assert_output 0
}
