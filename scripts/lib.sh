# shellcheck shell=bash
# Shared by the pass/fail gates in scripts/ and the comparisons in bench/: source it, do not run
# it (`. "$(dirname "$0")/lib.sh"` from scripts/, `. "$(dirname "$0")/../../scripts/lib.sh"` from
# bench/NAME/). It sets ROOT (the repository root) and FIXTURES, and defines:
#
#   release_build ARGS...      cargo build --release --locked of this repository, with ARGS
#   use_embedserve_bin         sets EMBEDSERVE_BIN, the server binary every script runs: as given,
#                              else built by release_build (unless SKIP_BUILD=1) at
#                              ${CARGO_TARGET_DIR:-ROOT/target}/release/embedserve
#   use_fixture_model          sets MODEL_DIR and WORD2VEC, unless given, to the MiniLM model and
#                              the lee-cbow50 store of FIXTURES; both must exist
#   use_oha                    sets OHA: as given, else oha on PATH, else ~/.cargo/bin/oha
#   use_workdir [keep]         sets WORK, a temporary directory removed on exit (with `keep`,
#                              kept and named when the script fails), after stopping BACKGROUND_PIDS
#   free_port                  prints a free loopback port
#   wait_ready BASE PID LOG    polls BASE/health/ready until it answers 200; fails, showing the end
#                              of LOG, when PID exits first or after READY_TIMEOUT seconds (60)
#   start_server LOG CMD...    runs `CMD... PORT` in the background on a free port, output to LOG,
#                              and waits for readiness; sets SERVER_PID and BASE
#   run_embedserve ARGS... PORT  execs EMBEDSERVE_BIN on 127.0.0.1:PORT with no config file,
#                              warn-level logs and ARGS (the CMD of start_server for embedserve)
#   serve_fixture_model LOG ARGS...  start_server of embedserve on MODEL_DIR and WORD2VEC, with ARGS
#   stop_server PID            SIGTERM, then waits for it
#   die MESSAGE                prints MESSAGE on stderr and exits 1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURES=${EMBEDSERVE_FIXTURES:-$ROOT/../shared/fixtures}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BACKGROUND_PIDS=()

die() {
  echo "$*" >&2
  exit 1
}

release_build() {
  cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" "$@"
}

use_embedserve_bin() {
  if [ -z "${EMBEDSERVE_BIN:-}" ]; then
    [ "${SKIP_BUILD:-0}" = 1 ] || release_build --bin embedserve
    EMBEDSERVE_BIN=$TARGET_DIR/release/embedserve
  fi
  [ -x "$EMBEDSERVE_BIN" ] || die "no server binary at $EMBEDSERVE_BIN (set EMBEDSERVE_BIN)"
}

use_fixture_model() {
  MODEL_DIR=${MODEL_DIR:-$FIXTURES/all-minilm-l6-v2-bf16}
  WORD2VEC=${WORD2VEC:-$FIXTURES/word2vec/lee-cbow50.bin}
  local path
  for path in "$MODEL_DIR" "$WORD2VEC"; do
    [ -e "$path" ] || { echo "missing fixture: $path" >&2; exit 2; }
  done
}

use_oha() {
  OHA=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
  [ -x "$OHA" ] || { echo "oha not found: cargo install oha (or set OHA)" >&2; exit 2; }
}

use_workdir() {
  WORK=$(mktemp -d)
  KEEP_WORK_ON_FAILURE=${1:-}
  trap _lib_cleanup EXIT
}

_lib_cleanup() {
  local status=$? pid
  for pid in "${BACKGROUND_PIDS[@]}"; do stop_server "$pid"; done
  if [ "$status" -ne 0 ] && [ -n "$KEEP_WORK_ON_FAILURE" ]; then
    echo "logs and reports kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
  local base=$1 pid=$2 log=$3 timeout=${READY_TIMEOUT:-60} started=$SECONDS
  until curl -fsS -o /dev/null "$base/health/ready" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$log" >&2
      die "$base: the server exited before it was ready"
    fi
    if ((SECONDS - started >= timeout)); then
      tail -n 40 "$log" >&2
      die "$base: not ready after $timeout s"
    fi
    sleep 0.01
  done
}

start_server() {
  local log=$1 port
  shift
  port=$(free_port)
  BASE=http://127.0.0.1:$port
  "$@" "$port" >"$log" 2>&1 &
  SERVER_PID=$!
  BACKGROUND_PIDS+=("$SERVER_PID")
  wait_ready "$BASE" "$SERVER_PID" "$log"
}

run_embedserve() {
  local port=${*: -1}
  exec "$EMBEDSERVE_BIN" --config /dev/null --log-level warn "${@:1:$#-1}" --listen "127.0.0.1:$port"
}

serve_fixture_model() {
  local log=$1
  shift
  start_server "$log" run_embedserve --model-dir "$MODEL_DIR" --word2vec "$WORD2VEC" "$@"
}

stop_server() {
  kill -TERM "$1" 2>/dev/null && wait "$1" 2>/dev/null || true
}
