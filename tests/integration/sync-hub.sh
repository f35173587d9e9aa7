#!/bin/sh
# The hub side of sync (PROTOCOL.md section 7) against the real daemon:
# trosyn-admin publish/import/delete/records, pulls and pushes over the
# wire with every conflict policy, role checks, malformed requests, batch
# splitting near max_message_size, tombstones and the reset path after a
# purge, and a pull finishing after its session expired.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

t_hub_setup "max_message_size = 16384" "batch_size = 3" "max_batch = 50" \
	"journal_retain = 30d" \
	"[collection docs]" "read = child admin" "write = admin" "conflict = hub-wins" \
	"[collection notes]" "read = child admin" "write = child admin" \
	"[collection lww]" "read = child" "write = child" "conflict = last-writer-wins" \
	"[collection kb]" "read = child" "write = child" "conflict = keep-both" \
	"[collection secret]" "read = admin" "write = admin"
t_enroll node-c --role child
t_enroll node-c2 --role child
t_enroll node-a --role admin
o="$T_DIR/probe.out"

# shellcheck disable=SC2317 # called through t_expect_status
A() {
	"$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" "$@"
}

# The journal head as trosyn-admin status --json reports it.
head_now() {
	A status --json | sed -n 's/.*"journal_head": *\([0-9]*\).*/\1/p'
}

# Probe as NODE: p NODE ARGS...
p() {
	node=$1
	shift
	t_probe "$o" --creds "$T_DIR/$node.json" "$@"
}

# Write the lines given as arguments to FILE: lines FILE LINE...
lines() {
	f=$1
	shift
	: >"$f"
	for l in "$@"; do
		printf '%s\n' "$l" >>"$f"
	done
}

# Count the lines of FILE that start with PREFIX.
count() {
	grep -c "^$2" "$1"
}

# Pass when FILE does not contain STR: t_expect_no_grep NAME FILE STR
t_expect_no_grep() {
	if grep -F -q -- "$3" "$2"; then
		t_fail "$1" "'$3' found"
	else
		t_ok "$1"
	fi
}

# --- trosyn-admin writes, with the hub down ---
t_expect_status "publish" 0 A publish docs d1 --data '{"title":"Hello","n":1}'
t_expect_grep "publish prints version and seq" "$T_DIR/out" "published docs/d1: version 1, seq 1"
t_expect_status "publish again with the same data" 0 A publish docs d1 --data '{"n":1,"title":"Hello"}'
t_expect_grep "same content by the admin is no new version" "$T_DIR/out" "unchanged: version 1, seq 1"
t_expect_status "publish a unicode id and data" 0 A publish docs "résumé ✓" \
	--data '{"text":"日本語 ünïcödé \ud83d\ude00"}'
printf '{"size":"big","tags":["a","b"]}' >"$T_DIR/data.json"
t_expect_status "publish --data-file" 0 A publish docs d2 --data-file "$T_DIR/data.json"
lines "$T_DIR/import.jsonl" '{"id":"i1","data":{"k":1}}' '' \
	'{"id":"i2","data":{"k":2},"file":null}' '{"id":"i3","data":{}}'
t_expect_status "import JSON Lines" 0 A import docs "$T_DIR/import.jsonl"
t_expect_grep "import counts the records" "$T_DIR/out" "imported 3 record(s) into docs"
lines "$T_DIR/bad.jsonl" '{"id":"j1","data":{}}' '{"id":"j2","data":{}}' '{"id":"j3","data":[1]}'
head0=$(head_now)
t_expect_status "import with a bad line fails" 1 A import docs "$T_DIR/bad.jsonl"
t_expect_grep "import names FILE:LINE" "$T_DIR/err" "bad.jsonl:3: data must be a JSON object"
t_check "a failed import writes nothing" test "$(head_now)" = "$head0"
t_expect_status "import from stdin" 0 sh -c "printf '{\"id\":\"s1\",\"data\":{}}\n' | \"$ADMIN\" -c \"$T_DIR/hubd.conf\" -d \"$T_DIR/state\" import notes -"
t_expect_status "publish to an undefined collection" 1 A publish nothere x --data '{}'
t_expect_grep "undefined collection is named" "$T_DIR/err" "collection nothere is not defined"
t_expect_status "import to an undefined collection" 1 A import nothere "$T_DIR/import.jsonl"
t_expect_status "publish --file of a missing file" 1 A publish docs f1 --data '{}' --file "$T_DIR/no-such-file"
t_expect_grep "--file names the missing file" "$T_DIR/err" "no-such-file"
printf 'bad name' >"$T_DIR/..x"
t_expect_status "publish --file with a name nodes refuse" 1 A publish docs f1 --data '{}' --file "$T_DIR/..x"
t_expect_grep "the refused name is explained" "$T_DIR/err" "file name must be"
t_check "a refused name stores no blob" sh -c "! ls '$T_DIR/state/blobs' | grep -q '^[0-9a-f][0-9a-f]$'"
t_expect_status "publish data that is not an object" 1 A publish docs x --data '[1]'
t_expect_status "publish without data is a usage error" 2 A publish docs x
awk 'BEGIN { printf "{\"big\":\""; for (i = 0; i < 17000; i++) printf "x"; printf "\"}" }' >"$T_DIR/huge.json"
t_expect_status "publish a data file over max_message_size" 1 A publish docs huge --data-file "$T_DIR/huge.json"
t_expect_grep "a data file too large is named" "$T_DIR/err" "larger than max_message_size"
t_expect_status "publish a record over max_message_size" 1 A publish docs huge --data "$(cat "$T_DIR/huge.json")"
t_expect_grep "a record too large is named" "$T_DIR/err" "record too large"
t_expect_status "delete" 0 A delete docs d2
t_expect_grep "delete makes a new version" "$T_DIR/out" "deleted docs/d2: version 2"
t_expect_status "delete of a deleted record" 1 A delete docs d2
t_expect_status "delete of an unknown record" 1 A delete docs nope
t_expect_status "publish secret" 0 A publish secret s1 --data '{"code":42}'

t_expect_status "records --json" 0 A records docs --json
t_expect_grep "records --json has the section 7 form" "$T_DIR/out" '"collection":"docs"'
t_expect_grep "admin records have the hub as origin" "$T_DIR/out" '"origin":"hub-1"'
t_expect_grep "records --json keeps unicode" "$T_DIR/out" '"id":"résumé ✓"'
t_expect_no_grep "records --json leaves out tombstones" "$T_DIR/out" '"id":"d2"'
t_expect_status "records --json --all" 0 A records docs --json --all
t_expect_grep "records --all has tombstones" "$T_DIR/out" '"deleted":true'
t_expect_status "records (text)" 0 A records docs
t_expect_grep "records text lists ids" "$T_DIR/out" "i3"
t_expect_status "records of an undefined collection" 1 A records nothere
t_expect_status "status --json" 0 A status --json
t_expect_grep "status counts live records" "$T_DIR/out" '"records":7'
t_expect_grep "status reports the journal head" "$T_DIR/out" '"journal_head":9'

t_hub_start

# --- pull ---
p node-c --pull docs --batch-size 2
t_expect_grep "pull: first batch answers the request" "$o" "data batch=0 records=2 last_seq=2 reset=false"
t_check "pull: batches of batch_size" test "$(count "$o" "data ")" -eq 3
t_check "pull: each record once" test "$(count "$o" "record ")" -eq 6
t_expect_no_grep "pull: every SYNC_DATA answers the SYNC_REQUEST" "$o" "irt=bad"
t_expect_grep "pull: SYNC_COMPLETE with the head as cursor" "$o" "complete cursor=9 records=6 batches=3 irt=ok"
t_expect_grep "pull: unicode id and data" "$o" '"data":{"text":"日本語 ünïcödé 😀"}'
t_expect_grep "pull: tombstones are sent" "$o" '"data":null,"deleted":true,"file":null,"id":"d2"'
t_expect_grep "pull: modified_at is a timestamp" "$o" '"modified_at":"20'
t_expect_grep "pull: the connection stays open" "$o" "open"
t_expect_grep "pull is logged" "$T_DIR/hub.log" "sync pull: node node-c, 1 collection(s), since 0: 6 records in 3 batches, cursor 9"
p node-c --pull docs --since 5
t_expect_grep "pull since a cursor" "$o" "complete cursor=9 records=2 batches=1"
p node-c --pull docs --since 9
t_expect_grep "nothing to send: SYNC_COMPLETE at once" "$o" "complete cursor=9 records=0 batches=0 irt=ok"
t_check "nothing to send: no SYNC_DATA" test "$(count "$o" "data ")" -eq 0
p node-c --pull docs --since 10
t_expect_grep "since past the head: INVALID_REQUEST" "$o" "error INVALID_REQUEST"
t_expect_grep "since past the head names the head" "$o" "past the journal head 9"
p node-c --pull '*'
t_expect_grep "default collections: docs" "$o" '"collection":"docs"'
t_expect_grep "default collections: notes" "$o" '"collection":"notes"'
t_expect_no_grep "default collections: not what the roles cannot read" "$o" '"collection":"secret"'
p node-c --pull docs,secret
t_expect_grep "pulling an unreadable collection: ACCESS_DENIED" "$o" "error ACCESS_DENIED"
t_expect_grep "ACCESS_DENIED names the collection" "$o" "collection secret is not readable"
t_check "ACCESS_DENIED: the pull does not start" test "$(count "$o" "data ")" -eq 0
t_expect_grep "ACCESS_DENIED leaves the connection open" "$o" "open"
p node-c --pull nothere
t_expect_grep "an unknown collection: ACCESS_DENIED too" "$o" "error ACCESS_DENIED"
p node-a --pull secret
t_expect_grep "admin reads secret" "$o" '"collection":"secret","data":{"code":42}'
p node-a --pull docs,docs --since 8
t_expect_grep "a collection named twice counts once" "$o" "complete cursor=9 records=0"
p node-c --pull docs --batch-size -5
t_expect_grep "batch_size below 1 is clamped to 1" "$o" "data batch=5 records=1"
p node-c --pull docs --batch-size 5000 --window 99
t_expect_grep "batch_size is clamped to max_batch" "$o" "complete cursor=9 records=6 batches=1"
p node-c --pull docs --batch-size 1 --window 2 --sync-fault hold-window
t_expect_grep "at most window batches unacknowledged" "$o" "held batches=2"
t_expect_grep "the pull goes on after the acks" "$o" "complete cursor=9 records=6 batches=6"
p node-c --pull docs --batch-size 1
t_expect_grep "window defaults to 4" "$o" "complete cursor=9 records=6 batches=6"
t_expect_status "nodes --json after a pull" 0 A nodes --json
t_check "a pull sets last_sync" sh -c "tr -d ' \n' <'$T_DIR/out' | grep -q '\"node_id\":\"node-c\"[^}]*\"last_sync\":\"20'"

# --- malformed requests: INVALID_REQUEST, the connection stays open ---
SID=0b7e3c1e-5d2a-4f3b-9c4d-1a2b3c4d5e6f
bad_request() {
	p node-c --send SYNC_REQUEST --payload "$2"
	t_expect_grep "$1: INVALID_REQUEST" "$o" "error INVALID_REQUEST in_reply_to="
	t_expect_grep "$1: connection open" "$o" "open"
}
bad_request "uppercase sync_id" '{"sync_id":"0B7E3C1E-5D2A-4F3B-9C4D-1A2B3C4D5E6F","direction":"pull","since":0}'
bad_request "sync_id not v4" '{"sync_id":"0b7e3c1e-5d2a-1f3b-9c4d-1a2b3c4d5e6f","direction":"pull","since":0}'
bad_request "unknown direction" "{\"sync_id\":\"$SID\",\"direction\":\"sideways\",\"since\":0}"
bad_request "since missing" "{\"sync_id\":\"$SID\",\"direction\":\"pull\"}"
bad_request "since negative" "{\"sync_id\":\"$SID\",\"direction\":\"pull\",\"since\":-1}"
bad_request "since a string" "{\"sync_id\":\"$SID\",\"direction\":\"pull\",\"since\":\"0\"}"
bad_request "collections not an array" "{\"sync_id\":\"$SID\",\"direction\":\"pull\",\"since\":0,\"collections\":\"docs\"}"
bad_request "collections empty" "{\"sync_id\":\"$SID\",\"direction\":\"pull\",\"since\":0,\"collections\":[]}"
bad_request "collection name malformed" "{\"sync_id\":\"$SID\",\"direction\":\"pull\",\"since\":0,\"collections\":[\"Docs\"]}"
bad_request "batch_size not an integer" "{\"sync_id\":\"$SID\",\"direction\":\"pull\",\"since\":0,\"batch_size\":2.5}"
bad_request "push without collections" "{\"sync_id\":\"$SID\",\"direction\":\"push\",\"records\":1}"
bad_request "push with records negative" "{\"sync_id\":\"$SID\",\"direction\":\"push\",\"collections\":[\"notes\"],\"records\":-1}"
p node-c --send SYNC_ACK --payload "{\"sync_id\":\"$SID\",\"batch\":0,\"last_seq\":1}"
t_expect_grep "SYNC_ACK without a sync: INVALID_REQUEST" "$o" "no sync is running"
p node-c --send SYNC_COMPLETE --payload "{\"sync_id\":\"$SID\",\"batches\":0}"
t_expect_grep "SYNC_COMPLETE without a sync: INVALID_REQUEST" "$o" "error INVALID_REQUEST"
p node-c --send SYNC_REQUEST --payload "{\"sync_id\":\"$SID\",\"direction\":\"push\",\"collections\":[\"docs\"]}"
t_expect_grep "push to a collection the roles cannot write: ACCESS_DENIED" "$o" "collection docs is not writable"
t_expect_grep "refused push leaves the connection open" "$o" "open"
p node-c --send SYNC_REQUEST --payload "{\"sync_id\":\"$SID\",\"direction\":\"push\",\"collections\":[\"notes\",\"nothere\"]}"
t_expect_grep "push to an unknown collection: ACCESS_DENIED" "$o" "error ACCESS_DENIED"
p node-c --send SYNC_REQUEST --payload "{\"sync_id\":\"$SID\",\"direction\":\"push\",\"collections\":[\"notes\"],\"records\":0}"
t_expect_grep "an accepted push is not answered" "$o" "no-reply"

# --- pull faults (window 1): an ERROR ends the pull, the connection stays ---
pull_fault() {
	p node-c --pull docs --batch-size 1 --window 1 --sync-fault "$1"
	t_expect_grep "$1: INVALID_REQUEST" "$o" "error INVALID_REQUEST"
	t_expect_grep "$1: the pull ended" "$o" "no sync is running"
	t_expect_grep "$1: connection open" "$o" "open"
}
pull_fault ack-wrong-last-seq
t_expect_grep "wrong last_seq is named" "$o" "batch 0 ends at seq 1, not 2"
pull_fault ack-unsent
pull_fault ack-bad-reply
pull_fault data-in-pull
p node-c --pull docs --batch-size 1 --window 1 --sync-fault second-request
t_expect_grep "second SYNC_REQUEST: INVALID_REQUEST" "$o" "a sync is already running"
t_expect_grep "second SYNC_REQUEST: the running pull goes on" "$o" "complete cursor=9 records=6 batches=6"
p node-c --pull docs --batch-size 1 --window 1 --sync-fault ack-other-sync
t_expect_grep "ACK of another sync_id: INVALID_REQUEST" "$o" "sync_id does not name the running sync"
t_expect_grep "ACK of another sync_id: the running pull goes on" "$o" "complete cursor=9 records=6 batches=6"

# --- push ---
T1=2026-03-01T10:00:00Z
T2=2026-03-01T11:00:00.250Z
T3=2026-03-01T12:00:00+00:00
lines "$T_DIR/p1.jsonl" \
	"{\"collection\":\"notes\",\"id\":\"n1\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{\"b\":2,\"a\":1},\"file\":null}" \
	"{\"collection\":\"notes\",\"id\":\"ключ/😀\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{\"t\":\"ü\"},\"file\":null}" \
	"{\"collection\":\"notes\",\"id\":\"n3\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{},\"file\":null}"
h=$(head_now)
p node-c --push "$T_DIR/p1.jsonl" --batch-size 2
t_expect_grep "push: accepted" "$o" "push accepted collections=notes records=3"
t_expect_grep "push: results of batch 0" "$o" "ack type=SYNC_ACK batch=0 results=2"
t_expect_grep "push: results of batch 1" "$o" "ack type=SYNC_ACK batch=1 results=1"
t_expect_grep "push: a new record is version 1 with the next seq" "$o" \
	"result {\"collection\":\"notes\",\"conflict_id\":null,\"id\":\"n1\",\"reason\":null,\"seq\":$((h + 1)),\"status\":\"applied\",\"version\":1}"
t_expect_grep "push: unicode id" "$o" "\"id\":\"ключ/😀\",\"reason\":null,\"seq\":$((h + 2)),\"status\":\"applied\""
t_expect_grep "push: SYNC_COMPLETE totals" "$o" \
	"push-complete {\"applied\":3,\"conflicts\":0,\"last_seq\":$((h + 3)),\"rejected\":0,"
t_expect_grep "push: SYNC_COMPLETE answers the node's" "$o" "irt=ok"
t_expect_grep "push is logged" "$T_DIR/hub.log" "sync push: node node-c, 1 collection(s): 3 records in 2 batches, applied 3, conflicts 0, rejected 0"
p node-c --push "$T_DIR/p1.jsonl"
t_expect_grep "retried push: applied with the same version and seq" "$o" \
	"\"id\":\"n1\",\"reason\":null,\"seq\":$((h + 1)),\"status\":\"applied\",\"version\":1}"
t_expect_grep "retried push assigns no seq" "$o" '"last_seq":null'
t_check "retried push: journal head unchanged" test "$(head_now)" = "$((h + 3))"
t_expect_status "pushed records: records --json" 0 A records notes --json
t_expect_grep "pushed records have the node as origin" "$T_DIR/out" '"origin":"node-c"'
t_expect_grep "pushed data is canonical" "$T_DIR/out" '"a":1'

# hub-wins: the admin node's stale write loses.
lines "$T_DIR/hw.jsonl" \
	"{\"collection\":\"docs\",\"id\":\"d1\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T3\",\"data\":{\"title\":\"mine\"},\"file\":null}"
p node-a --push "$T_DIR/hw.jsonl"
t_expect_grep "hub-wins: conflict with the hub's version and seq" "$o" \
	'result {"collection":"docs","conflict_id":null,"id":"d1","reason":"hub-wins","seq":1,"status":"conflict","version":1}'
lines "$T_DIR/hw2.jsonl" \
	"{\"collection\":\"docs\",\"id\":\"d1\",\"base_version\":1,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{\"title\":\"mine\"},\"file\":null}"
p node-a --push "$T_DIR/hw2.jsonl"
t_expect_grep "hub-wins: a current base applies" "$o" '"id":"d1","reason":null,"seq":'
t_expect_grep "hub-wins: version + 1" "$o" '"status":"applied","version":2}'

# last-writer-wins: node-c writes at T2, node-c2 at T1 (loses) and T3 (wins).
lines "$T_DIR/l1.jsonl" \
	"{\"collection\":\"lww\",\"id\":\"w\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T2\",\"data\":{\"by\":\"c\"},\"file\":null}"
p node-c --push "$T_DIR/l1.jsonl"
t_expect_grep "lww: created" "$o" '"id":"w","reason":null'
lines "$T_DIR/l2.jsonl" \
	"{\"collection\":\"lww\",\"id\":\"w\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{\"by\":\"c2-old\"},\"file\":null}"
p node-c2 --push "$T_DIR/l2.jsonl"
t_expect_grep "lww: an older write is a conflict" "$o" '"id":"w","reason":"last-writer-wins","seq":'
t_expect_grep "lww: the conflict reports the hub's version" "$o" '"status":"conflict","version":1}'
lines "$T_DIR/l3.jsonl" \
	"{\"collection\":\"lww\",\"id\":\"w\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T3\",\"data\":{\"by\":\"c2-new\"},\"file\":null}"
p node-c2 --push "$T_DIR/l3.jsonl"
t_expect_grep "lww: a later write wins on a stale base" "$o" '"status":"applied","version":2}'
p node-c --pull lww
t_expect_grep "lww: the winner is what pulls see" "$o" '"data":{"by":"c2-new"}'
t_expect_grep "lww: origin is the writer" "$o" '"origin":"node-c2"'

# keep-both: node-c2's stale write becomes a copy.
lines "$T_DIR/k1.jsonl" \
	"{\"collection\":\"kb\",\"id\":\"k1\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{\"v\":\"c\"},\"file\":null}"
p node-c --push "$T_DIR/k1.jsonl"
lines "$T_DIR/k2.jsonl" \
	"{\"collection\":\"kb\",\"id\":\"k1\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T3\",\"data\":{\"v\":\"c2\"},\"file\":null}"
p node-c2 --push "$T_DIR/k2.jsonl"
t_expect_grep "keep-both: conflict naming the copy" "$o" \
	'"conflict_id":"k1~conflict~node-c2~0","id":"k1","reason":"keep-both"'
h=$(head_now)
p node-c2 --push "$T_DIR/k2.jsonl"
t_expect_grep "keep-both retried: same answer" "$o" '"conflict_id":"k1~conflict~node-c2~0"'
t_check "keep-both retried: no second copy" test "$(head_now)" = "$h"
p node-c --pull kb
t_expect_grep "keep-both: the original stays" "$o" '"data":{"v":"c"},"deleted":false,"file":null,"id":"k1"'
t_expect_grep "keep-both: the copy is pulled" "$o" '"data":{"v":"c2"},"deleted":false,"file":null,"id":"k1~conflict~node-c2~0","modified_at":"2026-03-01T12:00:00.000Z","origin":"node-c2"'
long=$(awk 'BEGIN { for (i = 0; i < 240; i++) printf "L" }')
lines "$T_DIR/k3.jsonl" \
	"{\"collection\":\"kb\",\"id\":\"$long\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{},\"file\":null}"
p node-c --push "$T_DIR/k3.jsonl"
p node-c2 --push "$T_DIR/k3.jsonl"
t_expect_grep "keep-both: a copy id over 256 bytes is invalid_record" "$o" \
	'"reason":"invalid_record","seq":null,"status":"rejected","version":null}'

# Rejections, each in its place among the results.
# Fits the node's SYNC_DATA, not the hub's with version, seq and origin.
awk 'BEGIN { printf "{\"collection\":\"notes\",\"id\":\"big\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"2026-03-01T10:00:00Z\",\"data\":{\"x\":\""; for (i = 0; i < 15550; i++) printf "x"; printf "\"},\"file\":null}\n" }' >"$T_DIR/big.line"
lines "$T_DIR/r.jsonl" \
	"{\"collection\":\"lww\",\"id\":\"nw\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{},\"file\":null}" \
	"{\"collection\":\"notes\",\"id\":\"nodata\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"file\":null}" \
	"{\"collection\":\"notes\",\"id\":\"withver\",\"version\":1,\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{},\"file\":null}" \
	"{\"collection\":\"notes\",\"id\":\"withfile\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{},\"file\":{\"sha256\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"size\":3,\"name\":\"a.txt\"}}" \
	"{\"collection\":\"notes\",\"id\":\"ok\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{},\"file\":null}"
cat "$T_DIR/big.line" >>"$T_DIR/r.jsonl"
p node-c --push "$T_DIR/r.jsonl" --collections notes --batch-size 1
t_expect_grep "a collection not named in the request: not_writable" "$o" \
	'result {"collection":"lww","conflict_id":null,"id":"nw","reason":"not_writable","seq":null,"status":"rejected","version":null}'
t_expect_grep "a record without data: invalid_record" "$o" '"id":"nodata","reason":"invalid_record"'
t_expect_grep "a record with hub members: invalid_record" "$o" '"id":"withver","reason":"invalid_record"'
t_expect_grep "a file the hub does not hold: missing_file" "$o" '"id":"withfile","reason":"missing_file"'
t_expect_grep "the rest of the batch applies" "$o" '"id":"ok","reason":null'
t_expect_grep "a record that would not fit a SYNC_DATA: too_large" "$o" '"id":"big","reason":"too_large"'
t_expect_grep "totals count the rejections" "$o" '"applied":1,"conflicts":0,"last_seq":'
t_expect_grep "totals count the rejections (rejected)" "$o" '"rejected":5,'

# Push faults: INVALID_REQUEST, the connection stays.
lines "$T_DIR/one.jsonl" \
	"{\"collection\":\"notes\",\"id\":\"f1\",\"base_version\":0,\"deleted\":false,\"modified_at\":\"$T1\",\"data\":{},\"file\":null}"
for f in batch-1-first complete-wrong-batches data-without-push ack-in-push; do
	p node-c --push "$T_DIR/one.jsonl" --sync-fault "$f"
	t_expect_grep "push fault $f: INVALID_REQUEST" "$o" "error INVALID_REQUEST"
	t_expect_grep "push fault $f: connection open" "$o" "open"
done
t_expect_grep "a batch out of order is named" "$T_DIR/hub.log" "batch 0 expected, not 1"
p node-c --push "$T_DIR/one.jsonl" --collections docs
t_expect_grep "push to a collection the node cannot write: ACCESS_DENIED" "$o" "error ACCESS_DENIED"
t_check "the refused push did not start" test "$(count "$o" "result ")" -eq 0

# --- records near max_message_size are split over batches ---
awk 'BEGIN { for (r = 0; r < 6; r++) { printf "{\"id\":\"blob%d\",\"data\":{\"x\":\"", r; for (i = 0; i < 5000; i++) printf "y"; printf "\"}}\n" } }' >"$T_DIR/blobs.jsonl"
awk 'BEGIN { printf "{\"id\":\"nearmax\",\"data\":{\"x\":\""; for (i = 0; i < 15000; i++) printf "z"; printf "\"}}\n" }' >>"$T_DIR/blobs.jsonl"
h=$(head_now)
t_expect_status "import large records" 0 A import notes "$T_DIR/blobs.jsonl"
p node-a --pull notes --since "$h" --batch-size 50
t_expect_grep "large records: all sent" "$o" "complete cursor=$((h + 7)) records=7"
n=$(count "$o" "data ")
t_check "large records: split by bytes into several batches ($n)" test "$n" -ge 3
max=$(sed -n 's/^data .* bytes=\([0-9]*\) .*/\1/p' "$o" | sort -n | tail -1)
t_check "every SYNC_DATA within max_message_size (largest $max)" test "$max" -le 16384
t_expect_grep "the record near the limit goes alone" "$o" "records=1 last_seq=$((h + 7))"

# --- tombstones, purge and reset ---
t_expect_status "delete secret/s1" 0 A delete secret s1
p node-a --pull secret
t_expect_grep "a tombstone is pulled" "$o" '"collection":"secret","data":null,"deleted":true'
t_expect_status "delete docs/i1" 0 A delete docs i1
hd=$(head_now)
sleep 2
sed -i 's/^journal_retain = .*/journal_retain = 1/' "$T_DIR/hubd.conf"
kill -HUP "$HUB_PID"
t_wait_for "$T_DIR/hub.log" "journal: purged" 10
t_expect_grep "SIGHUP purges old tombstones and logs the floor" "$T_DIR/hub.log" "floor now $hd"
t_expect_status "records --all after the purge" 0 A records docs --all --json
t_expect_no_grep "purged tombstones are gone" "$T_DIR/out" '"deleted":true'
p node-c --pull docs --since 3
t_expect_grep "a cursor below the floor: reset on batch 0" "$o" "data batch=0 records=3 last_seq=6 reset=true"
t_expect_grep "reset: later batches say false" "$o" "data batch=1 records=1"
t_check "reset: only on batch 0" test "$(grep -c "reset=true" "$o")" -eq 1
t_expect_grep "reset: everything current is sent" "$o" '"id":"résumé ✓"'
t_expect_no_grep "reset: purged tombstones are not" "$o" '"id":"i1"'
p node-c --pull docs --since "$hd"
t_expect_grep "a cursor at the floor: no reset" "$o" "complete cursor="
t_expect_no_grep "a cursor at the floor: reset false" "$o" "reset=true"
p node-a --pull secret --since 1
t_expect_grep "reset with no record left still says so" "$o" "data batch=0 records=0 last_seq=$hd reset=true"
t_expect_grep "reset with no record: one batch" "$o" "records=0 batches=1"

# --- a pull may finish after its session expired; a new request may not ---
sed -i '1i session_lifetime = 2' "$T_DIR/hubd.conf"
kill -HUP "$HUB_PID"
n=0
while [ "$(grep -c "configuration reloaded" "$T_DIR/hub.log")" -lt 2 ] && [ "$n" -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
p node-c --pull docs --batch-size 1 --window 1 --ack-delay 3 --then-request
t_expect_grep "expired session: the running pull completes" "$o" "complete cursor="
t_expect_grep "expired session: a new SYNC_REQUEST gets INVALID_TOKEN" "$o" "error INVALID_TOKEN"
t_expect_grep "expired session: and a close" "$o" "closed"

# --- roles change with SIGHUP; a node that may read nothing gets nothing ---
sed -i 's/^read = child admin$/read = admin/; s/^read = child$/read = admin/' "$T_DIR/hubd.conf"
kill -HUP "$HUB_PID"
n=0
while [ "$(grep -c "configuration reloaded" "$T_DIR/hub.log")" -lt 3 ] && [ "$n" -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
p node-c --pull '*'
t_expect_grep "no readable collection: SYNC_COMPLETE at once" "$o" "records=0 batches=0"
t_check "no readable collection: no record" test "$(count "$o" "record ")" -eq 0
p node-c --pull notes
t_expect_grep "a reload takes read access away" "$o" "error ACCESS_DENIED"

# --- the hub still serves and stops cleanly ---
p node-a --pull secret
t_expect_grep "hub keeps serving" "$o" "complete cursor="
t_expect_no_grep "no internal error" "$T_DIR/hub.log" "INTERNAL_ERROR"
t_hub_stop
if [ "$HUB_STATUS" -eq 0 ]; then t_ok "SIGTERM: exit 0"; else t_fail "SIGTERM: exit 0" "status $HUB_STATUS"; fi
t_done
