#!/usr/bin/env bash
# launch.sh - what dsm does before and around starting the nodes, end to end:
# the standard input of the nodes (dsm -i), dsm started with a standard
# descriptor closed, usage errors in the hosts file, DSM_WRAPPER, DSM_SSH
# and DSM_SRUN, the launcher (-L) with Slurm's hosts, slots and task count
# (without a Slurm: srun itself is tests/slurm.sh's), and counts in messages
# ("1 node", not "1 nodes").
#
# usage: tests/launch.sh DSM PROGDIR [HOSTFILE]
#
#   DSM       the dsm binary (a path, or a command name found in PATH)
#   PROGDIR   directory holding the built test programs (stdin and args)
#   HOSTFILE  other hosts (DSM_SSH says how to reach them): then only the
#             checks of remote nodes' standard input run
#
# Each check runs `timeout -k 5 LIMIT dsm ...` (LIMIT: DSM_TEST_TIMEOUT,
# default 60) on a private copy of the programs, named by absolute path so
# that `pgrep -f` finds everything of the run (dsm, its relay, proxies,
# nodes, ssh clients), and asserts dsm's exit status, its messages, what the
# nodes printed, and that nothing of the job is left 3 s after dsm exited.
# One line per check, "ok   launch[-remote] TITLE" or "FAIL ..." with the
# reason and the last lines of dsm's stderr; the last line is "P passed, F
# failed", and the exit status is 0 iff nothing failed.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
runner_args 2 3 "DSM PROGDIR [HOSTFILE]" "$@"
hostfile=${3:-}
limit=${DSM_TEST_TIMEOUT:-60}
for prog in stdin args; do
	if [ ! -x "$progdir/$prog" ]; then
		echo "$0: $progdir/$prog: not built" >&2
		exit 2
	fi
done
label=launch
if [ -n "$hostfile" ]; then
	if [ ! -r "$hostfile" ]; then
		echo "$0: $hostfile: cannot read it" >&2
		exit 2
	fi
	hostfile=$(cd "$(dirname "$hostfile")" && pwd)/$(basename "$hostfile")
	label=launch-remote
fi

child=
cleanup() {
	local pid
	if [ -n "$child" ]; then
		# timeout passes the signal on to dsm, which ends the job
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	for pid in $(pgrep -f "$bin/"); do
		kill -KILL "$pid" 2>/dev/null
	done
}
runner_tmp launch
bin=$tmp/bin
mkdir "$bin" "$tmp/run" || exit 2
cp "$progdir/stdin" "$progdir/args" "$bin/" || exit 2

status=
out=
err=
reason=
wrap=() # a command dsm runs under, e.g. prlimit

fail_because() {
	[ -n "$reason" ] || reason=$1
}

# launch NAME HOW [VAR=VALUE]... -- DSM-ARG...: run dsm from inside bin, in
# the background, and wait for it; sets status, out and err. HOW is dsm's
# standard input and output:
#   null        stdin /dev/null
#   pipe:TEXT   stdin a pipe carrying TEXT (printf's format)
#   file:PATH   stdin the file PATH
#   tty:TEXT    stdin and stdout a terminal (script(1)) into which TEXT is
#               typed; out gets what the terminal showed, without CRs
#   no-stdout   stdout closed;  no-stderr  stderr closed (err stays empty)
launch() {
	local name=$1 how=$2 envs=() cmd
	shift 2
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	out=$tmp/run/$name.out
	err=$tmp/run/$name.err
	reason=
	: >"$out"
	: >"$err"
	cmd=(env "${envs[@]}" timeout -k 5 "$limit" "${wrap[@]}" "$dsm" "$@")
	case $how in
	null) (cd "$bin" && exec "${cmd[@]}") </dev/null >"$out" 2>"$err" & ;;
	pipe:*)
		# shellcheck disable=SC2059 # the text is a printf format
		printf "${how#pipe:}" | (cd "$bin" && exec "${cmd[@]}") >"$out" 2>"$err" &
		;;
	file:*) (cd "$bin" && exec "${cmd[@]}") <"${how#file:}" >"$out" 2>"$err" & ;;
	no-stdout) (cd "$bin" && exec "${cmd[@]}" >&-) </dev/null 2>"$err" & ;;
	no-stderr) (cd "$bin" && exec "${cmd[@]}" 2>&-) </dev/null >"$out" & ;;
	tty:*)
		# script -e: its status is the command's; the typed text ends with
		# ^D, and script ends the input at the end of its own as well
		# shellcheck disable=SC2059
		printf "${how#tty:}" |
			timeout -k 5 $((limit + 10)) script -qec \
				"cd $(printf %q "$bin") && exec $(printf '%q ' "${cmd[@]}") 2>$(printf %q "$err")" \
				/dev/null >"$out.tty" &
		;;
	esac
	child=$!
	wait "$child"
	status=$?
	child=
	if [ -f "$out.tty" ]; then
		tr -d '\r' <"$out.tty" >"$out"
	fi
}

# alive PID: running, not a zombie
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# expect_gone: nothing started from bin may be left 3 s after dsm exited
expect_gone() {
	local pid left
	for _ in $(seq 30); do
		left=
		for pid in $(pgrep -f "$bin/"); do
			alive "$pid" && left+=" $pid:$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail_because "processes left 3 s after dsm exited:$left"
}

expect_status() {
	if timed_out "$status"; then
		fail_because "timed out (expected exit $1)"
	elif [ "$status" -ne "$1" ]; then
		fail_because "expected exit $1"
	fi
}

# expect_err LINE: dsm's stderr has exactly this line
expect_err() {
	grep -qxF -- "$1" "$err" || fail_because "no line '$1' on dsm's stderr"
}

# expect_out LINE: the nodes printed exactly this line
expect_out() {
	grep -qxF -- "$1" "$out" || fail_because "no line '$1' on dsm's stdout"
}

# expect_no REGEX FILE: no line of FILE matches
expect_no() {
	if grep -Eq -- "$1" "$2"; then
		fail_because "'$(grep -Em1 -- "$1" "$2")' in $(basename "$2")"
	fi
}

# conclude TITLE STATUS: the status, nothing left, one result line
conclude() {
	expect_status "$2"
	expect_gone
	if [ -z "$reason" ]; then
		result_ok "$label $1"
	else
		result_fail "$label $1 (exit $status)" "$err" "$reason"
	fi
}

printf 'hello\n' >"$tmp/input"
read0() { # read0 K BYTES TEXT: the line node K prints
	echo "stdin: node $1 read $2 bytes: $3"
}

# ---- remote nodes: ssh's standard input is dsm's (the secret, the end of
# the job), so they read /dev/null; asking for more is a usage error --------
if [ -n "$hostfile" ]; then
	h=(-H "$hostfile")
	launch remote-pipe 'pipe:hello\n' -- "${h[@]}" -n 2 "$bin/stdin"
	expect_out "$(read0 0 0 '')"
	expect_out "$(read0 1 0 '')"
	conclude "stdin: remote nodes read /dev/null" 0

	remote1=$(grep -Ev '^[[:space:]]*(#|$)' "$hostfile" | sed -n '2{s/[[:space:]].*//;p}')
	launch remote-i1 'pipe:hello\n' -- "${h[@]}" -i 1 -n 2 "$bin/stdin"
	expect_err "dsm: -i 1: node 1 runs on $remote1 through ssh, and nodes on other hosts read /dev/null"
	conclude "stdin: -i naming a remote node is a usage error" 2

	remote0=$(grep -Ev '^[[:space:]]*(#|$)' "$hostfile" | sed -n '1{s/[[:space:]].*//;p}')
	launch remote-all "file:$tmp/input" -- "${h[@]}" -i all -n 2 "$bin/stdin"
	expect_err "dsm: -i all: node 0 runs on $remote0 through ssh, and nodes on other hosts read /dev/null"
	conclude "stdin: -i all with remote nodes is a usage error" 2
	results_line
	exit
fi

# ---- standard input: node 0's (or -i's node's) alone ----------------------
# The nodes read in turn, node 0 last: were the input shared, node 2 would
# take all of it.
launch pipe 'pipe:hello\n' -- -n 3 "$bin/stdin"
expect_out "$(read0 0 6 'hello\n')"
expect_out "$(read0 1 0 '')"
expect_out "$(read0 2 0 '')"
conclude "stdin: node 0 reads a pipe, the others /dev/null" 0

launch pipe-i1 'pipe:hello\n' -- -i 1 -n 3 "$bin/stdin"
expect_out "$(read0 0 0 '')"
expect_out "$(read0 1 6 'hello\n')"
expect_out "$(read0 2 0 '')"
conclude "stdin: -i 1" 0

launch all "file:$tmp/input" -- -i all -n 3 "$bin/stdin"
for k in 0 1 2; do
	expect_out "$(read0 $k 6 'hello\n')"
done
conclude "stdin: -i all, every node reads the file from its start" 0

launch all-pipe 'pipe:hello\n' -- -i all -n 3 "$bin/stdin"
expect_err "dsm: -i all: standard input is a pipe; every node reads it from its start, so it must be a regular file (dsm -i all ... <FILE)"
expect_no '^stdin:' "$out"
conclude "stdin: -i all with a pipe is a usage error" 2

launch i3 null -- -i 3 -n 3 "$bin/stdin"
expect_err "dsm: -i 3: there is no node 3; the nodes are 0 to 2"
conclude "stdin: -i 3 of 3 nodes is a usage error" 2

# a terminal: node 0 is in a process group of its own, and would be stopped
# by SIGTTIN were it to read the terminal itself (the job would hang)
if command -v script >/dev/null; then
	launch tty 'tty:hello\n\004' -- -n 2 "$bin/stdin"
	expect_out "$(read0 0 6 'hello\n')"
	expect_out "$(read0 1 0 '')"
	conclude "stdin: node 0 reads dsm's terminal" 0
else
	echo "skip $label stdin: node 0 reads dsm's terminal (no script(1))"
	skipped=$((skipped + 1))
fi

# ---- dsm started with stdout or stderr closed: the next file it opens (the
# log) must not become it -------------------------------------------------
launch no-stdout no-stdout -- -l "$tmp/run/no-stdout.log" -n 2 "$bin/stdin"
expect_no '^[^0-9#]' "$tmp/run/no-stdout.log"
conclude "stdout closed: node output does not go into the -l log" 0

launch no-stderr no-stderr -- -l "$tmp/run/no-stderr.log" -n 1 "$bin/args"
expect_no '^[^0-9#]' "$tmp/run/no-stderr.log"
conclude "stderr closed: messages do not go into the -l log" 1

# ---- usage errors before any node starts ---------------------------------
printf 'localhost\nlocal\0host\nlocalhost\n' >"$tmp/nul-hosts"
launch nul-hosts null -- -H "$tmp/nul-hosts" -n 2 "$bin/stdin"
expect_err "dsm: $tmp/nul-hosts:2: a NUL byte; the file must be text"
expect_no '^stdin:' "$out"
conclude "hosts file with a NUL byte" 2

mkdir "$tmp/hosts-dir"
launch hosts-dir null -- -H "$tmp/hosts-dir" -n 2 "$bin/stdin"
expect_err "dsm: $tmp/hosts-dir: Is a directory"
conclude "-H a directory" 2

launch bad-wrapper null "DSM_WRAPPER=strace 'x" -- -n 2 "$bin/stdin"
expect_err "dsm: cannot parse DSM_WRAPPER=strace 'x: unterminated single quote"
expect_no 'node|status' "$err"
conclude "DSM_WRAPPER that does not parse" 2

launch bad-ssh null 'DSM_SSH=ssh -F "my config' -- -n 2 "$bin/stdin"
expect_err 'dsm: cannot parse DSM_SSH=ssh -F "my config: unterminated double quote'
conclude "DSM_SSH that does not parse" 2

launch blank-ssh null 'DSM_SSH=  ' -- -n 2 "$bin/stdin"
expect_err 'dsm: cannot parse DSM_SSH=  : it names no command'
conclude "DSM_SSH of blanks" 2

launch blank-srun null 'DSM_SRUN=  ' -- -L srun -n 2 "$bin/stdin"
expect_err 'dsm: cannot parse DSM_SRUN=  : it names no command'
conclude "DSM_SRUN of blanks" 2

# ---- the launcher (-L): its usage errors, and Slurm's hosts, slots and
# task count without a Slurm (srun itself: tests/slurm.sh) ----------------
launch bad-launcher null -- -L rsh -n 2 "$bin/stdin"
expect_err 'dsm: -L rsh: the launcher must be ssh, srun or local'
conclude "-L that names no launcher" 2

printf 'localhost\n' >"$tmp/one-host"
launch srun-hosts null -- -L srun -H "$tmp/one-host" -n 2 "$bin/stdin"
expect_err "dsm: -H $tmp/one-host: with -L srun, Slurm places the nodes (-L ssh starts them on the hosts of a file)"
conclude "-H with -L srun" 2

launch local-hosts null -- --launcher=local -H "$tmp/one-host" -n 2 "$bin/stdin"
expect_err "dsm: -H $tmp/one-host: with -L local, every node runs on this machine"
conclude "-H with -L local" 2

# a Slurm allocation of 3 tasks, 2 on this machine and 1 on a host that
# does not exist: -L ssh without -n starts 3 nodes, node 2 there (its
# "ssh" fails as ssh does, with 255)
slurm_env=(SLURM_JOB_ID=42 "SLURM_JOB_NODELIST=localhost,far.invalid"
	"SLURM_TASKS_PER_NODE=2,1" SLURM_NTASKS=)
launch slurm-ssh null "${slurm_env[@]}" "DSM_SSH=sh -c 'exit 255'" -- -v -L ssh "$bin/stdin"
grep -q "^dsm: starting 3 nodes of $bin/stdin with fork/exec or ssh; " "$err" ||
	fail_because "no 'dsm: starting 3 nodes of ... with fork/exec or ssh'"
expect_err "dsm: node 2 (far.invalid) could not be started: ssh failed (status 255); see ssh's message above"
conclude "-L ssh in an allocation: Slurm's slots and task count" 255

# -L local in the same allocation: one node (no -n from Slurm), here
launch slurm-local null "${slurm_env[@]}" -- -v -L local "$bin/stdin"
grep -q "^dsm: starting 1 node of $bin/stdin with fork/exec; " "$err" ||
	fail_because "no 'dsm: starting 1 node of ... with fork/exec'"
expect_out "$(read0 0 0 '')"
conclude "-L local in an allocation: every node here" 0

launch slurm-local-n null "${slurm_env[@]}" -- -L local -n 3 "$bin/stdin"
expect_out "$(read0 2 0 '')"
expect_no 'far\.invalid' "$err"
conclude "-L local -n 3 in an allocation: no ssh" 0

launch bad-tasks null SLURM_JOB_NODELIST=localhost "SLURM_TASKS_PER_NODE=2(x2)" -- \
	-L ssh "$bin/stdin"
expect_err 'dsm: SLURM_TASKS_PER_NODE=2(x2) names more hosts than the 1 of SLURM_JOB_NODELIST'
conclude "SLURM_TASKS_PER_NODE that does not match the hosts" 2

# ---- counts: "1 node", "1 page" -----------------------------------------
launch one-node null -- -v -s 4K -n 1 "$bin/stdin"
grep -q "^dsm: starting 1 node of .*(1 page) at " "$err" ||
	fail_because "no 'dsm: starting 1 node of ... (1 page) at' on dsm's stderr"
expect_err "dsm: 1 node joined"
expect_no '[^0-9]1 (node|page)s' "$err"
conclude "1 node, 1 page" 0

# (a low limit: the hard one too, which dsm cannot raise)
wrap=(prlimit --nofile=30:30)
launch fd-limit null -- -n 1 "$bin/stdin"
wrap=()
expect_err "dsm: 1 node needs about 69 open files; the limit is 30 (ulimit -n)"
conclude "1 node needs more open files" 1

results_line
