#!/usr/bin/env bash
# stress.sh - the failure and fault scenarios again and again, to catch what
# fails only sometimes (races between a node's death, its proxy's notices
# and dsm's reaping; ssh relaying a status; output nobody reads).
#
# usage: tests/stress.sh DSM PROGDIR      (`make stress`)
#
# STRESS_RUNS=N repeats every block N times (default 20). Each block below
# runs one set of scenarios (tests/failures.d) through tests/failures.sh,
# locally and, as root with openssh-server, with remote nodes through a
# private sshd (tests/sshd.sh). One line per run: "== BLOCK run K/N", then
# what failed in it; the last line is "P passed, F failed" over all runs,
# and the exit status is 0 iff nothing failed. Add a block of your own at
# the end, apart from the others.
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
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ -n "${hosts:-}" ]; then
		"$here/sshd.sh" stop "$tmp"
	fi
}
runner_tmp stress

# remote nodes when possible: a private sshd, as tests/remote.sh does
hosts=
if [ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/sshd ] && "$here/sshd.sh" start "$tmp"; then
	hosts=$tmp/hosts
	printf '127.0.0.%s\n' 2 3 4 5 >"$hosts"
	export DSM_SSH="ssh -F $tmp/ssh_config"
else
	echo "(no root or no sshd: local nodes only)"
fi

# stress TITLE SETS: STRESS_RUNS runs of failures.sh with DSM_FAILURE_SETS
# set to SETS, local and remote; what fails is shown, the counts added up
stress() {
	local title=$1 sets=$2 log=$tmp/run.log k where
	for ((k = 1; k <= runs; k++)); do
		for where in local remote; do
			[ "$where" = remote ] && [ -z "$hosts" ] && continue
			echo "== $title ($where) run $k/$runs"
			if [ "$where" = remote ]; then
				DSM_FAILURE_SETS=$sets "$here/failures.sh" "$dsm" "$progdir" "$hosts" \
					>"$log" 2>&1 &
			else
				DSM_FAILURE_SETS=$sets "$here/failures.sh" "$dsm" "$progdir" >"$log" 2>&1 &
			fi
			child=$!
			wait "$child"
			child=
			grep -v '^ok ' "$log" | sed '$d'
			add_results "$title ($where) run $k" "$(tail -n 1 "$log")"
		done
	done
}

# ---- how a job ends (tests/failures.d/ending.sh): _exit(0) of a node
# however late its proxy's notice comes, stopped nodes, a remote node's
# status through a slow ssh, dsm's stdout nobody reads; and the basic set,
# whose "kill -9 node 2" misreported remote nodes 4 times in 20
stress "job ending" "basic ending"

results_line
