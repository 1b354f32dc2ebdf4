# shellcheck shell=bash disable=SC2154 # its variables are failures.sh's
# ending.sh - how a job ends (sourced by tests/failures.sh, which defines the
# helpers): a node that ends with _exit(0), however late its proxy reports
# the closed link; a stopped node, which is waited for; the status of a
# remote node that failed first, whatever its ssh client does meanwhile; and
# dsm ending at once on SIGINT while its own stdout is not read.
#
# Every scenario here failed before the fix it tests (the stopped nodes and
# the slow ssh client remote only): the ones with a stopped proxy, a stopped
# ssh client or a stuck FIFO deterministically, the plain _exit(0) only
# sometimes (tests/stress.sh repeats them).

# ms: milliseconds since the epoch
ms() {
	date +%s%3N
}

# wait_file FILE: wait up to 10 s for FILE to exist
wait_file() {
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		running || break
		sleep 0.1
	done
	[ -e "$1" ]
}

# ---- _exit(0) of node 1, reaped before its proxy reports the link closed:
# the proxy is stopped (once node 1 is past the broadcast, after which it
# needs no proxy) until dsm has reaped node 1 (its ssh client, remote);
# judging by arrival order took the exit for a clean one, and the others
# waited for node 1 in a barrier forever
launch exit-late-notice -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/exit-late-notice" exit
# (with srun, node 1 is no child of dsm's: its pid file says which it is)
if wait_pidfiles 4 && wait_file "$dir/ready.1" &&
	proxy=$(job_child '^dsm: proxy for node 1 ') &&
	if [ -n "$srun" ]; then node=$(cat "$dir/node.1"); else node=$(job_child '--dsm-node=1,'); fi; then
	kill -STOP "$proxy"
	: >"$dir/exit"
	gone_within 20 "$node" || fail_because "node 1 (pid $node) was not reaped within 20 s"
	kill -CONT "$proxy" 2>/dev/null # (dsm may have killed it already)
else
	fail_because "no ready.1, or node 1 or its proxy not among dsm's children"
	stop_job
fi
conclude "_exit(0) of a node, its link's loss reported late" 1 \
	'node 1 \(.*\) exited without leaving the job'

# ---- the same without stopping anything: the race as it happens
launch exit-node -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/exit-node" exit
if wait_pidfiles 4; then
	: >"$dir/exit"
else
	stop_job
fi
conclude "_exit(0) of a node" 1 'node 1 \(.*\) exited without leaving the job'

# ---- kill -STOP of node 2: dsm waits for it (remote nodes used to come back
# as "killed by signal 19"), and the job ends normally once it goes on
launch stop-node -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/stop-node"
if wait_pidfiles 4; then
	node=$(cat "$dir/node.2")
	kill -STOP "$node"
	sleep 3
	running || fail_because "dsm ended while node 2 was stopped"
	kill -CONT "$node" 2>/dev/null
fi
stop_job
finish
expect_status 0
if grep -q 'signal 19' "$err"; then
	fail_because "a stopped node was taken for a dead one"
fi
expect_all_done 4
expect_gone
report "kill -STOP of a node, then -CONT"

# ---- SIGINT to dsm while node 2 is stopped: the job still ends, and the
# stopped node with it (a remote one used to be left behind, stopped)
launch stop-sigint -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/stop-sigint"
if wait_pidfiles 4; then
	kill -STOP "$(cat "$dir/node.2")"
	sleep 1
	if running; then
		kill -INT "$dsmpid"
	else
		fail_because "dsm ended while node 2 was stopped"
	fi
else
	stop_job
fi
conclude "SIGINT to dsm while a node is stopped" 130 'Interrupt: ending the job'

# ---- remote only: node 2 holds the only copy of a page and is killed -9;
# its ssh client is stopped, so the others (who then lose that page and
# die) are reaped first and end the job. dsm used to signal every ssh
# client then, and node 2's came back as "ssh connection failed" (255)
# instead of the program's own status
if [ -n "$hostfile" ]; then
	launch kill-slow-ssh -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/kill-slow-ssh" hold
	if wait_pidfiles 4 && ssh2=$(job_child '--dsm-node=2,'); then
		kill -STOP "$ssh2"
		kill -KILL "$(cat "$dir/node.2")"
		: >"$dir/touch"
		wait_stderr 'killed by signal 11' ||
			fail_because "no other node died of the lost page"
		kill -CONT "$ssh2"
	else
		fail_because "cannot find node 2's ssh client"
		stop_job
	fi
	conclude "kill -9 of a node whose ssh client is slow" 137 \
		'node 2 \(.*\) killed by signal 9.*first to fail'
fi

# ---- SIGINT while dsm's stdout is a FIFO that nobody reads, full of node
# output: dsm used to block in write() and never see the signal. It must
# end within 2 s with 130 and leave nothing behind.
mkfifo "$tmp/run/stuck-fifo"
exec 9<>"$tmp/run/stuck-fifo" # open, never read
# shellcheck disable=SC2016 # $0 and $@ are for the wrapper's shell
chatty='/bin/sh -c '\''yes dsm-test-output-that-nobody-reads | head -n 200000; exec "$0" "$@"'\'
# shellcheck disable=SC2034 # launch's
stdout_to=$tmp/run/stuck-fifo
launch stdout-stuck DSM_WRAPPER="$chatty" -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/stdout-stuck"
# shellcheck disable=SC2034 # launch's
stdout_to=
if find_dsm; then
	sleep 3 # the FIFO, dsm's buffers and the nodes' pipes fill up
	t0=$(ms)
	kill -INT "$dsmpid"
	finish
	took=$(($(ms) - t0))
	[ "$took" -le 2000 ] || fail_because "dsm took $took ms to end after SIGINT"
	expect_status 130
	expect_stderr 'Interrupt: ending the job'
	expect_gone
else
	fail_because "cannot find dsm's pid"
	stop_job
	finish
fi
exec 9<&-
report "SIGINT while dsm's stdout is not read"

# ---- the other side of backpressure: a reader that starts reading only 3 s
# late gets every line, whole and in order per node, while the nodes wait
mkfifo "$tmp/run/late-fifo"
got=$tmp/run/late.got
# (opening the FIFO waits for dsm to open it; cat then reads to the end)
(sleep 3 && exec cat) <"$tmp/run/late-fifo" >"$got" &
reader=$!
started+=("$reader")
# shellcheck disable=SC2034 # launch's
stdout_to=$tmp/run/late-fifo
launch stdout-late DSM_WRAPPER="$chatty" -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/stdout-late"
# shellcheck disable=SC2034 # launch's
stdout_to=
if wait_pidfiles 4; then
	stop_job
fi
finish
# cat ends when dsm's output does; if dsm never opened the FIFO, it waits
if ! gone_within 10 "$reader"; then
	fail_because "the reader did not see the end of dsm's output"
	kill "$reader" 2>/dev/null
fi
wait "$reader"
forget "$reader"
# shellcheck disable=SC2034 # what expect_all_done reads
out=$got
expect_status 0
expect_all_done 4
lines=$(grep -cx 'dsm-test-output-that-nobody-reads' "$got")
others=$(grep -cvx -e 'dsm-test-output-that-nobody-reads' -e 'linger: node [0-3] done' "$got")
[ "${lines:-0}" -eq 800000 ] || fail_because "$lines of the 800000 lines came out whole"
[ "${others:-0}" -eq 0 ] || fail_because "$others lines are mixed or broken"
expect_gone
report "dsm's stdout read late: every line comes out"
