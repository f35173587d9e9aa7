#!/bin/sh
# shellcheck disable=SC2154 # inst_* and MAKE come from make check (scripts/Makefile.inc)
# "make install" and "make uninstall" of the build tree into a temp
# DESTDIR: where every file lands and with which mode, paths in the
# installed scripts and units fully expanded, hubd.conf installed only when
# absent and kept by uninstall when changed, state directories 0700 and
# kept with their data, nothing else left behind.  It runs a make of its
# own in the build tree, which writes only below DESTDIR (everything is
# built already, since make check builds all first).
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-.}/tests/integration/lib.sh"

: "${MAKE:=make}"
for v in "$inst_prefix" "$inst_bindir" "$inst_sbindir" "$inst_libdir" \
	"$inst_includedir" "$inst_mandir" "$inst_sysconfdir" \
	"$inst_localstatedir" "$inst_pkgconfigdir"; do
	case $v in
	/*) ;;
	*) echo "install.sh: run it through make check (no inst_* directories)"; exit 99 ;;
	esac
done
D="$T_DIR/destdir"
LOG="$T_DIR/make.log"

# Run make TARGET... in the build tree with DESTDIR=$D, apart from the make
# that runs this test (its MAKEFLAGS hold its jobserver and variables).
mk() {
	# shellcheck disable=SC2086 # MAKE may hold arguments
	(cd "$top_builddir" && MAKEFLAGS='' MFLAGS='' $MAKE "$@" DESTDIR="$D") \
		>"$LOG" 2>&1
}

# The mode string of PATH as ls shows it (-rwxr-xr-x), or "missing".
mode() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		# shellcheck disable=SC2012 # ls is the portable way to a mode
		ls -ld "$1" | cut -c 1-10
	else
		echo missing
	fi
}

# Expect PATH (below $D) to exist with MODE; remember it as installed.
# usage: expect NAME PATH MODE
expect() {
	echo "$2" >>"$T_DIR/expected"
	got=$(mode "$D$2")
	if [ "$got" = "$3" ]; then
		t_ok "$1"
	else
		t_fail "$1" "$2: $got, wanted $3"
	fi
}

# Every file and link below $D, one a line, sorted, without the $D prefix.
installed() {
	(cd "$D" && find . \( -type f -o -type l \) -print) | sed 's|^\.||' | sort
}

t_expect_status "make install" 0 mk install
[ "$T_FAILED" -eq 0 ] || { tail -n 40 "$LOG"; t_done; }
: >"$T_DIR/expected"

# --- programs, library, header, pkg-config, manual pages ---
expect "trosyn-hubd is 0755" "$inst_sbindir/trosyn-hubd" -rwxr-xr-x
expect "trosyn-admin is 0755" "$inst_sbindir/trosyn-admin" -rwxr-xr-x
expect "trosyn-client is 0755" "$inst_bindir/trosyn-client" -rwxr-xr-x
expect "libtrosyn.so.0.0.0 is 0755" "$inst_libdir/libtrosyn.so.0.0.0" -rwxr-xr-x
expect "libtrosyn.so.0 is a link" "$inst_libdir/libtrosyn.so.0" lrwxrwxrwx
expect "libtrosyn.so is a link" "$inst_libdir/libtrosyn.so" lrwxrwxrwx
t_check "the links reach the library" test -f "$D$inst_libdir/libtrosyn.so"
# libtool installs its .la file with the mode of a program, as everywhere.
expect "libtrosyn.la is libtool's 0755" "$inst_libdir/libtrosyn.la" -rwxr-xr-x
expect "trosyn.h is 0644" "$inst_includedir/trosyn.h" -rw-r--r--
expect "trosyn.pc is 0644" "$inst_pkgconfigdir/trosyn.pc" -rw-r--r--
t_expect_grep "trosyn.pc has the prefix" "$D$inst_pkgconfigdir/trosyn.pc" "prefix=$inst_prefix"
for page in "$top_srcdir"/man/*.[1-8]; do
	p=$(basename "$page")
	expect "$p is 0644" "$inst_mandir/man${p##*.}/$p" -rw-r--r--
done

# --- configuration, init script, logrotate, units, state dirs ---
etc="$inst_sysconfdir"
expect "hubd.conf.sample is 0644" "$etc/trosyn/hubd.conf.sample" -rw-r--r--
expect "client.conf.sample is 0644" "$etc/trosyn/client.conf.sample" -rw-r--r--
expect "hubd.conf is installed, 0644" "$etc/trosyn/hubd.conf" -rw-r--r--
t_check "hubd.conf is the sample" cmp -s "$D$etc/trosyn/hubd.conf" \
	"$D$etc/trosyn/hubd.conf.sample"
expect "the init script is 0755" "$etc/init.d/trosyn-hubd" -rwxr-xr-x
t_expect_grep "the init script runs the installed hub" "$D$etc/init.d/trosyn-hubd" \
	"TROSYN_HUBD:=$inst_sbindir/trosyn-hubd}"
expect "the logrotate stanza is 0644" "$etc/logrotate.d/trosyn" -rw-r--r--
t_check "hub state dir is 0700" test "$(mode "$D$inst_localstatedir/lib/trosyn")" = drwx------
t_check "node state dir is 0700" test "$(mode "$D$inst_localstatedir/lib/trosyn-client")" = drwx------
if [ -n "$inst_unitdir" ]; then
	expect "trosyn-hubd.service is 0644" "$inst_unitdir/trosyn-hubd.service" -rw-r--r--
	expect "trosyn-client@.service is 0644" "$inst_unitdir/trosyn-client@.service" -rw-r--r--
	t_expect_grep "the hub unit starts the installed hub" \
		"$D$inst_unitdir/trosyn-hubd.service" "ExecStart=$inst_sbindir/trosyn-hubd "
	t_expect_grep "the node unit starts the installed client" \
		"$D$inst_unitdir/trosyn-client@.service" "ExecStart=$inst_bindir/trosyn-client "
else
	echo "# configured without --with-systemdsystemunitdir: no units expected"
fi
# shellcheck disable=SC2016 # literal ${prefix}, not an expansion
bad=$(grep -l -e '${prefix}' -e '${exec_prefix}' -e '@[A-Za-z_][A-Za-z_]*@' "$D$etc/init.d/trosyn-hubd" \
	"$D$etc/trosyn/"*.sample ${inst_unitdir:+"$D$inst_unitdir"/*.service})
t_check "installed scripts have every path expanded (not: ${bad:-none})" test -z "$bad"

installed >"$T_DIR/installed"
sort "$T_DIR/expected" >"$T_DIR/expected.sorted"
extra=$(comm -23 "$T_DIR/installed" "$T_DIR/expected.sorted" | tr '\n' ' ')
t_check "nothing else is installed (extra: ${extra:-none})" test -z "$extra"

# --- a second install keeps the administrator's hubd.conf ---
echo "log_level = debug" >>"$D$etc/trosyn/hubd.conf"
t_expect_status "make install over an installed tree" 0 mk install
t_expect_grep "the changed hubd.conf is kept" "$D$etc/trosyn/hubd.conf" "log_level = debug"
t_expect_grep "make install says so" "$LOG" "keeping the existing"
t_check "the sample is still the fresh one" cmp -s "$D$etc/trosyn/hubd.conf.sample" \
	"$top_builddir/scripts/hubd.conf.sample"

# --- uninstall: the changed hubd.conf and the hub's data stay ---
echo "data" >"$D$inst_localstatedir/lib/trosyn/hub.db"
t_expect_status "make uninstall" 0 mk uninstall
installed >"$T_DIR/left"
printf '%s\n' "$etc/trosyn/hubd.conf" "$inst_localstatedir/lib/trosyn/hub.db" |
	sort >"$T_DIR/left.expected"
t_check "uninstall leaves only the changed hubd.conf and the data ($(tr '\n' ' ' <"$T_DIR/left"))" \
	cmp -s "$T_DIR/left" "$T_DIR/left.expected"
t_check "the empty node state dir is removed" test ! -e "$D$inst_localstatedir/lib/trosyn-client"

# --- and from a pristine install, uninstall leaves no file at all ---
rm -rf "$D"
t_expect_status "make install again" 0 mk install
t_expect_status "make uninstall again" 0 mk uninstall
installed >"$T_DIR/left"
t_check "no file is left ($(tr '\n' ' ' <"$T_DIR/left"))" test ! -s "$T_DIR/left"
t_check "the empty hub state dir is removed" test ! -e "$D$inst_localstatedir/lib/trosyn"

# --- as root, the state dirs go to the service user when it exists ---
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	rm -rf "$D"
	t_expect_status "make install TROSYN_USER=nobody" 0 mk install TROSYN_USER=nobody
	# shellcheck disable=SC2012 # the owner's name, portably
	owner=$(ls -ld "$D$inst_localstatedir/lib/trosyn" | awk '{ print $3 }')
	t_check "root: the hub state dir belongs to nobody" test "$owner" = nobody
	t_check "root: and is 0700" test "$(mode "$D$inst_localstatedir/lib/trosyn")" = drwx------
	mk uninstall
fi
t_done
