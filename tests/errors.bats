#!/usr/bin/env bats
# Bad input: one line on stderr naming the thing and the reason, exit 2 for
# usage and 1 for runtime errors, and the kernel state exactly as before.

load helpers

# bats file_tags=kernel-neutral

setup() {
	lab_up
	veth s0 d0
	# some state of the user's that must survive every refusal
	nsx tc qdisc add dev d0 clsact
	nsx tc filter add dev d0 ingress pref 7 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev d0p
	STATE=$(tc_state)
}

teardown() { lab_down; }

# refused CODE REGEX ARGS...: exit CODE, a single "ifmirror: " line matching
# REGEX, nothing changed in the kernel.
refused() {
	local code=$1 re=$2
	shift 2
	run ifm "$@"
	assert_failure "$code"
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "^ifmirror: $re"
	assert_equal "$(tc_state)" "$STATE"
}

@test "no command" { refused 2 "no command given" ; }
@test "unknown command" { refused 2 "unknown command 'frobnicate'" frobnicate; }
@test "up without SOURCE" { refused 2 "up: up needs a SOURCE" up --to d0; }
@test "up without --to" { refused 2 "up: up needs --to DEST" up s0; }
@test "--to without a value" { refused 2 "up: --to needs a destination" up s0 --to; }
@test "SOURCE equals DEST" { refused 2 "up: s0: source and destination are the same" up s0 --to s0; }
@test "unknown direction" { refused 2 "up: --direction 'sideways': not ingress, egress or both" up s0 --to d0 --direction sideways; }
@test "unknown option" { refused 2 "up: unknown option '--bogus'" up s0 --to d0 --bogus; }
@test "extra argument" { refused 2 "up: unexpected argument 'extra'" up s0 --to d0 extra; }
@test "name with a slash" { refused 2 "up: 'eth/0': interface name contains" up eth/0 --to d0; }
@test "name too long" { refused 2 "up: 'averyveryverylongname': interface name longer than 15" up s0 --to averyveryverylongname; }
@test "name with white space" { refused 2 "up: 'a b': interface name contains" up s0 --to "a b"; }
@test "empty name" { refused 2 "up: '': empty interface name" up s0 --to ""; }
@test "--match given twice" { refused 2 "up: --match given twice" up s0 --to d0 --match tcp --match udp; }
@test "--sample given twice" { refused 2 "up: --sample given twice" up s0 --to d0 --sample 2 --sample 3; }
@test "name with a newline: one line" { refused 2 "up: 'd0\\\\nx': interface name contains a control character" up s0 --to $'d0\nx'; }
@test "name with a control character: one line" { refused 2 "up: 'd0\\\\x01': interface name contains a control character" up s0 --to $'d0\x01'; }
@test "config section name with a control character: one line" {
	printf '[session a]\nsource = s0\nto = d0\n[tunnel t\x01x]\ntype = vxlan\n' >"$BATS_TEST_TMPDIR/c.conf"
	chmod 0644 "$BATS_TEST_TMPDIR/c.conf"
	refused 1 ".*c.conf:4: \\[tunnel t\\\\x01x\\]: the name is the interface's: interface name contains a control character" apply --config "$BATS_TEST_TMPDIR/c.conf"
}
@test "name '..'" { refused 2 "up: '..': not a valid interface name" up .. --to d0; }
@test "SOURCE does not exist" { refused 1 "nosuch0: no such device" up nosuch0 --to d0; }
@test "DEST does not exist" { refused 1 "nosuch1: no such device" up s0 --to nosuch1; }
@test "status of a missing device" { refused 1 "nosuch2: no such device" status nosuch2; }
@test "status with an unknown option" { refused 2 "status: unknown option '--to'" status s0 --to d0; }
@test "down without SOURCE" { refused 2 "down: down needs a SOURCE" down; }
@test "down with a bad destination name" { refused 2 "down: 'd/0': interface name contains" down s0 --to d/0; }
@test "down takes no --direction" { refused 2 "down: unknown option '--direction'" down s0 --direction ingress; }
@test "loop through an existing mirror" {
	nsx tc qdisc add dev s0 clsact
	STATE=$(tc_state)
	# d0's own (the user's) filter mirrors to d0p; make d0p lead into s0 too
	nsx tc qdisc add dev d0p clsact
	nsx tc filter add dev d0p egress pref 3 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev s0
	STATE=$(tc_state)
	refused 1 "d0: refusing to mirror s0 into it: .* would loop" up s0 --to d0
}

@test "failure half-way rolls back: ingress added, egress refused over an htb root" {
	# no clsact (forced), so egress needs prio at the root, which holds htb
	nsx tc qdisc add dev s0 root handle 1: htb default 1
	STATE=$(tc_state)
	export IFMIRROR_AVOID=clsact
	refused 1 "s0: cannot mirror egress: no clsact qdisc here, and the root qdisc is htb 1: which ifmirror will not replace" up s0 --to d0
	# the ingress qdisc made for the first half is gone again
	run nsx tc qdisc show dev s0 ingress
	refute_output --partial ingress
}
