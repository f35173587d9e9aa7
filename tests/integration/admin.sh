#!/bin/sh
# trosyn-admin against a real state dir and a running hub: init, enroll,
# revoke, nodes, sessions, status (text and --json), and its refusals.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

# shellcheck disable=SC2317 # called through t_expect_status
A() {
	"$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" "$@"
}

t_hub_setup "heartbeat_interval = 2"
mode() { stat -c %a "$1"; }

t_expect_status "init refuses an existing state dir" 1 A init --site-id s --hub-id h
t_expect_grep "init says why" "$T_DIR/err" "refusing to overwrite"
t_expect_status "init refuses a bad id" 2 "$ADMIN" -d "$T_DIR/other" init \
	--site-id "bad id" --hub-id h
t_check "state dir is 0700" test "$(mode "$T_DIR/state")" = 700
for f in site.key ca.key hub.key hub.db; do
	t_check "$f is 0600" test "$(mode "$T_DIR/state/$f")" = 600
done
t_check "ca.pem is 0644" test "$(mode "$T_DIR/state/ca.pem")" = 644

t_expect_status "enroll psk" 0 A enroll node-1 --output "$T_DIR/n1.json" --name "Front desk"
t_check "credentials are 0600" test "$(mode "$T_DIR/n1.json")" = 600
for k in site_id node_id node_name method roles site_key hub_cert_sha256 node_key; do
	t_expect_grep "psk credentials have $k" "$T_DIR/n1.json" "\"$k\":"
done
t_expect_status "enroll certificate" 0 A enroll node-c --output "$T_DIR/nc.json" \
	--method certificate --role admin
for k in cert_pem key_pem ca_pem; do
	t_expect_grep "certificate credentials have $k" "$T_DIR/nc.json" "\"$k\":"
done
if grep -q '"node_key"' "$T_DIR/nc.json"; then
	t_fail "certificate credentials carry no node_key" "found"
else
	t_ok "certificate credentials carry no node_key"
fi
t_expect_status "enroll of a taken id" 1 A enroll node-1 --output "$T_DIR/dup.json"
t_expect_grep "taken id is named" "$T_DIR/err" "already enrolled"
t_check "no credentials for a refused enroll" test ! -e "$T_DIR/dup.json"
t_expect_status "enroll does not overwrite a file" 1 A enroll node-2 --output "$T_DIR/n1.json"
t_expect_status "enroll of a bad role" 2 A enroll node-3 --output "$T_DIR/n3.json" --role root
t_expect_status "enroll of a bad method" 2 A enroll node-3 --output "$T_DIR/n3.json" --method ssh
t_expect_status "enroll of a bad id" 2 A enroll "../x" --output "$T_DIR/n3.json"
t_expect_status "refused enroll left no node" 0 A nodes --json
if grep -q '"node-3"\|"node-2"' "$T_DIR/out"; then t_fail "refused enroll left no node" "found"; else t_ok "no node-2/node-3"; fi

t_expect_status "nodes --json (hub down)" 0 A nodes --json
t_expect_grep "a new node was never seen" "$T_DIR/out" '"state":"never"'
t_expect_status "status --json (hub down)" 0 A status --json
t_expect_grep "status: not running" "$T_DIR/out" '"running":false'
t_expect_grep "status: ports from the config" "$T_DIR/out" "\"main\":$PORT"
t_expect_status "sessions --json (hub down) is empty" 0 A sessions --json
t_check "no sessions without a hub" test "$(tr -d ' \n' <"$T_DIR/out")" = "[]"

t_hub_start
t_probe "$T_DIR/p.out" --creds "$T_DIR/n1.json" --hold 4 &
held=$!
t_track "$held"
t_wait_for "$T_DIR/p.out" "login ok" 10
t_expect_status "status --json (hub up)" 0 A status --json
t_expect_grep "status: running" "$T_DIR/out" '"running":true'
t_expect_grep "status: hub id" "$T_DIR/out" '"hub_id":"hub-1"'
t_expect_grep "status: one session" "$T_DIR/out" '"sessions":1'
t_expect_grep "status: one node online" "$T_DIR/out" '"online":1'
t_expect_status "sessions --json" 0 A sessions --json
t_expect_grep "sessions lists the node" "$T_DIR/out" '"node_id":"node-1"'
t_expect_grep "sessions counts its connection" "$T_DIR/out" '"connections":1'
t_expect_grep "sessions shows the address" "$T_DIR/out" '"address":"127.0.0.1:'
t_expect_status "nodes --json" 0 A nodes --json
t_expect_grep "logged-in node is online" "$T_DIR/out" '"state":"online"'
t_expect_status "nodes (text)" 0 A nodes
t_expect_grep "nodes text has a header" "$T_DIR/out" "NODE"
t_expect_status "sessions (text)" 0 A sessions
t_expect_grep "sessions text lists the node" "$T_DIR/out" "node-1"
t_expect_status "status (text)" 0 A status
t_expect_grep "status text says running" "$T_DIR/out" "running"
wait "$held"

t_expect_status "revoke of an unknown node" 1 A revoke ghost
t_expect_grep "unknown node is named" "$T_DIR/err" "no such node"
t_expect_status "revoke" 0 A revoke node-1
t_expect_status "nodes after revoke" 0 A nodes --json
t_expect_grep "revoked flag" "$T_DIR/out" '"revoked":true'

sleep 7
t_expect_status "nodes later" 0 A nodes --json
t_expect_grep "silent node goes offline after 3 intervals" "$T_DIR/out" '"state":"offline"'

t_expect_status "unknown command" 2 A frobnicate
t_expect_status "help" 0 "$ADMIN" --help
t_hub_stop
t_done
