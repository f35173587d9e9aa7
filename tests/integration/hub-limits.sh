#!/bin/sh
# Load shedding and operations of the real daemon: BUSY when the pool and
# its queue are full, per-address bans after failed logins, SIGHUP reload
# without dropping sessions, SIGTERM with a connection in flight.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

t_hub_setup "workers = 2" "queue_depth = 1" "auth_timeout = 10" \
	"max_auth_failures = 2"
t_enroll node-1
t_hub_start
C1="$T_DIR/node-1.json"
o="$T_DIR/probe.out"

# --- saturation: 2 workers busy, 1 queued, the next one gets BUSY ---
for i in 1 2; do
	"$PROBE" --port "$PORT" --creds "$C1" --idle >"$T_DIR/idle$i.out" 2>&1 &
	t_track $!
	t_wait_for "$T_DIR/idle$i.out" "challenge ok" 10 ||
		t_fail "idle connection $i served" "$(cat "$T_DIR/idle$i.out")"
done
"$PROBE" --port "$PORT" --creds "$C1" --connect-only --hold 8 >"$T_DIR/q.out" 2>&1 &
t_track $!
t_wait_for "$T_DIR/q.out" "connected" 10
sleep 0.5
t_probe "$o" --creds "$C1"
t_expect_grep "saturated hub answers BUSY" "$o" "error BUSY in_reply_to=none"
t_expect_grep "BUSY carries retry_after_ms" "$o" '"retry_after_ms":'
t_expect_grep "BUSY is signed with the site key" "$o" "signed=yes"
t_expect_grep "BUSY is logged" "$T_DIR/hub.log" "answering BUSY"
t_expect_status "status while saturated" 0 "$ADMIN" -c "$T_DIR/hubd.conf" \
	-d "$T_DIR/state" status --json
t_expect_grep "status shows the busy workers" "$T_DIR/out" '"workers_busy":2'
t_expect_grep "status shows the queue" "$T_DIR/out" '"queue_depth":1'
# The idle ones are closed at auth_timeout; then the hub serves again.
t_wait_for "$T_DIR/idle1.out" "closed" 15
t_wait_for "$T_DIR/idle2.out" "closed" 15
n=0
while [ "$n" -lt 50 ]; do
	t_probe "$o" --creds "$C1" --save-session "$T_DIR/s.json"
	grep -q "login ok" "$o" && break
	sleep 0.2
	n=$((n + 1))
done
t_expect_grep "hub serves again once the load is gone" "$o" "login ok method=psk"

# --- SIGHUP reload keeps sessions ---
echo "log_level = debug" >>"$T_DIR/hubd.conf"
kill -HUP "$HUB_PID"
t_wait_for "$T_DIR/hub.log" "configuration reloaded" 10
t_expect_grep "SIGHUP reloads the configuration" "$T_DIR/hub.log" "configuration reloaded"
t_expect_grep "reload applies the log level" "$T_DIR/hub.log" "log level debug"
t_probe "$o" --creds "$C1" --session "$T_DIR/s.json"
t_expect_grep "session survives the reload" "$o" "login ok method=token"
echo "bogus_key = 1" >>"$T_DIR/hubd.conf"
kill -HUP "$HUB_PID"
t_wait_for "$T_DIR/hub.log" "reload refused" 10
t_expect_grep "a bad reload is refused and named" "$T_DIR/hub.log" "hubd.conf:"
t_probe "$o" --creds "$C1"
t_expect_grep "hub keeps serving after a refused reload" "$o" "login ok"

# A logged-in connection that stays open through the shutdown below.
"$PROBE" --port "$PORT" --creds "$C1" --hold 30 >"$T_DIR/held.out" 2>&1 &
held=$!
t_track "$held"
t_wait_for "$T_DIR/held.out" "login ok" 10

# --- bans: more than 2 failures from one address in 60 s ---
for i in 1 2 3; do
	t_probe "$o" --creds "$C1" --fault wrong-proof
done
t_expect_grep "ban starts after max_auth_failures" "$T_DIR/hub.log" "banned for 60 s"
t_probe "$o" --creds "$C1"
if grep -q "login ok" "$o"; then
	t_fail "banned address is refused" "$(cat "$o")"
else
	t_ok "banned address is refused"
fi
t_expect_grep "refusal of a banned address is logged" "$T_DIR/hub.log" "refused: address banned"

# --- SIGTERM with a connection in flight ---
t_hub_stop
if [ "$HUB_STATUS" -eq 0 ]; then t_ok "SIGTERM: exit 0"; else t_fail "SIGTERM: exit 0" "status $HUB_STATUS"; fi
wait "$held"
t_expect_grep "in-flight connection closed at shutdown" "$T_DIR/held.out" "closed after_ms="
if [ -e "$T_DIR/state/hubd.sock" ]; then
	t_fail "control socket removed at exit" "still there"
else
	t_ok "control socket removed at exit"
fi
t_done
