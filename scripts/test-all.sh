#!/bin/sh
# Install every build and test dependency (Debian 12, as root), then build and
# run the whole test suite: make check, an ASan+UBSan make check, make distcheck.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-2}

sh scripts/install-deps.sh test

autoreconf -fi

summary=""
# Run make check in build dir $1 configured with the remaining arguments.
run_check() {
	dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" "$@" && make -j"$jobs" && make -j"$jobs" check) ||
		{ tail -n 80 "$dir/test-suite.log" 2>/dev/null; exit 1; }
	p=$(sed -n 's/^# PASS: *//p' "$dir/test-suite.log")
	f=$(sed -n 's/^# FAIL: *//p' "$dir/test-suite.log")
	summary="$summary$dir: $p passed, $f failed
"
}

run_check _build/plain
run_check _build/asan --enable-asan
(cd _build/plain && make -j"$jobs" distcheck)
# The README's first command, unattended: the live demo must run to the end.
sh scripts/quickstart.sh >_build/quickstart.log 2>&1 ||
	{ tail -n 40 _build/quickstart.log; echo "test-all: the quickstart demo failed"; exit 1; }
summary="${summary}quickstart demo: OK
"

printf '%s' "$summary"
total_p=0
total_f=0
for dir in _build/plain _build/asan; do
	total_p=$((total_p + $(sed -n 's/^# PASS: *//p' "$dir/test-suite.log")))
	total_f=$((total_f + $(sed -n 's/^# FAIL: *//p' "$dir/test-suite.log")))
done
echo "$total_p passed, $total_f failed"
