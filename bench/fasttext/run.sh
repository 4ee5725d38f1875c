#!/usr/bin/env bash
# Run: bash bench/fasttext/run.sh [REPEATS]   (from anywhere; needs python3 with gensim 4.4.0 and
# ../shared/fixtures/word2vec/wiki-lee-corpus.txt, or FIXTURES)
#
# Out-of-vocabulary latency on a fastText model (make_model.py: the vocabulary of wiki-lee-corpus,
# 100 dimensions, 200,000 buckets, saved by gensim's save_facebook_model): a word's vector from
# its n-grams, over 1000 misspelt words, and most_similar(word, topn=10) from such a word, over the
# first REPEATS of them (default 200), one thread, timed in embedserve (fasttext_bench.rs here,
# release build) and in gensim in-process on the same file. The ratio is gensim time / embedserve
# time (above 1: embedserve is faster). The model goes to a temp dir removed at the end.
set -euo pipefail
repeats=${1:-200}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh source-path=SCRIPTDIR
. "$here/../../scripts/lib.sh"
use_workdir
corpus=${FIXTURES:-$ROOT/../shared/fixtures}/word2vec/wiki-lee-corpus.txt
[ -f "$corpus" ] || die "no corpus at $corpus (set FIXTURES)"

[ "${SKIP_BUILD:-0}" = 1 ] || release_build --quiet --example fasttext_bench
bench_bin=${FASTTEXT_BENCH_BIN:-$TARGET_DIR/release/examples/fasttext_bench}

python3 "$here/make_model.py" "$corpus" "$WORK/model.bin" "$WORK/probes.txt"
ours=$("$bench_bin" "$WORK/model.bin" "$WORK/probes.txt" "$repeats")
theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
    MKL_NUM_THREADS=1 python3 "$here/gensim_bench.py" "$WORK/model.bin" "$WORK/probes.txt" "$repeats")
python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours, theirs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert ours["top"] == theirs["top"], (ours["top"], theirs["top"])
print(f"model: {ours['words']} words x {ours['dim']}; load {ours['load_ms']:.0f} ms (gensim {theirs['load_ms']:.0f} ms)")
print(f"{'operation':<34} {'embedserve median (min)':<26} {'gensim median (min)':<26} ratio median (min)")
for key, name in [("vector", "OOV vector (n-gram mean)"), ("similar", "most_similar(OOV word, topn=10)")]:
    a, b = ours[key], theirs[key]
    cell = lambda r: f"{r['median_us']:.1f} us ({r['min_us']:.1f} us)"
    print(f"{name:<34} {cell(a):<26} {cell(b):<26} "
          f"{b['median_us'] / a['median_us']:.1f}x ({b['min_us'] / a['min_us']:.1f}x)")
PY
echo "ratio = gensim time / embedserve time, one thread each; the machine is shared, so min is the steadier figure"
