#!/usr/bin/env bash
# Set up, then run the service on its embedded default: a real Temporal dev server
# (SQLite file under data/, so cases survive a restart; Web UI on :8233), the worker and the
# HTTP API.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p data
# Children's data is sealed before it reaches Temporal (README "Encryption"): on first run a
# key is made, readable by this user alone, unless CSE_CODEC_KEYS (or plaintext) is given.
if [ -z "${CSE_CODEC_KEYS:-}" ] && [ "${CSE_PLAINTEXT_PAYLOADS:-false}" != "true" ]; then
  if [ ! -s data/codec-keys ]; then
    (umask 077 && .venv/bin/python -c 'from edge.codec import new_key_item; print(new_key_item("local-1"))' >data/codec-keys)
  fi
  chmod 600 data/codec-keys
  CSE_CODEC_KEYS=$(cat data/codec-keys)
  export CSE_CODEC_KEYS
fi
export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
port=${TEMPORAL_ADDRESS##*:}
flags=$(.venv/bin/python -c 'from edge.search_attributes import cli_flags; print(" ".join(cli_flags()))')
# The Web UI decodes sealed payloads through the API's codec server (README "Encryption"), with
# the dashboard session of whoever signed in there: hence /dashboard/codec, where that cookie goes.
# shellcheck disable=SC2086  # the flags are words by design
.venv/bin/temporal server start-dev --ip 127.0.0.1 --port "$port" --ui-port 8233 \
  --ui-codec-endpoint "http://127.0.0.1:${CSE_API_PORT:-8000}/dashboard/codec" \
  --db-filename data/temporal.db --log-level warn $flags >data/temporal-server.log 2>&1 &
server=$!
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT INT TERM
for _ in $(seq 1 60); do
  .venv/bin/temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat data/temporal-server.log; exit 1; }
  sleep 0.5
done
echo "Temporal dev server on $TEMPORAL_ADDRESS, Web UI on http://127.0.0.1:8233"
.venv/bin/python worker.py &
# The HTTP API (README "HTTP API") on CSE_API_HOST:CSE_API_PORT, docs at /docs.
.venv/bin/python -m api &
echo "HTTP API on http://${CSE_API_HOST:-127.0.0.1}:${CSE_API_PORT:-8000} (users: ${CSE_USERS_FILE:-config/users.example.toml})"
wait -n
