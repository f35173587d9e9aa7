#!/bin/sh
# End to end: trosyn-hubd, trosyn-admin and trosyn-client (libtrosyn).
# Pull and push, each conflict policy, access control, local queue,
# refusals, and crash tests: kill -9 of the hub and of the client in the
# middle of a pull and of a push, then the replica must equal the hub
# exactly with nothing lost or doubled.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

CLIENT="$top_builddir/trosyn-client"

t_hub_setup "batch_size = 3" "max_batch = 4" \
	"[collection docs]" "read = child admin" "write = child admin" \
	"[collection lww]" "read = child" "write = child" "conflict = last-writer-wins" \
	"[collection kb]" "read = child" "write = child" "conflict = keep-both" \
	"[collection notes]" "read = admin" "write = admin" \
	"[collection bulk]" "read = child" "write = child"
t_enroll node-1 --role child
t_enroll node-2 --role child --method certificate
t_hub_start

# shellcheck disable=SC2317 # called through t_check and t_expect_status
A() { "$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" "$@"; }
# shellcheck disable=SC2317
C1() { "$CLIENT" -k "$T_DIR/node-1.json" -s "$T_DIR/c1" --hub "127.0.0.1:$PORT" "$@"; }
# shellcheck disable=SC2317
C2() { "$CLIENT" -k "$T_DIR/node-2.json" -s "$T_DIR/c2" --hub "127.0.0.1:$PORT" "$@"; }
# shellcheck disable=SC2317
same() { cmp -s "$1" "$2"; }
o="$T_DIR/out"

# --- pull ---
for i in 1 2 3 4 5 6 7; do A publish docs "d$i" --data "{\"i\":$i}" >/dev/null; done
A publish docs "日本語-ü" --data '{"text":"ünïcödé 😀","n":[1,2.5,null]}' >/dev/null
t_expect_status "first sync (psk node)" 0 C1 sync
t_expect_status "certificate node syncs" 0 C2 sync
C1 list docs --json >"$T_DIR/c.json"
A records docs --json >"$T_DIR/a.json"
t_check "replica equals the hub record by record" same "$T_DIR/c.json" "$T_DIR/a.json"
t_expect_grep "unicode id and data arrive intact" "$T_DIR/c.json" '"text":"ünïcödé 😀"'
t_expect_status "status --json" 0 C1 status --json
t_expect_grep "cursor is the journal head" "$o" '"*":8'
t_expect_status "no-op pull" 0 C1 sync --pull
t_expect_grep "nothing new to pull" "$o" "pull: 0 records in 0 batches, cursor 8"

# --- push ---
C1 put docs d1 --data '{"i":"one"}'
C1 delete docs d2
printf '{"from":"stdin"}\n' | C1 put docs new --data-file -
t_expect_status "status" 0 C1 status
t_expect_grep "three changes queued" "$o" "pending:    3"
t_expect_status "sync pushes" 0 C1 sync
t_expect_grep "push applied" "$o" "push: 3 records in 1 batch: 3 applied"
A records docs --json >"$o"
t_expect_grep "the hub has the new record" "$o" '"from":"stdin"'
A records docs --all --json >"$o"
t_expect_grep "the hub has the tombstone" "$o" '"deleted":true'
C1 list docs --json >"$T_DIR/c.json"
A records docs --json >"$T_DIR/a.json"
t_check "replica equals the hub after the push" same "$T_DIR/c.json" "$T_DIR/a.json"

# --- conflicts ---
C2 sync >/dev/null
C2 put docs d3 --data '{"by":2}'
C1 put docs d3 --data '{"by":1}'
C2 sync >/dev/null
t_expect_status "hub-wins: sync" 0 C1 sync
t_expect_grep "hub-wins: one conflict" "$o" "1 conflict"
t_expect_status "get" 0 C1 get docs d3
t_expect_grep "hub-wins: the hub's write stays" "$o" '"by":2'

C1 sync >/dev/null
C2 sync >/dev/null
C1 put lww w --data '{"v":1}'
C1 sync >/dev/null
C2 sync >/dev/null
C1 put lww w --data '{"v":"old"}'
sleep 0.05
C2 put lww w --data '{"v":"new"}'
C2 sync >/dev/null
t_expect_status "last-writer-wins: older write" 0 C1 sync
t_expect_grep "last-writer-wins: the older write loses" "$o" "1 conflict"
C1 get lww w >"$o"
t_expect_grep "last-writer-wins: the newer write stays" "$o" '"v":"new"'

C1 put kb k --data '{"v":1}'
C1 sync >/dev/null
C2 sync >/dev/null
C2 put kb k --data '{"v":2}'
C1 put kb k --data '{"v":3}'
C2 sync >/dev/null
t_expect_status "keep-both: sync" 0 C1 sync
t_expect_grep "keep-both: a conflict" "$o" "1 conflict"
C1 list kb >"$o"
t_expect_grep "keep-both: the copy is pulled" "$o" "k~conflict~node-1~1"
A records kb --json >"$o"
t_expect_grep "keep-both: the copy holds the losing write" "$o" '"v":3'

# --- access control ---
t_expect_status "pull of an unreadable collection" 1 C1 sync --pull --collection notes
t_expect_grep "ACCESS_DENIED is reported" "$T_DIR/err" "ACCESS_DENIED"
C1 put notes x --data '{}'
C1 put docs d6 --data '{"queued":"beside a refused change"}'
t_expect_status "push to an unwritable collection fails" 1 C1 sync
t_expect_grep "the refusal names the collection" "$T_DIR/err" "ACCESS_DENIED for notes"
t_expect_grep "a refused push still pulls" "$o" "pull:"
t_expect_status "status" 0 C1 status
t_expect_grep "the refused change stays queued" "$o" "pending:    1"
A records docs --json >"$o"
t_expect_grep "changes to writable collections still go through" "$o" '"queued":"beside a refused change"'
C1 delete notes x
t_expect_status "named set pull" 0 C1 sync --pull --collection docs --collection kb
t_expect_status "status --json" 0 C1 status --json
t_expect_grep "a cursor per collection set" "$o" '"docs,kb"'

# --- refusals ---
t_expect_status "usage error" 2 C1 sync --pull --push
t_expect_status "data that is not an object" 1 C1 put docs bad --data '[1]'
t_expect_status "fetch of a malformed SHA256 is a usage error" 2 C1 fetch abc --output "$T_DIR/x"
t_expect_status "fetch without --output is a usage error" 2 \
	C1 fetch 0000000000000000000000000000000000000000000000000000000000000000
t_expect_status "upload without a path is a usage error" 2 C1 upload
t_expect_status "put --file of a missing file fails" 1 C1 put docs z --data '{}' --file "$T_DIR/no-such-file"
t_expect_grep "put --file says nothing was queued" "$T_DIR/err" "nothing queued"
t_expect_status "get of the refused put" 1 C1 get docs z
silent=$("$FREEPORTS" 1) || exit 99
t_expect_status "no --hub and no hub answers discovery" 1 "$CLIENT" -k "$T_DIR/node-1.json" \
	-s "$T_DIR/c1" --discovery-port "$silent" --multicast-interface 127.0.0.1 \
	--broadcast 127.0.0.1 --discovery-timeout 1 sync
t_expect_grep "no --hub says why" "$T_DIR/err" "discover: no hub answered"
t_expect_status "discover with nobody answering" 1 "$CLIENT" -k "$T_DIR/node-1.json" \
	-s "$T_DIR/c1" --hub 127.0.0.1 --discovery-port "$silent" --discovery-timeout 1 discover
t_expect_grep "discover says no hub answered" "$T_DIR/err" "trosyn-client: discover: no hub answered"
t_expect_status "a bad flag value is a usage error" 2 C1 --discovery-port 0 status
t_expect_grep "the flag is named" "$T_DIR/err" "trosyn-client: --discovery-port: 0 is out of range"
sed 's/"hub_cert_sha256": *"\([0-9a-f]\)/"hub_cert_sha256":"X\1/; s/"X0/"1/; s/"X[1-9a-f]/"0/' \
	"$T_DIR/node-1.json" >"$T_DIR/badpin.json"
t_expect_status "a hub that fails the pin" 1 "$CLIENT" -k "$T_DIR/badpin.json" \
	-s "$T_DIR/c1" --hub "127.0.0.1:$PORT" sync --pull
t_expect_status "a state dir of another node" 1 "$CLIENT" -k "$T_DIR/node-2.json" \
	-s "$T_DIR/c1" --hub "127.0.0.1:$PORT" status

# --- reset: the node's cursor is older than the hub's retained tombstones ---
t_expect_status "node 2 is up to date" 0 C2 sync --pull --collection docs
A delete docs d4 >/dev/null
A delete docs d5 >/dev/null
t_hub_stop
sed -i "1i journal_retain = 1s" "$T_DIR/hubd.conf"
sleep 2
t_hub_start
t_expect_grep "old tombstones purged at start-up" "$T_DIR/hub.log" "journal: purged"
t_expect_status "pull across the purge" 0 C2 sync --pull --collection docs
t_expect_grep "the pull was a reset" "$o" "(replaced the local copy)"
"$CLIENT" -k "$T_DIR/node-2.json" -s "$T_DIR/c2" list docs --json >"$T_DIR/c.json"
A records docs --json >"$T_DIR/a.json"
t_check "after a reset the replica equals the hub" same "$T_DIR/c.json" "$T_DIR/a.json"
if grep -q '"id":"d4"' "$T_DIR/c.json"; then
	t_fail "records deleted behind the purge are gone from the replica" "d4 still there"
else
	t_ok "records deleted behind the purge are gone from the replica"
fi
sed -i '/^journal_retain = 1s$/d' "$T_DIR/hubd.conf"

# --- crash tests ---
# One record per batch from here on, so that every pull and push below runs
# long enough to be cut in the middle (the test waits until it has made
# progress, then kills).
t_hub_stop
sed -i 's/^batch_size = .*/batch_size = 1/; s/^max_batch = .*/max_batch = 1/' "$T_DIR/hubd.conf"
t_hub_start
# 200 records of about 200 KB: a pull of them lasts well beyond the
# moment the test sees its first batch, however fast the machine.
pad=$(head -c 200000 /dev/zero | tr '\0' 'x')
i=0
while [ "$i" -lt 200 ]; do
	printf '{"id":"r%04d","data":{"n":%d,"pad":"%s"}}\n' "$i" "$i" "$pad"
	i=$((i + 1))
done >"$T_DIR/bulk.jsonl"
t_expect_status "import 200 large records in one transaction" 0 A import bulk "$T_DIR/bulk.jsonl"

# compare_bulk NAME STATE_DIR: that replica's bulk collection equals the hub's.
compare_bulk() {
	"$CLIENT" -k "$T_DIR/node-1.json" -s "$2" list bulk --json >"$T_DIR/cb.json"
	A records bulk --json >"$T_DIR/ab.json"
	t_check "$1" same "$T_DIR/cb.json" "$T_DIR/ab.json"
}

# Restart the hub after a kill -9.
restart_hub() {
	kill -9 "$HUB_PID" 2>/dev/null
	wait "$HUB_PID" 2>/dev/null
	t_hub_start
}

# Wait (at most 20 s) until the status of state dir $1 matches regex $2.
wait_status() {
	n=0
	while [ "$n" -lt 400 ]; do
		"$CLIENT" -k "$T_DIR/node-1.json" -s "$1" status --json 2>/dev/null |
			grep -q -E "$2" && return 0
		sleep 0.05
		n=$((n + 1))
	done
	return 1
}

# Hub killed in the middle of a pull.
C1 sync --pull --collection bulk >"$T_DIR/p1.out" 2>&1 &
cpid=$!
t_track "$cpid"
wait_status "$T_DIR/c1" '"bulk":[1-9]'
restart_hub
wait "$cpid"
t_check "the hub crash cut a pull short" test $? -ne 0
t_expect_status "pull after the hub crashed" 0 C1 sync --pull --collection bulk
compare_bulk "hub killed mid-pull: replica equals the hub" "$T_DIR/c1"

# Client killed in the middle of a pull (a fresh replica of the same node).
C3() { "$CLIENT" -k "$T_DIR/node-1.json" -s "$T_DIR/c3" --hub "127.0.0.1:$PORT" "$@"; }
C3 sync --pull --collection bulk >"$T_DIR/c3.out" 2>&1 &
cpid=$!
wait_status "$T_DIR/c3" '"bulk":[1-9]'
kill -9 "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
st=$?
if [ "$st" -eq 137 ]; then
	t_ok "the kill cut the pull short"
else
	t_fail "the kill cut the pull short" "exit $st: $(head -c 400 "$T_DIR/c3.out")"
fi
t_expect_status "pull after the client crashed" 0 C3 sync --pull --collection bulk
compare_bulk "client killed mid-pull: replica equals the hub" "$T_DIR/c3"

# Pushes: 150 local changes of about 300 KB each, one per batch, so that
# a push lasts long enough to be cut.
big=$(head -c 300000 /dev/zero | tr '\0' 'y')
queue() {
	i=$1
	while [ "$i" -lt "$2" ]; do
		printf '{"p":%d,"pad":"%s"}' "$i" "$big" >"$T_DIR/big.json"
		C1 put bulk "p$i" --data-file "$T_DIR/big.json" ||
			t_fail "queue p$i" "put failed"
		i=$((i + 1))
	done
}
queue 0 150
C1 sync --push >/dev/null 2>&1 &
cpid=$!
t_track "$cpid"
wait_status "$T_DIR/c1" '"pending":1[0-4][0-9],'
restart_hub
wait "$cpid"
t_check "the hub crash cut a push short" test $? -ne 0
t_expect_status "push after the hub crashed" 0 C1 sync --push
t_expect_status "status" 0 C1 status
t_expect_grep "hub killed mid-push: queue drained" "$o" "pending:    0"
queue 150 300
C1 sync --push >/dev/null 2>&1 &
cpid=$!
wait_status "$T_DIR/c1" '"pending":1[0-4][0-9],'
kill -9 "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
t_check "the kill cut the push short" test $? -eq 137
t_expect_status "push after the client crashed" 0 C1 sync --push
t_expect_status "pull after the crashes" 0 C1 sync --pull --collection bulk
A records bulk --json >"$T_DIR/ab.json"
n=$(grep -c '"id":"p[0-9]*"' "$T_DIR/ab.json")
t_check "every pushed record reached the hub once (300)" test "$n" -eq 300
t_check "nothing was applied twice (500 records, all version 1)" test \
	"$(grep -c '"version":1,' "$T_DIR/ab.json")" -eq 500
compare_bulk "after the push crashes: replica equals the hub" "$T_DIR/c1"

t_hub_stop
t_check "hub exits 0" test "$HUB_STATUS" -eq 0
t_done
