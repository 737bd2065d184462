# Helpers of the copy-budget tests (budget.bats: the shaper; budget-police.bats:
# act_police): a 4mbit budget, the source far above it, copies counted at the
# collector's port c0p.

RATE_BITS=4000000   # --rate 4mbit
SIZE=1000

rx_bytes() { nsx cat "/sys/class/net/$1/statistics/rx_bytes"; }
now() { date +%s.%N; }

# budget_holds START SECONDS [SENDER...]: the source far above the budget;
# copies at c0p over a window inside the send: it opens once START bytes of
# copies came (the full bucket and queue of the start spent; a process starts
# late under qemu) and lasts SECONDS, before the sender (stopped by its PID)
# ends. The sender: the command given (it must exec the process that sends,
# so the PID is its), else 2 000 000 frames into s0. The source must send at
# least 10x the budget, the copies be within 10% of budget x time.
budget_holds() {
	local c c0 c1 s0 s1 t0 t1 pid i ratio src start=$1 secs=$2
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
	for ((i = 0; i < 200; i++)); do
		(($(rx_bytes c0p) - c > start)) && break
		sleep 0.05
	done
	c0=$(rx_bytes c0p) s0=$(rx_bytes s0) t0=$(now)
	sleep "$secs"
	c1=$(rx_bytes c0p) s1=$(rx_bytes s0) t1=$(now)
	kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	read -r ratio src <<<"$(python3 -c "dt = $t1 - $t0
print('%.3f %.1f' % (($c1 - $c0) / ($RATE_BITS / 8 * dt), ($s1 - $s0) / ($RATE_BITS / 8 * dt)))")"
	echo "copies / (budget x time) = $ratio; source / budget = $src" >&2
	python3 -c "import sys; sys.exit(not $src >= 10)" || {
		echo "the source sent only $src x the budget: no test of the budget" >&2; return 1; }
	python3 -c "import sys; sys.exit(not 0.9 <= $ratio <= 1.1)"
}
