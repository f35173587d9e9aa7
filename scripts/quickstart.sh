#!/bin/sh
# Quick start: install the build dependencies, build Trosyn and run the hub.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/install-deps.sh build
[ -x configure ] || autoreconf -fi
mkdir -p _build/quickstart
cd _build/quickstart
[ -f Makefile ] || "$top/configure" --quiet
make -j"${JOBS:-2}" >/dev/null
./trosyn-hubd --version
./trosyn-hubd --check-config
