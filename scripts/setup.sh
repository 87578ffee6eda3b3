#!/usr/bin/env bash
# Create .venv at the repository root and install the service with its dev tools, every package
# from requirements/dev.lock: pinned, and checked against its sha256 (scripts/lock.sh writes the
# lock; the README's "Upgrades" section says how to change it).
#
#   bash scripts/setup.sh [--no-browser] [--check]
#
# Quick when nothing changed: a stamp in .venv (the hash of the lock, pyproject.toml, this
# script and the interpreter's version) skips the install when they are all as last installed.
# --check   only say whether .venv is up to date (exit 0) or would be installed (exit 1).
# --no-browser   skip Debian's chromium (the browser tests need it; scripts/run.sh does not).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
STAMP=.venv/.cse-setup-stamp
check=false
browser=true
for arg in "$@"; do
  case $arg in
    --check) check=true ;;
    --no-browser) browser=false ;;
    *) echo "setup.sh: unknown option $arg (--check, --no-browser)" >&2; exit 2 ;;
  esac
done

wanted_stamp() {
  {
    cat requirements/dev.lock pyproject.toml scripts/setup.sh
    .venv/bin/python -c 'import sys; print(sys.version)'
  } | { sha256sum 2>/dev/null || shasum -a 256; } | cut -d ' ' -f 1
}

up_to_date() {
  [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_stamp)" ]
}

if $check; then
  up_to_date
  exit
fi
# The dashboard's browser tests drive Debian's chromium (Playwright never downloads a browser).
if $browser; then
  command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)
fi
if up_to_date; then
  echo "setup: .venv is up to date ($STAMP); nothing installed"
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
rm -f "$STAMP"
stamp=$(wanted_stamp)  # what is installed below, even if a file changes meanwhile
# The lock holds pip and setuptools too, so nothing here is fetched unhashed or unpinned.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
  -r requirements/dev.lock
# The project itself, editable: --no-deps (the lock already installed them) and no build
# isolation (build with the locked setuptools instead of fetching one).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation -e .
echo "$stamp" >"$STAMP"
echo "setup: installed; stamp written to $STAMP"
