# shellcheck shell=bash
# failures.d/links.sh - failure scenarios of tests/failures.sh (sourced by it,
# after its own, with its helpers) in which an authenticated node misuses
# its link: it floods requests and never reads the answers, or it sends
# what is not allowed after EXIT; and one that is merely stopped. Kept apart
# so failures.sh stays short.
# shellcheck disable=SC2154 # err, dir, dsmpid, hostargs, hostfile, tmp: failures.sh's

# now_us: microseconds of wall-clock time, for measuring how long dsm takes
now_us() {
	local t=$EPOCHREALTIME
	echo "${t/./}"
}

# expect_within T0 MS WHAT: at most MS milliseconds have passed since T0 (now_us)
expect_within() {
	local ms=$((($(now_us) - $1) / 1000))
	[ "$ms" -le "$2" ] || fail_because "$3 took $ms ms (expected at most $2 ms)"
}

# expect_no_stderr REGEX: no line of dsm's stderr matches REGEX
expect_no_stderr() {
	! grep -Eq -- "$1" "$err" || fail_because "'$(grep -E -m 1 -- "$1" "$err")' on dsm's stderr"
}

# wait_send_blocked PID: wait up to 20 s until process PID waits in a poll()
# of at most two descriptors (a link and the stop signalfd): the allocator
# waiting for room in a link, not its event loop, which polls many
wait_send_blocked() {
	local nr nfds
	for _ in $(seq 200); do
		read -r nr _ nfds _ <"/proc/$1/syscall" 2>/dev/null
		# poll (7) or ppoll (271) on x86-64
		if { [ "$nr" = 7 ] || [ "$nr" = 271 ]; } && [ $((nfds)) -le 2 ]; then
			return 0
		fi
		running || break
		sleep 0.1
	done
	return 1
}

# ---- j. a node that floods MALLOC and never reads its link -------------
# each CHUNK answer stays in its link, which fills: whoever writes into it
# must give up after 2 s without progress, and the job must end naming it
stalled='dsm: node 0 stopped reading its link (its socket buffer stayed full for 2 s); ending the job'
launch flood -- "${hostargs[@]}" -n 4 ./flood "$tmp/run/flood"
if wait_pidfiles 4; then
	t0=$(now_us)
	finish
	expect_within "$t0" 15000 "ending the job"
else
	stop_job
	finish
fi
expect_status 1
grep -Fxq -- "$stalled" "$err" || fail_because "no '$stalled' on dsm's stderr"
expect_gone
report "node that floods MALLOC and never reads"

# ---- k. SIGINT while dsm is wedged on that node's full link ---------------
# once the allocator waits for room in node 0's link, SIGINT must still end
# the job at once: within 1 s, where it takes milliseconds (were the wait
# not cut short, it would take the rest of the 2 s stall time, about 1.9 s)
launch flood-sigint -- "${hostargs[@]}" -n 4 ./flood "$tmp/run/flood-sigint"
if wait_pidfiles 4 && wait_send_blocked "$dsmpid"; then
	t0=$(now_us)
	kill -INT "$dsmpid"
	finish
	expect_within "$t0" 1000 "ending the job after SIGINT"
else
	fail_because "dsm never waited for room in a link"
	stop_job
	finish
fi
expect_status 130
expect_stderr '^dsm: Interrupt: ending the job$'
expect_no_stderr 'stopped reading'
expect_gone
report "SIGINT to dsm while it waits for a flooding node"

# ---- l. a stopped node is not one that stopped reading --------------------
# node 2 is stopped for 4 s (as in a debugger) while the others wait for it
# in a barrier and for its page, and dsm pings every node (-S): little can
# be on its way to it, never enough to fill its link, so nobody may cut it
# off; once continued, the job finishes normally. Local nodes only: the
# remote shell that waits for a node (set -m) takes a stop for its end.
if [ -z "$hostfile" ]; then
	launch stopped -- "${hostargs[@]}" -S -n 4 ./linger "$tmp/run/stopped"
	if wait_pidfiles 4; then
		kill -STOP "${job_pids[2]}"
		sleep 4
		kill -CONT "${job_pids[2]}"
		sleep 1 # a few more rounds of the loop
	fi
	stop_job
	finish
	expect_status 0
	expect_no_stderr 'stopped reading'
	expect_all_done 4
	expect_gone
	report "node stopped for 4 s is not cut off"
fi

# ---- m. messages after EXIT do not release the others from a barrier -----
# node 0 sends EXIT and then BARRIER (or MALLOC), or EXIT with the old DIED
# flag; the others check what they wrote before the barrier (wrongstate.c)
for what in barrier:BARRIER malloc:MALLOC exitdied:; do
	IFS=: read -r name type <<<"$what"
	if [ -n "$type" ]; then
		msg="dsm: node 0 sent $type (after EXIT): a message not allowed in this state; closing its link"
	else
		msg='dsm: node 0 sent a malformed message: invalid flags; closing its link'
	fi
	launch "wrongstate-$name" -- "${hostargs[@]}" -n 4 ./wrongstate "$name"
	finish
	expect_status 1
	grep -Fxq -- "$msg" "$err" || fail_because "no '$msg' on dsm's stderr"
	expect_no_stderr 'released from the barrier early'
	expect_gone
	report "wrongstate $name: nobody leaves a barrier early"
done
