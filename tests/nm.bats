#!/usr/bin/env bats
# NetworkManager integration (ifmirror-nm), against a real NetworkManager and
# D-Bus system bus started in a network namespace with a private mount
# namespace (tests/nm-helpers.bash). Mirrors are judged by frames counted at
# the collector's peer. One NetworkManager serves the whole file; every test
# uses interfaces of its own and leaves no profiles behind. Few, grouped
# tests: on the stock-kernel lane every process start is slow.

load helpers
load nm-helpers

setup_file() { nm_lab_up; }

teardown_file() { nm_lab_down; }

setup() { nm_setup; }

teardown() { nm_reset; }

N=100
AUTO_WHY="auto never chooses native mode, with which NetworkManager fails the connection's whole activation while the destination is missing (--mode native asks for it)"

# mirrored N frames in and N out of SOURCE arrive at PEER: WANT of them
mirrors() {
	local src=$1 peer=$2 want=$3 before
	before=$(rx_packets "$peer")
	send_in "$src" $N
	send_out "$src" $N
	expect_rx "$peer" "$before" "$want"
}

# bats test_tags=kernel-neutral
@test "bad inputs: one clear line each, nothing changed; auto mode says which mode and why" {
	veth s0 d0 d9
	nm_profile s0
	before=$(nm_state)

	run ifmnm
	assert_failure 2
	run ifmnm --version
	assert_success
	assert_output --regexp '^ifmirror-nm [0-9]+\.[0-9]+\.[0-9]+$'
	run ifmnm profile nosuch --to d0 --commit
	assert_failure 1
	assert_output "ifmirror-nm: nosuch: no such connection profile in NetworkManager"
	run ifmnm profile s0 --to s0 --commit
	assert_failure 2
	assert_output "ifmirror-nm: s0: --to s0: that is the connection's own interface; a mirror needs another destination"
	run ifmnm profile s0 --to d0 --mode fast --commit
	assert_failure 2
	assert_output "ifmirror-nm: profile: --mode 'fast': not native, dispatcher or auto"
	run ifmnm profile s0 --to 'd0/x' --commit
	assert_failure 2
	assert_output "ifmirror-nm: profile: --to 'd0/x': interface name contains '/', ':' or white space"
	run ifmnm collector br0 --commit
	assert_failure 2
	assert_output "ifmirror-nm: collector: needs --port IFACE"
	# NetworkManager not running: no system bus at all, then a bus without it
	run nmx env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$NMDIR/nobus" "$NMBIN" profile s0 --to d0 --commit
	assert_failure 1
	assert_output --regexp '^ifmirror-nm: NetworkManager: not running \(cannot reach the system D-Bus: .*\)$'
	nmx dbus-daemon --config-file=/usr/share/dbus-1/session.conf \
		--address="unix:path=$NMDIR/emptybus" --nofork --nopidfile </dev/null >/dev/null 2>&1 3>&- &
	bus=$!
	eventually 20 test -S "$NMDIR/emptybus"
	run nmx env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$NMDIR/emptybus" "$NMBIN" profile s0 --to d0 --commit
	kill "$bus"
	wait "$bus" || true
	assert_failure 1
	assert_output "ifmirror-nm: NetworkManager: not running (it is not on the system D-Bus)"
	# native where this host cannot carry it: refused for this host
	if ! kernel_has matchall; then
		run ifmnm profile s0 --to d0 --mode native --commit
		assert_failure 1
		assert_output "ifmirror-nm: s0: native mode: the kernel has no matchall classifier (cls_matchall), the only one NetworkManager's tc setting can use; NetworkManager would fail the activation (use --mode dispatcher here; --print and --keyfile make profiles for other hosts)"
	fi
	assert_equal "$(nm_state)" "$before"

	# auto: always the dispatcher (--print, the default: the first line says why)
	run ifmnm profile s0 --to d0
	assert_success
	assert_line "# s0: dispatcher mode: $AUTO_WHY"
	refute_output --partial tc.tfilters
	run ifmnm profile s0 --to d0 --commit
	assert_success
	assert_line "s0: dispatcher mode: $AUTO_WHY"
	# two destinations
	run ifmnm profile s0 --to d9
	assert_success
	assert_line "# s0: dispatcher mode: $AUTO_WHY"
	# native, asked for, with two: NetworkManager keeps one filter per hook
	run ifmnm profile s0 --to d9 --mode native
	assert_failure 1
	assert_output "ifmirror-nm: s0: native mode: 2 destinations: NetworkManager's tc setting keeps one filter per hook, so it can carry one"
}

@test "dispatcher mode: nmcli up mirrors, a reapplied change takes effect, nmcli down removes it" {
	veth s1 d1
	nm_profile s1
	run ifmnm profile s1 --to d1 --mode dispatcher --commit
	assert_success
	assert_line "s1: dispatcher mode: as asked"
	assert_line "s1: mirror to d1 (both, dispatcher mode) saved in the profile"
	# read back: no tc setting (NetworkManager leaves tc alone), the session as user data
	run nmcli -g tc.qdiscs,tc.tfilters connection show s1
	assert_output ""
	run keyfile_user s1
	assert_output "$(printf '[user]\nifmirror.direction=both\nifmirror.to=d1')"
	mirrors s1 d1p 0

	run nmcli connection up s1
	assert_success
	eventually 30 has_sessions s1 2
	mirrors s1 d1p $((2 * N))

	# user data is reapplied live, and the dispatcher's reapply changes the session
	run ifmnm profile s1 --to d1 --direction egress --commit
	assert_success
	assert_line "s1: reapplied on s1 (the dispatcher changes the mirror now)"
	eventually 30 has_sessions s1 1
	run ifm status s1
	assert_output --regexp '^s1 egress -> d1 \(up\)'
	mirrors s1 d1p $N

	run nmcli connection down s1
	assert_success
	eventually 30 has_sessions s1 0
	mirrors s1 d1p 0
	run nsx tc qdisc show dev s1
	refute_output --partial clsact

	# NetworkManager >= 1.46 passes the user data itself (CONNECTION_USER_*);
	# down removes what up applied (recorded), whatever the profile says then
	uuid=$(nmcli -g connection.uuid connection show s1)
	run nmx env CONNECTION_UUID=$uuid DEVICE_IFACE=s1 CONNECTION_USER_IFMIRROR__TO=d1 \
		CONNECTION_USER_IFMIRROR__DIRECTION=ingress "$NMBIN" dispatch s1 up
	assert_success
	assert_output --partial "s1: ingress mirror to d1 added"
	assert_equal "$(sessions s1)" 1
	run nmx env CONNECTION_UUID=$uuid DEVICE_IFACE=s1 CONNECTION_USER_IFMIRROR__TO=d1 \
		"$NMBIN" dispatch s1 dhcp4-change
	assert_success
	assert_output ""
	run nmx env CONNECTION_UUID=$uuid DEVICE_IFACE=s1 "$NMBIN" dispatch s1 pre-down
	assert_success
	assert_equal "$(sessions s1)" 0
}

@test "collector profiles; the destination activated after the source ends in a working mirror" {
	veth s2 c2
	nm_profile s2
	run ifmnm collector br-m2 --port c2 --commit
	assert_success
	assert_line "br-m2: bridge profile added"
	assert_line "br-m2-port-c2: port profile added"
	if kernel_has dummy; then
		assert_line "br-m2: the sink br-m2-sink is a dummy profile"
		assert_line "br-m2-sink: sink profile added"
	else
		assert_line --partial "br-m2: the sink br-m2-sink is an ifb device the dispatcher adds when the bridge comes up"
	fi
	run nmcli -g bridge.stp,bridge.multicast-snooping,ipv4.method,ipv6.method connection show br-m2
	assert_output "$(printf 'no\nno\ndisabled\ndisabled')"
	run nmcli -g connection.master,connection.slave-type connection show br-m2-port-c2
	assert_output "$(printf 'br-m2\nbridge')"
	# the bridge autoconnects; down again, for the order under test
	eventually 30 nsx ip link show br-m2
	nmcli connection down br-m2 >/dev/null
	eventually 30 bash -c "! ip netns exec $NS ip link show br-m2"

	run ifmnm profile s2 --to br-m2 --mode dispatcher --commit
	assert_success
	nmcli connection up s2 >/dev/null
	eventually 30 nmx sh -c 'ls /run/ifmirror/pending | grep -q ":s2:br-m2$"'
	assert_equal "$(sessions s2)" 0
	# the destination comes up after the source: the waiting session is applied
	nmcli connection up br-m2 >/dev/null
	eventually 30 has_sessions s2 2
	eventually 30 nmx sh -c "$IFM status | grep -q '^collector br-m2 (up) sink br-m2-sink [a-z]* (up) port c2 (up)$'"
	port_forwarding c2
	mirrors s2 c2p $((2 * N))
	# what NetworkManager has no setting for, the dispatcher did
	run nsx ip -d link show c2
	assert_output --partial "learning off"

	# the destination re-created (a new ifindex): the dispatcher re-points the session
	nmcli connection down br-m2 >/dev/null
	eventually 30 bash -c "! ip netns exec $NS ip link show br-m2"
	nmcli connection up br-m2 >/dev/null
	eventually 30 nmx sh -c "$IFM status | grep -q 'port c2 (up)$' && $IFM status s2 | grep -c '> br-m2 (up)' | grep -qx 2"
	port_forwarding c2
	mirrors s2 c2p $((2 * N))

	# the user's own port profiles of the bridge: one private to users, one of another name
	nmcli connection add type ethernet ifname x2 con-name x2-mine master br-m2 slave-type bridge \
		autoconnect no connection.permissions user:root >/dev/null
	nmcli connection add type ethernet ifname y2 con-name y2-mine master br-m2 slave-type bridge \
		autoconnect no >/dev/null
	run ifmnm collector br-m2 --remove --commit
	assert_success
	assert_line "br-m2: bridge profile deleted"
	assert_line "br-m2-port-c2: port profile deleted"
	if kernel_has dummy; then
		assert_line "br-m2-sink: sink profile deleted"
	fi
	refute_output --partial "y2-mine"
	refute_output --partial "x2-mine"
	run nmcli -g NAME connection show
	assert_line x2-mine
	assert_line y2-mine
	refute_line br-m2-port-c2
	nmcli connection delete x2-mine y2-mine >/dev/null
}

@test "native mode: NetworkManager's own tc setting mirrors when activated" {
	require_kernel matchall "NetworkManager's native mirror is a matchall filter"
	veth s5 d5
	nm_profile s5
	orig=$(keyfile s5)
	run ifmnm profile s5 --to d5 --mode native --commit
	assert_success
	assert_line "s5: native mode: as asked"
	assert_line "s5: mirror to d5 (both, native mode) saved in the profile"
	run nmcli -g tc.qdiscs,tc.tfilters connection show s5
	assert_output "$(printf '%s\n%s' clsact 'parent ffff\:fff2 matchall action mirred dev d5 egress mirror, parent ffff\:fff3 matchall action mirred dev d5 egress mirror')"
	run keyfile_user s5
	assert_output "$(printf '[user]\nifmirror.direction=both\nifmirror.mode=native\nifmirror.native=setting\nifmirror.to=d5')"

	run nmcli connection up s5
	assert_success
	mirrors s5 d5p $((2 * N))
	# NetworkManager's filters, not the dispatcher's sessions
	assert_equal "$(sessions s5)" 0
	run nmcli connection down s5
	assert_success
	mirrors s5 d5p 0

	# as it was (but for the activation time NetworkManager now keeps in it)
	run ifmnm profile s5 --remove --commit
	assert_success
	assert_equal "$(keyfile s5 | grep -v '^timestamp=')" "$orig"
}

# bats test_tags=kernel-neutral
@test "--keyfile output loads into NetworkManager and reads back unchanged; --remove restores the profile" {
	veth s4 d4
	# a profile with a tc setting of its own, which native mode keeps
	nm_profile s4 tc.qdiscs 'root handle 10: tbf rate 1000000 burst 5000 limit 10000'
	orig=$(keyfile s4)
	tbf='root handle 10\: tbf burst 5000 limit 10000 rate 1000000'
	kf=/etc/NetworkManager/system-connections/s4.nmconnection
	for mode in native dispatcher; do
		run ifmnm profile s4 --to d4 --mode $mode --keyfile "$NMDIR/s4-$mode"
		assert_success
		assert_line "s4: keyfile written to $NMDIR/s4-$mode (NetworkManager loads it from /etc/NetworkManager/system-connections/ with 'nmcli connection load FILE')"
		nmx sh -c "stat -c %a '$NMDIR/s4-$mode' | grep -qx 600 && cp '$NMDIR/s4-$mode' $kf && nmcli connection load $kf"
		run nmcli -g tc.qdiscs,tc.tfilters connection show s4
		if [[ $mode == native ]]; then
			assert_output "$(printf '%s\n%s' "$tbf, clsact" 'parent ffff\:fff2 matchall action mirred dev d4 egress mirror, parent ffff\:fff3 matchall action mirred dev d4 egress mirror')"
		else
			assert_output "$tbf"
		fi
		# what NetworkManager read back makes the same keyfile, and nothing to change
		run ifmnm profile s4 --to d4 --mode $mode --keyfile "$NMDIR/s4-$mode-again"
		assert_success
		run cmp "$NMDIR/s4-$mode" "$NMDIR/s4-$mode-again"
		assert_success
		run ifmnm profile s4 --to d4 --mode $mode
		assert_success
		assert_line "# s4: unchanged"
	done
	run keyfile_user s4
	assert_output "$(printf '[user]\nifmirror.direction=both\nifmirror.to=d4')"

	# --remove: exactly what was there before, in NetworkManager and on disk
	run ifmnm profile s4 --remove --commit
	assert_success
	assert_line "s4: mirror removed from the profile"
	assert_equal "$(keyfile s4)" "$orig"
	# a native keyfile on standard output, straight into NetworkManager, and out again
	nmx sh -c "$NMBIN profile s4 --to d4 --mode native --keyfile - 2>/dev/null >$kf && nmcli connection load $kf"
	run keyfile_user s4
	assert_line "ifmirror.native=qdisc"
	run ifmnm profile s4 --remove --commit
	assert_success
	assert_equal "$(keyfile s4)" "$orig"
	run nmcli -g tc.qdiscs,tc.tfilters connection show s4
	assert_output "$tbf"
}

@test "auto mode is the dispatcher: a destination missing at activation leaves the source up, and a re-created one is mirrored (issue 12)" {
	veth s7 d7
	nm_profile s7
	nm_profile d7
	# the destination exists now, and native would work on this kernel now
	run ifmnm profile s7 --to d7 --commit
	assert_success
	assert_line "s7: dispatcher mode: $AUTO_WHY"
	run nmcli -g tc.qdiscs,tc.tfilters connection show s7
	assert_output ""
	# later the destination is missing when the source activates
	nsx ip link del d7
	run nmcli connection up s7
	assert_success
	run nmcli -g GENERAL.STATE connection show s7
	assert_output activated
	eventually 30 nmx sh -c 'ls /run/ifmirror/pending | grep -q ":s7:d7$"'
	# re-created (and activated by its profile): mirrored without reactivating the source
	veth d7
	nmcli connection up d7 >/dev/null
	eventually 30 has_sessions s7 2
	mirrors s7 d7p $((2 * N))
	nmcli connection down s7 >/dev/null
	eventually 30 has_sessions s7 0
}

@test "dispatcher: ifmirror.match and ifmirror.sample reach the session; bad values mirror nothing (issue 12)" {
	veth s8 d8
	nm_profile s8
	uuid=$(nmcli -g connection.uuid connection show s8)
	# NetworkManager 1.42: the dispatcher reads them from the keyfile
	run ifmnm profile s8 --to d8 --direction ingress --match arp --sample 2 --commit
	assert_success
	nmcli connection up s8 >/dev/null
	eventually 30 has_sessions s8 1
	run ifm status s8
	assert_output --partial "match 'arp'"
	assert_output --partial "sample 1/2"
	nmcli connection down s8 >/dev/null
	eventually 30 has_sessions s8 0
	run ifmnm profile s8 --to d8 --direction ingress --match arp --commit
	assert_success
	nmcli connection up s8 >/dev/null
	eventually 30 has_sessions s8 1
	before=$(rx_packets d8p)
	send_in s8 $N
	send_in s8 $N --type 0x0806
	expect_rx d8p "$before" $N
	nmcli connection down s8 >/dev/null
	eventually 30 has_sessions s8 0

	# NetworkManager >= 1.46 passes them in the environment; a bad one: one line, no mirror
	for bad in SAMPLE=0 SAMPLE=x MATCH='udp port'; do
		run nmx env CONNECTION_UUID=$uuid DEVICE_IFACE=s8 CONNECTION_USER_IFMIRROR__TO=d8 \
			"CONNECTION_USER_IFMIRROR__$bad" "$NMBIN" dispatch s8 up
		assert_success
		assert_line "ifmirror-nm: s8: the profile's ifmirror data has errors: no mirror applied"
		assert_equal "${#lines[@]}" 2
		assert_equal "$(sessions s8)" 0
		run nmx ls /run/ifmirror/pending
		refute_output --partial ":s8:"
	done
}

# bats test_tags=kernel-neutral
@test "dispatcher: a symlink planted under /run/ifmirror/nm is not followed (issue 12)" {
	veth s3 d3
	nm_profile s3
	uuid=$(nmcli -g connection.uuid connection show s3)
	nmx sh -c "mkdir -p -m 0755 /run/ifmirror/nm && echo keep >$NMDIR/victim &&
		ln -sf $NMDIR/victim /run/ifmirror/nm/$uuid.tmp"
	dispatch() {
		nmx env CONNECTION_UUID="$uuid" DEVICE_IFACE=s3 CONNECTION_USER_IFMIRROR__TO=d3 \
			CONNECTION_USER_IFMIRROR__DIRECTION=ingress "$NMBIN" dispatch s3 "$@"
	}
	# the record is not written through the link: the file it names keeps its content
	run dispatch up
	assert_success
	assert_equal "$(sessions s3)" 1
	assert_equal "$(nmx cat "$NMDIR/victim")" "keep"
	run nmx test -L /run/ifmirror/nm/$uuid.tmp
	assert_success
	run dispatch pre-down
	assert_equal "$(sessions s3)" 0
	# a record that is a symlink is not read: the file it names says s3 -> d3
	nmx sh -c "rm /run/ifmirror/nm/$uuid.tmp && printf 'source s3\ndest d3\n' >$NMDIR/victim &&
		ln -sf $NMDIR/victim /run/ifmirror/nm/$uuid"
	nmx "$IFM" up s3 --to d3 --direction ingress -q
	run nmx env CONNECTION_UUID="$uuid" DEVICE_IFACE=s3 "$NMBIN" dispatch s3 pre-down
	assert_success
	assert_equal "$(sessions s3)" 1
	assert_equal "$(nmx cat "$NMDIR/victim")" "$(printf 'source s3\ndest d3')"
	nmx "$IFM" down s3 -q
	nmx rm -f /run/ifmirror/nm/$uuid
}

# bats test_tags=kernel-neutral
@test "trust: ifmirror data of a profile users may edit, or stored where others write, is ignored (issue 12)" {
	veth s6 d6
	nm_profile s6 connection.permissions user:root
	kf=/etc/NetworkManager/system-connections/s6.nmconnection
	nmx sh -c "printf '\n[user]\nifmirror.to=d6\n' >>$kf && nmcli connection load $kf"
	uuid=$(nmcli -g connection.uuid connection show s6)
	dispatch() {
		nmx env CONNECTION_UUID="$uuid" CONNECTION_ID=s6 DEVICE_IFACE=s6 "$@" "$NMBIN" dispatch s6 up
	}
	private="ifmirror-nm: s6: profile 's6': its ifmirror data is ignored: it is private to users (connection.permissions), who may edit it"
	# ifmirror-nm writes no mirror into it
	run ifmnm profile s6 --to d6 --commit
	assert_failure 1
	assert_output "ifmirror-nm: s6: the profile is private to users (connection.permissions), who may edit it: the dispatcher would ignore a mirror in it"
	# the dispatcher: from the keyfile (1.42), over D-Bus, from the environment (1.46)
	run dispatch CONNECTION_FILENAME=$kf
	assert_success
	assert_output "$private"
	run dispatch
	assert_output "$private"
	run dispatch CONNECTION_FILENAME=$kf CONNECTION_USER_IFMIRROR__TO=d6
	assert_output "$private"
	run dispatch CONNECTION_USER_IFMIRROR__COLLECTOR=d6
	assert_output "$private"
	assert_equal "$(sessions s6)" 0
	run nsx ip -d link show d6
	refute_output --partial master
	# a real activation by NetworkManager: nothing either
	run nmcli connection up s6
	assert_success
	sleep 2
	assert_equal "$(sessions s6)" 0
	nmcli connection down s6 >/dev/null

	# a private bridge profile that names the uplink as a collector port
	nmcli connection add type bridge ifname br-m6 con-name br-m6 autoconnect no ipv4.method disabled \
		ipv6.method disabled connection.permissions user:root >/dev/null
	bkf=/etc/NetworkManager/system-connections/br-m6.nmconnection
	nmx sh -c "printf '\n[user]\nifmirror.collector=d6\n' >>$bkf && nmcli connection load $bkf"
	run ifmnm collector br-m6 --port d6 --commit
	assert_failure 1
	assert_output "ifmirror-nm: br-m6: the profile is private to users (connection.permissions), who may edit it: the dispatcher would ignore a collector in it; not touching it"
	nmcli connection up br-m6 >/dev/null
	buuid=$(nmcli -g connection.uuid connection show br-m6)
	run nmx env CONNECTION_UUID="$buuid" CONNECTION_ID=br-m6 CONNECTION_FILENAME=$bkf DEVICE_IFACE=br-m6 \
		"$NMBIN" dispatch br-m6 up
	assert_success
	assert_output "ifmirror-nm: br-m6: profile 'br-m6': its ifmirror data is ignored: it is private to users (connection.permissions), who may edit it"
	run nsx ip -d link show d6
	refute_output --partial "master br-m6"
	nmcli connection down br-m6 >/dev/null

	# without permissions it is root's: mirrored
	nmcli connection modify s6 connection.permissions ''
	run dispatch CONNECTION_FILENAME=$kf
	assert_success
	assert_line --partial "s6: ingress mirror to d6 added"
	assert_equal "$(sessions s6)" 2
	nmx env CONNECTION_UUID="$uuid" DEVICE_IFACE=s6 "$NMBIN" dispatch s6 down
	assert_equal "$(sessions s6)" 0
	# but not from a file another user owns, a link, or a directory others write
	nmx sh -c "mkdir -m 0755 $NMDIR/kf $NMDIR/kfw && chmod 0777 $NMDIR/kfw &&
		install -m 0600 -o nobody $kf $NMDIR/kf/user.nmconnection &&
		install -m 0600 $kf $NMDIR/kfw/s6.nmconnection &&
		install -m 0620 $kf $NMDIR/kf/group.nmconnection &&
		ln -s $kf $NMDIR/kf/link.nmconnection"
	run dispatch CONNECTION_FILENAME=$NMDIR/kf/user.nmconnection
	assert_output "ifmirror-nm: s6: profile 's6': its ifmirror data is ignored: its file is owned by uid $(id -u nobody), not root"
	run dispatch CONNECTION_FILENAME=$NMDIR/kf/group.nmconnection
	assert_output "ifmirror-nm: s6: profile 's6': its ifmirror data is ignored: its file is writable by its group"
	run dispatch CONNECTION_FILENAME=$NMDIR/kf/link.nmconnection
	assert_output "ifmirror-nm: s6: profile 's6': its ifmirror data is ignored: its file $NMDIR/kf/link.nmconnection: is a symbolic link"
	run dispatch CONNECTION_FILENAME=$NMDIR/kfw/s6.nmconnection
	assert_output "ifmirror-nm: s6: profile 's6': its ifmirror data is ignored: its directory is writable by others"
	assert_equal "$(sessions s6)" 0
}
