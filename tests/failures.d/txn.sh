# shellcheck shell=bash disable=SC2154 # its variables are failures.sh's
# failures.d/txn.sh - transactions that end badly (sm_txn(3)); sourced by
# tests/failures.sh, whose helpers it uses. Misuse ends the node with its
# message; a genuine fault repeats past the restart limit and kills the node
# with its signal; and a node killed inside a transaction: nobody ever reads
# what it wrote.

# ==== transactions (x) =========================================================
# ---- x1. misuse, reported by libsm in the caller --------------------------------
launch txn-barrier -- "${hostargs[@]}" -n 2 ./txnfail barrier
conclude "sm_barrier inside a transaction" 1 \
	'^dsm: node 0: sm_barrier called inside a transaction \(a restart would repeat it; see sm_txn\(3\)\)$'
launch txn-commit -- "${hostargs[@]}" -n 2 ./txnfail commit
conclude "sm_txn_commit outside a transaction" 1 \
	'^dsm: node 0: sm_txn_commit called outside a transaction$'

# ---- x2. a division by zero at every run: not a conflict ---------------------
# 100 restarts, then the transaction is rolled back and SIGFPE kills the node
launch txn-fpe -- "${hostargs[@]}" -n 2 ./txnfail fpe
conclude "a genuine SIGFPE in a transaction" 136 \
	'^dsm: node 0: SIGFPE in a transaction at every one of its last 100 runs: not a conflict; the transaction is rolled back and the signal takes its course$'

# ---- x3. a node killed inside its transaction ------------------------------------
# Node 1 wrote A = 101 and B = 102 in a transaction (A, B, C were 1, 2, 3)
# and waits inside it. Node 2 reads A while node 1 lives: the pre-image, 1
# (node 1's transaction is doomed, and answers with it). dsm is stopped, node
# 1 killed; its proxy marks B lost (node 1 held it writable alone). Node 0
# then reads A and C: 1 and 3, what was committed; node 3 reads B: the page
# is lost, and node 3 dies with libsm's message instead of reading 102. No
# value the transaction wrote (101, 102) is printed anywhere.
# With srun, Slurm (--kill-on-bad-exit) ends the other tasks as soon as node
# 1 is killed, stopped dsm or not, so nobody is left to read after its death:
# the scenario is for the launchers whose nodes dsm alone ends.
if [ -z "$srun" ]; then
	# go K: a line into node K's fifo (5 s at most: a node that died never
	# opens it)
	go() {
		# shellcheck disable=SC2016 # $1 is the inner shell's
		timeout 5 sh -c 'echo go >"$1"' sh "$fifos/go.$1" 2>/dev/null ||
			fail_because "node $1 did not read its fifo"
	}
	# wait_stdout REGEX: up to 10 s for a line matching it on dsm's stdout
	wait_stdout() {
		for _ in $(seq 100); do
			grep -q "$1" "$out" && return 0
			sleep 0.1
		done
		return 1
	}
	# after_node1: once node 1 is killed (dsm stopped), its proxy sees its
	# link close and marks its pages (1 s); then nodes 0 and 3 read
	after_node1() {
		sleep 1
		go 0
		go 3
	}
	# (the fifos are made before the job starts: a node may open its own at once)
	fifos=$tmp/run/txn-killed-fifos
	mkdir "$fifos"
	for k in 0 2 3; do
		mkfifo "$fifos/go.$k"
	done
	launch txn-killed -- "${hostargs[@]}" -n 4 ./txnfail killed "$tmp/run/txn-killed" "$fifos"
	if wait_pidfiles 4; then
		go 2
		wait_stdout '^txnfail: node 2: ' || fail_because "node 2 did not print A"
		kill_behind_dsm 1 after_node1
	else
		stop_job
	fi
	finish
	expect_status 137
	expect_stderr 'node 1 \(.*\) killed by signal 9'
	expect_stderr "^dsm: node 3: shared page [0-9]+ \(0x566[0-9a-f]+\) was lost: node 1 held the only up-to-date copy and died\$"
	grep -q '^txnfail: node 2: A = 1 while node 1 was inside its transaction$' "$out" ||
		fail_because "node 2 did not read A = 1 while node 1 was inside its transaction"
	grep -q '^txnfail: node 0: A = 1, C = 3 after node 1 died$' "$out" ||
		fail_because "node 0 did not read A = 1, C = 3 after node 1 died"
	if grep -q '^txnfail: node 3:' "$out"; then
		fail_because "node 3 read B although node 1 died holding it"
	fi
	if grep -Eq '= 10[12]' "$out"; then
		fail_because "a value of node 1's transaction was read"
	fi
	expect_gone
	report "a node killed inside a transaction"
fi
# ==== end of transactions ======================================================
