# summary.awk - the report of bench/run.sh (POSIX awk: mawk is Debian's).
# Input: lines "PLACEMENT name=NAME key=value ...", the RESULT lines of the
# benchmarks tagged with their placement. A figure given as seconds several
# times (a kernel run REPS times) becomes the median, min and max of those
# runs. Writes the CSV (csv=FILE), the JSON (json=FILE) and the speedup data
# for gnuplot (speedup=FILE: one block per kernel, "nodes speedup" lines
# after a title line), and prints the table, the comparisons and the targets
# of the performance issues as ratios within this run (never a failure).
# Variables: csv, json, speedup, mm (matmul size), jn and jit (Jacobi size
# and iterations).

function v(p, n, k) { return ((p, n, k) in V) ? V[p, n, k] : 0 }
function r(a, b) { return b > 0 ? a / b : 0 }
function target(p, what, measured, op, limit,   met) {
	met = (measured > 0) && (op == "<=" ? measured <= limit : measured >= limit)
	printf "  %-8s %-52s %8.2f  %s %-5s %s\n", p, what, measured, op, limit, met ? "MET" : "MISSED"
	tj[++nt] = sprintf("{\"placement\": \"%s\", \"target\": \"%s\", \"measured\": %.4f, \"limit\": \"%s %s\", \"met\": %s}", p, what, measured, op, limit, met ? "true" : "false")
}
# the median of the seconds of (p, n), sorting its samples (insertion sort: few)
function settle(p, n,   c, i, j, x) {
	c = NS[p, n]
	for (i = 2; i <= c; i++) {
		x = S[p, n, i]
		for (j = i - 1; j >= 1 && S[p, n, j] > x; j--) S[p, n, j + 1] = S[p, n, j]
		S[p, n, j + 1] = x
	}
	x = c % 2 ? S[p, n, (c + 1) / 2] : (S[p, n, c / 2] + S[p, n, c / 2 + 1]) / 2
	V[p, n, "seconds"] = x
	V[p, n, "median_us"] = sprintf("%.1f", x * 1e6)
	V[p, n, "min_us"] = sprintf("%.1f", S[p, n, 1] * 1e6)
	V[p, n, "max_us"] = sprintf("%.1f", S[p, n, c] * 1e6)
	V[p, n, "n"] = c
}
function secs(n) { return v("default", n, "seconds") }
function cell(t, plain) { return t > 0 ? sprintf("%7.3f %5.2fx", t, r(plain, t)) : sprintf("%13s", "-") }
# one kernel's row of the speedup table; plot: also its block of speedup data
function kernel(label, k, suffix, plot,   plain, i, t) {
	plain = secs(k "_seq_p1")
	printf "  %-28s %8s", label, suffix == "" ? sprintf("%.3f", plain) : ""
	if (plot && nsp++) printf "\n\n" > speedup
	if (plot) printf "\"%s\"\n", label > speedup
	for (i = 1; i <= 4; i *= 2) {
		t = secs(k "_dsm_p" i suffix)
		printf "  %s", cell(t, plain)
		if (t > 0) {
			if (plot) printf "%d %.4f\n", i, r(plain, t) > speedup
			sj[++nsj] = sprintf("{\"kernel\": \"%s\", \"nodes\": %d, \"plain_s\": %.4f, \"dsm_s\": %.4f, \"speedup\": %.4f}", label, i, plain, t, r(plain, t))
		}
	}
	printf "\n"
}
# one kernel's row of the threads table: plain C with 1 and 2 threads, dsm
# on 1 node with 2 threads and on 2 nodes with 1
function threaded(label, k,   plain) {
	plain = secs(k "_seq_p1")
	printf "  %-28s %8.3f  %s  %s  %s\n", label, plain, cell(secs(k "_seq_p1_t2"), plain), cell(secs(k "_dsm_p1_t2"), plain), cell(secs(k "_dsm_p2"), plain)
}
{
	p = $1; n = ""
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "name") n = kv[2]
		else if (kv[1] == "seconds") S[p, n, ++NS[p, n]] = kv[2]
		else V[p, n, kv[1]] = kv[2]
	}
	if (!((p, n) in seen)) { seen[p, n] = 1; P[++cnt] = p; N[cnt] = n }
}
END {
	for (i = 1; i <= cnt; i++) if ((P[i], N[i]) in NS) settle(P[i], N[i])
	print "placement,name,median_us,min_us,max_us,samples,seconds,per_s,mb_s" > csv
	printf "%-8s %-32s %12s %12s %12s %12s\n", "place", "figure", "median_us", "min_us", "max_us", "other"
	for (i = 1; i <= cnt; i++) {
		p = P[i]; n = N[i]
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", p, n, v(p,n,"median_us"), v(p,n,"min_us"), v(p,n,"max_us"), v(p,n,"n"), v(p,n,"seconds"), v(p,n,"per_s"), v(p,n,"mb_s") > csv
		other = v(p,n,"seconds") ? sprintf("%.4f s", v(p,n,"seconds")) : v(p,n,"per_s") ? sprintf("%.0f/s", v(p,n,"per_s")) : v(p,n,"mb_s") ? sprintf("%.1f MB/s", v(p,n,"mb_s")) : ""
		printf "%-8s %-32s %12s %12s %12s %12s\n", p, n, v(p,n,"median_us"), v(p,n,"min_us"), v(p,n,"max_us"), other
		rj[i] = sprintf("{\"placement\": \"%s\", \"name\": \"%s\", \"median_us\": %s, \"min_us\": %s, \"max_us\": %s, \"samples\": %s, \"seconds\": %s, \"per_s\": %s, \"mb_s\": %s}", p, n, v(p,n,"median_us"), v(p,n,"min_us"), v(p,n,"max_us"), v(p,n,"n"), v(p,n,"seconds"), v(p,n,"per_s"), v(p,n,"mb_s"))
	}

	print "\nremote reads on 2 nodes (node 0 wrote the region) beside raw TCP, medians:"
	for (k = 1; k <= 2; k++) {
		p = k == 1 ? "default" : "pinned"
		seq = v(p, "remote_seq_read", "mb_s"); best[p] = 0
		printf "  %-8s sequential %.1f MB/s; raw TCP request + reply, MB/s (dsm/raw):", p, seq
		for (s = 4; s <= 256; s *= 4) {
			raw = v(p, "tcp_bw_" s "k", "mb_s")
			printf " %dk %.0f (%.1f%%)", s, raw, 100 * r(seq, raw)
			if (raw > best[p]) { best[p] = raw; bestk[p] = s "k" }
		}
		printf "\n"
		rnd = v(p, "remote_rand_read", "median_us")
		printf "  %-8s random 8-byte read %.1f us per access = %.2f x read fault fresh (%.1f us), %.2f x read fault revoking a writer (%.1f us)\n", p, rnd, r(rnd, v(p, "read_fresh", "median_us")), v(p, "read_fresh", "median_us"), r(rnd, v(p, "read_revoke", "median_us")), v(p, "read_revoke", "median_us")
	}

	printf "\nkernels, default placement: seconds (median of the runs) and speedup = plain C / dsm\n"
	printf "  %-28s %8s  %13s  %13s  %13s\n", "kernel", "plain C", "1 node", "2 nodes", "4 nodes"
	kernel("matmul " mm " i-k-j", "matmul_" mm, "", 1)
	kernel("matmul " mm " i-j-k (naive)", "matmul_ijk_" mm, "", 1)
	kernel("jacobi " jn " x " jit " it", "jacobi_" jn, "", 1)
	kernel("matmul " mm " i-k-j, dsm -P 4", "matmul_" mm, "_prefetch4", 1)
	kernel("matmul " mm " i-k-j, dsm -P 0", "matmul_" mm, "_prefetch0", 0)
	kernel("matmul " mm " i-j-k, dsm -P 0", "matmul_ijk_" mm, "_prefetch0", 0)
	kernel("jacobi " jn ", dsm -P 0", "jacobi_" jn, "_prefetch0", 0)

	printf "\nthreads inside a node, default placement: seconds (median) and speedup = plain C (1 thread) / this\n"
	printf "  %-28s %8s  %13s  %13s  %13s\n", "kernel", "plain C", "plain C 2 thr", "1 node 2 thr", "2 nodes 1 thr"
	threaded("matmul " mm " i-k-j", "matmul_" mm)
	threaded("jacobi " jn " x " jit " it", "jacobi_" jn)
	for (k = 1; k <= 2; k++) {
		p = k == 1 ? "default" : "pinned"
		printf "  %-8s fault revoking a writer: 1 thread %.1f us; 2 threads of a node at once %.1f us (%.2fx); 2 nodes at once %.1f us (%.2fx)\n", p, v(p, "fault_1thread", "median_us"), v(p, "fault_2threads", "median_us"), r(v(p, "fault_2threads", "median_us"), v(p, "fault_1thread", "median_us")), v(p, "fault_2nodes", "median_us"), r(v(p, "fault_2nodes", "median_us"), v(p, "fault_1thread", "median_us"))
	}

	print "\ntargets (ratios within this run; informational):"
	for (k = 1; k <= 2; k++) {
		p = k == 1 ? "default" : "pinned"
		segv = v(p, "segv_mprotect", "median_us"); r4 = v(p, "rtt_4k", "median_us")
		target(p, "read fault (fresh) / (rtt_4k + segv)", r(v(p, "read_fresh", "median_us"), r4 + segv), "<=", 1.3)
		target(p, "write fault w/ revoke / (2 rtt_4k + segv)", r(v(p, "write_revoke", "median_us"), 2 * r4 + segv), "<=", 1.4)
		target(p, "upgrade / (rtt_16 + segv)", r(v(p, "upgrade", "median_us"), v(p, "rtt_16", "median_us") + segv), "<=", 1.3)
		target(p, "fan-out 15 / fan-out 1", r(v(p, "fanout_15", "median_us"), v(p, "fanout_1", "median_us")), "<=", 3)
		target(p, "remote seq read / raw TCP at its best (" bestk[p] ")", r(v(p, "remote_seq_read", "mb_s"), best[p]), ">=", 0.33)
		target(p, "random 8-byte read / read fault (fresh)", r(v(p, "remote_rand_read", "median_us"), v(p, "read_fresh", "median_us")), "<=", 1.1)
	}
	p = "default"
	target(p, "txn / one global sm_lock, 1000 packed accounts, 4 nodes", r(v(p, "txn_bank_txn_packed_4", "per_s"), v(p, "txn_bank_global_packed_4", "per_s")), ">=", 1)
	target(p, "txn / one global sm_lock, 1000 accounts one per page, 4 nodes", r(v(p, "txn_bank_txn_spread_4", "per_s"), v(p, "txn_bank_global_spread_4", "per_s")), ">=", 1)
	target(p, "jacobi " jn "/" jit ": plain C / dsm on 2 nodes", r(secs("jacobi_" jn "_seq_p1"), secs("jacobi_" jn "_dsm_p2")), ">=", 1.6)
	target(p, "matmul " mm " i-j-k: plain C / dsm on 2 nodes", r(secs("matmul_ijk_" mm "_seq_p1"), secs("matmul_ijk_" mm "_dsm_p2")), ">=", 1.8)
	target(p, "matmul " mm " i-k-j: plain C / dsm on 2 nodes", r(secs("matmul_" mm "_seq_p1"), secs("matmul_" mm "_dsm_p2")), ">=", 1.4)
	target(p, "matmul " mm " i-k-j: the same with dsm -P 4", r(secs("matmul_" mm "_seq_p1"), secs("matmul_" mm "_dsm_p2_prefetch4")), ">=", 1.4)
	target(p, "matmul " mm " i-k-j: dsm on 1 node / plain C", r(secs("matmul_" mm "_dsm_p1"), secs("matmul_" mm "_seq_p1")), "<=", 1.05)
	target(p, "matmul " mm " i-j-k: dsm on 1 node / plain C", r(secs("matmul_ijk_" mm "_dsm_p1"), secs("matmul_ijk_" mm "_seq_p1")), "<=", 1.05)
	target(p, "jacobi " jn "/" jit ": dsm on 1 node / plain C", r(secs("jacobi_" jn "_dsm_p1"), secs("jacobi_" jn "_seq_p1")), "<=", 1.05)
	target(p, "matmul " mm " i-k-j: plain C / dsm 1 node x 2 threads", r(secs("matmul_" mm "_seq_p1"), secs("matmul_" mm "_dsm_p1_t2")), ">=", 1.8)
	target(p, "jacobi " jn "/" jit ": plain C / dsm 1 node x 2 threads", r(secs("jacobi_" jn "_seq_p1"), secs("jacobi_" jn "_dsm_p1_t2")), ">=", 1.8)
	target(p, "fault, 2 threads of a node at once / 1 thread", r(v(p, "fault_2threads", "median_us"), v(p, "fault_1thread", "median_us")), "<=", 1.2)
	p = "pinned"
	target(p, "fault, 2 threads of a node at once / 1 thread", r(v(p, "fault_2threads", "median_us"), v(p, "fault_1thread", "median_us")), "<=", 1.2)

	printf "{\n  \"results\": [\n" > json
	for (i = 1; i <= cnt; i++) printf "    %s%s\n", rj[i], i < cnt ? "," : "" > json
	printf "  ],\n  \"speedups\": [\n" > json
	for (i = 1; i <= nsj; i++) printf "    %s%s\n", sj[i], i < nsj ? "," : "" > json
	printf "  ],\n  \"targets\": [\n" > json
	for (i = 1; i <= nt; i++) printf "    %s%s\n", tj[i], i < nt ? "," : "" > json
	printf "  ]\n}\n" > json
}
