#!/usr/bin/env bash
# Run: bash bench/scale/run.sh   (from anywhere; needs python3 with numpy and gensim 4.4.0, and
# annoy for the gensim + AnnoyIndexer column: pip install annoy)
#
# Word vectors at scale (issue 11), side by side in one run on one generated store of ROWS x DIM
# (gen_store.py: clusters on a low-rank subspace plus noise, as real embeddings, in the word2vec
# binary format of GoogleNews-vectors-negative300.bin):
#   gensim          load_word2vec_format + fill_norms: time, resident memory; one
#                   most_similar(topn=10), median over GENSIM_QUERIES queries; its top 10 of every
#                   query of the set (QUERY_WORDS random words, QUERY_ANALOGIES a + b - c with c
#                   one of b's 10 nearest, as king + woman - man) is the reference every other
#                   column is checked against
#   gensim + Annoy  AnnoyIndexer(ANNOY_TREES): build time, memory, one query, recall@10
#   embedserve bin  serving the binary store: time until /health/ready answers, resident memory
#                   then, /similar median over HTTP (one request at a time, keep-alive), every
#                   answer equal to gensim's (words, order, scores within 1e-5)
#   embedserve index  `embedserve index` build: wall time, peak memory, file size
#   embedserve idx  serving the index: time to ready, memory at ready and after the queries,
#                   /similar (approximate) median and recall@10, /similar exact=true median and
#                   every answer equal to gensim's
# Each column whose work failed (non-200, a wrong exact answer, a crash) stops the run before
# the table: no ratio is printed over failed work. A column whose tool is absent (annoy not
# installed, a server without `embedserve index`) is reported as missing instead.
#
# environment: ROWS (1000000; 3000000 for GoogleNews's shape), DIM (300), STORE (reuse a store
# made before instead of generating one), INDEX (reuse an `embedserve index` file of STORE made
# before: its build is not measured, and it is kept), QUERY_WORDS (200), QUERY_ANALOGIES (100),
# GENSIM_QUERIES (30), HTTP_PASSES (3: the median of the per-pass medians), ANNOY_TREES (100;
# 0 skips Annoy), INDEX_ARGS (extra `embedserve index` arguments, e.g. "--dtype f16"),
# EMBEDSERVE_BIN, SKIP_BUILD (see scripts/lib.sh). Needs free disk for the store and the index
# (about 2.5 GB at 1M x 300, 7.5 GB at 3M x 300), in a temp dir removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh source-path=SCRIPTDIR
. "$here/../../scripts/lib.sh"
ROWS=${ROWS:-1000000}
DIM=${DIM:-300}
GENSIM_QUERIES=${GENSIM_QUERIES:-30}
HTTP_PASSES=${HTTP_PASSES:-3}
ANNOY_TREES=${ANNOY_TREES:-100}
use_embedserve_bin
use_workdir keep
results=$WORK/results.jsonl
bench() { python3 "$here/scale_bench.py" "$@"; }
now() { date +%s.%N; }
note() { echo "$*" >&2; }

store=${STORE:-$WORK/store.bin}
if [ -z "${STORE:-}" ]; then
  note "generating a $ROWS x $DIM store"
  python3 "$here/gen_store.py" "$store" "$ROWS" "$DIM"
fi
reference=$WORK/gensim-reference.json

note "gensim: load, fill_norms, queries"
bench gensim "$store" "$WORK/queries.json" "$reference" "$GENSIM_QUERIES" >>"$results"

if [ "$ANNOY_TREES" = 0 ]; then
  echo '{"step": "annoy", "missing": "skipped (ANNOY_TREES=0)"}' >>"$results"
elif python3 -c 'import annoy' 2>/dev/null; then
  note "gensim + AnnoyIndexer($ANNOY_TREES): build, queries"
  bench annoy "$store" "$WORK/queries.json" "$reference" "$ANNOY_TREES" "$GENSIM_QUERIES" >>"$results"
else
  echo '{"step": "annoy", "missing": "annoy is not installed (pip install annoy)"}' >>"$results"
fi

# serve_timed NAME ARGS...: starts embedserve with ARGS, records seconds until ready and memory then
serve_timed() {
  local name=$1 port started
  shift
  port=$(free_port)
  BASE=http://127.0.0.1:$port
  started=$(now)
  run_embedserve --model-dir "" "$@" "$port" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  BACKGROUND_PIDS+=("$SERVER_PID")
  READY_TIMEOUT=${READY_TIMEOUT:-600} wait_ready "$BASE" "$SERVER_PID" "$WORK/$name.log"
  python3 -c 'import json, sys; print(json.dumps({"step": "ready", "side": sys.argv[1],
      "ready_s": round(float(sys.argv[3]) - float(sys.argv[2]), 3), "rss_mb": int(sys.argv[4])}))' \
    "$name" "$started" "$(now)" "$(bench rss "$SERVER_PID")" >>"$results"
}

# http_side NAME MODE: the /similar queries against the running server, then its memory: all
# resident pages, and the process's own (anonymous) ones without the file's mapped page cache
http_side() {
  local answers
  # The memory is read after the queries have run (in a pipeline it would be read as they start).
  answers=$(bench http "$BASE" "$WORK/queries.json" "$reference" "$2" "$HTTP_PASSES")
  python3 -c 'import json, sys; r = json.loads(sys.argv[1]); r.update(side=sys.argv[2], rss_after_mb=int(sys.argv[3]), anon_after_mb=int(sys.argv[4])); print(json.dumps(r))' \
    "$answers" "$1" "$(bench rss "$SERVER_PID")" "$(bench rss "$SERVER_PID" RssAnon)" >>"$results"
}

note "embedserve: serving the binary store"
serve_timed bin --word2vec "$store"
http_side bin exact
stop_server "$SERVER_PID"

if "$EMBEDSERVE_BIN" index --help >/dev/null 2>&1; then
  if [ -n "${INDEX:-}" ]; then
    index=$INDEX
    python3 -c 'import json, os, sys; print(json.dumps({"step": "index", "reused": sys.argv[1], "file_mb": round(os.path.getsize(sys.argv[1]) / 2**20)}))' \
      "$index" >>"$results"
  else
    note "embedserve index: build"
    index=$WORK/store.index
    # shellcheck disable=SC2086 # INDEX_ARGS is a list of arguments
    bench measure "$WORK/index-build.json" "$EMBEDSERVE_BIN" index --input "$store" --output "$index" ${INDEX_ARGS:-}
    python3 -c 'import json, os, sys; r = json.load(open(sys.argv[1])); r.update(step="index", file_mb=round(os.path.getsize(sys.argv[2]) / 2**20)); print(json.dumps(r))' \
      "$WORK/index-build.json" "$index" >>"$results"
  fi
  note "embedserve: serving the index"
  serve_timed idx --word2vec "$index"
  curl -fsS "$BASE/info" | python3 -c 'import json, sys; print(json.dumps({"step": "info", "info": json.load(sys.stdin)}))' >>"$results"
  http_side idx approx
  http_side idx exact=true
  stop_server "$SERVER_PID"
  [ -n "${INDEX:-}" ] || rm -f "$index"
else
  echo '{"step": "index", "missing": "this embedserve has no `index` command"}' >>"$results"
fi

python3 "$here/summary.py" "$results"
echo "versions: $("$EMBEDSERVE_BIN" --version), $(python3 -c '
import sys, gensim, numpy
try:
    import annoy; a = "annoy " + __import__("importlib.metadata").metadata.version("annoy")
except ImportError:
    a = "no annoy"
print(f"python {sys.version.split()[0]}, gensim {gensim.__version__}, numpy {numpy.__version__}, {a}")'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
