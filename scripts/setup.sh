#!/usr/bin/env bash
# Create .venv at the repository root and install the service with its dev tools, every package
# from requirements/dev.lock: pinned, and checked against its sha256 (scripts/lock.sh writes the
# lock; the README's "Upgrades" section says how to change it).
#
#   bash scripts/setup.sh [--no-test-tools] [--check]
#
# Quick when nothing changed: a stamp in .venv (the hash of the lock, pyproject.toml, this
# script and the interpreter's version) skips the install when they are all as last installed.
# --check   only say whether .venv is up to date (exit 0) or would be installed (exit 1).
# --no-test-tools   skip Debian's packages that only tests run: chromium (the browser tests),
#                   prometheus with its promtool, and nginx (tests/deploy and the end-to-end
#                   monitoring and proxy tests). scripts/run.sh needs none of them.
# --no-browser      the same (its older name, kept for scripts/run.sh).
# Each of those packages is installed (as root) only when missing, and its service is neither
# started nor enabled at boot: the tests start their own on free ports, and a system
# Prometheus on :9090 or nginx on :80 would only sit on the ports the compose file publishes.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
STAMP=.venv/.cse-setup-stamp
check=false
test_tools=true
for arg in "$@"; do
  case $arg in
    --check) check=true ;;
    --no-test-tools | --no-browser) test_tools=false ;;
    *) echo "setup.sh: unknown option $arg (--check, --no-test-tools)" >&2; exit 2 ;;
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
# Debian's packages the tests drive (no test downloads a binary): chromium for the dashboard's
# browser tests (Playwright never downloads a browser), prometheus and nginx for the monitoring
# and proxy tests. A policy-rc.d answering 101 is Debian's way to keep an install from starting
# a service (one already there, as in containers, is left as it is); update-rc.d disable keeps
# it from starting at boot, under systemd or sysvinit.
install_without_services() {
  local policy=/usr/sbin/policy-rc.d
  if [ ! -e $policy ]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' >$policy
    chmod 755 $policy
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
  for package in "$@"; do
    if [ -e "/etc/init.d/$package" ]; then update-rc.d "$package" disable; fi
  done
}
if $test_tools; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  { command -v prometheus && command -v promtool; } >/dev/null || missing+=(prometheus)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  if [ ${#missing[@]} -gt 0 ]; then install_without_services "${missing[@]}"; fi
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
