#!/usr/bin/env bash
# Set up, then run the linters, the type checker and every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# Every tier and every test: `-m ""` lifts the `not slow` that plain `pytest` runs with.
.venv/bin/pytest tests -m "" "$@"
