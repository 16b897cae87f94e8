#!/usr/bin/env bash
# Per-arch pipelines racing (issue 15 item 3): 4 pipelines (amd64, arm64, ppc64le, s390x)
# finishing at the same moment, ROUNDS times, against a fresh CNCF registry on loopback;
# prints how many arches the release tag lost.
#   naive:   each pipeline does oix pull REL -> oix merge --policy union -> oix push REL
#            (the "add to it if it exists" recipe of issue 15)
#   publish: each pipeline does oix publish --arch-tag '{tag}-{arch}' (docs/publish.md)
#
# Usage: bench/publish-race.sh [naive|publish|both] [ROUNDS]   (defaults: both, 5 rounds)
# OIX=path/to/oix (default target/release/oix, built when missing).
set -euo pipefail
MODE=${1:-both}
ROUNDS=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$MODE" = both ]; then
  "$0" naive "$ROUNDS" | tail -n1
  "$0" publish "$ROUNDS" | tail -n1
  exit 0
fi
OIX=${OIX:-$ROOT/target/release/oix}
[ -x "$OIX" ] || (cd "$ROOT" && cargo build --release -q)
OIX=$(realpath "$OIX")
"$OIX" publish --help >/dev/null 2>&1 || { echo "$OIX has no publish command: cargo build --release" >&2; exit 1; }
W=$(mktemp -d)
REG=
cleanup() { [ -n "$REG" ] && kill "$REG" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$W/reg.yml" <<CFG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $W/data
http:
  addr: 127.0.0.1:$PORT
  secret: race
CFG
docker-registry serve "$W/reg.yml" >"$W/reg.log" 2>&1 &
REG=$!
until curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null; do sleep 0.1; done
D="docker://127.0.0.1:$PORT/race/app"
ARCHES="amd64 arm64 ppc64le s390x"
lost=0
start=$(date +%s.%N)
for r in $(seq 1 "$ROUNDS"); do
  declare -A want=()
  for a in $ARCHES; do
    mkdir -p "$W/root-$a-$r"
    echo "$a round $r" >"$W/root-$a-$r/f"
    "$OIX" build "$W/root-$a-$r" -o "$W/b-$a-$r:img" --platform "linux/$a" >/dev/null
    want[$a]=sha256:$("$OIX" inspect --raw "$W/b-$a-$r:img" | sha256sum | cut -d' ' -f1)
  done
  pids=()
  for a in $ARCHES; do
    (
      while [ ! -e "$W/go-$r" ]; do sleep 0.005; done
      if [ "$MODE" = naive ]; then
        L="$W/work-$a-$r"
        "$OIX" pull "$D:rel" "$L:rel" --plain-http >/dev/null 2>&1 || true
        "$OIX" merge "$L:rel" "$W/b-$a-$r:img" --policy union >/dev/null
        "$OIX" push "$L:rel" "$D:rel" --plain-http >/dev/null 2>&1
      else
        "$OIX" publish "$W/b-$a-$r:img" "$D:rel" --arch-tag '{tag}-{arch}' --plain-http >/dev/null
      fi
    ) &
    pids+=($!)
  done
  touch "$W/go-$r"
  for p in "${pids[@]}"; do wait "$p"; done
  have=$(skopeo inspect --raw --tls-verify=false "$D:rel")
  n=0
  for a in $ARCHES; do
    grep -q "${want[$a]}" <<<"$have" || n=$((n + 1))
  done
  echo "round $r: $n of 4 arches lost"
  lost=$((lost + n))
done
end=$(date +%s.%N)
printf '%s: %d rounds x 4 pipelines: %d of %d arches lost (%.1f s)\n' "$MODE" "$ROUNDS" "$lost" $((ROUNDS * 4)) "$(echo "$end - $start" | bc)"
