#!/bin/sh
# The configuration samples (scripts/*.conf.sample, made by make): each
# holds every key its program accepts, loads as it is and with every
# setting uncommented, and shows the built-in default of each key that has
# one.  And the logrotate stanza, when logrotate is installed.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

CONFCHECK="$top_builddir/tests/tools/confcheck"
# Keys without a default: the samples show an example value.
NO_DEFAULT=" pidfile state_dir user hub credentials files_dir broadcast "

# Print the keys of common/conf.c's keyword table that KIND (HUB or
# CLIENT) accepts, one a line.
conf_keys() {
	awk -v kind="$1" '
		/^[ \t]*K\("/ { entry = ""; ink = 1 }
		ink { entry = entry $0 }
		ink && /\),[ \t]*$/ {
			ink = 0
			if (!match(entry, /K\("[a-z_]+"/))
				next
			name = substr(entry, RSTART + 3, RLENGTH - 4)
			if (entry ~ /CONF_BOTH/ || entry ~ ("CONF_" kind))
				print name
		}' "$top_srcdir/common/conf.c"
}

# Check the sample FILE of program KIND (hub or client).
check_sample() {
	kind=$1 file=$2 sn=$(basename "$2")
	KIND=$(echo "$kind" | tr '[:lower:]' '[:upper:]')
	conf_keys "$KIND" >"$T_DIR/keys"
	n=$(wc -l <"$T_DIR/keys")
	if [ "$n" -ge 10 ] && grep -qx port "$T_DIR/keys"; then
		t_ok "$sn: $n $kind keys read from conf.c"
	else
		t_fail "$sn: keys read from conf.c" "only $n: $(cat "$T_DIR/keys")"
	fi
	missing=""
	while read -r key; do
		grep -q "^#$key = " "$file" || missing="$missing $key"
	done <"$T_DIR/keys"
	t_check "$sn: shows every $kind key (missing:${missing:- none})" \
		test -z "$missing"

	t_expect_status "$sn: loads as it is" 0 "$CONFCHECK" "$kind" "$file"
	sed -e 's/^#\([a-z_][a-z_]* = \)/\1/' -e 's/^#\(\[collection \)/\1/' \
		"$file" >"$T_DIR/uncommented"
	t_expect_status "$sn: loads with every setting uncommented" 0 \
		"$CONFCHECK" "$kind" "$T_DIR/uncommented"

	# The top-level settings, one at a time, against the defaults.
	wrong=""
	sed -n -e '/^#\[/q' -e 's/^#\([a-z_][a-z_]* = .*\)/\1/p' "$file" >"$T_DIR/settings"
	while read -r line; do
		key=${line%% *}
		case $NO_DEFAULT in *" $key "*) continue ;; esac
		echo "$line" >"$T_DIR/one.conf"
		"$CONFCHECK" --default "$kind" "$T_DIR/one.conf" >/dev/null 2>&1 ||
			wrong="$wrong '$line'"
	done <"$T_DIR/settings"
	t_check "$sn: every value shown is the default (wrong:${wrong:- none})" \
		test -z "$wrong"
}

check_sample hub "$top_builddir/scripts/hubd.conf.sample"
check_sample client "$top_builddir/scripts/client.conf.sample"

# The collection example is a real one, and the hub itself takes the file.
sed -e 's/^#\([a-z_][a-z_]* = \)/\1/' -e 's/^#\(\[collection \)/\1/' \
	"$top_builddir/scripts/hubd.conf.sample" >"$T_DIR/hubd-all.conf"
t_expect_grep "hub sample has an example collection" "$T_DIR/hubd-all.conf" \
	"[collection documents]"
t_expect_status "trosyn-hubd --check-config takes the sample" 0 \
	"$HUBD" -c "$top_builddir/scripts/hubd.conf.sample" --check-config
t_expect_status "trosyn-hubd --check-config takes it uncommented" 0 \
	"$HUBD" -c "$T_DIR/hubd-all.conf" --check-config

# The checks can fail: a wrong default and an unknown key are caught.
echo "workers = 9" >"$T_DIR/one.conf"
t_expect_status "a value other than the default is noticed" 3 \
	"$CONFCHECK" --default hub "$T_DIR/one.conf"
echo "hub = 192.0.2.1" >"$T_DIR/one.conf"
t_expect_status "a client key in a hub file is refused" 1 \
	"$CONFCHECK" hub "$T_DIR/one.conf"

if command -v logrotate >/dev/null 2>&1; then
	t_expect_status "logrotate takes scripts/trosyn.logrotate" 0 logrotate \
		--debug --state "$T_DIR/logrotate.state" \
		"$top_srcdir/scripts/trosyn.logrotate"
else
	echo "# logrotate not found: the logrotate stanza is not checked"
fi
t_done
