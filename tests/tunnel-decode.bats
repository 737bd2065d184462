#!/usr/bin/env bats
# What reaches a remote collector, decoded by a real decoder (tshark), not by
# our own parsing: ERSPAN version 1 and 2 (session id, direction bit,
# hardware id), VXLAN and Geneve (VNI), GRE (key), over IPv4 and IPv6
# underlays; and the frame inside each packet, as tshark finds it, is the
# source's frame byte for byte (compared with a capture at the source).
# Also the command line, `tunnel up`, `check` and the config file for
# ERSPAN version 2 and Geneve. Kinds the dev kernel lacks (erspan, gretap,
# geneve) skip there, saying so; on the stock lane nothing skips.

load helpers
load tunnel-helpers

setup() {
	tunnel_lab_up s0
	# tshark keeps its settings under HOME; the stock lane's root is read-only
	export HOME=$BATS_TEST_TMPDIR
}

teardown() { tunnel_lab_down; }

# wire_mix: s0 already mirrors into the tunnels; the mix (26 frames) goes
# into and out of s0, captured at s0 (src.pcap) and, as it arrives at the
# collector's end of the underlay, on u0p (wire.pcap)
wire_mix() {
	capture_start src s0 -s 4096 -B 16384
	# the kernel's capture ring holds a few dozen frames of the default
	# snapshot length: with a burst of 104 copies it drops frames
	NS=$CNS capture_start wire u0p -Q in -s 4096 -B 16384
	send_in s0 1 --pcap "$MIX"
	send_out s0 1 --pcap "$MIX"
	# everything arrived (slow under qemu) before the capture ends
	NS=$CNS counter_settles u0p >/dev/null
	capture_stop wire
	capture_stop src
	assert_equal "$(frames "$BATS_TEST_TMPDIR/src.pcap" | grep -c .)" 52
}

# decoded FILTER: how many packets of wire.pcap tshark's display FILTER selects
decoded() {
	tshark -r "$BATS_TEST_TMPDIR/wire.pcap" -n -Y "$1" -T fields -e frame.number 2>/dev/null | grep -c . || true
}

# fields FILTER FIELD...: what tshark decodes in those packets, one line per
# distinct value (for the failure message)
fields() {
	local y=$1 e=() f
	shift
	for f in "$@"; do e+=(-e "$f"); done
	tshark -r "$BATS_TEST_TMPDIR/wire.pcap" -n -Y "$y" -T fields -E separator=' ' "${e[@]}" 2>/dev/null | sort | uniq -c
}

# inner FILTER: the frame inside each packet FILTER selects, from where
# tshark's dissectors put the inner Ethernet header (the last eth layer of
# the packet) to the packet's end: hex, one line per frame, sorted
inner() {
	tshark -r "$BATS_TEST_TMPDIR/wire.pcap" -n -Y "$1" -T json -x --no-duplicate-keys 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin):
    layers = p["_source"]["layers"]
    frame = layers["frame_raw"][0]
    eth = layers["eth_raw"]
    # one eth layer: [hex, offset, length, mask, type]; several: a list of those
    offset = eth[-1][1] if isinstance(eth[0], list) else None
    if offset is None or offset == 0:
        sys.exit("packet %s: no inner Ethernet frame" % layers["frame"]["frame.number"])
    print(frame[2 * offset:])
' | sort
}

# expect_decoded WHAT FILTER: every one of the 52 copies is decoded with
# FILTER (WHAT: the packets of one tunnel), and the frames inside them are
# the source's, byte for byte
expect_decoded() {
	local what=$1 want=$2 n got
	# the packets of WHAT and the frames inside them in one tshark run (a
	# run takes about 5 s in a stock-lane guest)
	got=$(inner "$what")
	n=$(grep -c . <<<"$got" || true)
	if [[ $n != 52 ]]; then
		echo "$n packets of '$what' in wire.pcap, expected 52; tcpdump:" >&2
		tcpdump -r "$BATS_TEST_TMPDIR/wire.pcap" -nn 2>/dev/null | head -120 >&2
		return 1
	fi
	n=$(decoded "$what && $want")
	if [[ $n != 52 ]]; then
		echo "$n of the 52 packets of '$what' decode as '$want'" >&2
		return 1
	fi
	if [[ $got != "$(frames "$BATS_TEST_TMPDIR/src.pcap")" ]]; then
		echo "the frames inside '$what' are not the source's; differences:" >&2
		diff <(frames "$BATS_TEST_TMPDIR/src.pcap") <(echo "$got") >&2 || true
		return 1
	fi
}

@test "vxlan over IPv4 and IPv6: tshark decodes the VNI of each tunnel, and inside are the source's frames byte for byte" {
	underlay --resolve
	run ifm tunnel up v4 --type vxlan --remote $R4 --vni 42 -q
	assert_success
	run ifm tunnel up v6 --type vxlan --remote $R6 --local $L6 --vni 4242 -q
	assert_success
	run ifm up s0 --to v4 -q
	assert_success
	run ifm up s0 --to v6 -q
	assert_success
	wire_mix
	expect_decoded "ip.dst == 10.9.0.2 && vxlan" "vxlan.vni == 42 && udp.dstport == 4789"
	expect_decoded "ipv6.dst == fd00:9::2 && vxlan" "vxlan.vni == 4242 && udp.dstport == 4789"
}

@test "geneve over IPv4 and IPv6: tshark decodes the VNI and the UDP port; byte for byte inside" {
	require_kernel geneve "geneve tunnels (kernel module geneve)"
	underlay --resolve
	run ifm tunnel up g4 --type geneve --remote $R4 --vni 16777215
	assert_success
	assert_line "g4: tunnel created (geneve to 10.9.0.2, vni 16777215, UDP port 6081)"
	run nsx ip -d link show g4
	assert_output --partial "alias ifmirror-tunnel type=geneve remote=10.9.0.2 vni=16777215"
	assert_output --regexp "geneve id 16777215 remote 10\.9\.0\.2 .*dstport 6081"
	run ifm tunnel up g6 --type geneve --remote $R6 --vni 7 --dstport 6081 -q
	assert_success
	run nsx ip -d link show g6
	assert_output --partial "alias ifmirror-tunnel type=geneve remote=fd00:9::2 vni=7"
	# the kernel's own MTU, bound to the route's device: 1500 - 50 and - 70
	assert_equal "$(nsx cat /sys/class/net/g4/mtu)" 1450
	assert_equal "$(nsx cat /sys/class/net/g6/mtu)" 1430
	run ifm up s0 --to g4 -q
	assert_success
	run ifm up s0 --to g6 -q
	assert_success
	wire_mix
	expect_decoded "ip.dst == 10.9.0.2 && geneve" "geneve.vni == 16777215 && udp.dstport == 6081 && geneve.proto_type == 0x6558"
	expect_decoded "ipv6.dst == fd00:9::2 && geneve" "geneve.vni == 7 && udp.dstport == 6081"
}

@test "erspan version 1: tshark decodes ERSPAN type II with the session id; byte for byte inside" {
	require_kernel erspan "erspan tunnels (ip_gre)"
	underlay --resolve
	run ifm tunnel up e4 --type erspan --remote $R4 --session-id 5 --erspan-version 1 -q
	assert_success
	run nsx ip -d link show e4
	# version 1 is written as before: aliases of older tunnels stay equal
	assert_output --partial "alias ifmirror-tunnel type=erspan remote=10.9.0.2 session-id=5"
	refute_output --partial "version="
	run ifm up s0 --to e4 -q
	assert_success
	wire_mix
	expect_decoded "ip.dst == 10.9.0.2 && erspan" "erspan.version == 1 && erspan.spanid == 5"
}

@test "erspan version 2 over IPv4 and IPv6: tshark decodes type III with session id, direction bit and hwid; byte for byte inside" {
	require_kernel erspan "erspan and ip6erspan tunnels (ip_gre, ip6_gre)"
	underlay --resolve
	run ifm tunnel up e4 --type erspan --remote $R4 --local $L4 --session-id 5 --erspan-version 2 --hwid 7 --erspan-dir egress --dev u0
	assert_success
	assert_line "e4: tunnel created (erspan to 10.9.0.2, session id 5, version 2, hwid 7, direction egress)"
	# the kernel's MTU: the type III header is 4 bytes longer than type II's
	assert_line --partial "+ 40 bytes of erspan/IPv4 headers = 1554 > 1500, the MTU of the underlay u0: erspan cuts such copies to 1460 bytes"
	assert_equal "$(nsx cat /sys/class/net/e4/mtu)" 1446
	run nsx ip -d link show e4
	assert_output --partial "alias ifmirror-tunnel type=erspan remote=10.9.0.2 local=10.9.0.1 dev=u0 session-id=5 version=2 hwid=7 dir=egress"
	assert_output --regexp "erspan_ver 2 erspan_dir egress erspan_hwid 0x7"
	run ifm tunnel up e6 --type erspan --remote $R6 --local $L6 --session-id 1023 --erspan-version 2 --hwid 63 --dev u0 -q
	assert_success
	assert_equal "$(nsx cat /sys/class/net/e6/mtu)" 1426
	run nsx ip -d link show e6
	assert_output --regexp "erspan_ver 2 erspan_dir ingress erspan_hwid 0x3f"
	run ifm up s0 --to e4 -q
	assert_success
	run ifm up s0 --to e6 -q
	assert_success
	wire_mix
	fields "erspan" ip.dst ipv6.dst erspan.version erspan.spanid erspan.direction erspan.hw >&2
	expect_decoded "ip.dst == 10.9.0.2 && erspan" "erspan.version == 2 && erspan.spanid == 5 && erspan.direction == 1 && erspan.hw == 7"
	expect_decoded "ipv6.dst == fd00:9::2 && erspan" "erspan.version == 2 && erspan.spanid == 1023 && erspan.direction == 0 && erspan.hw == 63"
}

@test "gretap over IPv4 and IPv6: tshark decodes the GRE key; byte for byte inside" {
	require_kernel gretap "gretap and ip6gretap tunnels (ip_gre, ip6_gre)"
	underlay --resolve
	run ifm tunnel up k4 --type gretap --remote $R4 --key 7 -q
	assert_success
	run ifm tunnel up k6 --type gretap --remote $R6 --local $L6 --key 4294967295 -q
	assert_success
	run ifm up s0 --to k4 -q
	assert_success
	run ifm up s0 --to k6 -q
	assert_success
	wire_mix
	expect_decoded "ip.dst == 10.9.0.2 && gre" "gre.key == 7 && gre.proto == 0x6558"
	expect_decoded "ipv6.dst == fd00:9::2 && gre" "gre.key == 4294967295 && gre.proto == 0x6558"
}

@test "tunnel up compares erspan's version, hwid and direction: the same is unchanged, another re-creates" {
	require_kernel erspan "erspan tunnels (ip_gre)"
	underlay --resolve
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5 -q
	assert_success
	run ifm up s0 --to e0 --direction ingress -q
	assert_success
	# an erspan tunnel made before versions existed (its alias has none) is version 1
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5 --erspan-version 1
	assert_success
	assert_line "e0: tunnel unchanged (erspan to 10.9.0.2, session id 5)"
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5 --erspan-version 2
	assert_success
	assert_line "e0: tunnel re-created as erspan to 10.9.0.2, session id 5, version 2, hwid 0, direction ingress (was: type=erspan remote=10.9.0.2 session-id=5); sessions into it are re-pointed"
	state=$(tc_state)
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5 --erspan-version 2 --hwid 0 --erspan-dir ingress
	assert_success
	assert_line "e0: tunnel unchanged (erspan to 10.9.0.2, session id 5, version 2, hwid 0, direction ingress)"
	assert_equal "$(tc_state)" "$state"
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5 --erspan-version 2 --hwid 9
	assert_success
	assert_line --partial "e0: tunnel re-created as erspan to 10.9.0.2, session id 5, version 2, hwid 9, direction ingress (was:"
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5 --erspan-version 2 --hwid 9 --erspan-dir egress
	assert_success
	assert_line --partial "e0: tunnel re-created as erspan to 10.9.0.2, session id 5, version 2, hwid 9, direction egress (was: type=erspan remote=10.9.0.2 session-id=5 version=2 hwid=9)"
	run nsx ip -d link show e0
	assert_output --regexp "erspan_ver 2 erspan_dir egress erspan_hwid 0x9"
	# changed behind ifmirror's back (the alias still says egress): put right
	nsx ip link set e0 type erspan erspan_dir ingress
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5 --erspan-version 2 --hwid 9 --erspan-dir egress
	assert_success
	assert_line --partial "e0: tunnel re-created as erspan to 10.9.0.2, session id 5, version 2, hwid 9, direction egress"
	run nsx ip -d link show e0
	assert_output --regexp "erspan_dir egress erspan_hwid 0x9"
	# the session followed each new device
	run ifm status s0
	assert_output --regexp "^s0 ingress -> e0 \(up\) "
	# and back to version 1
	run ifm tunnel up e0 --type erspan --remote $R4 --session-id 5
	assert_success
	assert_line --partial "e0: tunnel re-created as erspan to 10.9.0.2, session id 5 (was:"
	run nsx ip -d link show e0
	assert_output --regexp "erspan_ver 1 "
}

@test "check shows a tunnel destination's identity (text and JSON) and geneve's MTU headroom" {
	require_kernel geneve "geneve tunnels (kernel module geneve)"
	require_kernel erspan "erspan tunnels (ip_gre)"
	underlay --resolve
	run ifm tunnel up g6 --type geneve --remote $R6 --vni 99 -q
	assert_success
	run ifm check s0 --to g6
	assert_success
	assert_line "destination g6: tunnel geneve to fd00:9::2, vni 99, UDP port 6081"
	assert_line "warning: mtu: g6: 1514-byte frames (s0's MTU 1500) + 56 bytes of geneve/IPv6 headers = 1570 > 1500, the MTU of the underlay u0: such copies are dropped; raise u0's MTU to 1570, or cut copies to 1444 bytes (ifmirror tunnel up g6 ... --snaplen 1444)"
	run ifm tunnel up g4 --type geneve --remote $R4 --vni 98 -q
	assert_success
	run ifm check s0 --to g4
	assert_line "warning: mtu: g4: 1514-byte frames (s0's MTU 1500) + 36 bytes of geneve/IPv4 headers = 1550 > 1500, the MTU of the underlay u0: such copies leave as IP fragments; raise u0's MTU to 1550, or cut copies to 1464 bytes (ifmirror tunnel up g4 ... --snaplen 1464)"
	run ifm tunnel up e4 --type erspan --remote $R4 --session-id 3 --erspan-version 2 --hwid 12 --erspan-dir egress -q
	assert_success
	run ifm check s0 --to e4
	assert_line "destination e4: tunnel erspan to 10.9.0.2, session id 3, version 2, hwid 12, direction egress"
	assert_line --partial "+ 40 bytes of erspan/IPv4 headers = 1554 > 1500"
	run ifm check s0 --to e4 --json
	assert_success
	printf '%s' "$output" | /usr/bin/python3 -c '
import json, sys
t = json.load(sys.stdin)["session"]["tunnel"]
assert t == {"type": "erspan", "kind": "erspan", "remote": "10.9.0.2", "session-id": 3,
             "version": 2, "hwid": 12, "direction": "egress"}, t
'
	run ifm check s0 --to g6 --json
	printf '%s' "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["features"]["geneve"] and d["features"]["geneve_ipv6"], d["features"]
t = d["session"]["tunnel"]
assert t == {"type": "geneve", "kind": "geneve", "remote": "fd00:9::2", "vni": 99,
             "dstport": 6081}, t
'
	# not a tunnel: null
	veth d0
	run ifm check s0 --to d0 --json
	printf '%s' "$output" | /usr/bin/python3 -c '
import json, sys
assert json.load(sys.stdin)["session"]["tunnel"] is None
'
}

@test "apply: type = geneve and erspan version = 2 with a hwid, from the config file" {
	require_kernel geneve "geneve tunnels (kernel module geneve)"
	require_kernel erspan "erspan tunnels (ip_gre)"
	underlay --resolve
	cat >"$BATS_TEST_TMPDIR/m.conf" <<EOF
[tunnel g0]
type = geneve
remote = $R6
vni = 500
dstport = 6082

[tunnel e0]
type = erspan
remote = $R4
session-id = 9
version = 2
hwid = 21

[session a]
source = s0
to = g0

[session b]
source = s0
to = e0
EOF
	run ifm apply --config "$BATS_TEST_TMPDIR/m.conf" -q
	assert_success
	run nsx ip -d link show g0
	assert_output --partial "alias ifmirror-tunnel type=geneve remote=fd00:9::2 vni=500 dstport=6082"
	assert_output --regexp "geneve id 500 remote fd00:9::2 .*dstport 6082"
	run nsx ip -d link show e0
	assert_output --partial "alias ifmirror-tunnel type=erspan remote=10.9.0.2 session-id=9 version=2 hwid=21"
	assert_output --regexp "erspan_ver 2 erspan_dir ingress erspan_hwid 0x15"
	# again: nothing to do
	state=$(tc_state)
	run ifm apply --config "$BATS_TEST_TMPDIR/m.conf" -q
	assert_success
	assert_equal "$(tc_state)" "$state"
	wire_mix
	tshark_port="udp.port==6082,geneve"
	assert_equal "$(tshark -r "$BATS_TEST_TMPDIR/wire.pcap" -n -d "$tshark_port" -Y "geneve.vni == 500" -T fields -e frame.number 2>/dev/null | grep -c .)" 52
	expect_decoded "ip.dst == 10.9.0.2 && erspan" "erspan.version == 2 && erspan.spanid == 9 && erspan.hw == 21 && erspan.direction == 0"
}

@test "geneve on a kernel without it: one line naming the kernel module, nothing made" {
	underlay --resolve
	kernel_has geneve && export IFMIRROR_AVOID=geneve
	avoid='( \(treated as missing: IFMIRROR_AVOID\))?'
	state=$(tc_state)
	for r in $R4 $R6; do
		run ifm tunnel up g0 --type geneve --remote "$r" --vni 1
		assert_failure 1
		assert_equal "${#lines[@]}" 1
		assert_output --regexp "^ifmirror: g0: the kernel has no geneve devices \(kernel module geneve\)$avoid$"
		assert_equal "$(tc_state)" "$state"
	done
}

# bats test_tags=kernel-neutral
@test "erspan version 2 and geneve, bad input: one line naming the problem, exit 2, nothing changed" {
	underlay --resolve
	state=$(tc_state)
	refusals "$state" <<'EOF'
2|tunnel up: --erspan-version '3': not a whole number from 1 to 2|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-version 3
2|tunnel up: --erspan-version '0': not a whole number from 1 to 2|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-version 0
2|tunnel up: --erspan-version given twice|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-version 2 --erspan-version 2
2|tunnel up: --hwid '64': not a whole number from 0 to 63|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-version 2 --hwid 64
2|tunnel up: --hwid is for erspan version 2 \(--erspan-version 2\)$|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --hwid 5
2|tunnel up: --hwid is for erspan version 2 \(--erspan-version 2\)$|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-version 1 --hwid 5
2|tunnel up: --erspan-dir is for erspan version 2 \(--erspan-version 2\)$|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-dir egress
2|tunnel up: --erspan-dir 'both': not ingress or egress$|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-version 2 --erspan-dir both
2|tunnel up: --erspan-dir needs ingress or egress$|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1 --erspan-version 2 --erspan-dir
2|tunnel up: --erspan-version is for erspan, not gretap$|tunnel up t0 --type gretap --remote 10.9.0.2 --erspan-version 2
2|tunnel up: --hwid is for erspan, not vxlan$|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --hwid 2
2|tunnel up: --erspan-dir is for erspan, not geneve$|tunnel up t0 --type geneve --remote 10.9.0.2 --vni 1 --erspan-dir egress
2|tunnel up: geneve needs --vni N \(0 to 16777215\)$|tunnel up t0 --type geneve --remote 10.9.0.2
2|tunnel up: --vni '16777216': not a whole number from 0 to 16777215$|tunnel up t0 --type geneve --remote 10.9.0.2 --vni 16777216
2|tunnel up: --key is for gretap, not geneve$|tunnel up t0 --type geneve --remote 10.9.0.2 --key 1
2|tunnel up: --session-id is for erspan, not geneve$|tunnel up t0 --type geneve --remote 10.9.0.2 --session-id 1
2|tunnel up: --local is not for geneve \(the route to the remote picks it\)$|tunnel up t0 --type geneve --remote 10.9.0.2 --vni 1 --local 10.9.0.1
2|tunnel up: --dev is not for geneve \(the route to the remote picks it\)$|tunnel up t0 --type geneve --remote 10.9.0.2 --vni 1 --dev u0
2|tunnel up: --dstport '0': not a whole number from 1 to 65535$|tunnel up t0 --type geneve --remote 10.9.0.2 --vni 1 --dstport 0
EOF
	# a config file with the same mistakes: refused before anything is made
	cat >"$BATS_TEST_TMPDIR/bad.conf" <<'EOF'
[tunnel e0]
type = erspan
remote = 10.9.0.2
session-id = 1
hwid = 3

[tunnel g0]
type = geneve
remote = 10.9.0.2
vni = 1
local = 10.9.0.1
EOF
	run ifm apply --config "$BATS_TEST_TMPDIR/bad.conf"
	assert_failure 1
	assert_line --partial "bad.conf:5: [tunnel e0]: hwid is for erspan version 2 (version = 2)"
	assert_line --partial "[tunnel g0]: geneve takes no 'local' (the route to the remote picks it)"
	assert_equal "$(tc_state)" "$state"
}
