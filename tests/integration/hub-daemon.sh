#!/bin/sh
# The daemon as an init script runs it: detaching, pidfile (temp + rename),
# signals by pid, refusal of an unsafe state dir, privilege drop.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

# shellcheck disable=SC2119 # no extra config lines
t_hub_setup
t_enroll node-1
o="$T_DIR/probe.out"

# Wait until process $1 is gone, at most 15 s; 0 when it is.
# shellcheck disable=SC2317 # called through t_check
gone() {
	n=0
	while kill -0 "$1" 2>/dev/null; do
		[ "$n" -ge 150 ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 0
}

# --- unsafe state dirs are refused, naming the file ---
chmod 644 "$T_DIR/state/site.key"
t_expect_status "world-readable key refused" 1 "$HUBD" -f -c "$T_DIR/hubd.conf" -d "$T_DIR/state"
t_expect_grep "refusal names the key file" "$T_DIR/err" "site.key"
chmod 600 "$T_DIR/state/site.key"
chmod 777 "$T_DIR/state"
t_expect_status "world-writable state dir refused" 1 "$HUBD" -f -c "$T_DIR/hubd.conf" -d "$T_DIR/state"
t_expect_grep "refusal names the directory" "$T_DIR/err" "writable by group or others"
chmod 700 "$T_DIR/state"
t_expect_status "missing state dir refused" 1 "$HUBD" -f -c "$T_DIR/hubd.conf" -d "$T_DIR/nowhere"
t_expect_grep "missing state dir is named" "$T_DIR/err" "nowhere"

# --- a failure after detaching reaches the launching command ---
t_expect_status "detached start-up failure exits 1" 1 "$HUBD" -c "$T_DIR/hubd.conf" \
	-d "$T_DIR/state" --pidfile "$T_DIR/no/such/dir/hubd.pid"
t_expect_grep "detached start-up failure says why" "$T_DIR/err" "pidfile"

# --- detached with a pidfile ---
t_expect_status "daemon starts and detaches" 0 "$HUBD" -c "$T_DIR/hubd.conf" \
	-d "$T_DIR/state" --pidfile "$T_DIR/hubd.pid"
t_wait_for "$T_DIR/hubd.pid" "" 10
pid=$(cat "$T_DIR/hubd.pid" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	t_ok "pidfile names the running daemon"
	t_track "$pid"
else
	t_fail "pidfile names the running daemon" "pid '$pid'"
fi
n=0
while [ "$n" -lt 50 ]; do
	t_probe "$o" --creds "$T_DIR/node-1.json"
	grep -q "login ok" "$o" && break
	sleep 0.1
	n=$((n + 1))
done
t_expect_grep "detached daemon serves" "$o" "login ok"
t_check "no temp pidfile left" test -z "$(find "$T_DIR" -name 'hubd.pid.tmp*')"
kill -HUP "$pid"
sleep 0.5
t_check "SIGHUP does not stop the daemon" kill -0 "$pid"
kill -TERM "$pid"
t_check "SIGTERM stops the daemon" gone "$pid"
t_check "pidfile removed at exit" test ! -e "$T_DIR/hubd.pid"

# --- privilege drop (root only) ---
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$T_DIR"
	mkdir "$T_DIR/run"
	chown -R nobody "$T_DIR/state" "$T_DIR/run"
	t_hub_start_user() {
		"$HUBD" -f -c "$T_DIR/hubd.conf" -d "$T_DIR/state" --user nobody \
			--pidfile "$T_DIR/run/hubd.pid" >"$T_DIR/hub.log" 2>&1 &
		HUB_PID=$!
		t_track "$HUB_PID"
		t_wait_for "$T_DIR/hub.log" "started:" 20
	}
	t_hub_start_user
	t_probe "$o" --creds "$T_DIR/node-1.json"
	t_expect_grep "hub serves after dropping to nobody" "$o" "login ok"
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$HUB_PID/status")
	t_check "hub runs as nobody" test "$uid" = "$(id -u nobody)"
	t_hub_stop
	t_check "unprivileged hub exits 0" test "$HUB_STATUS" -eq 0
	t_expect_status "unknown user refused" 1 "$HUBD" -f -c "$T_DIR/hubd.conf" \
		-d "$T_DIR/state" --user no-such-user-here
	t_expect_grep "unknown user named" "$T_DIR/err" "no such user"
fi
t_done
