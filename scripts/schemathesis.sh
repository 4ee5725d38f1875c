#!/usr/bin/env bash
# Property-based contract test: starts embedserve on a free loopback port over the fixture model
# and word2vec store, runs schemathesis against ./openapi.yaml with every check, stops the server.
# Exits non-zero when schemathesis reports a failure (or the server does not become ready).
#
# usage: scripts/schemathesis.sh [extra schemathesis arguments...]
# environment:
#   EMBEDSERVE_BIN   server binary (default: $CARGO_TARGET_DIR or ./target, release profile;
#                    built with `cargo build --release` unless SKIP_BUILD=1)
#   MODEL_DIR        model directory (../shared/fixtures/all-minilm-l6-v2-bf16)
#   WORD2VEC         word2vec store (../shared/fixtures/word2vec/lee-cbow50.bin)
#   MAX_EXAMPLES     examples per operation and phase (40)
#   SEED             hypothesis seed, for reproducible runs (unset: random)
#   TIME_LIMIT       seconds before the schemathesis run is killed (270)
#   REPORT_DIR       where the JUnit and NDJSON reports go (a temporary directory, kept on failure)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FIXTURES=$ROOT/../shared/fixtures
MODEL_DIR=${MODEL_DIR:-$FIXTURES/all-minilm-l6-v2-bf16}
WORD2VEC=${WORD2VEC:-$FIXTURES/word2vec/lee-cbow50.bin}
MAX_EXAMPLES=${MAX_EXAMPLES:-40}
TIME_LIMIT=${TIME_LIMIT:-270}
BIN=${EMBEDSERVE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/embedserve}

command -v schemathesis >/dev/null || { echo "schemathesis is not installed (pip install schemathesis)" >&2; exit 2; }
for path in "$MODEL_DIR" "$WORD2VEC"; do
  [ -e "$path" ] || { echo "missing fixture: $path" >&2; exit 2; }
done
if [ "${SKIP_BUILD:-0}" != 1 ] && [ -z "${EMBEDSERVE_BIN:-}" ]; then
  cargo build --release --locked --bin embedserve
fi

WORK=$(mktemp -d)
REPORT_DIR=${REPORT_DIR:-$WORK/report}
SERVER_PID=
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -eq 0 ]; then rm -rf "$WORK"; else echo "server log and reports kept in $WORK" >&2; fi
}
trap cleanup EXIT

# A free port: bind port 0, read it, release it (the server binds it a moment later).
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
"$BIN" --config /dev/null --listen "127.0.0.1:$PORT" --model-dir "$MODEL_DIR" --word2vec "$WORD2VEC" \
  --max-batch-size 1000000 --max-tokens-per-input 100000000 --max-topn 9223372036854775807 \
  --log-level warn >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "$BASE/health/ready" || { echo "the server did not become ready in 30 s" >&2; exit 1; }

# Limits a schema cannot state (they are settings) are raised so a schema-valid request never hits
# them. What still depends on the served model or store cannot be written in the schema either: a
# token id must be below the matrix's rows, a text may tokenize to nothing (pooling then has
# nothing to pool), a vector must have the store's dimension, and GET /similar needs at least one
# word among word/positive/negative (a rule across parameters). For those operations, and only for
# positive_data_acceptance, a 422 counts as a correct refusal; every other check stays as is.
cat >"$WORK/schemathesis.toml" <<'TOML'
[[operations]]
include-operation-id = ["embed", "openaiEmbeddings", "similarGet", "similarPost"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]
TOML

# shellcheck disable=SC2054 # "junit,ndjson" is one argument
args=(--config-file "$WORK/schemathesis.toml" run "$ROOT/openapi.yaml" --url "$BASE" --checks all --max-examples "$MAX_EXAMPLES"
  --request-timeout 20 --workers 2 --report junit,ndjson --report-dir "$REPORT_DIR")
[ -n "${SEED:-}" ] && args+=(--seed "$SEED")
echo "schemathesis against $BASE (max $MAX_EXAMPLES examples per operation, at most ${TIME_LIMIT}s)"
timeout --signal=INT --kill-after=10 "$TIME_LIMIT" schemathesis "${args[@]}" "$@"
