#!/usr/bin/env bash
# slurm.sh - dsm under a real Slurm: a private, throwaway cluster on this
# machine (tests/slurmcluster.sh: munged, slurmctld and slurmd from Debian's
# slurm-wlm, everything in a temporary directory), and through salloc,
# sbatch and srun:
#   - the integration programs at 2, 4 and 8 nodes with the srun launcher
#     (tests/integration.sh inside `salloc -n 8`, label "srun");
#   - dsm's defaults inside an allocation: srun, and -n from the task count;
#   - standard input (node 0's, -i K, -i all) and -t through srun;
#   - examples/hello.sbatch through sbatch;
#   - scancel of a batch job: every process of the job gone within 2 s, dsm
#     ending with "Terminated: ending the job" and status 143;
#   - kill -9 of one task: dsm blames that node (status 137);
#   - the failure scenarios with the srun launcher (tests/failures.sh with
#     DSM_FAILURE_LAUNCHER=srun inside `salloc -n 8`).
#
# usage: tests/slurm.sh DSM PROGDIR
#
# Needs root and the packages slurm-wlm and munge (tests/install-deps.sh).
# Without them it prints "skip: WHY" and counts one skipped, not a failure:
# "0 passed, 0 failed, 1 skipped". The cluster is always stopped and its
# directory removed at the end. The last line is "P passed, F failed"; the
# exit status is 0 iff nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
runner_args 2 2 "DSM PROGDIR" "$@"

skip() {
	echo "skip: $1"
	skipped=1
	results_line
	exit 0
}
if [ "$(id -u)" -ne 0 ]; then
	skip "the Slurm tests need root (munged, slurmctld and slurmd run as root)"
fi
for prog in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/srun /usr/bin/salloc \
	/usr/bin/sbatch /usr/bin/scancel /usr/bin/sinfo; do
	if [ ! -x "$prog" ]; then
		skip "the Slurm tests need $prog (packages slurm-wlm and munge: tests/install-deps.sh)"
	fi
done

cleanup() {
	suite_end
	"$here/slurmcluster.sh" stop "$tmp/cluster"
}
runner_tmp slurm

if ! "$here/slurmcluster.sh" start "$tmp/cluster" >"$tmp/cluster.log" 2>&1; then
	cat "$tmp/cluster.log"
	result_fail "slurm: start the test cluster" "$tmp/cluster.log"
	results_line
	exit 1
fi
export SLURM_CONF=$tmp/cluster/slurm.conf
# no Slurm job of the caller's may leak in
unset SLURM_JOB_ID SLURM_JOBID SLURM_JOB_NODELIST SLURM_NTASKS SLURM_TASKS_PER_NODE

suite "integration (srun)" timeout -k 5 300 salloc --quiet -n 8 \
	env DSM_TEST_ARGS="-L srun" DSM_TEST_NODES="2 4 8" "$here/integration.sh" "$dsm" "$progdir" srun

echo "== dsm inside an allocation"
bin=$tmp/bin
mkdir "$bin" && cp "$progdir/linger" "$progdir/args" "$bin/" || exit 2

# pids_of DIR N: the pids in DIR/node.0 .. node.N-1, once all are there (10 s)
pids_of() {
	local k pids=()
	for _ in $(seq 100); do
		pids=()
		for ((k = 0; k < $2; k++)); do
			[ -s "$1/node.$k" ] && pids+=("$(cat "$1/node.$k")")
		done
		[ "${#pids[@]}" -eq "$2" ] && break
		sleep 0.1
	done
	echo "${pids[*]}"
}

# alive PID: runs, and is not a zombie
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# job_pids DIR N: the job's processes while it runs: its nodes (DIR/node.K),
# dsm (whose last argument is DIR) and its children (proxies, srun), the
# shims and srun (they carry the copied programs' path)
job_pids() {
	local pid kids=()
	pids_of "$1" "$2"
	for pid in $(pgrep -f -- "$bin/") $(pgrep -f -- " $1\$"); do
		echo "$pid"
		read -r -a kids 2>/dev/null <"/proc/$pid/task/$pid/children"
		echo "${kids[*]}"
	done
}

# left PID...: those still alive, and any new process with the programs' path
left() {
	local pid out=()
	for pid in "$@" $(pgrep -f -- "$bin/"); do
		alive "$pid" && out+=("$pid")
	done
	echo "${out[*]}"
}

# ---- defaults inside an allocation: srun, and the allocation's task count
title="slurm: inside salloc -n 3, dsm uses srun and 3 nodes by default"
mkdir "$tmp/defaults" && touch "$tmp/defaults/stop"
(cd "$bin" && timeout -k 5 60 salloc --quiet -n 3 "$dsm" -v ./linger "$tmp/defaults") \
	>"$tmp/defaults.out" 2>&1
st=$?
if [ "$st" -ne 0 ]; then
	result_fail "$title" "$tmp/defaults.out" "exit $st"
elif ! grep -q '^dsm: starting 3 nodes of .* with srun; ' "$tmp/defaults.out"; then
	result_fail "$title" "$tmp/defaults.out" "no 'starting 3 nodes of ... with srun'"
elif [ "$(grep -c '^linger: node [0-2] done$' "$tmp/defaults.out")" -ne 3 ]; then
	result_fail "$title" "$tmp/defaults.out" "not every node printed 'linger: node K done'"
elif [ "$(grep -c '^dsm: node [0-2] (.*) exited with status 0$' "$tmp/defaults.out")" -ne 3 ]; then
	result_fail "$title" "$tmp/defaults.out" "not every node exited with status 0"
else
	result_ok "$title"
fi

# ---- standard input and tagged output through srun: node 0 (or -i's node)
# reads dsm's standard input, the others nothing; -i all, every node all of
# a file; -t tags every line with the node and its host
cp "$progdir/stdin" "$bin/"
printf 'from a file\n' >"$tmp/input"
host=$(hostname -s)
# srun_stdin TITLE INPUT WANT-ALL DSM-ARG...: each node K prints "stdin: node
# K read B bytes: TEXT"; node K must read INPUT if it is in WANT-ALL, else
# nothing
srun_stdin() {
	local title=$1 input=$2 readers=" $3 " k line want bad=
	shift 3
	(cd "$bin" && timeout -k 5 60 salloc --quiet -n 3 "$dsm" -L srun -t -n 3 "$@" ./stdin) \
		<"$input" >"$tmp/stdin.out" 2>&1
	st=$?
	for k in 0 1 2; do
		if [[ $readers == *" $k "* ]]; then
			want="[node $k@$host] stdin: node $k read 12 bytes: from a file\\n"
		else
			want="[node $k@$host] stdin: node $k read 0 bytes: "
		fi
		line=$(grep -F "stdin: node $k read" "$tmp/stdin.out")
		[ "$line" = "$want" ] || bad="node $k printed '$line', not '$want'"
	done
	if [ "$st" -ne 0 ]; then
		result_fail "$title" "$tmp/stdin.out" "exit $st"
	elif [ -n "$bad" ]; then
		result_fail "$title" "$tmp/stdin.out" "$bad"
	else
		result_ok "$title"
	fi
}
srun_stdin "slurm: srun passes dsm's standard input to node 0 alone" "$tmp/input" "0"
srun_stdin "slurm: srun passes dsm's standard input to -i 2's node alone" "$tmp/input" "2" -i 2
srun_stdin "slurm: -i all: every node reads the file through srun" "$tmp/input" "0 1 2" -i all

# ---- the example batch script, as its comment says to run it
title="slurm: sbatch examples/hello.sbatch"
root=$(cd "$here/.." && pwd)
(cd "$root" && DSM=$dsm EXAMPLES=$(dirname "$progdir")/examples \
	timeout -k 5 60 sbatch --wait --quiet --output="$tmp/hello.out" examples/hello.sbatch) \
	>"$tmp/hello.sbatch.out" 2>&1
st=$?
cat "$tmp/hello.out" >>"$tmp/hello.sbatch.out" 2>/dev/null
if [ "$st" -ne 0 ]; then
	result_fail "$title" "$tmp/hello.sbatch.out" "exit $st"
elif [ "$(grep -Ec "^\[node [0-3]@$host\] hello from node [0-3] of 4\$" "$tmp/hello.out")" -ne 4 ] ||
	! grep -qx "\[node 0@$host\] slot 3 holds 103" "$tmp/hello.out"; then
	result_fail "$title" "$tmp/hello.sbatch.out" "not 4 hellos and 'slot 3 holds 103', tagged"
else
	result_ok "$title"
fi

# ---- scancel of a batch job: every process gone within 2 s ----------------
title="slurm: scancel of a batch job ends every process within 2 s"
mkdir "$tmp/sc"
cat >"$tmp/sc/job.sh" <<EOF
#!/bin/bash
# the shell waits for dsm before it acts on the SIGTERM scancel sends it too
trap : TERM
cd "$bin" && "$dsm" -n 4 ./linger "$tmp/sc" >"$tmp/sc/out" 2>"$tmp/sc/err"
echo "\$?" >"$tmp/sc/status"
EOF
chmod +x "$tmp/sc/job.sh"
reason=
if ! jid=$(sbatch --parsable -n 4 -o "$tmp/sc/batch.out" "$tmp/sc/job.sh"); then
	reason="sbatch failed"
elif [ -z "$(pids_of "$tmp/sc" 4)" ]; then
	reason="not every node wrote its pid file within 10 s"
else
	mapfile -t pids < <(job_pids "$tmp/sc" 4)
	read -r -a pids <<<"${pids[*]}"
	t0=$(date +%s%N)
	scancel "$jid"
	for _ in $(seq 20); do
		left=$(left "${pids[@]}")
		[ -z "$left" ] && break
		sleep 0.1
	done
	took=$((($(date +%s%N) - t0) / 1000000))
	if [ -n "$left" ]; then
		reason="left 2 s after scancel: $left"
	fi
	for _ in $(seq 50); do
		[ -s "$tmp/sc/status" ] && break
		sleep 0.1
	done
	if [ -z "$reason" ] && [ "$(cat "$tmp/sc/status" 2>/dev/null)" != 143 ]; then
		reason="dsm exited with $(cat "$tmp/sc/status" 2>/dev/null), not 143"
	elif [ -z "$reason" ] && ! grep -qx 'dsm: Terminated: ending the job' "$tmp/sc/err"; then
		reason="no 'dsm: Terminated: ending the job'"
	fi
fi
if [ -z "$reason" ]; then
	result_ok "$title (${took} ms)"
else
	result_fail "$title" "$tmp/sc/err" "$reason"
fi

# ---- kill -9 of one task: dsm blames that node ----------------------------
title="slurm: kill -9 of a task: dsm blames its node"
mkdir "$tmp/k9"
(cd "$bin" && exec timeout -k 5 60 salloc --quiet -n 4 "$dsm" -n 4 ./linger "$tmp/k9") \
	>"$tmp/k9.out" 2>&1 &
kpid=$!
read -r -a nodes <<<"$(pids_of "$tmp/k9" 4)"
if [ "${#nodes[@]}" -eq 4 ]; then
	mapfile -t pids < <(job_pids "$tmp/k9" 4)
	read -r -a pids <<<"${pids[*]}"
	kill -KILL "${nodes[2]}"
else
	touch "$tmp/k9/stop"
fi
wait "$kpid"
st=$?
if [ "${#nodes[@]}" -ne 4 ]; then
	result_fail "$title" "$tmp/k9.out" "not every node wrote its pid file within 10 s"
elif [ "$st" -ne 137 ]; then
	result_fail "$title" "$tmp/k9.out" "exit $st, not 137"
elif ! grep -Eq '^dsm: node 2 \(.+\) killed by signal 9 \(Killed\)$' "$tmp/k9.out"; then
	result_fail "$title" "$tmp/k9.out" "no 'dsm: node 2 (HOST) killed by signal 9 (Killed)'"
elif [ -n "$(left "${pids[@]}")" ]; then
	result_fail "$title" "$tmp/k9.out" "left after dsm exited: $(left "${pids[@]}")"
else
	result_ok "$title"
fi

suite "failures (srun)" timeout -k 5 300 salloc --quiet -n 8 \
	env DSM_FAILURE_LAUNCHER=srun "$here/failures.sh" "$dsm" "$progdir"

results_line
