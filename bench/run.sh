#!/usr/bin/env bash
# run.sh - what `make bench` runs: every benchmark in default placement and
# with all processes pinned to one CPU (taskset -c 0), a table with the
# ratios to the baselines measured in the same run, and the same figures in
# bench/results/latest.json and latest.csv, plus a plot (latency against
# node count) in bench/results/latest.svg when gnuplot is installed.
#
# usage: bench/run.sh BUILD_DIR [--smoke [OUT_DIR]]
#   --smoke: tiny iteration counts, for `make check`: no timing is judged,
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
trap 'rm -f "$raw"' EXIT

if [ "$smoke" = --smoke ]; then
	iters=50 pages=40 syncs=20 mm=64 jn=128 jit=5 nodes_list="2 4"
else
	iters=5000 pages=500 syncs=300 mm=512 jn=2048 jit=100 nodes_list="2 4 8 16"
fi

# run PLACEMENT COMMAND...: keep the RESULT lines, tagged with the placement
# (and the figure's name followed by $suffix, when set)
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
}

status=0
for placement in default pinned; do
	run "$placement" "$bin/baseline" "$iters" || status=1
	run "$placement" "$dsm" -n 4 "$bin/faults" basic "$pages" || status=1
	run "$placement" "$dsm" -n 16 "$bin/faults" fanout "$pages" || status=1
	for n in $nodes_list; do
		run "$placement" "$dsm" -s 1G -n "$n" "$bin/sync" "$syncs" || status=1
	done
done
# kernels: default placement only (a speedup needs more than one CPU)
run default "$bin/kernels_seq" matmul "$mm" || status=1
run default "$bin/kernels_seq" jacobi "$jn" "$jit" || status=1
for p in 1 2 4; do
	run default "$dsm" -n "$p" "$bin/kernels" matmul "$mm" || status=1
	run default "$dsm" -s 1G -n "$p" "$bin/kernels" jacobi "$jn" "$jit" || status=1
done
# the same with read prefetch (dsm -P 4), reported as matmul_..._prefetch4
suffix=_prefetch4
for p in 2 4; do
	run default "$dsm" -P 4 -n "$p" "$bin/kernels" matmul "$mm" || status=1
done
suffix=

# Lines are "PLACEMENT name=N key=value...". Summarise with awk: CSV, JSON,
# the table, and the targets of the performance issue as ratios.
awk -v csv="$out/latest.csv" -v json="$out/latest.json" -v mm="$mm" -v jn="$jn" '
function v(p, n, k) { return ((p, n, k) in V) ? V[p, n, k] : 0 }
function r(a, b) { return b > 0 ? a / b : 0 }
function target(p, what, measured, op, limit,   met) {
	met = (measured > 0) && (op == "<=" ? measured <= limit : measured >= limit)
	printf "  %-8s %-48s %8.2f  %s %-4s %s\n", p, what, measured, op, limit, met ? "met" : "MISSED"
	tj[++nt] = sprintf("{\"placement\": \"%s\", \"target\": \"%s\", \"measured\": %.4f, \"limit\": \"%s %s\", \"met\": %s}", p, what, measured, op, limit, met ? "true" : "false")
}
{
	p = $1; n = ""
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "name") n = kv[2]; else V[p, n, kv[1]] = kv[2]
	}
	if (!((p, n) in seen)) { seen[p, n] = 1; P[++cnt] = p; N[cnt] = n }
}
END {
	print "placement,name,median_us,min_us,max_us,samples,seconds,per_s" > csv
	printf "%-8s %-22s %12s %12s %12s %9s\n", "place", "figure", "median_us", "min_us", "max_us", "other"
	for (i = 1; i <= cnt; i++) {
		p = P[i]; n = N[i]
		printf "%s,%s,%s,%s,%s,%s,%s,%s\n", p, n, v(p,n,"median_us"), v(p,n,"min_us"), v(p,n,"max_us"), v(p,n,"n"), v(p,n,"seconds"), v(p,n,"per_s") > csv
		other = v(p,n,"seconds") ? v(p,n,"seconds") " s" : (v(p,n,"per_s") ? sprintf("%.0f/s", v(p,n,"per_s")) : "")
		printf "%-8s %-22s %12s %12s %12s %9s\n", p, n, v(p,n,"median_us"), v(p,n,"min_us"), v(p,n,"max_us"), other
		rj[i] = sprintf("{\"placement\": \"%s\", \"name\": \"%s\", \"median_us\": %s, \"min_us\": %s, \"max_us\": %s, \"samples\": %s, \"seconds\": %s, \"per_s\": %s}", p, n, v(p,n,"median_us"), v(p,n,"min_us"), v(p,n,"max_us"), v(p,n,"n"), v(p,n,"seconds"), v(p,n,"per_s"))
	}
	print "\ntargets (ratios within this run):"
	for (k = 1; k <= 2; k++) {
		p = k == 1 ? "default" : "pinned"
		segv = v(p, "segv_mprotect", "median_us"); r4 = v(p, "rtt_4k", "median_us")
		target(p, "read fault (fresh) / (rtt_4k + segv)", r(v(p, "read_fresh", "median_us"), r4 + segv), "<=", 1.3)
		target(p, "write fault w/ revoke / (2 rtt_4k + segv)", r(v(p, "write_revoke", "median_us"), 2 * r4 + segv), "<=", 1.4)
		target(p, "upgrade / (rtt_16 + segv)", r(v(p, "upgrade", "median_us"), v(p, "rtt_16", "median_us") + segv), "<=", 1.3)
		target(p, "fan-out 15 / fan-out 1", r(v(p, "fanout_15", "median_us"), v(p, "fanout_1", "median_us")), "<=", 3)
	}
	target("default", "matmul " mm ": sequential / dsm on 2 nodes", r(v("default", "matmul_" mm "_seq_p1", "seconds"), v("default", "matmul_" mm "_dsm_p2", "seconds")), ">=", 1.7)
	target("default", "matmul " mm ": the same with dsm -P 4", r(v("default", "matmul_" mm "_seq_p1", "seconds"), v("default", "matmul_" mm "_dsm_p2_prefetch4", "seconds")), ">=", 1.7)
	printf "{\n  \"results\": [\n" > json
	for (i = 1; i <= cnt; i++) printf "    %s%s\n", rj[i], i < cnt ? "," : "" > json
	printf "  ],\n  \"targets\": [\n" > json
	for (i = 1; i <= nt; i++) printf "    %s%s\n", tj[i], i < nt ? "," : "" > json
	printf "  ]\n}\n" > json
}' "$raw" | tee "$out/latest.txt"

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
fi
rm -f "$raw.out" "$raw.err"

if [ "$smoke" = --smoke ]; then
	# every figure present, every file written and well-formed enough
	for name in rtt_4k rtt_16 segv_mprotect memcpy_4k read_fresh upgrade read_revoke \
		write_revoke fanout_1 fanout_3 barrier_2 bcast_2 malloc_small_per_s \
		malloc_chunk_per_s "matmul_${mm}_seq_p1" "matmul_${mm}_dsm_p2" "jacobi_${jn}_dsm_p4" \
		"matmul_${mm}_dsm_p2_prefetch4"; do
		for placement in default pinned; do
			case $name in matmul_* | jacobi_*) [ "$placement" = pinned ] && continue ;; esac
			grep -q "^$placement,$name," "$out/latest.csv" ||
				{ echo "bench: no $placement $name in latest.csv" >&2; status=1; }
		done
	done
	grep -q '"targets": \[' "$out/latest.json" || { echo "bench: latest.json lacks targets" >&2; status=1; }
	if command -v gnuplot >/dev/null; then
		grep -q '</svg>' "$out/latest.svg" || { echo "bench: latest.svg is not complete" >&2; status=1; }
	fi
	[ "$status" -eq 0 ] && echo "bench smoke: every figure and output file present (timings not judged)"
fi
exit $status
