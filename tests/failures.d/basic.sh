# shellcheck shell=bash disable=SC2154 # its variables are failures.sh's
# basic.sh - the first failure scenarios (sourced by tests/failures.sh, which
# defines the helpers): a node killed, dsm killed or signalled, a bad host,
# a missing program, strangers on the port, a node that segfaults.

# ---- a. kill -9 of a node mid-run -------------------------------------
launch kill-node -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/kill-node"
if wait_pidfiles 4; then
	kill -KILL "$(cat "$dir/node.2")"
else
	stop_job
fi
conclude "kill -9 node 2" 137 'node 2 \(.*\) killed by signal 9'

# ---- a2. node 2 holds the only copy of a page and is killed while dsm is
# stopped; the others then read that page, die of 'page lost' and become
# zombies before node 2 is reaped. dsm must still blame node 2, whose link
# closed first (a race CI once hit, made deterministic here)
launch kill-node-late -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/kill-node-late" hold
if wait_pidfiles 4; then
	# the others read node 2's page at once: they fault and die meanwhile
	kill_behind_dsm 2 touch "$dir/touch"
else
	stop_job
fi
conclude "kill -9 node 2 while dsm is stopped" 137 'node 2 \(.*\) killed by signal 9'

# ---- b. kill -9 of dsm ------------------------------------------------
launch kill-dsm -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/kill-dsm"
if wait_pidfiles 4; then
	kill -KILL "$dsmpid"
else
	stop_job
fi
conclude "kill -9 dsm" 137

# ---- c, d. SIGINT and SIGTERM to dsm ------------------------------------
for sig in INT:130:Interrupt TERM:143:Terminated; do
	IFS=: read -r name code text <<<"$sig"
	launch "sig$name" -- "${hostargs[@]}" -n 4 ./linger "$tmp/run/sig$name"
	if wait_pidfiles 4; then
		kill "-$name" "$dsmpid"
	else
		stop_job
	fi
	conclude "SIG$name to dsm" "$code" "$text: ending the job"
done

# ---- e. a host that does not resolve -----------------------------------
# (dsm starts it through ssh in both variants: DSM_SSH if set, else plain
# ssh; with srun, Slurm places the nodes and -H is a usage error)
if [ -z "$srun" ]; then
	echo nonexistent-host.invalid >"$tmp/badhosts"
	launch bad-host -- -T 10 -H "$tmp/badhosts" -n 2 ./linger "$tmp/run/bad-host"
	t0=$SECONDS
	finish
	if [ "$status" -eq 0 ]; then
		fail_because "expected a non-zero exit"
	elif [ "$status" -eq 124 ] || [ $((SECONDS - t0)) -ge 20 ]; then
		fail_because "took $((SECONDS - t0)) s (expected well under 20 s)"
	fi
	expect_stderr 'nonexistent-host\.invalid'
	expect_gone
	report "host that does not resolve"
else
	# ---- e'. srun that cannot start the step: a job that does not exist;
	# dsm says so, after srun's own message, and exits with srun's status
	# at once (not after the join deadline)
	launch bad-srun DSM_SRUN="srun --jobid=999999" -- "${hostargs[@]}" \
		-n 2 ./linger "$tmp/run/bad-srun"
	t0=$SECONDS
	finish
	[ $((SECONDS - t0)) -lt 20 ] || fail_because "took $((SECONDS - t0)) s (expected well under 20 s)"
	expect_status 1
	expect_stderr '^srun: error: Unable to confirm allocation for job 999999'
	expect_stderr '^dsm: node 0 could not be started: srun exited with status 1; see srun.s message above$'
	expect_gone
	report "srun that cannot start the step"
fi

# ---- f. a program that does not exist ----------------------------------
launch no-program -- "${hostargs[@]}" -n 2 ./no-such-program
conclude "program that does not exist" 2 'dsm: .*no-such-program'

# ---- g. garbage sent to the allocator's port ----------------------------
# once while the nodes are still joining (they start 3 s late, so the bytes
# go through the HELLO decoder) and once after all have joined
# shellcheck disable=SC2016 # $0 and $@ are for the wrapper's shell
late='/bin/sh -c '\''sleep 3; exec "$0" "$@"'\'
launch garbage DSM_WRAPPER="$late" -- "${hostargs[@]}" -v -n 4 ./linger "$tmp/run/garbage"
if wait_stderr 'nodes connect to ' && read -r host port <<<"$(port_of)"; then
	send_garbage "$host" "$port"
	wait_stderr "refused a connection from $host:[0-9]+: " ||
		fail_because "no 'refused a connection from $host:PORT: WHY' while joining"
	if wait_pidfiles 4; then
		send_garbage "$host" "$port"
		wait_stderr "refused a connection from $host:[0-9]+: all nodes have joined" ||
			fail_because "no 'refused a connection from $host:PORT: all nodes have joined'"
	fi
else
	fail_because "no 'nodes connect to HOST:PORT' on dsm's stderr"
fi
stop_job
finish
expect_status 0
expect_stderr 'refused a connection from 127\.0\.0\.1'
expect_all_done 4
expect_gone
report "garbage to the allocator's port"

# ---- h. a client with a wrong secret while the job is joining -----------
launch secret DSM_WRAPPER="$late" -- "${hostargs[@]}" -v -n 4 ./linger "$tmp/run/secret"
mkdir "$tmp/run/fake"
if wait_stderr 'nodes connect to ' && read -r host port <<<"$(port_of)"; then
	zeros=$(printf '0%.0s' {1..64})
	(cd "$bin" && DSM_SECRET=$zeros exec timeout 10 ./linger \
		"--dsm-node=1,4,$port,$host" "$tmp/run/fake") \
		</dev/null >"$tmp/run/fake.out" 2>"$tmp/run/fake.err" &
	fake=$!
	started+=("$fake")
	wait "$fake"
	fake_status=$?
	forget "$fake"
	if [ "$fake_status" -eq 0 ]; then
		fail_because "the node with a wrong secret exited 0"
	elif ! grep -q 'refused' "$tmp/run/fake.err"; then
		fail_because "the node with a wrong secret did not say dsm refused it"
	fi
	wait_stderr 'wrong job secret' || fail_because "no 'wrong job secret' on dsm's stderr"
	if wait_pidfiles 4; then
		# the job's secret, from a node's environment (never a command line)
		secret=$(tr '\0' '\n' <"/proc/${job_pids[0]}/environ" 2>/dev/null |
			sed -n 's/^DSM_SECRET=//p')
		if ! [[ $secret =~ ^[0-9a-f]{64}$ ]]; then
			fail_because "cannot read the job's secret from node 0's environment"
		else
			# every command line on this machine; the pattern goes through a
			# file so that grep's own command line does not hold it
			pids=("${job_pids[@]}" "$dsmpid")
			for pid in $(pgrep -f "$pattern"); do
				pids+=("$pid")
			done
			files=()
			for pid in "${pids[@]}"; do
				[ -r "/proc/$pid/cmdline" ] && files+=("/proc/$pid/cmdline")
			done
			# (grep's status is 2 when a process went away meanwhile)
			leak=$(grep -laF -f <(printf '%s\n' "$secret") \
				"${files[@]}" /proc/[0-9]*/cmdline 2>/dev/null)
			if [ "${#files[@]}" -lt 5 ]; then
				fail_because "cannot read the command lines of the job's processes"
			elif [ -n "$leak" ]; then
				fail_because "the job's secret is on a command line: $(echo "$leak" | tr '\n' ' ')"
			fi
		fi
		secret=
	fi
else
	fail_because "no 'nodes connect to HOST:PORT' on dsm's stderr"
fi
stop_job
finish
expect_status 0
expect_all_done 4
expect_gone
report "wrong secret while joining"

# ---- i. a node that segfaults outside the region -------------------------
launch segv -- "${hostargs[@]}" -n 4 ./segv
conclude "segv outside the region" 139 'node 3 \(.*\) killed by signal 11'

