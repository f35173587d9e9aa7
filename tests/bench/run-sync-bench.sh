#!/bin/sh
# Sync benchmark: start a throwaway hub on free loopback ports, import
# PULL_N records of about 1 KB, then let tests/bench/bench_sync pull them
# into an empty replica and push PUSH_N records, each rate printed beside
# the raw SQLite insert rate of the same rows measured in the same run.
# Informational only: nothing here passes or fails on a time.
#
# usage: run-sync-bench.sh [BUILDDIR [PULL_N [PUSH_N]]]
#   BUILDDIR  where trosyn-hubd, trosyn-admin and tests/bench/bench_sync are (default .)
#   PULL_N    records to pull (default $PULL_N, else 100000)
#   PUSH_N    records to push (default $PUSH_N, else 20000)
# Environment: BATCH (pull batch_size, default 500), BENCH_TMPDIR (where the
# hub state and the replicas go; default $TMPDIR or /tmp: use a directory
# on the disk you want to measure, not a tmpfs), BENCH_WRAPPER (a command
# to run bench_sync under, e.g. "perf record -g -o /tmp/client.data --").

BUILD=${1:-.}
PULL_N=${2:-${PULL_N:-100000}}
PUSH_N=${3:-${PUSH_N:-20000}}
BATCH=${BATCH:-500}

HUBD="$BUILD/trosyn-hubd"
ADMIN="$BUILD/trosyn-admin"
BENCH="$BUILD/tests/bench/bench_sync"
FREEPORTS="$BUILD/tests/tools/freeports"

die() {
	echo "run-sync-bench: $*" >&2
	exit 2
}

case $PULL_N$PUSH_N$BATCH in
*[!0-9]*) die "PULL_N, PUSH_N and BATCH must be numbers" ;;
esac
if [ "$BATCH" -lt 1 ] || [ "$BATCH" -gt 1000 ]; then
	die "BATCH must be 1..1000"
fi
for f in "$HUBD" "$ADMIN" "$BENCH"; do
	[ -x "$f" ] || die "$f is missing: run 'make bench' (or make it first)"
done
if [ ! -x "$FREEPORTS" ]; then
	make -C "$BUILD" tests/tools/freeports >/dev/null ||
		die "cannot build tests/tools/freeports"
fi

W=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/trosyn-bench.XXXXXX") ||
	die "cannot make a temp dir"
HUB_PID=""

cleanup() {
	if [ -n "$HUB_PID" ]; then
		kill -TERM "$HUB_PID" 2>/dev/null
		wait "$HUB_PID" 2>/dev/null
		HUB_PID=""
	fi
	rm -rf "$W"
}
trap cleanup EXIT
# Signals end the script through the EXIT trap, so the hub never outlives it
# (PIPE too: the output may go to a pager or head that quits early).
trap 'exit 129' HUP
trap 'exit 130' INT TERM
trap 'exit 141' PIPE

# Seconds since the epoch with a fraction where date(1) has %N.
now() {
	date +%s.%N | sed 's/\.N$//; s/\.%N$//'
}

# Seconds from $1 to $2, two decimals.
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

ports=$("$FREEPORTS" 3) || die "freeports failed"
# shellcheck disable=SC2086 # three numbers, split on purpose
set -- $ports
PORT=$1 FILE_PORT=$2 DISC_PORT=$3

A() { "$ADMIN" -c "$W/hubd.conf" -d "$W/state" "$@"; }

"$ADMIN" -d "$W/state" init --site-id bench-site --hub-id hub-1 \
	--hub-name "Bench Hub" >/dev/null || die "trosyn-admin init failed"
cat >"$W/hubd.conf" <<EOF
bind = 127.0.0.1
port = $PORT
file_port = $FILE_PORT
discovery_port = $DISC_PORT
batch_size = $BATCH
max_batch = 1000

[collection bench]
read = child
write = child
EOF
A enroll bench-node --output "$W/bench-node.json" --role child >/dev/null ||
	die "trosyn-admin enroll failed"

: >"$W/hub.log"
"$HUBD" -f -c "$W/hubd.conf" -d "$W/state" >>"$W/hub.log" 2>&1 &
HUB_PID=$!
n=0
until grep -q "started:" "$W/hub.log"; do
	n=$((n + 1))
	if [ "$n" -gt 200 ] || ! kill -0 "$HUB_PID" 2>/dev/null; then
		cat "$W/hub.log" >&2
		die "the hub did not start"
	fi
	sleep 0.1
done
echo "hub: pid $HUB_PID on 127.0.0.1:$PORT; work dir: $W on $(stat -f -c %T "$W" 2>/dev/null || echo '?') file system"

# The records of bench_data() in tests/bench/bench_sync.c, as JSON Lines
# for trosyn-admin import (keep the two in step; bench_sync checks a few
# pulled records against its own copy).  Members are in canonical order.
if [ "$PULL_N" -gt 0 ]; then
	awk -v n="$PULL_N" 'BEGIN {
		s = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. "
		body = ""
		for (k = 0; k < 7; k++)
			body = body s
		for (i = 0; i < n; i++)
			printf "{\"id\":\"r%07d\",\"data\":{\"amount\":%d,\"body\":\"%s\",\"category\":\"cat-%d\",\"created\":\"2024-05-01T12:00:00.000Z\",\"n\":%d,\"tags\":[\"bench\",\"sync\",\"t%d\"],\"title\":\"Record %07d\"}}\n",
				i, (i % 100000) * 7919 % 100000, body, i % 16, i, i % 10, i
	}' >"$W/pull.jsonl" || die "cannot write the records"
	t0=$(now)
	A import bench "$W/pull.jsonl" >"$W/import.out" ||
		die "trosyn-admin import failed"
	t1=$(now)
	s=$(elapsed "$t0" "$t1")
	printf 'import   %7d records %7s s %8s rec/s   (trosyn-admin import, one transaction; information)\n' \
		"$PULL_N" "$s" "$(awk -v n="$PULL_N" -v s="$s" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }')"
	rm -f "$W/pull.jsonl"
fi

mkdir "$W/node" || die "cannot make $W/node"
# shellcheck disable=SC2086 # BENCH_WRAPPER is a command line, split on purpose
$BENCH_WRAPPER "$BENCH" -k "$W/bench-node.json" --hub "127.0.0.1:$PORT" \
	--hub-pid "$HUB_PID" -s "$W/node" --pull "$PULL_N" --push "$PUSH_N" \
	--batch "$BATCH"
status=$?

echo "hub log:"
grep -E "sync (pull|push):" "$W/hub.log" | sed 's/^/  /'
# The exit status is bench_sync's (0 or 1; never about speed).
[ "$status" -eq 0 ]
