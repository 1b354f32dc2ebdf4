#!/usr/bin/env bash
# check.sh - what `make check` runs: the unit tests, the integration suite,
# the integration suite again built with AddressSanitizer + UBSan, the
# examples, the launch checks (tests/launch.sh), the manual pages, dsm-plot,
# `make install` (tests/install.sh: files, exported symbols, PARMACS builds),
# the log action names of docs/protocol.md, a short fuzzing run of the
# message decoder, (as root, with sshd) the remote and failure tests, and (as
# root, with slurm-wlm) the srun launcher under a private Slurm.
# Ends with one line "N passed, N failed" summing them.
# Usage: tests/check.sh BUILD_DIR ASAN_BUILD_DIR [FUZZER]
#
# DSM_TEST_ONLY=NAME (`make check T=NAME`) runs only the Criterion suite NAME
# and/or the integration program NAME (its plain, asan and prefetch runs);
# a NAME that is neither is one failure.
set -u

build=${1:?usage: check.sh BUILD ASAN_BUILD}
asan=${2:?usage: check.sh BUILD ASAN_BUILD}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"

only=${DSM_TEST_ONLY:-}
# run inside a Slurm allocation, dsm would start every node with srun (its
# default there) and take -n from it: the suites test the launcher each asks
# for, and tests/slurm.sh starts a Slurm of its own
unset SLURM_JOB_ID SLURM_JOBID SLURM_JOB_NODELIST SLURM_NTASKS SLURM_TASKS_PER_NODE

finish() {
	results_line
	exit
}

# unit_tests [CRITERION-ARG...]: the unit binary; Criterion prints
# "Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N"
unit_tests() {
	local out rc synth p f

	echo "== unit tests${only:+ ($only)}"
	out=$("$build/unit" --jobs 2 "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[(FAIL|----)\]|Synthesis' || true
	synth=$(printf '%s\n' "$out" | grep -E 'Synthesis' | tail -n 1)
	if [ -n "$synth" ]; then
		p=$(printf '%s' "$synth" | sed -E 's/.*Passing: ([0-9]+).*/\1/')
		f=$(printf '%s' "$synth" | sed -E 's/.*Failing: ([0-9]+).*Crashing: ([0-9]+).*/\1 + \2/')
		passed=$((passed + p))
		failed=$((failed + f))
	fi
	if [ "$rc" -ne 0 ] && [ -z "$synth" ]; then
		failed=$((failed + 1))
	fi
}

# With DSM_TEST_ONLY: which of the two NAME is (a suite has a line "NAME: N
# tests" in --list, a program is built into BUILD/tests); the rest is skipped.
unit_only=
prog_only=
if [ -n "$only" ]; then
	if [[ ! "$only" =~ ^[A-Za-z0-9_-]+$ ]]; then
		echo "DSM_TEST_ONLY: '$only' is not a suite or program name"
		failed=1
		finish
	fi
	if "$build/unit" --list 2>/dev/null | grep -q "^$only: [0-9]* tests\?$"; then
		unit_only=1
	fi
	if [ -x "$build/tests/$only" ]; then
		prog_only=1
	fi
	if [ -z "$unit_only" ] && [ -z "$prog_only" ]; then
		echo "no unit suite and no test program named '$only'"
		failed=1
		finish
	fi
	if [ -n "$unit_only" ]; then
		unit_tests --filter "$only/*"
	fi
else
	unit_tests
fi


# other_suite TITLE SCRIPT ARG...: a runner whose last line is "N passed, N failed"
other_suite() {
	local title=$1 script=$2 out
	shift 2
	echo "== $title"
	out=$("$here/$script" "$@" 2>&1)
	printf '%s\n' "$out" | grep -v '^ok ' || true
	add_results "$title" "$(printf '%s\n' "$out" | tail -n 1)"
}

if [ -z "$only" ] || [ -n "$prog_only" ]; then
	# integration.sh reads DSM_TEST_ONLY itself
	other_suite "integration (plain)" integration.sh "$build/dsm" "$build/tests" plain
	other_suite "integration (asan)" integration.sh "$asan/dsm" "$asan/tests" asan
	# again with page runs off (dsm -P 0: one page per fault; the default
	# moves runs), so both ways the protocol can go stay tested
	DSM_TEST_ARGS="-P 0" other_suite "integration (no runs, -P 0)" integration.sh \
		"$build/dsm" "$build/tests" noruns
fi
if [ -n "$only" ]; then
	finish
fi


# the examples at 1, 2 and 4 nodes, the manual pages, and dsm-plot (also
# built with ASan + UBSan)
other_suite examples examples.sh "$build/dsm" "$build/examples"
# the nodes' standard input, dsm with a descriptor closed, launch usage errors
other_suite "launch (local nodes)" launch.sh "$build/dsm" "$build/tests"
other_suite "manual pages" man.sh
other_suite dsm-plot plot.sh "$build/dsm" "$build/tests" "$build/dsm-plot"
other_suite "dsm-plot (asan)" plot.sh "$asan/dsm" "$asan/tests" "$asan/dsm-plot"

# one_check TITLE LOG COMMAND...: a check that counts as one test; its
# output goes to LOG and is shown (the tail) when it fails
one_check() {
	local title=$1 log=$2
	shift 2
	echo "== $title"
	if "$@" >"$log" 2>&1; then
		tail -n 1 "$log"
		passed=$((passed + 1))
	else
		tail -n 30 "$log"
		failed=$((failed + 1))
	fi
}

# make install into a scratch PREFIX: the files, libsm's exports against the
# installed headers, PARMACS programs built from the installed files
other_suite "install" install.sh "$build"

# the log actions docs/protocol.md names are those of common/logactions.h
one_check "log action names in docs/protocol.md" "$build/logactions.log" "$here/logactions.sh"

# 30 s of libFuzzer on the decoder, from the committed seeds
fuzzer=${3:-}
if [ -n "$fuzzer" ]; then
	mkdir -p "$(dirname "$fuzzer")/corpus"
	one_check "fuzz (30 s)" "$build/fuzz.log" "$fuzzer" -max_total_time=30 -max_len=270000 \
		"$(dirname "$fuzzer")/corpus" "$here/fuzz/corpus"
fi

# every benchmark once with tiny counts: it runs and writes its outputs
if [ -x "$build/bench/faults" ]; then
	one_check "benchmark smoke (no timing is judged)" "$build/bench-smoke.log" \
		"$here/../bench/run.sh" "$build" --smoke
fi

# remote nodes through a private sshd, and the failure scenarios
if [ -x "$here/remote.sh" ]; then
	other_suite "remote and failure tests" remote.sh "$build/dsm" "$build/tests"
fi

# the srun launcher under a private Slurm (root and slurm-wlm; otherwise a
# "skip:" line and one skipped)
other_suite "Slurm (srun launcher)" slurm.sh "$build/dsm" "$build/tests"

finish
