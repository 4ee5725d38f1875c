#!/usr/bin/env bash
# Load test on loopback with oha: many connections for a bounded time against POST /embed and
# GET /similar (zero errors and non-200 answers allowed; p50/p99 latency, requests/s, resident
# memory before and after), then a burst past max_concurrent_requests on a server started with a
# small limit: 429s with Retry-After, every request answered within the request timeout, and
# requests succeeding again afterwards. Exits non-zero when any of that does not hold.
#
# usage: scripts/loadtest.sh
# environment:
#   DURATION           seconds of each sustained run (60)
#   CONNECTIONS        concurrent connections of the sustained runs (64)
#   BURST_LIMIT        --max-concurrent-requests of the burst server (4)
#   BURST_REQUESTS     requests in the burst (3000), sent over BURST_CONNECTIONS (64)
#   REQUEST_TIMEOUT    seconds after which oha counts a request as hung (10)
#   EMBEDSERVE_BIN     server binary (default: built with `cargo build --release` unless
#                      SKIP_BUILD=1, in $CARGO_TARGET_DIR or ./target; see scripts/lib.sh)
#   OHA                oha binary (oha on PATH, else ~/.cargo/bin/oha; `cargo install oha`)
#   MODEL_DIR, WORD2VEC  served model and store (the ../shared/fixtures ones)
#   READY_TIMEOUT      seconds a server may take to become ready (60)
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-64}
BURST_LIMIT=${BURST_LIMIT:-4}
BURST_REQUESTS=${BURST_REQUESTS:-3000}
BURST_CONNECTIONS=${BURST_CONNECTIONS:-64}
REQUEST_TIMEOUT=${REQUEST_TIMEOUT:-10}

use_fixture_model
use_oha
use_embedserve_bin
use_workdir

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# summarize LABEL JSON [ALLOWED_STATUSES]: one line of figures from oha's JSON; fails when a
# request errored (connection error, timeout) or got a status outside ALLOWED_STATUSES (200).
summarize() {
  python3 - "$1" "$2" "${3:-200}" <<'PY'
import json, sys
label, path, allowed = sys.argv[1], sys.argv[2], set(sys.argv[3].split(","))
report = json.load(open(path))
summary, pct = report["summary"], report["latencyPercentiles"]
statuses = {str(k): v for k, v in report.get("statusCodeDistribution", {}).items()}
errors = report.get("errorDistribution", {})
total = sum(statuses.values()) + sum(errors.values())
ms = lambda seconds: f"{seconds * 1000:.1f} ms" if seconds is not None else "n/a"
print(f"{label}: {total} requests, {summary['requestsPerSec']:.0f} req/s, "
      f"p50 {ms(pct.get('p50'))}, p99 {ms(pct.get('p99'))}, slowest {ms(summary.get('slowest'))}, "
      f"statuses {statuses}, errors {errors or 0}")
bad = {k: v for k, v in statuses.items() if k not in allowed}
if errors or bad or total == 0:
    sys.exit(f"{label}: FAILED (unexpected statuses {bad}, errors {errors})")
PY
}

# run_oha LABEL ALLOWED_STATUSES OHA_ARGS...: runs oha (bounded by `timeout`) into $WORK/LABEL.json.
run_oha() {
  local label=$1 allowed=$2
  shift 2
  timeout --kill-after=5 $((DURATION + 60)) "$OHA" --no-tui --output-format json \
    -t "${REQUEST_TIMEOUT}s" "$@" >"$WORK/$label.json"
  summarize "$label" "$WORK/$label.json" "$allowed"
}

SENTENCE="The quick brown fox jumps over the lazy dog while the government debates new laws."
EMBED_BODY=$(printf '{"inputs": ["%s", "%s"], "pooling": "mean", "normalize": true}' "$SENTENCE" "$SENTENCE")
# 64 copies of the sentence (about 1.1k tokens): long enough that burst requests overlap.
LONG_BODY=$(python3 -c 'import json, sys; print(json.dumps({"inputs": " ".join([sys.argv[1]] * 64)}))' "$SENTENCE")

echo "== sustained load: ${DURATION}s x ${CONNECTIONS} connections"
serve_fixture_model "$WORK/sustained.log"
before=$(rss_kib "$SERVER_PID")
run_oha embed 200 -w -z "${DURATION}s" -c "$CONNECTIONS" -m POST -H 'content-type: application/json' \
  -d "$EMBED_BODY" "$BASE/embed"
after_embed=$(rss_kib "$SERVER_PID")
run_oha similar 200 -w -z "${DURATION}s" -c "$CONNECTIONS" "$BASE/similar?word=government&topn=10"
after_similar=$(rss_kib "$SERVER_PID")
echo "VmRSS: ready $((before / 1024)) MiB, after /embed $((after_embed / 1024)) MiB, after /similar $((after_similar / 1024)) MiB"
stop_server "$SERVER_PID"

echo "== burst: ${BURST_REQUESTS} requests over ${BURST_CONNECTIONS} connections, max_concurrent_requests ${BURST_LIMIT}"
serve_fixture_model "$WORK/burst.log" --max-concurrent-requests "$BURST_LIMIT"
"$OHA" --no-tui --output-format json -t "${REQUEST_TIMEOUT}s" -n "$BURST_REQUESTS" -c "$BURST_CONNECTIONS" \
  -m POST -H 'content-type: application/json' -d "$LONG_BODY" "$BASE/embed" >"$WORK/burst.json" &
OHA_PID=$!
BACKGROUND_PIDS+=("$OHA_PID")
# While the burst runs, one extra request at a time until one is shed: its headers show Retry-After.
retry_after=
for _ in $(seq 1 200); do
  curl -sS -D "$WORK/probe.headers" -o /dev/null -m "$REQUEST_TIMEOUT" -H 'content-type: application/json' \
    -d "$LONG_BODY" "$BASE/embed" || true
  if head -1 "$WORK/probe.headers" | grep -q ' 429'; then
    retry_after=$(awk 'tolower($1) == "retry-after:" { print $2 }' "$WORK/probe.headers" | tr -d '\r')
    break
  fi
  kill -0 "$OHA_PID" 2>/dev/null || break
done
timeout $((BURST_REQUESTS * REQUEST_TIMEOUT / BURST_CONNECTIONS + 60)) tail --pid="$OHA_PID" -f /dev/null ||
  { echo "burst: oha did not finish: the server hangs" >&2; exit 1; }
wait "$OHA_PID" || true
summarize burst "$WORK/burst.json" 200,429
shed=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["statusCodeDistribution"].get("429", 0))' "$WORK/burst.json")
[ "$shed" -gt 0 ] || { echo "burst: no request was shed with 429" >&2; exit 1; }
[ -n "$retry_after" ] && [ "$retry_after" -ge 1 ] 2>/dev/null ||
  { echo "burst: no 429 with a Retry-After header seen by the probe" >&2; exit 1; }
echo "burst: $shed requests shed with 429; a shed probe carried Retry-After: $retry_after"

# Recovery: once the burst is over, sequential requests must all succeed.
ok=0
for _ in $(seq 1 20); do
  status=$(curl -sS -o /dev/null -w '%{http_code}' -m "$REQUEST_TIMEOUT" -H 'content-type: application/json' \
    -d "$EMBED_BODY" "$BASE/embed")
  [ "$status" = 200 ] && ok=$((ok + 1))
done
[ "$ok" = 20 ] || { echo "recovery: only $ok of 20 requests succeeded after the burst" >&2; exit 1; }
echo "recovery: 20 of 20 sequential requests answered 200 after the burst"
echo "loadtest passed"
