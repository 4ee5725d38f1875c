"""The measuring steps of bench/scale/run.sh; each prints one JSON line (run.sh collects them).

  gensim STORE QUERIES OUT REPEATS   gensim 4.4.0: load_word2vec_format + fill_norms (time, memory);
                                     picks the queries (pick_queries) into QUERIES; one
                                     most_similar(topn=10), median over the first REPEATS queries;
                                     the exact top 10 of every query into OUT (the reference answers)
  annoy STORE QUERIES REF TREES REPEATS
                                     gensim + its AnnoyIndexer(TREES): build time, memory, one query
                                     (median over the first REPEATS queries), recall@10 against REF
  http BASE QUERIES REF MODE REPEATS one GET /similar at a time over one keep-alive connection:
                                     MODE exact checks every answer against REF (same 10 words in
                                     the same order, scores within 1e-5), MODE approx counts
                                     recall@10 against REF, MODE exact=true adds exact=true to the
                                     query and checks like exact; the median of REPEATS passes
  measure OUT CMD...                 runs CMD, writes its wall time and peak resident memory to OUT
  rss PID                            resident memory of a running process

Any non-200 answer, wrong exact answer or failed step exits non-zero, so run.sh prints no ratio
over it. Memory is VmRSS / VmHWM (or ru_maxrss for a child) in MB (2^20 bytes).
"""

import http.client
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import urllib.parse

TOPN = 10
SCORE_TOLERANCE = 1e-5


def rss_mb(pid="self", field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"no {field} in /proc/{pid}/status")


def emit(record):
    print(json.dumps(record), flush=True)


def read_json(path):
    with open(path) as file:
        return json.load(file)


def pick_queries(kv):
    """QUERY_WORDS random words and QUERY_ANALOGIES analogies a + b - c shaped like real ones
    (king + woman - man): a and b random, c one of b's 10 nearest words, so b - c is a small offset.
    Analogies of three unrelated words point away from every word, which no real query does."""
    rng = random.Random(11)
    rows = len(kv)
    words = int(os.environ.get("QUERY_WORDS", 200))
    analogies = int(os.environ.get("QUERY_ANALOGIES", 100))
    queries = [{"positive": [kv.index_to_key[rng.randrange(rows)]], "negative": []} for _ in range(words)]
    for _ in range(analogies):
        a, b = (kv.index_to_key[rng.randrange(rows)] for _ in range(2))
        c = rng.choice(kv.most_similar(b, topn=TOPN))[0]
        queries.append({"positive": [a, b], "negative": [c]})
    return queries


def timed_median(ask, queries):
    """Median time of one query over QUERIES, each asked once after an untimed warm-up."""
    ask(queries[0])
    times = []
    for query in queries:
        started = time.perf_counter()
        ask(query)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def cmd_gensim(store, queries_path, out, repeats):
    from gensim.models import KeyedVectors

    started = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(store, binary=True)
    kv.fill_norms()
    ready_s = time.perf_counter() - started
    rss_ready = rss_mb()
    queries = pick_queries(kv)
    with open(queries_path, "w") as file:
        json.dump(queries, file)
    median_ms = timed_median(lambda q: kv.most_similar(positive=q["positive"], negative=q["negative"], topn=TOPN),
                             queries[:int(repeats)])
    reference = [kv.most_similar(positive=q["positive"], negative=q["negative"], topn=TOPN) for q in queries]
    with open(out, "w") as file:
        json.dump(reference, file)
    emit({"step": "gensim", "words": sum(not q["negative"] for q in queries),
          "analogies": sum(bool(q["negative"]) for q in queries), "rows": len(kv), "dim": kv.vector_size, "ready_s": round(ready_s, 2),
          "rss_mb": round(rss_ready), "peak_mb": round(rss_mb(field="VmHWM")), "query_ms": round(median_ms, 2)})


def recall(answers, reference, queries):
    """Recall@10 over all queries, over the words and over the analogies."""
    def over(keep):
        pairs = [(got, want) for got, want, q in zip(answers, reference, queries) if keep(q)]
        hits = sum(len({w for w, _ in got} & {w for w, _ in want}) for got, want in pairs)
        return round(hits / (TOPN * len(pairs)), 4) if pairs else None
    return {"recall": over(lambda q: True), "recall_words": over(lambda q: not q["negative"]),
            "recall_analogies": over(lambda q: bool(q["negative"]))}


def cmd_annoy(store, queries_path, ref_path, trees, repeats):
    from gensim.models import KeyedVectors
    from gensim.similarities.annoy import AnnoyIndexer

    kv = KeyedVectors.load_word2vec_format(store, binary=True)
    kv.fill_norms()
    rss_loaded = rss_mb()
    started = time.perf_counter()
    indexer = AnnoyIndexer(kv, int(trees))
    build_s = time.perf_counter() - started
    queries, reference = read_json(queries_path), read_json(ref_path)

    def ask(query):
        # With an indexer gensim does not drop the input words: ask for more, drop them as
        # most_similar does without one.
        inputs = set(query["positive"] + query["negative"])
        found = kv.most_similar(positive=query["positive"], negative=query["negative"],
                                topn=TOPN + len(inputs), indexer=indexer)
        return [(w, s) for w, s in found if w not in inputs][:TOPN]

    median_ms = timed_median(ask, queries[:int(repeats)])
    emit({"step": "annoy", "trees": int(trees), "build_s": round(build_s, 1), "rss_mb": round(rss_mb()),
          "index_mb": round(rss_mb() - rss_loaded), "query_ms": round(median_ms, 2),
          **recall([ask(q) for q in queries], reference, queries)})


def same_answer(got, want):
    return len(got) == len(want) and all(
        g[0] == w[0] and abs(g[1] - w[1]) <= SCORE_TOLERANCE for g, w in zip(got, want))


def cmd_http(base, queries_path, ref_path, mode, repeats):
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    queries, reference = read_json(queries_path), read_json(ref_path)
    extra = [("exact", "true")] if mode == "exact=true" else []

    def ask(query):
        params = [("positive", w) for w in query["positive"]] + [("negative", w) for w in query["negative"]]
        target = "/similar?" + urllib.parse.urlencode(params + [("topn", TOPN)] + extra)
        connection.request("GET", target)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{mode}: GET {target} answered {response.status}: {body[:300]!r}")
        return [(item["word"], item["score"]) for item in json.loads(body)["data"]]

    answers = [ask(q) for q in queries]  # also the warm-up
    record = {"step": "http", "mode": mode}
    if mode == "approx":
        record.update(recall(answers, reference, queries))
    else:
        wrong = [i for i, (got, want) in enumerate(zip(answers, reference)) if not same_answer(got, want)]
        if wrong:
            i = wrong[0]
            raise SystemExit(f"{mode}: {len(wrong)} of {len(queries)} answers differ from gensim's, "
                             f"first {queries[i]}: {answers[i][:3]}... vs {reference[i][:3]}...")
        record["agree_with_gensim"] = len(queries)
    passes = []
    for _ in range(int(repeats)):
        times = []
        for query in queries:
            started = time.perf_counter()
            ask(query)
            times.append((time.perf_counter() - started) * 1e3)
        passes.append(statistics.median(times))
        record["p99_ms"] = round(sorted(times)[int(len(times) * 0.99)], 2)
    record["query_ms"] = round(statistics.median(passes), 3)
    emit(record)


def cmd_measure(out, *command):
    started = time.perf_counter()
    status = subprocess.call(command)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[0]} exited with {status}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with open(out, "w") as file:
        json.dump({"wall_s": round(wall, 1), "peak_mb": round(peak)}, file)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "rss":
        print(round(rss_mb(*args)))
        return
    {"gensim": cmd_gensim, "annoy": cmd_annoy, "http": cmd_http,
     "measure": cmd_measure}[command](*args)


if __name__ == "__main__":
    main()
