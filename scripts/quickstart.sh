#!/bin/sh
# Quick start: install the build dependencies, build Trosyn, then run the
# hub's main job on loopback with a demo node: a throwaway state dir, one
# enrolled node, sample records published on the hub, the node syncing
# them into its replica over TLS 1.3 and pushing a change back, and the
# fleet view showing it online.  Everything it starts it stops, unless
# --keep is given.
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
cleanup() {
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

[collection documents]
read = child admin
write = child admin
conflict = hub-wins
CONF
port=$1

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
client() {
	./trosyn-client -k "$demo/demo-node.json" -s "$demo/node" \
		--hub "127.0.0.1:$port" "$@"
}

step "publishing sample records on the hub"
admin publish documents welcome --data '{"title":"Welcome","body":"Synced over the LAN"}'
admin publish documents hours --data '{"title":"Opening hours","days":["Mon","Tue","Wed"]}'
admin publish documents contacts --data '{"title":"Contacts","phone":"555-0100"}'

step "the demo node syncs (TLS 1.3, psk login with mutual proof, pull)"
client sync || fail "the demo node could not sync"
client list documents

step "the node changes a record locally and pushes it"
client put documents hours --data '{"title":"Opening hours","days":["Mon","Tue","Wed","Thu"]}'
client sync || fail "the push failed"
admin records documents
admin records documents --json | grep -q '"Thu"' || fail "the hub did not get the change"

step "fleet view"
./trosyn-admin -c "$demo/hubd.conf" -d "$demo/state" nodes
./trosyn-admin -c "$demo/hubd.conf" -d "$demo/state" status
./trosyn-admin -c "$demo/hubd.conf" -d "$demo/state" nodes --json |
	grep -q '"state":"online"' || fail "the demo node is not online"

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
