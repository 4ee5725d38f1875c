#!/usr/bin/env python3
"""Usage: python3 bench/embed/make_model.py OUT_DIR [TOKENIZER_DIR] [ROWS] [HIDDEN]

Writes a Qwen-shaped model directory into OUT_DIR: the real Qwen tokenizer.json and config.json
from TOKENIZER_DIR (../shared/fixtures/qwen2.5-1.5b-instruct-tokenizer) and a model.safetensors
holding one bf16 tensor `model.embed_tokens.weight` of ROWS x HIDDEN (151936 x 1536, 467 MB)
random values (normal, std 0.02 as Qwen initialises, seed 0, rounded to nearest-even bf16).
Written in blocks of rows so memory stays small.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np

TENSOR = "model.embed_tokens.weight"
BLOCK_ROWS = 8192


def to_bf16_bits(values: np.ndarray) -> np.ndarray:
    """Rounds float32 to the nearest bf16 (ties to even) and returns the 16-bit patterns."""
    bits = values.astype(np.float32).view(np.uint32)
    rounding = np.uint32(0x7FFF) + ((bits >> 16) & 1)
    return ((bits + rounding) >> 16).astype("<u2")


def write_safetensors(path: Path, rows: int, hidden: int, seed: int = 0):
    header = {TENSOR: {"dtype": "BF16", "shape": [rows, hidden], "data_offsets": [0, rows * hidden * 2]}}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # safetensors pads the header to 8 bytes with spaces
    rng = np.random.default_rng(seed)
    with open(path, "wb") as file:
        file.write(len(encoded).to_bytes(8, "little"))
        file.write(encoded)
        for start in range(0, rows, BLOCK_ROWS):
            count = min(BLOCK_ROWS, rows - start)
            block = rng.standard_normal((count, hidden), dtype=np.float32) * np.float32(0.02)
            file.write(to_bf16_bits(block).tobytes())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    fixture = Path(sys.argv[2]) if len(sys.argv) > 2 else (
        Path(__file__).resolve().parents[2].parent / "shared/fixtures/qwen2.5-1.5b-instruct-tokenizer")
    config = json.loads((fixture / "config.json").read_text())
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else config["vocab_size"]
    hidden = int(sys.argv[4]) if len(sys.argv) > 4 else config["hidden_size"]
    config.update(vocab_size=rows, hidden_size=hidden)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixture / "tokenizer.json", out / "tokenizer.json")
    (out / "config.json").write_text(json.dumps(config, indent=2))
    write_safetensors(out / "model.safetensors", rows, hidden)
    print(f"{out}: {rows} x {hidden} bf16 ({rows * hidden * 2 / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
