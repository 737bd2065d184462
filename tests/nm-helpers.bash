# A real NetworkManager and D-Bus system bus for the bats suites, in a
# throwaway network namespace and a private mount namespace (see
# ../shared/notes/nm-in-netns.md): nothing of the host's networking, profiles
# or dispatcher scripts is touched, and /etc may be read-only (stock lane).
# shellcheck shell=bash

NMBIN=$BUILD/ifmirror-nm
NM_SCRIPT=$BUILD/nm-dispatcher/test/70-ifmirror

# The process that holds the mount namespace: mounts, dbus-daemon, NetworkManager.
_nm_holder_script() {
	cat <<-'EOF'
	#!/bin/bash
	# $1: state directory, $2: the dispatcher script of this build
	set -e
	dir=$1
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p /run/dbus /run/ifmirror
	# read-only sysfs: NetworkManager takes this for a container and manages
	# the veths without udev
	umount /sys 2>/dev/null || umount -l /sys
	mount -t sysfs -o ro sysfs /sys
	for d in /etc/NetworkManager/system-connections /etc/NetworkManager/dispatcher.d \
	         /var/lib/NetworkManager; do
		mount -t tmpfs -o mode=0755 tmpfs "$d"
	done
	chmod 0700 /etc/NetworkManager/system-connections
	mkdir -p /etc/NetworkManager/dispatcher.d/pre-up.d /etc/NetworkManager/dispatcher.d/pre-down.d
	install -m 0755 -o root -g root "$2" /etc/NetworkManager/dispatcher.d/70-ifmirror
	ln -s ../70-ifmirror /etc/NetworkManager/dispatcher.d/pre-down.d/70-ifmirror
	printf '[main]\nplugins=keyfile\nno-auto-default=*\n[logging]\nlevel=INFO\n' >"$dir/NetworkManager.conf"
	dbus-daemon --system --nofork --nopidfile >"$dir/dbus.log" 2>&1 &
	echo $! >"$dir/dbus.pid"
	for ((i = 0; i < 300; i++)); do [[ -S /run/dbus/system_bus_socket ]] && break; sleep 0.1; done
	NetworkManager --no-daemon --config="$dir/NetworkManager.conf" >"$dir/nm.log" 2>&1 &
	echo $! >"$dir/nm.pid"
	for ((i = 0; i < 300; i++)); do nmcli -t general status >/dev/null 2>&1 && break; sleep 0.1; done
	nmcli -t general status >/dev/null
	echo $$ >"$dir/holder.pid"
	exec sleep infinity
	EOF
}

# nm_lab_up: once per file (setup_file). Exports NS, NMDIR, NM_HOLDER.
# The dispatcher uses /run/ifmirror (NetworkManager passes scripts no
# environment of ours); so do the tests' own ifmirror calls.
nm_lab_up() {
	local i
	[[ -x $NMBIN ]] || {
		echo "$NMBIN is not built" >&2
		return 1
	}
	unset IFMIRROR_RUN_DIR
	export NS=ifmnm-$$ NMDIR=$BATS_FILE_TMPDIR/nm
	mkdir -p "$NMDIR"
	_nm_holder_script >"$NMDIR/holder.sh"
	chmod 0755 "$NMDIR/holder.sh"
	ip netns add "$NS"
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$NS" ip link set lo up
	# fd 3 is bats' own: a background process must not hold it
	ip netns exec "$NS" unshare -m --propagation private "$NMDIR/holder.sh" "$NMDIR" "$NM_SCRIPT" \
		</dev/null >"$NMDIR/holder.log" 2>&1 3>&- &
	for ((i = 0; i < 600; i++)); do
		[[ -s $NMDIR/holder.pid ]] && break
		sleep 0.1
	done
	if [[ ! -s $NMDIR/holder.pid ]]; then
		echo "NetworkManager did not start in the lab namespace:" >&2
		cat "$NMDIR/holder.log" "$NMDIR/nm.log" >&2 2>/dev/null
		return 1
	fi
	export NM_HOLDER
	NM_HOLDER=$(cat "$NMDIR/holder.pid")
	kernel_has matchall || true
	kernel_has dummy || true
}

# nm_setup: in each test's setup(): the file's NetworkManager, and ifmirror
# calls with its run directory
nm_setup() {
	unset IFMIRROR_RUN_DIR
	NM_HOLDER=$(cat "$NMDIR/holder.pid")
}

# nm_lab_down: stops what nm_lab_up started, by PID, then the namespace.
nm_lab_down() {
	local p pid i
	[[ -n ${NMDIR:-} ]] || return 0
	for p in nm dbus holder; do
		[[ -s $NMDIR/$p.pid ]] || continue
		pid=$(cat "$NMDIR/$p.pid")
		kill "$pid" 2>/dev/null || continue
		# gone, or a zombie of the holder (which never reaps)
		for ((i = 0; i < 100; i++)); do
			[[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) =~ ^(Z|X|)$ ]] && break
			sleep 0.1
		done
	done
	# what dbus activated (nm-dispatcher) is still in the namespace
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
}

# kernel_has FEATURE, asked once per file: each probe is a namespace and a
# handful of processes, which the stock lane makes slow. nm_lab_up asks for
# what this file needs and exports the answers to the tests.
# check-programs: functions _kernel_has_probe
eval "$(declare -f kernel_has | sed '1s/^kernel_has/_kernel_has_probe/')"
kernel_has() {
	local v=KERNEL_HAS_$1
	if [[ -z ${!v:-} ]]; then
		if _kernel_has_probe "$1"; then printf -v "$v" yes; else printf -v "$v" no; fi
		export "${v?}"
	fi
	[[ ${!v} == yes ]]
}

# veth NAME...: as helpers.bash's, in one process (ip -batch)
veth() {
	local n
	for n in "$@"; do
		printf 'link add name %s type veth peer name %sp\nlink set dev %s up\nlink set dev %sp up\n' \
			"$n" "$n" "$n" "$n"
	done | nsx ip -batch -
}

# nmx CMD...: runs CMD where NetworkManager runs (its bus, its profiles, /run).
nmx() { nsenter -t "$NM_HOLDER" -m -n "$@"; }
nmcli() { nmx nmcli "$@"; }
ifmnm() { nmx "$NMBIN" "$@"; }
ifm() { nmx "$IFM" "$@"; }

# eventually SECONDS CMD...: CMD succeeds within SECONDS (the dispatcher runs
# after nmcli returns; the stock lane is slow)
eventually() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "not within ${limit}s: $*" >&2
	"$@"
	return 1
}

# sessions SOURCE: the number of ifmirror session lines (one per direction)
sessions() { ifm status "$1" | grep -c " -> " || true; }
has_sessions() { [[ $(sessions "$1") == "$2" ]]; }

# keyfile_user ID: the [user] group of a profile's keyfile, as NetworkManager saved it
keyfile() { nmx cat "/etc/NetworkManager/system-connections/$1.nmconnection"; }
keyfile_user() { keyfile "$1" | sed -n '/^\[user\]/,/^$/p' | sed '/^$/d'; }

# a profile that activates at once: no IP configuration, no autoconnect
nm_profile() {
	nmcli connection add type ethernet ifname "$1" con-name "$1" autoconnect no \
		ipv4.method disabled ipv6.method disabled "${@:2}" >/dev/null
}

# nm_reset: after each test, no profiles but lo's (one nmcli: every process
# start counts on the stock lane). Tests use interface names of their own, and
# the links go with the namespace.
nm_reset() {
	nmx sh -c 'u=$(nmcli -g UUID,TYPE connection show | awk -F: '\''$2 != "loopback" { print $1 }'\'')
		[ -z "$u" ] || nmcli connection delete $u' >/dev/null 2>&1 || true
}

# nm_state: the profiles on disk and the kernel's links and qdiscs, for
# "nothing changed" (a mirror needs a qdisc)
nm_state() {
	nmx sh -c 'cd /etc/NetworkManager/system-connections && for f in *; do echo "== $f"; cat "$f"; done
		tc qdisc show; ip -o link show'
}
