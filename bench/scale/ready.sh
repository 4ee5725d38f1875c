#!/usr/bin/env bash
# A quick side-by-side check of what a store costs to start, without building an index or running
# the whole benchmark: time until ready, resident memory at ready and one query, for embedserve
# serving STORE (and INDEX, an `embedserve index` file of it, if given) and for gensim 4.4.0
# loading STORE (load_word2vec_format + fill_norms). The store's words must include w123 and w456
# (gen_store.py's words are w0, w1, ...).
# usage: bench/scale/ready.sh BIN STORE [INDEX]
set -euo pipefail
bin=$1 store=$2 index=${3:-}
port=18555
serve() {
  local start end pid rss rss_after q1 q2
  start=$(date +%s.%N)
  "$bin" serve --config /dev/null --model-dir "" --word2vec "$1" --listen 127.0.0.1:$port \
    --log-level warn &
  pid=$!
  until curl -sf localhost:$port/health/ready >/dev/null; do sleep 0.01; done
  end=$(date +%s.%N)
  rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status")
  curl -sf -o /dev/null "localhost:$port/similar?word=w123&topn=10"
  q1=$(curl -sf -o /dev/null -w '%{time_total}' "localhost:$port/similar?word=w456&topn=10")
  q2=$(curl -sf -o /dev/null -w '%{time_total}' \
    "localhost:$port/similar?word=w456&topn=10&exact=true")
  rss_after=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status")
  printf 'embedserve %s: ready %.2f s, RSS at ready %s MB (after 3 queries %s MB), query %.1f ms, exact %.1f ms\n' \
    "$(basename "$1")" "$(echo "$end - $start" | bc)" "$rss" "$rss_after" \
    "$(echo "$q1 * 1000" | bc)" "$(echo "$q2 * 1000" | bc)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
serve "$store"
[ -z "$index" ] || serve "$index"
python3 - "$store" <<'PY'
import sys, time
from gensim.models import KeyedVectors
t0 = time.time()
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=True)
kv.fill_norms()
t1 = time.time()
rss = int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]) // 1024
kv.most_similar('w123', topn=10)
t2 = time.time()
kv.most_similar('w456', topn=10)
t3 = time.time()
print(f"gensim: load + fill_norms {t1 - t0:.2f} s, RSS {rss} MB, query {1000 * (t3 - t2):.1f} ms")
PY
