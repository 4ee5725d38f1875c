#!/usr/bin/env bash
# Run: bash bench/embed/run.sh   (from anywhere; needs oha, python3 with numpy, tokenizers, starlette, uvicorn)
#
# POST /embed on a Qwen-shaped model (the real Qwen2.5 tokenizer, a random 151936 x 1536 bf16
# matrix made by make_model.py in a temp dir, 467 MB, never committed), embedserve against a
# Python peer (peer_server.py: tokenizers + numpy memmap behind uvicorn) on the same machine and
# the same requests. Reports for each: seconds from exec to ready (warm page cache), resident
# memory (RSS and PSS over the process tree) after startup and after the load, and for a short
# text ("Hi, 你好~") and a 512-token text, float and base64: requests/s and p50/p99 latency with
# oha on loopback. Runs alternate between the two servers per request kind, so load from
# elsewhere on the machine hits both alike; the ratio column is embedserve / peer.
#
# environment: DURATION (15 s per run), WARMUP (3 s before each run), CONNECTIONS (8), PEER_WORKERS (uvicorn --workers, 2 =
# the core count here), BENCH_DIR (reuse a model dir made before), EMBEDSERVE_BIN and OHA (see
# scripts/lib.sh), READY_TIMEOUT (60 s per server),
# ACCEPT_ENCODING (identity: oha would otherwise ask for gzip/br, which embedserve honours and the
# peer ignores; set "gzip, deflate", what httpx and the openai SDK send, to measure that case)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh source-path=SCRIPTDIR
. "$here/../../scripts/lib.sh"
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
ACCEPT_ENCODING=${ACCEPT_ENCODING:-identity}
CONNECTIONS=${CONNECTIONS:-8}
PEER_WORKERS=${PEER_WORKERS:-2}
use_oha
use_embedserve_bin
use_workdir
model=${BENCH_DIR:-$WORK/qwen}
[ -f "$model/model.safetensors" ] || python3 "$here/make_model.py" "$model"
python3 "$here/make_bodies.py" "$model" "$WORK/bodies"

# memory PID: "RSS PSS" in MiB summed over PID and its descendants (uvicorn's workers).
memory() {
  local pids_tree rss=0 pss=0 kib
  pids_tree="$1 $(pgrep -P "$1" | tr '\n' ' ')"
  for pid in $pids_tree; do
    kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"); rss=$((rss + kib))
    kib=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup"); pss=$((pss + kib))
  done
  echo "$((rss / 1024)) $((pss / 1024))"
}

# start NAME COMMAND...: starts a server whose command ends with its port, times it to ready.
declare -A base pid started memory_ready
start() {
  local name=$1 t0
  shift
  t0=$(date +%s.%N)
  start_server "$WORK/$name.log" "$@"
  pid[$name]=$SERVER_PID
  base[$name]=$BASE
  started[$name]=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$(date +%s.%N)")
  sleep 1  # let every uvicorn worker finish importing before memory is read
  memory_ready[$name]=$(memory "${pid[$name]}")
}

serve_peer() {
  EMBED_MODEL_DIR=$model exec uvicorn --app-dir "$here" peer_server:app --host 127.0.0.1 --port "$1" \
    --workers "$PEER_WORKERS" --log-level warning --no-access-log
}

start embedserve run_embedserve --model-dir "$model" --word2vec ""
start peer serve_peer

# A response of each must agree: same ids and same rows (the base64 bytes are identical).
for kind in short-base64 long-base64; do
  for name in embedserve peer; do
    curl -fsS -H 'content-type: application/json' --data-binary "@$WORK/bodies/$kind.json" \
      "${base[$name]}/embed" >"$WORK/$name-$kind.out"
  done
  python3 - "$WORK/embedserve-$kind.out" "$WORK/peer-$kind.out" "$kind" <<'PY'
import json, sys
ours, theirs = (json.load(open(p))["data"][0] for p in sys.argv[1:3])
same = ours["ids"] == theirs["ids"] and ours["embedding"] == theirs["embedding"] and ours["shape"] == theirs["shape"]
sys.exit(0 if same else f"{sys.argv[3]}: embedserve and the peer disagree")
PY
done
echo "embedserve and the peer return identical ids and base64 rows for both texts"

bench() {  # bench NAME KIND [SECONDS]: "req/s p50_ms p99_ms non200+errors"
  timeout $((DURATION + 60)) "$OHA" --no-tui --output-format json -t 30s -w -z "${3:-$DURATION}s" -c "$CONNECTIONS" \
    -m POST -H 'content-type: application/json' -H "accept-encoding: $ACCEPT_ENCODING" \
    -D "$WORK/bodies/$2.json" "${base[$1]}/embed" >"$WORK/$1-$2.json"
  python3 - "$WORK/$1-$2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = sum(v for k, v in r["statusCodeDistribution"].items() if str(k) != "200") + sum(r.get("errorDistribution", {}).values())
p = r["latencyPercentiles"]
print(f'{r["summary"]["requestsPerSec"]:.1f} {p["p50"] * 1000:.1f} {p["p99"] * 1000:.1f} {bad}')
PY
}

echo "oha: ${DURATION}s per run, ${CONNECTIONS} connections, POST /embed (pooling none), accept-encoding: $ACCEPT_ENCODING; peer: uvicorn --workers $PEER_WORKERS"
printf '%-14s %-30s %-30s %s\n' request "embedserve req/s (p50/p99 ms)" "peer req/s (p50/p99 ms)" "ratio req/s"
for kind in short-float short-base64 long-float long-base64; do
  bench embedserve "$kind" "$WARMUP" >/dev/null  # warm-up: first-touch page faults, connection set-up
  read -r ours_rps ours_p50 ours_p99 ours_bad < <(bench embedserve "$kind")
  bench peer "$kind" "$WARMUP" >/dev/null
  read -r peer_rps peer_p50 peer_p99 peer_bad < <(bench peer "$kind")
  # A rate over failed answers measures the failure path, not the work: no ratio then.
  if [ "$ours_bad" != 0 ] || [ "$peer_bad" != 0 ]; then
    echo "$kind: non-200 answers or errors: embedserve $ours_bad, peer $peer_bad; no ratio over failed work" >&2
    exit 1
  fi
  printf '%-14s %-30s %-30s %s\n' "$kind" "$ours_rps ($ours_p50/$ours_p99)" "$peer_rps ($peer_p50/$peer_p99)" \
    "$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}x')" "$ours_rps" "$peer_rps")"
done

printf '\n%-11s %-16s %-26s %s\n' server "ready after (s)" "RSS/PSS at ready (MiB)" "RSS/PSS after load (MiB)"
for name in embedserve peer; do
  printf '%-11s %-16s %-26s %s\n' "$name" "${started[$name]}" "${memory_ready[$name]/ //}" "$(memory "${pid[$name]}" | tr ' ' /)"
done
echo "versions: $("$EMBEDSERVE_BIN" --version), python $(python3 -c 'import sys; print(sys.version.split()[0])'), $(python3 -c '
import numpy, tokenizers, starlette, uvicorn
print(f"numpy {numpy.__version__}, tokenizers {tokenizers.__version__}, starlette {starlette.__version__}, uvicorn {uvicorn.__version__}")'), $("$OHA" --version)"
