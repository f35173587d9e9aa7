#!/bin/sh
# Run bench_transfer: the two TLS references, then a 1 GiB (SIZE bytes)
# upload and fetch through a throwaway hub on loopback.  Usage:
#   sh tests/bench/run-transfer-bench.sh BUILDDIR [SIZE]
set -eu

build=${1:-.}
size=${2:-${SIZE:-1073741824}}
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/trosyn-xbench.XXXXXX")
hub_pid=""
cleanup() {
	if [ -n "$hub_pid" ]; then
		kill "$hub_pid" 2>/dev/null || true
		wait "$hub_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$build/trosyn-admin" -d "$tmp/state" init --site-id bench-site --hub-id bench-hub >/dev/null
# shellcheck disable=SC2046 # three port numbers
set -- $("$build/tests/tools/freeports" 3)
cat >"$tmp/hubd.conf" <<CONF
bind = 127.0.0.1
port = $1
file_port = $2
discovery_port = $3
multicast_interface = 127.0.0.1
max_file_size = 17179869184
[collection bench]
read = child
write = child
CONF
"$build/trosyn-admin" -c "$tmp/hubd.conf" -d "$tmp/state" enroll bench-node \
	--role child --output "$tmp/node.json" >/dev/null
"$build/trosyn-hubd" -f -c "$tmp/hubd.conf" -d "$tmp/state" >"$tmp/hub.log" 2>&1 &
hub_pid=$!
n=0
until grep -q "started:" "$tmp/hub.log"; do
	n=$((n + 1))
	[ "$n" -le 100 ] || { cat "$tmp/hub.log"; exit 1; }
	sleep 0.1
done
echo "file system of $tmp: $(stat -f -c %T "$tmp")"
head -c "$size" /dev/urandom >"$tmp/file.bin"
"$build/tests/bench/bench_transfer" --size "$size" --hub 127.0.0.1 --port "$1" \
	--file-port "$2" --creds "$tmp/node.json" --state "$tmp/node" --file "$tmp/file.bin"
grep "transfer " "$tmp/hub.log" || true
