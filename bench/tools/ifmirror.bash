# bench/tools/ifmirror.bash, sourced by the benches: which ifmirror they run.
# shellcheck shell=bash

# bench_ifmirror: sets IFM, unless --ifmirror set it, to IFMIRROR_BENCH_PREBUILT's
# ifmirror (a packed kit, bench/tools/pack-kit: no apt, no compiler there), or
# else to scripts/build's, after scripts/deps --bench. Run from the checkout's
# top; the caller's die reports.
bench_ifmirror() {
	if [[ -n ${IFMIRROR_BENCH_PREBUILT:-} ]]; then
		[[ -n ${IFM:-} ]] || IFM=$IFMIRROR_BENCH_PREBUILT/ifmirror
		[[ -x $IFM ]] || die "IFMIRROR_BENCH_PREBUILT: no ifmirror in $IFMIRROR_BENCH_PREBUILT"
	else
		scripts/deps --bench </dev/null
		[[ -n ${IFM:-} ]] || IFM=$(scripts/build </dev/null)/ifmirror
	fi
}
