#!/bin/sh
# The file channel against the real hub: put then get of edge sizes and
# 50 MiB, every kind of tampered chunk refused with nothing published, a
# sender that dies mid-stream resumed from the last verified chunk, a
# wrong sha256 discarded as corrupt, unknown files, logins without a
# valid token, access rules, more transfers than workers, and
# trosyn-admin publish --file.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

# shellcheck disable=SC2317 # called through t_expect_status
A() {
	"$ADMIN" -c "$T_DIR/hubd.conf" -d "$T_DIR/state" "$@"
}
# The probe on the file port with node $1's saved session.
# shellcheck disable=SC2317
F() {
	node=$1
	shift
	"$PROBE" --port "$FILE_PORT" --creds "$T_DIR/$node.json" \
		--session "$T_DIR/$node.session" --method token "$@"
}
sha() {
	sha256sum "$1" | cut -c1-64
}
blob_path() {
	h=$1
	echo "$T_DIR/state/blobs/$(echo "$h" | cut -c1-2)/$(echo "$h" | cut -c3-)"
}

t_hub_setup "chunk_size = 65536" "transfer_workers = 2" "queue_depth = 2" \
	"max_file_size = 104857600" \
	"[collection docs]" "read = child admin" "write = child"
t_enroll n1 --role child
t_enroll n2 --role admin
t_hub_start
for n in n1 n2; do
	t_probe "$T_DIR/$n.login" --creds "$T_DIR/$n.json" --save-session "$T_DIR/$n.session"
	t_expect_grep "$n logged in on the main channel" "$T_DIR/$n.login" "login ok"
done

# --- put then get of edge sizes ---
for size in 0 1 65535 65536 65537 52428800; do
	head -c "$size" /dev/urandom >"$T_DIR/f$size"
	h=$(sha "$T_DIR/f$size")
	t_expect_status "put $size bytes" 0 F n1 --put "$T_DIR/f$size"
	t_expect_grep "put $size bytes: complete ok" "$T_DIR/out" "complete status=ok sha256=$h"
	t_check "put $size bytes: the blob is in the store" test -f "$(blob_path "$h")"
	t_expect_status "get $size bytes" 0 F n1 --get "$h" --output "$T_DIR/g$size"
	t_expect_grep "get $size bytes: right hash" "$T_DIR/out" "got size=$size "
	t_check "get $size bytes: identical" cmp -s "$T_DIR/f$size" "$T_DIR/g$size"
done
F n1 --put "$T_DIR/f0" >"$T_DIR/zero" 2>&1
t_expect_grep "a 0-byte put of a held blob still streams its empty chunk" "$T_DIR/zero" "sent 1 chunks"
F n1 --put "$T_DIR/f65537" >"$T_DIR/again" 2>&1
t_expect_grep "a held blob: ready at its size, nothing streamed" "$T_DIR/again" "offset=65537 chunks=2"
t_expect_grep "a held blob: complete ok" "$T_DIR/again" "complete status=ok"
t_expect_status "get with a chunk_size the node asks for" 0 F n1 --get "$(sha "$T_DIR/f52428800")" \
	--chunk-size 1048576 --offset 1048576 --output "$T_DIR/tail"
t_expect_grep "chunk_size and offset honoured" "$T_DIR/out" "chunk_size=1048576 offset=1048576 chunks=50"
t_expect_status "get with an offset that is not a chunk multiple" 0 F n1 --get "$(sha "$T_DIR/f1")" --offset 7 --output "$T_DIR/x"
t_expect_grep "bad offset: INVALID_REQUEST" "$T_DIR/out" "error INVALID_REQUEST"

# --- trosyn-client against the same hub ---
CLIENT="$top_builddir/trosyn-client"
# shellcheck disable=SC2317
TC() {
	"$CLIENT" -k "$T_DIR/n1.json" -s "$T_DIR/c1" --hub "127.0.0.1:$PORT" \
		--file-port "$FILE_PORT" "$@"
}
t_expect_status "trosyn-client upload" 0 TC upload "$T_DIR/f65537"
t_expect_grep "upload prints the sha256" "$T_DIR/out" "$(sha "$T_DIR/f65537")"
t_expect_status "trosyn-client fetch of 50 MiB" 0 TC fetch "$(sha "$T_DIR/f52428800")" --output "$T_DIR/c50"
t_check "fetched 50 MiB intact" cmp -s "$T_DIR/f52428800" "$T_DIR/c50"
h1=$(sha "$T_DIR/f1")
mkdir -p "$T_DIR/c1/partial"
head -c 131072 /dev/zero >"$T_DIR/c1/partial/$h1.65536.part"
t_expect_status "a stale partial longer than the file does not block a fetch" 0 \
	TC fetch "$h1" --output "$T_DIR/c1.out"
t_check "the fetch after a stale partial is intact" cmp -s "$T_DIR/f1" "$T_DIR/c1.out"

# --- tampering: refused, nothing published ---
for fault in flip-ct flip-tag flip-index flip-last; do
	head -c 200000 /dev/urandom >"$T_DIR/t-$fault"
	h=$(sha "$T_DIR/t-$fault")
	t_expect_status "$fault: the put runs" 0 F n1 --put "$T_DIR/t-$fault" --xfer-fault "$fault"
	t_expect_grep "$fault: chunk_auth_failed" "$T_DIR/out" '"reason":"chunk_auth_failed"'
	t_expect_grep "$fault: INVALID_REQUEST" "$T_DIR/out" "error INVALID_REQUEST"
	t_expect_grep "$fault: the hub closes" "$T_DIR/out" "closed"
	t_check "$fault: nothing published" test ! -e "$(blob_path "$h")"
done

# --- authentic chunks in the wrong order or of the wrong length, a message mid-stream ---
for case in skip-first:chunk_index short-chunk:chunk_length json-frame:chunk_frame; do
	fault=${case%:*} reason=${case#*:}
	head -c 200000 /dev/urandom >"$T_DIR/t-$fault"
	h=$(sha "$T_DIR/t-$fault")
	t_expect_status "$fault: the put runs" 0 F n1 --put "$T_DIR/t-$fault" --xfer-fault "$fault"
	t_expect_grep "$fault: INVALID_REQUEST with reason $reason" "$T_DIR/out" "\"reason\":\"$reason\""
	t_check "$fault: nothing published" test ! -e "$(blob_path "$h")"
done
t_expect_status "the hub serves after refused streams" 0 F n1 --get "$(sha "$T_DIR/f1")" --output "$T_DIR/after"
t_check "the get after refused streams is intact" cmp -s "$T_DIR/f1" "$T_DIR/after"

# --- a sender that dies mid-stream, then resumes ---
head -c 1048576 /dev/urandom >"$T_DIR/big"
h=$(sha "$T_DIR/big")
t_expect_status "a sender dies after 5 chunks" 0 F n1 --put "$T_DIR/big" --xfer-fault die-after:5
t_expect_grep "it died" "$T_DIR/out" "dying after 5 chunks"
t_check "nothing published after the death" test ! -e "$(blob_path "$h")"
t_expect_status "the resumed put" 0 F n1 --put "$T_DIR/big"
t_expect_grep "resume from the last verified chunk" "$T_DIR/out" "offset=327680 chunks=16"
t_expect_grep "the resumed put completes" "$T_DIR/out" "complete status=ok sha256=$h"
t_expect_status "get of the resumed file" 0 F n1 --get "$h" --output "$T_DIR/big.out"
t_check "the resumed file is identical" cmp -s "$T_DIR/big" "$T_DIR/big.out"
t_expect_status "a receiver dies after 3 chunks of a get" 0 F n1 --get "$h" --output "$T_DIR/x" --xfer-fault die-after:3
t_expect_status "the next get works" 0 F n1 --get "$h" --offset 196608 --output "$T_DIR/x"
t_expect_grep "the get resumes at an offset" "$T_DIR/out" "offset=196608 chunks=16"

# --- a wrong sha256, unknown files ---
head -c 5000 /dev/urandom >"$T_DIR/liar"
t_expect_status "a put whose data does not match its sha256" 0 F n1 --put "$T_DIR/liar" --xfer-fault wrong-sha
t_expect_grep "it is corrupt" "$T_DIR/out" "complete status=corrupt"
lie=$(sed -n 's/.*complete status=corrupt sha256=\([0-9a-f]*\).*/\1/p' "$T_DIR/out")
t_check "the corrupt blob is not published" test ! -e "$(blob_path "$lie")"
t_check "no partial of the corrupt put is left" sh -c "! ls '$T_DIR/state/blobs/partial' | grep -q '^$lie'"
t_expect_status "get of an unknown sha256" 0 F n1 --get 0000000000000000000000000000000000000000000000000000000000000000 --output "$T_DIR/x"
t_expect_grep "unknown: NOT_FOUND" "$T_DIR/out" "error NOT_FOUND"
t_expect_status "a put claiming more than max_file_size" 0 F n1 --put "$T_DIR/f1" --xfer-fault huge-size
t_expect_grep "TOO_LARGE with details.max" "$T_DIR/out" '"max":104857600'

# --- who may do what ---
t_expect_status "a node that may not write puts" 0 F n2 --put "$T_DIR/f1"
t_expect_grep "put without write access: ACCESS_DENIED" "$T_DIR/out" "error ACCESS_DENIED"
t_expect_status "another node gets a blob no record names" 0 F n2 --get "$h" --output "$T_DIR/x"
t_expect_grep "not named, not uploaded by it: NOT_FOUND" "$T_DIR/out" "error NOT_FOUND"
printf 'manual v1\n' >"$T_DIR/manual.txt"
t_expect_status "publish --file" 0 A publish docs manual --data '{"title":"Manual"}' --file "$T_DIR/manual.txt"
hm=$(sha "$T_DIR/manual.txt")
t_check "publish --file stored the blob" test -f "$(blob_path "$hm")"
t_expect_status "records show the file" 0 A records docs --json
t_expect_grep "the record names the file" "$T_DIR/out" "$hm"
t_expect_status "a reader gets a published file" 0 F n2 --get "$hm" --output "$T_DIR/manual.out"
t_check "the published file arrives intact" cmp -s "$T_DIR/manual.txt" "$T_DIR/manual.out"
t_expect_status "publish --file of a missing file" 1 A publish docs m2 --data '{}' --file "$T_DIR/nope"
printf 'guide v1\n' >"$T_DIR/guide.txt"
printf '{"id":"guide","data":{"t":"Guide"},"file":"%s"}\n{"id":"plain","data":{},"file":null}\n' \
	"$T_DIR/guide.txt" >"$T_DIR/import.jsonl"
t_expect_status "import with a file" 0 A import docs "$T_DIR/import.jsonl"
hg=$(sha "$T_DIR/guide.txt")
t_check "import stored the file" test -f "$(blob_path "$hg")"
t_expect_status "a reader gets an imported file" 0 F n2 --get "$hg" --output "$T_DIR/guide.out"
t_check "the imported file arrives intact" cmp -s "$T_DIR/guide.txt" "$T_DIR/guide.out"
printf '{"id":"bad","data":{},"file":"%s/nope"}\n' "$T_DIR" >"$T_DIR/import2.jsonl"
t_expect_status "import naming a missing file fails" 1 A import docs "$T_DIR/import2.jsonl"
t_expect_grep "the missing file is named with its line" "$T_DIR/err" "import2.jsonl:1:"
printf '{"id":"bad","data":{},"file":"%s/.."}\n' "$T_DIR" >"$T_DIR/import3.jsonl"
t_expect_status "import of a file named .. fails" 1 A import docs "$T_DIR/import3.jsonl"
t_expect_grep "the name is refused" "$T_DIR/err" "file name must be"
t_expect_status "status counts the blobs" 0 A status --json
t_check "status: blobs counted" sh -c "! grep -q '\"blobs\":0' '$T_DIR/out'"

# --- logins ---
t_probe "$T_DIR/psk" --port "$FILE_PORT" --creds "$T_DIR/n1.json"
t_expect_grep "psk is not offered on the file channel" "$T_DIR/psk" "error"
sed 's/"session_token":"[0-9a-f]*"/"session_token":"0000000000000000000000000000000000000000000000000000000000000000"/' \
	"$T_DIR/n1.session" >"$T_DIR/bad.session"
"$PROBE" --port "$FILE_PORT" --creds "$T_DIR/n1.json" --session "$T_DIR/bad.session" \
	--method token --get "$hm" --output "$T_DIR/x" >"$T_DIR/badtok" 2>&1
t_expect_grep "an unknown token is refused" "$T_DIR/badtok" "error INVALID_TOKEN"
t_check "no file for a refused login" sh -c "! grep -q '^got' '$T_DIR/badtok'"

# --- more transfers at once than workers (2 workers, queue 2) ---
pids=""
i=0
while [ "$i" -lt 8 ]; do
	head -c 2000000 /dev/urandom >"$T_DIR/par$i"
	F n1 --put "$T_DIR/par$i" >"$T_DIR/par$i.out" 2>&1 &
	pids="$pids $!"
	t_track "$!"
	i=$((i + 1))
done
for pid in $pids; do
	wait "$pid"
done
ok=0 busy=0 bad=0
i=0
while [ "$i" -lt 8 ]; do
	if grep -q "complete status=ok sha256=$(sha "$T_DIR/par$i")" "$T_DIR/par$i.out"; then
		ok=$((ok + 1))
		cmp -s "$T_DIR/par$i" "$(blob_path "$(sha "$T_DIR/par$i")")" || bad=$((bad + 1))
	elif grep -q "error BUSY" "$T_DIR/par$i.out"; then
		busy=$((busy + 1))
	else
		bad=$((bad + 1))
	fi
	i=$((i + 1))
done
t_check "8 parallel puts: each done or BUSY ($ok done, $busy busy)" test "$((ok + busy))" -eq 8
t_check "8 parallel puts: none corrupt" test "$bad" -eq 0
t_check "8 parallel puts: some went through" test "$ok" -ge 2

A metrics >"$T_DIR/metrics"
out_bytes=$(awk '$1 == "trosyn_bytes_total{channel=\"file\",direction=\"out\"}" { print $2 }' "$T_DIR/metrics")
t_check "metrics: file bytes sent by gets (${out_bytes:-none})" test "${out_bytes:-0}" -gt 52428800
ok_n=$(awk '$1 == "trosyn_transfers_total{result=\"ok\"}" { print $2 }' "$T_DIR/metrics")
t_check "metrics: transfers counted (${ok_n:-none})" test "${ok_n:-0}" -ge 20
t_expect_grep "metrics: failed transfers counted" "$T_DIR/metrics" 'trosyn_transfers_total{result="failed"}'

t_hub_stop
t_check "hub stopped cleanly" test "$HUB_STATUS" -eq 0
t_check "no partial left of the resumed file" sh -c "! ls '$T_DIR/state/blobs/partial' | grep -q '^$h'"
t_done
