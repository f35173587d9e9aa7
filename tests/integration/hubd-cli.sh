#!/bin/sh
# trosyn-hubd command line: --version, --help, usage errors, --check-config.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

t_expect_status "version exits 0" 0 "$HUBD" --version
t_expect_grep "version names the program" "$T_DIR/out" "trosyn-hubd"
t_expect_status "help exits 0" 0 "$HUBD" --help
t_expect_grep "help lists --check-config" "$T_DIR/out" "--check-config"
t_expect_status "unknown flag is a usage error" 2 "$HUBD" --no-such-flag
t_expect_status "stray argument is a usage error" 2 "$HUBD" stray

cat >"$T_DIR/good.conf" <<'CONF'
# comment
port = 15001
file_port = 15002
discovery_port = 15000
journal_retain = 30d          # inline comment
[collection documents]
read = child admin
write = admin
conflict = hub-wins
CONF
t_expect_status "good config passes --check-config" 0 \
	"$HUBD" -c "$T_DIR/good.conf" --check-config
t_expect_grep "check-config says OK" "$T_DIR/out" "configuration OK"

printf 'port = 5001\nprot = 5002\n' >"$T_DIR/typo.conf"
t_expect_status "unknown key refused" 1 "$HUBD" -c "$T_DIR/typo.conf" --check-config
t_expect_grep "error names file and line" "$T_DIR/err" "typo.conf:2:"

printf 'port = 70000\n' >"$T_DIR/range.conf"
t_expect_status "out-of-range port refused" 1 "$HUBD" -c "$T_DIR/range.conf" --check-config
t_expect_grep "range error names line 1" "$T_DIR/err" "range.conf:1:"

printf 'port = 5001\nport = 5003\n' >"$T_DIR/dup.conf"
t_expect_status "duplicate key refused" 1 "$HUBD" -c "$T_DIR/dup.conf" --check-config
t_expect_grep "duplicate error names line 2" "$T_DIR/err" "dup.conf:2:"

t_expect_status "missing -c file refused" 1 "$HUBD" -c "$T_DIR/none.conf" --check-config
t_expect_grep "error line starts with the program" "$T_DIR/err" "trosyn-hubd: "

t_expect_status "flag overrides config and is range-checked" 2 \
	"$HUBD" -c "$T_DIR/good.conf" --port 0 --check-config
t_expect_status "flag override accepted" 0 \
	"$HUBD" -c "$T_DIR/good.conf" --port 16001 --check-config

# shellcheck disable=SC2317 # called through t_expect_status
in_tdir() { (cd "$T_DIR" && "$@"); }
t_expect_status "a relative state dir is accepted" 0 \
	in_tdir "$HUBD" -c "$T_DIR/good.conf" -d relative/state --check-config

t_done
