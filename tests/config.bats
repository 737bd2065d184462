#!/usr/bin/env bats
# /etc/ifmirror.conf: apply converges, changes nothing twice, touches nothing
# foreign; broken files are refused with file and line; flush.

load helpers

setup() {
	lab_up
	veth s0 s1 d0 c0 u0
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	# the user's own tc state on s1, which must survive everything
	nsx tc qdisc add dev s1 root handle 1: htb default 1
	nsx tc qdisc add dev s1 clsact
	nsx tc filter add dev s1 ingress pref 500 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev u0
}

teardown() { lab_down; }

conf() { cat >"$CONF"; chmod 0644 "$CONF"; }

apply() { ifm apply --config "$CONF" "$@"; }

sessions() {
	ifm status --json | jq -r '.sessions | map("\(.source) \(.direction) \(.destination)") | sort | .[]'
}

@test "apply creates, a second run changes nothing, changes converge, foreign state survives" {
	conf <<-EOT
	# mirror two sources into a collector bridge
	[collector brm]
	ports = c0

	[session web]
	source = s0 s1
	to = brm

	[session dns]
	source = s0
	to = d0
	direction = ingress
	match = udp port 53
	EOT
	run apply --dry-run
	assert_success
	assert_output --partial "would create: collector brm"
	assert_output --partial "would add: s0 both mirror to brm"
	run sessions
	assert_output ""
	run nsx ip link show brm
	assert_failure

	run apply
	assert_success
	assert_output --partial "3 added, 0 changed, 0 removed"
	run sessions
	assert_output "$(printf '%s\n' 's0 egress brm' 's0 ingress brm' 's0 ingress d0' 's1 egress brm' 's1 ingress brm')"
	state=$(tc_state)
	before=$(rx_packets c0p)
	send_in s1 50
	send_out s0 50
	expect_rx c0p "$before" 100

	run apply
	assert_success
	assert_output "$CONF: 3 sessions, nothing to change"
	assert_equal "$(tc_state)" "$state"

	# remove a session, change a direction, add a collector
	conf <<-EOT
	[collector brm]
	ports = c0
	[collector brn]
	ports = d0
	[session web]
	source = s0
	to = brm
	direction = egress
	[session dns]
	source = s0
	to = d0
	direction = ingress
	match = udp port 53
	EOT
	run apply --dry-run
	assert_success
	assert_output --partial "would remove: s1 ingress mirror to brm"
	assert_equal "$(tc_state)" "$state"
	run apply
	assert_success
	assert_output --partial "s1: ingress mirror to brm removed (not in $CONF)"
	assert_output --partial "brn: collector bridge created"
	run sessions
	assert_output "$(printf '%s\n' 's0 egress brm' 's0 ingress d0')"
	run apply
	assert_output --partial "nothing to change"
	# the user's htb, clsact and filter on s1 are all still there, and work
	run nsx tc qdisc show dev s1
	assert_output --partial "qdisc htb 1: root"
	assert_output --partial "qdisc clsact ffff:"
	run nsx tc filter show dev s1 ingress
	assert_output --partial "pref 500 u32"
	bu=$(rx_packets u0p)
	send_in s1 30
	expect_rx u0p "$bu" 30
}

@test "apply leaves sessions it did not make alone, and takes over those the file names" {
	ifm up s1 --to d0 -q          # by hand: not the file's
	ifm up s0 --to d0 -q          # by hand, and named in the file
	conf <<-EOT
	[session a]
	source = s0
	to = d0
	EOT
	run apply
	assert_success
	assert_output --partial "taken over by the config file"
	conf <<-EOT
	EOT
	run apply
	assert_success
	assert_output --partial "s0: ingress mirror to d0 removed"
	run sessions
	assert_output "$(printf '%s\n' 's1 egress d0' 's1 ingress d0')"
}

@test "flush removes everything ifmirror made and nothing else" {
	conf <<-EOT
	[collector brm]
	ports = c0
	snaplen = 100
	[session web]
	source = s0 s1
	to = brm
	EOT
	apply -q
	ifm up s1 --to d0 -q
	ifm up nosuch --to d0 --defer -q
	run ifm flush
	assert_success
	run sessions
	assert_output ""
	run nsx ip link show brm
	assert_failure
	run ls "$IFMIRROR_RUN_DIR/pending"
	assert_output ""
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
	run nsx tc filter show dev s1 ingress
	assert_output --partial "pref 500 u32"
	run ifm flush
	assert_success
	assert_output "nothing to flush"
}

@test "apply that fails at a collector removes the tunnel and collector it made before, changes nothing" {
	nsx ip link add ubr type bridge
	nsx ip link set c0 master ubr
	STATE=$(tc_state)
	conf <<-EOT
	[tunnel vx1]
	type = vxlan
	remote = 10.9.0.2
	vni = 42
	dev = u0

	[collector brm]
	ports = d0

	[collector brn]
	ports = c0

	[session a]
	source = s0
	to = brn
	EOT
	run apply
	assert_failure 1
	assert_output --partial "c0: already a port of ubr"
	assert_output --partial "collector brm, created by this apply, removed again"
	assert_output --partial "tunnel vx1, created by this apply, removed again"
	run nsx ip link show vx1
	assert_failure
	run nsx ip link show brm
	assert_failure
	assert_equal "$(tc_state)" "$STATE"
	# a tunnel that was there before the apply stays
	printf '[tunnel vx1]\ntype = vxlan\nremote = 10.9.0.2\nvni = 42\ndev = u0\n' | conf
	apply -q
	printf '[tunnel vx1]\ntype = vxlan\nremote = 10.9.0.2\nvni = 42\ndev = u0\n[collector brn]\nports = c0\n' | conf
	run apply
	assert_failure 1
	refute_output --partial "removed again"
	nsx ip link show vx1
}

# broken FILE-CONTENT LINE MESSAGE: refused with FILE:LINE: MESSAGE, exit 1,
# the kernel untouched
broken() {
	local line=$1 msg=$2
	run apply
	assert_failure 1
	assert_output --partial "ifmirror: $CONF:$line: $msg"
	assert_equal "$(tc_state)" "$STATE"
}

# bats test_tags=kernel-neutral
@test "broken config files: each names file and line, nothing is applied" {
	STATE=$(tc_state)
	printf '[session a]\nsource = s0\nto = d0\ndrection = both\n' | conf
	broken 4 "unknown key 'drection' in [session a]"
	printf '[session a]\nsource = s0\nto = d0\n[session a]\nsource = s1\nto = d0\n' | conf
	broken 4 "duplicate section name 'a' (first at line 1)"
	printf '[session a]\nsource = s0\nto = d0\ndirection = sideways\n' | conf
	broken 4 "direction 'sideways': not ingress, egress or both"
	printf '[session a]\nsource = s0\nto = nosuch9\n' | conf
	broken 3 "to nosuch9: no such device, and no [collector nosuch9] or [tunnel nosuch9] in the file"
	printf '[session a]\nsource = nosuch8\nto = d0\n' | conf
	broken 2 "source nosuch8: no such device"
	printf '[session a]\nto = d0\n' | conf
	broken 1 "[session a] needs 'source'"
	printf '[session a]\nsource = s0\n' | conf
	broken 1 "[session a] needs 'to' (the destination)"
	printf 'source = s0\n[session a]\nsource = s0\nto = d0\n' | conf
	broken 1 "'source' outside of any section"
	printf '[sesion a]\nsource = s0\n' | conf
	broken 1 "unknown section type 'sesion' (session, collector or tunnel)"
	printf '[session a]\nsource = s0\nto = d0\nsample = 0\n' | conf
	broken 4 "sample '0': not a whole number from 1 to 2147483647"
	printf '[session a]\nsource = s0\nto = d0\nmatch = tcp port x\n' | conf
	broken 4 "match 'tcp port x': unknown port 'x'"
	printf '[collector brm]\nports = c0\nsnaplen = 10\n' | conf
	broken 3 "snaplen '10': not a number of bytes from 14 (the Ethernet header) to 65535"
	printf '[collector brm]\nsink = x0\n' | conf
	broken 1 "[collector brm] needs 'ports'"
	printf '[tunnel vx1]\ntype = vxlan\nremote = 192.0.2.300\n' | conf
	broken 3 "remote '192.0.2.300': not an IPv4 or IPv6 address"
	printf '[tunnel vx1]\ntype = vxlan\nremote = 192.0.2.3\nkey = 5\n' | conf
	broken 4 "key: a vxlan tunnel takes 'vni'"
	printf '[tunnel vx1]\ntype = ipip\nremote = 192.0.2.3\n' | conf
	broken 2 "type 'ipip': not vxlan, gretap, erspan or geneve"
	printf '[session a]\nsource = s0\nto = d0\nto = d0\n' | conf
	broken 4 "to given twice in this section"
	# after 16 unknown keys a key given twice is still seen (it was not, and
	# the first value leaked: fuzz_config); no section takes 33 keys
	{ printf '[session a]\n'; printf 'k%d = 1\n' {1..16}; printf 'source = s0\nsource = s1\nto = d0\n'; } | conf
	broken 19 "source given twice in this section"
	{ printf '[session a]\nsource = s0\nto = d0\n'; printf 'k%d = 1\n' {1..31}; } | conf
	broken 34 "more than 32 keys in this section"
	printf '[session a]\nsource = s0\nto = d0\njust some words\n' | conf
	broken 4 "expected 'key = value' or '[TYPE NAME]'"
	printf '[session a]\nsource = s0\nto = s0\n' | conf
	broken 2 "[session a]: source s0 is also its destination"
	printf '[session a]\nsource = s0 bad/name\nto = d0\n' | conf
	broken 2 "source 'bad/name': interface name contains"
	printf '[session a]\nsource = s0\nto = d0\n[session b]\nsource = s0\nto = d0\n' | conf
	broken 5 "[session b]: s0 to d0 is in [session a] (line 1) already"
	printf '[collector brm]\nports = c0\n[session a]\nsource = c0\nto = brm\n' | conf
	broken 3 "c0 to brm would loop"
	printf '[session a]\nsource = s0\nto = \n' | conf
	broken 3 "to: empty value"
}

# bats test_tags=kernel-neutral
@test "a file anyone but root can write, or that cannot be read, is refused" {
	STATE=$(tc_state)
	printf '[session a]\nsource = s0\nto = d0\n' >"$CONF"
	chmod 0666 "$CONF"
	run apply
	assert_failure 1
	assert_output "ifmirror: $CONF: refusing a file that anyone but root can write (owner uid 0, mode 0666)"
	chmod 0620 "$CONF"
	run apply
	assert_failure 1
	chmod 0644 "$CONF"
	chown 65534 "$CONF"
	run apply
	assert_failure 1
	assert_output --partial "owner uid 65534"
	run ifm apply --config "$BATS_TEST_TMPDIR/none.conf"
	assert_failure 1
	assert_output --partial "cannot read it: No such file or directory"
	run ifm apply --bogus
	assert_failure 2
	assert_equal "$(tc_state)" "$STATE"
}

# bats test_tags=kernel-neutral
@test "a FIFO, a symbolic link, or a file in a directory others can write is refused at once" {
	STATE=$(tc_state)
	local d=$BATS_TEST_TMPDIR/etc
	mkdir -m 0755 "$d"
	printf '[session a]\nsource = s0\nto = d0\n' >"$d/real.conf"
	chmod 0644 "$d/real.conf"
	# a FIFO: refused without waiting for a writer (timeout would say 124)
	mkfifo -m 0644 "$d/fifo.conf"
	run timeout 10 ip netns exec "$NS" "$IFM" apply --config "$d/fifo.conf"
	assert_failure 1
	assert_output "ifmirror: $d/fifo.conf: not a regular file"
	# a symbolic link, even to a good file, is not followed
	ln -s real.conf "$d/link.conf"
	run ifm apply --config "$d/link.conf"
	assert_failure 1
	assert_output "ifmirror: $d/link.conf: refusing a symbolic link (give the file itself)"
	# a directory others can write (sticky or not): the file could be swapped
	chmod 1777 "$d"
	run ifm apply --config "$d/real.conf"
	assert_failure 1
	assert_output "ifmirror: $d/real.conf: refusing a file in a directory that anyone but root can write (owner uid 0, mode 1777)"
	chmod 0757 "$d"
	run ifm apply --config "$d/real.conf"
	assert_failure 1
	assert_output --partial "mode 0757"
	chmod 0755 "$d"
	chown 65534 "$d"
	run ifm apply --config "$d/real.conf"
	assert_failure 1
	assert_output --partial "(owner uid 65534, mode 0755)"
	chown 0 "$d"
	assert_equal "$(tc_state)" "$STATE"
	run ifm apply --config "$d/real.conf"
	assert_success
}

# bats test_tags=kernel-neutral
@test "a cycle of mirrors among other devices: apply checks for loops in linear time, and right" {
	# m1..m6 mirror into each other (two targets each): every path around the
	# cycle is another one, which an unbounded search would walk one by one
	veth m1 m2 m3 m4 m5 m6
	for i in 1 2 3 4 5 6; do
		nsx tc qdisc add dev "m$i" clsact
		nsx tc filter add dev "m$i" egress pref 10 protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "m$((i % 6 + 1))"
		nsx tc filter add dev "m$i" egress pref 11 protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "m$(((i + 1) % 6 + 1))"
	done
	conf <<-EOT
	[session into-the-cycle]
	source = s0
	to = m1
	EOT
	state=$(tc_state)
	# (the search that walked every path took minutes here, under the lock)
	run timeout 20 ip netns exec "$NS" "$IFM" apply --config "$CONF" --dry-run
	assert_success
	assert_output "$(printf '%s\n' "would add: s0 both mirror to m1" "$CONF: dry run, nothing was changed")"
	assert_equal "$(tc_state)" "$state"

	# the cycle leads back into the source: a loop, however far around
	nsx tc filter add dev m4 egress pref 12 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev s0
	run timeout 20 ip netns exec "$NS" "$IFM" apply --config "$CONF" --dry-run
	assert_failure 1
	assert_output "ifmirror: $CONF:1: s0 to m1 would loop: m1 leads back into s0"
	state=$(tc_state)
	run timeout 20 ip netns exec "$NS" "$IFM" apply --config "$CONF"
	assert_failure 1
	assert_equal "$(tc_state)" "$state"
}

# bats test_tags=kernel-neutral
@test "a loop through a collector the file makes is refused before anything is made" {
	# the collector's port is s0p, the other end of the source's link: copies
	# sent out of it come back into s0
	conf <<-EOT
	[collector brm]
	ports = s0p

	[session back]
	source = s0
	to = brm
	EOT
	state=$(tc_state)
	run apply --dry-run
	assert_failure 1
	assert_output "ifmirror: $CONF:4: s0 to brm would loop: brm leads back into s0"
	run apply
	assert_failure 1
	assert_output "ifmirror: $CONF:4: s0 to brm would loop: brm leads back into s0"
	assert_equal "$(tc_state)" "$state"

	# the same through a port that mirrors on into the source
	nsx tc qdisc add dev c0 clsact
	nsx tc filter add dev c0 egress pref 3 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev s0
	printf '[collector brm]\nports = c0\n[session back]\nsource = s0\nto = brm\n' | conf
	state=$(tc_state)
	run apply
	assert_failure 1
	assert_output "ifmirror: $CONF:3: s0 to brm would loop: brm leads back into s0"
	assert_equal "$(tc_state)" "$state"
	run nsx ip link show brm
	assert_failure
}
