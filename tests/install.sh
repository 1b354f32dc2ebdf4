#!/usr/bin/env bash
# install.sh - `make install` into a scratch PREFIX, then check what it
# installed: every file in its place; libsm, shared and static, exporting
# exactly the functions the installed sm.h and sm_parmacs.h declare, and
# sigaction and signal (client/sigchain.c); PARMACS programs built from the
# installed files the two ways dsm-porting(7) shows (m4 with the installed
# macro file, then dsmcc or pkg-config) running under the installed dsm; and
# `make uninstall` removing every file again.
#
# usage: tests/install.sh BUILD_DIR    (built already: `make install` finds
#                                       everything up to date)
#
# One line per check: "ok   install: ..." or "FAIL install: ..." with what
# went wrong. The last line is "P passed, F failed"; the exit status is 0
# iff nothing failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
want_args 1 1 "BUILD_DIR" $#
build=$1
runner_tmp install
prefix=$tmp/prefix
log=$tmp/log

# make_in_tree TARGET...: make in the source tree with this build directory,
# as a command of its own (not part of a make that may be running this)
make_in_tree() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -C "$here/.." B="$build" PREFIX="$prefix" "$@" >"$log" 2>&1
}

# check TITLE COMMAND...: one check, passed when COMMAND succeeds; its
# output (in $log) is shown when it fails
check() {
	local title=$1
	shift
	if "$@" >"$log.check" 2>&1; then
		result_ok "install: $title"
	else
		result_fail "install: $title" "$log.check"
	fi
}

case $build in
/*) ;;
*) build=$(cd "$build" && pwd) || exit 2 ;;
esac

if ! make_in_tree install; then
	result_fail "install: make install" "$log"
	results_line
	exit
fi
result_ok "install: make install PREFIX=$prefix"

files=(bin/dsm bin/dsmcc bin/dsm-plot include/sm.h include/sm_parmacs.h
	share/dsm/c.m4.dsm lib/libsm.a lib/libsm.so lib/libsm.so.1 lib/pkgconfig/sm.pc
	share/man/man1/dsm.1 share/man/man3/sm.3 share/man/man5/dsm-hosts.5
	share/man/man7/dsm-porting.7)
installed_files() {
	local f
	for f in "${files[@]}"; do
		if [ ! -e "$prefix/$f" ]; then
			echo "missing: $f"
			return 1
		fi
	done
}
check "every file in its place (${#files[@]} looked for)" installed_files

# what the headers declare: lines that start with a return type and name an
# sm_ function (comments and macros start otherwise)
declared() {
	{
		grep -hoE '^[a-z][a-z_ ]*[ *]sm_[a-z0-9_]+\(' "$prefix/include/sm.h" \
			"$prefix/include/sm_parmacs.h" | grep -oE 'sm_[a-z0-9_]+'
		printf '%s\n' sigaction signal
	} | sort -u
}

# exports KIND FILE: the library's defined global symbols equal declared()
exports() {
	local got want
	want=$(declared)
	if [ "$1" = shared ]; then
		got=$(nm -D --defined-only "$2" | awk '{print $3}' | sort -u)
	else
		got=$(nm -g --defined-only "$2" | awk 'NF == 3 {print $3}' | sort -u)
	fi
	if [ "$got" != "$want" ]; then
		echo "exported but not declared:"
		comm -23 <(echo "$got") <(echo "$want") | sed 's/^/  /'
		echo "declared but not exported:"
		comm -13 <(echo "$got") <(echo "$want") | sed 's/^/  /'
		return 1
	fi
	echo "$(echo "$got" | wc -l) symbols"
}
check "libsm.so exports what sm.h and sm_parmacs.h declare" exports shared "$prefix/lib/libsm.so"
check "libsm.a exports what sm.h and sm_parmacs.h declare" exports static "$prefix/lib/libsm.a"

# parmacs_build NAME HOW: tests/parmacs/NAME.C through the installed macro
# file, compiled with the installed dsmcc or with pkg-config's flags, run
# at 2 nodes by the installed dsm: its line must say ok
parmacs_build() {
	local name=$1 how=$2 c=$tmp/$1.c exe=$tmp/$1 out
	m4 "$prefix/share/dsm/c.m4.dsm" "$here/parmacs/$name.C" >"$c" || return 1
	if [ "$how" = dsmcc ]; then
		"$prefix/bin/dsmcc" -O2 -Wall -Werror -I"$here/parmacs" "$c" -o "$exe" -lm || return 1
	else
		# shellcheck disable=SC2046 # pkg-config's flags are words
		${CC:-cc} -O2 -Wall -Werror -I"$here/parmacs" "$c" -o "$exe" \
			$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs sm) \
			-lm || return 1
	fi
	out=$(cd "$tmp" && timeout -k 5 120 "$prefix/bin/dsm" -n 2 "$exe" 2 </dev/null) || return 1
	echo "$out"
	grep -q "^parmacs-$name: ok: 2 processes" <<<"$out"
}
check "a PARMACS program built with m4 and the installed dsmcc" parmacs_build count dsmcc
check "a PARMACS program built with m4 and pkg-config sm" parmacs_build queue pkg-config

uninstalled() {
	make_in_tree uninstall || { cat "$log"; return 1; }
	local left
	left=$(find "$prefix" ! -type d)
	if [ -n "$left" ]; then
		echo "left behind:"
		echo "$left"
		return 1
	fi
}
check "make uninstall removes every file" uninstalled

results_line
