"""Times one gensim 4.4.0 `KeyedVectors.most_similar` query; the peer of bench/similar/similar_bench.rs.

Usage: python3 gensim_bench.py STORE WORD REPEATS THREADS  (run by run.sh, which sets
OPENBLAS_NUM_THREADS=THREADS before numpy loads). Prints one JSON line like the Rust example.
"""

import json
import statistics
import sys
import time

from gensim.models import KeyedVectors

try:  # reports which BLAS kernel numpy runs; optional
    from threadpoolctl import threadpool_info
except ImportError:
    def threadpool_info():
        return [{"internal_api": "unknown (pip install threadpoolctl)"}]


def main():
    store, word, repeats, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    started = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(store, binary=True)
    kv.fill_norms()
    load_ms = (time.perf_counter() - started) * 1e3
    top = kv.most_similar(word, topn=10)  # untimed warm-up, like the Rust side
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        found = kv.most_similar(word, topn=10)
        times.append((time.perf_counter() - started) * 1e3)
        if found != top:  # a timed answer must be the answer
            sys.exit(f"a timed query answered differently: {found} vs {top}")
    blas = [f"{p.get('internal_api')} {p.get('architecture')} x{p.get('num_threads')}" for p in threadpool_info()]
    print(json.dumps({
        "impl": "gensim", "threads": threads, "rows": len(kv), "dim": kv.vector_size,
        "load_ms": round(load_ms, 1), "median_ms": round(statistics.median(times), 3),
        "min_ms": round(min(times), 3), "max_ms": round(max(times), 3), "top": [w for w, _ in top], "blas": blas,
    }))


if __name__ == "__main__":
    main()
