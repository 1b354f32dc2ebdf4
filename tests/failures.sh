#!/usr/bin/env bash
# failures.sh - how dsm ends a job that goes wrong.
#
# usage: tests/failures.sh DSM PROGDIR [HOSTFILE]
#
#   DSM       the dsm binary (a path, or a command name found in PATH)
#   PROGDIR   directory holding the built test programs (linger, segv,
#             flood and wrongstate)
#   HOSTFILE  run every scenario with `-H HOSTFILE` (remote nodes; DSM_SSH in
#             the environment says how to reach them); without it, locally
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
for prog in linger segv flood wrongstate; do
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
	hostargs=(-H "$hostfile")
	label=failures-remote
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
cp "$progdir/linger" "$progdir/segv" "$progdir/flood" "$progdir/wrongstate" "$bin/" || exit 2
# what pgrep -f looks for: node programs, their wrappers, ssh clients and
# remote shells all carry the executable's absolute path
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
# in files; DIR is an empty directory for the scenario (outside bin).
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
		env "${envs[@]}" timeout -k 5 60 "$dsm" "$@" </dev/null >"$out" 2>"$err"
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

# ---- a. kill -9 of a node mid-run -------------------------------------
launch kill-node -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/kill-node"
if wait_pidfiles 4; then
	kill -KILL "$(cat "$dir/node.2")"
else
	stop_job
fi
conclude "kill -9 node 2" 137 'node 2 \(.*\) killed by signal 9'

# ---- a2. node 2 holds the only copy of a page and is killed while dsm is
# stopped; the others then read that page, die of 'page lost' and become
# zombies before node 2 is reaped. dsm must still blame node 2, whose link
# closed first (a race CI once hit, made deterministic here)
launch kill-node-late -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/kill-node-late" hold
if wait_pidfiles 4; then
	kill -STOP "$dsmpid"
	kill -KILL "$(cat "$dir/node.2")"
	: >"$dir/touch"
	sleep 1 # the proxies keep running: the others fault and die meanwhile
	kill -CONT "$dsmpid"
else
	stop_job
fi
conclude "kill -9 node 2 while dsm is stopped" 137 'node 2 \(.*\) killed by signal 9'

# ---- b. kill -9 of dsm ------------------------------------------------
launch kill-dsm -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/kill-dsm"
if wait_pidfiles 4; then
	kill -KILL "$dsmpid"
else
	stop_job
fi
conclude "kill -9 dsm" 137

# ---- c, d. SIGINT and SIGTERM to dsm ------------------------------------
for sig in INT:130:Interrupt TERM:143:Terminated; do
	IFS=: read -r name code text <<<"$sig"
	launch "sig$name" -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/sig$name"
	if wait_pidfiles 4; then
		kill "-$name" "$dsmpid"
	else
		stop_job
	fi
	conclude "SIG$name to dsm" "$code" "$text: ending the job"
done

# ---- e. a host that does not resolve -----------------------------------
# (dsm starts it through ssh in both variants: DSM_SSH if set, else plain ssh)
echo nonexistent-host.invalid >"$tmp/badhosts"
launch bad-host -- -T 10 -H "$tmp/badhosts" -n 2 ./linger "$tmp/run/bad-host"
t0=$SECONDS
finish
if [ "$status" -eq 0 ]; then
	fail_because "expected a non-zero exit"
elif [ "$status" -eq 124 ] || [ $((SECONDS - t0)) -ge 20 ]; then
	fail_because "took $((SECONDS - t0)) s (expected well under 20 s)"
fi
expect_stderr 'nonexistent-host\.invalid'
expect_gone
report "host that does not resolve"

# ---- f. a program that does not exist ----------------------------------
launch no-program -- "${hostargs[@]}" -n 2 ./no-such-program
conclude "program that does not exist" 2 'dsm: .*no-such-program'

# ---- g. garbage sent to the allocator's port ----------------------------
# once while the nodes are still joining (they start 3 s late, so the bytes
# go through the HELLO decoder) and once after all have joined
# shellcheck disable=SC2016 # $0 and $@ are for the wrapper's shell
late='/bin/sh -c '\''sleep 3; exec "$0" "$@"'\'
launch garbage DSM_WRAPPER="$late" -- "${hostargs[@]}" -v -n 4 ./linger "$tmp/run/garbage"
if wait_stderr 'nodes connect to ' && read -r host port <<<"$(port_of)"; then
	send_garbage "$host" "$port"
	wait_stderr "refused a connection from $host:[0-9]+: " ||
		fail_because "no 'refused a connection from $host:PORT: WHY' while joining"
	if wait_pidfiles 4; then
		send_garbage "$host" "$port"
		wait_stderr "refused a connection from $host:[0-9]+: all nodes have joined" ||
			fail_because "no 'refused a connection from $host:PORT: all nodes have joined'"
	fi
else
	fail_because "no 'nodes connect to HOST:PORT' on dsm's stderr"
fi
stop_job
finish
expect_status 0
expect_stderr 'refused a connection from 127\.0\.0\.1'
expect_all_done 4
expect_gone
report "garbage to the allocator's port"

# ---- h. a client with a wrong secret while the job is joining -----------
launch secret DSM_WRAPPER="$late" -- "${hostargs[@]}" -v -n 4 ./linger "$tmp/run/secret"
mkdir "$tmp/run/fake"
if wait_stderr 'nodes connect to ' && read -r host port <<<"$(port_of)"; then
	zeros=$(printf '0%.0s' {1..64})
	(cd "$bin" && DSM_SECRET=$zeros exec timeout 10 ./linger \
		"--dsm-node=1,4,$port,$host" "$tmp/run/fake") \
		</dev/null >"$tmp/run/fake.out" 2>"$tmp/run/fake.err" &
	fake=$!
	started+=("$fake")
	wait "$fake"
	fake_status=$?
	forget "$fake"
	if [ "$fake_status" -eq 0 ]; then
		fail_because "the node with a wrong secret exited 0"
	elif ! grep -q 'refused' "$tmp/run/fake.err"; then
		fail_because "the node with a wrong secret did not say dsm refused it"
	fi
	wait_stderr 'wrong job secret' || fail_because "no 'wrong job secret' on dsm's stderr"
	if wait_pidfiles 4; then
		# the job's secret, from a node's environment (never a command line)
		secret=$(tr '\0' '\n' <"/proc/${job_pids[0]}/environ" 2>/dev/null |
			sed -n 's/^DSM_SECRET=//p')
		if ! [[ $secret =~ ^[0-9a-f]{64}$ ]]; then
			fail_because "cannot read the job's secret from node 0's environment"
		else
			# every command line on this machine; the pattern goes through a
			# file so that grep's own command line does not hold it
			pids=("${job_pids[@]}" "$dsmpid")
			for pid in $(pgrep -f "$pattern"); do
				pids+=("$pid")
			done
			files=()
			for pid in "${pids[@]}"; do
				[ -r "/proc/$pid/cmdline" ] && files+=("/proc/$pid/cmdline")
			done
			# (grep's status is 2 when a process went away meanwhile)
			leak=$(grep -laF -f <(printf '%s\n' "$secret") \
				"${files[@]}" /proc/[0-9]*/cmdline 2>/dev/null)
			if [ "${#files[@]}" -lt 5 ]; then
				fail_because "cannot read the command lines of the job's processes"
			elif [ -n "$leak" ]; then
				fail_because "the job's secret is on a command line: $(echo "$leak" | tr '\n' ' ')"
			fi
		fi
		secret=
	fi
else
	fail_because "no 'nodes connect to HOST:PORT' on dsm's stderr"
fi
stop_job
finish
expect_status 0
expect_all_done 4
expect_gone
report "wrong secret while joining"

# ---- i. a node that segfaults outside the region -------------------------
launch segv -- "${hostargs[@]}" -n 4 ./segv
conclude "segv outside the region" 139 'node 3 \(.*\) killed by signal 11'

# ---- j-m. nodes that misuse their link: tests/failures-links.sh ----------
# shellcheck source=tests/failures-links.sh
. "$(dirname "$0")/failures-links.sh"

results_line
