#!/usr/bin/env python3
"""Usage: python3 bench/static/make_inputs.py OUT_DIR [CORPUS]

Splits CORPUS (../shared/fixtures/word2vec/lee_background.cor: 300 Australian news articles, one
per line) into sentences, shuffles them with seed 0 and writes into OUT_DIR:
  sentences.txt                one sentence per line, the order every side walks through
  bodies-B-ENC.jsonl           for B in 1, 32 and ENC in float, base64: one POST /v1/embeddings
                               body per line, the sentences cut into consecutive batches of B
                               (oha -Z sends a random line per request)
and prints the sentence count and the length spread in characters.
"""

import json
import random
import re
import statistics
import sys
from pathlib import Path

BATCHES = (1, 32)
ENCODINGS = ("float", "base64")


def sentences(corpus: Path) -> list[str]:
    found = []
    for article in corpus.read_text(encoding="utf-8").splitlines():
        # a sentence ends at . ! or ? followed by a space and a capital or a quote
        for sentence in re.split(r'(?<=[.!?])\s+(?=["\'A-Z])', article.strip()):
            if sentence.strip():
                found.append(sentence.strip())
    random.Random(0).shuffle(found)
    return found


def main():
    # An option is never an output directory (a `--help` once became one).
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    corpus = Path(sys.argv[2]) if len(sys.argv) > 2 else (
        Path(__file__).resolve().parents[2].parent / "shared/fixtures/word2vec/lee_background.cor")
    found = sentences(corpus)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sentences.txt").write_text("".join(s + "\n" for s in found), encoding="utf-8")
    for batch in BATCHES:
        for encoding in ENCODINGS:
            with open(out / f"bodies-{batch}-{encoding}.jsonl", "w", encoding="utf-8") as file:
                for start in range(0, len(found) - batch + 1, batch):
                    body = {"input": found[start:start + batch], "model": "bench", "encoding_format": encoding}
                    file.write(json.dumps(body, ensure_ascii=False) + "\n")
    lengths = sorted(len(s) for s in found)
    print(f"{len(found)} sentences from {corpus.name}: characters min {lengths[0]}, median "
          f"{statistics.median(lengths):.0f}, p90 {lengths[len(lengths) * 9 // 10]}, max {lengths[-1]}")


if __name__ == "__main__":
    main()
