#!/bin/sh
# The systemd units (scripts/*.service, made by make): the hub started
# the way trosyn-hubd.service starts it (its ExecStartPre, ExecStart,
# PIDFile and ExecReload, with the installed paths pointed at the build
# tree), by a user the hub is not asked to switch from; and
# "systemd-analyze verify" of both units when systemd-analyze is there.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

UNIT="$top_builddir/scripts/trosyn-hubd.service"
NODE_UNIT="$top_builddir/scripts/trosyn-client@.service"
t_hub_setup "state_dir = $T_DIR/state"
t_enroll node-1
mkdir "$T_DIR/run"

# Print the value of KEY in the unit FILE, the Nth one (default 1).
unit_value() {
	sed -n "s/^$2=//p" "$1" | sed -n "${3:-1}p"
}

# Rewrite the unit's command line $1 for this test: the hub of the build
# tree, its config, and the pid dir made by RuntimeDirectory= ($T_DIR/run).
localize() {
	echo "$1" | sed -e "s|^[^ ]*/trosyn-hubd |$HUBD |" \
		-e "s| -c [^ ]*| -c $T_DIR/hubd.conf|" \
		-e "s|/run/trosyn/|$T_DIR/run/|g"
}

# --- what the unit says ---
t_check "the hub unit is Type=forking" test "$(unit_value "$UNIT" Type)" = forking
t_check "systemd switches the user" test -n "$(unit_value "$UNIT" User)"
t_check "RuntimeDirectory= makes the pidfile's directory" \
	test "$(unit_value "$UNIT" RuntimeDirectory)" = trosyn
pidfile=$(unit_value "$UNIT" PIDFile)
t_check "PIDFile= is in the runtime directory ($pidfile)" \
	test "${pidfile%/*}" = /run/trosyn
start=$(unit_value "$UNIT" ExecStart)
case $start in
*--user*) t_fail "ExecStart does not ask the hub to switch users" "$start" ;;
*) t_ok "ExecStart does not ask the hub to switch users" ;;
esac
t_expect_grep "ExecStart gives the hub the pidfile" "$UNIT" "--pidfile $pidfile"
for key in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes ProtectHome=yes \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "ReadWritePaths=/" \
	"ExecReload=/bin/kill -HUP \$MAINPID"; do
	t_expect_grep "the hub unit has $key" "$UNIT" "$key"
done
t_expect_grep "the node unit runs trosyn-client run" "$NODE_UNIT" "/client-%i.conf run"

# --- the hub started as the unit starts it ---
pre=$(localize "$(unit_value "$UNIT" ExecStartPre)")
start=$(localize "$start")
pidfile=$(localize "$pidfile")
# shellcheck disable=SC2086 # command lines, split on purpose
t_expect_status "ExecStartPre (--check-config) passes" 0 $pre
# shellcheck disable=SC2086
t_expect_status "ExecStart exits 0 once the hub serves" 0 $start
pid=$(cat "$pidfile" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	t_ok "PIDFile names the running hub"
	t_track "$pid"
else
	t_fail "PIDFile names the running hub" "pid '$pid' in $pidfile"
fi
t_probe "$T_DIR/probe.out" --creds "$T_DIR/node-1.json"
t_expect_grep "the hub serves" "$T_DIR/probe.out" "login ok"
reload=$(unit_value "$UNIT" ExecReload 2)
reload=$(echo "$reload" | sed "s/\$MAINPID/${pid:-0}/")
# shellcheck disable=SC2086
t_expect_status "ExecReload sends SIGHUP" 0 $reload
sleep 0.5
t_check "the hub runs on after the reload" kill -0 "${pid:-0}"
t_probe "$T_DIR/probe.out" --creds "$T_DIR/node-1.json"
t_expect_grep "and serves" "$T_DIR/probe.out" "login ok"
kill -TERM "${pid:-0}" 2>/dev/null
n=0
while kill -0 "${pid:-0}" 2>/dev/null && [ "$n" -lt 150 ]; do
	sleep 0.1
	n=$((n + 1))
done
t_check "SIGTERM (systemctl stop) ends it and removes the pidfile" test ! -e "$pidfile"

# --- systemd-analyze verify ---
if command -v systemd-analyze >/dev/null 2>&1; then
	# The units with the installed programs pointed at the build tree, as
	# verify checks that they exist; any message counts as a failure.
	mkdir "$T_DIR/units"
	for u in "$UNIT" "$NODE_UNIT"; do
		sed -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/trosyn-hubd |\1$HUBD |" \
			-e "s|^\(Exec[A-Za-z]*=\)[^ ]*/trosyn-client |\1$top_builddir/trosyn-client |" \
			"$u" >"$T_DIR/units/$(basename "$u")"
	done
	(cd "$T_DIR/units" && systemd-analyze verify --man=no \
		trosyn-hubd.service trosyn-client@.service) >"$T_DIR/verify" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$T_DIR/verify" ]; then
		t_ok "systemd-analyze verify"
	else
		t_fail "systemd-analyze verify" "exit $rc: $(cat "$T_DIR/verify")"
	fi
	# It can fail: a misspelt directive is reported.
	sed 's/^ProtectHome=/ProtectHom=/' "$T_DIR/units/trosyn-hubd.service" \
		>"$T_DIR/units/broken.service"
	(cd "$T_DIR/units" && systemd-analyze verify --man=no broken.service) \
		>"$T_DIR/verify" 2>&1
	t_expect_grep "verify reports a misspelt directive" "$T_DIR/verify" "ProtectHom"
else
	echo "# systemd-analyze not found: the units are not verified by systemd"
fi
t_done
