#!/usr/bin/env bats
# ifmirror status --json (sessions, collectors, tunnels), --prometheus and
# --textfile, judged by real tools: promtool (Debian's prometheus) checks the
# format, a real prometheus-node-exporter with only its textfile collector
# serves the file over HTTP inside the test's namespace, and its counters
# must equal status --json after a counted number of frames.

load helpers

setup() {
	lab_up
	veth s0 d0
	N=37
}

teardown() {
	[[ -n ${EXPORTER:-} ]] && kill "$EXPORTER" 2>/dev/null
	lab_down
}

# prom_norm: Prometheus text on stdin -> "name{labels sorted} value" per
# sample of the ifmirror_ families (node_exporter reorders labels and writes
# values as floats), sorted
prom_norm() {
	python3 -c '
import re, sys
out = []
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.startswith("ifmirror_"):
        continue
    m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
    if not m:
        sys.exit("cannot read: " + line)
    labels = re.findall(r"(\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(2) or "")
    v = float(m.group(3))
    out.append("%s{%s} %s" % (m.group(1), ",".join("%s=\"%s\"" % l for l in sorted(labels)),
                              int(v) if v == int(v) else v))
print("\n".join(sorted(out)))'
}

# json_expect: the session and collector samples status --json implies, as prom_norm writes them
json_expect() {
	jq -r '
	def l: "destination=\"\(.destination // "")\",direction=\"\(.direction)\",source=\"\(.source)\"";
	(.sessions[] |
		"ifmirror_session_copies_total{\(l)} \(.packets)",
		"ifmirror_session_bytes_total{\(l)} \(.bytes)",
		(.drops | to_entries[]) as $d | "ifmirror_session_drops_total{cause=\"\($d.key)\",\(l)} \($d.value)"),
	(.sessions[] | "ifmirror_session_destination_up{\(l)} \(if .destination_state == "up" then 1 else 0 end)"),
	(.collectors[] | .bridge as $b | "ifmirror_collector_carrier{collector=\"\($b)\"} \(if .state == "up" then 1 else 0 end)",
		(([.sink | .role = "sink"] + [.ports[] | .role = "port"])[] |
			"ifmirror_collector_port_carrier{collector=\"\($b)\",port=\"\(.name)\",role=\"\(.role)\"} \(if .carrier then 1 else 0 end)",
			"ifmirror_collector_port_attached{collector=\"\($b)\",port=\"\(.name)\",role=\"\(.role)\"} \(if .attached then 1 else 0 end)")),
	(.tunnels[] | select(.headroom != null) |
		"ifmirror_tunnel_underlay_mtu_bytes{tunnel=\"\(.name)\",type=\"\(.type)\"} \(.underlay_mtu)",
		"ifmirror_tunnel_underlay_headroom_bytes{tunnel=\"\(.name)\",type=\"\(.type)\"} \(.headroom)")' | sort
}

# value FILE SAMPLE: the value of the sample line that starts with SAMPLE
value() { awk -v s="$2" 'index($0, s " ") == 1 { print $NF }' "$1"; }

# sessions of every kind of drop, with counted frames: s0 -> d0 (up, N
# frames), s1 -> dx (down, N dropped), s2 -> dg (deleted, N dropped), all ingress
counted_sessions() {
	veth s1 s2 dx dg
	nsx ip link set dx down
	ifm up s0 --to d0 --direction ingress -q
	ifm up s1 --to dx --direction ingress -q
	ifm up s2 --to dg --direction ingress -q
	nsx ip link del dg
	send_in s0 $N
	send_in s1 $N
	send_in s2 $N
	counter_settles d0p >/dev/null
}

@test "status --prometheus: promtool accepts it, and its counters are status --json's, frame for frame" {
	counted_sessions
	ifm status --json >"$BATS_TEST_TMPDIR/status.json"
	ifm status --prometheus >"$BATS_TEST_TMPDIR/metrics.prom"
	run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.prom"
	assert_success
	refute_output
	run jq -r '.sessions[] | "\(.source) \(.packets) \(.dropped) \(.drops.destination_down) \(.drops.destination_gone) \(.drops.budget)"' "$BATS_TEST_TMPDIR/status.json"
	assert_output "s0 $N 0 0 0 0
s1 $N $N $N 0 0
s2 $N $N 0 $N 0"
	f=$BATS_TEST_TMPDIR/metrics.prom
	assert_equal "$(value "$f" 'ifmirror_session_copies_total{source="s0",direction="ingress",destination="d0"}')" $N
	assert_equal "$(value "$f" 'ifmirror_session_drops_total{source="s1",direction="ingress",destination="dx",cause="destination_down"}')" $N
	assert_equal "$(value "$f" 'ifmirror_session_drops_total{source="s2",direction="ingress",destination="",cause="destination_gone"}')" $N
	assert_equal "$(value "$f" 'ifmirror_session_destination_up{source="s1",direction="ingress",destination="dx"}')" 0
	assert_equal "$(value "$f" 'ifmirror_session_destination_up{source="s0",direction="ingress",destination="d0"}')" 1
	# each family once, with HELP and TYPE, counters ending in _total
	run grep -c '^# TYPE ' "$f"
	assert_output 4
	grep -q '^# TYPE ifmirror_session_drops_total counter$' "$f"
	grep -q '^# HELP ifmirror_session_copies_total ' "$f"
	# every sample, and nothing else, as status --json says
	diff <(json_expect <"$BATS_TEST_TMPDIR/status.json") <(prom_norm <"$f")
}

@test "node_exporter's textfile collector serves status --textfile over HTTP with status --json's counters" {
	counted_sessions
	# two deleted destinations of one source and direction: one series, summed
	veth s3 dg1 dg2
	ifm up s3 --to dg1 --direction ingress -q
	ifm up s3 --to dg2 --direction ingress -q
	nsx ip link del dg1
	nsx ip link del dg2
	send_in s3 $N
	ifm collector up brm --port c0 --port c1 -q
	veth c0
	ifm refresh c0 -q
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/textfile.XXXXXX")
	run ifm status --prometheus --textfile "$dir"
	assert_success
	refute_output
	run ls -A "$dir"
	assert_output ifmirror.prom
	run stat -c %a "$dir/ifmirror.prom"
	assert_output 644
	ifm status --json >"$BATS_TEST_TMPDIR/status.json"
	ip netns exec "$NS" prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$dir" --web.listen-address=127.0.0.1:9100 \
		--web.disable-exporter-metrics >"$BATS_TEST_TMPDIR/exporter.log" 2>&1 3>&- &
	EXPORTER=$!
	for ((i = 0; i < 100; i++)); do
		nsx curl -sf -o "$BATS_TEST_TMPDIR/scrape" http://127.0.0.1:9100/metrics && break
		sleep 0.1
	done
	[[ -s $BATS_TEST_TMPDIR/scrape ]] || { cat "$BATS_TEST_TMPDIR/exporter.log"; false; }
	run grep -E '^node_textfile_scrape_error ' "$BATS_TEST_TMPDIR/scrape"
	assert_output "node_textfile_scrape_error 0"
	run jq -r '[.sessions[] | select(.source == "s3") | .packets] | add' "$BATS_TEST_TMPDIR/status.json"
	assert_output $((2 * N))
	grep -q "^ifmirror_session_copies_total{destination=\"\",direction=\"ingress\",source=\"s3\"} $((2 * N))\$" "$BATS_TEST_TMPDIR/scrape"
	grep -q '^ifmirror_collector_port_carrier{collector="brm",port="c1",role="port"} 0$' "$BATS_TEST_TMPDIR/scrape"
	grep -q '^ifmirror_collector_port_carrier{collector="brm",port="c0",role="port"} 1$' "$BATS_TEST_TMPDIR/scrape"
	# what node_exporter serves is what ifmirror wrote, and what status --json says
	# (s3's two sessions summed, as the exporter could serve no duplicate)
	diff <(prom_norm <"$dir/ifmirror.prom") <(prom_norm <"$BATS_TEST_TMPDIR/scrape")
	diff <(json_expect <"$BATS_TEST_TMPDIR/status.json" | grep -v 'source="s3"') \
		<(prom_norm <"$BATS_TEST_TMPDIR/scrape" | grep -v 'source="s3"')
	kill "$EXPORTER"
	wait "$EXPORTER" || true
	EXPORTER=
}

@test "status --json: collectors with sink and ports (carrier, operstate, missing, detached)" {
	veth c0 c2
	ifm collector up brm --port c0 --port c1 --port c2 -q
	nsx ip link set c0p down      # c0 loses carrier
	nsx ip link set c2 nomaster   # c2 detached
	run sh -c "ip netns exec $NS $IFM status --json | jq -c '.collectors[] | [.bridge, .state, .carrier, .sink.present, .sink.attached, .sink.carrier, (.ports[] | [.name, .present, .attached, .state, .carrier, .operstate])]'"
	assert_output '["brm","up",true,true,true,true,["c0",true,true,"no-carrier",false,"lowerlayerdown"],["c1",false,false,"missing",false,null],["c2",true,false,"up",true,"up"]]'
	run ifm status --prometheus
	assert_line 'ifmirror_collector_port_carrier{collector="brm",port="c0",role="port"} 0'
	assert_line 'ifmirror_collector_port_attached{collector="brm",port="c2",role="port"} 0'
	assert_line 'ifmirror_collector_port_carrier{collector="brm",port="brm-sink",role="sink"} 1'
	assert_line 'ifmirror_collector_carrier{collector="brm"} 1'
	# status SOURCE: the collector of that name only
	run sh -c "ip netns exec $NS $IFM status d0 --json | jq -c '[.sessions, .collectors, .tunnels]'"
	assert_output '[[],[],[]]'
}

@test "status --json and --prometheus: a tunnel's underlay MTU headroom follows the sessions' frames" {
	nsx ip link add u0 type veth peer name u0p
	nsx ip link set u0 mtu 1600
	nsx ip link set u0p mtu 1600
	nsx ip link set u0 up
	nsx ip link set u0p up
	nsx ip addr add 10.9.0.1/24 dev u0
	ifm tunnel up vx0 --type vxlan --remote 10.9.0.2 --vni 42 -q
	ifm up s0 --to vx0 --direction ingress -q 2>/dev/null
	# 1514-byte frames (s0's MTU 1500) + 36 bytes of vxlan/IPv4 = 1550: 50 to spare on 1600
	run sh -c "ip netns exec $NS $IFM status --json | jq -c '.tunnels[] | [.name, .type, .id_key, .id, .remote, .local, .underlay, .underlay_mtu, .overhead, .frame, .frame_from, .headroom, .fits]'"
	assert_output '["vx0","vxlan","vni",42,"10.9.0.2",null,"u0",1600,36,1514,"sessions",50,true]'
	run ifm status --prometheus
	assert_line 'ifmirror_tunnel_underlay_headroom_bytes{tunnel="vx0",type="vxlan"} 50'
	assert_line 'ifmirror_tunnel_underlay_mtu_bytes{tunnel="vx0",type="vxlan"} 1600'
	# a larger source: copies no longer fit (as check warns)
	nsx ip link set s0 mtu 1700
	run ifm status --prometheus
	assert_line 'ifmirror_tunnel_underlay_headroom_bytes{tunnel="vx0",type="vxlan"} -150'
	run ifm check s0 --to vx0
	assert_output --partial "raise u0's MTU to 1750"
	run sh -c "ip netns exec $NS $IFM status vx0 --json | jq -c '[.sessions, (.tunnels[] | [.name, .headroom])]'"
	assert_output '[[],["vx0",-150]]'
}

# bats test_tags=kernel-neutral
@test "status --prometheus: label values escaped and valid UTF-8 for any interface name" {
	nsx ip link add 'q"b\c' type veth peer name qp
	nsx ip link add $'x\xff' type veth peer name xp
	nsx ip link set 'q"b\c' up
	nsx ip link set $'x\xff' up
	ifm up 'q"b\c' --to d0 --direction ingress -q
	ifm up $'x\xff' --to d0 --direction ingress -q
	ifm status --prometheus >"$BATS_TEST_TMPDIR/metrics.prom"
	run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.prom"
	assert_success
	grep -qF 'ifmirror_session_copies_total{source="q\"b\\c",direction="ingress",destination="d0"} 0' "$BATS_TEST_TMPDIR/metrics.prom"
	grep -qF "ifmirror_session_copies_total{source=\"x$(printf '\xc3\xbf')\",direction=\"ingress\",destination=\"d0\"} 0" "$BATS_TEST_TMPDIR/metrics.prom"
}

# bats test_tags=kernel-neutral
@test "status --textfile replaces ifmirror.prom whole, never follows a link there, leaves no temporary file" {
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/textfile.XXXXXX")
	echo "keep" >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$dir/ifmirror.prom"
	ifm up s0 --to d0 --direction ingress -q
	run ifm status --prometheus --textfile "$dir"
	assert_success
	run cat "$BATS_TEST_TMPDIR/target"
	assert_output keep
	[[ -f $dir/ifmirror.prom && ! -L $dir/ifmirror.prom ]]
	run ls -A "$dir"
	assert_output ifmirror.prom
	diff <(ifm status --prometheus) "$dir/ifmirror.prom"
	send_in s0 $N
	counter_settles d0p >/dev/null
	ifm status --prometheus --textfile="$dir"
	grep -qx "ifmirror_session_copies_total{source=\"s0\",direction=\"ingress\",destination=\"d0\"} $N" "$dir/ifmirror.prom"
}

# bats test_tags=kernel-neutral
@test "status --textfile refuses a symlinked, foreign, group-writable or missing DIR: one line, exit 1, nothing written" {
	good=$(mktemp -d "$BATS_TEST_TMPDIR/good.XXXXXX")
	ln -s "$good" "$BATS_TEST_TMPDIR/link"
	run ifm status --prometheus --textfile "$BATS_TEST_TMPDIR/link"
	assert_failure 1
	assert_output "ifmirror: status: --textfile $BATS_TEST_TMPDIR/link: a symbolic link (not followed): name the directory itself"
	for mode in 775 757 1777; do
		d=$(mktemp -d "$BATS_TEST_TMPDIR/d.XXXXXX")
		chmod "$mode" "$d"
		run ifm status --prometheus --textfile "$d"
		assert_failure 1
		assert_output "ifmirror: status: --textfile $d: writable by group or others: anyone could replace what ifmirror writes"
		run ls -A "$d"
		refute_output
	done
	d=$(mktemp -d "$BATS_TEST_TMPDIR/d.XXXXXX")
	chown 65534 "$d"
	run ifm status --prometheus --textfile "$d"
	assert_failure 1
	assert_output "ifmirror: status: --textfile $d: not root's: its owner could replace what ifmirror writes"
	run ls -A "$d"
	refute_output
	touch "$BATS_TEST_TMPDIR/file"
	run ifm status --prometheus --textfile "$BATS_TEST_TMPDIR/file"
	assert_failure 1
	assert_output "ifmirror: status: --textfile $BATS_TEST_TMPDIR/file: Not a directory"
	run ifm status --prometheus --textfile "$BATS_TEST_TMPDIR/none"
	assert_failure 1
	assert_output "ifmirror: status: --textfile $BATS_TEST_TMPDIR/none: No such file or directory"
	[[ ! -e $BATS_TEST_TMPDIR/none ]]
	run ls -A "$good"
	refute_output
}

# bats test_tags=kernel-neutral
@test "status --prometheus, --textfile, --json: usage errors exit 2" {
	run ifm status --prometheus --textfile
	assert_failure 2
	assert_output "ifmirror: status: --textfile needs a directory (node_exporter's --collector.textfile.directory)"
	run ifm status --textfile /tmp
	assert_failure 2
	assert_output "ifmirror: status: --textfile writes the --prometheus output: give both"
	run ifm status --json --prometheus
	assert_failure 2
	assert_output "ifmirror: status: --json and --prometheus are two outputs: give one"
	run ifm status --prometheus --config /dev/null
	assert_failure 2
	run ifm status --prometheus --textfile /tmp --textfile /tmp
	assert_failure 2
	assert_output "ifmirror: status: --textfile given twice"
}

# bats test_tags=kernel-neutral
@test "ifmirror-textfile.service: its command line, run in the namespace, writes DIR/ifmirror.prom; the timer every 15 s" {
	unit=$BUILD/systemd/ifmirror-textfile.service
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	unit_dir=$(sed -n 's/^ReadWritePaths=//p' "$unit")
	assert_equal "$unit_dir" /var/lib/prometheus/node-exporter
	read -r bin args <<<"$exec_start"
	[[ $bin == */ifmirror ]]
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/textfile.XXXXXX")
	ifm up s0 --to d0 --direction ingress -q
	# shellcheck disable=SC2086 # the unit's words
	run ifm ${args//$unit_dir/$dir}
	assert_success
	refute_output
	grep -qx 'ifmirror_session_copies_total{source="s0",direction="ingress",destination="d0"} 0' "$dir/ifmirror.prom"
	grep -qx 'OnUnitActiveSec=15s' "$TOP/systemd/ifmirror-textfile.timer"
}
