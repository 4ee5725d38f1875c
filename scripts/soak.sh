#!/usr/bin/env bash
# Soak: mixed traffic at about 80% of the measured capacity for a long run, against a release
# server on the fixture model and store. First 15 s unthrottled measure the capacity of the mix
# (small POST /embed, POST /v1/embeddings of 8 texts, GET /similar), then each route runs at 80%
# of its measured rate for DURATION seconds while resident memory is sampled every 10 s.
# Passes when no request fails or answers other than 200 and resident memory at the end is
# within 10% (or 16 MiB) of its level after the first minute; prints p50/p99 per route.
#
# usage: scripts/soak.sh
# environment:
#   DURATION        seconds of the soak (600)
#   EMBEDSERVE_BIN  server binary (built with `cargo build --release` unless SKIP_BUILD=1; lib.sh)
#   OHA             oha binary (oha on PATH, else ~/.cargo/bin/oha; `cargo install oha`)
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-600}
use_fixture_model
use_oha
use_embedserve_bin
use_workdir keep
serve_fixture_model "$WORK/server.log"
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

EMBED='{"inputs": "The government said on Tuesday that it would act"}'
OPENAI='{"input": ["one text", "a second text", "the third", "four", "five texts", "six", "seven", "eight"]}'
# run LABEL SECONDS EMBED_RATE OPENAI_RATE SIMILAR_RATE: the three routes in parallel, each into
# $WORK/LABEL-ROUTE.json; an empty rate is unthrottled.
run() {
  local label=$1 seconds=$2 pids=() embed_rate=() openai_rate=() similar_rate=()
  [ -z "$3" ] || embed_rate=(-q "$3" --latency-correction)
  [ -z "$4" ] || openai_rate=(-q "$4" --latency-correction)
  [ -z "$5" ] || similar_rate=(-q "$5" --latency-correction)
  "$OHA" --no-tui --output-format json -z "${seconds}s" -c 2 "${embed_rate[@]}" -m POST \
    -H 'content-type: application/json' -d "$EMBED" "$BASE/embed" >"$WORK/$label-embed.json" &
  pids+=($!)
  "$OHA" --no-tui --output-format json -z "${seconds}s" -c 2 "${openai_rate[@]}" -m POST \
    -H 'content-type: application/json' -d "$OPENAI" "$BASE/v1/embeddings" >"$WORK/$label-openai.json" &
  pids+=($!)
  "$OHA" --no-tui --output-format json -z "${seconds}s" -c 2 "${similar_rate[@]}" \
    "$BASE/similar?word=government&topn=10" >"$WORK/$label-similar.json" &
  pids+=($!)
  wait "${pids[@]}"
}
rate() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(max(1, int(r["summary"]["requestsPerSec"] * 0.8)))' "$1"; }

echo "capacity: 15 s unthrottled"
run capacity 15 "" "" ""
E=$(rate "$WORK/capacity-embed.json"); O=$(rate "$WORK/capacity-openai.json"); S=$(rate "$WORK/capacity-similar.json")
echo "soak: $DURATION s at 80%: embed $E/s, v1/embeddings $O/s, similar $S/s"
(
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    rss_kib "$SERVER_PID"
    sleep 10
  done
) >"$WORK/rss.txt" &
SAMPLER=$!
run soak "$DURATION" "$E" "$O" "$S"
kill "$SAMPLER" 2>/dev/null || true
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
failures = []
for route in ("embed", "openai", "similar"):
    report = json.load(open(f"{work}/soak-{route}.json"))
    statuses = {str(k): v for k, v in report.get("statusCodeDistribution", {}).items()}
    errors = {k: v for k, v in report.get("errorDistribution", {}).items()
              if k != "aborted due to deadline"}
    pct = report["latencyPercentiles"]
    print(f"{route}: {sum(statuses.values())} requests, {report['summary']['requestsPerSec']:.0f} req/s, "
          f"p50 {pct['p50'] * 1000:.2f} ms, p99 {pct['p99'] * 1000:.2f} ms, "
          f"p99.9 {pct['p99.9'] * 1000:.2f} ms, statuses {statuses}, errors {errors or 0}")
    if errors or set(statuses) - {"200"}:
        failures.append(f"{route}: statuses {statuses}, errors {errors}")
rss = [int(line) for line in open(f"{work}/rss.txt") if line.strip()]
settled, end = rss[min(6, len(rss) - 1)], rss[-1]
print(f"resident memory: start {rss[0] / 1024:.0f} MiB, after 1 min {settled / 1024:.0f} MiB, "
      f"peak {max(rss) / 1024:.0f} MiB, end {end / 1024:.0f} MiB ({len(rss)} samples)")
if end > max(settled * 1.10, settled + 16 * 1024):
    failures.append("resident memory grew during the soak")
if failures:
    sys.exit("FAILED:\n  " + "\n  ".join(failures))
print("soak: passed")
PY
