#!/usr/bin/env bash
# stress.sh - what `make stress` runs: the failure and fault scenarios again
# and again, to show they are not flaky on a loaded machine.
#
# usage: tests/stress.sh DSM PROGDIR
#
# STRESS_RUNS=N (default 20) runs of every suite below. Each run's output is
# kept only when it failed (shown, its last lines). One line per suite,
# "ok   stress SUITE (N runs)" or "FAIL stress SUITE (F of N runs failed)";
# the last line is "P passed, F failed" counting suites; the exit status is
# 0 iff nothing failed. Suites that need remote nodes start the private
# sshd of tests/sshd.sh (root only; without root they are skipped).
#
# Every area of dsm adds its scenarios as a block of its own below.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
runner_args 2 2 "DSM PROGDIR" "$@"
runs=${STRESS_RUNS:-20}
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
	echo "$0: STRESS_RUNS=$runs: not a positive number" >&2
	exit 2
fi

child=
sshd_up=
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

# remote_hosts: start the private sshd once; true when remote suites can run
# (sets hosts and exports DSM_SSH)
hosts=
remote_hosts() {
	[ -n "$sshd_up" ] && return 0
	[ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/sshd ] || return 1
	"$here/sshd.sh" start "$tmp" >/dev/null 2>&1 || return 1
	sshd_up=1
	hosts=$tmp/hosts
	printf '127.0.0.%s\n' 2 3 4 5 >"$hosts"
	export DSM_SSH="ssh -F $tmp/ssh_config"
}

# repeat TITLE COMMAND...: run a suite (its last line "P passed, F failed")
# STRESS_RUNS times; one result for all the runs
repeat() {
	local title=$1 bad=0 k log=$tmp/run.log s=s
	shift
	[ "$runs" -eq 1 ] && s=
	for ((k = 1; k <= runs; k++)); do
		"$@" >"$log" 2>&1 &
		child=$!
		wait "$child"
		child=
		if ! [[ "$(tail -n 1 "$log")" =~ ^[0-9]+\ passed,\ 0\ failed ]]; then
			bad=$((bad + 1))
			echo "     run $k of $title:"
			grep -E '^(FAIL|      )' "$log" | head -n 20 | sed 's/^/     /'
		fi
	done
	if [ "$bad" -eq 0 ]; then
		result_ok "stress $title ($runs run$s)"
	else
		result_fail "stress $title ($bad of $runs run$s failed)"
	fi
}

# skip_remote TITLE: a remote suite that cannot run here
skip_remote() {
	echo "skip stress $1 (needs root and openssh-server)"
	skipped=$((skipped + 1))
}

# ---- how dsm ends a job that goes wrong (tests/failures.sh) --------------
repeat "failures (local nodes)" "$here/failures.sh" "$dsm" "$progdir"
if remote_hosts; then
	repeat "failures (remote nodes)" "$here/failures.sh" "$dsm" "$progdir" "$hosts"
else
	skip_remote "failures (remote nodes)"
fi

# ---- launching: the nodes' standard input, closed descriptors, usage
# errors of hosts files and DSM_WRAPPER/DSM_SSH (tests/launch.sh) ----------
repeat "launch (local nodes)" "$here/launch.sh" "$dsm" "$progdir"
if remote_hosts; then
	repeat "launch (remote nodes)" "$here/launch.sh" "$dsm" "$progdir" "$hosts"
else
	skip_remote "launch (remote nodes)"
fi

results_line
