# shellcheck shell=bash
# lib.sh - shell helpers the test runners share; sourced, not run.

# absolute_command CMD: print CMD as an absolute path (a path is made
# absolute, a bare name is looked up in PATH), or say why not on stderr and
# return 2. Runners chdir into their program directory, so they need it.
absolute_command() {
	case $1 in
	*/*)
		if [ ! -x "$1" ] || [ -d "$1" ]; then
			echo "$0: $1: not an executable file" >&2
			return 2
		fi
		echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
		;;
	*)
		if ! command -v "$1"; then
			echo "$0: $1: command not found" >&2
			return 2
		fi
		;;
	esac
}
