#!/usr/bin/env python3
"""Drives the real embedding clients of the Python and JavaScript frameworks against a running
embedserve and compares every vector they hand back with an independent computation (numpy over
the model's safetensors rows, ids from Hugging Face `tokenizers`: see `embedcheck.Reference`).

usage: scripts/clients_check.py --base-url http://127.0.0.1:PORT --model-dir DIR
                                [--record tests/fixtures/clients/NAME] [--node-modules DIR]

Run by `scripts/clients-check.sh`, which installs the pinned clients into a temporary virtualenv
and npm directory and starts the servers. Every client talks to the server through a recording
proxy; with --record, each case's requests (method, path, headers, exact body) are written as one
JSON file with the reference answer of each request, for `tests/api/clients.rs` to replay.

Each case embeds TEXTS (or one of them) through a client's public API and checks: the client made
requests whose inputs are the texts as given; each vector equals the reference for that text with
the `dimensions` and `normalize` the request asked for, within TOLERANCE. Cases a client cannot run
here are reported as `skip` with the reason; a wrong vector or an error is `FAIL` and exits 1.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from embedcheck import HOP_HEADERS, Failure, RecordingProxy, Reference

SCRIPTS = Path(__file__).resolve().parent
# Words of the bundled demo's vocabulary, so the demo embeds real rows and not [UNK].
TEXTS = ["the king and the queen", "python and java are programming languages",
         "paris is the capital of france"]
# Widest difference tolerated between a client's vectors and the numpy reference (both pool in
# f64 from the same f32 rows; only summation order may differ).
TOLERANCE = 1e-6
API_KEY = "sk-embedserve-test"
MODEL = "embedserve"


class Skip(Exception):
    """The case cannot run in this environment (not a failure of the server)."""


@dataclass
class Case:
    """One call of a client: `run(base_url)` returns one vector per text of `texts`."""

    name: str
    package: str
    call: str
    texts: list[str]
    run: Callable[[str], list]


def version(package: str) -> str:
    return f"{package} {importlib.metadata.version(package)}"


# ---------------------------------------------------------------------------------------------
# The clients, each through its documented public API (as in the README's snippets).


def hf_hub_feature_extraction(path: str, text, **kwargs) -> Callable[[str], list]:
    def run(base: str) -> list:
        from huggingface_hub import InferenceClient

        return list(InferenceClient(model=base + path).feature_extraction(text, **kwargs))
    return run


def langchain_openai(query: bool, check_ctx: bool = False) -> Callable[[str], list]:
    def run(base: str) -> list:
        from langchain_openai import OpenAIEmbeddings

        embeddings = OpenAIEmbeddings(model=MODEL, base_url=f"{base}/v1", api_key=API_KEY,
                                      check_embedding_ctx_length=check_ctx, max_retries=0)
        return [embeddings.embed_query(TEXTS[0])] if query else embeddings.embed_documents(TEXTS)
    return run


def langchain_huggingface(query: bool) -> Callable[[str], list]:
    def run(base: str) -> list:
        from langchain_huggingface import HuggingFaceEndpointEmbeddings

        embeddings = HuggingFaceEndpointEmbeddings(model=base)
        return [embeddings.embed_query(TEXTS[0])] if query else embeddings.embed_documents(TEXTS)
    return run


def llama_index_openai_like(query: bool) -> Callable[[str], list]:
    def run(base: str) -> list:
        from llama_index.embeddings.openai_like import OpenAILikeEmbedding

        embeddings = OpenAILikeEmbedding(model_name=MODEL, api_base=f"{base}/v1", api_key=API_KEY)
        if query:
            return [embeddings.get_query_embedding(TEXTS[0])]
        return embeddings.get_text_embedding_batch(TEXTS)
    return run


def llama_index_tei(query: bool) -> Callable[[str], list]:
    def run(base: str) -> list:
        from llama_index.embeddings.text_embeddings_inference import TextEmbeddingsInference

        embeddings = TextEmbeddingsInference(model_name=MODEL, base_url=f"{base}/tei")
        if query:
            return [embeddings.get_query_embedding(TEXTS[0])]
        return embeddings.get_text_embedding_batch(TEXTS)
    return run


def haystack_openai(documents: bool) -> Callable[[str], list]:
    def run(base: str) -> list:
        from haystack import Document
        from haystack.components.embedders import OpenAIDocumentEmbedder, OpenAITextEmbedder
        from haystack.utils import Secret

        settings = {"api_key": Secret.from_token(API_KEY), "api_base_url": f"{base}/v1", "model": MODEL}
        if documents:
            result = OpenAIDocumentEmbedder(**settings).run(documents=[Document(content=t) for t in TEXTS])
            return [document.embedding for document in result["documents"]]
        return [OpenAITextEmbedder(**settings).run(text=TEXTS[0])["embedding"]]
    return run


def haystack_tei(documents: bool) -> Callable[[str], list]:
    def run(base: str) -> list:
        from haystack import Document
        from haystack_integrations.components.embedders.huggingface_api import (
            HuggingFaceAPIDocumentEmbedder, HuggingFaceAPITextEmbedder)

        settings = {"api_type": "text_embeddings_inference", "api_params": {"url": base}}
        if documents:
            embedder = HuggingFaceAPIDocumentEmbedder(**settings)
            result = embedder.run(documents=[Document(content=t) for t in TEXTS])
            return [document.embedding for document in result["documents"]]
        return [HuggingFaceAPITextEmbedder(**settings).run(text=TEXTS[0])["embedding"]]
    return run


def openai_node(node_modules: Path | None, encoding: str) -> Callable[[str], list]:
    def run(base: str) -> list:
        if node_modules is None:
            raise Skip("no --node-modules with the openai npm package")
        env = dict(os.environ, NODE_PATH=str(node_modules))
        reply = subprocess.run(
            ["node", str(SCRIPTS / "clients-check-openai.cjs"), f"{base}/v1", encoding, json.dumps(TEXTS)],
            env=env, capture_output=True, text=True, timeout=60)
        if reply.returncode != 0:
            raise Failure(f"node: {reply.stderr.strip()}")
        return json.loads(reply.stdout)
    return run


def node_version(node_modules: Path | None) -> str:
    if node_modules is None:
        return "openai (npm) not installed"
    package = json.loads((node_modules / "openai" / "package.json").read_text())
    return f"openai (npm) {package['version']}"


def cases(node_modules: Path | None) -> list[Case]:
    one = TEXTS[:1]
    hub, lco, lch = "huggingface_hub", "langchain-openai", "langchain-huggingface"
    lio, lit = "llama-index-embeddings-openai-like", "llama-index-embeddings-text-embeddings-inference"
    npm = node_version(node_modules)
    return [
        Case("huggingface-hub-root", version(hub), "InferenceClient(model=BASE).feature_extraction(text)",
             one, hf_hub_feature_extraction("", TEXTS[0])),
        Case("huggingface-hub-tei-prefix", version(hub),
             "InferenceClient(model=BASE/tei).feature_extraction(text, normalize=False, dimensions=16, truncate=True)",
             one, hf_hub_feature_extraction("/tei", TEXTS[0], normalize=False, dimensions=16, truncate=True)),
        Case("huggingface-hub-batch", version(hub), "InferenceClient(model=BASE).feature_extraction([texts])",
             TEXTS, hf_hub_feature_extraction("", TEXTS)),
        Case("langchain-openai-documents", version(lco),
             "OpenAIEmbeddings(check_embedding_ctx_length=False).embed_documents(texts)", TEXTS,
             langchain_openai(query=False)),
        Case("langchain-openai-query", version(lco),
             "OpenAIEmbeddings(check_embedding_ctx_length=False).embed_query(text)", one,
             langchain_openai(query=True)),
        Case("langchain-huggingface-documents", version(lch),
             "HuggingFaceEndpointEmbeddings(model=BASE).embed_documents(texts)", TEXTS,
             langchain_huggingface(query=False)),
        Case("langchain-huggingface-query", version(lch),
             "HuggingFaceEndpointEmbeddings(model=BASE).embed_query(text)", one, langchain_huggingface(query=True)),
        Case("llama-index-openai-like-batch", version(lio),
             "OpenAILikeEmbedding(api_base=BASE/v1).get_text_embedding_batch(texts)", TEXTS,
             llama_index_openai_like(query=False)),
        Case("llama-index-openai-like-query", version(lio),
             "OpenAILikeEmbedding(api_base=BASE/v1).get_query_embedding(text)", one,
             llama_index_openai_like(query=True)),
        Case("llama-index-tei-batch", version(lit),
             "TextEmbeddingsInference(base_url=BASE/tei).get_text_embedding_batch(texts)", TEXTS,
             llama_index_tei(query=False)),
        Case("llama-index-tei-query", version(lit),
             "TextEmbeddingsInference(base_url=BASE/tei).get_query_embedding(text)", one, llama_index_tei(query=True)),
        Case("haystack-openai-text", version("haystack-ai"),
             "OpenAITextEmbedder(api_base_url=BASE/v1).run(text)", one, haystack_openai(documents=False)),
        Case("haystack-openai-documents", version("haystack-ai"),
             "OpenAIDocumentEmbedder(api_base_url=BASE/v1).run(documents)", TEXTS, haystack_openai(documents=True)),
        Case("haystack-tei-text", version("huggingface-api-haystack"),
             "HuggingFaceAPITextEmbedder(text_embeddings_inference, url=BASE).run(text)", one,
             haystack_tei(documents=False)),
        Case("haystack-tei-documents", version("huggingface-api-haystack"),
             "HuggingFaceAPIDocumentEmbedder(text_embeddings_inference, url=BASE).run(documents)", TEXTS,
             haystack_tei(documents=True)),
        Case("openai-node-default", npm, "client.embeddings.create({input: texts})", TEXTS,
             openai_node(node_modules, "default")),
        Case("openai-node-float", npm, "client.embeddings.create({input: texts, encoding_format: 'float'})",
             TEXTS, openai_node(node_modules, "float")),
    ]


# ---------------------------------------------------------------------------------------------
# What a request asked for, and its reference answer.


@dataclass
class Asked:
    """The inputs and options of one recorded request, read from its body."""

    shape: str  # "openai" (OpenAI's envelope) or "tei" (TEI's bare nested array)
    texts: list
    dimensions: int | None
    normalize: bool
    decode: str  # how the answer's vectors are written: "base64" or "float"


def asked(request: dict) -> Asked:
    body = json.loads(request["body"])
    if request["path"].endswith("/v1/embeddings"):
        texts = body["input"]
        fmt = body.get("encoding_format") or "float"
        return Asked("openai", [texts] if isinstance(texts, str) else texts, body.get("dimensions"), True,
                     "base64" if fmt == "base64" else "float")
    texts = body["inputs"]
    return Asked("tei", [texts] if isinstance(texts, str) else texts, body.get("dimensions"),
                 body.get("normalize", True), "float")


def check_case(case: Case, proxy: RecordingProxy, reference: Reference, record: Path | None, model: str) -> str:
    before = len(proxy.requests)
    try:
        got = case.run(proxy.url)
    except Skip:
        raise
    except Exception as error:  # any client error is a failure of the drop-in promise
        raise Failure(f"{case.name}: {type(error).__name__}: {error}") from error
    requests = proxy.requests[before:]
    if not requests:
        raise Failure(f"{case.name}: the client sent no request")
    asks = [asked(request) for request in requests]
    sent = [text for ask in asks for text in ask.texts]
    if sent != case.texts:
        raise Failure(f"{case.name}: the client sent {sent!r}, not the texts {case.texts!r}")
    if len(got) != len(case.texts):
        raise Failure(f"{case.name}: {len(got)} vectors for {len(case.texts)} texts")
    options = {(ask.dimensions, ask.normalize) for ask in asks}
    if len(options) != 1:
        raise Failure(f"{case.name}: requests differ in dimensions/normalize: {options}")
    dimensions, normalize = options.pop()
    worst = 0.0
    for text, vector in zip(case.texts, got, strict=True):
        vector = np.asarray(vector, dtype=np.float64).astype(np.float32).reshape(-1)
        expected = reference.vector(text, dimensions, normalize)
        if vector.shape != expected.shape:
            raise Failure(f"{case.name}: {text!r} has shape {vector.shape}, expected {expected.shape}")
        worst = max(worst, float(np.max(np.abs(vector - expected))))
    if worst > TOLERANCE:
        raise Failure(f"{case.name}: differs from the numpy reference by {worst:.3g}")
    if record is not None:
        write_recording(record / f"{case.name}.json", case, requests, asks, reference, model)
    routes = ", ".join(sorted({f"{r['method']} {r['path']}" for r in requests}))
    return (f"{len(got)} x {len(got[0])}, normalize={normalize}, {len(requests)} request(s) to {routes}, "
            f"encoding {sorted({ask.decode for ask in asks})}, max |client - numpy| = {worst:.3g}")


def write_recording(path: Path, case: Case, requests: list[dict], asks: list[Asked], reference: Reference,
                    model: str):
    """One case's requests, each with the answer the replay test expects."""
    exchanges = []
    for request, ask in zip(requests, asks, strict=True):
        headers = {k: v for k, v in sorted(request["headers"].items()) if k not in HOP_HEADERS}
        if "authorization" in headers:
            # The key is whatever the check used; a recording must not look like it holds a secret.
            headers["authorization"] = f"Bearer {API_KEY}"
        exchanges.append({
            "request": {"method": request["method"], "path": request["path"], "headers": headers,
                        "body": request["body"].decode("utf-8")},
            "expected": {
                "status": 200,
                "shape": ask.shape,
                "decode": ask.decode,
                "prompt_tokens": sum(len(reference.ids(text)) for text in ask.texts),
                "embeddings": [[float(x) for x in reference.vector(text, ask.dimensions, ask.normalize)]
                               for text in ask.texts],
            },
        })
    recording = {"description": f"{case.package}: {case.call}", "model_dir": model, "exchanges": exchanges}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(compact_json(recording) + "\n")


def compact_json(value) -> str:
    """Indented JSON with each list of numbers on one line, so recordings stay small."""
    text = json.dumps(value, indent=1, ensure_ascii=False)
    return re.sub(r"\[\n\s*([^\[\]{}\"]*?)\n\s*\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)


def check_token_ids_refused(proxy: RecordingProxy) -> str:
    """LangChain's default (token ids from tiktoken) must be refused, not embedded."""
    before = len(proxy.requests)
    try:
        langchain_openai(query=True, check_ctx=True)(proxy.url)
    except Exception as error:
        if len(proxy.requests) == before:
            raise Skip(f"LangChain sent nothing ({type(error).__name__}: {str(error)[:120]}); "
                       "tiktoken needs its encoding file from the internet") from error
        status = getattr(error, "status_code", None)
        if status != 422 or "check_embedding_ctx_length" not in str(error):
            raise Failure(f"token ids: expected 422 naming check_embedding_ctx_length, got {error}") from error
        return "422: " + str(error)[:100]
    raise Failure("LangChain's default token ids were embedded instead of refused")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="a running server")
    parser.add_argument("--model-dir", type=Path, required=True, help="the model the server serves")
    parser.add_argument("--record", type=Path, help="write each case's requests into this directory")
    parser.add_argument("--node-modules", type=Path, help="node_modules holding the openai npm package")
    args = parser.parse_args()
    reference = Reference(args.model_dir)
    proxy = RecordingProxy(args.base_url.rstrip("/"))
    failures = 0
    print(f"server {args.base_url} serving {args.model_dir.name}, through proxy {proxy.url}")
    for case in cases(args.node_modules):
        try:
            print(f"ok    {case.name:34} {case.package}: {check_case(case, proxy, reference, args.record, args.model_dir.name)}")
        except Skip as skip:
            print(f"skip  {case.name:34} {case.package}: {skip}")
        except Failure as failure:
            failures += 1
            print(f"FAIL  {case.name:34} {case.package}: {failure}")
    try:
        print(f"ok    {'langchain-openai-token-ids':34} {version('langchain-openai')}: {check_token_ids_refused(proxy)}")
    except Skip as skip:
        print(f"skip  {'langchain-openai-token-ids':34} {version('langchain-openai')}: {skip}")
    except Failure as failure:
        failures += 1
        print(f"FAIL  {'langchain-openai-token-ids':34} {failure}")
    proxy.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
