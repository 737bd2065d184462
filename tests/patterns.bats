#!/usr/bin/env bats
# Source patterns in /etc/ifmirror.conf (globs, @master:BRIDGE, !exclusions):
# apply mirrors exactly what they match now, skips what cannot be a source,
# and a later apply follows devices that came or went.

load helpers

setup() {
	lab_up
	veth c0 vnet1 x0
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	nsx ip tuntap add mode tap tap1
	nsx ip tuntap add mode tap tap2
	nsx ip tuntap add mode tap tapmgmt0
	for t in tap1 tap2 tapmgmt0; do nsx ip link set "$t" up; done
	nsx ip link add vmbr0 type bridge
	veth p0
	nsx ip link set p0 master vmbr0
}

teardown() { lab_down; }

conf() { cat >"$CONF"; chmod 0644 "$CONF"; }
apply() { ifm apply --config "$CONF" "$@"; }
sessions() {
	ifm status --json | jq -r '.sessions | map("\(.source) \(.direction) \(.destination)") | sort | .[]'
}

# copies: frames out of each tap (their egress; a tap without a reader takes
# nothing in), into vnet1, p0 and x0; what reached the collector port's peer
copies() {
	local before
	before=$(counter_settles c0p)
	for t in tap1 tap2 tapmgmt0 x0; do send_out "$t" 10; done
	for v in vnet1 p0 x0; do send_in "$v" 10; done
	echo $(($(counter_settles c0p) - before))
}

@test "patterns: globs, @master and exclusions mirror what they match and nothing else" {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap* vnet? @master:vmbr0 !tapmgmt0
	to = brm
	EOT
	run apply --dry-run
	assert_success
	assert_output --partial "[session vms] source tap* vnet? @master:vmbr0 !tapmgmt0: matches tap1"
	assert_output --partial ": matches tap2"
	assert_output --partial ": matches vnet1"
	assert_output --partial ": matches p0"
	refute_output --partial "matches tapmgmt0"
	refute_output --partial "matches x0"
	assert_output --partial "would add: p0 both mirror to brm"
	run sessions
	assert_output ""

	run apply
	assert_success
	assert_output --partial "4 added, 0 changed, 0 removed"
	run sessions
	assert_output "$(printf '%s %s brm\n' p0 egress p0 ingress tap1 egress tap1 ingress \
		tap2 egress tap2 ingress vnet1 egress vnet1 ingress)"
	# tap1, tap2 out: 20; vnet1, p0 in: 20; tapmgmt0 and x0 not at all
	run copies
	assert_output 40
	run apply
	assert_output "$CONF: 4 sessions, nothing to change"
	run ifm status --config "$CONF"
	assert_success
	assert_line "pattern [session vms] source tap* vnet? @master:vmbr0 !tapmgmt0 -> brm: vnet1 tap1 tap2 p0"
	run ifm status --config "$CONF" --json
	assert_failure 2
}

@test "patterns: a later apply adds new devices, removes those that went or no longer match" {
	conf <<-EOT
	[collector brm]
	ports = c0
	[session vms]
	source = tap* !tapmgmt0
	to = brm
	direction = egress
	EOT
	run apply
	assert_success
	assert_output --partial "2 added"
	nsx ip tuntap add mode tap tap3
	nsx ip link set tap3 up
	nsx ip link del tap2
	# (down first: kernels before 6.2 refuse to rename a device that is up)
	nsx ip link set tap1 down
	nsx ip link set tap1 name vm1
	nsx ip link set vm1 up
	run apply
	assert_success
	assert_output --partial "tap3: egress mirror to brm added"
	assert_output --partial "vm1: egress mirror to brm removed (not in $CONF)"
	assert_output --partial "1 added, 0 changed, 1 removed"
	run sessions
	assert_output "tap3 egress brm"
	before=$(counter_settles c0p)
	for t in tap3 vm1 tapmgmt0; do send_out "$t" 10; done
	expect_rx c0p "$before" 10
	run ifm flush
	assert_success
	run sessions
	assert_output ""
}

@test "patterns: the destination, its ports, sink and loops are skipped with a notice; no pair twice; loops skipped" {
	# the kernel's fallback tunnels, made in every new namespace once ip_gre,
	# ip6_gre, ip6_tunnel, sit or ipip are loaded (other files load them on
	# the stock lane): "*" covers them too, and this test counts sessions
	KERNEL_FALLBACKS=$(printf '!%s ' gre0 gretap0 erspan0 ip6gre0 ip6tnl0 sit0 tunl0 ip_vti0 ip6_vti0)
	veth d0
	conf <<-EOT
	[collector brm]
	ports = c0
	[session wide]
	source = * !lo !c0p !*p !x0 !vnet1 $KERNEL_FALLBACKS
	to = brm
	direction = ingress
	[session one]
	source = tap1
	to = brm
	direction = ingress
	EOT
	run apply
	assert_success
	assert_output --partial "skipping c0: it is a port of the destination"
	# the collector made by this apply is there for the next one
	run apply
	assert_success
	assert_output --partial "skipping brm: it is the destination"
	assert_output --partial "skipping brm-sink: it is a port of the destination"
	assert_output --partial "$CONF: 6 sessions, nothing to change"
	run sessions
	# tap1 once, though both sessions name it
	assert_output "$(printf '%s ingress brm\n' d0 p0 tap1 tap2 tapmgmt0 vmbr0)"
	run copies
	# p0 in: 10 (vmbr0 is down: nothing more)
	assert_output 10

	# a pattern towards a device that leads back into a matched one skips it
	nsx ip link set d0 master vmbr0
	conf <<-EOT
	[session wide]
	source = tap* vmbr0
	to = d0
	[session back]
	source = @master:vmbr0
	to = tap1
	EOT
	run apply
	assert_success
	assert_output --partial "skipping tap1 to d0: it would loop (d0 leads back into tap1)"
	run sessions
	assert_output "$(printf '%s\n' 'd0 egress tap1' 'd0 ingress tap1' 'p0 egress tap1' 'p0 ingress tap1' \
		'tap2 egress d0' 'tap2 ingress d0' 'tapmgmt0 egress d0' 'tapmgmt0 ingress d0' \
		'vmbr0 egress d0' 'vmbr0 ingress d0')"
}

# qdisc_order TRACE TYPE: the devices of TYPE's requests in the trace, one a
# line, each as "IFINDEX NAME"
qdisc_order() {
	local n
	grep -o "$2[^}]*}, {[^}]*}" "$1" | grep -o 'tcm_ifindex=if_nametoindex("[^"]*")' |
		sed 's/.*("\(.*\)")/\1/' | while read -r n; do
		echo "$(nsx cat "/sys/class/net/$n/ifindex") $n"
	done
}

@test "patterns: apply makes clsacts oldest device first, whatever the name order; flush deletes newest first" {
	# The kernel keeps a device's tc blocks on one global list, newest first,
	# and walks it to unbind each (flow_offload.c, find_indir_dev): deleting
	# oldest first cost O(n^2), 10 s for 10 000 sources here (bench/README.md).
	# m9 is older than m10 and m11 but comes last in name order.
	veth m9 m10 m11
	conf <<-EOT
	[session m]
	source = m*
	to = x0
	EOT
	local trace=$BATS_TEST_TMPDIR/trace
	run nsx strace -f -qq -E "$TRACED_ASAN" -o "$trace" -e trace=sendmsg,sendto \
		"$IFM" apply --config "$CONF" -q
	assert_success
	run qdisc_order "$trace" RTM_NEWQDISC
	assert_equal "$(wc -l <<<"$output")" 6   # m9 m10 m11 and their peers
	assert_equal "$output" "$(sort -n <<<"$output")"
	run nsx strace -f -qq -E "$TRACED_ASAN" -o "$trace" -e trace=sendmsg,sendto \
		"$IFM" flush -q
	assert_success
	run qdisc_order "$trace" RTM_DELQDISC
	assert_equal "$(wc -l <<<"$output")" 6
	assert_equal "$output" "$(sort -rn <<<"$output")"
	assert_equal "$(nsx tc qdisc show | grep -c clsact)" 0
}
