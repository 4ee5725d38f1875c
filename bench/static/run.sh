#!/usr/bin/env bash
# Run: bash bench/static/run.sh   (from anywhere; needs oha, python3 with model2vec 0.10.0, cargo)
#
# Sentences per second of a static-embedding model (potion-base-8M-shaped: the real bge-base
# tokenizer, a random 29528 x 256 float32 matrix made by make_model.py in a temp dir, never
# committed), three ways on the same sentences (make_inputs.py: the sentences of
# ../shared/fixtures/word2vec/lee_background.cor, 16 to 435 characters) and the same cores:
#   embedserve    POST /v1/embeddings with batches of 1 and of 32 sentences, encoding_format float
#                 and base64, oha with CONNECTIONS connections on loopback (oha runs on the same
#                 cores; each request is a random line of the batch's bodies file);
#   model2vec     StaticModel.encode (0.10.0) in-process, m2v_python.py, in PY_PROCS processes
#                 (a list: each count is a column; one process uses one Python thread plus the
#                 tokenizers Rayon pool, so 2 processes is what fills the 2 cores here);
#   model2vec-rs  StaticModel::encode_flat (0.4.0) in-process, model2vec-rs/ (a cargo project of
#                 its own), from RS_THREADS calling threads (the library spreads a batch over
#                 Rayon, one thread per core).
# The in-process sides produce float32 arrays, so they have one figure per batch size, set
# against both encodings. Before any timing, check.py asserts that served vectors equal model2vec's
# bit for bit (8 requests of each kind) and says how far model2vec-rs is from model2vec. Runs
# alternate between the sides per batch size, so load from elsewhere hits all alike. Any non-200
# answer or oha error stops the run (non-zero exit, no table). "cores" is CPU time over wall time
# of the measured process(es) (for embedserve, the server alone; oha's own share is listed too).
#
# environment: DURATION (10 s per timed run), WARMUP (2 s before each), CONNECTIONS (8),
# PY_PROCS ("1 2"), RS_THREADS (2), BENCH_DIR (reuse a model dir made before), EMBEDSERVE_BIN, OHA,
# SKIP_BUILD (see scripts/lib.sh), M2VRS_BIN (else built into M2VRS_TARGET_DIR, by default
# ${CARGO_TARGET_DIR:-target}-m2vrs), ACCEPT_ENCODING (identity)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh source-path=SCRIPTDIR
. "$here/../../scripts/lib.sh"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-8}
PY_PROCS=${PY_PROCS:-1 2}
RS_THREADS=${RS_THREADS:-2}
ACCEPT_ENCODING=${ACCEPT_ENCODING:-identity}
use_oha
use_embedserve_bin
if [ -z "${M2VRS_BIN:-}" ]; then
  m2vrs_target=${M2VRS_TARGET_DIR:-$TARGET_DIR-m2vrs}
  [ "${SKIP_BUILD:-0}" = 1 ] || CARGO_TARGET_DIR=$m2vrs_target \
    cargo build --release --locked --quiet --manifest-path "$here/model2vec-rs/Cargo.toml"
  M2VRS_BIN=$m2vrs_target/release/m2vrs-bench
fi
[ -x "$M2VRS_BIN" ] || die "no model2vec-rs driver at $M2VRS_BIN (set M2VRS_BIN)"
use_workdir keep
model=${BENCH_DIR:-$WORK/model}
[ -f "$model/model.safetensors" ] || python3 "$here/make_model.py" "$model"
python3 "$here/make_inputs.py" "$WORK/inputs"
sentences=$WORK/inputs/sentences.txt

start_server "$WORK/embedserve.log" run_embedserve --model-dir "$model" --word2vec "" --model-name bench
server_pid=$SERVER_PID
"$M2VRS_BIN" dump "$model" "$sentences" "$WORK/rs-rows.f32"
python3 "$here/check.py" "$BASE" "$model" "$WORK/inputs" "$WORK/rs-rows.f32"

ticks() {  # CPU clock ticks (user + system) of PID so far
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# oha_run BATCH ENCODING SECONDS: "sentences/s server_cores oha_cores p50_ms"; dies on a non-200
# answer or an oha error.
oha_run() {
  local out=$WORK/oha-$1-$2.json t0 t1
  t0=$(ticks "$server_pid")
  timeout $(($3 + 60)) /usr/bin/time -o "$WORK/oha.time" -f '%U %S' \
    "$OHA" --no-tui --output-format json -t 30s -w -z "${3}s" -c "$CONNECTIONS" -m POST \
    -H 'content-type: application/json' -H "accept-encoding: $ACCEPT_ENCODING" \
    -Z "$WORK/inputs/bodies-$1-$2.jsonl" "$BASE/v1/embeddings" >"$out"
  t1=$(ticks "$server_pid")
  python3 - "$out" "$1" "$3" "$((t1 - t0))" "$(cat "$WORK/oha.time")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
batch, seconds, ticks = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
bad = {k: v for k, v in r["statusCodeDistribution"].items() if str(k) != "200"}
errors = r.get("errorDistribution", {})
if bad or errors or not r["statusCodeDistribution"]:
    sys.exit(f"oha: non-200 answers {bad} or errors {errors}")
oha_cpu = sum(float(x) for x in sys.argv[5].split())
print(f'{r["summary"]["requestsPerSec"] * batch:.1f} {ticks / 100 / seconds:.2f} {oha_cpu / seconds:.2f} '
      f'{r["latencyPercentiles"]["p50"] * 1000:.2f}')
PY
}

field() { python3 -c "import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

echo "timing: ${DURATION}s per run after ${WARMUP}s warm-up; oha ${CONNECTIONS} connections, accept-encoding: $ACCEPT_ENCODING"
rates=$WORK/rates.txt
for batch in 1 32; do
  for side in float py base64 rs; do
    case $side in
      float | base64)
        oha_run "$batch" "$side" "$WARMUP" >/dev/null
        result=$(oha_run "$batch" "$side" "$DURATION")
        echo "es-$batch-$side $result" >>"$rates"
        ;;
      py)
        for procs in $PY_PROCS; do
          result=$(python3 "$here/m2v_python.py" "$model" "$sentences" "$batch" "$DURATION" "$WARMUP" "$procs")
          echo "py$procs-$batch $(field "$result" sentences_per_s) $(field "$result" cpu_cores)" >>"$rates"
        done
        ;;
      rs)
        result=$("$M2VRS_BIN" bench "$model" "$sentences" "$batch" "$DURATION" "$WARMUP" "$RS_THREADS")
        echo "rs-$batch $(field "$result" sentences_per_s) $(field "$result" cpu_cores)" >>"$rates"
        ;;
    esac
  done
done

# every run is in: the table
python3 - "$rates" "$PY_PROCS" "$RS_THREADS" <<'PY'
import sys
rate = dict(line.split(" ", 1) for line in open(sys.argv[1]).read().splitlines())
procs, threads = sys.argv[2].split(), sys.argv[3]
head = ["batch", "encoding", "embedserve s/s (cores, oha cores, p50 ms)"]
head += [f"model2vec {p}proc s/s (cores)" for p in procs] + [f"model2vec-rs {threads}thr s/s (cores)"]
head += [f"es/m2v {p}proc" for p in procs] + ["es/m2v-rs"]
rows = []
for batch in ("1", "32"):
    for encoding in ("float", "base64"):
        es, es_cores, oha_cores, p50 = rate[f"es-{batch}-{encoding}"].split()
        py = [rate[f"py{p}-{batch}"].split() for p in procs]
        rs = rate[f"rs-{batch}"].split()
        rows.append([batch, encoding, f"{float(es):.0f} ({es_cores}, {oha_cores}, {p50})"]
                    + [f"{float(s):.0f} ({c})" for s, c in py] + [f"{float(rs[0]):.0f} ({rs[1]})"]
                    + [f"{float(es) / float(s):.2f}x" for s, _ in py] + [f"{float(es) / float(rs[0]):.2f}x"])
widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
for row in [head] + rows:
    print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
PY
echo "ratio = embedserve sentences/s / the in-process library's (above 1: the HTTP service is faster)"
echo "versions: $("$EMBEDSERVE_BIN" --version), $(python3 -c '
import sys, model2vec, numpy, tokenizers
print(f"python {sys.version.split()[0]}, model2vec {model2vec.__version__}, numpy {numpy.__version__}, tokenizers {tokenizers.__version__}")'), model2vec-rs $(awk '/^name = "model2vec-rs"/ { getline; gsub(/"/, "", $3); print $3 }' "$here/model2vec-rs/Cargo.lock"), $("$OHA" --version), $(nproc) cores"
