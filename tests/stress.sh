#!/usr/bin/env bash
# stress.sh - the failure and fault scenarios over and over, to find the
# flaky ones: every suite below runs STRESS_RUNS times (default 20).
#
# usage: tests/stress.sh DSM PROGDIR UNIT
#
#   DSM      the dsm binary
#   PROGDIR  the built test programs (tests/failures.sh needs linger and segv)
#   UNIT     the Criterion unit test binary (build/unit)
#
# Each run of a suite is one check: "ok   stress NAME run K", or "FAIL stress
# NAME run K (exit S)" with the failing lines of that run, indented. As root
# with openssh-server the failure scenarios also run with remote nodes through
# a private sshd (tests/sshd.sh); otherwise that suite counts as skipped. The
# last line is "P passed, F failed"; the exit status is 0 iff nothing failed.
#
# Each area adds its suites in a block of its own below, so that blocks added
# on different branches merge without conflicts.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
runner_args 3 3 "DSM PROGDIR UNIT" "$@"
unit=$(absolute_command "$3") || exit 2
runs=${STRESS_RUNS:-20}
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
	echo "$0: STRESS_RUNS=$runs: not a positive whole number" >&2
	exit 2
fi

child=
sshd_up=
# always: end a suite still running, stop the sshd; runner_exit removes $tmp
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ -n "$sshd_up" ]; then
		"$here/sshd.sh" stop "$tmp"
	fi
}
runner_tmp stress

# repeat NAME COMMAND...: run COMMAND STRESS_RUNS times, one check a run. It
# runs in the background, so that a signal to this script is acted on at once.
repeat() {
	local name=$1 k st log=$tmp/run.log
	shift
	for ((k = 1; k <= runs; k++)); do
		"$@" >"$log" 2>&1 &
		child=$!
		wait "$child"
		st=$?
		child=
		if [ "$st" -eq 0 ]; then
			result_ok "stress $name run $k"
		else
			grep -E -A8 '^(FAIL|\[FAIL\]|\[----\])' "$log" >"$tmp/failing" ||
				tail -n 8 "$log" >"$tmp/failing"
			result_fail "stress $name run $k (exit $st)" "$tmp/failing"
		fi
	done
}

# remote nodes: hosts 127.0.0.2-5 through the private sshd, as tests/remote.sh
hosts=
if [ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/sshd ]; then
	if "$here/sshd.sh" start "$tmp"; then
		sshd_up=1
		hosts=$tmp/hosts
		printf '127.0.0.%s\n' 2 3 4 5 >"$hosts"
		export DSM_SSH="ssh -F $tmp/ssh_config"
	else
		echo "stress: cannot start the test sshd"
	fi
fi

# repeat_remote TITLE COMMAND...: repeat COMMAND with the hosts file of the
# test sshd as its last argument, or say why it is skipped
repeat_remote() {
	local title=$1
	shift
	if [ -n "$hosts" ]; then
		repeat "$title" "$@" "$hosts"
	else
		echo "skip stress $title: needs root, openssh-server and the test sshd"
		skipped=$((skipped + 1))
	fi
}

# ---- the failure scenarios, local and remote nodes (tests/failures.sh) ----
repeat "failures (local nodes)" "$here/failures.sh" "$dsm" "$progdir"
repeat_remote "failures (remote nodes)" "$here/failures.sh" "$dsm" "$progdir"

# ---- joining: the rendezvous under strangers (unit suite) ----------------
# (its end-to-end scenarios, j and k, are in tests/failures.sh above)
repeat "unit rendezvous" "$unit" --jobs 2 --filter 'rendezvous/*'
# ---- end of joining ------------------------------------------------------

# ---- two-page faults: one instruction that needs two pages ----------------
# (forward progress for the pair, no deadlock between pairs; with the trap
# flag and with the CPU-time hold window)
# dsm_ok ARG...: `dsm ARG...` in PROGDIR must exit 0 within STRESS_TIMEOUT
dsm_ok() {
	(cd "$progdir" && exec timeout -k 5 "${STRESS_TIMEOUT:-120}" "$dsm" "$@") </dev/null
}
# dsm_ok_notrap ARG...: the same with the CPU-time hold window instead of the
# trap flag (as under valgrind), through the wrapper so remote nodes get it
dsm_ok_notrap() {
	DSM_WRAPPER="env DSM_TRAP=0${DSM_WRAPPER:+ $DSM_WRAPPER}" dsm_ok "$@"
}
for n in 8 16; do
	for mode in plain cross lock; do
		repeat "straddle $mode N=$n" dsm_ok -n "$n" ./straddle "$mode"
	done
	repeat "straddle plain DSM_TRAP=0 N=$n" dsm_ok_notrap -n "$n" ./straddle plain
done
# ---- end of two-page faults ------------------------------------------------

# ---- launching: the nodes' standard input, closed descriptors, usage
# errors of hosts files and DSM_WRAPPER/DSM_SSH (tests/launch.sh) ----------
repeat "launch (local nodes)" "$here/launch.sh" "$dsm" "$progdir"
repeat_remote "launch (remote nodes)" "$here/launch.sh" "$dsm" "$progdir"
# ---- end of launching ----------------------------------------------------

# ---- nodes that misuse their link: floods and messages after EXIT are the
# links set of tests/failures.sh (above); here the wrongstate runs of
# integration.sh ----------------------------------------------------------------
repeat "integration wrongstate" env DSM_TEST_ONLY=wrongstate \
	"$here/integration.sh" "$dsm" "$progdir" stress
# ---- end of links ----------------------------------------------------------

# ---- libsm: forked children, threads, system calls and sleeps -------------
# (the fork_child, threads, threadsync, openmp and syscalls runs of
# tests/integration.sh, local and through ssh; the daemon-style children are
# scenario l of failures.sh)
for prog in fork_child threads threadsync openmp syscalls; do
	repeat "integration $prog" env DSM_TEST_ONLY="$prog" \
		"$here/integration.sh" "$dsm" "$progdir" stress
done
if [ -n "$hosts" ]; then
	for prog in fork_child threads threadsync openmp; do
		repeat "integration $prog (ssh)" env DSM_TEST_ARGS="-H $hosts" \
			DSM_TEST_ONLY="$prog" "$here/integration.sh" "$dsm" "$progdir" ssh
	done
else
	echo "skip stress libsm (ssh): needs root, openssh-server and the test sshd"
	skipped=$((skipped + 1))
fi
# ---- end of libsm ---------------------------------------------------------

results_line
