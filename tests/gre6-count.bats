#!/usr/bin/env bats
# ip6gretap copies counted at every hop (issue h18): "7 GRE packets a copy"
# was the lab's count, not the kernel's nor ifmirror's. The tunnel tests
# counted `tcpdump -r FILE | grep -c .`, lines, and tcpdump prints the
# payload of an EtherType it does not know (0x88b5, ifm-sendframes' frames,
# also inside GRE: erspan it decodes otherwise) as 6 hex lines after the
# packet's own: 7 lines a 100-byte frame. Captured at the source, the tunnel,
# the underlay's egress and the remote, 20 frames are 20 packets everywhere,
# each mirror fires once a frame, and each GRE packet carries one of them;
# with --dev and --local as without. Counts are packets() (helpers.bash).
# The gretap tests run on the stock lane only (the dev kernel has no ip6_gre).

load helpers
load tunnel-helpers

setup() { tunnel_lab_up s0; }

teardown() { tunnel_lab_down; }

@test "gre6-count: a capture of 10 frames is 10 packets, though tcpdump prints 70 lines for them" {
	capture_start in s0 -Q in
	send_in s0 10
	counter_settles s0 >/dev/null
	capture_stop in
	assert_equal "$(packets "$BATS_TEST_TMPDIR/in.pcap" 'ether proto 0x88b5')" 10
	# what the tunnel tests counted before: 7 lines a frame
	assert_equal "$(tcpdump -r "$BATS_TEST_TMPDIR/in.pcap" -nn 'ether proto 0x88b5' 2>/dev/null | grep -c .)" 70
	assert_equal "$(packets "$BATS_TEST_TMPDIR/in.pcap" 'ether proto 0x9999')" 0
}

# count_hops TUNNEL-UP-ARGS...: tunnel g6 (gretap, key 7) to the remote with
# these arguments, s0 mirrored into it; 10 frames into and 10 out of s0,
# captured at s0, at g6, at u0's egress and at u0p (the remote). Exactly 20
# at each, every mirror fired 10 times, and the 20 GRE packets carry the 20
# frames of s0 byte for byte, from $L6 with key 7 and hop limit 64. The
# remote has no tunnel of its own: it answers each with an ICMPv6 port
# unreachable (ip6_gre's receive path), which adds no GRE packet.
count_hops() {
	local f gre='ip6 and ip6[6] == 47' want
	underlay --resolve
	run ifm tunnel up g6 --type gretap --remote "$R6" --key 7 "$@" -q
	assert_success
	run ifm up s0 --to g6 -q
	assert_success
	capture_start src s0
	capture_start tun g6
	capture_start out u0 -Q out
	NS=$CNS capture_start wire u0p -Q in
	send_in s0 10
	send_out s0 10
	NS=$CNS counter_settles u0p >/dev/null
	for f in wire out tun src; do capture_stop "$f"; done
	for f in src tun; do
		assert_equal "$(packets "$BATS_TEST_TMPDIR/$f.pcap" 'ether proto 0x88b5')" 20
	done
	for f in out wire; do
		assert_equal "$(packets "$BATS_TEST_TMPDIR/$f.pcap" "$gre")" 20
		assert_equal "$(packets "$BATS_TEST_TMPDIR/$f.pcap" "$gre and src host $L6 and dst host $R6 and ip6[7] == 64 and ip6[44:4] == 7")" 20
	done
	for f in ingress egress; do
		run nsx tc -s filter show dev s0 "$f"
		assert_equal "$(grep -c 'mirred (Egress Mirror to device g6)' <<<"$output")" 1
		assert_line --regexp '^[[:space:]]*Sent [0-9]+ bytes 10 pkt '
	done
	# each GRE packet holds one frame of s0: the 20 frames, once each
	# (the inner frame starts after 14 + 40 + 8 bytes: 124 hex digits)
	want=$(frames "$BATS_TEST_TMPDIR/src.pcap" 'ether proto 0x88b5')
	assert_equal "$(frames "$BATS_TEST_TMPDIR/tun.pcap")" "$want"
	assert_equal "$(frames "$BATS_TEST_TMPDIR/wire.pcap" "$gre" | cut -c125- | sort)" "$want"
	assert_equal "$(sort -u <<<"$want" | wc -l)" 20
}

@test "gre6-count: ip6gretap without --dev and --local: 20 copies are 20 GRE packets at every hop" {
	require_kernel gretap "gretap and ip6gretap tunnels (ip_gre, ip6_gre)"
	count_hops
}

@test "gre6-count: ip6gretap with --dev and --local: the same 20 at every hop" {
	require_kernel gretap "gretap and ip6gretap tunnels (ip_gre, ip6_gre)"
	count_hops --dev u0 --local fd00:9::1
}
