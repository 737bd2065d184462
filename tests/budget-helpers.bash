# Helpers of the copy-budget tests (budget.bats: the shaper; budget-police.bats:
# act_police; budget-bucket.bats: the eBPF bucket): a 4mbit budget, the source far above it, copies counted at the
# collector's port c0p.

RATE_BITS=4000000   # --rate 4mbit
SIZE=1000

rx_bytes() { nsx cat "/sys/class/net/$1/statistics/rx_bytes"; }

# budget_holds START SECONDS [SENDER...]: the source far above the budget;
# copies at c0p over a window inside the send: it opens once START bytes of
# copies came (the full bucket and queue of the start spent; a process starts
# late under qemu) and lasts SECONDS, before the sender (stopped by its PID)
# ends. The sender: the command given (it must exec the process that sends,
# so the PID is its), else 2 000 000 frames into s0. The source must send at
# least 10x the budget, the copies be within 10% of budget x time.
# One process reads the counters and the clock together: a reader spawned per
# counter (nsx cat, date) lets the window the bytes cover and the one timed
# drift apart by a spawn under load (CI once measured 1.121 so).
budget_holds() {
	local c pid ratio src start=$1 secs=$2
	shift 2
	c=$(rx_bytes c0p)
	if (($#)); then
		"$@" &
	else
		# more than the window needs
		# not the function nsx: $! is then the sender itself, which kill stops
		ip netns exec "$NS" "$SENDFRAMES" s0p 2000000 --size $SIZE &
	fi
	pid=$!
	read -r ratio src < <(ip netns exec "$NS" python3 - "$c" "$start" "$secs" "$RATE_BITS" <<'PY'
import sys, time
c, start, secs, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
def rx(dev):
    with open("/sys/class/net/%s/statistics/rx_bytes" % dev) as f:
        return int(f.read())
def sample():
    # the clock at the middle of the two reads
    a = time.monotonic()
    copies, source = rx("c0p"), rx("s0")
    return (a + time.monotonic()) / 2, copies, source
for _ in range(200):
    if rx("c0p") - c > start:
        break
    time.sleep(0.05)
t0, c0, s0 = sample()
time.sleep(secs)
t1, c1, s1 = sample()
budget = rate / 8 * (t1 - t0)
print("%.3f %.1f" % ((c1 - c0) / budget, (s1 - s0) / budget))
PY
	)
	kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	echo "copies / (budget x time) = $ratio; source / budget = $src" >&2
	python3 -c "import sys; sys.exit(not $src >= 10)" || {
		echo "the source sent only $src x the budget: no test of the budget" >&2; return 1; }
	python3 -c "import sys; sys.exit(not 0.9 <= $ratio <= 1.1)"
}

# tunnel_underlay: c0 as a tunnel's underlay, 10.9.0.1 toward a remote
# 10.9.0.2 (c0p's address, resolved without ARP): the tunnel's packets are
# counted at c0p
tunnel_underlay() {
	nsx ip addr add 10.9.0.1/24 dev c0
	nsx ip link set c0p address 02:00:00:00:00:02
	nsx ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev c0
}

# source_frames_arrive N: N frames into s0 and N out of it all reach their
# peers: the budget never touches the source's own frames
source_frames_arrive() {
	local in0 out0
	in0=$(rx_packets s0) out0=$(rx_packets s0p)
	send_in s0 "$1" --size $SIZE
	send_out s0 "$1" --size $SIZE
	expect_rx s0 "$in0" "$1"
	expect_rx s0p "$out0" "$1"
}

# budget_crash STATE NAME COMMAND...: killed (kill -9, tests/tools/crashpoint.c)
# after each of COMMAND's netlink requests, then: the same command again
# converges to what an uninterrupted run makes, and flush then leaves the
# lab as it was (the foreign objects of the test included), as the function
# STATE prints the lab
budget_crash() {
	local state=$1 name=$2 n out clean want total bad=0
	shift 2
	clean=$($state)
	out=$(nsx "$BUILD/ifm-crashpoint" 1000000 "$IFM" "$@" 2>/dev/null | tail -n 1)
	[[ $out =~ ^exited\ 0\ after\ ([0-9]+)\ requests ]] || fail "$name: uninterrupted: $out"
	total=${BASH_REMATCH[1]}
	want=$($state)
	ifm flush -q
	assert_equal "$($state)" "$clean"
	for ((n = 1; n <= total; n++)); do
		out=$(nsx "$BUILD/ifm-crashpoint" "$n" "$IFM" "$@" 2>/dev/null | tail -n 1)
		[[ $out == killed ]] || fail "$name: not killed at point $n of $total: $out"
		if ! ifm "$@" -q >/dev/null 2>&1 || [[ $($state) != "$want" ]]; then
			echo "# $name: point $n: the next run did not converge: $(diff <(echo "$want") <($state) | grep '^[<>]' | head -n 3 | tr '\n' ' ')" >&3
			bad=$((bad + 1))
		fi
		nsx "$BUILD/ifm-crashpoint" "$n" "$IFM" "$@" >/dev/null 2>&1 || true
		ifm flush -q
		if [[ $($state) != "$clean" ]]; then
			echo "# $name: point $n: flush after the kill left: $(diff <(echo "$clean") <($state) | grep '^[<>]' | head -n 3 | tr '\n' ' ')" >&3
			bad=$((bad + 1))
			return 1
		fi
	done
	echo "# crash points of $name: $total, not converged $bad" >&3
	((bad == 0))
}
