"""Writes a random word2vec binary store (float32 N(0,1) values, words w0, w1, ...), as gensim's
save_word2vec_format(binary=True) lays it out. Usage: python3 make_store.py PATH ROWS DIM"""

import sys

import numpy as np


def main():
    path, rows, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(42)
    with open(path, "wb") as out:
        out.write(f"{rows} {dim}\n".encode())
        for start in range(0, rows, 65536):
            block = rng.standard_normal((min(65536, rows - start), dim), dtype=np.float32)
            out.write(b"".join(f"w{start + i} ".encode() + row.tobytes() for i, row in enumerate(block)))


if __name__ == "__main__":
    main()
