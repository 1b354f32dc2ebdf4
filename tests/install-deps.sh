#!/usr/bin/env bash
# install-deps.sh - install what building and testing dsm needs, if missing
# (Debian/Ubuntu: apt-get). Called by `make demo` and by .ci/run.
set -eu

needed=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
# build: compiler, libbsd, pkg-config; tests: Criterion, clang + libFuzzer
# (the decoder fuzz target), the OpenSSH server and client (remote-node tests),
# man-db and groff-base (the manual pages render without warnings),
# libxml2-utils (xmllint: dsm-plot's SVG is well-formed), gnuplot-nox (the
# benchmark plot), m4 (the PARMACS test programs, tests/parmacs/*.C),
# slurm-wlm (slurmctld, slurmd, slurm-client) and munge (tests/slurm.sh: the
# srun launcher under a private Slurm, whose daemons tests/slurmcluster.sh
# starts with their own configuration; the packages' system services are not
# used)
for pkg in build-essential libbsd-dev libcriterion-dev pkg-config binutils \
	clang libclang-rt-dev openssh-client openssh-server procps man-db groff-base \
	libxml2-utils gnuplot-nox m4 slurm-wlm slurmctld slurmd slurm-client munge; do
	have_pkg "$pkg" || needed+=("$pkg")
done
if [ "${#needed[@]}" -eq 0 ]; then
	exit 0
fi
echo "dsm: installing ${needed[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${needed[@]}"
