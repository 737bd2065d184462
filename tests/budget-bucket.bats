#!/usr/bin/env bats
# --rate/--burst by an eBPF token bucket (issue 15, item 2) on kernels without
# act_police: the collector or tunnel holds the bucket's two maps through a
# "holder" cls_bpf filter (ifmirror-budget) on its clsact egress, and every
# session into it classifies by a program that draws from that bucket
# (ifmirror-bucket, kind bpf) before its mirred: copies over the budget are
# not made, the source's frames all pass (src/lib/bucket.c). IFMIRROR_AVOID=
# police makes a kernel with act_police take the bucket too (the stock lane).
# bpftool, not ifmirror, says which programs and maps exist.
# tests/budget.bats tests the shaper, tests/budget-police.bats act_police.

load helpers
load budget-helpers

setup() {
	require_kernel bucket "cls_bpf and the bpf() syscall's array maps, which the bucket is"
	export IFMIRROR_AVOID=police
	lab_up
	veth s0 c0
}

teardown() { lab_down; }

holder_of() { nsx tc filter show dev "$1" egress | grep -c 'ifmirror-budget direct-action' || true; }
tbf_of() { nsx tc qdisc show dev "$1" | grep -c '^qdisc tbf 1f1b: root' || true; }
# the ids of the programs of DEV's filters (both hooks), one a line
prog_ids() {
	{ nsx tc filter show dev "$1" ingress; nsx tc filter show dev "$1" egress; } |
		grep -o ' id [0-9]* ' | awk '{print $2}' | sort -n
}
# the ids of the maps of program ID
map_ids() { bpftool prog show id "$1" --json | jq -r '.map_ids[]'; }
# gone KIND ID...: each program (prog) or map of the ids is freed by the
# kernel (a freed program goes after an RCU grace period: a second at most)
gone() {
	local kind=$1 id left
	shift
	for _ in $(seq 50); do
		left=0
		for id in "$@"; do
			bpftool "$kind" show id "$id" >/dev/null 2>&1 && left=$((left + 1))
		done
		((left == 0)) && return 0
		sleep 0.02
	done
	echo "$left of the ${kind}s $* still exist" >&2
	return 1
}

@test "bucket: copies within 10% of the budget, every source frame arrives both ways, over-budget in status" {
	run ifm collector up br0 --port c0 --rate 4mbit --burst 250000
	assert_success
	assert_output --partial "br0: copies into it are capped at 4mbit (burst 250000 bytes); those over it are not made (bucket)"
	[ "$(holder_of br0)" = 1 ]
	[ "$(tbf_of br0)" = 0 ]
	holder=$(prog_ids br0)
	run bpftool prog show id "$holder" --json
	jq -e '.name == "ifm_budget" and .type == "sched_cls" and (.map_ids | length) == 2' <<<"$output"
	run ifm up s0 --to br0 --direction both
	assert_success
	assert_output --partial "s0: ingress mirror to br0 added (clsact, bpf, the budget's bucket, pref 1)"
	# the session's classifier is the bucket's program, then the mirred
	run nsx tc filter show dev s0 ingress
	assert_output --regexp "bpf chain 0 handle 0x1 ifmirror-bucket .* name ifm_bucket "
	assert_output --partial "action order 1: mirred (Egress Mirror to device br0)"
	# both sessions draw from the holder's maps
	for id in $(prog_ids s0); do
		assert_equal "$(map_ids "$id")" "$(map_ids "$holder")"
	done

	source_frames_arrive 20000

	budget_holds 500000 8

	run ifm status --json
	assert_success
	jq -e '.sessions[] | select(.source == "s0" and .direction == "ingress")
		| .drops.budget > 1000 and .destination_budget.how == "bucket"
		and .destination_budget.rate_bits == 4000000
		and .destination_budget.burst_bytes == 250000' <<<"$output"
	jq -e '.collectors[0].budget | .how == "bucket" and .dropped > 1000 and .passed > 1000' <<<"$output"
	run ifm status
	assert_success
	assert_output --regexp "s0 ingress -> br0 \(up\) packets [0-9]+ bytes [0-9]+ dropped [1-9][0-9]* over-budget [1-9][0-9]* budget 4000000bit/s"
	assert_output --regexp "collector br0 .* budget 4000000bit/s burst 250000 \(bucket\) passed [0-9]+ over-budget [1-9]"
	run ifm status --prometheus
	assert_success
	assert_output --regexp 'ifmirror_session_drops_total\{[^}]*cause="budget"[^}]*\} [1-9]'
}

@test "bucket: a foreign filter after ours sees every frame; a rate change is live in the same programs" {
	veth f0
	nsx tc qdisc add dev s0 clsact
	ifm collector up br0 --port c0 --rate 8kbit --burst 2048 -q
	ifm up s0 --to br0 --direction ingress -q
	# somebody else's filter after ours: counts every frame by its own action
	nsx tc filter add dev s0 ingress pref 900 u32 match u32 0 0 action mirred egress mirror dev f0
	in0=$(rx_packets s0) c0=$(rx_packets c0p)
	send_in s0 500 --size $SIZE
	expect_rx s0 "$in0" 500
	run nsx tc -s filter show dev s0 ingress pref 900
	assert_output --regexp "Sent [0-9]+ bytes 500 pkt"
	# 2048 bytes of burst: two copies, not 500
	copies=$(( $(rx_packets c0p) - c0 ))
	((copies >= 1 && copies <= 3)) || fail "$copies copies through a 2048-byte bucket"

	ids=$(prog_ids s0; prog_ids br0)
	run ifm collector up br0 --port c0 --rate 16kbit --burst 4096
	assert_success
	assert_output --partial "capped at 16kbit (burst 4096 bytes)"
	assert_equal "$(prog_ids s0; prog_ids br0)" "$ids"
	run ifm status --json
	jq -e '.collectors[0].budget | .how == "bucket" and .rate_bits == 16000 and .burst_bytes == 4096' <<<"$output"
	run ifm collector up br0 --port c0 --rate 16kbit --burst 4096
	refute_output --partial "capped"
}

@test "bucket: removed under its sessions they copy everything; collector down, flush free every program and map" {
	ifm collector up br0 --port c0 --rate 8kbit --burst 2048 -q
	ifm up s0 --to br0 --direction ingress -q
	holder=$(prog_ids br0) session=$(prog_ids s0)
	maps=$(map_ids "$holder")
	run ifm collector up br0 --port c0
	assert_success
	assert_output --partial "br0: copy budget removed"
	[ "$(holder_of br0)" = 0 ]
	gone prog "$holder"
	c0=$(rx_packets c0p)
	send_in s0 500 --size $SIZE
	expect_rx c0p "$c0" 500
	run ifm status --json
	jq -e '.sessions[0].destination_budget == null and .collectors[0].budget == null' <<<"$output"
	ifm down s0 -q
	gone prog $session
	gone map $maps

	# down keeps the collector's budget; collector down under a session
	ifm collector up br0 --port c0 --rate 10mbit -q
	ifm up s0 --to br0 -q
	ifm down s0 --to br0 -q
	[ "$(holder_of br0)" = 1 ]
	ifm up s0 --to br0 -q
	holder=$(prog_ids br0) session=$(prog_ids s0)
	maps=$(map_ids "$holder")
	run ifm collector down br0
	assert_success
	gone prog "$holder"
	ifm down s0 -q
	gone prog $session
	gone map $maps

	# flush: a collector's and a tunnel's buckets, a foreign program kept
	nsx tc qdisc add dev c0 clsact
	nsx tc filter add dev c0 ingress pref 7 bpf bytecode "1,6 0 0 0"
	foreign=$(nsx tc filter show dev c0 ingress)
	nsx ip addr add 10.9.0.1/24 dev c0
	ifm collector up br0 --port c0p --rate 10mbit -q
	ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 20mbit -q
	[ "$(holder_of br0)" = 1 ]
	[ "$(holder_of vx0)" = 1 ]
	ifm up s0 --to vx0 -q
	ids=$(prog_ids br0; prog_ids vx0; prog_ids s0)
	maps=$(for id in $(prog_ids br0; prog_ids vx0); do map_ids "$id"; done)
	run ifm flush
	assert_success
	gone prog $ids
	gone map $maps
	assert_equal "$(nsx tc filter show dev c0 ingress)" "$foreign"
}

@test "bucket: --match sessions and sessions made before the budget are capped by a shaper beside it, said so" {
	veth s1
	ifm collector up br0 --port c0 -q
	ifm up s1 --to br0 --direction ingress -q
	run ifm collector up br0 --port c0 --rate 4mbit
	assert_success
	assert_output --partial "br0: copies into it are capped at 4mbit (burst 131072 bytes); those over it are not made (bucket)"
	assert_output --partial "br0: 1 source mirrors into it already, without the bucket: a shaper on it caps their copies (tbf, at the same budget)"
	[ "$(holder_of br0)" = 1 ]
	[ "$(tbf_of br0)" = 1 ]
	run ifm status --json
	jq -e '.collectors[0].budget.how == "bucket"' <<<"$output"
	ifm down s1 -q
	ifm collector down br0 -q

	# a --match session into a bucket: the same shaper
	ifm collector up br0 --port c0 --rate 4mbit -q
	[ "$(tbf_of br0)" = 0 ]
	run ifm up s0 --to br0 --direction ingress --match "ether proto 0x88b5"
	assert_success
	assert_output --partial "br0: --match and --sample sessions cannot draw from its copy budget's bucket (eBPF): a shaper on it caps their copies (tbf, at the same budget)"
	[ "$(tbf_of br0)" = 1 ]
	# the copies of the --match session are held to the budget by it
	budget_holds 500000 6
	run ifm status --json
	jq -e '.sessions[0].drops.budget > 1000' <<<"$output"
}

@test "tunnel --rate: a bucket on the tunnel; its not-made copies are the session's over-budget" {
	tunnel_underlay
	run ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 5 --rate 8kbit --burst 2048
	assert_success
	assert_output --partial "vx0: copies into it are capped at 8kbit (burst 2048 bytes); those over it are not made (bucket)"
	ifm up s0 --to vx0 --direction ingress -q
	in0=$(rx_packets s0)
	send_in s0 500 --size $SIZE
	expect_rx s0 "$in0" 500
	run ifm status --json
	jq -e '.sessions[0].drops.budget > 400 and .sessions[0].destination_budget.how == "bucket"' <<<"$output"
	session=$(prog_ids s0)
	run ifm tunnel down vx0
	assert_success
	ifm down s0 -q
	gone prog $session
}

# The lab as tc and ip show it, without what differs between two runs that
# make the same objects (as tests/crash.bats's state); a program's id and tag
# are the run's.
bstate() {
	tc_state | sed -E 's/^[0-9]+: //; s/@if[0-9]+/@ifX/g; s/link\/ether [0-9a-f:]+/link\/ether X/;
		s/cookie [0-9a-f]+/cookie X/g; s/index [0-9]+/index X/g; s/ id [0-9]+/ id X/g;
		s/tag [0-9a-f]+/tag X/g; s/handle [0-9a-fx:]+/handle X/g; s/fh [0-9a-f:]+/fh X/g;
		s/ht [0-9a-f]+/ht X/g; s/order [0-9]+/order X/g' | sort
}

@test "bucket: a kill -9 after any request of collector up --rate or apply leaves nothing the next command cannot recognise" {
	nsx tc qdisc add dev s0 clsact
	nsx tc filter add dev s0 ingress pref 500 bpf bytecode "1,6 0 0 0"
	budget_crash bstate "collector up --rate" collector up br0 --port c0 --rate 10mbit
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[collector br0]\nports = c0\nrate = 4mbit\n[session a]\nsource = s0\nto = br0\n' >"$CONF"
	chmod 0644 "$CONF"
	budget_crash bstate "apply (collector with rate, session)" apply --config "$CONF"
	run nsx tc filter show dev s0 ingress pref 500
	assert_output --partial "bytecode"
}
