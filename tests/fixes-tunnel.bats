#!/usr/bin/env bats
# Tunnels: defects fixed (issue h17). GRE and ERSPAN over IPv6 send nothing
# without a local address (ip6gre's transmit check wants one): without
# --local (or "local =") the source the kernel would use toward the remote
# is taken, and said; without one, a refusal that changes nothing. gretap
# and erspan are on the stock lane only (the dev kernel has neither); the
# refusals come before the kind is needed and run everywhere.

load helpers
load tunnel-helpers

setup() { tunnel_lab_up s0; }

teardown() { tunnel_lab_down; }

# gre6_copies [EXPR]: the GRE packets over IPv6 (next header 47) in
# wire.pcap, and EXPR; packets, not tcpdump's lines (see packets() and
# tests/gre6-count.bats). What else is there goes to stderr: shown when the
# count is wrong.
gre6_copies() {
	tcpdump -r "$BATS_TEST_TMPDIR/wire.pcap" -nn -e -v 2>/dev/null | head -24 >&2
	packets "$BATS_TEST_TMPDIR/wire.pcap" "ip6 and ip6[6] == 47${1:+ and $1}"
}

# copies_of_10: 10 frames into and 10 out of s0, while u0p (the remote's
# end of the underlay) is captured: wire.pcap
copies_of_10() {
	NS=$CNS capture_start wire u0p -Q in
	send_in s0 10
	send_out s0 10
	NS=$CNS counter_settles u0p >/dev/null
	capture_stop wire
}

@test "fixes-tunnel: gretap and erspan over IPv6 without --local take the route's source (said once), and their copies reach the remote" {
	require_kernel gretap "gretap and ip6gretap tunnels (ip_gre, ip6_gre)"
	require_kernel erspan "erspan and ip6erspan tunnels (ip_gre, ip6_gre)"
	underlay --resolve
	run ifm tunnel up k6 --type gretap --remote "$R6" --key 7
	assert_success
	assert_line "ifmirror: notice: k6: no local address given: $L6, the source the kernel picks for $R6, is used"
	run nsx ip -d link show k6
	assert_output --partial "local $L6"
	# the same again: unchanged, the source not said again
	run ifm tunnel up k6 --type gretap --remote "$R6" --key 7
	assert_success
	assert_line "k6: tunnel unchanged (ip6gretap to $R6, key 7)"
	refute_output --partial "no local address given"
	run ifm up s0 --to k6 -q
	assert_success
	copies_of_10
	# every one of the 20 copies arrives, once, from the address picked, with
	# key 7 (the "140 GRE packets, 7 a copy" seen before were tcpdump's lines:
	# 7 for each 100-byte frame of an unknown EtherType)
	assert_equal "$(gre6_copies)" 20
	assert_equal "$(gre6_copies "src host $L6 and ip6[44:4] == 7")" 20
	run ifm down s0 --to k6 -q
	assert_success

	run ifm tunnel up e6 --type erspan --remote "$R6" --session-id 5 --dev u0 -q
	assert_success
	run nsx ip -d link show e6
	assert_output --partial "local $L6"
	run ifm up s0 --to e6 -q
	assert_success
	copies_of_10
	assert_equal "$(gre6_copies)" 20
}

@test "fixes-tunnel: the config file's [tunnel] of type erspan over IPv6 without local = takes the route's source; its copies reach the remote" {
	require_kernel erspan "erspan and ip6erspan tunnels (ip_gre, ip6_gre)"
	underlay --resolve
	conf=$BATS_TEST_TMPDIR/ifmirror.conf
	cat >"$conf" <<-EOT
	[tunnel t6]
	type = erspan
	remote = $R6
	session-id = 9
	[session s]
	source = s0
	to = t6
	EOT
	run ifm apply --config "$conf"
	assert_success
	assert_line "ifmirror: notice: t6: no local address given: $L6, the source the kernel picks for $R6, is used"
	run nsx ip -d link show t6
	assert_output --partial "local $L6"
	copies_of_10
	assert_equal "$(gre6_copies)" 20
	# again: nothing to do
	run ifm apply --config "$conf"
	assert_success
	refute_output --partial "notice"
}

@test "fixes-tunnel: gretap/erspan over IPv6 without --local and no source toward the remote: one line, exit 1, nothing made" {
	# (before the kind is needed: on every kernel)
	state=$(nsx ip -d link show)
	for args in "--type gretap" "--type erspan --session-id 1"; do
		# shellcheck disable=SC2086 # the arguments, a word each
		run ifm tunnel up g6 $args --remote 2001:db8::1
		assert_failure 1
		assert_output "ifmirror: g6: --local is needed: no route to 2001:db8::1 with a source address"
	done
	conf=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[tunnel g6]\ntype = gretap\nremote = 2001:db8::1\n[session s]\nsource = s0\nto = g6\n' >"$conf"
	run ifm apply --config "$conf"
	assert_failure 1
	assert_output "ifmirror: g6: --local is needed: no route to 2001:db8::1 with a source address"
	assert_equal "$(nsx ip -d link show)" "$state"
	run nsx tc filter show dev s0 ingress
	assert_output ""
}
