# shellcheck shell=bash disable=SC2154 # its variables are failures.sh's
# ending.sh - how a job ends (sourced by tests/failures.sh, which defines the
# helpers): a node that ends with _exit(0), however late its proxy reports
# the closed link.
#
# Every scenario here failed before the fix it tests: the one with a
# stopped proxy deterministically, the plain _exit(0) only sometimes.

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
if wait_pidfiles 4 && wait_file "$dir/ready.1" &&
	proxy=$(job_child '^dsm: proxy for node 1 ') && node=$(job_child '--dsm-node=1,'); then
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
