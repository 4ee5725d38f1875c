#!/usr/bin/env bash
# The playground (GET /) in a real browser: headless Chromium (Debian's `chromium`) driven by
# Playwright for Python, with axe-core for accessibility. Installs what is missing (chromium and
# a CJK font with apt-get; playwright and pytest into a venv; axe-core with npm, both under
# $EMBEDSERVE_BROWSER_CACHE, default ~/.cache/embedserve-browser), then starts three servers and
# runs tests/browser/ against them:
#   - the bundled demo (models/demo and its word2vec store);
#   - a model with Qwen2.5's real tokenizer (from the shared fixtures) and the demo store, for
#     the seed example `Hi, 你好~` (skipped when the fixture is absent, unless
#     EMBEDSERVE_REQUIRE_FIXTURES=1);
#   - the demo with an API key configured;
#   - a static-embedding model (model2vec, from the shared fixtures; the demo model when absent)
#     without a word2vec store, so the panels that need one say so.
#
#   scripts/browser-check.sh [--update-screenshots] [PYTEST ARGS...]
#
# The server binary is EMBEDSERVE_BIN (CI passes the debug build `cargo test` made), else a
# release build (SKIP_BUILD=1 skips building). Screenshots of each panel, light and dark, go to
# SCREENSHOT_DIR (default: a temporary directory); --update-screenshots writes docs/screenshots/.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

CACHE=${EMBEDSERVE_BROWSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/embedserve-browser}
AXE_VERSION=4.14.1
API_KEY=browser-check-key

if [ "${1:-}" = --update-screenshots ]; then
  SCREENSHOT_DIR=$ROOT/docs/screenshots
  shift
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq chromium >/dev/null
  CHROMIUM=$(command -v chromium)
fi
# Without a CJK font the tokens of `你好` render as boxes in screenshots (tests pass either way).
if ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|cjk'; then
  as_root apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 ||
    echo "warning: no CJK font installed; screenshots show boxes for CJK text" >&2
fi

VENV=$CACHE/venv
if ! "$VENV/bin/python" -c 'import playwright, pytest' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/tests/browser/requirements.txt"
fi
AXE_JS=$CACHE/axe/node_modules/axe-core/axe.min.js
if [ ! -f "$AXE_JS" ]; then
  npm install --silent --no-audit --no-fund --prefix "$CACHE/axe" "axe-core@$AXE_VERSION"
fi

use_embedserve_bin
use_workdir keep
DEMO=$ROOT/models/demo

start_server "$WORK/demo.log" run_embedserve --model-dir "$DEMO" --word2vec "$DEMO/word2vec.bin"
PLAYGROUND_DEMO_URL=$BASE
start_server "$WORK/keys.log" run_embedserve --model-dir "$DEMO" --word2vec "$DEMO/word2vec.bin" \
  --api-keys "$API_KEY"
PLAYGROUND_KEYS_URL=$BASE
QWEN_FIXTURE=$FIXTURES/qwen2.5-1.5b-instruct-tokenizer
PLAYGROUND_QWEN_URL=
if [ -d "$QWEN_FIXTURE" ]; then
  "$VENV/bin/python" "$ROOT/tests/browser/make_qwen_model.py" "$QWEN_FIXTURE" "$WORK/qwen2.5-tokenizer"
  start_server "$WORK/qwen.log" run_embedserve --model-dir "$WORK/qwen2.5-tokenizer" \
    --word2vec "$DEMO/word2vec.bin"
  PLAYGROUND_QWEN_URL=$BASE
elif [ "${EMBEDSERVE_REQUIRE_FIXTURES:-0}" = 1 ]; then
  die "missing fixture: $QWEN_FIXTURE"
fi

STATIC_MODEL=$FIXTURES/model2vec/test-model-float32
if [ ! -d "$STATIC_MODEL" ]; then
  [ "${EMBEDSERVE_REQUIRE_FIXTURES:-0}" != 1 ] || die "missing fixture: $STATIC_MODEL"
  STATIC_MODEL=$DEMO
fi
start_server "$WORK/storeless.log" run_embedserve --model-dir "$STATIC_MODEL" --word2vec ""
PLAYGROUND_STORELESS_URL=$BASE

export CHROMIUM AXE_JS PLAYGROUND_DEMO_URL PLAYGROUND_KEYS_URL PLAYGROUND_QWEN_URL
export PLAYGROUND_STORELESS_URL
export PLAYGROUND_API_KEY=$API_KEY SCREENSHOT_DIR=${SCREENSHOT_DIR:-$WORK/screenshots}
cd "$ROOT/tests/browser"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
