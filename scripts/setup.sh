#!/usr/bin/env bash
# Create .venv at the repository root and install the service with its dev tools, every package
# from requirements/dev.lock: pinned, and checked against its sha256 (scripts/lock.sh writes the
# lock; the README's "Upgrades" section says how to change it). Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# The dashboard's browser tests drive Debian's chromium (Playwright never downloads a browser).
command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
# The lock holds pip and setuptools too, so nothing here is fetched unhashed or unpinned.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
  -r requirements/dev.lock
# The project itself, editable: --no-deps (the lock already installed them) and no build
# isolation (build with the locked setuptools instead of fetching one).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation -e .
