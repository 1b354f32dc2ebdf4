#!/usr/bin/env bash
# stress.sh - repeat the failure and fault scenarios, to show they are not
# flaky (`make stress`).
#
# usage: tests/stress.sh DSM PROGDIR
#
# Each block below repeats one suite (a runner whose last line is "P passed,
# F failed") STRESS_RUNS times (default 20). One line per suite: "ok   stress
# NAME (20 of 20 runs)", or "FAIL stress NAME (K of 20 runs)" followed by the
# failed lines of the first run that failed, indented. The last line is "P
# passed, F failed" with one check per suite; the exit status is 0 iff every
# run of every suite passed. Blocks are kept apart (one per area) so that
# each can grow on its own.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
runner_args 2 2 "DSM PROGDIR" "$@"
runs=${STRESS_RUNS:-20}
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
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

# repeat NAME COMMAND...: run the suite COMMAND $runs times; a run passes
# when its last line says "P passed, 0 failed" with P > 0. It runs in the
# background so that a signal to this script ends it at once (cleanup).
repeat() {
	local name=$1 good=0 log=$tmp/run.log first=$tmp/first-failure.log last i
	shift
	rm -f "$first"
	for ((i = 1; i <= runs; i++)); do
		"$@" >"$log" 2>&1 &
		child=$!
		wait "$child"
		child=
		last=$(tail -n 1 "$log")
		if [[ $last =~ ^([0-9]+)\ passed,\ 0\ failed ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
			good=$((good + 1))
		elif [ ! -f "$first" ]; then
			{
				echo "run $i:"
				grep -A 9 '^FAIL' "$log" || tail -n 8 "$log"
			} >"$first"
		fi
	done
	if [ "$good" -eq "$runs" ]; then
		result_ok "stress $name ($good of $runs runs)"
	else
		result_fail "stress $name ($good of $runs runs)"
		head -n 40 "$first" | sed 's/^/      /'
	fi
}

# ---- the failure scenarios (tests/failures.sh), local nodes ---------------
repeat "failures (local nodes)" "$here/failures.sh" "$dsm" "$progdir"

# ---- nodes that misuse their link (rel-sends) -------------------------------
# floods and messages after EXIT are scenarios j-l of failures.sh above
# (tests/failures-links.sh); here the wrongstate runs of integration.sh
repeat "integration wrongstate" env DSM_TEST_ONLY=wrongstate \
	"$here/integration.sh" "$dsm" "$progdir" stress

results_line
