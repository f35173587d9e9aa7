#!/bin/sh
# The manual pages agree with the programs: every long option that a
# program's --help shows is documented in its page, every trosyn-admin
# command has an entry, every configuration key of common/conf.c is in
# trosyn.conf(5), and (when mandoc is installed) every page lints clean.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

MAN="$top_srcdir/man"

# Long options of "$@ --help", one per line.
long_options() {
	"$@" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u
}

for prog in trosyn-hubd:8 trosyn-admin:8 trosyn-client:1; do
	pname=${prog%:*}
	page="$MAN/$pname.${prog#*:}"
	t_expect_status "$pname --help exits 0" 0 "$top_builddir/$pname" --help
	missing=""
	for opt in $(long_options "$top_builddir/$pname"); do
		grep -q -F -- "Fl -${opt#--}" "$page" || missing="$missing $opt"
	done
	t_check "$pname(${prog#*:}) documents every option of --help:${missing:- all there}" \
		test -z "$missing"
done

# trosyn-admin: each command of the usage has an entry in COMMANDS.
missing=""
for cmd in $("$ADMIN" --help | awk '/^  [a-z]/ { print $1 }'); do
	grep -q "^\.It Cm $cmd" "$MAN/trosyn-admin.8" || missing="$missing $cmd"
done
t_check "trosyn-admin(8) has an entry for every command:${missing:- all there}" test -z "$missing"

# Every configuration key of the keyword table is documented.
keys=$(sed -n 's/^[[:space:]]*K("\([a-z_]*\)".*/\1/p' "$top_srcdir/common/conf.c")
missing=""
for key in $keys; do
	grep -q "^\.It Cm $key " "$MAN/trosyn.conf.5" || missing="$missing $key"
done
t_check "trosyn.conf(5) documents every key of common/conf.c:${missing:- all there}" test -z "$missing"
n=$(echo "$keys" | wc -l)
t_check "the keyword table was read ($n keys)" test "$n" -ge 30

if command -v mandoc >/dev/null 2>&1; then
	t_expect_status "mandoc -Tlint -W warning is clean" 0 mandoc -Tlint -W warning \
		"$MAN"/*.[0-9]
else
	echo "SKIP: mandoc is not installed"
fi
t_done
