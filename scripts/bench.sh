#!/usr/bin/env bash
# Ferry's benchmark table: builds release binaries (in .build-release, so the debug .build stays free), then runs
# bench/run_all.py, which measures every row next to its comparison and prints one Markdown table.
# Not part of the test suite. On a fresh clone it sets itself up (scripts/setup.sh --no-build: apt packages and the
# .venv with the official SDKs), so this one command is all a new machine needs.
#
#   scripts/bench.sh                         # full table (about 8-10 minutes on 2 cores, after the build)
#   scripts/bench.sh --quick --reps 1        # smoke test of the harness
#   scripts/bench.sh --only 6,7 --json /tmp/r.json --markdown /tmp/t.md
#
# Environment: FERRY_BENCH_SKIP_BUILD=1 uses the existing release binaries; FERRY_BENCH_TMP picks the directory for
# stores and scratch files (default /var/tmp: a real disk, so fsync costs what it costs).
set -euo pipefail
cd "$(dirname "$0")/.."

# Yardstick tools (Debian packages): wrk for the loopback floors, hyperfine for cold starts, jansson for the C ABI row.
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
dpkg -s libjansson-dev >/dev/null 2>&1 || need+=(libjansson-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The comparison side: the official Python SDKs, the jmespath package and the binding (idempotent, no Swift build).
scripts/setup.sh --no-build >&2

if [ "${FERRY_BENCH_SKIP_BUILD:-}" != "1" ]; then
  # Release build in its own scratch path; nice so that other work on the machine keeps moving. Idempotent.
  for product in FerryBench ferry-cli ferry; do
    echo "bench: building $product (release; the first build takes 10-15 minutes)" >&2
    log=".build-release/bench-build-$product.log"
    mkdir -p .build-release
    if ! nice -n 10 swift build -c release --scratch-path .build-release --product "$product" >"$log" 2>&1; then
      grep -E 'error:' "$log" | head -20 >&2 || tail -20 "$log" >&2
      echo "bench: release build of $product failed (full log: $log)" >&2
      exit 1
    fi
  done
fi

exec .venv/bin/python bench/run_all.py --bin .build-release/release "$@"
