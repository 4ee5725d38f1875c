#!/usr/bin/env bash
# Hostile clients against a live release server while a load generator measures normal traffic.
#
# First a quiet run of normal traffic (oha at a fixed rate: small POST /embed and GET /similar),
# then the same traffic for DURATION seconds while scripts/abuse/attack.py keeps up thousands of
# idle sockets, byte-a-second headers, dripping bodies, clients that never read large answers,
# made-up methods, 60 KB request ids, megabyte texts, 180,000-word analogies and clients that hang
# up mid-request. Passes when normal traffic keeps p50 and p99 latency within 2x of the quiet run
# (p99 at least 5 ms apart, below which it is timer noise), no normal request fails, the attacks
# get the answers they should (422, 405, closed connections), resident memory stays under the
# bound the settings give (README "Limits and memory"), and the process and its metrics survive.
#
# usage: scripts/abuse.sh
# environment:
#   DURATION        seconds of the attack (60)
#   RATE            requests/s of normal traffic per route (50)
#   EMBEDSERVE_BIN  server binary (built with `cargo build --release` unless SKIP_BUILD=1; lib.sh)
#   OHA             oha binary (oha on PATH, else ~/.cargo/bin/oha; `cargo install oha`)
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-60}
RATE=${RATE:-50}
use_fixture_model
use_oha
use_embedserve_bin
use_workdir keep
# The attack holds thousands of sockets on both ends.
ulimit -n 16384 || die "cannot raise the open-file limit to 16384"

MAX_CONCURRENT=16
MAX_RESPONSE=50331648
MAX_CONNECTIONS=6000
serve_fixture_model "$WORK/server.log" --max-concurrent-requests "$MAX_CONCURRENT" \
  --max-response-bytes "$MAX_RESPONSE" --max-connections "$MAX_CONNECTIONS" \
  --header-read-timeout-secs 10 --body-read-timeout-secs 10 --response-write-timeout-secs 10 \
  --request-timeout-secs 10 --max-batch-tokens 20000
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
BASELINE_KIB=$(rss_kib "$SERVER_PID")

# normal_traffic LABEL SECONDS: the two routes at RATE each, in parallel, into $WORK/LABEL-*.json.
normal_traffic() {
  local label=$1 seconds=$2
  "$OHA" --no-tui --output-format json -z "${seconds}s" -q "$RATE" -c 4 --latency-correction \
    -m POST -H 'content-type: application/json' -d '{"inputs": "The government said on Tuesday"}' \
    "$BASE/embed" >"$WORK/$label-embed.json" &
  local embed=$!
  "$OHA" --no-tui --output-format json -z "${seconds}s" -q "$RATE" -c 4 --latency-correction \
    "$BASE/similar?word=government&topn=10" >"$WORK/$label-similar.json"
  wait "$embed"
}

echo "quiet run: 20 s of normal traffic"
normal_traffic quiet 20
echo "attack: $DURATION s of hostile clients beside the same traffic"
python3 "$ROOT/scripts/abuse/attack.py" 127.0.0.1 "${BASE##*:}" "$DURATION" "$WORK/attack.json" &
ATTACK=$!
sleep 3
(
  while kill -0 "$ATTACK" 2>/dev/null; do
    echo "$(rss_kib "$SERVER_PID") $(find "/proc/$SERVER_PID/fd" -mindepth 1 | wc -l)"
    sleep 1
  done
) >"$WORK/samples.txt" &
SAMPLER=$!
normal_traffic attacked $((DURATION - 8))
wait "$ATTACK"
wait "$SAMPLER"
kill -0 "$SERVER_PID" || die "the server died under attack"
curl -fsS "$BASE/metrics" >"$WORK/metrics.txt"

python3 - "$WORK" "$BASELINE_KIB" "$MAX_CONCURRENT" "$MAX_RESPONSE" "$MAX_CONNECTIONS" <<'PY'
import json, sys
work, baseline_kib, permits, max_response, max_connections = sys.argv[1], *map(int, sys.argv[2:])
failures = []

def latency(label, route):
    report = json.load(open(f"{work}/{label}-{route}.json"))
    statuses = {str(k): v for k, v in report.get("statusCodeDistribution", {}).items()}
    # Requests still in flight when oha's duration ends are "aborted due to deadline": not failures.
    errors = {k: v for k, v in report.get("errorDistribution", {}).items()
              if k != "aborted due to deadline"}
    if errors or set(statuses) - {"200"} or not statuses:
        failures.append(f"{label} {route}: statuses {statuses}, errors {errors}")
    pct = report["latencyPercentiles"]
    return pct["p50"] * 1000, pct["p99"] * 1000, sum(statuses.values())

for route in ("embed", "similar"):
    q50, q99, qn = latency("quiet", route)
    a50, a99, an = latency("attacked", route)
    print(f"{route}: quiet p50 {q50:.2f} ms p99 {q99:.2f} ms ({qn} requests); "
          f"attacked p50 {a50:.2f} ms p99 {a99:.2f} ms ({an} requests); "
          f"ratios p50 {a50 / q50:.2f}x p99 {a99 / q99:.2f}x")
    if a50 > 2 * q50 or (a99 > 2 * q99 and a99 - q99 > 5):
        failures.append(f"{route}: latency under attack beyond 2x the quiet run")

attack = json.load(open(f"{work}/attack.json"))
for kind, outcomes in sorted(attack.items()):
    print(f"attack {kind}: {outcomes}")
expect = {"huge-text": "422", "huge-analogy": "422", "junk-method": "405", "long-request-id": "200"}
for kind, status in expect.items():
    got = attack.get(kind, {})
    if set(got) != {status}:
        failures.append(f"{kind}: expected only {status}, got {got}")
for kind in ("slow-header", "slow-body"):
    got = attack.get(kind, {})
    if sum(n for outcome, n in got.items() if outcome != "still open at the end") == 0:
        failures.append(f"{kind}: the server never closed one: {got}")

samples = [tuple(map(int, line.split())) for line in open(f"{work}/samples.txt") if line.strip()]
peak_kib = max(rss for rss, _ in samples)
peak_fds = max(fds for _, fds in samples)
bound_kib = baseline_kib + permits * max_response * 5 // 4 // 1024 + max_connections * 128
print(f"memory: baseline {baseline_kib / 1024:.0f} MiB, peak {peak_kib / 1024:.0f} MiB, "
      f"bound {bound_kib / 1024:.0f} MiB; open files peak {peak_fds} (cap {max_connections})")
if peak_kib > bound_kib:
    failures.append("memory above the configured bound")
if peak_fds > max_connections + 64:
    failures.append("more connections than max_connections")

metrics = open(f"{work}/metrics.txt").read()
in_flight = [l for l in metrics.splitlines() if l.startswith("embedserve_requests_in_flight")]
print(f"metrics: {len(metrics)} bytes, {in_flight}")
if len(metrics) > 200_000:
    failures.append("metrics grew with the attack")
if failures:
    sys.exit("FAILED:\n  " + "\n  ".join(failures))
print("abuse: passed")
PY
