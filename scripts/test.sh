#!/usr/bin/env bash
# Set up, then run the linters, the type checker and every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest tests "$@"  # every tier: plain `pytest` runs only the fast ones
