#!/bin/sh
# Quick start: install the build dependencies, build Trosyn, then run the
# hub's main job on loopback with a demo node: a throwaway state dir, one
# enrolled node, sample records and a file published on the hub; the node
# discovers the hub by multicast, syncs the records into its replica and
# the file into its files directory over TLS 1.3, fetches the file by its
# hash, pushes a change back, and runs as a service long enough for the
# fleet view to show it online with zero lag.  Everything it starts it
# stops, unless --keep is given; it exits 0 when every step worked and 1
# with the failed step otherwise.
set -eu

keep=0
[ "${1:-}" = "--keep" ] && keep=1

cd "$(dirname "$0")/.."
top=$(pwd)
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "quickstart: $*" >&2; exit 1; }

step "installing build dependencies"
sh scripts/install-deps.sh build
step "building"
[ -x configure ] || autoreconf -fi
mkdir -p _build/quickstart
cd _build/quickstart
[ -f Makefile ] || "$top/configure" --quiet
make -j"${JOBS:-2}" >/dev/null
make -j"${JOBS:-2}" tests/tools/freeports >/dev/null
./trosyn-hubd --version

demo=$(mktemp -d "${TMPDIR:-/tmp}/trosyn-demo.XXXXXX")
hub_pid=""
run_pid=""
cleanup() {
	if [ -n "$run_pid" ]; then
		kill "$run_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	if [ -n "$hub_pid" ] && [ "$keep" -eq 0 ]; then
		kill "$hub_pid" 2>/dev/null || true
		wait "$hub_pid" 2>/dev/null || true
	fi
	[ "$keep" -eq 1 ] || rm -rf "$demo"
}
trap cleanup EXIT

step "creating a demo hub in $demo"
./trosyn-admin -d "$demo/state" init --site-id demo-site --hub-id demo-hub \
	--hub-name "Demo Hub"
./trosyn-admin -d "$demo/state" enroll demo-node --output "$demo/demo-node.json" \
	--name "Demo node"
# shellcheck disable=SC2046 # three port numbers
set -- $(./tests/tools/freeports 3)
cat >"$demo/hubd.conf" <<CONF
bind = 127.0.0.1
port = $1
file_port = $2
discovery_port = $3
# The demo stays on this machine: multicast over the loopback interface.
multicast_interface = 127.0.0.1
heartbeat_interval = 1

[collection documents]
read = child admin
write = child admin
conflict = hub-wins
CONF
port=$1
disc_port=$3

step "starting trosyn-hubd on 127.0.0.1:$port"
./trosyn-hubd -f -c "$demo/hubd.conf" -d "$demo/state" >"$demo/hub.log" 2>&1 &
hub_pid=$!
n=0
until grep -q "started:" "$demo/hub.log"; do
	n=$((n + 1))
	[ "$n" -le 100 ] || { cat "$demo/hub.log"; fail "the hub did not start"; }
	kill -0 "$hub_pid" 2>/dev/null || { cat "$demo/hub.log"; fail "the hub exited"; }
	sleep 0.1
done
cat "$demo/hub.log"

admin() { ./trosyn-admin -c "$demo/hubd.conf" -d "$demo/state" "$@"; }
# No --hub: the node finds the hub by multicast discovery.
client() {
	./trosyn-client -k "$demo/demo-node.json" -s "$demo/node" \
		--discovery-port "$disc_port" --multicast-interface 127.0.0.1 \
		--files-dir "$demo/files" "$@"
}

step "publishing sample records and a file on the hub"
admin publish documents welcome --data '{"title":"Welcome","body":"Synced over the LAN"}'
admin publish documents hours --data '{"title":"Opening hours","days":["Mon","Tue","Wed"]}'
printf 'Trosyn demo manual\nKeep this file in sync.\n' >"$demo/manual.txt"
admin publish documents manual --data '{"title":"Manual"}' --file "$demo/manual.txt"
sha=$(sha256sum "$demo/manual.txt" | cut -c1-64)

step "the demo node discovers the hub (signed multicast on loopback)"
client discover || fail "no hub answered the discovery"

step "the demo node syncs (TLS 1.3, psk login with mutual proof, pull, files)"
mkdir -p "$demo/files"
client sync || fail "the demo node could not sync"
client list documents
cmp -s "$demo/manual.txt" "$demo/files/manual.txt" ||
	fail "the published file did not reach the node's files directory"
echo "files/manual.txt arrived intact"

step "the demo node fetches the file by its hash (AES-256-GCM chunks)"
client fetch "$sha" --output "$demo/manual.copy" || fail "fetch failed"
cmp -s "$demo/manual.txt" "$demo/manual.copy" || fail "the fetched file differs"
echo "fetched $sha intact"

step "the node changes a record locally and pushes it"
client put documents hours --data '{"title":"Opening hours","days":["Mon","Tue","Wed","Thu"]}'
client sync || fail "the push failed"
admin records documents
admin records documents --json | grep -q '"Thu"' || fail "the hub did not get the change"

step "the demo node runs as a service: heartbeats and periodic sync"
# Started directly (not through the shell function) so that $! is its pid.
./trosyn-client -k "$demo/demo-node.json" -s "$demo/node" \
	--discovery-port "$disc_port" --multicast-interface 127.0.0.1 \
	--files-dir "$demo/files" run --interval 2 2>"$demo/run.log" &
run_pid=$!
n=0
until admin nodes --json | tr -d ' \n' | grep -q '"state":"online".*"lag":0,'; do
	n=$((n + 1))
	[ "$n" -le 100 ] || { cat "$demo/run.log"; fail "the node did not show up online with zero lag"; }
	kill -0 "$run_pid" 2>/dev/null || { cat "$demo/run.log"; fail "trosyn-client run exited"; }
	sleep 0.1
done

step "fleet view"
admin nodes
admin status
kill "$run_pid"
wait "$run_pid" || fail "trosyn-client run did not exit cleanly"
run_pid=""

if [ "$keep" -eq 1 ]; then
	step "the hub keeps running (pid $hub_pid); state in $demo"
	echo "stop it with: kill $hub_pid"
else
	step "stopping the hub"
	kill "$hub_pid"
	wait "$hub_pid" || fail "the hub did not exit cleanly"
	hub_pid=""
	tail -n 2 "$demo/hub.log"
	echo "quickstart: OK"
fi
