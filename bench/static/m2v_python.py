#!/usr/bin/env python3
"""Usage: python3 bench/static/m2v_python.py MODEL_DIR SENTENCES BATCH SECONDS WARMUP PROCS

model2vec's StaticModel.encode called in-process: PROCS processes (spawned, each loading the model
itself) each call `model.encode(batch)` with the library's defaults on consecutive batches of
BATCH sentences of the file SENTENCES (one per line; only whole batches), starting at evenly spaced
batches and wrapping around; WARMUP seconds untimed, then SECONDS timed, all processes together.
Prints one JSON line: sentences_per_s, batches, procs, cpu_cores (CPU time of the processes over
the timed window / wall time, every thread counted) and the thread settings in force.

What model2vec uses: encode runs in the calling Python thread; below its multiprocessing_threshold
(10,000 sentences) it starts no pool. Tokenizing goes through tokenizers' encode_batch_fast, which
splits a batch over the Rayon pool of the Rust tokenizers library (one thread per core unless
RAYON_NUM_THREADS or TOKENIZERS_PARALLELISM say otherwise); the gather, mean and norm are numpy
calls on one thread (no BLAS involved).
"""

import json
import multiprocessing as mp
import os
import resource
import sys
import time


def worker(args, index, barrier, results):
    from model2vec import StaticModel

    model_dir, sentence_file, batch, seconds, warmup, procs = args
    model = StaticModel.from_pretrained(model_dir)
    sentences = open(sentence_file, encoding="utf-8").read().splitlines()
    batches = [sentences[i:i + batch] for i in range(0, len(sentences) - batch + 1, batch)]
    position = index * len(batches) // procs

    def run(until):
        nonlocal position
        done = 0
        while time.perf_counter() < until:
            model.encode(batches[position])
            position = (position + 1) % len(batches)
            done += 1
        return done

    run(time.perf_counter() + warmup)
    barrier.wait()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    done = run(t0 + seconds)
    elapsed = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put((done, elapsed, usage.ru_utime + usage.ru_stime - cpu0))


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    model_dir, sentence_file = sys.argv[1:3]
    batch, seconds, warmup, procs = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    args = (model_dir, sentence_file, batch, seconds, warmup, procs)
    context = mp.get_context("spawn")
    barrier, results = context.Barrier(procs), context.Queue()
    workers = [context.Process(target=worker, args=(args, i, barrier, results)) for i in range(procs)]
    for process in workers:
        process.start()
    measured = [results.get() for _ in workers]
    for process in workers:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"a model2vec worker failed with exit code {process.exitcode}")
    done = sum(m[0] for m in measured)
    elapsed = max(m[1] for m in measured)
    print(json.dumps({
        "sentences_per_s": round(done * batch / elapsed, 1),
        "batches": done,
        "procs": procs,
        "cpu_cores": round(sum(m[2] for m in measured) / elapsed, 2),
        "rayon_threads": os.environ.get("RAYON_NUM_THREADS", "unset (one per core)"),
        "tokenizers_parallelism": os.environ.get("TOKENIZERS_PARALLELISM", "unset (on)"),
    }))


if __name__ == "__main__":
    main()
