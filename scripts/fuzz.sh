#!/usr/bin/env bash
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#        scripts/fuzz.sh --replay [TARGET...]
#
# Runs each cargo-fuzz target in fuzz/ for SECONDS_PER_TARGET seconds (default 600), one after the
# other, single-process (the machine has 2 cores). Targets default to every target in
# fuzz/Cargo.toml: safetensors_open, model_config, word2vec_store, index_file, gensim_native, fasttext_bin,
# http_request.
# --replay runs each target once over its seeds and saved regressions (a quick smoke check).
#
# The corpus grows in fuzz/corpus/<target> (gitignored), started from fuzz/seeds/<target>;
# crashing inputs land in fuzz/artifacts/<target>/ and make the script exit 1 after all targets
# ran. Copy one worth keeping to fuzz/regressions/<target>/ and add it to
# tests/word2vec/fuzz_regressions.rs. Per-target logs and final stats: fuzz/logs/<target>.log.
#
# Toolchain: stable Rust with RUSTC_BOOTSTRAP=1 unlocks the nightly flags cargo-fuzz passes.
# environment:
#   FUZZ_SANITIZER   address, none, ... (default none: libFuzzer without ASan; panics, aborts,
#                    timeouts and out-of-memory are still caught, and the code is safe Rust)
#   FUZZ_RSS_MB      memory limit per process in MiB (default 2048)
#   FUZZ_KEEP_GOING=1  keep fuzzing after a crash (libFuzzer fork mode with one worker), to
#                    collect every distinct crash of a target in one run
#   EMBEDSERVE_FIXTURES  fixtures directory for http_request (default ../shared/fixtures)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
sanitizer=${FUZZ_SANITIZER:-none}
rss_mb=${FUZZ_RSS_MB:-2048}
all_targets=(safetensors_open model_config word2vec_store index_file gensim_native fasttext_bin http_request)

replay=false
if [[ ${1:-} == --replay ]]; then
  replay=true
  shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
seconds=${seconds:-600}
targets=("${@:-${all_targets[@]}}")

# One build of every target; the binaries are then run directly (`cargo fuzz run` would rebuild
# with a different debug-info profile).
cargo fuzz build -s "$sanitizer" --target-dir target
bin_dir=target/$(rustc -vV | sed -n 's/^host: //p')/release
mkdir -p logs
failed=()
for target in "${targets[@]}"; do
  corpus=corpus/$target
  mkdir -p "$corpus" "artifacts/$target"
  inputs=("$corpus" "seeds/$target")
  [[ -d regressions/$target ]] && inputs+=("regressions/$target")
  args=(-dict="dicts/$target.dict" -rss_limit_mb="$rss_mb" -timeout=10 -print_final_stats=1)
  if [[ ${FUZZ_KEEP_GOING:-0} == 1 ]]; then
    args+=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  fi
  if $replay; then
    args+=(-runs=0)
  else
    args+=(-max_total_time="$seconds")
  fi
  echo "== $target: $($replay && echo replay || echo "${seconds}s")"
  if "$bin_dir/$target" -artifact_prefix="artifacts/$target/" "${args[@]}" "${inputs[@]}" \
    >"logs/$target.log" 2>&1; then
    grep -E '^(stat::|Done)|DONE' "logs/$target.log" || true
  else
    echo "!! $target failed; see fuzz/logs/$target.log and fuzz/artifacts/$target/"
    failed+=("$target")
  fi
  rm -rf "${TMPDIR:-/tmp}/embedserve-fuzz-$target-"* /dev/shm/embedserve-fuzz-"$target"-*
done
if ((${#failed[@]})); then
  echo "failed: ${failed[*]}"
  exit 1
fi
