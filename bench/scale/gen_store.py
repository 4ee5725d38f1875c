"""Writes a word2vec binary store with the structure of real word vectors, for bench/scale.

Usage: python3 gen_store.py PATH [ROWS=1000000] [DIM=300] [SEED=42]

Uniform random vectors have no neighbourhoods, so every approximate index looks bad on them and
exact search is all that can be measured. Real embeddings sit near a low-rank subspace and form
clusters of very different sizes; these rows do too:
  * RANK (50) orthonormal directions of the DIM-dimensional space hold most of the variance;
  * CLUSTERS (ROWS / 250, so 4000 at 1M rows) centres in that subspace, drawn N(0, 1); a row joins
    cluster k with probability proportional to 1 / (k + 10) (Zipf-like: a few big clusters, a long
    tail of small ones) and lies at centre + spread_k * N(0, 1) with spread_k uniform in [0.35, 0.7];
  * isotropic noise N(0, 0.08^2) on all DIM coordinates, so no row is exactly low-rank;
  * each row is scaled by a log-normal factor (sigma 0.4), as word-vector norms vary with frequency
    (cosine ignores it, the stored values and the norms do not).
Words are w0, w1, ... in row order, and the file is laid out as the original word2vec tool and
GoogleNews-vectors-negative300.bin are: a "ROWS DIM" line, then per row the word, a space, DIM
little-endian float32 values and a newline. The same arguments always give the same bytes.
"""

import sys

import numpy as np

RANK = 50
NOISE = 0.08
BLOCK = 65536


def main():
    path = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    dim = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 42
    rng = np.random.default_rng(seed)
    rank = min(RANK, dim)
    basis = np.linalg.qr(rng.standard_normal((dim, rank)))[0].T.astype(np.float32)  # rank x dim
    clusters = max(1, rows // 250)
    centres = rng.standard_normal((clusters, rank)).astype(np.float32)
    spread = rng.uniform(0.35, 0.7, clusters).astype(np.float32)
    weights = 1.0 / (np.arange(clusters) + 10.0)
    weights /= weights.sum()
    with open(path, "wb") as out:
        out.write(f"{rows} {dim}\n".encode())
        start = 0
        while start < rows:
            # Rows whose words have the same number of digits have records of one size, so a
            # block of them is one numpy structured array written at once.
            digits_end = 10 ** len(str(start))
            end = min(rows, start + BLOCK, digits_end)
            count = end - start
            member = rng.choice(clusters, size=count, p=weights)
            low = centres[member] + spread[member, None] * rng.standard_normal((count, rank), dtype=np.float32)
            block = low @ basis + NOISE * rng.standard_normal((count, dim), dtype=np.float32)
            block *= np.exp(0.4 * rng.standard_normal((count, 1), dtype=np.float32))
            word_len = len(str(start)) + 2  # "w", the digits, the space
            record = np.dtype([("word", f"S{word_len}"), ("vector", "<f4", (dim,)), ("newline", "S1")])
            out_block = np.empty(count, dtype=record)
            out_block["word"] = np.char.add(np.char.add("w", np.arange(start, end).astype(str)), " ").astype("S")
            out_block["vector"] = block
            out_block["newline"] = b"\n"
            out.write(out_block.tobytes())
            start = end


if __name__ == "__main__":
    main()
