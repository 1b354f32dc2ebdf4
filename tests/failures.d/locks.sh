# shellcheck shell=bash disable=SC2154 # its variables are failures.sh's
# failures.d/locks.sh - misuse of sm_lock_t and sm_cond_t, and locks whose
# holder leaves or is killed (sm_lock(3), sm_cond_wait(3)); sourced by
# tests/failures.sh, whose helpers it uses. Every case must end the job with
# the node's message and its status (1; 137 when a node is killed), and
# leave nothing behind: no waiter may hang.

# ==== locks (k) ===============================================================
says='dsm: node [0-9]+: '
addr='0x566[0-9a-f]+'

# ---- k1. misuse, reported by libsm in the caller -----------------------------
# lockfail MODE: node 3 of 4 misuses a lock; "MODE|message" per case
while IFS='|' read -r mode message; do
	launch "lock-$mode" -- "${hostargs[@]}" -n 4 ./lockfail "$mode"
	conclude "lock misuse: $mode" 1 "^dsm: node 3: $message\$"
done <<EOF
unlock|sm_unlock: the lock at $addr is not held by this node
relock|sm_lock: the lock at $addr is already held by this node \(locking it again would wait for ever\)
outside|sm_lock: the lock at 0x[0-9a-f]+ is outside the shared region \(an sm_lock_t must live in memory from sm_malloc\)
misaligned|sm_lock: the lock at 0x566[0-9a-f]*[4c] is not 8-byte aligned
condwait|sm_cond_wait: the lock at $addr is not held by this node
EOF

# ---- k2. a lock call before sm_node_init ---------------------------------------
launch lock-before -- "${hostargs[@]}" -n 2 ./lockfail before
conclude "sm_lock before sm_node_init" 1 '^dsm: sm_lock called before sm_node_init$'

# ---- k3. the holder leaves (sm_node_exit) while the others wait or come later ---
# Node 1 leaves holding the lock; nodes 0, 2 and 3 lock it (queued before it
# left, or after): each that gets to say it names node 1, and none waits on
# (the first to fail ends the job).
launch lock-exit -- "${hostargs[@]}" -n 4 ./lockfail exit
finish
expect_status 1
expect_stderr "^${says}sm_lock: the lock at $addr was held by node 1, which left the job without unlocking it\$"
if grep -E 'was held by node' "$err" | grep -qv 'by node 1,'; then
	fail_because "a waiter named another node than 1"
fi
expect_gone
report "lock holder leaves with sm_node_exit"

# ---- k4. the holder is killed ---------------------------------------------------
# Node 1 holds the lock and the others lock it; dsm is stopped while node 1 is
# killed, so that the proxies (still running) fail the waiters before dsm can
# end the job: each waiter says so, naming node 1, and dsm blames node 1.
launch lock-killed -- "${hostargs[@]}" -n 4 ./lockfail killed "$tmp/run/lock-killed"
if wait_pidfiles 4; then
	sleep 0.5 # the others' LOCKs: queued now, or failed later as orphans
	kill_behind_dsm 1
else
	stop_job
fi
finish
expect_status 137
expect_stderr 'node 1 \(.*\) killed by signal 9'
for k in 0 2 3; do
	expect_stderr "^dsm: node $k: sm_lock: the lock at $addr was held by node 1, which left the job without unlocking it\$"
done
expect_gone
report "lock holder killed while others wait"
# ==== end of locks ==============================================================
