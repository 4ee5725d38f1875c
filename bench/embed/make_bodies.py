#!/usr/bin/env python3
"""Usage: python3 bench/embed/make_bodies.py MODEL_DIR OUT_DIR

Writes the /embed request bodies of the benchmark into OUT_DIR: {short,long}-{float,base64}.json.
short is "Hi, 你好~"; long is news text (../shared/fixtures/word2vec/lee_background.cor) cut to
exactly 512 tokens of MODEL_DIR's tokenizer (no special tokens, as /embed counts them).
"""

import json
import sys
from pathlib import Path

from tokenizers import Tokenizer

SHORT = "Hi, 你好~"
LONG_TOKENS = 512
CORPUS = Path(__file__).resolve().parents[2].parent / "shared/fixtures/word2vec/lee_background.cor"


def long_text(tokenizer: Tokenizer) -> str:
    """The shortest prefix of the corpus, by words, that has LONG_TOKENS tokens."""
    words = CORPUS.read_text(encoding="utf-8").split()
    low, high = 1, len(words)
    while low < high:  # first word count reaching LONG_TOKENS tokens
        mid = (low + high) // 2
        if len(tokenizer.encode(" ".join(words[:mid]), add_special_tokens=False).ids) >= LONG_TOKENS:
            high = mid
        else:
            low = mid + 1
    text = " ".join(words[:low])
    encoding = tokenizer.encode(text, add_special_tokens=False)
    # Cut at the character where token LONG_TOKENS starts, if the last word overshot.
    if len(encoding.ids) > LONG_TOKENS:
        text = text[: encoding.offsets[LONG_TOKENS][0]]
    count = len(tokenizer.encode(text, add_special_tokens=False).ids)
    if count != LONG_TOKENS:
        sys.exit(f"could not cut the corpus to {LONG_TOKENS} tokens (got {count})")
    return text


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tokenizer = Tokenizer.from_file(str(Path(sys.argv[1]) / "tokenizer.json"))
    tokenizer.no_truncation()
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("short", SHORT), ("long", long_text(tokenizer))):
        tokens = len(tokenizer.encode(text, add_special_tokens=False).ids)
        for encoding in ("float", "base64"):
            body = {"inputs": text, "encoding_format": encoding}
            (out / f"{name}-{encoding}.json").write_text(json.dumps(body, ensure_ascii=False))
        print(f"{name}: {tokens} tokens, {len(text)} characters")


if __name__ == "__main__":
    main()
