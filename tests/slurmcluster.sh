#!/usr/bin/env bash
# slurmcluster.sh - a private, throwaway Slurm cluster on this machine for
# the srun tests, and nothing else.
#
#   tests/slurmcluster.sh start DIR   munged with a fresh key, slurmctld and
#                                     slurmd (Debian's slurm-wlm), all with
#                                     their configuration, state, logs, key
#                                     and socket in DIR; this host the only
#                                     compute node, with CPUs for 8 tasks
#                                     (oversubscribed: the machine has
#                                     fewer), no cgroups; waits until the
#                                     node is idle. Clients need
#                                     SLURM_CONF=DIR/slurm.conf.
#   tests/slurmcluster.sh stop DIR    cancel what still runs, stop the three
#                                     daemons by the PIDs in DIR
#
# Needs root (munged, slurmctld and slurmd run as root here). Exits 77 when
# it cannot run at all (not root, packages missing), 1 when a daemon does
# not start (its log is shown). Nothing outside DIR is read or written but
# the packages' own files: no /etc/slurm, /etc/munge or system service.
set -eu

cmd=${1:?usage: slurmcluster.sh start|stop DIR}
dir=${2:?usage: slurmcluster.sh start|stop DIR}
export SLURM_CONF=$dir/slurm.conf

# stop_pid FILE: end the daemon whose PID FILE holds, and wait (5 s) for it
stop_pid() {
	local pid
	[ -s "$1" ] || return 0
	pid=$(cat "$1")
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# daemon_alive FILE: the daemon whose PID FILE holds runs (not a zombie)
daemon_alive() {
	local stat
	[ -s "$1" ] || return 1
	stat=$(cat "/proc/$(cat "$1")/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

case $cmd in
stop)
	if [ -s "$dir/slurmctld.pid" ] && command -v scancel >/dev/null; then
		timeout 10 scancel --quiet --full --signal=KILL --user=root 2>/dev/null || true
	fi
	stop_pid "$dir/slurmd.pid"
	stop_pid "$dir/slurmctld.pid"
	stop_pid "$dir/munged.pid"
	exit 0
	;;
start) ;;
*)
	echo "usage: slurmcluster.sh start|stop DIR" >&2
	exit 2
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	echo "slurmcluster.sh: must run as root (munged and slurmd run as root here)" >&2
	exit 77
fi
for prog in /usr/sbin/munged /usr/sbin/mungekey /usr/sbin/slurmctld /usr/sbin/slurmd; do
	if [ ! -x "$prog" ]; then
		echo "slurmcluster.sh: $prog is missing (packages munge, slurmctld, slurmd)" >&2
		exit 77
	fi
done
for prog in srun salloc sbatch scancel sinfo; do
	if ! command -v "$prog" >/dev/null; then
		echo "slurmcluster.sh: $prog is missing (package slurm-client)" >&2
		exit 77
	fi
done

mkdir -p "$dir/state" "$dir/spool"
# munged wants the socket's directory searchable by all, the key its own
chmod 711 "$dir"
mungekey --create --keyfile="$dir/munge.key" --force
chmod 600 "$dir/munge.key"
if ! munged --socket="$dir/munge.socket" --key-file="$dir/munge.key" \
	--pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
	--seed-file="$dir/munged.seed" --force; then
	cat "$dir/munged.log" >&2
	exit 1
fi

host=$(hostname -s)
for attempt in 1 2 3 4 5 6 7 8; do
	# below the kernel's ephemeral ports (32768 on), which other programs use
	port=$((20000 + RANDOM % 12000))
	cat >"$SLURM_CONF" <<EOF
ClusterName=dsmtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
KillWait=5
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
EOF
	rm -f "$dir/slurmctld.pid" "$dir/slurmd.pid"
	# -i: no state from an earlier run (there is none in a fresh DIR). Both
	# fork into the background before they bind their ports, so a port
	# taken shows as a daemon gone.
	if slurmctld -i -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF"; then
		# a bounded poll: set-up, not a protocol path
		for _ in $(seq 100); do
			if [ "$(timeout 2 sinfo -h -o %T 2>/dev/null)" = idle ]; then
				exit 0
			fi
			if ! daemon_alive "$dir/slurmctld.pid" || ! daemon_alive "$dir/slurmd.pid"; then
				break
			fi
			sleep 0.1
		done
	fi
	stop_pid "$dir/slurmd.pid"
	stop_pid "$dir/slurmctld.pid"
	if [ "$attempt" -eq 8 ]; then
		tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2
		stop_pid "$dir/munged.pid"
		exit 1
	fi
done
