#!/usr/bin/env bats
# ifupdown integration, with the real Debian ifup/ifdown: the collector
# bridge, the mirror-to options, order independence, failover and hotplug.

load helpers

setup() {
	lab_up
	veth s0 c0
	ifupdown_lab
	cat >"$IFILE" <<-EOT
	auto br-mirror
	iface br-mirror inet manual
	    mirror-collector c0

	iface c0 inet manual

	auto s0
	iface s0 inet static
	    address 192.0.2.10/24
	    mirror-to br-mirror
	    mirror-direction both
	EOT
}

teardown() { lab_down; }

N=100

# mirrored N in and N out of s0: 2N at the collector port's peer
mirror_works() {
	local before
	before=$(rx_packets c0p)
	send_in s0 $N
	send_out s0 $N
	expect_rx c0p "$before" $((2 * N))
}

@test "bridge first, then the source: a working session" {
	run ifupdown ifup br-mirror
	assert_success
	run ifupdown ifup s0
	assert_success
	mirror_works
	run ifm status
	assert_line --regexp '^s0 ingress -> br-mirror \(up\)'
	assert_line --regexp '^s0 egress -> br-mirror \(up\)'
	assert_line --regexp '^collector br-mirror \(up\) sink br-mirror-sink (dummy|ifb) \(up\) port c0 \(up\)$'
}

@test "source first, then the bridge: the same working session" {
	run ifupdown ifup -v s0
	assert_success
	assert_output --partial "s0: both mirror to br-mirror deferred until br-mirror exists"
	run ifupdown ifup br-mirror
	assert_success
	mirror_works
	run ifm status s0
	assert_equal "${#lines[@]}" 2
}

@test "the bridge is a proper mirror port: no STP, learning, snooping, ARP or IPv6" {
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
	run ifupdown ifup br-mirror
	assert_success
	run nsx ip -d link show br-mirror
	assert_output --partial "stp_state 0"
	assert_output --partial "mcast_snooping 0"
	assert_output --partial "NOARP"
	for dev in br-mirror br-mirror-sink c0; do
		assert_equal "$(nsx cat /proc/sys/net/ipv6/conf/$dev/disable_ipv6)" 1
		run nsx ip -o addr show dev "$dev"
		assert_output ""
		run nsx ip -o link show dev "$dev"
		assert_output --partial NOARP
	done
	run nsx ip -d link show c0
	assert_output --partial "learning off"
	assert_output --partial "flood on"
	assert_output --partial "mcast_flood on"
	# nothing of the host's own leaves through the collector port
	before=$(rx_packets c0p)
	sleep 2
	expect_rx c0p "$before" 0
}

@test "ifdown of the source stops the mirror; ifdown of the bridge removes it" {
	state0=$(tc_state)
	ifupdown ifup br-mirror
	ifupdown ifup s0
	mirror_works
	run ifupdown ifdown s0
	assert_success
	run ifm status s0
	assert_output ""
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
	run ifupdown ifdown br-mirror
	assert_success
	run nsx ip link show br-mirror
	assert_failure
	run nsx ip link show br-mirror-sink
	assert_failure
	run nsx ip -o link show c0
	assert_success
	refute_output --partial master
	# ifdown again, with everything already gone, still succeeds
	run ifupdown ifdown --force s0
	assert_success
	run ifupdown ifdown --force br-mirror
	assert_success
}

@test "ifdown and ifup of the bridge alone: the source's session comes back" {
	ifupdown ifup br-mirror
	ifupdown ifup s0
	ifupdown ifdown br-mirror
	run ifm status s0
	assert_output --partial "gone"
	run ifupdown ifup br-mirror
	assert_success
	mirror_works
	run ifm status s0
	refute_output --partial gone
}

@test "failover: carrier loss, port down, port deleted and re-created; no source frame lost" {
	ifupdown ifup br-mirror
	ifupdown ifup s0
	mirror_works

	# each failure: the source sends and receives every frame
	source_keeps_frames() {
		local bs bp
		bs=$(rx_packets s0)
		bp=$(rx_packets s0p)
		send_in s0 500
		send_out s0 500
		expect_rx s0 "$bs" 500
		expect_rx s0p "$bp" 500
	}

	nsx ip link set c0p down          # the collector's cable is pulled
	source_keeps_frames
	run ifm status
	assert_line --regexp '^collector br-mirror \(up\) .* port c0 \(no-carrier\)$'
	assert_line --regexp '^s0 ingress -> br-mirror \(up\)'   # the target stays up
	nsx ip link set c0p up
	port_forwarding c0
	mirror_works

	nsx ip link set c0 down           # the port is set down
	source_keeps_frames
	run ifm status
	assert_line --regexp 'port c0 \(down\)$'
	nsx ip link set c0 up
	port_forwarding c0
	mirror_works

	nsx ip link del c0                # unplugged: a new ifindex when it returns
	source_keeps_frames
	run ifm status
	assert_line --regexp 'port c0 \(missing\)$'
	nsx ip link add c0 type veth peer name c0p
	nsx ip link set c0p up
	run ifm status
	assert_line --regexp 'port c0 \(down, detached\)$'
	run ifupdown ifup c0              # what hotplug runs
	assert_success
	run ifm status
	assert_line --regexp 'port c0 \(up\)$'
	port_forwarding c0
	mirror_works
}

@test "a mirrored IGMP query and join, then group traffic: all of it reaches the collector" {
	ifupdown ifup br-mirror
	ifupdown ifup s0
	QUERY=46c000200000000001028215c0000201e0000001940400001164ee9b00000000
	JOIN=46c00020000000000102720bc000020aef010101940400001600f9fcef010101
	DATA=45c0005800000000041103c9c000020aef01010113881389004400006d6972726f726d6972726f726d6972726f726d6972726f726d6972726f726d6972726f726d6972726f726d6972726f726d6972726f726d6972726f72
	before=$(rx_packets c0p)
	send_in s0 1 --type 0x0800 --dst 01:00:5e:00:00:01 --hex $QUERY
	send_out s0 1 --type 0x0800 --dst 01:00:5e:01:01:01 --hex $JOIN
	sleep 0.2
	send_out s0 200 --type 0x0800 --dst 01:00:5e:01:01:01 --hex $DATA
	send_in s0 200 --type 0x0800 --dst 01:00:5e:01:01:01 --hex $DATA
	expect_rx c0p "$before" 402
}

@test "the dummy sink where the kernel has dummy, else ifb with a notice" {
	if kernel_has dummy; then
		run ifm collector up brx --port c0
		assert_success
		assert_output --partial "collector bridge created (sink brx-sink, dummy)"
		refute_output --partial notice
		run nsx ip -d link show brx-sink
		assert_output --partial dummy
		ifm collector down brx -q
		export IFMIRROR_AVOID=dummy   # the ifb path on this kernel too
	fi
	run ifm collector up brx --port c0
	assert_success
	assert_output --partial "notice: the kernel has no dummy device; the sink brx-sink is an ifb device instead"
	run nsx ip -d link show brx-sink
	assert_output --partial ifb
	run ifm status
	assert_line --regexp '^collector brx \(up\) sink brx-sink ifb \(up\) port c0 \(up\)$'
}

# bats test_tags=kernel-neutral
@test "hooks do nothing for lo, the --all pass and stanzas without mirror options" {
	for phase in pre-up up down post-down; do
		run nsx env -i IFACE=lo ADDRFAM=inet MODE=start "$IFM" ifupdown-hook $phase
		assert_success
		assert_output ""
		run nsx env -i IFACE=s0 ADDRFAM=meta IF_MIRROR_TO=br-mirror "$IFM" ifupdown-hook $phase
		assert_success
		assert_output ""
	done
	state=$(tc_state)
	cat >"$IFILE" <<-EOT
	auto lo
	iface lo inet loopback
	auto s0
	iface s0 inet manual
	EOT
	run ifupdown ifup -a
	assert_success
	run ifupdown ifdown -a
	assert_success
	nsx ip link set lo up   # ifdown -a took lo down: ifupdown's doing, not ours
	assert_equal "$(tc_state)" "$state"
	run nsx ls /sys/class/net
	refute_output --partial br-
}

@test "inet and inet6 stanzas: the hook runs twice, one copy per frame" {
	nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
	cat >>"$IFILE" <<-EOT
	iface s0 inet6 manual
	    mirror-to br-mirror
	EOT
	run ifupdown ifup br-mirror
	assert_success
	run ifupdown ifup s0
	assert_success
	nsx sysctl -qw net.ipv6.conf.s0.disable_ipv6=1 net.ipv6.conf.s0p.disable_ipv6=1
	mirror_works
	run ifm status s0
	assert_equal "${#lines[@]}" 2
}

# bats test_tags=kernel-neutral
@test "VERBOSITY: quiet by default, says what it does with ifup -v" {
	run ifupdown ifup br-mirror
	assert_success
	refute_output --partial "br-mirror:"
	run ifupdown ifup -v s0
	assert_success
	assert_output --partial "s0: ingress mirror to br-mirror added"
}

# bats test_tags=kernel-neutral
@test "a bad option value fails ifup, naming interface, option and reason" {
	sed -i 's/mirror-direction both/mirror-direction sideways/' "$IFILE"
	state=$(tc_state)
	run ifupdown ifup s0
	assert_failure
	assert_output --partial "ifmirror: s0: mirror-direction 'sideways': not ingress, egress or both"
	assert_equal "$(tc_state)" "$state"
	sed -i 's/mirror-direction sideways/mirror-direction both/; s/mirror-to br-mirror/mirror-to bad\/name/' "$IFILE"
	run ifupdown ifup s0
	assert_failure
	assert_output --partial "ifmirror: s0: mirror-to 'bad/name': interface name contains"
	sed -i 's/mirror-collector c0/mirror-collector br-mirror/' "$IFILE"
	run ifupdown ifup br-mirror
	assert_failure
	assert_output --partial "ifmirror: br-mirror: mirror-collector 'br-mirror': that is the interface itself"
}

@test "ifdown with a bad or unknown mirror option warns and still removes ifmirror's own" {
	ifupdown ifup br-mirror
	ifupdown ifup s0
	mirror_works
	# a bad value next to a good mirror-to: the sessions to it go
	sed -i 's/mirror-direction both/mirror-direction sideways/' "$IFILE"
	run ifupdown ifdown s0
	assert_success
	assert_output --partial "ifmirror: warning: s0: mirror-direction 'sideways': not ingress, egress or both"
	assert_output --partial "ifmirror: warning: s0: removing its sessions to br-mirror all the same"
	run ifm status s0
	assert_output ""
	# mirror-to itself mistyped: every ifmirror session on s0 goes
	sed -i 's/mirror-direction sideways/mirror-direction both/' "$IFILE"
	ifupdown ifup s0
	mirror_works
	sed -i 's/mirror-to br-mirror/mirror-too br-mirror/' "$IFILE"
	run ifupdown ifdown s0
	assert_success
	assert_output --partial "ifmirror: warning: s0: unknown option mirror-too ignored"
	assert_output --partial "removing every ifmirror session on s0 all the same"
	run ifm status s0
	assert_output ""
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
	# the collector stanza with a bad value: its bridge goes at ifdown all the same
	sed -i 's/    mirror-collector c0/    mirror-collector c0\n    mirror-snaplen lots/' "$IFILE"
	run ifupdown ifdown br-mirror
	assert_success
	assert_output --partial "ifmirror: warning: br-mirror: mirror-snaplen 'lots'"
	run nsx ip link show br-mirror
	assert_failure
	run nsx ip -o link show c0
	refute_output --partial master
}

@test "the explicit post-up / pre-down lines keep working" {
	cat >"$IFILE" <<-EOT
	iface s0 inet static
	    address 192.0.2.10/24
	    post-up $IFM up s0 --to c0 -q
	    pre-down $IFM down s0 -q
	EOT
	run ifupdown ifup s0
	assert_success
	mirror_works
	run ifupdown ifdown s0
	assert_success
	run ifm status s0
	assert_output ""
}
