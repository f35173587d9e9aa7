#!/bin/sh
# Install the Debian 12 packages Trosyn needs: "build" for building and
# running, "test" for the whole test suite as well.  Needs root; elsewhere it
# only says what it would install.
set -eu

BUILD_DEPS="build-essential autoconf automake libtool pkg-config \
libssl-dev libjson-c-dev uuid-dev libsqlite3-dev check openssl"
TEST_DEPS="procps iproute2 shellcheck mandoc"

case "${1:-build}" in
build) deps=$BUILD_DEPS ;;
test) deps="$BUILD_DEPS $TEST_DEPS" ;;
*) echo "usage: install-deps.sh [build|test]" >&2; exit 2 ;;
esac

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2086 # the list is split on purpose
	apt-get install -y --no-install-recommends $deps
else
	echo "install-deps: not root on Debian; make sure these are installed: $deps" >&2
fi
