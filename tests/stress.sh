#!/usr/bin/env bash
# stress.sh - what `make stress` runs: failure and fault scenarios that
# depend on timing, each repeated STRESS_RUNS times (default 20), to show
# they are not flaky. One line per run ("ok   TITLE run K" or "FAIL ..."),
# then "P passed, F failed"; the exit status is 0 iff nothing failed.
#
# usage: tests/stress.sh DSM PROGDIR
#
# Every run is under `timeout -k 5 $STRESS_TIMEOUT` (default 120 s), so a
# hang is a failure, not a stuck runner. Each scenario is a block of its
# own below: add a new one as a new block.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
runner_args 2 2 "DSM PROGDIR" "$@"
runs=${STRESS_RUNS:-20}
limit=${STRESS_TIMEOUT:-120}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "$0: STRESS_RUNS must be a positive number (got '$runs')" >&2
	exit 2
fi

child=
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
}
runner_tmp stress

# expect_ok TITLE ARG...: `dsm ARG...` inside PROGDIR must exit 0 in time.
expect_ok() {
	local title=$1 status err=$tmp/run.err
	shift
	(cd "$progdir" && exec timeout -k 5 "$limit" "$dsm" "$@") </dev/null >/dev/null 2>"$err" &
	child=$!
	wait "$child"
	status=$?
	child=
	if [ "$status" -eq 0 ]; then
		result_ok "$title"
	elif timed_out "$status"; then
		result_fail "$title (timed out after $limit s)" "$err"
	else
		result_fail "$title (exit $status)" "$err"
	fi
}

for run in $(seq 1 "$runs"); do
	# ---- two-page faults: one instruction that needs two pages ---------
	# (forward progress for the pair, no deadlock between pairs; with the
	# trap flag and with the CPU-time hold window)
	for n in 8 16; do
		for mode in plain cross lock; do
			expect_ok "straddle $mode N=$n run $run" -n "$n" ./straddle "$mode"
		done
		DSM_WRAPPER="env DSM_TRAP=0${DSM_WRAPPER:+ $DSM_WRAPPER}" \
			expect_ok "straddle plain DSM_TRAP=0 N=$n run $run" -n "$n" ./straddle plain
	done
	# ---- end of two-page faults ------------------------------------------
done

results_line
