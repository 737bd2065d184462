#!/usr/bin/env bats
# A tunnel's per-source ids (issue 15): "ids = s0:ingress=101 ..." in its
# [tunnel NAME] section gives each (source, direction) a VNI / GRE key /
# ERSPAN session id of its own, so that the collector sorts copies by id.
# Copies are counted on the collector's underlay by the id in their outer
# header; flush and `tunnel down` remove every device apply made for it.

load helpers
load tunnel-helpers

setup() {
	tunnel_lab_up s0 s1
	underlay --ipv4
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
}

teardown() { tunnel_lab_down; }

conf() { cat >"$CONF"; chmod 0644 "$CONF"; }
apply() { ifm apply --config "$CONF" "$@"; }

# the names of the tunnel devices ifmirror made here, sorted
our_tunnels() {
	nsx ip -d -o link show |
		awk '/ alias ifmirror-tunnel/ { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); print n }' |
		sort | tr '\n' ' '
}

# send_four: 3 frames into s0, 5 out of s0, 7 into s1, 11 out of s1, while
# the collector's underlay is captured
send_four() {
	NS=$CNS capture_start wire u0p -Q in
	send_in s0 3
	send_out s0 5
	send_in s1 7
	send_out s1 11
	NS=$CNS counter_settles u0p >/dev/null
	capture_stop wire
}

# count FILTER: packets of the capture FILTER selects
count() { frames "$BATS_TEST_TMPDIR/wire.pcap" "$1" | grep -c . || true; }

# the VNI (IPv4, UDP port 4789) as a tcpdump filter
vni() { printf 'udp dst port 4789 and udp[8:4] = 0x08000000 and udp[12:4] = 0x%08x' $(($1 << 8)); }
# the GRE key of a gretap packet (IPv4 header without options; GRE with key only)
grekey() { printf 'ip proto 47 and ip[20:4] = 0x20006558 and ip[24:4] = %d' "$1"; }
# the session id of an ERSPAN type II packet (GRE with sequence number)
session() { printf 'ip proto 47 and ip[22:2] = 0x88be and (ip[30:2] & 0x3ff) = %d' "$1"; }

# counts_are F1 F2 F3 F4 F5: s0 in, s0 out, s1 in, s1 out, and all of it
counts_are() {
	local want=(3 5 7 11 26) fs=("$@") got i
	for i in 0 1 2 3 4; do
		got=$(count "${fs[i]}")
		if [[ $got != "${want[i]}" ]]; then
			echo "filter '${fs[i]}': $got packets, expected ${want[i]}" >&2
			tcpdump -r "$BATS_TEST_TMPDIR/wire.pcap" -nn -c 30 >&2 2>/dev/null || true
			return 1
		fi
	done
}

# ids_conf TYPE IDKEY BASE ID1 ID2 ID3 ID4 [EXTRA]
ids_conf() {
	conf <<-EOF
	[tunnel tx]
	type = $1
	remote = 10.9.0.2
	local = 10.9.0.1
	dev = u0
	$2 = $3
	ids = s0:ingress=$4 s0:egress=$5, s1:in=$6 s1:out=$7
	$8

	[session ab]
	source = s0 s1
	to = tx
	EOF
}

# ids_case TYPE IDKEY FILTERFN: the whole round on one tunnel type
ids_case() {
	local type=$1 key=$2 f=$3
	ids_conf "$type" "$key" 100 101 102 103 104
	run apply
	assert_success
	assert_line --regexp "^tx-101: tunnel created \\($type to 10.9.0.2, ${4:-$key} 101(, UDP port 4789)?\\)$"
	# the underlay's warning, once: the per-id devices share the tunnel's
	refute_line --partial "warning: tx-10"
	assert_equal "$(our_tunnels)" "tx tx-101 tx-102 tx-103 tx-104 "
	run nsx ip -d link show tx-103
	assert_output --regexp "alias ifmirror-tunnel type=$type remote=10.9.0.2 local=10.9.0.1 dev=u0 $key=103 (.* )?of=tx$"
	# each (source, direction) with its own id
	send_four
	counts_are "$($f 101)" "$($f 102)" "$($f 103)" "$($f 104)" "ip"

	# the same file again: nothing to change
	run apply
	assert_success
	assert_line --partial "tx-104: tunnel unchanged"
	assert_line "$CONF: 4 sessions, nothing to change"

	# s1 loses its ids: its copies go with the tunnel's own id, its devices go
	ids_conf "$type" "$key" 100 101 102 200 201
	sed -i 's/ s1:in=200 s1:out=201//' "$CONF"
	run apply
	assert_success
	assert_line --partial "tx-103: tunnel removed (an id of tx that $CONF no longer gives)"
	assert_line --partial "tx-104: tunnel removed"
	assert_equal "$(our_tunnels)" "tx tx-101 tx-102 "
	send_four
	assert_equal "$(count "$($f 100)")" 18
	assert_equal "$(count "$($f 101)")" 3
	assert_equal "$(count "$($f 102)")" 5

	# flush: every device and filter ifmirror made
	run ifm flush
	assert_success
	assert_equal "$(our_tunnels)" ""
	refute [ -n "$(nsx tc filter show dev s0 ingress)$(nsx tc filter show dev s1 egress)" ]
	nsx ip link show u0 >/dev/null
}

@test "vxlan ids: each (source, direction) its own VNI, kept, changed and flushed (one device per id)" {
	ids_case vxlan vni vni
}

@test "gretap ids: each (source, direction) its own GRE key (one device per id)" {
	require_kernel gretap "gretap tunnels (ip_gre)"
	ids_case gretap key grekey
}

@test "erspan ids: each (source, direction) its own session id (one device per id)" {
	require_kernel erspan "erspan tunnels (ip_gre)"
	ids_case erspan session-id session "session id"
}

@test "tunnel down takes the tunnel's per-id devices with it; a device of the name that is not ours is never touched" {
	ids_conf vxlan vni 100 101 102 103 104
	nsx ip link add tx-104 type veth peer name tx-104p
	run apply
	assert_failure
	assert_output --partial "tx-104: exists and is not an ifmirror tunnel"
	# the failed apply took back the devices it had made
	assert_equal "$(our_tunnels)" ""
	nsx ip link show tx-104 >/dev/null
	nsx ip link del tx-104
	run apply
	assert_success
	assert_equal "$(our_tunnels)" "tx tx-101 tx-102 tx-103 tx-104 "
	run ifm tunnel down tx
	assert_success
	assert_equal "$(our_tunnels)" ""
}

# bats test_tags=kernel-neutral
@test "ids refusals: each names the file, the line and the reason, and nothing changes" {
	local before
	before=$(nsx ip -o link show | awk '{ print $2 }')
	check_refusal() {
		run apply
		assert_failure 1
		assert_output --partial "$1"
		assert_equal "$(nsx ip -o link show | awk '{ print $2 }')" "$before"
	}
	ids_conf vxlan vni 100 101 102 103 100
	check_refusal "$CONF:7: ids: 100 is the tunnel's own vni"
	ids_conf vxlan vni 100 101 102 103 101
	check_refusal "$CONF:7: ids 's1:out=101': id 101 is s0 ingress's already"
	ids_conf vxlan vni 100 101 102 103 16777216
	check_refusal "$CONF:7: ids: s1 egress=16777216: the vxlan vni must be 0 to 16777215"
	ids_conf erspan session-id 1 2 3 4 1024
	check_refusal "$CONF:7: ids: s1 egress=1024: the erspan session id must be 0 to 1023"
	ids_conf vxlan vni 100 101 102 103 104
	sed -i 's/^\[tunnel tx\]/[tunnel tunnel-name12]/; s/^to = tx/to = tunnel-name12/' "$CONF"
	check_refusal "$CONF:7: ids: the device for id 101, tunnel-name12-101, would be longer than 15 bytes"
	ids_conf vxlan vni 100 101 102 103 104 "ids = s0=7"
	check_refusal "$CONF:8: ids given twice in this section"
	ids_conf vxlan vni 100 101 102 103 104
	sed -i 's/s1:in=103/s0:both=103/' "$CONF"
	check_refusal "$CONF:7: ids 's0:both=103': s0 ingress has an id already (101)"
	ids_conf vxlan vni 100 101 102 103 104
	sed -i 's/s1:in=103/s1:sideways=103/' "$CONF"
	check_refusal "$CONF:7: ids 's1:sideways=103': the direction is not ingress, egress or both"
	ids_conf vxlan vni 100 101 102 103 104
	sed -i 's/s1:in=103/s1:in=x/' "$CONF"
	check_refusal "$CONF:7: ids 's1:in=x': the id is not a number from 0 to 4294967295"
	printf '[collector tx-102]\nports = s1\n' >>"$CONF"
	sed -i 's/s1:in=x/s1:in=103/' "$CONF"
	check_refusal "ids: the device for id 102, tx-102, is a section of this file"
}

@test "one direction with an id of its own: the other direction, and the other sources, carry the tunnel's own VNI; dry-run says what it would do" {
	ids_conf vxlan vni 100 101 102 103 104
	sed -i 's/^ids = .*/ids = s0:ingress=101/' "$CONF"
	run apply --dry-run
	assert_success
	assert_line "would create: tunnel tx-101"
	assert_line "would add: s0 ingress mirror to tx-101"
	assert_line "would add: s0 egress mirror to tx"
	assert_line "would add: s1 both mirror to tx"
	assert_equal "$(our_tunnels)" ""
	run apply
	assert_success
	send_four
	assert_equal "$(count "$(vni 101)")" 3
	assert_equal "$(count "$(vni 100)")" 23
	# the id goes: the file gives none; dry-run says so, apply does it
	sed -i '/^ids = /d' "$CONF"
	run apply --dry-run
	assert_success
	assert_line --partial "would remove: tunnel tx-101 (an id of tx that $CONF no longer gives)"
	assert_equal "$(our_tunnels)" "tx tx-101 "
	run apply
	assert_success
	assert_equal "$(our_tunnels)" "tx "
	send_four
	assert_equal "$(count "$(vni 100)")" 26
}

@test "up --id: from the command line, each (source, direction) into the tunnel's device of its id; tunnel down takes them" {
	run ifm tunnel up tx --type vxlan --remote 10.9.0.2 --local 10.9.0.1 --dev u0 --vni 100
	assert_success
	run ifm up s0 --to tx --id 101 --direction ingress
	assert_success
	assert_line "tx-101: tunnel created (vxlan to 10.9.0.2, vni 101, UDP port 4789)"
	run nsx ip -d link show tx-101
	assert_output --partial "alias ifmirror-tunnel type=vxlan remote=10.9.0.2 local=10.9.0.1 dev=u0 vni=101 of=tx"
	run ifm up s0 --to tx --id 102 --direction egress
	assert_success
	run ifm up s1 --to tx
	assert_success
	# again: nothing changes
	run ifm up s0 --to tx --id 101 --direction ingress
	assert_success
	assert_line "tx-101: tunnel unchanged (vxlan to 10.9.0.2, vni 101, UDP port 4789)"
	send_four
	assert_equal "$(count "$(vni 101)")" 3
	assert_equal "$(count "$(vni 102)")" 5
	assert_equal "$(count "$(vni 100)")" 18
	# refused: one line, exit 1 or 2, nothing made
	run ifm up s0 --to tx --id 100
	assert_failure 1
	assert_output "ifmirror: tx: --id 100 is the tunnel's own vni; mirror into tx itself"
	run ifm up s0 --to tx --id 16777216
	assert_failure 1
	assert_output "ifmirror: tx: --id 16777216: the vxlan vni must be 0 to 16777215"
	run ifm up s0 --to tx-101 --id 7
	assert_failure 1
	assert_output "ifmirror: tx-101: is the device of an id of tx already; --id is for tx"
	run ifm up s0 --to s1 --id 7
	assert_failure 1
	assert_output "ifmirror: s1: not an ifmirror tunnel (no 'ifmirror-tunnel' alias); --id is for those"
	run ifm up s0 --to tx --id 7 --defer
	assert_failure 2
	assert_output "ifmirror: up: --id needs the tunnel now: not with --defer"
	run ifm up s0 --to tx --id x
	assert_failure 2
	assert_equal "$(our_tunnels)" "tx tx-101 tx-102 "
	run ifm tunnel down tx
	assert_success
	assert_equal "$(our_tunnels)" ""
}
