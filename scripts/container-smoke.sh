#!/usr/bin/env bash
# Smoke test of the container image: build it, run it with a model mounted read-only over the
# baked-in demo, wait for readiness, call /embed and /similar, run the image's own healthcheck,
# check that nothing was written to the image's filesystem, stop it with SIGTERM and expect exit 0.
#
# usage: scripts/container-smoke.sh
# environment:
#   IMAGE            image tag (embedserve:dev)
#   SKIP_BUILD=1     use the existing image instead of building ./Dockerfile
#   MODEL_DIR        host model directory mounted at /models/model
#                    (../shared/fixtures/all-minilm-l6-v2-bf16 when present, else models/demo)
#   WORD2VEC         host word2vec store mounted at /models/word2vec.bin
#                    (../shared/fixtures/word2vec/lee-cbow50.bin when present, else models/demo/word2vec.bin)
#   PORT             host port (8080: the image's own command runs unchanged; another port is
#                    passed as --listen 0.0.0.0:PORT)
#   READY_TIMEOUT    seconds to wait for /health/ready (120)
#   CONTAINER_BASES  the build/run tool (../shared/tools/container-bases: buildah, no daemon; it runs
#                    containers on the host network)
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

IMAGE=${IMAGE:-embedserve:dev}
PORT=${PORT:-8080}
READY_TIMEOUT=${READY_TIMEOUT:-120}
TOOL=${CONTAINER_BASES:-$ROOT/../shared/tools/container-bases}
if [ -z "${MODEL_DIR:-}" ]; then
  MODEL_DIR=$FIXTURES/all-minilm-l6-v2-bf16
  [ -d "$MODEL_DIR" ] || MODEL_DIR=$ROOT/models/demo
fi
if [ -z "${WORD2VEC:-}" ]; then
  WORD2VEC=$FIXTURES/word2vec/lee-cbow50.bin
  [ -f "$WORD2VEC" ] || WORD2VEC=$ROOT/models/demo/word2vec.bin
fi
MODEL_DIR=$(realpath "$MODEL_DIR")
WORD2VEC=$(realpath "$WORD2VEC")
BASE=http://127.0.0.1:$PORT
# buildah's default OCI format has no HEALTHCHECK; the docker format keeps it.
export BUILDAH_FORMAT=docker

WORK=$(mktemp -d)
LOG=$WORK/container.log
SERVER_JOB=
cleanup() {
  # Only the container this script started, by the pid of its own job.
  if [ -n "$SERVER_JOB" ] && kill -0 "$SERVER_JOB" 2>/dev/null; then
    kill -TERM "$(server_pid)" 2>/dev/null || true
    wait "$SERVER_JOB" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '==> %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  if [ -s "$LOG" ]; then printf -- '--- container log (last 40 lines) ---\n' >&2; tail -n 40 "$LOG" >&2; fi
  exit 1
}

# The embedserve process inside the container: a descendant of the run job.
descendants() { local c; for c in $(pgrep -P "$1" || true); do echo "$c"; descendants "$c"; done; }
server_pid() {
  local p
  for p in $(descendants "$SERVER_JOB"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = embedserve ] && { echo "$p"; return 0; }
  done
  return 1
}

http_status() { curl -s -o "$WORK/body" -w '%{http_code}' "$@" || true; }

# Asserts the shape of a JSON answer with a short Python program reading $WORK/body.
check_json() {
  local what=$1 program=$2
  shift 2
  python3 - "$WORK/body" "$@" <<<"$program" || fail "$what: unexpected answer: $(head -c 600 "$WORK/body")"
}

[ -d "$MODEL_DIR" ] || fail "no model directory $MODEL_DIR"
[ -f "$WORD2VEC" ] || fail "no word2vec store $WORD2VEC"
[ -x "$TOOL" ] || fail "container tool $TOOL not found (set CONTAINER_BASES)"
if curl -s -o /dev/null "$BASE/health/live"; then fail "port $PORT is already in use (set PORT)"; fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  step "building $IMAGE"
  started=$(date +%s)
  "$TOOL" build "$IMAGE"
  step "built in $(( $(date +%s) - started )) s"
fi
[ -n "$(buildah inspect --type image --format '{{if .Docker.Config.Healthcheck}}{{.Docker.Config.Healthcheck.Test}}{{end}}' "$IMAGE")" ] \
  || fail "$IMAGE has no HEALTHCHECK"

step "running $IMAGE with $MODEL_DIR and $WORD2VEC mounted read-only"
args=()
[ "$PORT" = 8080 ] || args=(/usr/local/bin/embedserve serve --listen "0.0.0.0:$PORT")
CONTAINER_VOLUMES="$MODEL_DIR:/models/model:ro $WORD2VEC:/models/word2vec.bin:ro" \
  "$TOOL" run "$IMAGE" "${args[@]}" >"$LOG" 2>&1 &
SERVER_JOB=$!
started=$(date +%s)
since_start=$WORK/started
touch "$since_start"
wait_ready "$BASE" "$SERVER_JOB" "$LOG"
step "ready after $(( $(date +%s) - started )) s"

step "POST /embed"
status=$(http_status -H 'Content-Type: application/json' \
  -d '{"inputs": ["Hello, world!", "embedding rows"]}' "$BASE/embed")
[ "$status" = 200 ] || fail "/embed answered $status: $(head -c 600 "$WORK/body")"
check_json "/embed" '
import json, sys
body = json.load(open(sys.argv[1]))
hidden = json.load(open(sys.argv[2] + "/config.json"))["hidden_size"]
assert body["dimension"] == hidden, (body["dimension"], hidden)
assert [d["index"] for d in body["data"]] == [0, 1]
for d in body["data"]:
    rows = d["embedding"]
    assert d["shape"] == [len(d["ids"]), hidden] and len(rows) == len(d["ids"]) > 0, d["shape"]
    assert all(len(row) == hidden and all(isinstance(x, float) for x in row) for row in rows)
print("    2 inputs,", [d["shape"] for d in body["data"]], "rows of", body["dtype"])
' "$MODEL_DIR"

# Query the store with its own first (most frequent) word, so any store works.
word=$(python3 -c '
import sys
with open(sys.argv[1], "rb") as f:
    f.readline()
    print(f.read(256).split(b" ")[0].decode())
' "$WORD2VEC")
step "GET /similar?word=$word&topn=5"
status=$(http_status -G --data-urlencode "word=$word" -d topn=5 "$BASE/similar")
[ "$status" = 200 ] || fail "/similar answered $status: $(head -c 600 "$WORK/body")"
check_json "/similar" '
import json, sys
body = json.load(open(sys.argv[1]))
data = body["data"]
assert [d["index"] for d in data] == list(range(5)), data
assert sys.argv[2] not in [d["word"] for d in data]
scores = [d["score"] for d in data]
assert scores == sorted(scores, reverse=True) and all(-1.0001 <= s <= 1.0001 for s in scores), scores
print("    " + ", ".join("%s %.3f" % (d["word"], d["score"]) for d in data))
' "$word"

step "the image's healthcheck command"
hc=("$TOOL" run "$IMAGE" /usr/local/bin/embedserve healthcheck)
[ "$PORT" = 8080 ] || hc+=(--addr "127.0.0.1:$PORT")
"${hc[@]}" || fail "embedserve healthcheck failed against a ready server"

step "nothing written to the image's filesystem"
container=$(buildah containers --format '{{.ContainerID}} {{.ImageName}}' | awk -v img="$IMAGE" '$2 ~ img {print $1}' | tail -n 1)
if [ -n "$container" ]; then
  root=$(buildah mount "$container")
  # The runtime itself creates /etc/hosts, /etc/resolv.conf and mount points; nothing else may change.
  written=$(find "$root" -xdev -newer "$since_start" \
    ! -path "$root/etc/hosts" ! -path "$root/etc/resolv.conf" ! -path "$root/etc/hostname" \
    ! -path "$root/run" ! -path "$root/run/*" ! -path "$root/dev" ! -path "$root/dev/*" \
    ! -path "$root/proc" ! -path "$root/sys" ! -path "$root/etc" ! -path "$root" \
    ! -path "$root/models" ! -path "$root/models/model" ! -path "$root/models/word2vec.bin" | sed "s#^$root##")
  buildah umount "$container" >/dev/null
  [ -z "$written" ] || fail "the server wrote to its root filesystem: $written"
  echo "    none"
else
  echo "    skipped: container not found"
fi

step "SIGTERM"
pid=$(server_pid) || fail "cannot find the embedserve process"
kill -TERM "$pid"
deadline=$(( $(date +%s) + 40 ))
while kill -0 "$SERVER_JOB" 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "still running 40 s after SIGTERM"
  sleep 0.2
done
code=0
wait "$SERVER_JOB" || code=$?
SERVER_JOB=
[ "$code" = 0 ] || fail "exit status $code after SIGTERM"
grep -q "shutdown requested" "$LOG" || fail "no drain logged after SIGTERM"
echo "    exited 0 after draining"

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
step "image $IMAGE: $(( size / 1000000 )) MB ($size bytes)"
echo "container smoke test passed"
