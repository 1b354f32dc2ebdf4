#!/usr/bin/env bash
# failures.sh - how dsm ends a job that goes wrong.
#
# usage: tests/failures.sh DSM PROGDIR [HOSTFILE]
#
#   DSM       the dsm binary (a path, or a command name found in PATH)
#   PROGDIR   directory holding the built test programs (linger, segv,
#             fork_child, flood, wrongstate, collfail, lockfail and txnfail)
#   HOSTFILE  run every scenario with `-H HOSTFILE` (remote nodes; DSM_SSH in
#             the environment says how to reach them); without it, locally
#
# DSM_FAILURE_LAUNCHER=srun runs every scenario with `-L srun` instead (one
# srun step for every node: inside a Slurm allocation of at least 4 tasks,
# see tests/slurm.sh); the scenarios that only mean something for one
# launcher say so and are left out for the others.
#
# The scenarios are in tests/failures.d, one file per set (basic.sh: nodes
# and dsm killed, bad hosts and programs, strangers; ending.sh: how a job
# ends, its status and its output; collective.sh: sm_malloc_collective and
# sm_bcast_buf called wrongly; locks.sh: misused locks, lock holders
# that go; txn.sh: transactions misused, faulting, or killed);
# DSM_FAILURE_SETS="SET..." runs only those. They use the helpers below.
#
# Each scenario runs `timeout -k 5 60 dsm ... -n 4 ./linger DIR` (or ./segv)
# from a private copy of the programs in a fresh temporary directory, so
# `pgrep -f "$tmp/bin/"` finds exactly this run's node processes. It breaks the
# job in one way and checks dsm's exit status, a message on its stderr, and
# that no process of the job is left 3 s after dsm exited. One line per
# scenario: "ok   failures[-remote] NAME", or "FAIL failures[-remote] NAME
# (exit S)" with the reason and the last lines of dsm's stderr, indented. The
# last line is "P passed, F failed"; the exit status is 0 iff nothing failed.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
runner_args 2 3 "DSM PROGDIR [HOSTFILE]" "$@"
hostfile=${3:-}
for prog in linger segv fork_child flood wrongstate collfail lockfail txnfail; do
	if [ ! -x "$progdir/$prog" ]; then
		echo "$0: $progdir/$prog: not built" >&2
		exit 2
	fi
done
# dsm's name in /proc/PID/comm (at most 15 characters)
dsm_comm=${dsm##*/}
dsm_comm=${dsm_comm:0:15}
label=failures
hostargs=()
if [ -n "$hostfile" ]; then
	if [ ! -r "$hostfile" ]; then
		echo "$0: $hostfile: cannot read it" >&2
		exit 2
	fi
	hostfile=$(cd "$(dirname "$hostfile")" && pwd)/$(basename "$hostfile")
	# shellcheck disable=SC2034 # the scenario sets use it
	hostargs=(-H "$hostfile")
	label=failures-remote
fi
# shellcheck disable=SC2034 # the scenario sets use it
srun=
if [ "${DSM_FAILURE_LAUNCHER:-}" = srun ]; then
	if [ -n "$hostfile" ]; then
		echo "$0: DSM_FAILURE_LAUNCHER=srun and a HOSTFILE do not go together" >&2
		exit 2
	fi
	# shellcheck disable=SC2034 # the scenario sets use both
	srun=1
	# shellcheck disable=SC2034
	hostargs=(-L srun)
	label=failures-srun
elif [ -n "${DSM_FAILURE_LAUNCHER:-}" ]; then
	echo "$0: DSM_FAILURE_LAUNCHER=${DSM_FAILURE_LAUNCHER}: only srun is known" >&2
	exit 2
fi

# PIDs this script started: the subshells running timeout, the fake node
started=()
dsmpid=
# cleanup: end what is left of them (timeout passes SIGTERM on to dsm, which
# ends the job; SIGKILL to dsm ends its nodes by PR_SET_PDEATHSIG)
cleanup() {
	local pids=() kids=() pid any
	for pid in "${started[@]}"; do
		kids=()
		# (the file has no final newline: read's status says nothing)
		read -r -a kids 2>/dev/null <"/proc/$pid/task/$pid/children"
		pids+=("$pid" "${kids[@]}")
	done
	[ -n "$dsmpid" ] && pids+=("$dsmpid")
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for _ in $(seq 20); do
		any=
		for pid in "${pids[@]}"; do
			alive "$pid" && any=1
		done
		[ -z "$any" ] && break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
}
runner_tmp failures
bin=$tmp/bin
mkdir "$bin" "$tmp/run" || exit 2
cp "$progdir/linger" "$progdir/segv" "$progdir/fork_child" "$progdir/flood" \
	"$progdir/wrongstate" "$progdir/collfail" "$progdir/lockfail" "$progdir/txnfail" \
	"$bin/" || exit 2
# what pgrep -f looks for: node programs, their wrappers, ssh clients,
# remote shells, srun and its tasks' shims all carry the executable's
# absolute path
pattern=$bin/

# The segv scenario must not leave core files behind.
ulimit -c 0 2>/dev/null

status=
tpid=
dir=
out=
err=
reason=
job_pids=()

# forget PID (it has been waited for)
forget() {
	local keep=() pid
	for pid in "${started[@]}"; do
		[ "$pid" = "$1" ] || keep+=("$pid")
	done
	started=("${keep[@]}")
}

# fail_because REASON: the first reason a scenario fails is the one reported
fail_because() {
	[ -n "$reason" ] || reason=$1
}

# launch NAME [VAR=VALUE]... -- DSM-ARG...: start `timeout -k 5 60 dsm ARG...`
# inside the copied bin directory, in the background, with stdout and stderr
# in files (stdout into $stdout_to instead when that is set); DIR is an
# empty directory for the scenario (outside bin).
launch() {
	local name=$1 envs=()
	shift
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	dir=$tmp/run/$name
	out=$tmp/run/$name.out
	err=$tmp/run/$name.err
	mkdir "$dir"
	: >"$out"
	: >"$err"
	reason=
	status=
	dsmpid=
	job_pids=()
	# not exec'd: this subshell's status is timeout's, even when timeout
	# dies of a signal (which bash would otherwise report as "Killed")
	(
		cd "$bin" || exit 2
		env "${envs[@]}" timeout -k 5 60 "$dsm" "$@" </dev/null >"${stdout_to:-$out}" 2>"$err"
		exit $?
	) 2>/dev/null &
	tpid=$!
	started+=("$tpid")
}

# running: is dsm (under timeout, under the subshell) still running?
running() {
	kill -0 "$tpid" 2>/dev/null
}

# find_dsm: dsmpid = the subshell's grandchild, once it is dsm
find_dsm() {
	local kids=() grandkids=() kid pid
	for _ in $(seq 100); do
		kids=()
		read -r -a kids 2>/dev/null <"/proc/$tpid/task/$tpid/children"
		for kid in "${kids[@]}"; do
			grandkids=()
			read -r -a grandkids 2>/dev/null <"/proc/$kid/task/$kid/children"
			for pid in "${grandkids[@]}"; do
				# (by name: build/dsm may be relinked while it runs)
				if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$dsm_comm" ]; then
					dsmpid=$pid
					return 0
				fi
			done
		done
		running || return 1
		sleep 0.1
	done
	return 1
}

# wait_pidfiles N: wait up to 10 s for DIR/node.0 .. node.N-1; then remember
# them, and dsm's children (proxies, local nodes, ssh clients), in job_pids
wait_pidfiles() {
	local n=$1 k all kids=()
	for _ in $(seq 100); do
		all=1
		for ((k = 0; k < n; k++)); do
			[ -s "$dir/node.$k" ] || all=
		done
		[ -n "$all" ] && break
		running || break
		sleep 0.1
	done
	if [ -z "$all" ]; then
		fail_because "not every node wrote its pid file within 10 s"
		return 1
	fi
	if [ -z "$dsmpid" ] && ! find_dsm; then
		fail_because "cannot find dsm's pid"
		return 1
	fi
	for ((k = 0; k < n; k++)); do
		job_pids+=("$(cat "$dir/node.$k")")
	done
	read -r -a kids 2>/dev/null <"/proc/$dsmpid/task/$dsmpid/children"
	job_pids+=("${kids[@]}")
	return 0
}

# wait_stderr REGEX: wait up to 10 s for a line matching REGEX on dsm's stderr
wait_stderr() {
	for _ in $(seq 100); do
		grep -Eq -- "$1" "$err" && return 0
		running || break
		sleep 0.1
	done
	grep -Eq -- "$1" "$err"
}

# finish: wait for dsm (through timeout); sets status
finish() {
	wait "$tpid"
	status=$?
	forget "$tpid"
	dsmpid=
}

# alive PID: a process that still runs. A zombie does not count: on a machine
# whose init does not reap orphans, a node killed after dsm died stays one.
alive() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# leftovers: what is left of the job: "pid ..." or empty
leftovers() {
	local pid left=() f
	for f in "$dir"/node.*; do
		[ -s "$f" ] && job_pids+=("$(cat "$f")")
	done
	for pid in "${job_pids[@]}"; do
		alive "$pid" && left+=("$pid")
	done
	for pid in $(pgrep -f "$pattern"); do
		alive "$pid" && left+=("$pid")
	done
	echo "${left[*]}"
}

# expect_gone: nothing of the job may be left within 3 s after dsm exited
expect_gone() {
	local left
	for _ in $(seq 30); do
		left=$(leftovers)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	local pid desc=
	for pid in $left; do
		desc+=" $pid:$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)"
	done
	fail_because "processes left 3 s after dsm exited:$desc"
}

# expect_status S
expect_status() {
	if [ "$status" -ne "$1" ]; then
		if [ "$status" -eq 124 ]; then
			fail_because "timed out (expected exit $1)"
		else
			fail_because "expected exit $1"
		fi
	fi
}

# expect_stderr REGEX
expect_stderr() {
	grep -Eq -- "$1" "$err" || fail_because "no '$1' on dsm's stderr"
}

# report TITLE
report() {
	local title="$label $1"
	if [ -z "$reason" ]; then
		result_ok "$title"
	else
		result_fail "$title (exit ${status:-none})" "$err" "$reason"
	fi
}

# conclude TITLE STATUS [REGEX]: wait for dsm; it must exit with STATUS,
# say REGEX on stderr (when given) and leave nothing of the job behind
conclude() {
	finish
	expect_status "$2"
	if [ -n "${3:-}" ]; then
		expect_stderr "$3"
	fi
	expect_gone
	report "$1"
}

# stop_job: make the job end by itself if a check failed half-way
stop_job() {
	touch "$dir/stop"
	if [ -n "$dsmpid" ] && running; then
		for _ in $(seq 50); do
			running || break
			sleep 0.1
		done
		running && kill -TERM "$dsmpid" 2>/dev/null
	fi
}

# kill_behind_dsm K [COMMAND...]: stop dsm, kill -9 node K (its pid from
# DIR/node.K), run COMMAND, and give the proxies, which keep running, 1 s
# before dsm goes on: what they do about the death (and what COMMAND set
# off) comes before dsm can end the job.
kill_behind_dsm() {
	local k=$1
	shift
	kill -STOP "$dsmpid"
	kill -KILL "$(cat "$dir/node.$k")"
	"$@"
	sleep 1
	kill -CONT "$dsmpid"
}

# port_of: "HOST PORT" from dsm's -v line "nodes connect to HOST:PORT"
port_of() {
	sed -nE 's/.*nodes connect to ([^ :]+):([0-9]+).*/\1 \2/p' "$err" | head -n 1
}

# send_garbage HOST PORT: garbage bytes to the allocator's port
send_garbage() {
	# the allocator may close the connection before all is written
	(printf 'GARBAGE%.0s' {1..50} >"/dev/tcp/$1/$2") 2>/dev/null
}

# all_done N: every node printed "linger: node K done"
expect_all_done() {
	local k
	for ((k = 0; k < $1; k++)); do
		grep -qx "linger: node $k done" "$out" ||
			fail_because "node $k did not print 'linger: node $k done'"
	done
}

# job_child REGEX: the pid of dsm's first child (proxy, local node, ssh
# client) whose command line matches REGEX, or nothing
job_child() {
	local kids=() pid
	[ -n "$dsmpid" ] || return 1
	read -r -a kids 2>/dev/null <"/proc/$dsmpid/task/$dsmpid/children"
	for pid in "${kids[@]}"; do
		if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq -- "$1"; then
			echo "$pid"
			return 0
		fi
	done
	return 1
}

# gone_within SECONDS PID: PID ended (and, for dsm's child, was reaped)
gone_within() {
	local k
	for ((k = 0; k < $1 * 10; k++)); do
		[ -d "/proc/$2" ] || return 0
		sleep 0.1
	done
	return 1
}

# ---- the scenarios: every file in tests/failures.d, or the sets named in
# DSM_FAILURE_SETS (e.g. "ending"), each sourced here in turn
here=$(cd "$(dirname "$0")" && pwd)
read -r -a sets <<<"${DSM_FAILURE_SETS:-}"
if [ "${#sets[@]}" -eq 0 ]; then
	for f in "$here"/failures.d/*.sh; do
		sets+=("$(basename "$f" .sh)")
	done
fi
for set in "${sets[@]}"; do
	if [ ! -r "$here/failures.d/$set.sh" ]; then
		result_fail "$label $set (no scenario set tests/failures.d/$set.sh)"
		continue
	fi
	# shellcheck source=/dev/null
	. "$here/failures.d/$set.sh"
done

results_line
