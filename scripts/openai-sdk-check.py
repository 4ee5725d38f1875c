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
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import openai
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT.parent / "shared" / "fixtures" / "all-minilm-l6-v2-bf16"
# Widest difference tolerated between the server's vectors and the numpy reference (both
# normalise in f64 from the same f32 mean; only summation order may differ).
TOLERANCE = 1e-6
# Headers that only concern one hop (not what the SDK asks of the API).
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}

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


class Failure(Exception):
    """A check did not hold."""


# ---------------------------------------------------------------------------------------------
# The reference: safetensors read with numpy, ids from Hugging Face tokenizers.


class Reference:
    """Mean-pooled, L2-normalised rows of the model's embedding matrix, computed with numpy."""

    def __init__(self, model_dir: Path, tensor: str = "embeddings.word_embeddings.weight"):
        self.matrix = read_bf16_tensor(model_dir / "model.safetensors", tensor)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json may store truncation and padding for training; the server serves whole inputs.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def ids(self, text: str) -> list[int]:
        """Token ids as the server's /v1/embeddings takes them (no special tokens)."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def vector(self, text: str, dimensions: int | None) -> np.ndarray:
        """The mean of the token rows (f64 accumulation), cut to `dimensions`, unit length."""
        rows = self.matrix[self.ids(text)].astype(np.float64)
        mean = (rows.sum(axis=0) / len(rows)).astype(np.float32)[:dimensions]
        norm = np.sqrt(np.sum(mean.astype(np.float64) ** 2))
        return (mean.astype(np.float64) / norm).astype(np.float32)


def read_bf16_tensor(path: Path, name: str) -> np.ndarray:
    """Reads one bf16 tensor of a safetensors file as float32 (bf16 is the top half of an f32)."""
    with open(path, "rb") as file:
        header_len = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(header_len))
    entry = header[name]
    if entry["dtype"] != "BF16":
        raise Failure(f"{path}: tensor {name} is {entry['dtype']}, expected BF16")
    start, end = entry["data_offsets"]
    raw = np.memmap(path, dtype="<u2", mode="r", offset=8 + header_len + start, shape=((end - start) // 2,))
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])


# ---------------------------------------------------------------------------------------------
# A recording reverse proxy on loopback.


class RecordingProxy:
    """Forwards every request to `upstream` and keeps what the client sent."""

    def __init__(self, upstream: str):
        self.upstream = upstream.removeprefix("http://")
        self.requests: list[dict] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep the check's output readable
                pass

            def do_POST(self):
                self.forward()

            def do_GET(self):
                self.forward()

            def forward(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                proxy.requests.append({"method": self.command, "path": self.path,
                                       "headers": headers, "body": body})
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                forwarded = {k: v for k, v in headers.items() if k not in HOP_HEADERS}
                conn.request(self.command, self.path, body=body, headers=forwarded)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------------
# The server under test.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path) -> tuple[subprocess.Popen, str]:
    """Starts the release binary on a free port and waits (at most 60 s) until it is ready."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = Path(os.environ.get("EMBEDSERVE_BIN", target / "release" / "embedserve"))
    if not binary.exists():
        raise Failure(f"{binary} does not exist: run `cargo build --release` or set EMBEDSERVE_BIN")
    base = f"http://127.0.0.1:{free_port()}"
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [str(binary), "--config", "/dev/null", "--listen", base.removeprefix("http://"),
         "--model-dir", str(model_dir), "--word2vec", "", "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise Failure(f"the server exited: {log.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/health/ready", timeout=2) as reply:
                if reply.status == 200:
                    return process, base
        except OSError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise Failure("the server did not become ready within 60 s")


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
