#!/usr/bin/env bash
# integration.sh - run the dsm test programs at several node counts.
#
# usage: tests/integration.sh DSM PROGDIR [LABEL]
#
#   DSM      the dsm binary (a path, or a command name found in PATH)
#   PROGDIR  directory holding the built test programs (names without .c)
#   LABEL    optional word printed in every result line (e.g. a build flavour)
#
# Every program runs at N in $DSM_TEST_NODES (default "1 2 4 8 16"), from
# inside PROGDIR as `dsm -n N ./prog ...`, under `timeout -k 5 120` (the limit
# is DSM_TEST_TIMEOUT; DSM_VALGRIND=1 runs dsm and the nodes under valgrind). One line
# per run: "ok   LABEL prog N=4", or "FAIL LABEL prog N=4 (exit S)" followed
# by the last lines of its stderr, indented. The last line is
# "P passed, F failed"; the exit status is 0 iff nothing failed.
# DSM_TEST_ONLY=PROG runs only that program (`make check T=PROG`); a name
# no run uses is one failure.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
runner_args 2 3 "DSM PROGDIR [LABEL]" "$@"
label=${3:-}
nodes_list=${DSM_TEST_NODES:-1 2 4 8 16}
limit=${DSM_TEST_TIMEOUT:-120}
# DSM_TEST_SKIP: programs not to run (e.g. "pingpong" under ThreadSanitizer,
# see the tsan target in the Makefile), or PROG:MODE for the runs of PROG
# whose title's second word is MODE ("threads:blocked"); each is reported
# as skipped
skip_list=" ${DSM_TEST_SKIP:-} "
# DSM_TEST_TRANSFERS: txnbank's transfers per node (ThreadSanitizer makes
# each transaction so long that the packed bank at 8 nodes aborts some 30
# times per commit: make tsan runs fewer)
transfers=${DSM_TEST_TRANSFERS:-2000}
# DSM_TEST_ONLY: the one program to run, at every node count; the checks of
# dsm's own usage errors are left out then
only=${DSM_TEST_ONLY:-}
# DSM_TEST_ARGS: more dsm options for every run, e.g. "-H /tmp/x/hosts"
read -r -a extra <<<"${DSM_TEST_ARGS:-}"
# DSM_VALGRIND=1: dsm (with its proxies) and every node run under memcheck
prefix=()
if [ "${DSM_VALGRIND:-0}" = 1 ]; then
	# precise registers at every memory access: the SIGSEGV handler resumes
	# the faulting instruction, which valgrind's default does not allow for
	vg="valgrind -q --error-exitcode=99 --leak-check=no"
	vg+=" --vex-iropt-register-updates=allregs-at-mem-access"
	export DSM_WRAPPER=$vg
	read -r -a prefix <<<"$vg"
fi

child=
cleanup() {
	if [ -n "$child" ]; then
		# timeout passes the signal on to dsm (and its process group).
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
}
runner_tmp integration

# The segv test must not leave core files behind.
ulimit -c 0 2>/dev/null

status=0
out=
err=

# run NAME ARG... : run `timeout -k 5 120 DSM ARG...` inside PROGDIR, with
# stdout and stderr in files; sets status, out and err.
run() {
	local name=$1
	shift
	out=$tmp/$name.out
	err=$tmp/$name.err
	(cd "$progdir" && exec timeout -k 5 "$limit" "${prefix[@]}" "$dsm" "${extra[@]}" "$@") \
		</dev/null >"$out" 2>"$err" &
	child=$!
	wait "$child"
	status=$?
	child=
}

# report OK TITLE [REASON]
report() {
	local title=${label:+$label }$2
	if [ "$1" = ok ]; then
		result_ok "$title"
	else
		result_fail "$title (exit $status)" "$err" "${3:-}"
	fi
}

# skipping TITLE: true when the title's program is not DSM_TEST_ONLY (silently)
# or is in DSM_TEST_SKIP (reported)
skipping() {
	local prog=${1%% *} mode=${1#* }
	mode=${mode%% *}
	if [ -n "$only" ] && [ "$prog" != "$only" ]; then
		return 0
	fi
	case $skip_list in
	*" $prog "* | *" $prog:$mode "*)
		echo "skip ${label:+$label }$1"
		skipped=$((skipped + 1))
		return 0
		;;
	esac
	return 1
}

# run_case TITLE FILE-NAME ARG...: run it unless DSM_TEST_SKIP names it;
# false when it was skipped, or timed out (then reported as failed).
run_case() {
	local title=$1
	skipping "$title" && return 1
	shift
	run "$@"
	if timed_out "$status"; then
		report FAIL "$title" "timed out"
		return 1
	fi
}

# expect_ok TITLE FILE-NAME ARG...: the run must exit 0.
expect_ok() {
	run_case "$@" || return 0
	if [ "$status" -eq 0 ]; then
		report ok "$1"
	else
		report FAIL "$1"
	fi
}

# Programs built with ASan or TSan start with the sanitizer's SIGSEGV
# handler installed: it is the program's own, and libsm passes a fault
# outside the shared region on to it, so it reports "...Sanitizer: SEGV".
sanitized=
if grep -aq -e __asan_init -e __tsan_init "$progdir/segv" 2>/dev/null; then
	sanitized=yes
fi

# expect_segv TITLE FILE-NAME ARG...: the run must fail, not by timing out,
# and dsm must say which node was killed by signal 11 (or, in a sanitized
# build, the sanitizer must have reported the SEGV).
expect_segv() {
	run_case "$@" || return 0
	if [ "$status" -eq 0 ]; then
		report FAIL "$1" "expected a non-zero exit"
	elif grep -Eq 'node [0-9]+.*signal 11' "$err"; then
		report ok "$1"
	elif [ -n "$sanitized" ] && grep -q 'Sanitizer: SEGV on unknown address' "$err"; then
		report ok "$1"
	else
		report FAIL "$1" "no 'node K ... signal 11' on stderr"
	fi
}

# expect_refused TITLE FILE-NAME PATTERN ARG...: the run must fail, not by
# timing out, with PATTERN (an extended regex) on stderr.
expect_refused() {
	local title=$1 name=$2 pattern=$3
	skipping "$title" && return
	shift 3
	run "$name" "$@"
	if [ "$status" -eq 0 ]; then
		report FAIL "$title" "expected a non-zero exit"
	elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		report FAIL "$title" "timed out"
	elif ! grep -Eq "$pattern" "$err"; then
		report FAIL "$title" "no '$pattern' on stderr"
	else
		report ok "$title"
	fi
}

# expect_exit TITLE FILE-NAME STATUS PATTERN COUNT ARG...: the run must exit
# with STATUS, not by timing out, with exactly COUNT lines matching PATTERN
# (an extended regex) on stderr (COUNT "+": at least one).
expect_exit() {
	local title=$1 name=$2 want=$3 pattern=$4 count=$5 got
	shift 5
	run_case "$title" "$name" "$@" || return 0
	got=$(grep -Ec -- "$pattern" "$err")
	if [ "$status" -ne "$want" ]; then
		report FAIL "$title" "expected exit $want"
	elif [ "$count" = + ] && [ "$got" -eq 0 ]; then
		report FAIL "$title" "no '$pattern' on stderr"
	elif [ "$count" != + ] && [ "$got" -ne "$count" ]; then
		report FAIL "$title" "$got lines '$pattern' on stderr, expected $count"
	else
		report ok "$title"
	fi
}

# expect_usage TITLE FILE-NAME NEED-DSM-PREFIX ARG...: dsm must exit 2 (and,
# if NEED-DSM-PREFIX is yes, say "dsm:" on stderr).
expect_usage() {
	local title=$1 name=$2 need=$3
	shift 3
	run "$name" "$@"
	if [ "$status" -ne 2 ]; then
		report FAIL "$title" "expected exit 2"
	elif [ "$need" = yes ] && ! grep -q 'dsm:' "$err"; then
		report FAIL "$title" "no 'dsm:' message on stderr"
	else
		report ok "$title"
	fi
}

for n in $nodes_list; do
	expect_ok "bcast N=$n" "bcast-$n" -n "$n" ./bcast
	expect_ok "matmul N=$n" "matmul-$n" -n "$n" ./matmul
	expect_ok "pingpong N=$n" "pingpong-$n" -n "$n" ./pingpong
	expect_ok "falseshare N=$n" "falseshare-$n" -n "$n" ./falseshare
	expect_ok "readers_writer N=$n" "readers_writer-$n" -n "$n" ./readers_writer
	expect_ok "malloc N=$n" "malloc-$n" -s 4M -n "$n" ./malloc
	expect_ok "exit_writeback N=$n" "exit_writeback-$n" -n "$n" ./exit_writeback
	expect_ok "atomic N=$n" "atomic-$n" -n "$n" ./atomic
	# C11 atomics, compare-and-swap, a spinlock, lock xadd across two pages
	expect_ok "atomics N=$n" "atomics-$n" -n "$n" ./atomics
	# sm_malloc_collective: mixed sizes, the same addresses everywhere
	expect_ok "collective N=$n" "collective-$n" -n "$n" ./collective
	# sm_bcast_buf: 0 bytes to 8 MiB from several roots; and 64 MiB
	expect_ok "bcastbuf N=$n" "bcastbuf-$n" -n "$n" ./bcastbuf
	expect_ok "bcastbuf big N=$n" "bcastbuf-big-$n" -n "$n" ./bcastbuf big
	# sm_lock_t and sm_cond_t (misuse and holders that go: failures.d/locks.sh)
	expect_ok "locks N=$n" "locks-$n" -n "$n" ./locks
	expect_ok "condvar N=$n" "condvar-$n" -n "$n" ./condvar
	# transactions (sm_txn(3)): opacity and signals that restart one;
	# cancel, retry, 100 pages, nesting; the bank at N = 2, 4, 8 (2,000
	# transfers per node, or DSM_TEST_TRANSFERS; the sum and every node's
	# log checked exactly), its accounts packed and one per page
	expect_ok "txnconsistent N=$n" "txnconsistent-$n" -n "$n" ./txnconsistent
	expect_ok "txnmisc N=$n" "txnmisc-$n" -n "$n" ./txnmisc
	if [ "$n" -ge 2 ] && [ "$n" -le 8 ]; then
		expect_ok "txnbank N=$n" "txnbank-$n" -n "$n" ./txnbank "$transfers"
		expect_ok "txnbank spread N=$n" "txnbank-spread-$n" -n "$n" ./txnbank "$transfers" spread
	fi
	# page runs: scans, takeovers, allocation boundaries, mixed holders,
	# write-back at exit; and the same at the end of a 1 MiB region
	expect_ok "runs N=$n" "runs-$n" -n "$n" ./runs
	expect_ok "runs end N=$n" "runs-end-$n" -s 1M -n "$n" ./runs end
	expect_ok "firsttouch N=$n" "firsttouch-$n" -n "$n" ./firsttouch
	expect_ok "prefetch_inval N=$n" "prefetch_inval-$n" -n "$n" ./prefetch_inval
	# nodes leave while others invalidate their read copies; short runs
	# (-P 4, whatever DSM_TEST_ARGS says) make the race it looks for likeliest
	expect_ok "exit_race N=$n" "exit_race-$n" -P 4 -n "$n" ./exit_race
	# leaving right after a write fault whose window (256 pages) came as
	# several run messages
	expect_ok "exit_grant N=$n" "exit_grant-$n" -n "$n" ./exit_grant
	expect_segv "segv N=$n" "segv-$n" -n "$n" ./segv
	expect_segv "segv inside N=$n" "segv-inside-$n" -n "$n" ./segv inside
	expect_ok "segv_handler N=$n" "segv_handler-$n" -n "$n" ./segv_handler
	expect_ok "segv_handler before N=$n" "segv_handler-before-$n" -n "$n" ./segv_handler before
	expect_segv "segv_handler dfl N=$n" "segv_handler-dfl-$n" -n "$n" ./segv_handler dfl
	expect_segv "segv_handler ign N=$n" "segv_handler-ign-$n" -n "$n" ./segv_handler ign
	expect_ok "args N=$n" "args-$n" -n "$n" ./args "" "a b" -n 5 -- -H x --dsm-fake
	expect_ok "stdin N=$n" "stdin-$n" -n "$n" ./stdin
	# one instruction that needs two pages: forward progress for the pair
	# (without it two nodes take the pages from each other forever)
	for mode in lock plain cross; do
		expect_ok "straddle $mode N=$n" "straddle-$mode-$n" -n "$n" ./straddle "$mode"
	done
	# the same with the CPU-time hold window instead of the trap flag (as
	# under valgrind); through the wrapper, so remote nodes get it too
	DSM_WRAPPER="env DSM_TRAP=0${DSM_WRAPPER:+ $DSM_WRAPPER}" \
		expect_ok "straddle plain DSM_TRAP=0 N=$n" "straddle-notrap-$n" -n "$n" \
		./straddle plain
done

# exit_race looks for a race that a run does not always hit: four more
# tries where it is likeliest (16 nodes, about 0.3 s each when it passes),
# when DSM_TEST_NODES has 16
case " $nodes_list " in
*" 16 "*)
	for try in 2 3 4 5; do
		expect_ok "exit_race N=16 try $try" "exit_race-16-$try" -P 4 -n 16 ./exit_race
	done
	;;
esac

# a message in the wrong state closes the link, naming node, type and state
for what in barrier malloc fault; do
	upper=$(printf '%s' "$what" | tr a-z A-Z)
	expect_refused "wrongstate $what" "wrongstate-$what" \
		"dsm: node 0 sent $upper \\(after EXIT\\): a message not allowed in this state; closing its link" \
		-n 2 ./wrongstate "$what"
done

# ---- libsm: fork, threads, system calls (sm(3), NOTES) ----------------------
# A forked child is not a node: it leaves through exit() or sm_node_exit()
# without a word on its parent's link; touching shared memory kills it with
# SIGSEGV and a message, once per child (2 children at N=1, 3 otherwise); an
# sm_ function ends it with status 1 and a message, once per call. The
# parents go on and the job succeeds.
says='dsm: node [0-9]+: '
for n in 1 2 4; do
	expect_ok "fork_child exit N=$n" "fork_child-exit-$n" -n "$n" ./fork_child exit
	expect_exit "fork_child touch N=$n" "fork_child-touch-$n" 0 \
		"^${says}shared memory touched in a forked child \(pid [0-9]+\) at 0x566[0-9a-f]+: a forked child is not a node and has no shared memory \(see sm\(3\), Fork\)$" \
		$((n == 1 ? 2 : 3 * n)) -n "$n" ./fork_child touch
	expect_exit "fork_child call N=$n" "fork_child-call-$n" 0 \
		"^${says}sm_(barrier|malloc|bcast) called in a forked child \(pid [0-9]+\): a forked child is not a node \(see sm\(3\), Fork\)$" \
		$((3 * n)) -n "$n" ./fork_child call
done
# Threads inside a node (sm(3), Threads): 2 and 4 nodes x 1, 2, 4, 8
# threads, every thread of every node using shared memory: atomic
# increments of one counter (exact), false sharing between threads and
# nodes, faults on the same pages at once, sm_malloc and the collectives
# from threads, a node whose every thread blocks in read() while another
# node takes its pages, a matrix product split over nodes x threads, an
# OpenMP program in every node; locks, conditions and transactions in
# threads.
for n in 2 4; do
	for t in 1 2 4 8; do
		for mode in atomic falseshare samepage calls blocked; do
			expect_ok "threads $mode N=$n T=$t" "threads-$mode-$n-$t" -n "$n" \
				./threads "$mode" "$t"
		done
		expect_ok "matmul threads N=$n T=$t" "matmul-threads-$n-$t" -n "$n" ./matmul 96 "$t"
		expect_ok "openmp N=$n T=$t" "openmp-$n-$t" -n "$n" ./openmp "$t"
		# sm_lock_t held by threads (a plain counter exact, a try never
		# taking a lock another thread of the node holds), conditions
		# between threads of all nodes, transactions from every thread
		# beside sm_malloc in the main one, sm_malloc_collective in one
		# thread beside sm_malloc in the others
		for mode in locks cond txn mallocs; do
			expect_ok "threadsync $mode N=$n T=$t" "threadsync-$mode-$n-$t" -n "$n" \
				./threadsync "$mode" "$t"
		done
	done
	expect_ok "threads private N=$n" "threads-private-$n" -n "$n" ./threads private
done
# the fallback hold window (as under valgrind) with threads that block
# right after their faults
DSM_WRAPPER="env DSM_TRAP=0${DSM_WRAPPER:+ $DSM_WRAPPER}" \
	expect_ok "threads samepage DSM_TRAP=0 N=4 T=4" "threads-samepage-notrap" -n 4 \
	./threads samepage 4
# collectives are among nodes: two threads of one node in them at once
# end the node with a message
expect_exit "threads collective N=2" "threads-collective" 1 \
	"^${says}two threads of this node are in collectives at once \(BCAST and the reply BCAST_DONE\): sm_barrier, sm_bcast and the other collectives are called by one thread per node \(see sm\(3\), Threads\)$" \
	1 -n 2 ./threads collective
# what sm(3) says about system calls on unheld pages (EFAULT; touch first)
# and about sleeping (interrupted by traffic; sleep until a deadline)
expect_ok "syscalls efault N=2" syscalls-efault -n 2 ./syscalls efault
expect_ok "syscalls sleep N=2" syscalls-sleep -S -n 2 ./syscalls sleep

# ---- PARMACS programs (tests/parmacs/*.C, m4 with tools/parmacs/c.m4.dsm) ---
# SPLASH-3 style, one CREATE(f, P): a work queue under a lock, a prefix sum
# on an array of locks, producers and consumers on event flags, getopt()
# before the environment is set up; SPLASH-2 style, CREATE(f) once per
# process: blocked LU, and a counter with per-process allocations and
# global subscripts; and the worked example of docs/porting.md. Each checks
# its result exactly and prints one line "parmacs-NAME: ok: P processes ..."
# (expect_line); at 1, 2, 4 and 8 nodes.
# The five ways of writing main are among them (see each program).

# expect_line TITLE FILE-NAME PATTERNS ARG...: the run must exit 0 with
# exactly one line on stdout matching each of PATTERNS (extended regexes,
# one per line).
expect_line() {
	local title=$1 name=$2 patterns=$3 pattern got why=
	shift 3
	run_case "$title" "$name" "$@" || return 0
	while IFS= read -r pattern; do
		got=$(grep -Ec -- "$pattern" "$out")
		if [ "$got" -ne 1 ]; then
			why="$got lines '$pattern' on stdout, expected 1"
			break
		fi
	done <<<"$patterns"
	if [ "$status" -ne 0 ]; then
		report FAIL "$title"
	elif [ -n "$why" ]; then
		report FAIL "$title" "$why"
	else
		report ok "$title"
	fi
}

# plural N WORD WORDS
plural() {
	if [ "$1" -eq 1 ]; then echo "$2"; else echo "$3"; fi
}

getopt_args=(-s "two words" -v -- last "-n 5")
for n in $nodes_list; do
	[ "$n" -le 8 ] || continue
	ok="^parmacs-[a-z]+: ok: $n processes[ ,]"
	expect_line "parmacs-queue N=$n" "parmacs-queue-$n" "$ok" -n "$n" ./parmacs-queue "$n"
	expect_line "parmacs-prefix N=$n" "parmacs-prefix-$n" "$ok" -n "$n" ./parmacs-prefix
	expect_line "parmacs-pause N=$n" "parmacs-pause-$n" "$ok" -n "$n" ./parmacs-pause
	expect_line "parmacs-getopt N=$n" "parmacs-getopt-$n" \
		"$ok"'parsed argc 9, -p [0-9]+, -s \[two words\], -v, then \[last\] \[-n 5\]$' \
		-n "$n" ./parmacs-getopt -p "$n" "${getopt_args[@]}"
	expect_line "parmacs-lu N=$n" "parmacs-lu-$n" "$ok" -n "$n" ./parmacs-lu "$n"
	expect_line "parmacs-count N=$n" "parmacs-count-$n" "$ok" -n "$n" ./parmacs-count "$n"
	# the worked example of docs/porting.md: the master alone prints in the
	# start-up, and the sum is exact
	expect_line "parmacs-sum N=$n" "parmacs-sum-$n" \
		"^summing 100000 numbers with $n processes\$"$'\n'"^sum 4999950000 in [0-9.]+ s\$" \
		-n "$n" ./parmacs-sum -p "$n"
done

# The program runs P processes but dsm started N nodes: node 0 says so in
# one line naming both (or, when it cannot know P, how many at least) and
# how to run it, and every node exits 1. One case per place that notices:
# CREATE(f, P), BARINIT and BARRIER, CREATE(f) once too often, and
# WAIT_FOR_END for a SPLASH-2 program that created too few.
for n in 1 2 4; do
	case " $nodes_list " in *" $n "*) ;; *) continue ;; esac
	says="^dsm: node 0: "
	nodes="$n $(plural "$n" node nodes)"
	more=$((n + 1))
	runs="the program runs $more processes but dsm started $nodes; run it with dsm -n $more\$"
	expect_exit "parmacs-getopt P=$more N=$n" "parmacs-getopt-more-$n" 1 \
		"${says}CREATE\(f, $more\): $runs" 1 \
		-n "$n" ./parmacs-getopt -p "$more" "${getopt_args[@]}"
	expect_exit "parmacs-queue P=$more N=$n" "parmacs-queue-more-$n" 1 \
		"${says}BARINIT\(b, $more\): $runs" 1 -n "$n" ./parmacs-queue "$more"
	expect_exit "parmacs-lu P=$more N=$n" "parmacs-lu-more-$n" 1 \
		"${says}CREATE\(f\): the program runs more processes than the $nodes dsm started \(at least $more\); run it with dsm -n P, P being its number of processes\$" \
		1 -n "$n" ./parmacs-lu "$more"
	[ "$n" -gt 1 ] || continue
	less=$((n - 1))
	runs="the program runs $less $(plural "$less" process processes)"
	expect_exit "parmacs-getopt P=$less N=$n" "parmacs-getopt-less-$n" 1 \
		"${says}CREATE\(f, $less\): $runs but dsm started $nodes; run it with dsm -n $less\$" 1 \
		-n "$n" ./parmacs-getopt -p "$less" "${getopt_args[@]}"
	expect_exit "parmacs-lu P=$less N=$n" "parmacs-lu-less-$n" 1 \
		"${says}BARRIER\(b, $less\): $runs but dsm started $nodes \(a dsm barrier waits for every node\); run it with dsm -n $less\$" \
		1 -n "$n" ./parmacs-lu "$less"
	expect_exit "parmacs-count P=$less N=$n" "parmacs-count-less-$n" 1 \
		"${says}WAIT_FOR_END: $runs \(the master and $((less - 1)) from CREATE\) but dsm started $nodes; run it with dsm -n $less\$" \
		1 -n "$n" ./parmacs-count "$less"
done

if [ -z "$only" ]; then
	expect_usage "nonexistent program" nonexistent yes -n 2 ./no-such-program
	expect_usage "dsm -n 0" n0 no -n 0 ./args
	expect_usage "dsm -n x" nx no -n x ./args
elif [ $((passed + failed + skipped)) -eq 0 ]; then
	echo "FAIL no integration program named '$only'"
	failed=1
fi

results_line
