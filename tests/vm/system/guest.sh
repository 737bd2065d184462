#!/bin/bash
# What a system-lane guest does at each boot (tests/vm/run-system). It runs as
# ifmirror-lane.service once the boot is done; the phase is kept in the guest's
# own overlay (/var/lib/ifmirror-lane/phase), so every boot goes on where the
# one before rebooted. The host's side (/ctl, a 9p share) carries the .debs,
# this script and the frame sender in, and the results out:
#   /ctl/result.K    "ok" or "not ok" on the first line, then diagnostics
#   /ctl/replug.*    the hand-over with the host's QMP driver (see qmp.py)
#   /ctl/log         what happened, streamed by the host as TAP comments
#
# NICs (named by .link files by MAC): src0 (the source) and peer0 share a qemu
# hub, coll0 (the collector port, hot-pluggable) and cap0 another. peer0 and
# cap0 go into network namespaces: peer0 sends ARP requests for src0's
# address and counts the replies (the source's own traffic, both ways), cap0
# counts what arrives at the collector. IPv6 is off (kernel command line), so
# no host sends anything of its own: counts are exact.
set -u
CTL=/ctl
SCEN=$(cat $CTL/scenario)
STATE=/var/lib/ifmirror-lane
SF=$CTL/ifm-sendframes
N=20
# ARP request from peer0 (52:54:00:00:01:02, 192.0.2.20) for 192.0.2.10 (src0)
ARP=0001080006040001525400000102c0000214000000000000c000020a
exec >>$CTL/log 2>&1
mkdir -p $STATE
phase=$(cat $STATE/phase 2>/dev/null || echo 0)

log() { echo "[$SCEN boot $((phase + 1)), $(cut -d' ' -f1 /proc/uptime) s] $*"; }
fail() { echo "$*"; exit 1; }

# run_test K FUNCTION: the function's output is the test's diagnostics; it
# fails by exiting non-zero (it runs in a subshell).
run_test() {
	local k=$1 out st
	shift
	log "test $k: $*"
	if out=$("$@" 2>&1); then
		st=ok
	else
		st="not ok"
		out+=$'\n'"--- journal of this boot (network, ifupdown, NetworkManager, ifmirror):"$'\n'
		out+=$(journalctl -b -o short-monotonic --no-pager 2>&1 |
			grep -E 'ifmirror|ifup|networking|NetworkManager|nm-dispatcher|networkd|coll0|src0' | tail -n 40)
	fi
	printf '%s\n%s\n' "$st" "$out" >$CTL/result.$k.tmp && mv $CTL/result.$k.tmp $CTL/result.$k
	log "test $k: $st"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
	return 0
}
skip_test() { printf 'skip\n%s\n' "$2" >$CTL/result.$1; log "test $1: skipped: $2"; }

next_boot() { echo $((phase + 1)) >$STATE/phase; sync; log "rebooting"; systemctl reboot; exit 0; }
power_off() { echo done >$STATE/phase; sync; log "powering off"; systemctl poweroff; exit 0; }

# booted: the boot's jobs are done (bounded: a job that never ends must not
# hang the lane; the tests then say what is missing)
booted() {
	timeout 300 systemctl is-system-running --wait >/dev/null
	log "boot done: $(systemctl is-system-running)"
}

# ---- the lab: peer0 and cap0 in namespaces of their own
wait_for() { # SECONDS COMMAND...: until COMMAND succeeds
	local t=$1 i
	shift
	for ((i = 0; i < t * 5; i++)); do
		"$@" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
lab() {
	local ns dev
	for ns in tx:peer0 cap:cap0; do
		dev=${ns#*:} ns=${ns%:*}
		ip netns add $ns 2>/dev/null
		wait_for 60 test -e /sys/class/net/$dev || { log "no $dev"; return 1; }
		ip link set $dev netns $ns
		ip -n $ns link set $dev up
		ip -n $ns link set lo up
	done
	# the collector's peer sees every copy, whatever its destination MAC
	ip -n cap link set cap0 promisc on
}
rx() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }
settled() { # NS DEV: the rx counter once it stops moving
	local last=-1 now i
	for ((i = 0; i < 50; i++)); do
		now=$(rx "$1" "$2")
		[ "$now" = "$last" ] && break
		last=$now
		sleep 0.3
	done
	echo "$now"
}
# quiet DEV: until DEV sent nothing for 2.5 s. NetworkManager announces an
# address it configured with ARP (RFC 5227: 2 announcements, 2 s apart) for a
# few seconds after an activation; those frames are the host's, not ours.
quiet() {
	local last=-1 now i
	for ((i = 0; i < 12; i++)); do
		now=$(cat /sys/class/net/$1/statistics/tx_packets)
		[ "$now" = "$last" ] && return 0
		last=$now
		sleep 2.5
	done
}
carrier() { [ "$(cat /sys/class/net/$1/carrier 2>/dev/null)" = 1 ]; }

# mirror_exact: N ARP requests into src0, N replies out of it: peer0 gets N
# replies and the collector 2N copies, exactly (not 4N: nothing doubled).
mirror_exact() {
	local bp bc ap ac
	bp=$(rx tx peer0) bc=$(rx cap cap0)
	ip netns exec tx $SF peer0 $N --type 0x0806 --hex $ARP || fail "sendframes failed"
	ap=$(settled tx peer0) ac=$(settled cap cap0)
	echo "src0 answered $((ap - bp)) of $N ARP requests; the collector got $((ac - bc)) copies (want $((2 * N)))"
	[ $((ap - bp)) = $N ] || fail "src0 lost frames"
	[ $((ac - bc)) = $((2 * N)) ] || fail "the collector did not get exactly $((2 * N)) copies"
}
no_copies() {
	local bc ac
	bc=$(rx cap cap0)
	ip netns exec tx $SF peer0 $N --type 0x0806 --hex $ARP
	ac=$(settled cap cap0)
	echo "the collector got $((ac - bc)) copies (want 0)"
	[ $((ac - bc)) = 0 ]
}
status_plain() { ifmirror status 2>&1 | sed -E 's/ packets [0-9]+ bytes [0-9]+ dropped [0-9]+//'; }
show() { echo "--- $*"; "$@" 2>&1 | sed 's/^/  /'; }

# replug: while ARP traffic flows through src0, the host removes the
# collector NIC (QMP device_del) and adds a new one (device_add: a new PCI
# device, a new ifindex); the host measures device_add to the first copy at
# cap0. Then: every request was answered (the source lost 0 frames), the new
# coll0 is a port of br-mirror again, and mirroring is exact.
replug() {
	local label=${1:-$SCEN} old new bp ap sent t
	old=$(cat /sys/class/net/coll0/ifindex) || fail "no coll0"
	rm -f $CTL/replug.* /run/lane-stop /run/lane-sent /run/lane-unwatch /run/lane-first
	watcher=
	# whatever happens: the traffic stops, the watcher ends
	trap ': >/run/lane-stop; : >/run/lane-unwatch; kill $watcher 2>/dev/null; wait' EXIT
	bp=$(rx tx peer0)
	# 10 frames a second: a process start costs tens of milliseconds of the
	# guest's one emulated CPU, which udev and ifup need for the re-plug
	ip netns exec tx bash -c '
		exec {z}<> <(:)
		n=0
		until [ -e /run/lane-stop ]; do
			'"$SF"' peer0 2 --type 0x0806 --hex '"$ARP"' && n=$((n + 2))
			read -t 0.2 -u $z
		done
		echo $n >/run/lane-sent' &
	sleep 2
	echo "$label" >$CTL/replug.req.tmp && mv $CTL/replug.req.tmp $CTL/replug.req
	wait_for 150 test -e $CTL/replug.deleted || fail "the host did not remove the NIC within 150 s (QMP device_del)"
	wait_for 30 bash -c '! test -e /sys/class/net/coll0' || fail "coll0 is still there after device_del"
	# armed: from now on anything at cap0 came through the new NIC
	ip netns exec cap bash -c '
		exec {z}<> <(:)
		read -r b </sys/class/net/cap0/statistics/rx_packets
		: >/ctl/replug.armed
		while read -r n </sys/class/net/cap0/statistics/rx_packets && [ "$n" = "$b" ]; do
			[ -e /run/lane-unwatch ] && exit 1
			read -t 0.02 -u $z
		done
		: >/ctl/replug.first
		read -r up _ </proc/uptime
		echo "$up" >/run/lane-first' &
	watcher=$!
	wait_for 90 test -e $CTL/replug.time || fail "no copy at the collector within 60 s of device_add"
	t=$(cat $CTL/replug.time)
	sleep 2
	: >/run/lane-stop
	wait_for 30 test -s /run/lane-sent || fail "the traffic loop did not stop"
	sent=$(cat /run/lane-sent)
	ap=$(settled tx peer0)
	new=$(cat /sys/class/net/coll0/ifindex)
	echo "re-plug: device_add to the first copy at the collector: $t s (goal: under 2 s)"
	# where the time went, on the guest's clock
	journalctl -b -o short-monotonic --no-pager -n 400 2>/dev/null |
		grep -E 'pciehp|Slot\(|virtio_net .* renamed|coll0|ifup@coll0|ifupdown' | tail -n 12 | sed 's/^/  /'
	echo "  [$(cat /run/lane-first 2>/dev/null)] first copy at cap0"
	echo "coll0: ifindex $old -> $new; src0 answered $((ap - bp)) of $sent ARP requests during the re-plug"
	[ "$new" != "$old" ] || fail "coll0 has its old ifindex: not a new device"
	[ $((ap - bp)) = "$sent" ] || fail "the source lost frames during the re-plug"
	ip -o link show coll0 | grep -q "master br-mirror" || fail "coll0 is not a port of br-mirror"
	mirror_exact
}

purged() { # PATH...: none of them may exist
	local p left=
	for p in "$@"; do
		[ -e "$p" ] || [ -L "$p" ] && left="$left $p"
	done
	[ -z "$left" ] || fail "left behind:$left"
	echo "gone: $*"
}

# ------------------------------------------------------------------ ifupdown
IFUPDOWN_INTERFACES='auto lo
iface lo inet loopback

auto br-mirror
iface br-mirror inet manual
    mirror-collector coll0

allow-hotplug coll0
iface coll0 inet manual

auto src0
iface src0 inet static
    address 192.0.2.10/24
    mirror-to br-mirror
    mirror-direction both
'

t_install_ifmirror() {
	rm -f /var/lib/man-db/auto-update   # no man-db trigger run (slow under TCG)
	dpkg -i $CTL/debs/ifmirror_*.deb || fail "dpkg -i failed"
	dpkg-query -W -f='${Status} ${Version}\n' ifmirror
	! dpkg-query -W -f='${Depends}' ifmirror | grep -q libnm || fail "ifmirror depends on libnm"
	[ "$(systemctl is-enabled ifmirror.service)" = enabled ] || fail "ifmirror.service is not enabled"
	local d
	for d in pre-up up down post-down; do
		[ -x /etc/network/if-$d.d/ifmirror ] || fail "no hook in if-$d.d"
	done
	printf '%s' "$IFUPDOWN_INTERFACES" >/etc/network/interfaces
}

boot_ready_ifupdown() {
	booted
	udevadm settle -t 60
	wait_for 60 systemctl is-active -q ifup@coll0.service
}

t_boot_ifupdown() {
	show systemctl is-active networking.service ifup@coll0.service
	systemctl is-active -q networking.service || fail "networking.service is not active"
	systemctl is-active -q ifup@coll0.service || fail "ifup@coll0.service (udev, allow-hotplug) is not active"
	show ifmirror status
	ip -o link show coll0 | grep -q "master br-mirror" || fail "coll0 is not a port of br-mirror"
	mirror_exact
}

t_reboot_ifupdown() {
	local before now
	before=$(cat $STATE/status)
	now=$(status_plain)
	systemctl is-active -q networking.service || fail "networking.service is not active"
	show ifmirror status
	[ "$now" = "$before" ] || fail "ifmirror status differs from the last boot:
$before
---
$now"
	show tc filter show dev src0 ingress
	[ "$(tc filter show dev src0 ingress | grep -c mirred)" = 1 ] || fail "not one mirred filter on src0's ingress"
	[ "$(tc filter show dev src0 egress | grep -c mirred)" = 1 ] || fail "not one mirred filter on src0's egress"
	[ "$(ls /sys/class/net/br-mirror/brif | wc -l)" = 2 ] || fail "br-mirror has not two ports: $(ls /sys/class/net/br-mirror/brif)"
	mirror_exact
}

to_networkd() {
	printf 'auto lo\niface lo inet loopback\n' >/etc/network/interfaces
	cat >/etc/systemd/network/20-src0.network <<-EOF
	[Match]
	Name=src0
	[Network]
	Address=192.0.2.10/24
	LinkLocalAddressing=no
	EOF
	cat >/etc/ifmirror.conf <<-EOF
	[collector br-mirror]
	ports = coll0

	[session lane]
	source = src0
	to = br-mirror
	direction = both
	EOF
	chmod 0644 /etc/ifmirror.conf
	systemctl enable systemd-networkd.service
}

t_networkd() {
	show systemctl is-active systemd-networkd.service ifmirror.service
	systemctl is-active -q systemd-networkd.service || fail "networkd is not active"
	systemctl is-active -q ifmirror.service || fail "ifmirror.service is not active"
	show journalctl -b -u ifmirror.service -o cat --no-pager
	show ifmirror status
	mirror_exact
}

# ------------------------------------------------- ifmirror watch at boot
# The networkd host again, now with ifmirror-watch.service enabled in place of
# ifmirror.service, and a file whose source is a pattern: src0 and every tap.
# Nothing else manages coll0 (no stanza, no .network): its re-plug is watch's.
to_watch() {
	cat >/etc/ifmirror.conf <<-EOF
	[collector br-mirror]
	ports = coll0

	[session lane]
	source = src0 tap*
	to = br-mirror
	direction = both
	EOF
	chmod 0644 /etc/ifmirror.conf
	systemctl disable ifmirror.service
	systemctl enable ifmirror-watch.service
}

watch_log() { journalctl -b -u ifmirror-watch.service -o cat --no-pager; }

t_watch_boot() {
	show systemctl is-active ifmirror-watch.service ifmirror.service
	systemctl is-active -q ifmirror-watch.service || fail "ifmirror-watch.service is not active"
	! systemctl is-active -q ifmirror.service || fail "ifmirror.service ran too"
	wait_for 30 bash -c 'ip -o link show coll0 | grep -q "master br-mirror"' ||
		fail "coll0 is not a port of br-mirror"
	show watch_log
	watch_log | grep -q "watching /etc/ifmirror.conf" || fail "watch did not say it watches"
	show ifmirror status
	# converged: apply of the same file has nothing to do
	local a
	a=$(ifmirror apply --config /etc/ifmirror.conf 2>&1)
	echo "apply: $a"
	case $a in */etc/ifmirror.conf:*", nothing to change") ;; *) fail "not converged" ;; esac
	mirror_exact
}

t_watch_tap() {
	local bc ac
	ip tuntap add mode tap tap1 || fail "ip tuntap add failed"
	ip link set tap1 up
	wait_for 10 bash -c '[ "$(tc filter show dev tap1 egress | grep -c mirred)" = 1 ]' ||
		fail "tap1 is not mirrored within 10 s"
	show ifmirror status tap1
	show watch_log
	bc=$(settled cap cap0)
	$SF tap1 $N || fail "sendframes failed"
	ac=$(settled cap cap0)
	echo "tap1 sent $N frames; the collector got $((ac - bc)) copies (want $N)"
	[ $((ac - bc)) = $N ] || fail "not exactly $N copies"
	ip link del tap1
	wait_for 10 bash -c '! ifmirror status | grep -q "^tap1 "' || fail "tap1 stays in status"
}

t_watch_replug() {
	replug watch || exit 1
	show watch_log
	watch_log | grep -q "coll0" || fail "watch said nothing of coll0"
	# no hook could have done it: no stanza, no .network names coll0
	! grep -rqs coll0 /etc/network/interfaces /etc/systemd/network/*.network || fail "something else manages coll0"
}

t_watch_stop() {
	systemctl stop ifmirror-watch.service || fail "systemctl stop failed"
	! systemctl is-active -q ifmirror-watch.service || fail "still active"
	show watch_log
	watch_log | grep -q "exiting; the mirrors stay as they are" || fail "it did not say it leaves the mirrors"
	show ifmirror status
	[ "$(tc filter show dev src0 ingress | grep -c mirred)" = 1 ] || fail "not one mirred filter on src0's ingress"
	[ "$(tc filter show dev src0 egress | grep -c mirred)" = 1 ] || fail "not one mirred filter on src0's egress"
	ip -o link show coll0 | grep -q "master br-mirror" || fail "coll0 left br-mirror"
	mirror_exact
}

t_purge_ifmirror() {
	dpkg --purge ifmirror || fail "dpkg --purge failed"
	! dpkg-query -W -f='${Status}\n' ifmirror 2>/dev/null | grep -q installed || fail "still installed"
	purged /usr/sbin/ifmirror /etc/network/if-{pre-up,up,down,post-down}.d/ifmirror \
		/lib/systemd/system/ifmirror.service /etc/systemd/system/multi-user.target.wants/ifmirror.service \
		/var/lib/systemd/deb-systemd-helper-enabled/ifmirror.service.dsh-also \
		/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/ifmirror.service \
		/lib/systemd/system/ifmirror-watch.service \
		/etc/systemd/system/multi-user.target.wants/ifmirror-watch.service \
		/var/lib/systemd/deb-systemd-helper-enabled/ifmirror-watch.service.dsh-also \
		/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/ifmirror-watch.service
	systemctl daemon-reload
	! systemctl cat ifmirror.service >/dev/null 2>&1 || fail "systemd still knows ifmirror.service"
	! systemctl cat ifmirror-watch.service >/dev/null 2>&1 || fail "systemd still knows ifmirror-watch.service"
}

scenario_ifupdown() {
	case $phase in
	0)
		run_test 1 t_install_ifmirror
		next_boot ;;
	1)
		boot_ready_ifupdown
		lab
		run_test 2 t_boot_ifupdown
		run_test 3 replug ifupdown
		status_plain >$STATE/status
		next_boot ;;
	2)
		boot_ready_ifupdown
		lab
		run_test 4 t_reboot_ifupdown
		to_networkd
		next_boot ;;
	3)
		booted
		lab
		run_test 5 t_networkd
		to_watch
		next_boot ;;
	4)
		booted
		lab
		run_test 15 t_watch_boot
		run_test 16 t_watch_tap
		run_test 17 t_watch_replug
		run_test 18 t_watch_stop
		run_test 6 t_purge_ifmirror
		power_off ;;
	esac
}

# ------------------------------------------------------------ NetworkManager
nm_wait() { # until src0 is connected and the mirror applied (by NM or the dispatcher)
	booted
	wait_for 90 bash -c '[ "$(nmcli -g GENERAL.STATE device show src0)" = "100 (connected)" ]'
	wait_for 90 bash -c '[ "$(nmcli -g GENERAL.STATE device show coll0)" = "100 (connected)" ]'
	wait_for 30 bash -c '[ "$(tc filter show dev src0 egress | grep -c mirred)" = 1 ]'
	quiet src0
}

t_install_nm() {
	rm -f /var/lib/man-db/auto-update
	dpkg -i $CTL/debs/ifmirror_*.deb $CTL/debs/ifmirror-nm_*.deb || fail "dpkg -i failed"
	[ -x /usr/lib/NetworkManager/dispatcher.d/70-ifmirror ] || fail "no dispatcher script"
	[ "$(readlink /usr/lib/NetworkManager/dispatcher.d/pre-down.d/70-ifmirror)" = ../70-ifmirror ] ||
		fail "no pre-down link"
	wait_for 60 nmcli -t general status >/dev/null || fail "NetworkManager does not answer"
	nmcli connection add type ethernet ifname src0 con-name src0 \
		ipv4.method manual ipv4.addresses 192.0.2.10/24 ipv6.method disabled || fail "nmcli connection add"
	ifmirror-nm collector br-mirror --port coll0 --commit || fail "ifmirror-nm collector --commit"
	ifmirror-nm profile src0 --to br-mirror --mode dispatcher --commit || fail "ifmirror-nm profile --commit"
	show nmcli -f NAME,TYPE,DEVICE connection show
}

t_nm_boot() {
	show nmcli -f NAME,DEVICE,STATE connection show
	show ifmirror status
	show tc filter show dev src0 ingress
	mirror_exact
}

t_nm_downup() {
	nmcli connection down src0 || fail "nmcli connection down"
	sleep 2
	show ifmirror status src0
	[ "$(tc filter show dev src0 ingress | grep -c mirred)" = 0 ] || fail "a mirror stayed on src0 after down"
	nmcli connection up src0 || fail "nmcli connection up"
	wait_for 30 bash -c '[ "$(tc filter show dev src0 egress | grep -c mirred)" = 1 ]'
	quiet src0
	show tc filter show dev src0 ingress
	[ "$(tc filter show dev src0 ingress | grep -c mirred)" = 1 ] || fail "not one mirred filter on src0's ingress after up"
	mirror_exact
}

to_native() {
	ifmirror-nm profile src0 --remove --commit &&
		ifmirror-nm profile src0 --to br-mirror --mode native --commit
}

t_purge_nm() {
	dpkg --purge ifmirror-nm ifmirror || fail "dpkg --purge failed"
	purged /usr/sbin/ifmirror-nm /usr/sbin/ifmirror \
		/usr/lib/NetworkManager/dispatcher.d/70-ifmirror \
		/usr/lib/NetworkManager/dispatcher.d/pre-down.d/70-ifmirror \
		/etc/NetworkManager/dispatcher.d/70-ifmirror \
		/etc/network/if-up.d/ifmirror /lib/systemd/system/ifmirror.service \
		/etc/systemd/system/multi-user.target.wants/ifmirror.service
}

scenario_nm() {
	case $phase in
	0)
		booted
		run_test 7 t_install_nm
		next_boot ;;
	1)
		nm_wait
		lab
		run_test 8 t_nm_boot
		run_test 9 replug nm-dispatcher
		run_test 10 t_nm_downup
		if ifmirror check | grep -q '^matchall: yes'; then
			echo native >$STATE/mode
			to_native || log "switching to native mode failed"
		fi
		next_boot ;;
	2)
		if [ "$(cat $STATE/mode 2>/dev/null)" = native ]; then
			nm_wait
			lab
			show ifmirror-nm profile src0 --to br-mirror --mode native
			run_test 11 t_nm_boot
			run_test 12 replug nm-native
			run_test 13 t_nm_downup
		else
			for k in 11 12 13; do skip_test $k "kernel $(uname -r) has no matchall: no native mode"; done
		fi
		run_test 14 t_purge_nm
		power_off ;;
	esac
}

log "started"
case $phase in done) exit 0 ;; esac
"scenario_$SCEN"
