#!/usr/bin/env bash
# man.sh - check that every manual page in man/ renders without a warning:
# `man --warnings -l PAGE` at 80 columns must print nothing on stderr and
# exit 0, and the page must have a NAME and a SEE ALSO or EXAMPLES section.
# A page that is only `.so manN/OTHER.N` (another name for a page that covers
# several functions, e.g. sm_unlock.3 for sm_lock.3) must name a page in
# the same directory whose NAME line lists it.
#
# usage: tests/man.sh [MANDIR]      (default: man/ next to tests/)
#
# One line per page: "ok   man dsm.1" or "FAIL man dsm.1" followed by what
# man printed, indented. The last line is "P passed, F failed"; the exit
# status is 0 iff nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
want_args 0 1 "[MANDIR]" $#
dir=${1:-$here/../man}

if ! command -v man >/dev/null 2>&1; then
	echo "FAIL man: the man command is missing (apt-get install man-db groff-base)"
	echo "0 passed, 1 failed"
	exit 1
fi

for page in "$dir"/*.[1-9]; do
	[ -f "$page" ] || continue
	name=$(basename "$page")
	if [ "$(wc -l <"$page")" -eq 1 ] && grep -q '^\.so ' "$page"; then
		target=$(sed -n 's|^\.so man[1-9]/||p' "$page")
		func=${name%.*}
		if [ -n "$target" ] && [ -f "$dir/$target" ] &&
			grep -A1 '^\.SH NAME' "$dir/$target" | grep -Eq "(^|[ ,])$func(,| )"; then
			result_ok "man $name (.so $target)"
		else
			result_fail "man $name (.so to a page that is missing or does not name $func)"
		fi
		continue
	fi
	# stderr into the pipe, the rendered page thrown away
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	status=$?
	why=
	if [ "$status" -ne 0 ]; then
		why="man exited with status $status"
	elif [ -n "$warnings" ]; then
		why="warnings"
	elif ! grep -q '^\.SH NAME' "$page"; then
		why="no NAME section"
	elif ! grep -Eq '^\.SH (SEE ALSO|EXAMPLES)' "$page"; then
		why="no SEE ALSO or EXAMPLES section"
	fi
	if [ -z "$why" ]; then
		result_ok "man $name"
	else
		result_fail "man $name ($why)"
		printf '%s\n' "$warnings" | head -n 8 | sed 's/^/      /'
	fi
done

if [ $((passed + failed)) -eq 0 ]; then
	result_fail "man: no pages in $dir"
fi
results_line
