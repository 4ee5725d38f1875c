#!/usr/bin/env python3
"""Checks POST /v1/embeddings with the real `openai` Python SDK against a reference computed
independently with numpy from the model's safetensors file, and records the SDK's requests.

usage: scripts/openai-sdk-check.py [--base-url http://127.0.0.1:PORT] [--record tests/fixtures/openai-sdk]

Without --base-url it starts the server binary ($EMBEDSERVE_BIN, else $CARGO_TARGET_DIR or
./target release build) on a free loopback port over ../shared/fixtures/all-minilm-l6-v2-bf16.
The SDK talks to the server through a recording proxy on loopback; with --record each request it
sent (method, path, headers, exact body) is written as one JSON file, together with the numpy
reference vectors, for tests/api/openai_sdk.rs to replay.

Checks, for a string, a list and `dimensions`, with encoding_format float, base64 and the SDK
default (base64, decoded by the SDK): the count, order and length of the vectors; that every
encoding gives the same float32 values; that they equal the mean of the token rows (bf16 widened
to f32, mean in f64), cut to `dimensions`, L2-normalised, computed here from the safetensors file
with token ids from Hugging Face `tokenizers`; and the usage token counts.
Exits 1 on the first mismatch.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import numpy as np
import openai

from embedcheck import HOP_HEADERS, Failure, RecordingProxy, Reference, start_server

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT.parent / "shared" / "fixtures" / "all-minilm-l6-v2-bf16"
# Widest difference tolerated between the server's vectors and the numpy reference (both
# normalise in f64 from the same f32 mean; only summation order may differ).
TOLERANCE = 1e-6

# name -> keyword arguments of client.embeddings.create (besides model).
CASES = {
    "string-float": {"input": "Hi, 你好~", "encoding_format": "float"},
    "string-base64": {"input": "Hi, 你好~", "encoding_format": "base64"},
    "string-default": {"input": "Hi, 你好~"},
    "list-float": {
        "input": ["The quick brown fox jumps over the lazy dog.", "embedserve", "naïve café"],
        "encoding_format": "float",
    },
    "list-default": {
        "input": ["The quick brown fox jumps over the lazy dog.", "embedserve", "naïve café"],
    },
    "dimensions-float": {"input": ["machine learning", "Hello world!"], "dimensions": 64,
                         "encoding_format": "float"},
    "dimensions-default": {"input": ["machine learning", "Hello world!"], "dimensions": 64},
}


# ---------------------------------------------------------------------------------------------
# The checks.


def vectors_of(response, explicit_base64: bool) -> list[np.ndarray]:
    """The response's vectors as float32, decoding base64 the way the SDK does by default."""
    out = []
    for item in response.data:
        if explicit_base64:
            if not isinstance(item.embedding, str):
                raise Failure("encoding_format base64 did not return a string")
            out.append(np.frombuffer(base64.b64decode(item.embedding), dtype="<f4"))
        else:
            out.append(np.asarray(item.embedding, dtype=np.float64).astype(np.float32))
    return out


def check_case(client: openai.OpenAI, reference: Reference, name: str, kwargs: dict) -> list[np.ndarray]:
    response = client.embeddings.create(model="embedserve", **kwargs)
    texts = [kwargs["input"]] if isinstance(kwargs["input"], str) else kwargs["input"]
    dims = kwargs.get("dimensions") or reference.matrix.shape[1]
    got = vectors_of(response, kwargs.get("encoding_format") == "base64")
    if [item.index for item in response.data] != list(range(len(texts))):
        raise Failure(f"{name}: indices {[item.index for item in response.data]}")
    expected_tokens = sum(len(reference.ids(text)) for text in texts)
    if response.usage.prompt_tokens != expected_tokens:
        raise Failure(f"{name}: prompt_tokens {response.usage.prompt_tokens}, expected {expected_tokens}")
    worst = 0.0
    for text, vector in zip(texts, got, strict=True):
        if vector.shape != (dims,):
            raise Failure(f"{name}: {text!r} has shape {vector.shape}, expected ({dims},)")
        worst = max(worst, float(np.max(np.abs(vector - reference.vector(text, kwargs.get("dimensions"))))))
    if worst > TOLERANCE:
        raise Failure(f"{name}: differs from the numpy reference by {worst:.3g}")
    print(f"ok  {name:20} {len(texts)} x {dims}, max |server - numpy| = {worst:.3g}")
    return got


def check_encodings_agree(results: dict[str, list[np.ndarray]]):
    """Every encoding of the same input and dimensions must give bit-identical float32 values."""
    groups: dict[str, list[str]] = {}
    for name in results:
        groups.setdefault(name.split("-")[0], []).append(name)
    for group, names in groups.items():
        first = results[names[0]]
        for other in names[1:]:
            if not all(np.array_equal(a, b) for a, b in zip(first, results[other], strict=True)):
                raise Failure(f"{names[0]} and {other} give different vectors")
        print(f"ok  {group:20} identical float32 values from {', '.join(names)}")


def record(directory: Path, name: str, kwargs: dict, request: dict, reference: Reference):
    """Writes one recorded request and its reference answer."""
    texts = [kwargs["input"]] if isinstance(kwargs["input"], str) else kwargs["input"]
    headers = {k: v for k, v in sorted(request["headers"].items()) if k not in HOP_HEADERS}
    # The key is whatever the check used; a recording must not look like it holds a secret.
    headers["authorization"] = "Bearer sk-embedserve-test"
    fixture = {
        "description": f"openai-python {openai.__version__} embeddings.create({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
        "request": {
            "method": request["method"],
            "path": request["path"],
            "headers": headers,
            "body": request["body"].decode("utf-8"),
        },
        "expected": {
            "model_dir": "all-minilm-l6-v2-bf16",
            "decode": "base64" if json.loads(request["body"])["encoding_format"] == "base64" else "float",
            "prompt_tokens": sum(len(reference.ids(text)) for text in texts),
            "embeddings": [[float(x) for x in reference.vector(text, kwargs.get("dimensions"))] for text in texts],
        },
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running server (default: start one)")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR, help="the model the server serves")
    parser.add_argument("--record", type=Path, help="write the SDK's requests into this directory")
    args = parser.parse_args()
    reference = Reference(args.model_dir)
    process = None
    try:
        if args.base_url:
            base = args.base_url.rstrip("/")
        else:
            process, base = start_server(args.model_dir)
        proxy = RecordingProxy(base)
        client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-embedserve-test", max_retries=0)
        print(f"openai {openai.__version__} -> proxy {proxy.url} -> {base}")
        results = {}
        for name, kwargs in CASES.items():
            before = len(proxy.requests)
            results[name] = check_case(client, reference, name, kwargs)
            if len(proxy.requests) != before + 1:
                raise Failure(f"{name}: the SDK sent {len(proxy.requests) - before} requests")
            if args.record:
                record(args.record, name, kwargs, proxy.requests[-1], reference)
        check_encodings_agree(results)
        sent = {json.loads(r["body"]).get("encoding_format") for r in proxy.requests}
        print(f"ok  the SDK sent encoding_format {sorted(sent)}; requests recorded: {len(proxy.requests)}")
        proxy.close()
    except (Failure, openai.OpenAIError) as error:
        print(f"FAIL {error}", file=sys.stderr)
        return 1
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
