#!/usr/bin/env bats
# ifmirror tunnel up/down: remote collectors over vxlan, gretap and erspan,
# IPv4 and IPv6 underlays. A second namespace is the collector: it
# decapsulates with its own tunnel device, and what arrives there must be
# the source's frames byte for byte; a capture on the underlay shows the
# outer headers (VNI, UDP port, GRE key, ERSPAN session) that were asked for.

load helpers
load tunnel-helpers

setup() { tunnel_lab_up s0; }

teardown() { tunnel_lab_down; }

# collector NAME ARGS...: the collector's own decapsulating device
collector() {
	local name=$1
	shift
	cx ip link add "$name" "$@"
	cx ip link set "$name" up
}

crx() { cx cat "/sys/class/net/$1/statistics/rx_packets"; }

# mirror_mix DEV FILTER [DEV FILTER]: s0 already mirrors into the tunnels;
# the mix goes into and out of s0. At each collector device DEV the frames
# seen on s0 arrive byte for byte, and on the underlay FILTER (the outer
# headers asked for) selects exactly one packet per frame.
mirror_mix() {
	local a=("$@") want got i
	capture_start src s0
	NS=$CNS capture_start wire u0p -Q in
	for ((i = 0; i < ${#a[@]}; i += 2)); do
		NS=$CNS capture_start "dec$i" "${a[i]}" -Q in
	done
	send_in s0 1 --pcap "$MIX"
	send_out s0 1 --pcap "$MIX"
	# everything arrived (slow under qemu) before the captures end
	for ((i = 0; i < ${#a[@]}; i += 2)); do
		NS=$CNS counter_settles "${a[i]}" >/dev/null
		capture_stop "dec$i"
	done
	capture_stop wire
	capture_stop src
	want=$(frames "$BATS_TEST_TMPDIR/src.pcap")
	assert_equal "$(wc -l <<<"$want")" 52
	for ((i = 0; i < ${#a[@]}; i += 2)); do
		got=$(frames "$BATS_TEST_TMPDIR/dec$i.pcap")
		if [[ $got != "$want" ]]; then
			echo "at ${a[i]}: $(grep -c . <<<"$got") frames of $(wc -l <<<"$want") sent; differences:" >&2
			diff <(echo "$want") <(echo "$got") >&2 || true
			return 1
		fi
		assert_equal "$(frames "$BATS_TEST_TMPDIR/wire.pcap" "${a[i + 1]}" | grep -c .)" 52
	done
}

# vxlan: udp[] of libpcap knows IPv4 only; over IPv6 the offsets are spelled out
VX4='udp dst port 4790 and udp[8:4] = 0x08000000 and udp[12:4] = 0x00002a00'
VX6='ip6[6] = 17 and ip6[42:2] = 4789 and ip6[48:4] = 0x08000000 and ip6[52:4] = 0x00000700'

@test "vxlan over IPv4: copies arrive byte for byte, with the VNI and UDP port asked for" {
	underlay
	collector c4 type vxlan id 42 dstport 4790 remote $L4 local $R4 nolearning
	run ifm tunnel up t4 --type vxlan --remote $R4 --local $L4 --vni 42 --dstport 4790
	assert_success
	assert_line "t4: tunnel created (vxlan to 10.9.0.2, vni 42, UDP port 4790)"
	# no --dev: the underlay is the device of the route to the remote
	assert_line "ifmirror: warning: t4: 1514-byte frames (sources with MTU 1500) + 36 bytes of vxlan/IPv4 headers = 1550 > 1500, the MTU of the underlay u0: such copies leave as IP fragments; raise u0's MTU to 1550 (1554 for VLAN-tagged frames), or cut copies with --snaplen 1464"
	run nsx ip -d link show t4
	assert_output --partial "alias ifmirror-tunnel type=vxlan remote=10.9.0.2 local=10.9.0.1 vni=42 dstport=4790"
	assert_output --regexp "vxlan id 42 remote 10\.9\.0\.2 local 10\.9\.0\.1 .*dstport 4790 nolearning"
	assert_output --partial "NOARP,UP"
	run ifm up s0 --to t4
	assert_success
	mirror_mix c4 "$VX4"
}

@test "vxlan over IPv6: copies arrive byte for byte; the host adds nothing of its own to the tunnel" {
	underlay
	# IPv6 on by default here, so the tunnel would get an address if nobody prevented it
	nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=0
	collector c6 type vxlan id 7 dstport 4789 remote $L6 local $R6 nolearning
	run ifm tunnel up t6 --type vxlan --remote $R6 --local $L6 --dev u0 --vni 7
	assert_success
	assert_line "t6: tunnel created (vxlan to fd00:9::2, vni 7, UDP port 4789)"
	# the kernel's own MTU for a tunnel on a 1500-byte underlay: 1500 - 70
	assert_equal "$(nsx cat /sys/class/net/t6/mtu)" 1430
	assert_line "ifmirror: warning: t6: 1514-byte frames (sources with MTU 1500) + 56 bytes of vxlan/IPv6 headers = 1570 > 1500, the MTU of the underlay u0: such copies are dropped; raise u0's MTU to 1570 (1574 for VLAN-tagged frames), or cut copies with --snaplen 1444"
	run nsx ip -d link show t6
	assert_output --partial "alias ifmirror-tunnel type=vxlan remote=fd00:9::2 local=fd00:9::1 dev=u0 vni=7"
	assert_output --partial nolearning
	assert_output --partial "NOARP,UP"
	assert_equal "$(nsx cat /proc/sys/net/ipv6/conf/t6/disable_ipv6)" 1
	assert_equal "$(nsx ip -o addr show dev t6)" ""
	run ifm up s0 --to t6
	assert_success
	before=$(nsx cat /sys/class/net/t6/statistics/tx_packets)
	mirror_mix c6 "$VX6"
	# the tunnel sent the mirrored copies and nothing else
	assert_equal "$(($(nsx cat /sys/class/net/t6/statistics/tx_packets) - before))" 52
}

@test "tunnel up is declarative: unchanged, re-created with its sessions re-pointed, snaplen, down" {
	underlay
	collector c4 type vxlan id 43 dstport 4789 remote $L4 local $R4 nolearning
	run ifm tunnel up t0 --type vxlan --remote $R4 --vni 42 -q
	assert_success
	assert_output ""
	run ifm up s0 --to t0 --direction ingress
	assert_success
	state=$(tc_state)
	run ifm tunnel up t0 --type vxlan --remote $R4 --vni 42
	assert_success
	assert_line "t0: tunnel unchanged (vxlan to 10.9.0.2, vni 42, UDP port 4789)"
	assert_equal "$(tc_state)" "$state"

	# another spec: a new device (the VNI cannot change in place); the session follows it
	run ifm tunnel up t0 --type vxlan --remote $R4 --vni 43 --dev u0
	assert_success
	assert_line "t0: tunnel re-created as vxlan to 10.9.0.2, vni 43, UDP port 4789 (was: type=vxlan remote=10.9.0.2 vni=42); sessions into it are re-pointed"
	assert_line "s0: ingress mirror to t0 replaced (its destination had been deleted)"
	assert_equal "$(nsx cat /sys/class/net/t0/mtu)" 1450   # the kernel's: 1500 - 50
	run ifm status s0
	assert_output --regexp "^s0 ingress -> t0 \(up\) "
	before=$(crx c4)
	send_in s0 20
	NS=$CNS expect_rx c4 "$before" 20

	# only the cut changes: the tunnel stays
	run ifm tunnel up t0 --type vxlan --remote $R4 --vni 43 --dev u0 --snaplen 100
	assert_success
	assert_line "t0: tunnel unchanged (vxlan to 10.9.0.2, vni 43, UDP port 4789)"
	assert_line "t0: frames leaving it are cut to 100 bytes"
	refute_output --partial warning
	NS=$CNS capture_start cut c4 -Q in
	send_in s0 5 --size 1000
	capture_stop cut
	assert_equal "$(tcpdump -r "$BATS_TEST_TMPDIR/cut.pcap" -nn -e 2>/dev/null | grep -c 'length 100: ')" 5

	run ifm tunnel down t0
	assert_success
	assert_output "t0: tunnel removed; 1 source mirrored into it (status shows them as gone until t0 is back)"
	run ifm status s0
	assert_output --partial "(gone"
	run ifm tunnel down t0
	assert_success
	assert_output "t0: no such device, nothing to remove"
}

@test "gretap over IPv4 and IPv6: byte for byte, with the key; the kernel's MTU is the underlay's minus 42 and 62 (38 and 58 without key)" {
	require_kernel gretap "gretap and ip6gretap tunnels (ip_gre, ip6_gre)"
	underlay
	collector c4 type gretap remote $L4 local $R4 key 7
	collector c6 type ip6gretap remote $L6 local $R6 key 8
	run ifm tunnel up t4 --type gretap --remote $R4 --local $L4 --key 7 --dev u0
	assert_success
	assert_line "t4: tunnel created (gretap to 10.9.0.2, key 7)"
	assert_line "ifmirror: warning: t4: 1514-byte frames (sources with MTU 1500) + 28 bytes of gretap/IPv4 headers = 1542 > 1500, the MTU of the underlay u0: such copies leave as IP fragments, those of IPv4 packets with DF are dropped; raise u0's MTU to 1542 (1546 for VLAN-tagged frames), or cut copies with --snaplen 1472"
	assert_equal "$(nsx cat /sys/class/net/t4/mtu)" 1458
	run ifm tunnel up t6 --type gretap --remote $R6 --local $L6 --key 8 --dev u0
	assert_success
	assert_line "t6: tunnel created (ip6gretap to fd00:9::2, key 8)"
	assert_line --partial "+ 48 bytes of gretap/IPv6 headers = 1562 > 1500, the MTU of the underlay u0: such copies are dropped; raise u0's MTU to 1562"
	assert_equal "$(nsx cat /sys/class/net/t6/mtu)" 1438
	run nsx ip -d link show t6
	assert_output --partial "encaplimit none"
	run ifm up s0 --to t4
	assert_success
	run ifm up s0 --to t6
	assert_success
	# GRE with the key bit, transparent Ethernet, the key; IPv6 without an encapsulation limit option
	mirror_mix c4 'ip proto 47 and ip[20:2] = 0x2000 and ip[22:2] = 0x6558 and ip[24:4] = 7' \
		c6 'ip6[6] = 47 and ip6[40:2] = 0x2000 and ip6[42:2] = 0x6558 and ip6[44:4] = 8'
	# without a key, 4 bytes less: 38 and 58
	run ifm tunnel up n4 --type gretap --remote $R4 --dev u0 -q
	assert_success
	assert_equal "$(nsx cat /sys/class/net/n4/mtu)" 1462
	run ifm tunnel up n6 --type gretap --remote $R6 --dev u0 -q
	assert_success
	assert_equal "$(nsx cat /sys/class/net/n6/mtu)" 1442
}

@test "erspan version 1 over IPv4 and IPv6: byte for byte, with the session id; MTU 1500 minus 50 and 70" {
	require_kernel erspan "erspan and ip6erspan tunnels (ip_gre, ip6_gre)"
	underlay
	collector c4 type erspan remote $L4 local $R4 seq key 5 erspan_ver 1 erspan 1
	collector c6 type ip6erspan remote $L6 local $R6 seq key 6 erspan_ver 1 erspan 1
	run ifm tunnel up t4 --type erspan --remote $R4 --local $L4 --session-id 5 --dev u0
	assert_success
	assert_line "t4: tunnel created (erspan to 10.9.0.2, session id 5)"
	assert_line --partial "+ 36 bytes of erspan/IPv4 headers = 1550 > 1500, the MTU of the underlay u0: erspan cuts such copies to 1464 bytes; raise u0's MTU to 1550"
	assert_equal "$(nsx cat /sys/class/net/t4/mtu)" 1450
	run ifm tunnel up t6 --type erspan --remote $R6 --local $L6 --session-id 6 --dev u0
	assert_success
	assert_line --partial "+ 56 bytes of erspan/IPv6 headers = 1570 > 1500, the MTU of the underlay u0: erspan cuts such copies to 1444 bytes"
	assert_equal "$(nsx cat /sys/class/net/t6/mtu)" 1430
	run ifm up s0 --to t4
	assert_success
	run ifm up s0 --to t6
	assert_success
	# GRE with a sequence number, ERSPAN type II, version 1, the session id
	mirror_mix c4 'ip proto 47 and ip[20:2] = 0x1000 and ip[22:2] = 0x88be and ip[28] & 0xf0 = 0x10 and ip[30:2] & 0x3ff = 5' \
		c6 'ip6[6] = 47 and ip6[40:2] = 0x1000 and ip6[42:2] = 0x88be and ip6[48] & 0xf0 = 0x10 and ip6[50:2] & 0x3ff = 6'
	# and erspan really cuts what does not fit
	NS=$CNS capture_start cut c4 -Q in
	send_in s0 3 --size 1514
	capture_stop cut
	assert_equal "$(tcpdump -r "$BATS_TEST_TMPDIR/cut.pcap" -nn -e 2>/dev/null | grep -c 'length 1464: ')" 3
}

@test "a type the kernel lacks: one line naming the kernel module, nothing made or changed" {
	underlay
	# on a full kernel the same path, by IFMIRROR_AVOID
	kernel_has gretap && export IFMIRROR_AVOID=gretap
	kernel_has erspan && export IFMIRROR_AVOID=gretap,erspan
	avoid='( \(treated as missing: IFMIRROR_AVOID\))?'
	state=$(tc_state)
	for args in "g4 gretap $R4 --key 1 ip_gre" "g6 ip6gretap $R6 --key 1 ip6_gre" \
		"e4 erspan $R4 --session-id 1 ip_gre" "e6 ip6erspan $R6 --session-id 1 ip6_gre"; do
		set -- $args
		run ifm tunnel up "$1" --type "${2#ip6}" --remote "$3" "$4" "$5"
		assert_failure 1
		assert_equal "${#lines[@]}" 1
		assert_output --regexp "^ifmirror: $1: the kernel has no $2 devices \(kernel module $6\)$avoid$"
		assert_equal "$(tc_state)" "$state"
	done
	# an existing tunnel is not given up for a type that cannot be made
	run ifm tunnel up t0 --type vxlan --remote $R4 --vni 1 -q
	assert_success
	run ifm up s0 --to t0 -q
	assert_success
	state=$(tc_state)
	run ifm tunnel up t0 --type gretap --remote $R4
	assert_failure 1
	assert_output --regexp "^ifmirror: t0: the kernel has no gretap devices \(kernel module ip_gre\)$avoid; the tunnel stays as it was$"
	assert_equal "$(tc_state)" "$state"
}

# bats test_tags=kernel-neutral
@test "bad input: one line naming the problem, exit 2 for usage and 1 for runtime, nothing changed" {
	underlay
	veth f0
	nsx ip link add fx0 type vxlan id 9 remote $R4 dstport 4789
	run ifm tunnel up t1 --type vxlan --remote $R4 --vni 1 -q
	assert_success
	state=$(tc_state)
	refusals "$state" <<'EOF'
2|tunnel: expected 'up' or 'down', not ''|tunnel
2|tunnel: expected 'up' or 'down', not 'sideways'|tunnel sideways t0
2|tunnel up: needs a NAME|tunnel up --type vxlan --remote 10.9.0.2 --vni 1
2|tunnel up: 'averyveryverylongname': interface name longer than 15|tunnel up averyveryverylongname --type vxlan --remote 10.9.0.2 --vni 1
2|tunnel up: 'a/b': interface name contains|tunnel up a/b --type vxlan --remote 10.9.0.2 --vni 1
2|tunnel up: needs --type vxlan, gretap, erspan or geneve|tunnel up t0 --remote 10.9.0.2
2|tunnel up: --type 'ipip': not vxlan, gretap, erspan or geneve|tunnel up t0 --type ipip --remote 10.9.0.2
2|tunnel up: needs --remote ADDRESS|tunnel up t0 --type vxlan --vni 1
2|tunnel up: --remote needs an IPv4 or IPv6 address|tunnel up t0 --type vxlan --vni 1 --remote
2|tunnel up: t0: remote '10.9.0': not an IPv4 or IPv6 address|tunnel up t0 --type vxlan --vni 1 --remote 10.9.0
2|tunnel up: t0: remote '0.0.0.0': not a usable address|tunnel up t0 --type vxlan --vni 1 --remote 0.0.0.0
2|tunnel up: t0: local fd00:9::1 and remote 10.9.0.2 are not of one address family|tunnel up t0 --type vxlan --vni 1 --remote 10.9.0.2 --local fd00:9::1
2|tunnel up: vxlan needs --vni N \(0 to 16777215\)|tunnel up t0 --type vxlan --remote 10.9.0.2
2|tunnel up: --vni '16777216': not a whole number from 0 to 16777215|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 16777216
2|tunnel up: --vni '-1': not a whole number|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni=-1
2|tunnel up: --vni given twice|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --vni 2
2|tunnel up: --key is for gretap, not vxlan|tunnel up t0 --type vxlan --remote 10.9.0.2 --key 1
2|tunnel up: --vni and --key: give one|tunnel up t0 --type gretap --remote 10.9.0.2 --vni 1 --key 2
2|tunnel up: --dstport is for vxlan or geneve, not gretap|tunnel up t0 --type gretap --remote 10.9.0.2 --dstport 4789
2|tunnel up: --dstport '0': not a whole number from 1 to 65535|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --dstport 0
2|tunnel up: erspan needs --session-id N \(0 to 1023\)|tunnel up t0 --type erspan --remote 10.9.0.2
2|tunnel up: --session-id '1024': not a whole number from 0 to 1023|tunnel up t0 --type erspan --remote 10.9.0.2 --session-id 1024
2|tunnel up: --snaplen '10': not a whole number from 14 to 65535|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --snaplen 10
2|tunnel up: t0: dev 'a b': interface name contains|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --dev 'a b'
2|tunnel up: t0: the underlay device cannot be the tunnel itself|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --dev t0
2|tunnel up: unexpected argument '--bogus'|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --bogus
2|tunnel down: unexpected argument '--type'|tunnel down t1 --type vxlan
2|tunnel down: needs a NAME|tunnel down
1|t0: underlay nosuch0: no such device|tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 1 --dev nosuch0
1|f0: exists and is not an ifmirror tunnel \(no 'ifmirror-tunnel' alias\); not touching it|tunnel up f0 --type vxlan --remote 10.9.0.2 --vni 1
1|fx0: exists and is not an ifmirror tunnel|tunnel up fx0 --type vxlan --remote 10.9.0.2 --vni 9
1|fx0: not an ifmirror tunnel \(no 'ifmirror-tunnel' alias\); not removing it|tunnel down fx0
EOF
}

@test "MTU: tunnel up and check warn before a copy is lost; --snaplen or a bigger underlay MTU fix it" {
	underlay
	collector c6 type vxlan id 7 dstport 4789 remote $L6 local $R6 nolearning
	run ifm tunnel up t6 --type vxlan --remote $R6 --dev u0 --vni 7
	assert_success
	assert_output --partial "warning: t6: 1514-byte frames (sources with MTU 1500) + 56 bytes of vxlan/IPv6 headers = 1570 > 1500"
	run ifm up s0 --to t6 --direction ingress
	assert_success
	run ifm check s0 --to t6
	assert_success
	assert_line "session s0 -> t6: 1 warning"
	assert_line "warning: mtu: t6: 1514-byte frames (s0's MTU 1500) + 56 bytes of vxlan/IPv6 headers = 1570 > 1500, the MTU of the underlay u0: such copies are dropped; raise u0's MTU to 1570, or cut copies to 1444 bytes (ifmirror tunnel up t6 ... --snaplen 1444)"
	# it was right: 1514-byte frames are lost, 1444-byte ones arrive
	before=$(crx c6)
	send_in s0 10 --size 1514
	send_in s0 10 --size 1444
	NS=$CNS expect_rx c6 "$before" 10

	# cut to what fits: every copy arrives, no warning
	run ifm tunnel up t6 --type vxlan --remote $R6 --dev u0 --vni 7 --snaplen 1444
	assert_success
	refute_output --partial warning
	run ifm check s0 --to t6
	assert_line "session s0 -> t6: no warnings"
	before=$(crx c6)
	send_in s0 10 --size 1514
	NS=$CNS expect_rx c6 "$before" 10

	# a bigger underlay: whole copies, no warning
	nsx ip link set u0 mtu 1570
	cx ip link set u0p mtu 1570
	run ifm tunnel up t6 --type vxlan --remote $R6 --dev u0 --vni 7
	assert_success
	assert_line "t6: frames leaving it are no longer cut"
	refute_output --partial warning
	run ifm check s0 --to t6
	assert_line "session s0 -> t6: no warnings"
	capture_start src s0 -Q in
	NS=$CNS capture_start dec c6 -Q in
	send_in s0 10 --size 1514
	capture_stop src
	capture_stop dec
	assert_equal "$(frames "$BATS_TEST_TMPDIR/dec.pcap" | grep -c .)" 10
	assert_equal "$(frames "$BATS_TEST_TMPDIR/dec.pcap")" "$(frames "$BATS_TEST_TMPDIR/src.pcap")"
}
