#!/usr/bin/env bash
# Runs every test: the Swift suites, the C suite (normally and under valgrind) and the Python suites.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/lib.sh

echo "== Swift tests"
build_quietly swift build --build-tests
swift test --skip-build

echo "== C tests"
make -s -C Tests/c test
echo "== C tests under valgrind"
make -s -C Tests/c valgrind

echo "== Python tests"
.venv/bin/python -m pytest -q Tests/python bindings/python/tests

echo "== Crash test: SIGKILL the driving process at 200+ points, check exactly-once in the emulator's audit log"
.venv/bin/python Tests/crash/kill_points.py --runs 32 --kills 200
