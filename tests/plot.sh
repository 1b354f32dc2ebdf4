#!/usr/bin/env bash
# plot.sh - check dsm-plot: draw the log of a real run, and reject bad logs.
#
# usage: tests/plot.sh DSM PROGDIR PLOT
#
#   DSM      the dsm binary
#   PROGDIR  directory holding the built test programs (build/tests)
#   PLOT     the dsm-plot binary
#
# Runs `DSM -n 4 -l LOG PROGDIR/falseshare`, draws LOG with PLOT and checks
# the SVG is well-formed XML (xmllint, else python3), has the lanes "node 0"
# to "node 3" and at least one heatmap cell; then that malformed logs exit 2
# naming the bad line and leave no picture, and that an empty log gives a
# well-formed picture saying "no actions". One line per check: "ok   plot
# what" or "FAIL plot what (why)". The last line is "P passed, F failed"; the
# exit status is 0 iff nothing failed.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
runner_args 3 3 "DSM PROGDIR PLOT" "$@"
absolute_command "$progdir/falseshare" >/dev/null || exit 2
plot=$(absolute_command "$3") || exit 2
runner_tmp plot

# ok WHAT; fail WHAT WHY (with the end of what dsm-plot said)
ok() {
	result_ok "plot $1"
}
fail() {
	result_fail "plot $1 ($2)" "$tmp/err"
}

# wellformed FILE: succeeds iff FILE is well-formed XML
wellformed() {
	if command -v xmllint >/dev/null 2>&1; then
		xmllint --noout "$1" 2>>"$tmp/err"
	else
		python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" 2>>"$tmp/err"
	fi
}

# a real log: four nodes writing their own words of one shared page
: >"$tmp/err"
if timeout -k 5 120 "$dsm" -n 4 -l "$tmp/log" "$progdir/falseshare" >/dev/null 2>"$tmp/err" &&
	grep -q ' write-fault ' "$tmp/log"; then
	ok "falseshare N=4 writes a log"
else
	fail "falseshare N=4 writes a log" "dsm failed or the log has no write-fault"
fi

: >"$tmp/err"
if "$plot" "$tmp/log" -o "$tmp/t.svg" 2>"$tmp/err" && [ ! -s "$tmp/err" ] && [ -s "$tmp/t.svg" ]; then
	ok "draws the log"
else
	fail "draws the log" "exit status or stderr"
fi

: >"$tmp/err"
if [ -s "$tmp/t.svg" ] && wellformed "$tmp/t.svg"; then
	ok "the SVG is well-formed"
else
	fail "the SVG is well-formed" "xml parser"
fi

: >"$tmp/err"
missing=
for k in 0 1 2 3; do
	grep -q ">node $k</text>" "$tmp/t.svg" 2>/dev/null || missing+=" $k"
done
if [ -z "$missing" ]; then
	ok "lanes node 0 to node 3"
else
	fail "lanes node 0 to node 3" "no label for node$missing"
fi

if grep -q 'class="cell"' "$tmp/t.svg" 2>/dev/null; then
	ok "heatmap has cells"
else
	fail "heatmap has cells" "no class=\"cell\" element"
fi

if grep -q 'Busiest page: ' "$tmp/t.svg" 2>/dev/null && grep -q 'Faults: ' "$tmp/t.svg"; then
	ok "summary"
else
	fail "summary" "no 'Faults:' or 'Busiest page:'"
fi

# rejected LINE NAME CONTENT: dsm-plot must exit 2, name line LINE, write nothing
rejected() {
	local line=$1 name=$2 status
	printf '%b' "$3" >"$tmp/bad.log"
	rm -f "$tmp/bad.svg"
	: >"$tmp/err"
	"$plot" "$tmp/bad.log" -o "$tmp/bad.svg" 2>"$tmp/err"
	status=$?
	if [ "$status" -ne 2 ]; then
		fail "$name" "exit $status, not 2"
	elif ! grep -qF "dsm-plot: $tmp/bad.log:$line: " "$tmp/err"; then
		fail "$name" "the message does not name line $line"
	elif [ -e "$tmp/bad.svg" ]; then
		fail "$name" "a picture was written"
	else
		ok "$name"
	fi
}

header='# dsm log 1: time node action page peer micros\n'
good='1795320045.008160 2 write-fault 0 0 94\n'
rejected 3 "3 columns" "$header$good"'1795320045.008161 2 barrier\n'
rejected 2 "non-numeric page" "$header"'1795320045.008160 2 write-fault x1 0 94\n'"$good"
rejected 4 "node id 1024" "$header$good$good"'1795320045.008160 1024 join - - -\n'
rejected 2 "line over 1024 bytes" "$header""1795320045.008160 2 join - - $(printf '%*s' 1020 '')-\n"

# an empty log: only the header
printf '%b' "$header" >"$tmp/empty.log"
: >"$tmp/err"
if "$plot" "$tmp/empty.log" -o "$tmp/empty.svg" 2>"$tmp/err" && wellformed "$tmp/empty.svg" &&
	grep -q 'no actions' "$tmp/empty.svg"; then
	ok "empty log"
else
	fail "empty log" "exit status, XML, or no 'no actions'"
fi

# no -o: traffic.svg in the current directory; no LOG: a usage error
: >"$tmp/err"
if (cd "$tmp" && "$plot" log 2>"$tmp/err") && wellformed "$tmp/traffic.svg"; then
	ok "default output traffic.svg"
else
	fail "default output traffic.svg" "not written"
fi
: >"$tmp/err"
"$plot" 2>"$tmp/err"
status=$?
if [ "$status" -eq 2 ] && grep -q '^dsm-plot: ' "$tmp/err"; then
	ok "usage error"
else
	fail "usage error" "exit $status, not 2"
fi

results_line
