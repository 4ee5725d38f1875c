#!/usr/bin/env bash
# Benchmark `embedserve train` against gensim 4.4.0 side by side (speed with 1 and 2 workers,
# analogy / WordSim353 quality over several seeds, skip-gram and CBOW) on wiki-lee-corpus.txt.
# Usage: bench/train/run.sh [path/to/embedserve] [extra compare.py arguments...]
# Without a path, builds the release binary of this repository first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ $# -gt 0 && -x "$1" ]]; then
    binary="$1"
    shift
else
    cargo build --release --manifest-path "$root/Cargo.toml" --bin embedserve
    binary="$root/target/release/embedserve"
fi
exec python3 "$here/compare.py" --embedserve "$binary" "$@"
