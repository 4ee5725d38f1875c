#!/usr/bin/env python3
"""Usage: python3 bench/static/check.py BASE MODEL_DIR INPUTS_DIR [RS_ROWS]

Before any timing: POSTs to BASE/v1/embeddings the first SAMPLE (8) bodies of each
INPUTS_DIR/bodies-B-ENC.jsonl (batches of 1 and 32, float and base64) and compares every served
vector, as float32 bits, with model2vec's `StaticModel.encode` of the same batch; exits non-zero on
any non-200 answer or any differing bit. With RS_ROWS (model2vec-rs's rows for every sentence of
INPUTS_DIR/sentences.txt, little-endian float32, from `m2vrs-bench dump`), also compares those with
model2vec's and prints how far they are (model2vec-rs is not required to be bit-exact).
"""

import base64
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import model2vec
import numpy as np
from model2vec import StaticModel

SAMPLE = 8


def post(url, body: bytes):
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"{url}: HTTP {error.code}: {error.read()[:300]!r}")


def served_rows(answer, encoding, dim):
    data = sorted(answer["data"], key=lambda item: item["index"])
    if encoding == "base64":
        rows = [np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4") for item in data]
    else:
        rows = [np.array(item["embedding"], dtype=np.float64).astype(np.float32) for item in data]
    assert all(row.shape == (dim,) for row in rows), "a served vector has the wrong length"
    return np.stack(rows)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    base, model_dir, inputs = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    model = StaticModel.from_pretrained(model_dir)
    checked = 0
    for path in sorted(inputs.glob("bodies-*.jsonl")):
        encoding = path.stem.rsplit("-", 1)[1]
        for line in path.read_text(encoding="utf-8").splitlines()[:SAMPLE]:
            body = json.loads(line)
            ours = served_rows(post(f"{base}/v1/embeddings", line.encode()), encoding, model.dim)
            theirs = model.encode(body["input"]).astype(np.float32)
            if ours.shape != theirs.shape or not np.array_equal(ours.view(np.uint32), theirs.view(np.uint32)):
                bad = int((ours.view(np.uint32) != theirs.view(np.uint32)).any(axis=1).sum())
                sys.exit(f"{path.name}: {bad} of {len(theirs)} served vectors differ from model2vec's "
                         f"(max |diff| {float(np.abs(ours - theirs).max()):.3g})")
            checked += len(theirs)
    print(f"served vectors equal model2vec {model2vec.__version__}'s bit for bit: "
          f"{checked} vectors in {SAMPLE} requests of each kind (batch 1 and 32, float and base64)")

    if len(sys.argv) == 5:
        sentences = (inputs / "sentences.txt").read_text(encoding="utf-8").splitlines()
        theirs = model.encode(sentences).astype(np.float32)
        rs = np.fromfile(sys.argv[4], dtype="<f4").reshape(len(sentences), model.dim)
        same = int((rs.view(np.uint32) == theirs.view(np.uint32)).all(axis=1).sum())
        cosine = (rs * theirs).sum(axis=1) / (np.linalg.norm(rs, axis=1) * np.linalg.norm(theirs, axis=1))
        ulps = np.abs(rs.view(np.int32).astype(np.int64) - theirs.view(np.int32).astype(np.int64))
        print(f"model2vec-rs against model2vec on all {len(sentences)} sentences: {same} rows bit-identical, "
              f"max |diff| {float(np.abs(rs - theirs).max()):.3g}, max {int(ulps.max())} ulp, "
              f"min cosine {float(cosine.min()):.9f}")


if __name__ == "__main__":
    main()
