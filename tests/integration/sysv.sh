#!/bin/sh
# The SysV init script (scripts/trosyn-hubd.init, made by make) driving the
# built hub through a defaults file: start (detached), status, reload,
# restart, stop, LSB exit codes, a pidfile naming another process, a bad
# configuration; with start-stop-daemon when there is one, and in plain sh.
# As root it also switches the hub to the user nobody.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

INIT="$top_builddir/scripts/trosyn-hubd.init"
t_hub_setup "session_lifetime = 60"
t_enroll node-1
o="$T_DIR/probe.out"
PIDFILE="$T_DIR/run/hubd.pid"
cp "$T_DIR/hubd.conf" "$T_DIR/hubd.conf.orig"

# The settings, as an administrator gives them.
write_defaults() {
	cat >"$T_DIR/default" <<EOF
TROSYN_HUBD='$HUBD'
TROSYN_CONF='$T_DIR/hubd.conf'
TROSYN_STATE_DIR='$T_DIR/state'
TROSYN_PIDFILE='$1'
TROSYN_USER='$2'
EOF
}
write_defaults "$PIDFILE" ""
TROSYN_DEFAULTS="$T_DIR/default"
export TROSYN_DEFAULTS

# Succeed when process $1 is gone within 15 s.
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

# Print the pid in $PIDFILE.
pidof_hub() {
	cat "$PIDFILE" 2>/dev/null
}

# Log in to the hub; print the session's expiry date (YYYY-MM-DD), or
# nothing when the login failed.
expiry() {
	n=0
	while [ "$n" -lt 50 ]; do
		t_probe "$o" --creds "$T_DIR/node-1.json"
		if grep -q "login ok" "$o"; then
			sed -n 's/.* expires=\([0-9-]*\)T.*/\1/p' "$o"
			return
		fi
		sleep 0.1
		n=$((n + 1))
	done
}

# Succeed when $2 is not empty and differs from $1.
# shellcheck disable=SC2317 # called through t_check
differ() {
	[ -n "$2" ] && [ "$2" != "$1" ]
}

# Set session_lifetime in the hub's config to $1.
set_lifetime() {
	sed "s/^session_lifetime = .*/session_lifetime = $1/" "$T_DIR/hubd.conf.orig" \
		>"$T_DIR/hubd.conf"
}

# The whole life of the hub under the init script; $1 names the way
# ("ssd" with start-stop-daemon, "sh" without).
suite() {
	m=$1
	set_lifetime 60
	rm -rf "$T_DIR/run"
	t_expect_status "$m: status before start is 3" 3 "$INIT" status
	t_expect_grep "$m: status says not running" "$T_DIR/out" "not running"

	t_expect_status "$m: start" 0 "$INIT" start
	pid=$(pidof_hub)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		t_ok "$m: the pidfile names the running hub"
		t_track "$pid"
	else
		t_fail "$m: the pidfile names the running hub" "pid '$pid'"
		return
	fi
	t_check "$m: the pid directory was made" test -d "$T_DIR/run"
	before=$(expiry)
	t_check "$m: the hub serves (session expires $before)" test -n "$before"

	t_expect_status "$m: start when running" 0 "$INIT" start
	t_expect_grep "$m: start says already running" "$T_DIR/out" "already running (pid $pid)"
	t_expect_status "$m: status when running is 0" 0 "$INIT" status
	t_expect_grep "$m: status names the pid" "$T_DIR/out" "is running (pid $pid)"

	# reload: the same process takes the new session_lifetime (30 days).
	set_lifetime 2592000
	t_expect_status "$m: reload" 0 "$INIT" reload
	after=""
	n=0
	while [ "$n" -lt 50 ]; do
		after=$(expiry)
		[ -n "$after" ] && [ "$after" != "$before" ] && break
		sleep 0.1
		n=$((n + 1))
	done
	t_check "$m: reload applied the new config ($before -> $after)" \
		differ "$before" "$after"
	t_check "$m: reload keeps the process" test "$(pidof_hub)" = "$pid"
	t_check "$m: hub runs after the reload" kill -0 "$pid"
	t_expect_status "$m: force-reload" 0 "$INIT" force-reload

	# A broken file: reload and restart refuse it, the hub keeps running.
	echo "bogus_key = 1" >>"$T_DIR/hubd.conf"
	t_expect_status "$m: reload of a broken config exits 6" 6 "$INIT" reload
	t_expect_grep "$m: the error names file and line" "$T_DIR/err" "hubd.conf:"
	t_expect_status "$m: restart with a broken config exits 6" 6 "$INIT" restart
	t_check "$m: the hub still runs after both" kill -0 "$pid"
	set_lifetime 60

	t_expect_status "$m: restart" 0 "$INIT" restart
	t_check "$m: restart stopped the old hub" gone "$pid"
	new=$(pidof_hub)
	if [ -n "$new" ] && [ "$new" != "$pid" ] && kill -0 "$new" 2>/dev/null; then
		t_ok "$m: restart started a new hub"
		t_track "$new"
	else
		t_fail "$m: restart started a new hub" "pid '$new' (old $pid)"
	fi
	t_expect_status "$m: try-restart" 0 "$INIT" try-restart
	pid=$(pidof_hub)
	[ -n "$pid" ] && t_track "$pid"
	t_check "$m: try-restart left a hub running" kill -0 "${pid:-0}"

	t_expect_status "$m: stop" 0 "$INIT" stop
	t_check "$m: stop ends the hub" gone "$pid"
	t_check "$m: the pidfile is removed" test ! -e "$PIDFILE"
	t_expect_status "$m: status after stop is 3" 3 "$INIT" status
	t_expect_status "$m: stop when stopped" 0 "$INIT" stop
	t_expect_status "$m: reload when stopped exits 7" 7 "$INIT" reload
	t_expect_status "$m: try-restart when stopped starts nothing" 0 "$INIT" try-restart
	t_check "$m: no pidfile after try-restart" test ! -e "$PIDFILE"

	# A pidfile left behind, naming a live process that is not the hub
	# (this shell): status 1, and neither stop nor start kills it.
	echo "$$" >"$PIDFILE"
	t_expect_status "$m: status with a stale pidfile is 1" 1 "$INIT" status
	t_expect_status "$m: stop with a stale pidfile" 0 "$INIT" stop
	t_check "$m: the stale pidfile is removed" test ! -e "$PIDFILE"
	echo "$$" >"$PIDFILE"
	t_expect_status "$m: start over a stale pidfile" 0 "$INIT" start
	pid=$(pidof_hub)
	if [ -n "$pid" ] && [ "$pid" != "$$" ]; then
		t_ok "$m: the new pidfile names the new hub"
		t_track "$pid"
	else
		t_fail "$m: the new pidfile names the new hub" "pid '$pid'"
	fi
	t_expect_status "$m: stop it" 0 "$INIT" stop
	t_check "$m: it is gone" gone "${pid:-0}"

	# Start-up failures: a broken config, and a state dir the hub refuses.
	echo "bogus_key = 1" >>"$T_DIR/hubd.conf"
	t_expect_status "$m: start with a broken config exits 6" 6 "$INIT" start
	set_lifetime 60
	chmod 777 "$T_DIR/state"
	t_expect_status "$m: a hub that fails to start makes start exit 1" 1 "$INIT" start
	t_expect_grep "$m: the hub's reason is shown" "$T_DIR/err" "writable by group or others"
	chmod 700 "$T_DIR/state"
	t_expect_status "$m: status after failed starts is 3" 3 "$INIT" status
}

t_expect_status "unknown action exits 2" 2 "$INIT" frobnicate
t_expect_grep "unknown action shows the usage" "$T_DIR/err" "usage:"
# The defaults file wins over the environment: point it elsewhere.
TROSYN_DEFAULTS=/nonexistent TROSYN_HUBD="$T_DIR/no-such-hubd" \
	TROSYN_PIDFILE="$PIDFILE" "$INIT" start >"$T_DIR/out" 2>"$T_DIR/err"
t_check "a missing daemon exits 5" test $? -eq 5

SSD=$(command -v start-stop-daemon 2>/dev/null)
if [ -n "$SSD" ]; then
	TROSYN_SSD=$SSD
	export TROSYN_SSD
	suite ssd
else
	echo "# start-stop-daemon not found: only the plain sh way is tested"
fi
TROSYN_SSD=
export TROSYN_SSD
suite sh

# --- as root: the hub switches to TROSYN_USER, the pid dir is its (with
# start-stop-daemon when there is one, as on Debian) ---
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$T_DIR"
	TROSYN_SSD=$SSD
	chown -R nobody "$T_DIR/state"
	PIDFILE="$T_DIR/run-nobody/hubd.pid"
	write_defaults "$PIDFILE" nobody
	t_expect_status "root: start as nobody" 0 "$INIT" start
	pid=$(pidof_hub)
	[ -n "$pid" ] && t_track "$pid"
	# shellcheck disable=SC2012 # the owner's name, portably
	owner=$(ls -ld "$T_DIR/run-nobody" | awk '{ print $3 }')
	t_check "root: the pid dir belongs to nobody" test "$owner" = nobody
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/${pid:-0}/status" 2>/dev/null)
	t_check "root: the hub runs as nobody" test "$uid" = "$(id -u nobody)"
	t_check "root: it serves" test -n "$(expiry)"
	t_expect_status "root: stop" 0 "$INIT" stop
	t_check "root: the hub is gone" gone "${pid:-0}"
	write_defaults "$PIDFILE" no-such-user-here
	t_expect_status "root: an unknown user exits 6" 6 "$INIT" start
	t_expect_grep "root: the unknown user is named" "$T_DIR/err" "no-such-user-here"
fi
t_done
