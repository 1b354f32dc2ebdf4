# shellcheck shell=bash disable=SC2154 # its variables are failures.sh's
# failures.d/libsm.sh - what libsm does with children a node forks (scenario
# l), sourced by tests/failures.sh, whose helpers it uses.

# ==== libsm: forked children (l) ============================================
# ---- l. every node leaves a daemon-style child behind ----------------------
# Each node forks a child (pid in DIR/child.K) that calls setsid and sleeps
# holding the node's output pipes (remotely, the ssh session), and returns
# without waiting for it. dsm must end at once with status 0, leaving none:
# a forked child dies with the process that forked it (sm(3), Fork).
launch fork-daemon -- "${hostargs[@]}" -n 4 ./fork_child daemon "$tmp/run/fork-daemon"
t0=$SECONDS
finish
expect_status 0
if [ $((SECONDS - t0)) -ge 30 ]; then
	fail_because "took $((SECONDS - t0)) s (expected well under 30 s)"
fi
for k in 0 1 2 3; do
	if [ -s "$dir/child.$k" ]; then
		job_pids+=("$(cat "$dir/child.$k")")
	else
		fail_because "node $k's child did not write $dir/child.$k"
	fi
done
expect_gone
report "daemon-style children of the nodes"
# ==== end of libsm: forked children =========================================
