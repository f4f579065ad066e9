#!/usr/bin/env bash
# Installs everything Ferry's build, demo and tests need on a fresh Debian machine, then builds Ferry.
# Idempotent: a second run only rebuilds what changed. Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libjansson-dev libsqlite3-dev pkg-config valgrind)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python: one virtualenv with pytest, the reference jmespath package, the official SDKs and Ferry's binding.
req=Tests/python/requirements.txt
stamp=.venv/.ferry-requirements
if [ ! -x .venv/bin/python ] || ! cmp -s "$req" "$stamp"; then
  echo "setup: preparing .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
fi
# The binding is pure Python over ctypes; an editable install keeps it in step with the source tree.
if ! .venv/bin/python -c 'import ferry' >/dev/null 2>&1 && [ -f bindings/python/pyproject.toml ]; then
  .venv/bin/pip install -q --disable-pip-version-check -e bindings/python
fi

if [ "${1:-}" != "--no-build" ]; then
  echo "setup: building Ferry (debug; the first build takes several minutes)"
  . scripts/lib.sh
  build_quietly swift build --product ferry
  build_quietly swift build --product ferry-cli
fi
