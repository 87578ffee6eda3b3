#!/usr/bin/env bash
# Set up, then run the service on its embedded default: a real Temporal dev server (a SQLite
# file in the data folder, so cases survive a restart; Web UI on :8233), the worker and the
# HTTP API. Quiet: it prints the addresses, how to sign in and where the logs are; the
# installer's and the services' output go to log files in the data folder.
#
#   bash scripts/run.sh [--demo]
#
#   --demo   also seed a synthetic demo caseload (about 40 DEMO- cases, `cse-demo`) and run the
#            MASE panel once, so the dashboard, agenda and oversight report have something in
#            them. Seeding again skips the cases already there.
#
# With the API on loopback and no CSE_USERS_FILE (nor OIDC), the first run makes a local users
# file (<data>/users.toml, mode 0600, api/first_run.py) and prints one token per role, once.
# Ctrl-C stops everything it started.
#
# Environment: CSE_DATA_DIR (data), TEMPORAL_ADDRESS (127.0.0.1:7233), CSE_UI_PORT (8233),
# CSE_API_HOST and CSE_API_PORT (127.0.0.1, 8000), CSE_SKIP_SETUP=1 (use .venv as it is), and
# every service setting of the README.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed -E 's/^# ?//'; }
demo=false
for arg in "$@"; do
  case $arg in
    --demo) demo=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
  esac
done

data=${CSE_DATA_DIR:-data}
(umask 077 && mkdir -p "$data")
ui_port=${CSE_UI_PORT:-8233}
export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
export CSE_API_HOST=${CSE_API_HOST:-127.0.0.1}
export CSE_API_PORT=${CSE_API_PORT:-8000}
export CSE_OUTBOX_FILE=${CSE_OUTBOX_FILE:-$data/outbox.jsonl}
export CSE_POLICY_LEDGER=${CSE_POLICY_LEDGER:-$data/policy-ledger.json}
export CSE_PUBLIC_URL=${CSE_PUBLIC_URL:-http://127.0.0.1:$CSE_API_PORT}
export CSE_CODEC_CORS_ORIGIN=${CSE_CODEC_CORS_ORIGIN:-http://127.0.0.1:$ui_port}
temporal_port=${TEMPORAL_ADDRESS##*:}
api_here=${CSE_API_HOST#[}
api_here=${api_here%]}
case $api_here in
  0.0.0.0 | ::) api_here=127.0.0.1 ;;  # listening everywhere: reached here through loopback
esac
case $api_here in
  *:*) api_url=http://[$api_here]:$CSE_API_PORT ;;
  *) api_url=http://$api_here:$CSE_API_PORT ;;
esac

# ---- everything started here is stopped on the way out (Ctrl-C, TERM, an error, the end) ----
pids=()
names=()
signin=""
signin_new=false  # tokens made by this run: shown even if the start fails, never lost
signin_shown=false
stop_all() {
  trap - EXIT INT TERM
  if $signin_new && ! $signin_shown; then
    printf '%s\n' "$signin"
  fi
  local pid alive=()
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill -TERM "$pid" 2>/dev/null && alive+=("$pid")
  done
  for _ in $(seq 1 50); do  # up to 10 s to shut down cleanly, then SIGKILL
    local running=false
    for pid in ${alive[@]+"${alive[@]}"}; do
      kill -0 "$pid" 2>/dev/null && running=true
    done
    $running || break
    sleep 0.2
  done
  for pid in ${alive[@]+"${alive[@]}"}; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap 'echo; echo "Stopping..."; stop_all; echo "Stopped."; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

started() {  # started NAME: remember the last background job
  pids+=("$!")
  names+=("$1")
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_ok() {  # http_ok HOST PORT PATH: 200 answered
  (
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&3
    IFS= read -r -t 5 status <&3 || exit 1
    [[ $status == "HTTP/1."?" 200"* ]]
  ) 2>/dev/null
}

log_of() { echo "$data/$1.log"; }

failed() {  # failed NAME WHY: say so, with the end of its log
  echo "$1 $2; the end of $(log_of "$1"):" >&2
  tail -n 25 "$(log_of "$1")" >&2 || true
  exit 1
}

# ---- setup: quiet, and skipped when nothing changed ----------------------------------------
if [ "${CSE_SKIP_SETUP:-}" != 1 ] && ! bash scripts/setup.sh --check; then
  echo "Installing into .venv (a few minutes the first time; log: $data/setup.log)"
  if ! bash scripts/setup.sh --no-browser >"$data/setup.log" 2>&1; then
    tail -n 40 "$data/setup.log" >&2
    echo "setup failed: see $data/setup.log" >&2
    exit 1
  fi
fi

# Children's data is sealed before it reaches Temporal (README "Encryption"): on first run a
# key is made, readable by this user alone, unless CSE_CODEC_KEYS (or plaintext) is given.
if [ -z "${CSE_CODEC_KEYS:-}" ] && [ "${CSE_PLAINTEXT_PAYLOADS:-false}" != "true" ]; then
  if [ ! -s "$data/codec-keys" ]; then
    (umask 077 && .venv/bin/python -c 'from edge.codec import new_key_item; print(new_key_item("local-1"))' >"$data/codec-keys")
  fi
  chmod 600 "$data/codec-keys"
  CSE_CODEC_KEYS=$(cat "$data/codec-keys")
  export CSE_CODEC_KEYS
fi

# A child's referrals are linked through a keyed index (README "Encryption"), under its own key:
# made on first run beside the payload key, unless CSE_INDEX_KEYS is given.
if [ -z "${CSE_INDEX_KEYS:-}" ]; then
  if [ ! -s "$data/index-keys" ]; then
    (umask 077 && .venv/bin/python -c 'from edge.codec import new_key_item; print(new_key_item("index-1"))' >"$data/index-keys")
  fi
  chmod 600 "$data/index-keys"
  CSE_INDEX_KEYS=$(cat "$data/index-keys")
  export CSE_INDEX_KEYS
fi

# Dashboard sessions live in a sealed cookie (api/dashboard/sessions.py): on first run a key is
# made beside the payload key, so a restart of the API signs nobody out.
if [ -z "${CSE_SESSION_KEYS:-}" ]; then
  if [ ! -s "$data/session-keys" ]; then
    (umask 077 && .venv/bin/python -c 'from edge.codec import new_key_item; print(new_key_item("session-1"))' >"$data/session-keys")
  fi
  chmod 600 "$data/session-keys"
  CSE_SESSION_KEYS=$(cat "$data/session-keys")
  export CSE_SESSION_KEYS
fi

# Sign in on first run: a local users file, on loopback only (api/first_run.py says why not).
if [ -z "${CSE_USERS_FILE:-}" ] && [ -z "${CSE_OIDC_ISSUER:-}" ]; then
  [ -e "$data/users.toml" ] || signin_new=true
  if signin=$(.venv/bin/python -m api.first_run "$data/users.toml" 2>"$data/first-run.log"); then
    export CSE_USERS_FILE=$data/users.toml
  elif [ $? -eq 3 ]; then
    signin_new=false
    signin="No one can sign in yet: $(cat "$data/first-run.log")"
  else
    signin_new=false
    cat "$data/first-run.log" >&2
    exit 1
  fi
fi

for pair in "TEMPORAL_ADDRESS:$temporal_port" "CSE_UI_PORT:$ui_port" "CSE_API_PORT:$CSE_API_PORT"; do
  if port_in_use "${pair#*:}"; then
    echo "port ${pair#*:} is in use (another run?): stop it, or set ${pair%%:*} to a free port" >&2
    exit 1
  fi
done

# ---- the Temporal dev server ----------------------------------------------------------------
flags=$(.venv/bin/python -c 'from edge.search_attributes import cli_flags; print(" ".join(cli_flags()))')
# The Web UI decodes sealed payloads through the API's codec server (README "Encryption"), with
# the dashboard session of whoever signed in there: hence /dashboard/codec, where that cookie goes.
# shellcheck disable=SC2086  # the flags are words by design
.venv/bin/temporal server start-dev --ip 127.0.0.1 --port "$temporal_port" --ui-port "$ui_port" \
  --ui-codec-endpoint "$api_url/dashboard/codec" \
  --db-filename "$data/temporal.db" --log-level warn $flags >"$(log_of temporal-server)" 2>&1 &
started temporal-server
healthy=false
for _ in $(seq 1 120); do
  if .venv/bin/temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
    healthy=true
    break
  fi
  kill -0 "${pids[0]}" 2>/dev/null || failed temporal-server "exited"
  sleep 0.5
done
$healthy || failed temporal-server "did not answer within 60 s"

# ---- the worker and the HTTP API, started together ------------------------------------------
.venv/bin/python worker.py >"$(log_of worker)" 2>&1 &
started worker
.venv/bin/python -m api >"$(log_of api)" 2>&1 &
started api
worker_up=false
api_up=false
for _ in $(seq 1 120); do
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || failed "${names[$i]}" "exited"
  done
  $worker_up || { grep -q 'worker started' "$(log_of worker)" && worker_up=true; } || true
  $api_up || { http_ok "$api_here" "$CSE_API_PORT" /health && api_up=true; } || true
  $worker_up && $api_up && break
  sleep 0.5
done
$worker_up || failed worker "did not start within 60 s"
$api_up || failed api "did not answer /health within 60 s"

if $demo; then
  echo "Seeding the demo caseload (log: $(log_of demo))..."
  .venv/bin/python -m cli.demo 2>"$(log_of demo)" &
  demo_pid=$!
  pids+=("$demo_pid")
  if ! wait "$demo_pid"; then
    echo "the demo caseload was not completely seeded; the end of $(log_of demo):" >&2
    tail -n 15 "$(log_of demo)" >&2 || true
  fi
fi

echo
echo "The CSE referral pathway is running. Ctrl-C stops it all."
echo "  Dashboard    $api_url/dashboard/"
echo "  API docs     $api_url/docs"
echo "  Temporal UI  http://127.0.0.1:$ui_port (Temporal at $TEMPORAL_ADDRESS)"
# The dev server's UI cannot be told to send the dashboard's cookie to the codec server (the
# compose file's UI is, with TEMPORAL_CODEC_INCLUDE_CREDENTIALS): one step for each browser.
echo "               to read sealed cases there: sign in on the dashboard as a head of service,"
echo "               then in the UI's codec setting (top right) keep $api_url/dashboard/codec"
echo "               and tick 'Include cross-origin credentials'"
echo "  Logs         $(log_of temporal-server), $(log_of worker), $(log_of api)"
if [ -n "$signin" ]; then
  echo
  printf '%s\n' "$signin"
fi
signin_shown=true

# ---- until one of them ends, or Ctrl-C --------------------------------------------------------
services=("${pids[@]:0:3}")
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501)); then
  status=0
  wait -n -p ended "${services[@]}" || status=$?
else  # bash before 5.1 cannot say which job ended: look every second
  ended=""
  while [ -z "$ended" ]; do
    for pid in "${services[@]}"; do kill -0 "$pid" 2>/dev/null || ended=$pid; done
    [ -n "$ended" ] || sleep 1
  done
  status="unknown"
fi
for i in "${!services[@]}"; do
  if [ "${services[$i]}" = "${ended:-}" ]; then
    failed "${names[$i]}" "stopped (exit $status)"
  fi
done
exit 1
