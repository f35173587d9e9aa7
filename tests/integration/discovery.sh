#!/bin/sh
# The hub's UDP side: discovery over unicast and over multicast on the
# loopback interface, every kind of bad datagram dropped without an answer,
# node heartbeats (online, figures, lag, replayed seq, revoked node,
# offline after 3 intervals), the 512-byte bound on all the hub sends,
# and the metrics (trosyn-admin metrics and the metrics port).
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

UDP="$top_builddir/tests/tools/trudp"
GROUP=239.255.77.77

# shellcheck disable=SC2317 # called through t_expect_status
A() {
	"$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" "$@"
}
# shellcheck disable=SC2317
U() {
	"$UDP" --port "$DISC_PORT" "$@"
}
# The value of metric line $1 (exact name with labels) in $T_DIR/metrics.
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$T_DIR/metrics"
}
scrape() {
	A metrics >"$T_DIR/metrics" 2>"$T_DIR/metrics.err"
}
# Collapse the JSON of nodes --json to one line in $T_DIR/nodes.
nodes_json() {
	A nodes --json | tr -d ' \n' >"$T_DIR/nodes"
}

mport=$("$FREEPORTS" 1)
t_hub_setup "heartbeat_interval = 1" "metrics_port = $mport" \
	"multicast_group = $GROUP" "log_level = debug" \
	"[collection docs]" "read = child admin" "write = admin child"
t_enroll n1 --role child
t_enroll n2 --role child
A publish docs d1 --data '{"v":1}' >/dev/null
A publish docs d2 --data '{"v":2}' >/dev/null
t_hub_start

# Capture what the hub sends from its discovery port while the test runs
# (a raw socket needs CAP_NET_RAW: skipped without it).
"$UDP" --port "$DISC_PORT" --timeout 6000 capture >"$T_DIR/capture" 2>&1 &
cap=$!
t_track "$cap"
t_wait_for "$T_DIR/capture" "captur" 5

# --- discovery ---
pin=$(sed -n 's/.*"hub_cert_sha256": *"\([0-9a-f]*\)".*/\1/p' "$T_DIR/n1.json")
t_expect_status "unicast discovery is answered" 0 U discover --creds "$T_DIR/n1.json"
t_expect_grep "answer names the main port" "$T_DIR/out" "\"port\":$PORT"
t_expect_grep "answer names the file port" "$T_DIR/out" "\"file_port\":$FILE_PORT"
t_expect_grep "answer carries the pinned certificate hash" "$T_DIR/out" "\"cert_sha256\":\"$pin\""
t_expect_grep "answer carries the load" "$T_DIR/out" '"load":0'
t_expect_grep "hub id is the source" "$T_DIR/out" '"source":{"node_id":"hub-1"}'
size=$(awk '$1 == "answer" { print $2 }' "$T_DIR/out")
t_check "answer within 512 bytes ($size)" test "${size:-999}" -le 512
t_expect_status "multicast discovery on loopback is answered" 0 \
	"$UDP" --port "$DISC_PORT" --group "$GROUP" --iface 127.0.0.1 discover --creds "$T_DIR/n1.json"
t_expect_grep "multicast answer verifies" "$T_DIR/out" "DISCOVERY_RESPONSE"

t_expect_status "oversized broadcast: no answer" 3 U discover --creds "$T_DIR/n1.json" --pad 400
size=$(awk '$1 == "sent" { print $2 }' "$T_DIR/out")
t_check "the oversized one was over 512 bytes ($size)" test "${size:-0}" -gt 512
t_expect_status "unsigned broadcast: no answer" 3 U discover --creds "$T_DIR/n1.json" --no-sig
t_expect_status "badly signed broadcast: no answer" 3 U discover --creds "$T_DIR/n1.json" --bad-sig
t_expect_status "broadcast for another site: no answer" 3 U discover --creds "$T_DIR/n1.json" --site other-site
t_expect_status "stale broadcast: no answer" 3 U discover --creds "$T_DIR/n1.json" --skew -301
t_expect_status "broadcast from the future: no answer" 3 U discover --creds "$T_DIR/n1.json" --skew 400
t_expect_status "replayed broadcast: answered once" 0 U discover --creds "$T_DIR/n1.json" --repeat 3
t_check "exactly one answer to three copies" test "$(grep -c '^answer ' "$T_DIR/out")" -eq 1
t_expect_status "garbage datagram: no answer" 0 U raw --data 'not json at all'
t_expect_status "truncated envelope: no answer" 0 U raw --data '{"version":"1.0","type":"DISCOVERY_BROADCAST"'
i=0
while [ "$i" -lt 20 ]; do
	U --repeat 100 raw --data '{"garbage":true}' >/dev/null
	i=$((i + 1))
done
t_expect_status "a valid broadcast after 2000 garbage datagrams is answered" 0 \
	U discover --creds "$T_DIR/n1.json" --timeout 3000

# --- heartbeats ---
t_probe "$T_DIR/p1.out" --creds "$T_DIR/n1.json" --save-session "$T_DIR/s1.json"
t_expect_grep "n1 logged in" "$T_DIR/p1.out" "login ok"
t_expect_status "heartbeat sent" 0 U heartbeat --session "$T_DIR/s1.json" --seq 1 \
	--cursor 1 --pending 3 --disk-free 123456 --last-error HUB_UNREACHABLE --state error
nodes_json
t_expect_grep "heartbeat: n1 online" "$T_DIR/nodes" '"node_id":"n1","name":null,"roles":["child"],"method":"psk","revoked":false,"state":"online"'
t_expect_grep "heartbeat: address of the sender" "$T_DIR/nodes" '"address":"127.0.0.1:'
t_expect_grep "heartbeat: cursor and lag (head 2 - cursor 1)" "$T_DIR/nodes" '"cursor":1,"lag":1,"pending":3,"disk_free":123456,"last_error":"HUB_UNREACHABLE"'
t_expect_status "nodes (text)" 0 A nodes
t_expect_grep "text table shows lag, pending, last error" "$T_DIR/out" "HUB_UNREACHABLE"
t_expect_grep "text table has the columns" "$T_DIR/out" "LAG PENDING LAST ERROR"

U heartbeat --session "$T_DIR/s1.json" --seq 1 --cursor 2 --pending 9 >/dev/null
U heartbeat --session "$T_DIR/s1.json" --seq 0 --cursor 2 --pending 9 >/dev/null
U heartbeat --session "$T_DIR/s1.json" --seq 7 --cursor 2 --pending 9 --bad-sig >/dev/null
U heartbeat --session "$T_DIR/s1.json" --seq 8 --cursor 2 --pending 9 --node n2 >/dev/null
U heartbeat --session "$T_DIR/s1.json" --seq 9 --cursor 2 --pending 9 --skew -400 >/dev/null
U heartbeat --session "$T_DIR/s1.json" --seq 10 --cursor 2 --pending 9 --state sleeping >/dev/null
sleep 0.3
nodes_json
t_expect_grep "replayed, zero, badly signed, foreign, stale and malformed heartbeats change nothing" \
	"$T_DIR/nodes" '"cursor":1,"lag":1,"pending":3'
U heartbeat --session "$T_DIR/s1.json" --seq 2 --cursor 2 --pending 0 >/dev/null
sleep 0.3
nodes_json
t_expect_grep "the next seq is taken" "$T_DIR/nodes" '"cursor":2,"lag":0,"pending":0,"disk_free":null,"last_error":null'

scrape
t_check "metrics: exit 0" test -s "$T_DIR/metrics"
t_check "metrics: seq drop counted" test "$(metric 'trosyn_udp_dropped_total{reason="seq"}')" -ge 1
t_check "metrics: signature drops counted" test "$(metric 'trosyn_udp_dropped_total{reason="signature"}')" -ge 3
t_check "metrics: oversize drop counted" test "$(metric 'trosyn_udp_dropped_total{reason="oversize"}')" -ge 1
t_check "metrics: replay drops counted" test "$(metric 'trosyn_udp_dropped_total{reason="replay"}')" -ge 2
t_check "metrics: site drop counted" test "$(metric 'trosyn_udp_dropped_total{reason="site"}')" -ge 1
t_check "metrics: skew drops counted" test "$(metric 'trosyn_udp_dropped_total{reason="clock_skew"}')" -ge 3
t_check "metrics: malformed drops counted" test "$(metric 'trosyn_udp_dropped_total{reason="malformed"}')" -ge 2000
t_check "metrics: foreign heartbeat counted as a session drop" test "$(metric 'trosyn_udp_dropped_total{reason="session"}')" -ge 1
t_check "metrics: heartbeats counted" test "$(metric trosyn_heartbeats_total)" -eq 2
t_check "metrics: one node online" test "$(metric 'trosyn_nodes{state="online"}')" -eq 1
t_check "metrics: one node never seen" test "$(metric 'trosyn_nodes{state="never"}')" -eq 1
t_check "metrics: lag of n1" test "$(metric 'trosyn_node_lag{node_id="n1"}')" -eq 0
t_check "metrics: journal head" test "$(metric trosyn_journal_head)" -eq 2
t_check "metrics: hub heartbeats multicast" test "$(metric trosyn_hub_heartbeats_total)" -ge 1
t_check "metrics: a login counted" test "$(metric trosyn_logins_total)" -ge 1

"$PROBE" --port "$PORT" --creds "$T_DIR/n2.json" --fault skew >/dev/null 2>&1
"$PROBE" --port "$PORT" --creds "$T_DIR/n2.json" --fault skew >/dev/null 2>&1
"$PROBE" --port "$PORT" --creds "$T_DIR/n2.json" --fault no-auth >/dev/null 2>&1
scrape
t_check "metrics: auth failures by reason (CLOCK_SKEW)" test "$(metric 'trosyn_auth_failures_total{reason="CLOCK_SKEW"}')" -eq 2
t_check "metrics: auth failures by reason (AUTH_REQUIRED)" test "$(metric 'trosyn_auth_failures_total{reason="AUTH_REQUIRED"}')" -eq 1

t_expect_status "metrics port answers GET /metrics" 0 "$UDP" --port "$mport" --data /metrics scrape
t_expect_grep "metrics port: 200" "$T_DIR/out" "200 OK"
t_expect_grep "metrics port: Prometheus content type" "$T_DIR/out" "text/plain; version=0.0.4"
t_expect_grep "metrics port: samples" "$T_DIR/out" "trosyn_sessions "
t_expect_status "metrics port: other paths" 0 "$UDP" --port "$mport" --data /secret scrape
t_expect_grep "metrics port: 404" "$T_DIR/out" "404 Not Found"
t_expect_status "metrics port: another method" 0 "$UDP" --port "$mport" --data "RAW POST /metrics HTTP/1.0" scrape
t_expect_grep "metrics port: 405" "$T_DIR/out" "405 Method Not Allowed"
t_expect_status "metrics port: a garbage request" 0 "$UDP" --port "$mport" --data "RAW $(printf '\001\002garbage')" scrape
t_expect_grep "metrics port: garbage gets 405" "$T_DIR/out" "405 Method Not Allowed"
t_expect_status "metrics port: still serving after them" 0 "$UDP" --port "$mport" --data /metrics scrape
t_expect_grep "metrics port: 200 again" "$T_DIR/out" "200 OK"

# Silence: offline after 3 intervals (3 s here), and the transition is logged.
t_check "silent node goes offline (logged)" t_wait_for "$T_DIR/hub.log" "node n1 is offline" 8
nodes_json
t_expect_grep "nodes shows it offline" "$T_DIR/nodes" '"node_id":"n1","name":null,"roles":["child"],"method":"psk","revoked":false,"state":"offline"'
U heartbeat --session "$T_DIR/s1.json" --seq 20 --cursor 2 --pending 0 >/dev/null
t_check "a heartbeat brings it back online (logged)" t_wait_for "$T_DIR/hub.log" "node n1 is online" 3
A revoke n1 >/dev/null
U heartbeat --session "$T_DIR/s1.json" --seq 21 --cursor 2 --pending 5 >/dev/null
sleep 0.3
nodes_json
t_check "revoked node's heartbeat is ignored" sh -c "! grep -q '\"pending\":5' '$T_DIR/nodes'"

t_probe "$T_DIR/p2.out" --creds "$T_DIR/n2.json" --save-session "$T_DIR/s2.json"
t_expect_status "heartbeat with every field at its largest" 0 U heartbeat --session "$T_DIR/s2.json" --max
size=$(awk '$1 == "heartbeat" { print $2 }' "$T_DIR/out")
t_check "largest heartbeat of a short node id fits 512 ($size)" test "${size:-999}" -le 512
sleep 0.3
nodes_json
t_expect_grep "largest heartbeat is taken" "$T_DIR/nodes" '"pending":9007199254740991'

wait "$cap"
if grep -q "needs CAP_NET_RAW" "$T_DIR/capture"; then
	echo "SKIP: capture of the hub's datagrams needs CAP_NET_RAW"
else
	t_expect_grep "capture: every datagram the hub sent is within 512 bytes" "$T_DIR/capture" " over 0"
	n=$(awk '$1 == "captured" { print $2 }' "$T_DIR/capture")
	t_check "capture saw the hub's answers and heartbeats ($n)" test "${n:-0}" -ge 5
fi

# The node finds the hub by multicast on loopback and syncs without --hub.
CLIENT="$top_builddir/trosyn-client"
A revoke n1 >/dev/null 2>&1
"$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" enroll n3 --role child --output "$T_DIR/n3.json" >/dev/null
# shellcheck disable=SC2317
N() {
	"$CLIENT" -k "$T_DIR/n3.json" -s "$T_DIR/n3" --discovery-port "$DISC_PORT" \
		--multicast-group "$GROUP" --multicast-interface 127.0.0.1 "$@"
}
t_expect_status "trosyn-client discover (multicast on lo)" 0 N discover --json
t_expect_grep "discover names the hub" "$T_DIR/out" '"hub_id":"hub-1"'
t_expect_grep "discover: the hub's certificate matches the pin" "$T_DIR/out" '"pinned":true'
t_expect_grep "discover: the main port" "$T_DIR/out" "\"port\":$PORT"
t_expect_status "sync without --hub discovers the hub" 0 N sync
t_expect_status "the replica holds the hub's records" 0 N get docs d1
sed 's/"site_key": *"[0-9a-f]*"/"site_key":"0000000000000000000000000000000000000000000000000000000000000000"/' \
	"$T_DIR/n3.json" >"$T_DIR/other.json"
t_check "a credentials file with another site key" sh -c "! cmp -s '$T_DIR/n3.json' '$T_DIR/other.json'"
t_expect_status "discover with another site's key: no hub" 1 "$CLIENT" -k "$T_DIR/other.json" \
	-s "$T_DIR/n9" --discovery-port "$DISC_PORT" --multicast-group "$GROUP" \
	--multicast-interface 127.0.0.1 discover
t_expect_grep "no hub answered is said" "$T_DIR/err" "no hub answered"

# A 64-character hub id still answers within 512 bytes.
t_hub_stop
t_check "hub stopped cleanly" test "$HUB_STATUS" -eq 0
long=hub-012345678901234567890123456789012345678901234567890123456789
"$ADMIN" -d "$T_DIR/state64" init --site-id site-1 --hub-id "$long" >/dev/null
sed 's/^metrics_port.*//' "$T_DIR/hubd.conf" >"$T_DIR/hubd64.conf"
"$HUBD" -f -c "$T_DIR/hubd64.conf" -d "$T_DIR/state64" >"$T_DIR/hub64.log" 2>&1 &
HUB_PID=$!
t_track "$HUB_PID"
t_wait_for "$T_DIR/hub64.log" "started:" 20
"$ADMIN" -c "$T_DIR/hubd64.conf" -d "$T_DIR/state64" enroll n9 --output "$T_DIR/n9.json" >/dev/null
t_expect_status "discovery of a hub with a 64-character id" 0 U discover --creds "$T_DIR/n9.json"
size=$(awk '$1 == "answer" { print $2 }' "$T_DIR/out")
t_check "its answer is within 512 bytes ($size)" test "${size:-999}" -le 512
t_expect_grep "its answer names it" "$T_DIR/out" "\"node_id\":\"$long\""
t_hub_stop
t_check "second hub stopped cleanly" test "$HUB_STATUS" -eq 0
t_done
