"""Writes a Qwen2.5-shaped model directory around the real tokenizer, for the browser suite.

    python make_qwen_model.py FIXTURE_DIR OUT_DIR

FIXTURE_DIR is the shared fixtures' qwen2.5-1.5b-instruct-tokenizer (tokenizer.json and the real
config.json). The weights are a generated 151936 x 32 bf16 matrix (the real one is 467 MB): the
page shows tokens and rows, so the values only need to vary.
"""

import json
import math
import shutil
import struct
import sys
from pathlib import Path

ROWS = 151_936
HIDDEN = 32
TENSOR = "model.embed_tokens.weight"
# A prime-length block of values repeated over the matrix, so neighbouring rows differ.
BLOCK = 997


def bf16(value: float) -> bytes:
    """The upper half of the f32: bf16 by truncation, exact for these values' purpose."""
    return struct.pack("<f", value)[2:]


def main(fixture: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixture / "tokenizer.json", out / "tokenizer.json")
    config = json.loads((fixture / "config.json").read_text())
    config["hidden_size"] = HIDDEN
    (out / "config.json").write_text(json.dumps(config))
    block = b"".join(bf16(math.sin(i * 0.7) * 0.05) for i in range(BLOCK))
    size = ROWS * HIDDEN * 2
    data = (block * (size // len(block) + 1))[:size]
    header = json.dumps(
        {TENSOR: {"dtype": "BF16", "shape": [ROWS, HIDDEN], "data_offsets": [0, size]}}
    ).encode()
    header += b" " * (-len(header) % 8)
    with open(out / "model.safetensors", "wb") as weights:
        weights.write(struct.pack("<Q", len(header)))
        weights.write(header)
        weights.write(data)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
