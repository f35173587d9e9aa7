#!/bin/sh
# The hub's login exchange (PROTOCOL.md section 6) against the real daemon:
# every method, every refusal of step 3 with its code and a closed
# connection, frame errors, timeouts, revocation and token expiry.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

t_hub_setup "auth_timeout = 2" "session_lifetime = 4" "max_auth_failures = 1000"
t_enroll node-1 --name "Front desk" --role child
t_enroll node-adm --role admin --role child
t_enroll node-c --method certificate
t_enroll node-r
t_hub_start
C1="$T_DIR/node-1.json"
o="$T_DIR/probe.out"

# --- successful logins ---
t_probe "$o" --creds "$C1" --save-session "$T_DIR/s1.json"
t_expect_grep "TLS 1.3 with AES-256-GCM preferred" "$o" "cipher=TLS_AES_256_GCM_SHA384"
t_expect_grep "main channel offers all methods" "$o" 'methods=["psk","certificate","token"]'
t_expect_grep "psk login" "$o" "login ok method=psk"
t_expect_grep "psk login returns the roles" "$o" 'roles=["child"]'
t_probe "$o" --creds "$T_DIR/node-adm.json"
t_expect_grep "two roles" "$o" 'roles=["admin","child"]'
t_probe "$o" --creds "$T_DIR/node-c.json"
t_expect_grep "certificate login" "$o" "login ok method=certificate"
t_probe "$o" --creds "$C1" --session "$T_DIR/s1.json"
t_expect_grep "token login" "$o" "login ok method=token"
t_probe "$o" --creds "$C1" --session "$T_DIR/s1.json" --rotate-test 2100
t_expect_grep "signing keys rotate in step (rotate_every 1000)" "$o" "rotate ok 2100"
t_probe "$o" --creds "$C1" --send SYNC_STATUS
t_expect_grep "unserved type after login: INVALID_REQUEST" "$o" "error INVALID_REQUEST"
t_expect_grep "ERROR after login is signed with the msg key" "$o" "verified=yes"
t_expect_grep "unserved type leaves the connection open" "$o" "open"

# --- refusals: code, site-key signature, closed connection ---
# usage: refused FAULT CODE
refused() {
	t_probe "$o" --creds "$C1" --fault "$1"
	t_expect_grep "$1: $2" "$o" "error $2 in_reply_to="
	t_expect_grep "$1: ERROR answers the AUTH_REQUEST" "$o" "signed=site_key"
	t_expect_grep "$1: connection closed" "$o" "closed"
}
refused wrong-proof ACCESS_DENIED
refused wrong-challenge ACCESS_DENIED
refused wrong-source ACCESS_DENIED
refused bad-sig ACCESS_DENIED
refused unknown-node ACCESS_DENIED
refused skew CLOCK_SKEW
t_expect_grep "CLOCK_SKEW carries hub_time" "$o" '"hub_time":"'
refused uppercase-hex INVALID_REQUEST
refused bad-version UNSUPPORTED_VERSION

t_probe "$o" --creds "$C1" --fault no-auth
t_expect_grep "message before login: AUTH_REQUIRED" "$o" "error AUTH_REQUIRED"
t_expect_grep "AUTH_REQUIRED closes" "$o" "closed"
t_probe "$o" --creds "$C1" --fault garbage-frame
t_expect_grep "unknown frame type: INVALID_REQUEST without in_reply_to" "$o" \
	"error INVALID_REQUEST in_reply_to=none"
t_probe "$o" --creds "$C1" --fault garbage-json
t_expect_grep "duplicate JSON keys: INVALID_REQUEST" "$o" "error INVALID_REQUEST"
t_probe "$o" --creds "$C1" --fault oversize
t_expect_grep "oversized frame: TOO_LARGE with details.max" "$o" \
	'error TOO_LARGE in_reply_to=none details={"max":1048576}'
t_expect_grep "oversized frame closes" "$o" "closed"

t_probe "$o" --creds "$C1" --tls12
t_expect_grep "TLS 1.2 client refused" "$o" "tls-failed"
if command -v openssl >/dev/null 2>&1; then
	openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 </dev/null \
		>"$T_DIR/ossl.out" 2>&1
	if grep -q -E "alert protocol version|no protocols available|wrong version" \
		"$T_DIR/ossl.out"; then
		t_ok "openssl s_client -tls1_2 refused"
	else
		t_fail "openssl s_client -tls1_2 refused" "$(tail -5 "$T_DIR/ossl.out")"
	fi
fi

t_probe "$o" --creds "$C1" --idle
t_expect_grep "idle connection before login is closed" "$o" "closed after_ms="
ms=$(sed -n 's/.*closed after_ms=\([0-9]*\).*/\1/p' "$o")
if [ -n "$ms" ] && [ "$ms" -ge 1000 ]; then
	t_ok "auth_timeout waits before closing (${ms} ms)"
else
	t_fail "auth_timeout waits before closing" "closed after ${ms:-?} ms"
fi

# The hub still serves after all of that.
t_probe "$o" --creds "$C1"
t_expect_grep "hub keeps serving after bad input" "$o" "login ok method=psk"

# --- revocation ends a live session at once ---
t_probe "$o" --creds "$T_DIR/node-r.json" --save-session "$T_DIR/sr.json"
"$PROBE" --port "$PORT" --creds "$T_DIR/node-r.json" --hold 20 >"$T_DIR/held.out" 2>&1 &
held=$!
t_track "$held"
t_wait_for "$T_DIR/held.out" "login ok" 10
t_expect_status "revoke exits 0" 0 "$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" revoke node-r
t_expect_grep "revoke reports ended sessions" "$T_DIR/out" "session(s) ended"
wait "$held"
ms=$(sed -n 's/.*closed after_ms=\([0-9]*\).*/\1/p' "$T_DIR/held.out")
if [ -n "$ms" ] && [ "$ms" -lt 15000 ]; then
	t_ok "revoked node's live connection closed (${ms} ms)"
else
	t_fail "revoked node's live connection closed" "$(cat "$T_DIR/held.out")"
fi
t_probe "$o" --creds "$T_DIR/node-r.json" --session "$T_DIR/sr.json"
t_expect_grep "revoked node's token: INVALID_TOKEN" "$o" "error INVALID_TOKEN"
t_probe "$o" --creds "$T_DIR/node-r.json"
t_expect_grep "revoked node's psk login: ACCESS_DENIED" "$o" "error ACCESS_DENIED"

# --- token expiry (session_lifetime = 4 s) ---
t_probe "$o" --creds "$C1" --save-session "$T_DIR/s2.json"
sleep 5
t_probe "$o" --creds "$C1" --session "$T_DIR/s2.json"
t_expect_grep "expired token: INVALID_TOKEN" "$o" "error INVALID_TOKEN"
t_expect_grep "expired token: connection closed" "$o" "closed"

# --- no key reaches the log ---
leaked=0
sed -n 's/.*"\(site_key\|node_key\)": *"\([0-9a-f]*\)".*/\2/p' "$C1" >"$T_DIR/keys"
while read -r k; do
	grep -q "$k" "$T_DIR/hub.log" && leaked=1
done <"$T_DIR/keys"
[ -s "$T_DIR/keys" ] || leaked=1
tok=$(sed -n 's/.*"session_token":"\([0-9a-f]*\)".*/\1/p' "$T_DIR/s1.json")
[ -n "$tok" ] && grep -q "$tok" "$T_DIR/hub.log" && leaked=1
if [ "$leaked" -eq 0 ]; then t_ok "no key or token in the log"; else t_fail "no key or token in the log" "found one"; fi
t_expect_grep "failed logins are logged with the reason" "$T_DIR/hub.log" "auth failed: peer 127.0.0.1"

t_hub_stop
if [ "$HUB_STATUS" -eq 0 ]; then t_ok "SIGTERM: exit 0"; else t_fail "SIGTERM: exit 0" "status $HUB_STATUS"; fi
t_expect_grep "SIGTERM: logged stop" "$T_DIR/hub.log" "stopped"
t_done
