#!/usr/bin/env bash
# Run: bash bench/similar/run.sh [REPEATS]   (from anywhere; needs python3 with gensim 4.4.0)
#
# One most_similar(word, topn=10) query on random binary stores of 100k x 300 and 1M x 300, timed
# (median of REPEATS, default 20) in embedserve (similar_bench.rs here, release build) and in
# gensim on the same file, side by side, with 1 and with 2 threads. Stores go to a temp dir that
# is removed at the end. gensim runs with OPENBLAS_NUM_THREADS set and OPENBLAS_CORETYPE /
# OPENBLAS_L2_SIZE unset (they slow a current numpy; the Rust side does not read them).
set -euo pipefail
repeats=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh source-path=SCRIPTDIR
. "$here/../../scripts/lib.sh"
use_workdir

release_build --quiet --example similar_bench
bench_bin=$TARGET_DIR/release/examples/similar_bench

printf '%-8s %-8s %-28s %-28s %s\n' rows threads "embedserve median (min)" "gensim median (min)" "ratio median (min)"
for rows in 100000 1000000; do
    store="$WORK/random-$rows-300.bin"
    python3 "$here/make_store.py" "$store" "$rows" 300
    for threads in 1 2; do
        ours=$(RAYON_NUM_THREADS=$threads "$bench_bin" "$store" w123 "$repeats" "$threads")
        theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$threads \
            OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads \
            python3 "$here/gensim_bench.py" "$store" w123 "$repeats" "$threads")
        echo "$ours" >>"$WORK/results.jsonl"
        echo "$theirs" >>"$WORK/results.jsonl"
        python3 - "$ours" "$theirs" "$rows" "$threads" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
# The whole top 10 in gensim's order (random stores have no near ties at this size).
assert ours["top"] == theirs["top"], (ours["top"], theirs["top"])
cell = lambda r: f"{r['median_ms']:.2f} ms ({r['min_ms']:.2f} ms)"
print(f"{sys.argv[3]:<8} {sys.argv[4]:<8} {cell(ours):<28} {cell(theirs):<28} "
      f"{theirs['median_ms'] / ours['median_ms']:.2f}x ({theirs['min_ms'] / ours['min_ms']:.2f}x)"
      f"   [gensim BLAS: {', '.join(theirs['blas'])}]")
PY
    done
done
echo "ratio = gensim time / embedserve time (above 1: embedserve is faster); the machine is shared, so min is the steadier figure"
