"""Usage: EMBED_MODEL_DIR=DIR uvicorn --app-dir bench/embed peer_server:app --port PORT [--workers N]

The peer embedserve is compared with: what a user would write in Python for POST /embed
(pooling none) with Hugging Face `tokenizers` and the safetensors file mapped with numpy (bf16
read as uint16 and widened by << 16, since numpy has no bf16), served by starlette/uvicorn
(synchronous handlers run in starlette's thread pool). Same request and response shape as
embedserve's /embed for `inputs` (one text or a list), `encoding_format` float or base64.
GET /health/ready answers once the model is loaded (at import).
"""

import base64
import json
import os
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tokenizers import Tokenizer

TENSOR = "model.embed_tokens.weight"


def load(model_dir: Path):
    """Maps the embedding tensor (no copy) and loads the tokenizer without stored truncation."""
    path = model_dir / "model.safetensors"
    with open(path, "rb") as file:
        header_len = int.from_bytes(file.read(8), "little")
        entry = json.loads(file.read(header_len))[TENSOR]
    start, end = entry["data_offsets"]
    rows, hidden = entry["shape"]
    matrix = np.memmap(path, dtype="<u2", mode="r", offset=8 + header_len + start, shape=(rows, hidden))
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return matrix, tokenizer


MODEL_DIR = Path(os.environ["EMBED_MODEL_DIR"])
MATRIX, TOKENIZER = load(MODEL_DIR)
NAME = MODEL_DIR.name


def embed_sync(body: dict) -> dict:
    texts = body["inputs"]
    texts = [texts] if isinstance(texts, str) else texts
    as_base64 = body.get("encoding_format", "float") == "base64"
    data = []
    tokens = 0
    for index, encoding in enumerate(TOKENIZER.encode_batch(texts, add_special_tokens=False)):
        rows = (MATRIX[encoding.ids].astype(np.uint32) << 16).view(np.float32)
        embedding = base64.b64encode(rows.astype("<f4").tobytes()).decode() if as_base64 else rows.tolist()
        data.append({"index": index, "ids": encoding.ids, "tokens": encoding.tokens,
                     "shape": list(rows.shape), "embedding": embedding})
        tokens += len(encoding.ids)
    return {"model": NAME, "dtype": "bf16", "dimension": MATRIX.shape[1], "pooling": "none",
            "encoding_format": "base64" if as_base64 else "float", "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


async def embed(request: Request) -> Response:
    body = await request.json()
    # CPU work off the event loop, as starlette does for synchronous endpoints.
    return JSONResponse(await run_in_threadpool(embed_sync, body))


async def ready(_: Request) -> Response:
    return JSONResponse({"status": "ready"})


app = Starlette(routes=[Route("/embed", embed, methods=["POST"]), Route("/health/ready", ready)])
