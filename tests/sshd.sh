#!/usr/bin/env bash
# sshd.sh - a private sshd for the remote-node tests, and nothing else.
#
#   tests/sshd.sh start DIR   generate throwaway host and user keys in DIR,
#                             start /usr/sbin/sshd on a free port listening on
#                             127.0.0.2-127.0.0.5 only, and write
#                             DIR/ssh_config for `ssh -F DIR/ssh_config`
#   tests/sshd.sh stop DIR    stop that sshd (by the PID in DIR/sshd.pid)
#
# Needs root (sshd must switch users) and /usr/sbin/sshd. Nothing outside
# DIR is changed except /run/sshd, which this kind of machine needs to exist.
# Keys are made fresh every time and never leave DIR.
set -eu

cmd=${1:?usage: sshd.sh start|stop DIR}
dir=${2:?usage: sshd.sh start|stop DIR}

case $cmd in
stop)
	if [ -f "$dir/sshd.pid" ]; then
		pid=$(cat "$dir/sshd.pid")
		kill "$pid" 2>/dev/null || true
		# wait for it to go, so the port and the PID file are released
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	exit 0
	;;
start) ;;
*)
	echo "usage: sshd.sh start|stop DIR" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "sshd.sh: must run as root to start sshd" >&2
	exit 77
fi
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
	echo "sshd.sh: openssh-server and openssh-client are needed" >&2
	exit 77
fi
mkdir -p "$dir" /run/sshd
chmod 700 "$dir"
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519" -C dsm-test-host
ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519" -C dsm-test-user
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"

for attempt in 1 2 3 4 5 6 7 8; do
	port=$((20000 + RANDOM % 30000))
	{
		echo "Port $port"
		for h in 2 3 4 5; do echo "ListenAddress 127.0.0.$h"; done
		echo "HostKey $dir/host_ed25519"
		echo "PidFile $dir/sshd.pid"
		echo "AuthorizedKeysFile $dir/authorized_keys"
		echo "StrictModes no"
		echo "UsePAM no"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "PermitRootLogin prohibit-password"
		echo "PrintMotd no"
		echo "LogLevel ERROR"
		echo "MaxStartups 64:30:128"
		echo "MaxSessions 64"
	} >"$dir/sshd_config"
	rm -f "$dir/sshd.pid"
	if /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"; then
		for _ in $(seq 50); do
			[ -s "$dir/sshd.pid" ] && break
			sleep 0.1
		done
		if [ -s "$dir/sshd.pid" ]; then
			break
		fi
	fi
	[ "$attempt" -lt 8 ] || { cat "$dir/sshd.log" >&2; exit 1; }
done

{
	echo "Host 127.0.0.*"
	echo "  Port $port"
	echo "  User $(id -un)"
	echo "  IdentityFile $dir/id_ed25519"
	echo "  IdentitiesOnly yes"
	echo "  UserKnownHostsFile /dev/null"
	echo "  StrictHostKeyChecking no"
	echo "  BatchMode yes"
	echo "  LogLevel ERROR"
} >"$dir/ssh_config"

# wait until it answers on every address
for h in 2 3 4 5; do
	ok=
	for _ in $(seq 50); do
		if ssh -F "$dir/ssh_config" "127.0.0.$h" true 2>/dev/null; then
			ok=1
			break
		fi
		sleep 0.1
	done
	[ -n "$ok" ] || { echo "sshd.sh: 127.0.0.$h:$port does not answer" >&2; cat "$dir/sshd.log" >&2; exit 1; }
done
