#!/usr/bin/env bats
# ifmirror check: what the kernel offers (probed in a scratch namespace, the
# answers compared with what the tests' own probes find), the strategy that
# follows, and the warnings for a session. It never changes anything.

load helpers

setup() {
	lab_up
	veth s0 d0
}

teardown() { lab_down; }

# checked ARGS...: ifmirror check ARGS, exit 0, the kernel state unchanged
checked() {
	local before
	before=$(tc_state)
	run ifm check "$@"
	assert_success
	assert_equal "$(tc_state)" "$before"
}

# feature NAME MODULE: the line check prints for NAME, from kernel_has
# yes_line KIND [SUFFIX]: "KIND: yes", also in the form check uses for a
# module it does not load (loading dummy, ifb, ip_gre adds devices)
yes_line() {
	local re="^$1: yes( \(module [a-z0-9_]+, not loaded yet[^)]*\)| \(module not loaded yet[^)]*\))?"
	assert_line --regexp "$re${2:+ \($2\)}\$"
}

feature() {
	if kernel_has "$1"; then
		yes_line "$1"
	else
		assert_line "$1: no (kernel module $2)"
	fi
}

@test "what this kernel offers, probed without touching the host; the strategy; JSON" {
	netns=$(ip netns list)
	checked
	assert_line "kernel: $(uname -r) (probed in a scratch network namespace)"
	for f in clsact ingress u32 bpf mirred ifb bridge vxlan; do
		yes_line "$f"
	done
	feature prio sch_prio
	feature matchall cls_matchall
	feature dummy dummy
	feature police act_police
	feature bucket cls_bpf
	if kernel_has gretap; then yes_line gretap; else assert_line "gretap: no (kernel modules ip_gre, ip6_gre)"; fi
	if kernel_has erspan; then yes_line erspan; else assert_line "erspan: no (kernel modules ip_gre, ip6_gre)"; fi
	if kernel_has geneve; then yes_line geneve; else assert_line "geneve: no (kernel module geneve)"; fi
	cls=u32 sink=ifb
	kernel_has matchall && cls=matchall
	kernel_has dummy && sink=dummy
	budget=shaper
	kernel_has bucket && budget=bucket
	kernel_has police && budget=police
	assert_line "strategy: hook clsact, classifier $cls, --match bpf, collector sink $sink, budget $budget"
	assert_equal "${#lines[@]}" 18
	assert_equal "$(ip netns list)" "$netns"

	checked --json
	printf '%s' "$output" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
want = dict(x.split("=") for x in sys.argv[1:])
cls, sink, budget = want.pop("cls"), want.pop("sink"), want.pop("budget")
for k, v in want.items():
    assert d["features"][k] == (v == "1"), (k, d["features"][k])
assert d["strategy"] == {"hook": "clsact", "classifier": cls, "match_classifier": "bpf",
                         "sink": sink, "budget": budget}, d["strategy"]
assert d["avoided"] == [] and d["session"] is None, d
' $(for f in matchall prio dummy gretap erspan geneve police bucket; do kernel_has $f && echo $f=1 || echo $f=0; done) \
		clsact=1 u32=1 mirred=1 vxlan=1 vxlan_ipv6=1 cls=$cls sink=$sink budget=$budget

	# it runs no other program (no tc, no ip, no shell)
	run nsx strace -f -qq -E "$TRACED_ASAN" -e trace=execve "$IFM" check
	assert_success
	assert_equal "$(grep -c 'execve(' <<<"$output")" 1
}

@test "IFMIRROR_AVOID: avoided kinds are shown as such, and the strategy falls back" {
	export IFMIRROR_AVOID=clsact,matchall,dummy,gretap,police,bucket
	checked
	assert_line "clsact: yes (treated as missing: IFMIRROR_AVOID)"
	kernel_has matchall && assert_line "matchall: yes (treated as missing: IFMIRROR_AVOID)"
	kernel_has dummy && yes_line dummy "treated as missing: IFMIRROR_AVOID"
	kernel_has gretap && yes_line gretap "treated as missing: IFMIRROR_AVOID"
	if kernel_has prio; then hook="ingress+prio"; else hook="ingress (ingress only: no prio for egress)"; fi
	kernel_has bucket && assert_line "bucket: yes (treated as missing: IFMIRROR_AVOID)"
	assert_line "strategy: hook $hook, classifier u32, --match bpf, collector sink ifb, budget shaper"
	checked --json
	assert_output --partial '"avoided": ["clsact", "matchall", "dummy", "police", "bucket", "gretap"]'
}

@test "session warnings, each with its numbers and fix; exit 0; nothing changed" {
	checked s0 --to d0
	assert_line "session s0 -> d0: no warnings"

	nsx ip link set d0 down
	checked s0 --to d0
	assert_line "session s0 -> d0: 1 warning"
	assert_line "warning: down: d0 is down: copies are dropped until it is up"
	nsx ip link set d0 up
	nsx ip link set d0p down
	checked s0 --to d0
	assert_line "warning: carrier: d0 has no carrier: copies are dropped until it has"
	nsx ip link set d0p up

	# a loop: d0's peer already mirrors into s0 (somebody's own filter)
	nsx tc qdisc add dev d0p clsact
	nsx tc filter add dev d0p egress pref 3 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev s0
	checked s0 --to d0p
	assert_line "warning: loop: d0p already leads back into s0 (through mirrors, bridges or a veth's peer): copies would loop and storm, which ifmirror up refuses"
	nsx tc qdisc del dev d0p clsact

	# frames bigger than the destination takes: a veth hands them to its peer,
	# whose MTU is the one that counts
	nsx ip link set s0 mtu 2000
	checked s0 --to d0
	assert_line "warning: mtu: 2014-byte frames (s0's MTU 2000) exceed the MTU 1500 of d0's peer d0p: it drops them; raise d0p's MTU to 2000"
	nsx ip link set d0p mtu 2000
	checked s0 --to d0
	assert_line "session s0 -> d0: no warnings"
	nsx ip link set d0p mtu 1500
	# a VLAN on the source adds its tag, where the kernel has VLANs
	if nsx ip link add link s0 name s0.5 type vlan id 5 2>/dev/null; then
		checked s0 --to d0
		assert_line "warning: mtu: 2018-byte frames (s0's MTU 2000 + a VLAN tag) exceed the MTU 1500 of d0's peer d0p: it drops them; raise d0p's MTU to 2000"
		nsx ip link del s0.5
	fi

	# a bridge whose only port has no carrier, and whose port takes less than the source sends
	veth d1
	nsx ip link add br0 type bridge
	nsx ip link set d1 master br0
	nsx ip link set br0 up
	nsx ip link set d1p down
	# the bridge learns of its port's carrier through linkwatch, up to a second late
	for ((i = 0; i < 60; i++)); do
		[[ $(nsx cat /sys/class/net/br0/carrier) == 0 ]] && break
		sleep 0.05
	done
	checked s0 --to br0 --json
	printf '%s' "$output" | /usr/bin/python3 -c '
import json, sys
w = json.load(sys.stdin)["session"]["warnings"]
assert [x["kind"] for x in w] == ["carrier", "mtu"], w
assert w[0]["message"].startswith("br0 is a bridge without carrier (none of its ports has one): copies are dropped"), w
assert w[1]["message"] == "2014-byte frames (s0'"'"'s MTU 2000) exceed the MTU 1500 of br0'"'"'s port d1: the bridge drops them there; raise d1'"'"'s MTU to 2000", w
'
	nsx ip link set s0 mtu 1500

	# a tunnel: the underlay must carry the frame plus the encapsulation
	nsx ip link add u0 type veth peer name u0p
	nsx ip link set u0 up
	nsx ip link set u0p up
	nsx ip addr add 10.9.0.1/24 dev u0
	run ifm tunnel up t0 --type vxlan --remote 10.9.0.2 --vni 5 -q
	assert_success
	checked s0 --to t0
	assert_line "warning: mtu: t0: 1514-byte frames (s0's MTU 1500) + 36 bytes of vxlan/IPv4 headers = 1550 > 1500, the MTU of the underlay u0: such copies leave as IP fragments; raise u0's MTU to 1550, or cut copies to 1464 bytes (ifmirror tunnel up t0 ... --snaplen 1464)"
	nsx ip link set u0 mtu 1550
	checked s0 --to t0
	assert_line "session s0 -> t0: no warnings"

	# egress needs clsact, or a prio root in place of the kernel's default root
	export IFMIRROR_AVOID=clsact
	nsx tc qdisc add dev s0 root handle 1: htb
	checked s0 --to d0
	if kernel_has prio; then
		assert_line "warning: hook: egress of s0 would be refused: clsact is treated as missing (IFMIRROR_AVOID), and its root qdisc is htb 1:, which ifmirror does not replace"
	else
		assert_line "warning: hook: egress of s0 cannot be mirrored: clsact is treated as missing (IFMIRROR_AVOID), and the kernel has no prio qdisc (kernel module sch_prio)"
	fi
	checked s0 --to d0 --direction ingress
	assert_line "session s0 -> d0: no warnings"
}

@test "a chain of more mirrors than the kernel nests: check and up warn, and the kernel drops the copies" {
	veth m1 m2 m3 m4 m5
	run ifm up s0 --to m1 --direction ingress
	assert_success
	refute_output --partial warning
	for i in 1 2 3; do
		run ifm up "m$i" --to "m$((i + 1))" --direction egress
		assert_success
		refute_output --partial warning
	done
	# four mirror actions in a row: every copy arrives
	before=$(rx_packets m4p)
	send_in s0 20
	expect_rx m4p "$before" 20
	checked m4 --to m5 --direction ingress
	assert_line "session m4 -> m5: no warnings"

	msg="copies would pass 5 mirror actions in a row (s0 -> m1 -> m2 -> m3 -> m4 -> m5): the kernel nests at most 4, and the one past them drops the copy the one before was sending, so the end of the chain gets none; mirror into it directly"
	checked m4 --to m5 --direction egress
	assert_line "warning: chain: $msg"
	checked m4 --to m5 --direction egress --json
	printf '%s' "$output" | jq -e --arg m "$msg" '.session.warnings == [{"kind": "chain", "message": $m}]'
	# the same chain seen from its other end
	checked m3 --to m4 --direction egress
	run ifm up m4 --to m5 --direction egress
	assert_success
	assert_line "ifmirror: warning: m4: $msg"
	# what the warning is about: the copies into m4 are lost now, and none reach m5
	before=$(rx_packets m4p)
	b5=$(rx_packets m5p)
	send_in s0 20
	expect_rx m4p "$before" 0
	expect_rx m5p "$b5" 0
}

@test "a jumbo source into a collector with smaller ports: check and up warn and offer --snaplen" {
	veth c0
	nsx ip link set s0 mtu 9000
	nsx ip link set s0p mtu 9000
	run ifm collector up brm --port c0 -q
	assert_success
	msg="9014-byte frames (s0's MTU 9000) exceed the MTU 1500 of brm's port c0: the bridge drops them there; raise c0's MTU to 9000, or cut copies to 1514 bytes (ifmirror collector up brm ... --snaplen 1514)"
	checked s0 --to brm
	assert_line "warning: mtu: $msg"
	checked s0 --to brm --json
	printf '%s' "$output" | jq -e --arg m "$msg" '.session.warnings == [{"kind": "mtu", "message": $m}]'
	run ifm up s0 --to brm --direction ingress
	assert_success
	assert_line "ifmirror: warning: s0: $msg"
	# what it warns of: the big copies vanish at the port, small ones pass
	before=$(rx_packets c0p)
	send_in s0 5 --size 8000
	send_in s0 5
	expect_rx c0p "$before" 5

	# the port takes them, but its veth peer does not
	nsx ip link set c0 mtu 9000
	checked s0 --to brm
	assert_line "warning: mtu: 9014-byte frames (s0's MTU 9000) exceed the MTU 1500 of c0p, the peer of brm's port c0: it drops them; raise c0p's MTU to 9000, or cut copies to 1514 bytes (ifmirror collector up brm ... --snaplen 1514)"

	# the offered fix: copies cut to what the way takes, and they arrive
	run ifm collector up brm --port c0 --snaplen 1514 -q
	assert_success
	checked s0 --to brm
	assert_line "session s0 -> brm: no warnings"
	before=$(rx_packets c0p)
	send_in s0 5 --size 8000
	expect_rx c0p "$before" 5
}

@test "a veth whose peer is a port of the source's bridge: check warns of the loop" {
	veth v0
	nsx ip link add br0 type bridge
	nsx ip link set br0 up
	nsx ip link set s0 master br0
	nsx ip link set v0p master br0
	checked s0 --to v0 --direction ingress
	assert_line "warning: loop: v0 already leads back into s0 (through mirrors, bridges or a veth's peer): copies would loop and storm, which ifmirror up refuses"
	checked s0p --to v0
	assert_line "warning: loop: v0 already leads back into s0p (through mirrors, bridges or a veth's peer): copies would loop and storm, which ifmirror up refuses"
	nsx ip link set v0p nomaster
	checked s0 --to v0
	assert_line "session s0 -> v0: no warnings"
}

# bats test_tags=kernel-neutral
@test "bad input for check: one line, exit 2 for usage and 1 for runtime, nothing changed" {
	state=$(tc_state)
	refusals "$state" <<'EOF'
2|check: checking a session needs SOURCE --to DEST|check s0
2|check: --to needs a SOURCE before it|check --to d0
2|check: --to needs a destination interface|check s0 --to
2|check: --to given twice|check s0 --to d0 --to d0p
2|check: s0: source and destination are the same interface|check s0 --to s0
2|check: unknown option '--bogus'|check --bogus
2|check: unexpected argument 'extra'|check s0 --to d0 extra
2|check: --direction 'sideways': not ingress, egress or both|check s0 --to d0 --direction sideways
2|check: 'a/b': interface name contains|check a/b --to d0
2|check: 'averyveryverylongname': interface name longer than 15|check s0 --to averyveryverylongname
1|nosuch0: no such device|check nosuch0 --to d0
1|nosuch1: no such device|check s0 --to nosuch1
EOF
}
