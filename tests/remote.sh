#!/usr/bin/env bash
# remote.sh - the tests that start nodes through ssh, against a private sshd
# (tests/sshd.sh) on 127.0.0.2-127.0.0.5, and the failure tests both ways.
#
# usage: tests/remote.sh DSM PROGDIR
#
# Runs, passing their output through:
#   - tests/integration.sh at 4 and 8 nodes with -H HOSTS (label "ssh");
#   - tests/failures.sh with HOSTS (remote nodes) and without (local nodes);
#   - tests/launch.sh with HOSTS (what remote nodes read on stdin).
# Needs root and openssh-server (sshd must switch users); without them it
# says so and counts one failure, since CI provides both. The sshd is always
# stopped at the end. The last line is "P passed, F failed", summing every
# suite; the exit status is 0 iff nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
runner_args 2 2 "DSM PROGDIR" "$@"

if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/sshd ]; then
	echo "remote tests need root and openssh-server"
	echo "0 passed, 1 failed"
	exit 1
fi

# always: end a suite still running, stop the sshd (even one half started);
# runner_exit then removes its keys
cleanup() {
	suite_end
	"$here/sshd.sh" stop "$tmp"
}
runner_tmp remote

if ! "$here/sshd.sh" start "$tmp"; then
	echo "remote tests: cannot start the test sshd"
	echo "0 passed, 1 failed"
	exit 1
fi
hosts=$tmp/hosts
printf '127.0.0.%s\n' 2 3 4 5 >"$hosts"
export DSM_SSH="ssh -F $tmp/ssh_config"

suite "integration (ssh)" env DSM_TEST_ARGS="-H $hosts" DSM_TEST_NODES="4 8" \
	"$here/integration.sh" "$dsm" "$progdir" ssh
suite "failures (remote nodes)" "$here/failures.sh" "$dsm" "$progdir" "$hosts"
suite "failures (local nodes)" "$here/failures.sh" "$dsm" "$progdir"
suite "launch (remote nodes)" "$here/launch.sh" "$dsm" "$progdir" "$hosts"

results_line
