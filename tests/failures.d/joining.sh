# shellcheck shell=bash disable=SC2154 # its variables are failures.sh's
# failures.d/joining.sh - joining under a flood of strangers (scenarios j
# and k), sourced by tests/failures.sh, whose helpers it uses.

# ==== joining under a flood of strangers (j, k) ============================
# the nodes start 3 s late, so strangers come first (as in basic.sh)
late='/bin/sh -c '\''sleep 3; exec "$0" "$@"'\'
# Strangers who know nothing cannot keep the nodes out nor flood stderr: a
# half-open connection must say HELLO within 2 s and the oldest is evicted
# when the table (2N+16) is full; refusals print a few lines a second.

# flood_idle HOST PORT COUNT STOP: COUNT connections to HOST:PORT that never
# send a byte, a fresh COUNT every second (closing the previous ones), until
# the file STOP exists
flood_idle() {
	local fds=() fd k
	while [ ! -e "$4" ]; do
		for fd in "${fds[@]}"; do
			exec {fd}>&-
		done
		fds=()
		for ((k = 0; k < $3; k++)); do
			{ exec {fd}<>"/dev/tcp/$1/$2"; } 2>/dev/null && fds+=("$fd")
		done
		sleep 1
	done
}

# trickle HOST PORT STOP: a connection sending one byte a second, a new one
# whenever dsm closes it, until the file STOP exists
trickle() {
	local fd
	trap '' PIPE
	while [ ! -e "$3" ]; do
		if ! { exec {fd}<>"/dev/tcp/$1/$2"; } 2>/dev/null; then
			sleep 1
			continue
		fi
		while [ ! -e "$3" ] && printf G >&"$fd"; do
			sleep 1
		done 2>/dev/null
		exec {fd}>&-
	done
}

# ---- j. the half-open table full of idle and trickling connections while
# the nodes join (they start 3 s late): the oldest make room, the job runs
launch join-flood DSM_WRAPPER="$late" -- "${hostargs[@]}" -v -n 4 ./linger "$tmp/run/join-flood"
flooders=()
if wait_stderr 'nodes connect to ' && read -r host port <<<"$(port_of)"; then
	flood_idle "$host" "$port" $((2 * 4 + 16)) "$dir.stop-flood" &
	flooders+=($!)
	for _ in 1 2 3 4; do
		trickle "$host" "$port" "$dir.stop-flood" &
		flooders+=($!)
	done
	started+=("${flooders[@]}")
	wait_pidfiles 4
else
	fail_because "no 'nodes connect to HOST:PORT' on dsm's stderr"
fi
touch "$dir.stop-flood"
for pid in "${flooders[@]}"; do
	wait "$pid"
	forget "$pid"
done
stop_job
finish
expect_status 0
expect_all_done 4
# the first refusal is an eviction (before any deadline), so it has its line
expect_stderr "refused a connection from 127\.0\.0\.1:[0-9]+: evicted for a newer one: too many half-open connections"
expect_stderr '^dsm: [0-9]+ connections refused in all, [0-9]+ of them without a line of their own$'
expect_gone
report "idle and trickling connections fill the table while nodes join"

# ---- k. 1000 connections after the join: each refused and logged (-l), but
# stderr gets at most 5 lines a second, a count a second and the total
many=1000
launch join-many -- "${hostargs[@]}" -v -l "$tmp/run/join-many.log" -n 4 ./linger \
	"$tmp/run/join-many"
t0=$SECONDS
if wait_stderr 'nodes connect to ' && read -r host port <<<"$(port_of)" && wait_pidfiles 4; then
	t0=$SECONDS
	for ((k = 0; k < many; k++)); do
		if ! { exec {fd}<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
			fail_because "connection $k to $host:$port failed"
			break
		fi
		exec {fd}>&-
	done
	# until dsm has logged every one (a fresh file: nothing else is refused)
	for _ in $(seq 300); do
		[ "$(grep -c ' refused ' "$tmp/run/join-many.log")" -ge "$many" ] && break
		running || break
		sleep 0.1
	done
fi
stop_job
finish
secs=$((SECONDS - t0 + 1))
expect_status 0
expect_all_done 4
logged=$(grep -c ' refused ' "$tmp/run/join-many.log" 2>/dev/null)
[ "${logged:-0}" -eq "$many" ] || fail_because "$logged refusals in the -l log, not $many"
lines=$(grep -c 'refused' "$err")
# per second at most 5 lines and a count, then the total
[ "$lines" -le $((6 * (secs + 1) + 1)) ] ||
	fail_because "$lines lines about refusals in $secs s (at most $((6 * (secs + 1) + 1)))"
shown=$(grep -c 'refused a connection from .*: all nodes have joined$' "$err")
counted=$(sed -nE 's/^dsm: ([0-9]+) more connections? refused$/\1/p' "$err" |
	awk '{ n += $1 } END { print n + 0 }')
[ $((shown + counted)) -eq "$many" ] ||
	fail_because "$shown refusals shown and $counted counted, not $many"
expect_stderr "^dsm: $many connections refused in all, $counted of them without a line of their own\$"
expect_gone
report "$many refused connections after the join: bounded stderr"
# ==== end of joining under a flood ===========================================
