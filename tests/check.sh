#!/usr/bin/env bash
# check.sh - what `make check` runs: the unit tests, the integration suite,
# the integration suite again built with AddressSanitizer + UBSan, the
# examples, the manual pages, a short fuzzing run of the message decoder, and
# (as root, with sshd) the remote and failure tests. Ends with one line
# "N passed, N failed" summing them.
# Usage: tests/check.sh BUILD_DIR ASAN_BUILD_DIR [FUZZER]
set -u

build=${1:?usage: check.sh BUILD ASAN_BUILD}
asan=${2:?usage: check.sh BUILD ASAN_BUILD}
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0

# Criterion prints "Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N"
echo "== unit tests"
unit_out=$("$build/unit" --jobs 2 2>&1)
unit_rc=$?
printf '%s\n' "$unit_out" | grep -E '^\[(FAIL|----)\]|Synthesis' || true
synth=$(printf '%s\n' "$unit_out" | grep -E 'Synthesis' | tail -n 1)
if [ -n "$synth" ]; then
	p=$(printf '%s' "$synth" | sed -E 's/.*Passing: ([0-9]+).*/\1/')
	f=$(printf '%s' "$synth" | sed -E 's/.*Failing: ([0-9]+).*Crashing: ([0-9]+).*/\1 + \2/')
	passed=$((passed + p))
	failed=$((failed + f))
fi
if [ "$unit_rc" -ne 0 ] && [ -z "$synth" ]; then
	failed=$((failed + 1))
fi

run_suite() {
	local label=$1 dsm=$2 progs=$3 out last
	echo "== integration ($label)"
	out=$("$here/integration.sh" "$dsm" "$progs" "$label" 2>&1)
	printf '%s\n' "$out" | grep -v '^ok ' || true
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "integration ($label) did not finish"
		failed=$((failed + 1))
	fi
}

run_suite plain "$build/dsm" "$build/tests"
run_suite asan "$asan/dsm" "$asan/tests"

# other_suite TITLE SCRIPT ARG...: a runner whose last line is "N passed, N failed"
other_suite() {
	local title=$1 script=$2 out last
	shift 2
	echo "== $title"
	out=$("$here/$script" "$@" 2>&1)
	printf '%s\n' "$out" | grep -v '^ok ' || true
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "$title did not finish"
		failed=$((failed + 1))
	fi
}

# the examples at 1, 2 and 4 nodes, and the manual pages
other_suite examples examples.sh "$build/dsm" "$build/examples"
other_suite "manual pages" man.sh

# 30 s of libFuzzer on the decoder, from the committed seeds
fuzzer=${3:-}
if [ -n "$fuzzer" ]; then
	echo "== fuzz (30 s)"
	mkdir -p "$(dirname "$fuzzer")/corpus"
	if "$fuzzer" -max_total_time=30 -max_len=9000 "$(dirname "$fuzzer")/corpus" \
		"$here/fuzz/corpus" >"$build/fuzz.log" 2>&1; then
		tail -n 1 "$build/fuzz.log"
		passed=$((passed + 1))
	else
		tail -n 30 "$build/fuzz.log"
		failed=$((failed + 1))
	fi
fi

# every benchmark once with tiny counts: it runs and writes its outputs
if [ -x "$build/bench/faults" ]; then
	echo "== benchmark smoke (no timing is judged)"
	if "$here/../bench/run.sh" "$build" --smoke >"$build/bench-smoke.log" 2>&1; then
		passed=$((passed + 1))
	else
		tail -n 20 "$build/bench-smoke.log"
		failed=$((failed + 1))
	fi
fi

# remote nodes through a private sshd, and the failure scenarios
if [ -x "$here/remote.sh" ]; then
	echo "== remote and failure tests"
	out=$("$here/remote.sh" "$build/dsm" "$build/tests" 2>&1)
	printf '%s\n' "$out" | grep -v '^ok ' || true
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "remote tests did not finish"
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
