#!/usr/bin/env python3
"""Writes the tiny seed inputs of every fuzz target under fuzz/seeds/<target>/.

Usage: python3 fuzz/make_seeds.py [FIXTURES_DIR]   (default: ../shared/fixtures beside the repo)

Each seed is a valid input (or a near-valid edge case) in the target's input layout, described at
the top of fuzz/fuzz_targets/<target>.rs. Real values come from the shared fixtures where they
exist (the lee-cbow50 store, the MiniLM and Qwen configs); the files stay well under 4 KiB.
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np

FUZZ = Path(__file__).resolve().parent
FIXTURES = Path(sys.argv[1]) if len(sys.argv) > 1 else FUZZ.parent.parent / "shared" / "fixtures"
SHARD = "model-00001-of-00001.safetensors"


def write(target, name, data):
    out = FUZZ / "seeds" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(data)


def safetensors(tensors, metadata=None):
    """A safetensors file as the format specifies: u64 LE header length, JSON header padded with
    spaces to 8 bytes, then the tensors' bytes back to back."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, array in tensors.items():
        raw = array.tobytes()
        dtype = {"float32": "F32", "float16": "F16", "uint16": "BF16"}[array.dtype.name]
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def bf16(values):
    """bfloat16 bits (round to nearest even) of float32 values."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def safetensors_seeds():
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((4, 3)).astype(np.float32)
    flags = {"tied": 1, "sharded": 2, "named": 4}
    write("safetensors_open", "qwen-bf16", bytes([0]) + safetensors(
        {"model.embed_tokens.weight": bf16(matrix), "lm_head.weight": bf16(matrix)},
        {"format": "pt"}))
    write("safetensors_open", "minilm-layout", bytes([0]) + safetensors(
        {"embeddings.word_embeddings.weight": bf16(matrix),
         "embeddings.position_embeddings.weight": bf16(matrix[:2]),
         "embeddings.token_type_embeddings.weight": bf16(matrix[:1])}, {"format": "pt"}))
    write("safetensors_open", "tied-head-f16", bytes([flags["tied"]]) + safetensors(
        {"lm_head.weight": matrix.astype(np.float16)}))
    write("safetensors_open", "model2vec-f32", bytes([flags["named"]]) + safetensors(
        {"embeddings": matrix}))
    index = {"metadata": {"total_size": 48},
             "weight_map": {"model.embed_tokens.weight": SHARD, "model.norm.weight": SHARD}}
    shard = safetensors({"model.embed_tokens.weight": matrix,
                         "model.norm.weight": matrix[0]})
    write("safetensors_open", "sharded-f32",
          bytes([flags["sharded"]]) + json.dumps(index).encode() + b"\0" + shard)


def config_seeds():
    for name in ["all-minilm-l6-v2-bf16", "qwen2.5-1.5b-instruct-tokenizer"]:
        write("model_config", name, (FIXTURES / name / "config.json").read_bytes())
    write("model_config", "gemma3-text-config", json.dumps(
        {"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"],
         "text_config": {"hidden_size": 640, "vocab_size": 262144}, "dtype": "bfloat16",
         "tie_word_embeddings": None}).encode())
    write("model_config", "gpt2", b'{"n_embd": 768, "vocab_size": 50257, "model_type": "gpt2"}')


def lee_rows(count, dim):
    """The first `count` words of the lee-cbow50 store, cut to `dim` values, as numpy writes them."""
    lines = (FIXTURES / "word2vec" / "lee-cbow50.txt").read_text().splitlines()[1:count + 1]
    return [(line.split()[0], np.array(line.split()[1:dim + 1], dtype=np.float32)) for line in lines]


def word2vec_seeds():
    rows = lee_rows(6, 4)
    header = f"{len(rows)} 4\n".encode()
    binary = header + b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n" for w, v in rows)
    text = header + "".join(w + " " + " ".join(str(x) for x in v) + "\n" for w, v in rows).encode()
    fasttext = header.replace(b"\n", b"\r\n") + "".join(
        w + " " + " ".join(str(x) for x in v) + " \r\n" for w, v in rows).encode()
    # Flags byte, limit byte, file (see fuzz_targets/word2vec_store.rs).
    write("word2vec_store", "binary-auto", bytes([0, 0]) + binary)
    write("word2vec_store", "binary-forced-limit3", bytes([1 | 8, 3]) + binary)
    write("word2vec_store", "text-auto", bytes([0, 0]) + text)
    write("word2vec_store", "text-forced-lossy", bytes([2 | 4, 0]) + text.replace(b"to", b"t\xff"))
    write("word2vec_store", "fasttext-crlf-limit2", bytes([8, 2]) + fasttext)
    write("word2vec_store", "binary-c-tool-no-newlines", bytes([1, 0]) + header + b"".join(
        w.encode() + b" " + v.astype("<f4").tobytes() for w, v in rows))


def fasttext_seeds():
    """Real fastText models (tests/fixtures/fasttext/), small enough for seeds, with probe words."""
    models = FUZZ.parent / "tests" / "fixtures" / "fasttext"
    toy = (models / "toy-model.bin").read_bytes()
    # Flags byte (bit 0 lossy, bit 1 limit), limit byte, probe length, probe, file.
    for name, flags, limit, probe in [
        ("toy-in-vocabulary", 0, 0, "the"),
        ("toy-misspelling-limit5", 2, 5, "teh"),
        ("toy-cyrillic-lossy", 1, 0, "москва"),
    ]:
        word = probe.encode()
        write("fasttext_bin", name, bytes([flags, limit, len(word)]) + word + toy)


def http_seeds():
    vector = [float(x) for x in lee_rows(1, 50)[0][1]]
    seeds = {
        "embed-texts": (0, {"inputs": ["hello world", "The quick brown fox!"], "pooling": "mean",
                            "normalize": True, "add_special_tokens": True}),
        "embed-ids-base64": (0, {"input_ids": [[101, 7592, 102], [0]], "encoding_format": "base64",
                                 "pooling": "max"}),
        "embed-one-truncate": (0, {"inputs": "caf\u00e9 na\u00efve \ud83d\ude00", "truncate": True}),
        "tokenize": (1, {"inputs": ["Hello, world!", ""], "add_special_tokens": True}),
        "similar-words": (2, {"positive": ["government", "australia"], "negative": "police",
                              "topn": 5, "restrict_vocab": 1000}),
        "similar-vector": (2, {"vector": vector, "topn": 3}),
        "openai-text": (3, {"input": "hello", "model": "text-embedding-3-small", "dimensions": 8}),
        "openai-ids": (3, {"input": [[101, 102], [7592]], "encoding_format": "base64",
                           "user": "u"}),
    }
    for name, (route, body) in seeds.items():
        write("http_request", name, bytes([route]) + json.dumps(body).encode())
    queries = {
        "get-similar": (4, "word=government&topn=5"),
        "get-similar-lists": (4, "positive=the,of&positive=and&negative=he&restrict_vocab=100"),
        "get-similarity": (5, "word1=police&word2=government"),
        "get-vector": (6, "word=the&norm=true"),
        "get-doesnt-match": (7, "words=police,government,minister,the"),
    }
    for name, (route, query) in queries.items():
        write("http_request", name, bytes([route]) + query.encode())


def gensim_seeds():
    """KeyedVectors of the first lee-cbow50 words saved by gensim's native `save()`: arrays in the
    pickle, and in a `.npy` sidecar (a tiny `sep_limit`)."""
    import tempfile

    from gensim.models import KeyedVectors

    lines = (FIXTURES / "word2vec" / "lee-cbow50.txt").read_text().splitlines()[1:6]
    words = [line.split(" ")[0] for line in lines]
    vectors = np.array([[float(v) for v in line.split(" ")[1:5]] for line in lines], dtype=np.float32)
    kv = KeyedVectors(vector_size=4)
    kv.add_vectors(words, vectors)
    with tempfile.TemporaryDirectory() as tmp:
        inline, aside = Path(tmp) / "inline.kv", Path(tmp) / "aside.kv"
        kv.save(str(inline))
        kv.save(str(aside), sep_limit=16)
        inline, pickle = inline.read_bytes(), aside.read_bytes()
        sidecar = (Path(tmp) / "aside.kv.vectors.npy").read_bytes()
    # Flags byte, limit byte, pickle length (u32 LE), pickle, sidecar (fuzz_targets/gensim_native.rs).
    write("gensim_native", "kv-auto", bytes([0, 0]) + struct.pack("<I", len(inline)) + inline)
    write("gensim_native", "kv-forced-limit2", bytes([1 | 8, 2]) + struct.pack("<I", len(inline)) + inline)
    write("gensim_native", "kv-sidecar", bytes([0, 0]) + struct.pack("<I", len(pickle)) + pickle + sidecar)


if __name__ == "__main__":
    safetensors_seeds()
    config_seeds()
    word2vec_seeds()
    fasttext_seeds()
    http_seeds()
    gensim_seeds()
