#!/usr/bin/env bats
# What is mirrored: tcpdump expressions (--match), sampling (--sample) and
# truncation at the destination (collector --snaplen), frame by frame.

load helpers

setup() {
	lab_up
	veth s0 d0
	MIX=$TOP/tests/data/mix.pcap
}

teardown() { lab_down; }

# the mix into s0 and out of s0; the frames at d0p must be exactly those
# that tcpdump EXPR selects from a capture of the same traffic on s0
# mix_through PEER: the mix into and out of s0, captured on s0 (src.pcap)
# and on the destination's peer PEER (dst.pcap)
mix_through() {
	capture_start src s0
	capture_start dst "$1"
	send_in s0 1 --pcap "$MIX"
	send_out s0 1 --pcap "$MIX"
	capture_stop src
	capture_stop dst
}

selects_like_tcpdump() {
	local expr=$1 want got
	run ifm up s0 --to d0 --match "$expr"
	assert_success
	mix_through d0p
	want=$(frames "$BATS_TEST_TMPDIR/src.pcap" "$expr")
	got=$(frames "$BATS_TEST_TMPDIR/dst.pcap")
	# the whole mix was seen on s0, both ways
	assert_equal "$(frames "$BATS_TEST_TMPDIR/src.pcap" | wc -l)" 52
	if [[ $got != "$want" ]]; then
		echo "--match '$expr': $(wc -l <<<"$got") frames at the collector, tcpdump selects $(wc -l <<<"$want")" >&2
		diff <(echo "$want") <(echo "$got") >&2 || true
		return 1
	fi
	[[ -n $want ]] || { echo "--match '$expr' selected nothing: a useless check" >&2; return 1; }
}

# selects_each EXPR...: each expression in turn, as selects_like_tcpdump
# says, and status shows it
selects_each() {
	local expr
	for expr in "$@"; do
		selects_like_tcpdump "$expr"
		run ifm status s0 --json
		assert_output --partial "\"match\": \"${expr//\"/\\\"}\""
	done
}

# Four expressions on every kernel: a tag (the kernel keeps it outside the
# frame's bytes), IPv6, an IP header byte and TCP flags. The compiler that
# turns the others into the same kind of filter is ifmirror's own, the same
# on any kernel (16 s an expression in a stock-lane guest).
@test "--match selects exactly what tcpdump selects, in both directions" {
	selects_each 'vlan 20 and arp' 'icmp6' 'ip[0] & 0xf > 5' \
		'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)'
}

# bats test_tags=kernel-neutral
@test "--match selects exactly what tcpdump selects, in both directions: more expressions" {
	selects_each 'tcp[tcpflags] & tcp-syn != 0' 'port 53' 'net 10.1.0.0/16' 'vlan' \
		'not arp' 'udp and not port 123' 'ether broadcast'
}

@test "--defer keeps a --match expression with a newline whole: the session runs all of it" {
	# issue 12: the record was cut at the newline, and the session mirrored
	# every udp frame, port 123 included, that the user had excluded
	local expr=$'udp\nand not port 123' want got
	run ifm up s0 --to dl --defer --match "$expr"
	assert_success
	veth dl
	run ifm refresh dl
	assert_success
	run ifm status s0 --json
	assert_output --partial '"match": "udp\u000aand not port 123"'
	mix_through dlp
	want=$(frames "$BATS_TEST_TMPDIR/src.pcap" 'udp and not port 123')
	got=$(frames "$BATS_TEST_TMPDIR/dst.pcap")
	[[ -n $want && $(frames "$BATS_TEST_TMPDIR/src.pcap" 'udp port 123') ]]
	assert_equal "$got" "$want"
}

@test "--match keeps the session declarative: same expression unchanged, another replaces it" {
	run ifm up s0 --to d0 --match 'udp'
	assert_success
	state=$(tc_state)
	run ifm up s0 --to d0 --match 'udp'
	assert_output --partial "unchanged"
	assert_equal "$(tc_state)" "$state"
	run ifm up s0 --to d0 --match 'tcp'
	assert_output --partial "replaced (match or sample changed)"
	run ifm status s0
	assert_equal "${#lines[@]}" 2
	assert_line --regexp "^s0 ingress -> d0 \(up\) .* match 'tcp' \[clsact bpf pref [0-9]+\]$"
	# back to everything: the cheapest classifier again
	run ifm up s0 --to d0
	assert_success
	run ifm status s0 --json
	assert_output --partial '"match": null'
	refute_output --partial '"classifier": "bpf"'
}

@test "--sample 10 over 20000 frames mirrors 2000 within 5 sigma" {
	run ifm up s0 --to d0 --direction ingress --sample 10
	assert_success
	run ifm status s0
	assert_output --partial "sample 1/10"
	before=$(rx_packets d0p)
	send_in s0 20000
	now=$(counter_settles d0p)
	got=$((now - before))
	echo "sampled $got of 20000" >&2
	# binomial: mean 2000, sigma sqrt(20000*0.1*0.9) = 42.4; 5 sigma = 212
	((got >= 1788 && got <= 2212))
	# the source itself got all of them
	expect_rx s0 0 20000
}

@test "--sample combines with --match: one in N of the matching frames" {
	run ifm up s0 --to d0 --direction egress --match 'udp' --sample 4
	assert_success
	before=$(rx_packets d0p)
	send_out s0 4000 --type 0x0800 --dst 02:00:00:00:00:0b \
		--hex 4500001c000000004011f78cc000020ac0000214138813890008e4f0
	send_out s0 4000                       # not udp: never mirrored
	now=$(counter_settles d0p)
	got=$((now - before))
	echo "sampled $got of 4000" >&2
	# mean 1000, sigma sqrt(4000*0.25*0.75) = 27.4; 5 sigma = 137
	((got >= 863 && got <= 1137))
}

@test "collector --snaplen cuts mirrored copies only; the source's frames stay whole" {
	veth c0
	run ifm collector up brm --port c0 --snaplen 128
	assert_success
	assert_output --partial "brm: frames leaving it are cut to 128 bytes"
	run ifm up s0 --to brm
	assert_success
	run ifm status s0
	assert_output --partial "snaplen 128"
	capture_start col c0p
	capture_start src s0p
	send_in s0 20 --size 1400
	send_out s0 20 --size 1400
	send_in s0 20 --size 100
	capture_stop col
	capture_stop src
	run tcpdump -r "$BATS_TEST_TMPDIR/col.pcap" -nn -e
	assert_equal "$(grep -c 'length 128:' <<<"$output")" 40
	assert_equal "$(grep -c 'length 100:' <<<"$output")" 20
	assert_equal "$(grep -c '^[0-9]' <<<"$output")" 60
	# on s0's peer: 20+20 sent into s0 and 20 that s0 sent out, all uncut
	run tcpdump -r "$BATS_TEST_TMPDIR/src.pcap" -nn -e
	assert_equal "$(grep -c 'length 1400:' <<<"$output")" 40
	assert_equal "$(grep -c '^[0-9]' <<<"$output")" 60
	rxb=$(nsx cat /sys/class/net/s0/statistics/rx_bytes)
	assert_equal "$rxb" $((20 * 1400 + 20 * 100))
	# and up again without --snaplen takes the cut away
	run ifm collector up brm --port c0
	assert_success
	assert_output --partial "no longer cut"
	run nsx tc filter show dev brm egress
	refute_output --partial snaplen
}

# bats test_tags=kernel-neutral
@test "bad expressions and values: a clear error each, nothing applied" {
	veth c0
	state=$(tc_state)
	run ifm up s0 --to d0 --match 'tcp port x'
	assert_failure 2
	assert_output "ifmirror: up: --match 'tcp port x': unknown port 'x'"
	run ifm up s0 --to d0 --match 'tcp and ('
	assert_failure 2
	assert_output "ifmirror: up: --match 'tcp and (': can't parse filter expression: syntax error"
	run ifm up s0 --to d0 --match 'ip and ip6'
	assert_failure 2
	assert_output "ifmirror: up: --match 'ip and ip6': expression rejects all packets"
	run ifm up s0 --to d0 --match 'wlan type mgt'
	assert_failure 2
	assert_output --partial "802.11 link-layer types supported only on 802.11"
	run ifm up s0 --to d0 --sample 0
	assert_failure 2
	assert_output "ifmirror: up: --sample '0': not a whole number from 1 to 2147483647"
	run ifm up s0 --to d0 --sample -3
	assert_failure 2
	run ifm collector up brm --port c0 --snaplen 10
	assert_failure 2
	assert_output "ifmirror: collector up: --snaplen '10': not a number of bytes from 14 (the Ethernet header) to 65535"
	run ifm collector up brm --port c0 --snaplen 70000
	assert_failure 2
	assert_equal "$(tc_state)" "$state"
}

@test "ifupdown options mirror-match, mirror-sample, mirror-snaplen" {
	veth c0
	ifupdown_lab
	cat >"$IFILE" <<-EOT
	iface brm inet manual
	    mirror-collector c0
	    mirror-snaplen 64
	iface s0 inet manual
	    mirror-to brm
	    mirror-direction ingress
	    mirror-match udp port 53
	    mirror-sample 1
	EOT
	run ifupdown ifup brm
	assert_success
	run ifupdown ifup s0
	assert_success
	run ifm status s0
	assert_output --regexp "^s0 ingress -> brm \(up\) .* match 'udp port 53' snaplen 64 "
	capture_start col c0p
	send_in s0 1 --pcap "$MIX"
	capture_stop col
	# what tcpdump selects from the mix with that expression, cut to 64 bytes
	# (packets, not tcpdump's lines: see packets in helpers.bash)
	want=$(packets "$MIX" 'udp port 53')
	((want > 0))
	assert_equal "$(packets "$BATS_TEST_TMPDIR/col.pcap")" "$want"
	ifupdown ifdown s0
	sed -i 's/mirror-match udp port 53/mirror-match udp port x/' "$IFILE"
	run ifupdown ifup s0
	assert_failure
	assert_output --partial "ifmirror: s0: mirror-match 'udp port x': unknown port 'x'"
	sed -i 's/mirror-match udp port x/mirror-match udp/; s/mirror-sample 1/mirror-sample zero/' "$IFILE"
	run ifupdown ifup s0
	assert_failure
	assert_output --partial "ifmirror: s0: mirror-sample 'zero': not a whole number"
}

# A VLAN 20 frame: tag, IPv4 192.0.2.10 -> 192.0.2.20, TCP SYN from 40000 to PORT (hex)
tagged_tcp() {
	echo "00140800450000280000000040060000c000020ac00002149c40${1}00000000000000005002721000000000"
}

@test "--match 'vlan and tcp port 80' copies every tagged TCP port 80 frame, in and out" {
	# issue 12: 0 copies on ingress, where the kernel takes the tag out of the
	# frame, on both kernels: the rewrite read the tag for the IP header length
	local tag80 tag443 expr='vlan and tcp port 80'
	tag80=$(tagged_tcp 0050) tag443=$(tagged_tcp 01bb)
	run ifm up s0 --to d0 --match "$expr"
	assert_success
	before=$(rx_packets d0p)
	send_in s0 40 --type 0x8100 --dst 02:00:00:00:00:0b --hex "$tag80"
	expect_rx d0p "$before" 40
	# the same flow to port 443, and port 80 untagged: not one copy
	send_in s0 40 --type 0x8100 --dst 02:00:00:00:00:0b --hex "$tag443"
	send_in s0 40 --type 0x0800 --dst 02:00:00:00:00:0b --hex "${tag80:8}"
	expect_rx d0p "$before" 40
	# out of s0, the tag in the frame
	send_out s0 30 --type 0x8100 --dst 02:00:00:00:00:0b --hex "$tag80"
	send_out s0 30 --type 0x8100 --dst 02:00:00:00:00:0b --hex "$tag443"
	expect_rx d0p "$before" 70
	run ifm status s0
	assert_line --regexp "^s0 ingress -> d0 \(up\) packets 40 .* match 'vlan and tcp port 80'"
	assert_line --regexp "^s0 egress -> d0 \(up\) packets 30 .* match 'vlan and tcp port 80'"
	# and the mix, both ways: its one tagged TCP port 80 frame, in and out
	selects_like_tcpdump "$expr"
	assert_equal "$(frames "$BATS_TEST_TMPDIR/dst.pcap" | wc -l)" 2
}

# alternatives FORMAT BYTES: "F(1) or F(2) or ..." as long as fits in BYTES,
# F(i) being printf FORMAT with i twice (i mod 256)
alternatives() {
	local e="" next i
	for ((i = 1; ; i++)); do
		next=${e:+$e or }$(printf "$1" $((i % 256)) $((i % 256)))
		((${#next} <= $2)) || break
		e=$next
	done
	echo "$e"
}

# the number of instructions of the bpf filter on s0's ingress
ingress_insns() {
	nsx tc filter show dev s0 ingress | sed -n "s/.* bytecode '\([0-9]*\),.*/\1/p"
}

@test "--match programs of thousands of instructions: added whole by up and apply, seen, removed" {
	# issue 12: a request did not fit one page: up said "Cannot allocate memory"
	# past about 500 instructions, and apply crashed (a NULL message put into
	# its batch), leaving a clsact that no command removed
	local expr
	expr="tcp port 80 or $(alternatives 'decnet host %d.%d' 840)"
	((${#expr} <= 1023))
	selects_like_tcpdump "$expr"
	(($(ingress_insns) > 3500))
	run ifm status s0 --json
	assert_output --partial "\"match\": \"$expr\""
	run ifm down s0
	assert_success
	run nsx tc qdisc show dev s0
	refute_output --partial clsact

	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[session big]\nsource = s0\nto = d0\nmatch = %s\n' "$expr" >"$CONF"
	run ifm apply --config "$CONF" --dry-run
	assert_success
	run ifm apply --config "$CONF"
	assert_success
	assert_output --partial "1 added"
	(($(ingress_insns) > 3500))
	mix_through d0p
	assert_equal "$(frames "$BATS_TEST_TMPDIR/dst.pcap")" \
		"$(frames "$BATS_TEST_TMPDIR/src.pcap" "$expr")"
	run ifm flush
	assert_success
	run nsx tc qdisc show dev s0
	refute_output --partial clsact
}

# bats test_tags=kernel-neutral
@test "--match programs bigger than a filter can hold: refused up front by up and apply, nothing changed" {
	local expr state
	# more than the 3968 instructions ifmirror allows, fewer than the kernel's 4096
	expr=$(alternatives 'decnet host %d.%d' 900)
	state=$(tc_state)
	run ifm up s0 --to d0 --match "$expr"
	assert_failure 2
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "^ifmirror: up: --match 'decnet host 1\.1 or .*': compiles to 40[0-9][0-9] instructions, more than the 3968 that a filter can hold$"
	assert_equal "$(tc_state)" "$state"
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	printf '[session big]\nsource = s0\nto = d0\nmatch = %s\n' "$expr" >"$CONF"
	for dry in --dry-run ""; do
		run ifm apply --config "$CONF" $dry
		assert_failure 1
		assert_equal "${#lines[@]}" 1
		assert_output --regexp "^ifmirror: .*ifmirror.conf:4: match 'decnet host 1\.1 or .*': compiles to 40[0-9][0-9] instructions, more than the 3968 that a filter can hold$"
		assert_equal "$(tc_state)" "$state"
	done
	# and the bound on the text, which bounds libpcap's time
	run ifm up s0 --to d0 --match "$(alternatives 'host 10.0.%d.%d' 1100)"
	assert_failure 2
	assert_output "ifmirror: up: --match: longer than 1023 bytes"
	assert_equal "$(tc_state)" "$state"
}
