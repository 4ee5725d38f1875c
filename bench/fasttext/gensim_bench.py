"""Times gensim 4.4.0 on out-of-vocabulary words of a fastText model, in-process: the peer of
bench/fasttext/fasttext_bench.rs.

Usage: python3 gensim_bench.py MODEL PROBES REPEATS  (run by run.sh). Prints one JSON line like
the Rust example: per-call median and min of `wv.get_vector(word)` over every probe word, and of
`wv.most_similar(word, topn=10)` over the first REPEATS probes, and the top neighbour of the first.
"""

import json
import statistics
import sys
import time

from gensim.models.fasttext import load_facebook_vectors


def timed(call, words):
    times = []
    for word in words:
        started = time.perf_counter()
        call(word)
        times.append((time.perf_counter() - started) * 1e6)
    return {"median_us": round(statistics.median(times), 2), "min_us": round(min(times), 2)}


def main():
    model, probes, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    words = open(probes, encoding="utf-8").read().split()
    started = time.perf_counter()
    wv = load_facebook_vectors(model)
    wv.fill_norms()
    load_ms = (time.perf_counter() - started) * 1e3
    top = wv.most_similar(words[0], topn=10)  # untimed warm-up, like the Rust side
    print(json.dumps({
        "impl": "gensim", "words": len(wv), "dim": wv.vector_size, "load_ms": round(load_ms, 1),
        "vector": timed(wv.get_vector, words),
        "similar": timed(lambda w: wv.most_similar(w, topn=10), words[:repeats]),
        "top": top[0][0],
    }))


if __name__ == "__main__":
    main()
