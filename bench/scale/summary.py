"""Prints bench/scale's table, its ratios and issue 11's goals from run.sh's results.jsonl.

Usage: python3 summary.py RESULTS.jsonl. run.sh only gets here when every step that ran succeeded
(a failed step stops it first), so each ratio stands on checked work; a missing column is named.
"""

import json
import sys

# Issue 11's goals.
GOAL_RECALL = 0.98
GOAL_APPROX_MS = 2.0
GOAL_INDEX_READY_S = 1.0
GOAL_INDEX_RSS_MB = 150
GOAL_BIN_READY_RATIO = 4.0
GOAL_BIN_RSS_OVER_VECTORS = 1.15


def main():
    steps = {}
    for line in open(sys.argv[1]):
        record = json.loads(line)
        key = record["step"] + "".join(f"/{record[k]}" for k in ("side", "mode") if k in record)
        steps[key] = record
    gensim = steps["gensim"]
    annoy, index = steps.get("annoy", {}), steps.get("index", {})
    rows, dim = gensim["rows"], gensim["dim"]
    vectors_mb = rows * dim * 4 / 2**20
    print(f"store: {rows} x {dim} ({vectors_mb:.0f} MB of float32); queries: {gensim['words']} words + "
          f"{gensim['analogies']} analogies (a + b - c), topn=10, one at a time")

    def recall_cell(record):
        return f"{record['recall']} (words {record['recall_words']}, analogies {record['recall_analogies']})"

    table = [["", "ready (s)", "RSS at ready (MB)", "query median (ms)", "recall@10", "build (s)",
              "build peak (MB)"]]
    table.append(["gensim 4.4.0 (exact)", gensim["ready_s"], gensim["rss_mb"], gensim["query_ms"], "1 (reference)",
                  "-", "-"])
    if "missing" in annoy:
        table.append([f"gensim + Annoy: {annoy['missing']}"] + ["-"] * 6)
    else:
        table.append([f"gensim + AnnoyIndexer({annoy['trees']})", "-", annoy["rss_mb"], annoy["query_ms"],
                      recall_cell(annoy), annoy["build_s"], "-"])
    ready_bin, http_bin = steps["ready/bin"], steps["http/bin/exact"]
    table.append(["embedserve, binary store (exact)", ready_bin["ready_s"], ready_bin["rss_mb"], http_bin["query_ms"],
                  "1 (= gensim)", "-", "-"])
    if "missing" in index:
        table.append([f"embedserve index: {index['missing']}"] + ["-"] * 6)
    else:
        ready_idx, approx, exact = steps["ready/idx"], steps["http/idx/approx"], steps["http/idx/exact=true"]
        table.append(["embedserve, index (approximate)", ready_idx["ready_s"], ready_idx["rss_mb"], approx["query_ms"],
                      recall_cell(approx), index.get("wall_s", "reused"), index.get("peak_mb", "-")])
        table.append(["embedserve, index, exact=true", "-", "-", exact["query_ms"], "1 (= gensim)", "-", "-"])
    widths = [max(len(str(row[i])) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())

    print("\nratios, gensim / embedserve (above 1: embedserve is faster or smaller):")
    print(f"  ready, binary store:      {gensim['ready_s'] / ready_bin['ready_s']:.2f}x")
    print(f"  RSS, binary store:        {gensim['rss_mb'] / ready_bin['rss_mb']:.2f}x")
    print(f"  one query, exact:         {gensim['query_ms'] / http_bin['query_ms']:.2f}x (embedserve over HTTP)")
    goals = [("binary store ready >= 4x sooner than gensim", gensim["ready_s"] / ready_bin["ready_s"] >= GOAL_BIN_READY_RATIO),
             ("binary store RSS <= 1.15x the vectors", ready_bin["rss_mb"] <= GOAL_BIN_RSS_OVER_VECTORS * vectors_mb)]
    print(f"  RSS / size of the vectors: gensim {gensim['rss_mb'] / vectors_mb:.2f}, "
          f"embedserve binary {ready_bin['rss_mb'] / vectors_mb:.2f}")
    if "missing" not in index:
        print(f"  ready, index:             {gensim['ready_s'] / ready_idx['ready_s']:.1f}x")
        print(f"  RSS at ready, index:      {gensim['rss_mb'] / ready_idx['rss_mb']:.1f}x "
              f"(after the queries: {approx['rss_after_mb']} MB resident, mapped page cache included; "
              f"{approx.get('anon_after_mb', '?')} MB of it the process's own)")
        print(f"  one query, approximate:   {gensim['query_ms'] / approx['query_ms']:.1f}x")
        print(f"  one query, exact=true:    {gensim['query_ms'] / exact['query_ms']:.2f}x")
        if "missing" not in annoy:
            print(f"  gensim+Annoy / embedserve index, one query: {annoy['query_ms'] / approx['query_ms']:.2f}x; "
                  f"recall {annoy['recall']} vs {approx['recall']}")
        goals += [(f"approximate recall@10 >= {GOAL_RECALL}", approx["recall"] >= GOAL_RECALL),
                  (f"approximate median <= {GOAL_APPROX_MS} ms over HTTP", approx["query_ms"] <= GOAL_APPROX_MS),
                  (f"ready from the index within {GOAL_INDEX_READY_S} s", ready_idx["ready_s"] <= GOAL_INDEX_READY_S),
                  (f"RSS at ready <= {GOAL_INDEX_RSS_MB} MB", ready_idx["rss_mb"] <= GOAL_INDEX_RSS_MB)]
        if "info" in steps:
            print(f"  /info: {json.dumps(steps['info']['info'].get('word2vec', steps['info']['info']))[:400]}")
    print("\nissue 11 goals:")
    for goal, met in goals:
        print(f"  {'met    ' if met else 'NOT met'}  {goal}")


if __name__ == "__main__":
    main()
