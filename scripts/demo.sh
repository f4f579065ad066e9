#!/usr/bin/env bash
# The main job: builds Ferry, starts the emulator in-process and runs a migration runbook against it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec bin/ferry demo "$@"
