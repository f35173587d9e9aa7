#!/bin/sh
# trosyn-client run against a hub given with --hub: it syncs at once and
# every --interval, pushes queued changes, logs in again before its
# session expires, comes back after a hub restart, and exits 0 within a
# second or so on SIGTERM and SIGINT.  Heartbeats are sent but not checked
# through the hub's view: trosyn-admin nodes shows the node online with
# the cursor and pending count of its heartbeats, and again after a
# restart (TROSYN_TEST_HUBD may name another hub binary).
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

CLIENT="$top_builddir/trosyn-client"
HUBD=${TROSYN_TEST_HUBD:-$HUBD}

t_hub_setup "session_lifetime = 6" "heartbeat_interval = 1" \
	"[collection docs]" "read = child admin" "write = child admin"
t_enroll node-1 --role child
t_hub_start

# shellcheck disable=SC2317 # called through t_expect_status
A() { "$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" "$@"; }
# shellcheck disable=SC2317
C() { "$CLIENT" -k "$T_DIR/node-1.json" -s "$T_DIR/c1" --hub "127.0.0.1:$PORT" \
	--discovery-port "$DISC_PORT" "$@"; }

# Wait until CMD succeeds, at most SECONDS tenths of a second at a time.
until_ok() {
	limit=$(( $1 * 10 ))
	shift
	n=0
	while [ "$n" -lt "$limit" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# Send SIG to PID and wait at most 3 s for it to end; sets RUN_STATUS and RUN_TENTHS.
stop_run() {
	kill "-$1" "$2"
	RUN_TENTHS=0
	while kill -0 "$2" 2>/dev/null && [ "$RUN_TENTHS" -lt 30 ]; do
		sleep 0.1
		RUN_TENTHS=$((RUN_TENTHS + 1))
	done
	wait "$2"
	RUN_STATUS=$?
}

count() { grep -c -F -- "$2" "$1"; }

t_expect_status "run --interval 0 is a usage error" 2 C run --interval 0
t_expect_status "run with an extra argument is a usage error" 2 C run now

A publish docs d1 --data '{"i":1}' >/dev/null
"$CLIENT" -k "$T_DIR/node-1.json" -s "$T_DIR/c1" --hub "127.0.0.1:$PORT" \
	--discovery-port "$DISC_PORT" -v run --interval 2 2>"$T_DIR/run.log" &
RUN=$!
t_track "$RUN"
if until_ok 10 C get docs d1; then t_ok "run pulls at once"; else t_fail "run pulls at once" "$(tail -5 "$T_DIR/run.log")"; fi

# Heartbeats reach the hub: online, with the figures only heartbeats carry.
# shellcheck disable=SC2317 # called through until_ok
nodes_ok() {
	A nodes --json | tr -d ' \n' | grep -q "$1"
}
if until_ok 10 nodes_ok '"state":"online","last_seen":"[^"]*","address":"127.0.0.1:[0-9]*","last_sync":"[^"]*","cursor":1,"lag":0,"pending":0'; then
	t_ok "heartbeats: online, cursor 1, lag 0, pending 0"
else
	t_fail "heartbeats: online, cursor 1, lag 0, pending 0" "$(A nodes --json | tr -d ' \n')"
fi
A publish docs d2 --data '{"i":2}' >/dev/null
if until_ok 10 C get docs d2; then t_ok "run pulls again after the interval"; else t_fail "periodic pull" "$(tail -5 "$T_DIR/run.log")"; fi

C put docs n1 --data '{"from":"node"}'
if until_ok 10 sh -c "\"$ADMIN\" -c \"$T_DIR/hubd.conf\" -d \"$T_DIR/state\" records docs --json | grep -q '\"from\":\"node\"'"; then
	t_ok "a queued change is pushed"
else
	t_fail "a queued change is pushed" "$(tail -5 "$T_DIR/run.log")"
fi
t_expect_status "status after the push" 0 C status
t_expect_grep "nothing left queued" "$T_DIR/out" "pending:    0"

# The session lasts 6 s: the node logs in again before it ends, in between
# it uses the session's token.
if t_wait_for "$T_DIR/run.log" "ends soon; logging in again" 15; then
	t_ok "a new login before the session expires"
else
	t_fail "a new login before the session expires" "$(tail -5 "$T_DIR/run.log")"
fi
logins=$(count "$T_DIR/run.log" "logged in to hub hub-1, session")
if [ "$logins" -ge 2 ]; then t_ok "two sessions"; else t_fail "two sessions" "$logins logins"; fi
if grep -q "method token" "$T_DIR/hub.log"; then
	t_ok "token logins in between"
else
	t_fail "token logins in between" "$(grep "auth ok" "$T_DIR/hub.log" | tail -3)"
fi

# Long sessions from now on; the node takes a new one once the old ends.
t_hub_stop
sed 's/^session_lifetime = 6$/session_lifetime = 3600/' "$T_DIR/hubd.conf" >"$T_DIR/hubd.new"
mv "$T_DIR/hubd.new" "$T_DIR/hubd.conf"
t_hub_start
if t_wait_for "$T_DIR/run.log" "session" 20 &&
	until_ok 45 grep -E -q "for (3599|3600) s" "$T_DIR/run.log"; then
	t_ok "a session of the restarted hub"
else
	t_fail "a session of the restarted hub" "$(grep -v heartbeat "$T_DIR/run.log" | tail -12)"
fi

# A hub restart: the hub has forgotten the session, the node notices at
# its token login, logs in anew and syncs again.
t_hub_stop
A publish docs d3 --data '{"i":3}' >/dev/null
sleep 3
t_hub_start
if until_ok 45 C get docs d3; then t_ok "syncs again after a hub restart"; else t_fail "syncs again after a hub restart" "$(tail -5 "$T_DIR/run.log")"; fi
t_expect_grep "the hub's absence was logged" "$T_DIR/run.log" "connect to 127.0.0.1 port $PORT"
t_expect_grep "the forgotten session was noticed" "$T_DIR/run.log" "no longer knows session"
if until_ok 10 nodes_ok '"state":"online","last_seen":"[^"]*","address":"127.0.0.1:[0-9]*","last_sync":"[^"]*","cursor":[0-9]'; then
	t_ok "back online after the restart, with heartbeats"
else
	t_fail "back online after the restart, with heartbeats" "$(A nodes --json | tr -d ' \n')"
fi
t_check "the restarted hub logged it online" t_wait_for "$T_DIR/hub.log" "node node-1 is online" 3

stop_run TERM "$RUN"
if [ "$RUN_STATUS" -eq 0 ]; then t_ok "SIGTERM: exit 0"; else t_fail "SIGTERM: exit 0" "exit $RUN_STATUS"; fi
if [ "$RUN_TENTHS" -le 15 ]; then t_ok "SIGTERM: prompt"; else t_fail "SIGTERM: prompt" "$RUN_TENTHS tenths"; fi

# A client configuration file: -k and -s come from it, flags override it.
cat >"$T_DIR/client.conf" <<CONF
# node-1 as a service
hub = 127.0.0.1:$PORT
credentials = $T_DIR/node-1.json
state_dir = $T_DIR/c2
discovery_port = $DISC_PORT
sync_interval = 2
log_level = info
CONF
t_expect_status "-c: status without -k and -s" 0 "$CLIENT" -c "$T_DIR/client.conf" status
t_expect_status "-c: sync" 0 "$CLIENT" -c "$T_DIR/client.conf" sync
t_expect_grep "-c: the hub of the file" "$T_DIR/out" "pull: 4 records"
dead=$("$FREEPORTS" 1) || exit 99
t_expect_status "-c: --hub overrides the file" 1 "$CLIENT" -c "$T_DIR/client.conf" \
	--hub "127.0.0.1:$dead" sync --pull
t_expect_grep "-c: the flag's hub was used" "$T_DIR/err" "port $dead"
t_expect_status "-c: -s overrides the file" 0 "$CLIENT" -c "$T_DIR/client.conf" -s "$T_DIR/c3" status
if [ -d "$T_DIR/c3" ]; then t_ok "-c: the flag's state dir was used"; else t_fail "-c: -s" "no $T_DIR/c3"; fi
"$CLIENT" -c "$T_DIR/client.conf" run 2>"$T_DIR/conf-run.log" &
RUN=$!
t_track "$RUN"
C put docs n2 --data '{"via":"conf"}' >/dev/null 2>&1
if t_wait_for "$T_DIR/conf-run.log" "logged in to hub hub-1" 10; then
	t_ok "-c: run logs at the file's level"
else
	t_fail "-c: run logs at the file's level" "$(cat "$T_DIR/conf-run.log")"
fi
stop_run TERM "$RUN"
if [ "$RUN_STATUS" -eq 0 ]; then t_ok "-c: run stops with 0"; else t_fail "-c: run stops with 0" "exit $RUN_STATUS"; fi
printf 'hub = 127.0.0.1\nworkers = 4\n' >"$T_DIR/bad.conf"
t_expect_status "-c: a hub key is refused" 1 "$CLIENT" -c "$T_DIR/bad.conf" status
t_expect_grep "-c: the error names file and line" "$T_DIR/err" "bad.conf:2: key 'workers' is a hub setting"
t_expect_status "-c: a missing file" 1 "$CLIENT" -c "$T_DIR/none.conf" status
t_expect_status "no -k, -s or -c is a usage error" 2 "$CLIENT" status

# An unreachable hub: backing off, still stops at once on SIGINT.
"$CLIENT" -k "$T_DIR/node-1.json" -s "$T_DIR/c1" --hub "127.0.0.1:$dead" run 2>"$T_DIR/dead.log" &
RUN=$!
t_track "$RUN"
sleep 2
stop_run INT "$RUN"
if [ "$RUN_STATUS" -eq 0 ] && [ "$RUN_TENTHS" -le 15 ]; then
	t_ok "SIGINT while backing off: prompt exit 0"
else
	t_fail "SIGINT while backing off" "exit $RUN_STATUS after $RUN_TENTHS tenths"
fi
t_expect_grep "the refused connection is logged" "$T_DIR/dead.log" "connect to 127.0.0.1 port $dead"

t_done
