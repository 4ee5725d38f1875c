#!/usr/bin/env python3
"""Side-by-side benchmark of `embedserve train` against gensim 4.4.0's Word2Vec.

Same corpus (tokenized, one document a line, streamed from disk by both: gensim reads it with
LineSentence), same parameters (gensim's defaults), same worker counts. Reports:
  * speed: raw corpus words x epochs per second, end to end (vocabulary scan + training + save
    for embedserve, whose figure also includes process start-up; build_vocab + train + save for
    gensim) and for the training epochs alone; best of --repeats runs;
  * quality, for several seeds: analogy accuracy (gensim's evaluate_word_analogies on
    questions-words.txt) and WordSim353 Spearman (evaluate_word_pairs), both computed by gensim
    on each model's vectors (embedserve's loaded with load_word2vec_format).
"""
import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from gensim.models import KeyedVectors, Word2Vec
from gensim.models.word2vec import LineSentence

SUMMARY = re.compile(r"trained on (\d+) raw words \((\d+) effective\) in ([\d.]+)s")


def run_embedserve(binary, corpus, output, sg, workers, seed):
    cmd = [binary, "train", "--input", corpus, "--output", output, "--tokenized", "--quiet",
           "--sg", str(sg), "--workers", str(workers), "--seed", str(seed)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    total = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    match = SUMMARY.search(done.stderr)
    if not match:
        sys.exit(f"no summary line in embedserve's stderr:\n{done.stderr}")
    raw_words, train_seconds = int(match.group(1)), float(match.group(3))
    return {"raw_words": raw_words, "total_s": total, "train_s": train_seconds,
            "vectors": KeyedVectors.load_word2vec_format(output, binary=True)}


def run_gensim(corpus, output, sg, workers, seed):
    start = time.perf_counter()
    model = Word2Vec(sg=sg, workers=workers, seed=seed)
    model.build_vocab(corpus_iterable=LineSentence(corpus))
    train_start = time.perf_counter()
    model.train(LineSentence(corpus), total_examples=model.corpus_count, epochs=model.epochs)
    train_seconds = time.perf_counter() - train_start
    model.wv.save_word2vec_format(output, binary=True)
    total = time.perf_counter() - start
    raw_words = model.corpus_total_words * model.epochs
    return {"raw_words": raw_words, "total_s": total, "train_s": train_seconds, "vectors": model.wv}


def corpus_words(corpus):
    """Words in the corpus as LineSentence and --tokenized split it: the count both trainers see."""
    with open(corpus, encoding="utf-8") as lines:
        return sum(len(line.split()) for line in lines)


def check_timed(runs, raw_words, wordsim):
    """Refuses a rate over wrong work: every timed run must have trained on the whole corpus
    (`raw_words` counted here, not read from a trainer's own output), learned gensim's vocabulary,
    and give vectors about as good as gensim's (WordSim353 Spearman at most 0.1 below)."""
    reference = runs["gensim"][0]["vectors"]
    floor = reference.evaluate_word_pairs(wordsim)[1].statistic - 0.1
    for impl, impl_runs in runs.items():
        for run in impl_runs:
            if run["raw_words"] != raw_words:
                sys.exit(f"{impl} trained on {run['raw_words']} raw words, the corpus x epochs is {raw_words}")
            if set(run["vectors"].index_to_key) != set(reference.index_to_key):
                sys.exit(f"{impl}'s timed model has another vocabulary than gensim's")
            spearman = run["vectors"].evaluate_word_pairs(wordsim)[1].statistic
            if not spearman >= floor:
                sys.exit(f"{impl}'s timed model scores WordSim353 Spearman {spearman:.4f}, below {floor:.4f}")


def evaluate(vectors, questions, wordsim):
    analogy, _sections = vectors.evaluate_word_analogies(questions)
    _pearson, spearman, _oov = vectors.evaluate_word_pairs(wordsim)
    return {"analogy": analogy, "wordsim_spearman": spearman.statistic}


def spread(values):
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.4f} ± {sd:.4f} (min {min(values):.4f}, max {max(values):.4f})"


def main():
    fixtures = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "word2vec")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedserve", required=True, help="path of the embedserve binary")
    parser.add_argument("--corpus", default=os.path.join(fixtures, "wiki-lee-corpus.txt"))
    parser.add_argument("--questions", default=os.path.join(fixtures, "questions-words.txt"))
    parser.add_argument("--wordsim", default=os.path.join(fixtures, "wordsim353.tsv"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--quality-workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="speed runs per setting (best is kept)")
    parser.add_argument("--baseline", help="another embedserve binary (e.g. the main branch's) timed alongside, "
                        "interleaved; speed rows then also give embedserve / baseline")
    parser.add_argument("--speed-only", action="store_true", help="skip the quality runs")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    results = {"speed": [], "quality": [], "load_average_before": os.getloadavg()}
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    runners = {"embedserve": lambda *a: run_embedserve(args.embedserve, *a), "gensim": run_gensim}
    if args.baseline:
        runners["baseline"] = lambda *a: run_embedserve(args.baseline, *a)
    with tempfile.TemporaryDirectory() as tmp:
        for sg, arch in ((1, "skip-gram"), (0, "CBOW")):
            for workers in args.workers:
                # Interleaved, so that a change in the machine's load hits both alike.
                runs = {impl: [] for impl in runners}
                for _ in range(args.repeats):
                    for impl, runner in runners.items():
                        runs[impl].append(runner(args.corpus, os.path.join(tmp, f"{impl}.bin"), sg, workers,
                                                 args.seeds[0]))
                raw_words = corpus_words(args.corpus) * 5  # both trainers' default epochs
                check_timed(runs, raw_words, args.wordsim)
                best = {impl: {"raw_words": raw_words,
                               **{key: min(run[key] for run in r) for key in ("total_s", "train_s")}}
                        for impl, r in runs.items()}
                row = {"arch": arch, "workers": workers}
                for impl in runners:
                    row[f"{impl}_total_wps"] = best[impl]["raw_words"] / best[impl]["total_s"]
                    row[f"{impl}_train_wps"] = best[impl]["raw_words"] / best[impl]["train_s"]
                row["ratio_total"] = row["embedserve_total_wps"] / row["gensim_total_wps"]
                row["ratio_train"] = row["embedserve_train_wps"] / row["gensim_train_wps"]
                results["speed"].append(row)
                print(f"{arch:9} workers={workers}: embedserve {row['embedserve_total_wps']:,.0f} words/s end to end "
                      f"({row['embedserve_train_wps']:,.0f} training), gensim {row['gensim_total_wps']:,.0f} "
                      f"({row['gensim_train_wps']:,.0f}): ratio {row['ratio_total']:.2f}x end to end, "
                      f"{row['ratio_train']:.2f}x training", flush=True)
                if args.baseline:
                    row["vs_baseline_total"] = row["embedserve_total_wps"] / row["baseline_total_wps"]
                    row["vs_baseline_train"] = row["embedserve_train_wps"] / row["baseline_train_wps"]
                    print(f"{'':9} baseline {row['baseline_total_wps']:,.0f} words/s end to end "
                          f"({row['baseline_train_wps']:,.0f} training): embedserve / baseline "
                          f"{row['vs_baseline_total']:.3f}x end to end, {row['vs_baseline_train']:.3f}x training",
                          flush=True)
            if args.speed_only:
                continue
            for impl, runner in runners.items():
                scores = [evaluate(runner(args.corpus, os.path.join(tmp, f"q-{impl}.bin"), sg,
                                          args.quality_workers, seed)["vectors"], args.questions, args.wordsim)
                          for seed in args.seeds]
                entry = {"arch": arch, "impl": impl, "seeds": args.seeds, "runs": scores}
                results["quality"].append(entry)
                print(f"{arch:9} {impl:10} analogy {spread([s['analogy'] for s in scores])}, "
                      f"WordSim353 Spearman {spread([s['wordsim_spearman'] for s in scores])}", flush=True)
    results["load_average_after"] = os.getloadavg()
    print(f"load average {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
