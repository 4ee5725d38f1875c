#!/usr/bin/env python3
"""Usage: python3 bench/static/make_model.py OUT_DIR [FIXTURE_DIR] [ROWS] [DIM]

Writes a potion-base-8M-shaped model2vec directory into OUT_DIR: the real bge-base tokenizer.json
and the config.json style of FIXTURE_DIR (../shared/fixtures/model2vec/test-model-float32) with
hidden_dim = DIM and normalize = true, and a model.safetensors holding one float32 tensor
`embeddings` of ROWS x DIM (29528 x 256, 30 MB, as potion-base-8M) of random values (normal,
seed 0). Not committed: the benchmark makes it in a temp dir.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    fixture = Path(sys.argv[2]) if len(sys.argv) > 2 else (
        Path(__file__).resolve().parents[2].parent / "shared/fixtures/model2vec/test-model-float32")
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 29528
    dim = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    config = json.loads((fixture / "config.json").read_text())
    config.update(hidden_dim=dim, apply_pca=dim, normalize=True)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixture / "tokenizer.json", out / "tokenizer.json")
    (out / "config.json").write_text(json.dumps(config, indent=4))
    matrix = np.random.default_rng(0).standard_normal((rows, dim), dtype=np.float32)
    save_file({"embeddings": matrix}, str(out / "model.safetensors"))
    print(f"{out}: embeddings {rows} x {dim} float32 ({rows * dim * 4 / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
