# The helpers of the ifmirror watch suites (tests/watch*.bats): one watch
# process per test, its file and its log. Load after helpers (and after
# nm-helpers where NetworkManager's lab is used).
# shellcheck shell=bash

# watch_lab_up: in setup(): the lab (lab_up) with veths c0 and d0, and
# watch_setup; watch_lab_down: in teardown()
watch_lab_up() {
	lab_up
	veth c0 d0
	watch_setup
}
watch_lab_down() {
	watch_stop
	lab_down
}

# watch_setup: in setup(), before any watch_start
watch_setup() {
	CONF=$BATS_TEST_TMPDIR/ifmirror.conf
	LOG=$BATS_TEST_TMPDIR/watch.log
	WATCH=
}

# watch_stop: in teardown(), kills the test's watch if one runs (by its PID)
watch_stop() {
	if [[ -n $WATCH ]]; then
		kill -9 "$WATCH" 2>/dev/null || true
		wait "$WATCH" 2>/dev/null || true
	fi
}

# conf <<EOT: the watched file, from stdin
conf() { cat >"$CONF"; chmod 0644 "$CONF"; }

# wait_until CMD...: true within 10 s, polled every 50 ms
wait_until() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "not within 10 s: $*" >&2
	return 1
}

# watch_start_plain: watch in the background, in the lab's namespace, or where
# NetworkManager runs when nm-helpers' NM_HOLDER is set (its /run/ifmirror:
# the dispatcher's lock and markers); ip netns exec and nsenter exec it, so $!
# is its PID (nmx, a function, would be a subshell). Returns once it listens.
watch_start_plain() {
	if [[ -n ${NM_HOLDER:-} ]]; then
		nsenter -t "$NM_HOLDER" -m -n "$IFM" watch --config "$CONF" 2>>"$LOG" &
	else
		ip netns exec "$NS" "$IFM" watch --config "$CONF" 2>>"$LOG" &
	fi
	WATCH=$!
	wait_until grep -q "watching $CONF" "$LOG"
}
# watch_start: the same, once it has made the collector brm of the file
watch_start() {
	watch_start_plain
	wait_until nsx test -e /sys/class/net/brm/brif/c0
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# session_lines: "SOURCE DIRECTION DESTINATION" of every session, sorted
session_lines() {
	ifm status --json | jq -r '.sessions | map("\(.source) \(.direction) \(.destination)") | sort | .[]'
}
have_session_lines() { [[ $(session_lines) == "$1" ]]; }

# ifmirror's mirror actions on DEV in DIR (ingress|egress): their number. An
# action is known by its index (u32 on clsact lists the filters of both
# directions under each), its direction by its cookie ("ifmr", version, dir)
mirrors_on() {
	local want=01
	[[ $2 == egress ]] && want=02
	nsx sh -c "tc filter show dev $1 ingress; tc filter show dev $1 egress" |
		awk '/mirred/ { m = 1 } m && $1 == "index" { i = $2 }
		     m && $1 == "cookie" && $2 ~ /^69666d72/ { print i, substr($2, 11, 2); m = 0 }' |
		sort -u | awk -v d="$want" '$2 == d' | wc -l
}
# one_each SOURCE...: exactly one ifmirror mirror per direction on each
one_each() {
	local s d
	for s in "$@"; do
		for d in ingress egress; do
			[[ $(mirrors_on "$s" "$d") == 1 ]] || {
				echo "$s $d: $(mirrors_on "$s" "$d") ifmirror mirrors, expected 1" >&2
				nsx tc filter show dev "$s" "$d" >&2
				return 1
			}
		done
	done
}

# mirrored SOURCE PEER: N frames in and N out of SOURCE, 2N at PEER exactly
mirrored() {
	local before
	before=$(counter_settles "$2")
	send_in "$1" "$N"
	send_out "$1" "$N"
	expect_rx "$2" "$before" $((2 * N))
}

# tap NAME...: tap devices in the lab, up
tap() {
	local t
	for t in "$@"; do
		nsx ip tuntap add mode tap "$t"
		nsx ip link set "$t" up
	done
}
