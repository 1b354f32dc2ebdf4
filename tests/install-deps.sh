#!/usr/bin/env bash
# install-deps.sh - install what building and testing dsm needs, if missing
# (Debian/Ubuntu: apt-get). Called by `make demo` and by .ci/run.
set -eu

needed=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for pkg in build-essential libbsd-dev libcriterion-dev pkg-config binutils; do
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
