#!/usr/bin/env bash
# Create .venv at the repository root and install the service with its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# The dashboard's browser tests drive Debian's chromium (Playwright never downloads a browser).
command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
