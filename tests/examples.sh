#!/usr/bin/env bash
# examples.sh - run every program in examples/ the way its comment says, at
# 1, 2 and 4 nodes, and check each exits 0 and prints the line it promises.
#
# usage: tests/examples.sh DSM EXAMPLEDIR
#
#   DSM         the dsm binary
#   EXAMPLEDIR  directory holding the built examples (build/examples)
#
# Each run is `timeout -k 5 60 DSM -n N ./EXAMPLE` inside EXAMPLEDIR. One line
# per run: "ok   EXAMPLE N=2", or "FAIL EXAMPLE N=2 (why)" followed by the
# last lines of its output. An example with no expected line below only has
# to exit 0. The last line is "P passed, F failed"; the exit status is 0 iff
# nothing failed. DSM_EXAMPLE_NODES replaces "1 2 4".
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
runner_args 2 2 "DSM EXAMPLEDIR" "$@"
nodes_list=${DSM_EXAMPLE_NODES:-1 2 4}
runner_tmp examples

# list.c: node t appends items 100*t+1 .. 100*t+5; the checksum is the sum
# of position * value over the whole list, positions from 1.
list_checksum() {
	local n=$1 t i pos=0 sum=0
	for ((t = 0; t < n; t++)); do
		for ((i = 1; i <= 5; i++)); do
			pos=$((pos + 1))
			sum=$((sum + pos * (100 * t + i)))
		done
	done
	echo "$sum"
}

# expected EXAMPLE N: an extended regular expression for a line the run
# must print, and how many lines must match it
expected() {
	case $1 in
	hello) echo "1 ^slot $(($2 - 1)) holds $((100 + $2 - 1))\$" ;;
	list) echo "$2 ^list: node [0-9]+ walked $((5 * $2)) items, checksum $(list_checksum "$2")\$" ;;
	matmul) echo "1 ^matmul: ok" ;;
	jacobi) echo "1 ^jacobi: ok" ;;
	*) echo "0 " ;;
	esac
}

for prog in "$progdir"/*; do
	[ -f "$prog" ] && [ -x "$prog" ] || continue
	name=$(basename "$prog")
	for n in $nodes_list; do
		out=$tmp/$name-$n.out
		(cd "$progdir" && exec timeout -k 5 60 "$dsm" -n "$n" "./$name") \
			</dev/null >"$out" 2>&1
		status=$?
		read -r want pattern <<<"$(expected "$name" "$n")"
		got=0
		if [ "$want" -gt 0 ]; then
			got=$(grep -Ec -- "$pattern" "$out")
		fi
		why=
		if timed_out "$status"; then
			why="timed out"
		elif [ "$status" -ne 0 ]; then
			why="exit $status"
		elif [ "$got" -ne "$want" ]; then
			why="$got lines match '$pattern', expected $want"
		fi
		if [ -z "$why" ]; then
			result_ok "$name N=$n"
		else
			result_fail "$name N=$n ($why)" "$out"
		fi
	done
done

results_line
