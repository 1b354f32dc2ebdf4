#!/usr/bin/env bash
# run.sh - what `make bench` runs: every benchmark in default placement and
# with all processes pinned to one CPU (taskset -c 0), the kernels beside
# plain C at 1, 2 and 4 nodes and with 2 threads in 1 node beside plain C
# with 2 threads (default placement, REPS runs each), a table
# with the ratios to the baselines measured in the same run and the targets
# of the performance issues (informational: never a failure), the same
# figures in bench/results/latest.json and latest.csv, and two plots when
# gnuplot is installed: latency against node count (latest.svg) and the
# kernels' speedup over plain C against node count (speedup.svg).
# The summary is bench/summary.awk. A kernel whose checksum differs from
# the plain C one fails the run.
#
# usage: bench/run.sh BUILD_DIR [--smoke [OUT_DIR]]
#   --smoke: tiny sizes and counts, for `make check`: no timing is judged,
#   the results go to OUT_DIR (default BUILD_DIR/bench-smoke), and the run
#   fails if a figure or an output file is missing.
set -u

build=${1:?usage: run.sh BUILD_DIR [--smoke [OUT_DIR]]}
smoke=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
[ "$smoke" = --smoke ] && out=${3:-$build/bench-smoke}
dsm=$build/dsm
bin=$build/bench
mkdir -p "$out"
raw=$(mktemp)
trap 'rm -f "$raw" "$raw".*' EXIT

# mib: the region of the remote reads and the bytes of each raw TCP size;
# passes: of each kind of remote read; reps: runs of each kernel
if [ "$smoke" = --smoke ]; then
	iters=50 pages=40 syncs=20 locks=100 mm=64 jn=128 jit=5 nodes_list="2 4" transfers=100
	mib=1 passes=1 accesses=200 reps=2
else
	iters=5000 pages=500 syncs=300 locks=5000 mm=512 jn=2048 jit=100 nodes_list="2 4 8 16"
	transfers=2000
	mib=64 passes=3 accesses=20000 reps=5
fi

# run PLACEMENT COMMAND...: keep the RESULT lines, tagged with the placement
# (and the figure's name followed by $suffix, when set), and the kernels'
# CHECK lines
suffix=
run() {
	local placement=$1
	shift
	local pre=()
	[ "$placement" = pinned ] && pre=(taskset -c 0)
	if ! "${pre[@]}" "$@" >"$raw.out" 2>"$raw.err"; then
		echo "bench: failed: $*" >&2
		tail -n 5 "$raw.err" >&2
		return 1
	fi
	sed -n "s/^RESULT name=\([^ ]*\)/$placement name=\1$suffix/p" "$raw.out" >>"$raw"
	awk -v cmd="$*" '$1 == "CHECK" && sub(/^name=/, "", $2) && sub(/^checksum=/, "", $3) {
		print $2, $3, cmd }' "$raw.out" >>"$raw.check"
}

# kernels BINARY [DSM-OPTION...]: the three kernels, in plain C (kernels_seq,
# no option) or in a dsm job with those options (Jacobi in a 1 GiB region);
# with $threads set, each node (or plain C) runs that many threads
threads=
kernels() {
	local binary=$1 pre=() big=() t=()
	shift
	[ $# -gt 0 ] && pre=("$dsm" "$@") big=(-s 1G)
	[ -n "$threads" ] && t=(-t "$threads")
	run default "${pre[@]}" "$binary" "${t[@]}" matmul "$mm" || status=1
	if [ -z "$threads" ]; then
		run default "${pre[@]}" "$binary" matmul_ijk "$mm" || status=1
	fi
	run default "${pre[@]}" "${big[@]}" "$binary" "${t[@]}" jacobi "$jn" "$jit" || status=1
}

status=0
for placement in default pinned; do
	run "$placement" "$bin/baseline" "$iters" "$mib" || status=1
	# the fault benchmarks time one page's fault: runs off (-P 0), or the
	# pages a run brought along would make the next accesses free
	run "$placement" "$dsm" -P 0 -n 4 "$bin/faults" basic "$pages" || status=1
	run "$placement" "$dsm" -n 2 "$bin/remote" "$mib" "$passes" "$accesses" || status=1
	# sm_lock: a free lock's lock + unlock, and a handoff, on 2 nodes
	run "$placement" "$dsm" -n 2 "$bin/locks" "$locks" || status=1
	run "$placement" "$dsm" -P 0 -n 16 "$bin/faults" fanout "$pages" || status=1
	# two threads of a node faulting at once, beside one and two nodes
	run "$placement" "$dsm" -P 0 -n 3 "$bin/faults" threads "$pages" || status=1
	for n in $nodes_list; do
		run "$placement" "$dsm" -s 1G -n "$n" "$bin/sync" "$syncs" || status=1
	done
done
# transactions against one global sm_lock and a lock per account: 1,000
# accounts packed (two pages) and one per page, at 1, 2, 4 and 8 nodes (2 and
# 4 for --smoke), default placement; each run's TXN line (with the abort
# rate) goes to txn.txt too
: >"$out/txn.txt"
txn_nodes="1 2 4 8"
[ "$smoke" = --smoke ] && txn_nodes="2 4"
for layout in packed spread; do
	for n in $txn_nodes; do
		for mode in txn global per; do
			run default "$dsm" -n "$n" "$bin/txn" "$mode" "$layout" "$transfers" || status=1
			grep '^TXN ' "$raw.out" >>"$out/txn.txt"
		done
	done
done

# kernels: default placement only (a speedup needs more than one CPU), with
# dsm's default options; the runs of plain C and of every node count take
# turns, so a change of load spreads over all of them
for _ in $(seq "$reps"); do
	kernels "$bin/kernels_seq"
	for p in 1 2 4; do
		kernels "$bin/kernels" -n "$p"
	done
	# threads inside a node: 1 node x 2 threads, beside plain C with 2
	# threads (and 2 nodes x 1 thread, above)
	threads=2
	kernels "$bin/kernels_seq"
	kernels "$bin/kernels" -n 1
	threads=
done
# once each for comparison with the default (runs of up to 256 pages): runs
# capped at 4 pages (dsm -P 4) on matmul, reported as ..._prefetch4, and one
# page per fault (-P 0) as ..._prefetch0
suffix=_prefetch4
for p in 2 4; do
	run default "$dsm" -P 4 -n "$p" "$bin/kernels" matmul "$mm" || status=1
done
suffix=_prefetch0
kernels "$bin/kernels" -P 0 -n 2
suffix=

# every kernel's checksum must be the plain C one, whatever ran it
touch "$raw.check"
awk '{ k[NR] = $1; c[NR] = $2; cmd[NR] = substr($0, index($0, $3))
	if ($3 ~ /kernels_seq$/ && !($1 in want)) want[$1] = $2 }
END {
	if (NR == 0) { print "bench: no kernel checksum"; bad = 1 }
	for (i = 1; i <= NR; i++)
		if (!(k[i] in want)) { print "bench: " k[i] ": no plain C checksum"; bad = 1 }
		else if (c[i] != want[k[i]]) {
			printf "bench: %s: checksum %s, plain C %s: %s\n", k[i], c[i], want[k[i]], cmd[i]
			bad = 1
		}
	exit bad
}' "$raw.check" >&2 || status=1

# the table, latest.csv, latest.json, and the speedup data for the plot
awk -f "$here/summary.awk" -v csv="$out/latest.csv" -v json="$out/latest.json" \
	-v speedup="$raw.speedup" -v mm="$mm" -v jn="$jn" -v jit="$jit" "$raw" | tee "$out/latest.txt"

# latency against node count, and fan-out against readers
if command -v gnuplot >/dev/null; then
	grep -E '^default (barrier|bcast)_' "$out/latest.csv" 2>/dev/null >/dev/null
	awk -F, '$1 == "default" && $2 ~ /^(barrier|bcast)_[0-9]+$/ {
		split($2, a, "_"); print a[1], a[2], $3 }' "$out/latest.csv" | sort -k1,1 -k2n >"$raw.sync"
	awk -F, '$1 == "default" && $2 ~ /^fanout_[0-9]+$/ {
		split($2, a, "_"); print a[2] + 1, $3 }' "$out/latest.csv" | sort -n >"$raw.fan"
	gnuplot <<GP || status=1
set terminal svg size 800,500 dynamic font "sans,12"
set output "$out/latest.svg"
set title "dsm: latency against node count (median, default placement)"
set xlabel "nodes"
set ylabel "microseconds"
set key top left
set grid
set logscale x 2
plot "< grep ^barrier $raw.sync" using 2:3 with linespoints title "sm\\_barrier", \
     "< grep ^bcast $raw.sync" using 2:3 with linespoints title "sm\\_bcast", \
     "$raw.fan" using 1:2 with linespoints title "write invalidating N-1 readers"
GP
	rm -f "$raw.sync" "$raw.fan"
	# speedup over plain C: one block per kernel, titled by its first line
	blocks=$(grep -c '^"' "$raw.speedup")
	gnuplot <<GP || status=1
set terminal svg size 900,500 dynamic font "sans,12"
set output "$out/speedup.svg"
set title "dsm: speedup over plain C against node count (median of $reps runs, default placement)"
set xlabel "nodes"
set ylabel "plain C time / dsm time"
set key outside right top
set grid
set logscale x 2
set xrange [0.8:5]
set xtics (1, 2, 4)
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
plot for [i=0:$((blocks - 1))] "$raw.speedup" index i using 1:2 with linespoints title columnheader(1), \
     1 with lines dashtype 2 linecolor "black" title "plain C (speedup 1)"
GP
fi
rm -f "$raw.out" "$raw.err"

if [ "$smoke" = --smoke ]; then
	# every figure present, every file written and well-formed enough
	for name in rtt_4k rtt_16 segv_mprotect memcpy_4k read_fresh upgrade read_revoke \
		write_revoke fanout_1 fanout_3 fault_1thread fault_2threads fault_2nodes \
		barrier_2 bcast_2 malloc_small_per_s \
		malloc_chunk_per_s tcp_bw_4k tcp_bw_16k tcp_bw_64k tcp_bw_256k remote_seq_read \
		remote_rand_read lock_pair_2 lock_handoff_2; do
		for placement in default pinned; do
			grep -q "^$placement,$name," "$out/latest.csv" ||
				{ echo "bench: no $placement $name in latest.csv" >&2; status=1; }
		done
	done
	# the kernels, default placement only: plain C and every node count, run
	# $reps times (as many samples), and the single comparison runs
	for k in "matmul_$mm" "matmul_ijk_$mm" "jacobi_$jn"; do
		for name in "${k}_seq_p1" "${k}_dsm_p1" "${k}_dsm_p2" "${k}_dsm_p4" "${k}_dsm_p2_prefetch0"; do
			want=$reps
			case $name in *_prefetch0) want=1 ;; esac
			grep -Eq "^default,$name,([^,]*,){3}$want," "$out/latest.csv" ||
				{ echo "bench: no default $name with $want samples in latest.csv" >&2; status=1; }
		done
	done
	for name in "matmul_${mm}_seq_p1_t2" "matmul_${mm}_dsm_p1_t2" "jacobi_${jn}_seq_p1_t2" \
		"jacobi_${jn}_dsm_p1_t2"; do
		grep -Eq "^default,$name,([^,]*,){3}$reps," "$out/latest.csv" ||
			{ echo "bench: no default $name with $reps samples in latest.csv" >&2; status=1; }
	done
	grep -q "^default,matmul_${mm}_dsm_p2_prefetch4," "$out/latest.csv" ||
		{ echo "bench: no default matmul_${mm}_dsm_p2_prefetch4 in latest.csv" >&2; status=1; }
	grep -q '"targets": \[' "$out/latest.json" || { echo "bench: latest.json lacks targets" >&2; status=1; }
	if command -v gnuplot >/dev/null; then
		for svg in latest speedup; do
			grep -q '</svg>' "$out/$svg.svg" || { echo "bench: $svg.svg is not complete" >&2; status=1; }
		done
	fi
	[ "$status" -eq 0 ] && echo "bench smoke: every figure and output file present, kernel checksums equal to plain C (timings not judged)"
fi
exit $status
