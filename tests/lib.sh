# shellcheck shell=bash
# lib.sh - what the test runners share (sourced, not run): argument checks,
# a private directory cleaned up on every exit, counting and printing
# results ("ok   TITLE", "FAIL TITLE", "P passed, F failed"), and running
# whole suites under a runner (suite, suite_end).

# absolute_command CMD: print CMD as an absolute path (a path is made
# absolute, a bare name is looked up in PATH), or say why not on stderr and
# return 2. Runners chdir into their program directory, so they need it.
absolute_command() {
	case $1 in
	*/*)
		if [ ! -x "$1" ] || [ -d "$1" ]; then
			echo "$0: $1: not an executable file" >&2
			return 2
		fi
		echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
		;;
	*)
		if ! command -v "$1"; then
			echo "$0: $1: command not found" >&2
			return 2
		fi
		;;
	esac
}

# want_args MIN MAX USAGE ARGC: unless MIN <= ARGC <= MAX, say
# "usage: RUNNER USAGE" on stderr and exit 2.
want_args() {
	if [ "$4" -lt "$1" ] || [ "$4" -gt "$2" ]; then
		echo "usage: $0 $3" >&2
		exit 2
	fi
}

# runner_args MIN MAX USAGE ARG...: the runners' arguments, DSM PROGDIR
# [MORE]: their count (want_args), dsm as an absolute command and progdir as
# an absolute directory, or a message and exit 2. Runners chdir, so they
# need both absolute.
# shellcheck disable=SC2034 # dsm and progdir are the sourcing runner's
runner_args() {
	want_args "$1" "$2" "$3" $(($# - 3))
	dsm=$(absolute_command "$4") || exit 2
	if [ ! -d "$5" ]; then
		echo "$0: $5: not a directory" >&2
		exit 2
	fi
	progdir=$(cd "$5" && pwd)
}

# runner_tmp NAME: set tmp to a fresh directory ${TMPDIR:-/tmp}/dsm-NAME.XXXXXX
# (or exit 2), removed when the runner exits, after the runner's own
# cleanup() if it defines one. INT and TERM end the runner with 130 and 143
# through the same exit path, so nothing it started is left behind.
runner_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/dsm-$1.XXXXXX") || exit 2
	trap runner_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
runner_exit() {
	if declare -F cleanup >/dev/null; then
		cleanup
	fi
	rm -rf "$tmp"
}

# Every runner counts its checks and ends with results_line.
passed=0
failed=0
skipped=0

# result_ok TITLE: one check passed: "ok   TITLE".
result_ok() {
	echo "ok   $1"
	passed=$((passed + 1))
}

# result_fail TITLE [FILE [NOTE]]: one check failed: "FAIL TITLE", then
# "(NOTE)" and the last 8 lines of FILE, indented.
result_fail() {
	echo "FAIL $1"
	if [ -n "${3:-}" ]; then
		echo "      ($3)"
	fi
	if [ -n "${2:-}" ]; then
		tail -n 8 "$2" | sed 's/^/      /'
	fi
	failed=$((failed + 1))
}

# timed_out STATUS: the status timeout(1) gives a run it had to end (124, or
# 137 when -k had to kill it).
timed_out() {
	[ "$1" -eq 124 ] || [ "$1" -eq 137 ]
}

# add_results NAME LINE: add a suite's last line, "P passed, F failed" (and
# ", S skipped"), to the counts; any other line counts as one failure ("NAME
# did not finish").
add_results() {
	if [[ "$2" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
	else
		echo "$1 did not finish"
		failed=$((failed + 1))
	fi
}

# results_line: the last line of every runner, "P passed, F failed" (with
# ", S skipped" when some were); true iff nothing failed.
results_line() {
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
}

# suite NAME COMMAND...: run one suite (a runner), pass its output through as
# it comes, and add up its last line of the form "P passed, F failed" (what
# a wrapper such as salloc prints after it does not count). The suite runs in
# the background, so that a signal to this runner is acted on at once: the
# runner's cleanup() calls suite_end. Needs runner_tmp's $tmp.
suite_child=
suite_tailer=
suite() {
	local name=$1 log=$tmp/suite.log
	shift
	echo "== $name"
	: >"$log"
	"$@" >"$log" 2>&1 &
	suite_child=$!
	tail -n +1 -f --pid="$suite_child" "$log" &
	suite_tailer=$!
	wait "$suite_child"
	suite_child=
	wait "$suite_tailer"
	suite_tailer=
	add_results "$name" "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)"
}

# suite_end: end the suite still running, if any (for a runner's cleanup()).
suite_end() {
	if [ -n "$suite_child" ]; then
		kill -TERM "$suite_child" 2>/dev/null
		wait "$suite_child" 2>/dev/null
	fi
	if [ -n "$suite_tailer" ]; then
		kill -TERM "$suite_tailer" 2>/dev/null
		wait "$suite_tailer" 2>/dev/null
	fi
}
