#!/usr/bin/env bash
# logactions.sh - check that docs/protocol.md names exactly the dsm -l log
# actions that exist: the list in common/logactions.h (LOG_ACTIONS, lines
# `X(ID, "name")`).
#
# usage: tests/logactions.sh [ROOT]      (default: the tree above tests/)
#
# The document names an action in one of three ways (the convention is
# stated in docs/protocol.md, "The `dsm -l` log"):
#   - the first column of the log table in that section: | `name` | ...
#   - in a diagram, after "log:", as in   log: read-fault peer=W
#   - in prose, as log `name`, logs `name` or logged `name`
# (action names are lowercase letters, digits and '-': "log `NAME`" is not one)
# Both directions are checked: every action in the list has a row in the
# table, and every name the document uses (table, diagrams, prose) is in the
# list. Prints what is wrong; the last line says how many actions agree. Exit
# status 0 iff they all do, 1 if not, 2 if a file is missing or yields nothing.
set -u

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
header=$root/common/logactions.h
doc=$root/docs/protocol.md
for f in "$header" "$doc"; do
	if [ ! -r "$f" ]; then
		echo "logactions.sh: $f: cannot read" >&2
		exit 2
	fi
done

# the list: every X(ID, "name") in the body of #define LOG_ACTIONS(X), which
# ends at the first line without a continuation backslash
enum=$(awk '/^#define LOG_ACTIONS\(X\)/ { on = 1 } on { print } on && !/\\$/ { exit }' "$header" |
	grep -oE 'X\([A-Z0-9_]+, *"[^"]*"\)' | sed -E 's/.*"(.*)"\)$/\1/' | sort)
# the table: first column of the rows in the log section (up to the next ## heading)
table=$(awk '/^## The `dsm -l` log/ { on = 1; next } /^## / { on = 0 } on' "$doc" |
	sed -n 's/^| `\([^`]*\)` |.*/\1/p' | sort)
# every other mention
diagrams=$(grep -o 'log: [a-z][a-z0-9-]*' "$doc" | sed 's/^log: //' | sort -u)
prose=$(grep -oE '\blog(s|ged)? `[a-z][a-z0-9-]*`' "$doc" | sed -E 's/^[a-z]+ `(.*)`$/\1/' | sort -u)

if [ -z "$enum" ] || [ -z "$table" ]; then
	echo "logactions.sh: no actions found in $header or no log table in $doc" >&2
	exit 2
fi

bad=0
# report WHAT LIST: each name of LIST (one a line) that the enum does not have
not_in_enum() {
	local name
	while IFS= read -r name; do
		[ -n "$name" ] || continue
		if ! grep -qxF -- "$name" <<<"$enum"; then
			echo "FAIL docs/protocol.md: $1 names '$name', which is not in common/logactions.h"
			bad=$((bad + 1))
		fi
	done <<<"$2"
}

dups=$(uniq -d <<<"$enum")
if [ -n "$dups" ]; then
	echo "FAIL common/logactions.h: listed twice:" $dups
	bad=$((bad + 1))
fi
dups=$(uniq -d <<<"$table")
if [ -n "$dups" ]; then
	echo "FAIL docs/protocol.md: the log table has more than one row for:" $dups
	bad=$((bad + 1))
fi
while IFS= read -r name; do
	if ! grep -qxF -- "$name" <<<"$table"; then
		echo "FAIL docs/protocol.md: the log table has no row for '$name' (common/logactions.h)"
		bad=$((bad + 1))
	fi
done <<<"$enum"
not_in_enum "the log table" "$table"
not_in_enum "a diagram (log:)" "$diagrams"
not_in_enum "the text (log \`...\`)" "$prose"

n=$(wc -l <<<"$enum")
if [ "$bad" -ne 0 ]; then
	echo "$bad mismatches between docs/protocol.md and the $n actions of common/logactions.h"
	exit 1
fi
echo "the $n log actions of common/logactions.h are the ones docs/protocol.md names"
