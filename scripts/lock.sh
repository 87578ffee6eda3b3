#!/usr/bin/env bash
# Regenerate requirements/runtime.lock (the image) and requirements/dev.lock (setup.sh, CI) from
# pyproject.toml and requirements/build.in: every package pinned with ==, every file's sha256.
# Target: CPython 3.11 on Linux x86_64; checked to resolve the same pins on aarch64.
#
#   scripts/lock.sh                              keep every pin; add or drop what pyproject asks
#   scripts/lock.sh --upgrade-package holidays   move one package (and only what it needs)
#   scripts/lock.sh --upgrade                    move everything
#
# Then review `git diff requirements/` (holidays and temporalio above all: see the README's
# "Upgrades" section), run scripts/setup.sh and the replay and calendar tests.
# Needs PyPI only; uv runs from a throwaway venv, nothing is added to .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
PYTHON=${PYTHON:-python3}

tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"$PYTHON" -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
uv="$tools/venv/bin/uv"

compile() {  # compile PLATFORM OUTPUT ARGS...
  local platform=$1 output=$2
  shift 2
  "$uv" pip compile --quiet --generate-hashes --python-version 3.11 --python-platform "$platform" \
    --custom-compile-command "scripts/lock.sh" -o "$output" "$@"
}

# The runtime lock first; the dev lock is constrained by it, so the two never disagree on a pin.
compile x86_64-unknown-linux-gnu requirements/runtime.lock \
  pyproject.toml requirements/build.in "$@"
compile x86_64-unknown-linux-gnu requirements/dev.lock \
  pyproject.toml requirements/build.in --extra dev -c requirements/runtime.lock "$@"

# An image built on arm64 must get the same pins (the hashes already cover every wheel).
pins() { grep -E '^[A-Za-z0-9]' "$1" | cut -d' ' -f1; }
cp requirements/dev.lock "$tools/dev-aarch64.lock"
compile aarch64-unknown-linux-gnu "$tools/dev-aarch64.lock" \
  pyproject.toml requirements/build.in --extra dev -c requirements/runtime.lock "$@"
if ! diff <(pins requirements/dev.lock) <(pins "$tools/dev-aarch64.lock"); then
  echo "lock.sh: aarch64 resolves different pins (above); the lock is for x86_64 only" >&2
  exit 1
fi
echo "lock.sh: requirements/runtime.lock and requirements/dev.lock written; review git diff requirements/"
