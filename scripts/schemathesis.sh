#!/usr/bin/env bash
# Property-based contract test: starts embedserve on a free loopback port over the fixture model
# and word2vec store, runs schemathesis against ./openapi.yaml with every check, stops the server.
# Exits non-zero when schemathesis reports a failure (or the server does not become ready).
#
# usage: scripts/schemathesis.sh [extra schemathesis arguments...]
# environment:
#   EMBEDSERVE_BIN   server binary (default: built with `cargo build --release` unless
#                    SKIP_BUILD=1, in $CARGO_TARGET_DIR or ./target; see scripts/lib.sh)
#   MODEL_DIR        model directory (../shared/fixtures/all-minilm-l6-v2-bf16)
#   WORD2VEC         word2vec store (../shared/fixtures/word2vec/lee-cbow50.bin)
#   MAX_EXAMPLES     examples per operation and phase (40)
#   SEED             hypothesis seed, for reproducible runs (unset: random)
#   TIME_LIMIT       seconds before the schemathesis run is killed (270)
#   REPORT_DIR       where the JUnit and NDJSON reports go (a temporary directory, kept on failure)
#   READY_TIMEOUT    seconds the server may take to become ready (60)
#   EMBEDSERVE_SCHEMATHESIS_CACHE  where the venv goes when schemathesis is not on PATH
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
MAX_EXAMPLES=${MAX_EXAMPLES:-40}
TIME_LIMIT=${TIME_LIMIT:-270}

# schemathesis on PATH, else the pinned version in a venv under $EMBEDSERVE_SCHEMATHESIS_CACHE
# (default ~/.cache/embedserve-schemathesis), installed on first use as browser-check.sh does.
SCHEMATHESIS=$(command -v schemathesis || true)
if [ -z "$SCHEMATHESIS" ]; then
  VENV=${EMBEDSERVE_SCHEMATHESIS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/embedserve-schemathesis}/venv
  if ! "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$ROOT/scripts/schemathesis-requirements.txt"
  fi
  SCHEMATHESIS=$VENV/bin/schemathesis
fi
use_fixture_model
use_embedserve_bin
use_workdir keep
REPORT_DIR=${REPORT_DIR:-$WORK/report}

serve_fixture_model "$WORK/server.log" --max-batch-size 1000000 --max-tokens-per-input 100000000 --max-topn 9223372036854775807

# Limits a schema cannot state (they are settings) are raised so a schema-valid request never hits
# them. What still depends on the served model or store cannot be written in the schema either: a
# token id must be below the matrix's rows, a text may tokenize to nothing (pooling then has
# nothing to pool), a vector must have the store's dimension, and GET /similar needs at least one
# word among word/positive/negative (a rule across parameters). For those operations, and only for
# positive_data_acceptance, a 422 counts as a correct refusal; every other check stays as is.
cat >"$WORK/schemathesis.toml" <<'TOML'
[[operations]]
include-operation-id = ["embed", "openaiEmbeddings", "teiEmbedRoot", "teiEmbed", "teiEmbedPath", "similarGet", "similarPost"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "422"]
TOML

# One worker: with two threads, Hypothesis's concurrent `ast.parse` of its own lambdas hit
# CPython 3.11.7's "AST constructor recursion depth mismatch" SystemError (a run failed on it
# with every case passing).
# shellcheck disable=SC2054 # "junit,ndjson" is one argument
args=(--config-file "$WORK/schemathesis.toml" run "$ROOT/openapi.yaml" --url "$BASE" --checks all --max-examples "$MAX_EXAMPLES"
  --request-timeout 20 --workers 1 --report junit,ndjson --report-dir "$REPORT_DIR")
[ -n "${SEED:-}" ] && args+=(--seed "$SEED")
echo "schemathesis against $BASE (max $MAX_EXAMPLES examples per operation, at most ${TIME_LIMIT}s)"
timeout --signal=INT --kill-after=10 "$TIME_LIMIT" "$SCHEMATHESIS" "${args[@]}" "$@"
