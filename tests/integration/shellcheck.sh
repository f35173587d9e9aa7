#!/bin/sh
# Runs "shellcheck -x -s sh" on every shell script of the tree: scripts/, the init
# script made by make, the integration tests and their helpers, the
# benchmark runner and CI's entry point.  Skipped without shellcheck.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

if ! command -v shellcheck >/dev/null 2>&1; then
	echo "shellcheck not found: skipped"
	exit 77
fi
INIT=$(cd "$top_builddir/scripts" && pwd)/trosyn-hubd.init
# From the source tree, where the "source=" directives point.
cd "$top_srcdir" || exit 99
n=0
for f in scripts/*.sh tests/integration/*.sh tests/bench/*.sh .ci/run "$INIT"; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if shellcheck -x -s sh "$f" >"$T_DIR/sc.out" 2>&1; then
		t_ok "shellcheck $f"
	else
		t_fail "shellcheck $f" "$(cat "$T_DIR/sc.out")"
	fi
done
t_check "found the scripts ($n)" test "$n" -ge 10
t_done
