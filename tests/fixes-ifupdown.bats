#!/usr/bin/env bats
# ifupdown beside the config file: defects fixed (issue h17). A session the
# file (apply) has taken over is the file's: ifdown of its source leaves it
# alone, and says so; the hook's own sessions still go.

load helpers
load watch-helpers

setup() {
	lab_up
	veth s0 d0 d1
	ifupdown_lab
	watch_setup
	cat >"$IFILE" <<-EOT
	iface s0 inet manual
	    mirror-to d0 d1
	    mirror-direction both
	EOT
	conf <<-EOT
	[session file]
	source = s0
	to = d0
	EOT
}

teardown() { lab_down; }

@test "fixes-ifupdown: ifdown of a source leaves the session the config file took over (one line), removes the hook's own" {
	run ifupdown ifup s0
	assert_success
	have_session_lines "$(printf '%s\n' 's0 egress d0' 's0 egress d1' 's0 ingress d0' 's0 ingress d1')"
	# apply takes s0 -> d0 over (the hook's session becomes the file's)
	run ifm apply --config "$CONF"
	assert_success
	run ifupdown ifdown s0
	assert_success
	assert_line "ifmirror: warning: s0: both mirror to d0 left alone: the config file's session (ifmirror apply owns it)"
	have_session_lines "$(printf '%s\n' 's0 egress d0' 's0 ingress d0')"
	one_each s0
	# still the file's: apply has nothing to do, and the copies go on
	run ifm apply --config "$CONF"
	assert_success
	assert_output "$CONF: 1 session, nothing to change"
	nsx ip link set s0 up
	N=10
	mirrored s0 d0p
	# ifup again: the hook's d1 back, d0 still one session
	run ifupdown ifup s0
	assert_success
	have_session_lines "$(printf '%s\n' 's0 egress d0' 's0 egress d1' 's0 ingress d0' 's0 ingress d1')"
}
