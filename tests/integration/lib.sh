# Shared helpers of the integration tests (sourced, POSIX sh).
# Each test gets a private temp dir that is removed on exit, and every
# process a test starts is recorded and stopped by PID.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
# shellcheck disable=SC2034 # used by the tests that source this file
HUBD="$top_builddir/trosyn-hubd"
# shellcheck disable=SC2034
ADMIN="$top_builddir/trosyn-admin"
# shellcheck disable=SC2034
PROBE="$top_builddir/tests/tools/trprobe"
FREEPORTS="$top_builddir/tests/tools/freeports"

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

# Pass when the command succeeds: t_check NAME CMD...
t_check() {
	name=$1
	shift
	if "$@"; then
		t_ok "$name"
	else
		t_fail "$name" "failed: $*"
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

# Wait until FILE contains STR, at most SECONDS (default 10); 0 when it did.
t_wait_for() {
	n=0
	limit=$(( ${3:-10} * 10 ))
	while [ "$n" -lt "$limit" ]; do
		if [ -f "$1" ] && grep -F -q -- "$2" "$1"; then
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# Pick free loopback ports: sets PORT, FILE_PORT and DISC_PORT.
t_ports() {
	ports=$("$FREEPORTS" 3) || { echo "freeports failed"; exit 99; }
	# shellcheck disable=SC2086 # three numbers, split on purpose
	set -- $ports
	PORT=$1 FILE_PORT=$2 DISC_PORT=$3
}

# Make a hub state dir $T_DIR/state with site-1/hub-1, and a config
# $T_DIR/hubd.conf on fresh ports with the extra lines given as arguments.
t_hub_setup() {
	t_ports
	"$ADMIN" -d "$T_DIR/state" init --site-id site-1 --hub-id hub-1 \
		--hub-name "Test Hub" >/dev/null || { echo "init failed"; exit 99; }
	{
		echo "bind = 127.0.0.1"
		echo "port = $PORT"
		echo "file_port = $FILE_PORT"
		echo "discovery_port = $DISC_PORT"
		echo "multicast_interface = 127.0.0.1"
		for line in "$@"; do
			echo "$line"
		done
	} >"$T_DIR/hubd.conf"
}

# Enroll NODE_ID with extra enroll flags; credentials in $T_DIR/NODE_ID.json.
t_enroll() {
	id=$1
	shift
	"$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" enroll "$id" \
		--output "$T_DIR/$id.json" "$@" >/dev/null ||
		{ echo "enroll $id failed"; exit 99; }
}

# Start the hub in the foreground (logging to $T_DIR/hub.log) and wait until it serves.
t_hub_start() {
	: >"$T_DIR/hub.log"
	"$HUBD" -f -c "$T_DIR/hubd.conf" -d "$T_DIR/state" \
		>>"$T_DIR/hub.log" 2>&1 &
	HUB_PID=$!
	t_track "$HUB_PID"
	if ! t_wait_for "$T_DIR/hub.log" "started:" 20; then
		echo "hub did not start:"
		cat "$T_DIR/hub.log"
		exit 99
	fi
}

# Stop the hub with SIGTERM; sets HUB_STATUS to its exit status.
t_hub_stop() {
	kill -TERM "$HUB_PID" 2>/dev/null
	wait "$HUB_PID"
	# shellcheck disable=SC2034 # read by the tests
	HUB_STATUS=$?
}

# Run the probe against the hub's main port: t_probe OUTFILE ARGS...
t_probe() {
	out=$1
	shift
	"$PROBE" --port "$PORT" "$@" >"$out" 2>&1
}

# Print the totals and exit with the right status.
t_done() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}
