"""Shared by the client checks (`openai-sdk-check.py`, `clients_check.py`): the independent
reference computation and a recording proxy. Imported, not run.

- `Reference`: sentence vectors computed with numpy straight from a model directory's
  safetensors file (bf16 rows widened to f32) and token ids from Hugging Face `tokenizers`: the
  mean of the token rows (f64 accumulation), cut to `dimensions`, L2-normalised when asked.
- `RecordingProxy`: a loopback reverse proxy that forwards every request to the server and keeps
  what the client sent (method, path, headers, exact body), for the replay tests in `tests/api/`.
- `start_server`: the release binary on a free port, for scripts run without `--base-url`.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
# Headers that only concern one hop (not what a client asks of the API).
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}
# Names of the input-embedding tensor in the models the checks use (as the server finds them).
EMBEDDING_TENSORS = ("model.embed_tokens.weight", "embeddings.word_embeddings.weight")


class Failure(Exception):
    """A check did not hold."""


class Reference:
    """Mean-pooled rows of the model's embedding matrix, computed with numpy."""

    def __init__(self, model_dir: Path):
        self.matrix = read_bf16_tensor(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json may store truncation and padding for training; the server serves whole inputs.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()

    def ids(self, text: str) -> list[int]:
        """Token ids as the server's sentence routes take them (no special tokens)."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def vector(self, text: str, dimensions: int | None, normalize: bool = True) -> np.ndarray:
        """The mean of the token rows (f64 accumulation), cut to `dimensions`, unit length
        when `normalize`."""
        rows = self.matrix[self.ids(text)].astype(np.float64)
        mean = (rows.sum(axis=0) / len(rows)).astype(np.float32)[:dimensions]
        if not normalize:
            return mean
        norm = np.sqrt(np.sum(mean.astype(np.float64) ** 2))
        return (mean.astype(np.float64) / norm).astype(np.float32)


def read_bf16_tensor(path: Path) -> np.ndarray:
    """Reads the bf16 input-embedding tensor of a safetensors file as float32 (bf16 is the top
    half of an f32)."""
    with open(path, "rb") as file:
        header_len = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(header_len))
    name = next((name for name in EMBEDDING_TENSORS if name in header), None)
    if name is None:
        raise Failure(f"{path}: none of {EMBEDDING_TENSORS}")
    entry = header[name]
    if entry["dtype"] != "BF16":
        raise Failure(f"{path}: tensor {name} is {entry['dtype']}, expected BF16")
    start, end = entry["data_offsets"]
    raw = np.memmap(path, dtype="<u2", mode="r", offset=8 + header_len + start, shape=((end - start) // 2,))
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(entry["shape"])


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
