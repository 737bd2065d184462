#!/usr/bin/env bats
# Crash points: kill -9 a command right after each of its netlink requests
# (tests/tools/crashpoint.c, under ptrace), then check that nothing is left
# that the next command cannot recognise: the same command run again
# converges to what an uninterrupted run makes, `flush` right after the kill
# removes everything ifmirror made, and the user's own tc state survives.
# Each test prints its row of the matrix: points, converged, not converged.

load helpers

setup() {
	lab_up
	veth s0 s1 s2 d0 c0 u0
	nsx ip addr add 10.9.0.1/24 dev u0
	# the user's own tc state, which must survive every kill: a clsact on s0
	# with a filter of theirs, an htb root on s1
	nsx tc qdisc add dev s0 clsact
	nsx tc filter add dev s0 ingress pref 500 protocol all u32 match u32 0 0 \
		action mirred egress mirror dev u0
	nsx tc qdisc add dev s1 root handle 1: htb default 1
	CRASH=$BUILD/ifm-crashpoint
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	cat >"$CONF" <<-EOT
	[tunnel vx0]
	type = vxlan
	remote = 10.9.0.2
	vni = 42
	dev = u0

	[collector br0]
	ports = c0

	[session a]
	source = s0 s1
	to = br0

	[session b]
	source = s2
	to = vx0
	direction = ingress
	EOT
	chmod 0644 "$CONF"
}

teardown() { lab_down; }

# The lab as tc and ip show it, without what differs between two runs that
# make the same objects: ifindexes, MAC addresses, action and program ids,
# cookies (they hold the destination's ifindex), filter handles.
state() {
	tc_state | sed -E 's/^[0-9]+: //; s/@if[0-9]+/@ifX/g; s/link\/ether [0-9a-f:]+/link\/ether X/;
		s/cookie [0-9a-f]+/cookie X/g; s/index [0-9]+/index X/g; s/ id [0-9]+/ id X/g;
		s/handle [0-9a-fx:]+/handle X/g; s/fh [0-9a-f:]+/fh X/g; s/ht [0-9a-f]+/ht X/g; s/order [0-9]+/order X/g' | sort
}

# crash_matrix NAME COMMAND...: every crash point of COMMAND; with STEP=k set,
# the first three, every k-th and the last (a command of many requests)
crash_matrix() {
	local name=$1 n out clean want got bad=0 total tried=0 step=${STEP:-1}
	shift
	clean=$(state)
	# the uninterrupted command, counting its requests
	out=$(nsx "$CRASH" 1000000 "$IFM" "$@" 2>/dev/null | tail -n 1)
	[[ $out =~ ^exited\ 0\ after\ ([0-9]+)\ requests ]] ||
		fail "$name: the uninterrupted command: $out"
	total=${BASH_REMATCH[1]}
	want=$(state)
	run ifm flush -q
	assert_success
	assert_equal "$(state)" "$clean"
	for ((n = 1; n <= total; n++)); do
		((step <= 1 || n <= 3 || n % step == 0 || n == total)) || continue
		# killed at point n, then the same command again: what it makes
		# without a kill
		out=$(nsx "$CRASH" "$n" "$IFM" "$@" 2>/dev/null | tail -n 1)
		[[ $out == killed ]] || fail "$name: not killed at point $n of $total: $out"
		tried=$((tried + 1))
		got=ok
		if ! ifm "$@" >"$BATS_TEST_TMPDIR/out" 2>&1; then
			got="point $n: the next run failed: $(head -n 1 "$BATS_TEST_TMPDIR/out")"
		elif [[ $(state) != "$want" ]]; then
			got="point $n: the next run did not converge: $(diff <(echo "$want") <(state) | grep '^[<>]' | head -n 3 | tr '\n' ' ')"
		elif ! ifm flush -q >"$BATS_TEST_TMPDIR/out" 2>&1 || [[ $(state) != "$clean" ]]; then
			got="point $n: flush after the next run left: $(diff <(echo "$clean") <(state) | grep '^[<>]' | head -n 3 | tr '\n' ' ')"
		else
			# killed at point n again, then flush at once
			nsx "$CRASH" "$n" "$IFM" "$@" >/dev/null 2>&1
			if ! ifm flush -q >"$BATS_TEST_TMPDIR/out" 2>&1; then
				got="point $n: flush after the kill failed: $(head -n 1 "$BATS_TEST_TMPDIR/out")"
			elif [[ $(state) != "$clean" ]]; then
				got="point $n: flush after the kill left: $(diff <(echo "$clean") <(state) | grep '^[<>]' | head -n 3 | tr '\n' ' ')"
			fi
		fi
		if [[ $got != ok ]]; then
			echo "# $name: $got" >&3
			bad=$((bad + 1))
			# start the next point from the clean lab: what flush leaves
			# behind (a device without its mark) goes by hand
			ifm flush -q >/dev/null 2>&1
			for dev in $(nsx ls /sys/class/net); do
				grep -q "^$dev[:@]" <<<"$clean" || nsx ip link del "$dev" 2>/dev/null || true
				grep -q "qdisc clsact ffff: dev $dev " <<<"$clean" ||
					nsx tc qdisc del dev "$dev" clsact 2>/dev/null || true
			done
			[[ $(state) == "$clean" ]] || fail "$name: the lab cannot be cleaned after point $n"
		fi
	done
	echo "# crash points of $name: $total, tried $tried, converged $((tried - bad)), not converged $bad" >&3
	((total > 0)) || fail "$name: no crash point reached"
	((bad == 0)) || fail "$name: $bad of $tried crash points did not converge"
}

@test "crash points: up onto the user's clsact" {
	crash_matrix "up s0 (user's clsact)" up s0 --to d0
}

@test "crash points: up where ifmirror makes the clsact" {
	crash_matrix "up s2" up s2 --to d0
}

@test "crash points: collector up" {
	crash_matrix "collector up" collector up br0 --port c0
}

@test "crash points: tunnel up" {
	crash_matrix "tunnel up" tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 42 --dev u0
}

@test "crash points: apply (tunnel, collector, three sessions)" {
	crash_matrix "apply" apply --config "$CONF" -q
}

@test "crash points: apply of 200 sources (one batch of clsacts and filters)" {
	local i
	for ((i = 0; i < 100; i++)); do
		echo "link add m$i type veth peer name m${i}p"
		echo "link set m$i up"
		echo "link set m${i}p up"
	done | nsx ip -batch -
	{
		echo "[session many]"
		echo -n "source ="
		for ((i = 0; i < 100; i++)); do echo -n " m$i m${i}p"; done
		echo
		echo "to = d0"
		echo "direction = ingress"
	} >"$CONF"
	STEP=100 crash_matrix "apply (200 sources)" apply --config "$CONF" -q
}
