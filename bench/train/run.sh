#!/usr/bin/env bash
# Benchmark `embedserve train` against gensim 4.4.0 side by side (speed with 1 and 2 workers,
# analogy / WordSim353 quality over several seeds, skip-gram and CBOW) on wiki-lee-corpus.txt.
# Usage: bench/train/run.sh [extra compare.py arguments...]
# environment: EMBEDSERVE_BIN (default: the release binary of this repository, built first unless
# SKIP_BUILD=1; see scripts/lib.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lib.sh source-path=SCRIPTDIR
. "$here/../../scripts/lib.sh"
use_embedserve_bin
exec python3 "$here/compare.py" --embedserve "$EMBEDSERVE_BIN" "$@"
