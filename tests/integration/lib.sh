# Shared helpers of the integration tests (sourced, POSIX sh).
# Each test gets a private temp dir that is removed on exit, and every
# process a test starts is recorded and stopped by PID.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
# shellcheck disable=SC2034 # used by the tests that source this file
HUBD="$top_builddir/trosyn-hubd"

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/trosyn-it.XXXXXX") || exit 99
T_PIDS=""
T_FAILED=0
T_PASSED=0

# Stop every process we started, then remove the temp dir.
t_cleanup() {
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $T_PIDS; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# Record a background PID for cleanup.
t_track() {
	T_PIDS="$T_PIDS $1"
}

# Report one check: t_ok NAME or t_fail NAME WHY.
t_ok() {
	T_PASSED=$((T_PASSED + 1))
	echo "ok - $1"
}
t_fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $1: $2"
}

# Run a command, expecting exit status WANT; stdout/stderr go to $T_DIR/out, $T_DIR/err.
# usage: t_expect_status NAME WANT CMD...
t_expect_status() {
	name=$1 want=$2
	shift 2
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		t_ok "$name"
	else
		t_fail "$name" "exit $got, wanted $want; stderr: $(head -c 300 "$T_DIR/err")"
	fi
}

# Check that FILE contains the fixed string STR.
# usage: t_expect_grep NAME FILE STR
t_expect_grep() {
	if grep -F -q -- "$3" "$2"; then
		t_ok "$1"
	else
		t_fail "$1" "'$3' not in $(head -c 300 "$2")"
	fi
}

# Print the totals and exit with the right status.
t_done() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}
