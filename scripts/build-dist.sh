#!/usr/bin/env bash
# Builds the distributable libferry.so: release, Swift runtime linked statically, stripped, into dist/.
# It needs only libc, libm, libstdc++, libgcc_s, zlib and libsqlite3 on the target host (no Swift toolchain),
# and loads about 3x faster than the RUNPATH build (BENCHMARKS.md / the session notes have the numbers).
# Development builds (scripts/setup.sh) keep SwiftPM's default RUNPATH to the toolchain: no second build.
# Its own scratch path, so it never locks or invalidates the debug build; the first run takes 10-15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-build
swift build -c release --product ferry --scratch-path .build-static -Xswiftc -static-stdlib
mkdir -p dist/include
strip -o dist/libferry.so .build-static/release/libferry.so
cp Include/ferry.h Include/ferry_jansson.h dist/include/
echo "dist/libferry.so ($(du -h dist/libferry.so | cut -f1)); needs: $(readelf -d dist/libferry.so | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
