#!/usr/bin/env bash
# The real embedding clients against a release server: installs the pinned client packages (PyPI
# into a temporary virtualenv, npm into a temporary directory), starts embedserve on the bundled
# demo and on a real-tokenizer model, and runs scripts/clients_check.py on each: every client
# embeds texts and its vectors are compared with numpy over the model's safetensors rows.
#
# usage: scripts/clients-check.sh [--record]
#   --record         rewrite tests/fixtures/clients/<model>/ with the clients' requests, which
#                    `cargo test --test api clients` replays without the clients
# environment:
#   EMBEDSERVE_BIN, SKIP_BUILD=1   the server binary (see scripts/lib.sh)
#   MODEL_DIR        the real-tokenizer model (../shared/fixtures/all-minilm-l6-v2-bf16)
#   CLIENTS_VENV     reuse this virtualenv instead of a temporary one (created when missing)
#   PYTHON           the Python that creates the virtualenv (python3)
# Exits 1 when a client's vectors differ from the reference or a client fails; needs the PyPI
# and npm registries (pip, npm) the first time.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The client packages, pinned. langchain-huggingface 1.2.2 and later refuse a URL as `model`
# ("must be a HuggingFace repo ID"), so HuggingFaceEndpointEmbeddings cannot reach any TEI server:
# 1.2.1 is the newest that can. huggingface_hub is the newest it accepts (< 2).
PYPI_PACKAGES=(
  "huggingface_hub==1.33.0"
  "langchain-openai==1.7.4"
  "langchain-huggingface==1.2.1"
  "llama-index-embeddings-openai-like==0.4.0"
  "llama-index-embeddings-text-embeddings-inference==0.6.0"
  "haystack-ai==3.4.1"
  "huggingface-api-haystack==3.1.0"
  "openai==3.57.0"
  "tokenizers==0.23.3"
  "numpy==2.4.6"
)
NPM_PACKAGES=("openai@7.59.0")

RECORD=
case "${1:-}" in
  --record) RECORD=1 ;;
  "") ;;
  *) die "usage: $0 [--record]" ;;
esac

use_embedserve_bin
use_workdir keep
MODEL_DIR=${MODEL_DIR:-$FIXTURES/all-minilm-l6-v2-bf16}
[ -d "$MODEL_DIR" ] || { echo "missing fixture: $MODEL_DIR" >&2; exit 2; }

VENV=${CLIENTS_VENV:-$WORK/venv}
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
echo "installing ${PYPI_PACKAGES[*]}"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${PYPI_PACKAGES[@]}"
echo "installing ${NPM_PACKAGES[*]} (npm)"
npm install --silent --no-audit --no-fund --no-save --prefix "$WORK/npm" "${NPM_PACKAGES[@]}"

status=0
for model in "$ROOT/models/demo" "$MODEL_DIR"; do
  name=$(basename "$model")
  start_server "$WORK/$name.log" run_embedserve --model-dir "$model" --word2vec ""
  record=()
  if [ -n "$RECORD" ]; then
    rm -rf "tests/fixtures/clients/$name"
    record=(--record "tests/fixtures/clients/$name")
  fi
  # No token from the environment may reach the recordings or the Hub.
  env -u HF_TOKEN -u HUGGING_FACE_HUB_TOKEN -u OPENAI_API_KEY HF_HUB_OFFLINE=0 \
    "$VENV/bin/python" scripts/clients_check.py --base-url "$BASE" --model-dir "$model" \
    --node-modules "$WORK/npm/node_modules" "${record[@]}" || status=1
  stop_server "$SERVER_PID"
done
exit "$status"
