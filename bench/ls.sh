#!/usr/bin/env bash
# Tag listing benchmark (issue 14): `oix ls docker://…` vs `skopeo list-tags docker://…`
# on a repository with TAGS tags, on a local docker-registry (plain HTTP, loopback).
#
# Setup (not timed): one tiny image built with `oix build`, named TAGS times in its layout
# with one `oix tag` (one index.json transaction), then `oix push --all-refs` (every blob
# once, then one manifest PUT per tag). Then RUNS rounds, alternating oix and skopeo
# (oix first in odd rounds, skopeo first in even ones); both must list the same tags.
# Prints a Markdown table of medians; record it in bench/RESULTS.md by hand.
#
# Usage: bench/ls.sh [RUNS] [TAGS]   (defaults: 10 runs, 1000 tags)
set -euo pipefail
RUNS=${1:-10}
TAGS=${2:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OIX=${OIX:-$ROOT/target/release/oix}
[ -x "$OIX" ] || (cd "$ROOT" && cargo build --release -q)
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/oix-bench-ls.XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# ---- the registry ----
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/reg"
cat > "$WORK/reg/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/reg/data}}
http: {addr: "127.0.0.1:$port"}
YML
docker-registry serve "$WORK/reg/config.yml" >"$WORK/reg/log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
HOST=127.0.0.1:$port
REPO=docker://$HOST/bench/tags

# ---- one tiny image, TAGS names, pushed ----
mkdir -p "$WORK/root"
echo hello > "$WORK/root/hello"
"$OIX" build "$WORK/root" -o "$WORK/L:base" --platform linux/amd64 >/dev/null
names=$(seq -f 't%05g' 1 "$TAGS")
# shellcheck disable=SC2086 # one word per tag
"$OIX" tag "$WORK/L:base" $names >/dev/null
"$OIX" untag "$WORK/L:base" >/dev/null
t0=$(date +%s.%N)
"$OIX" push "$WORK/L" "$REPO" --all-refs --plain-http >/dev/null
t1=$(date +%s.%N)
echo "setup: pushed $TAGS tags in $(python3 -c "print(f'{$t1 - $t0:.1f}')") s" >&2

# ---- both list the same tags ----
"$OIX" ls "$REPO" --plain-http > "$WORK/oix.txt"
skopeo list-tags --tls-verify=false "$REPO" |
  python3 -c 'import json,sys; print("\n".join(sorted(json.load(sys.stdin)["Tags"])))' > "$WORK/skopeo.txt"
[ "$(wc -l < "$WORK/oix.txt")" -eq "$TAGS" ] || { echo "oix listed $(wc -l < "$WORK/oix.txt") tags, want $TAGS" >&2; exit 1; }
cmp -s "$WORK/oix.txt" "$WORK/skopeo.txt" || { echo "oix and skopeo list different tags" >&2; exit 1; }

# ---- timed, alternating ----
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.4f}')"; }
OIX_CMD=("$OIX" ls "$REPO" --plain-http)
SKO_CMD=(skopeo list-tags --tls-verify=false "$REPO")
run_oix() { local t0 t1; t0=$(now); "${OIX_CMD[@]}" >/dev/null; t1=$(now); oo+=("$(elapsed "$t0" "$t1")"); }
run_sko() { local t0 t1; t0=$(now); "${SKO_CMD[@]}" >/dev/null; t1=$(now); ss+=("$(elapsed "$t0" "$t1")"); }
declare -a oo ss
for r in $(seq "$RUNS"); do
  if [ $((r % 2)) -eq 1 ]; then run_oix; run_sko; else run_sko; run_oix; fi
  echo "run $r: oix ${oo[-1]}s | skopeo ${ss[-1]}s" >&2
done
kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; REG_PID=
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${oo[@]}"); ms=$(median "${ss[@]}")
echo
echo "Repository with $TAGS tags on a local docker-registry (plain HTTP); $RUNS runs alternating, median."
echo
echo "| case | oix ls (s) | skopeo list-tags (s) | speed-up |"
echo "|---|---|---|---|"
echo "| list $TAGS tags | $mo | $ms | $(python3 -c "print(f'{$ms/$mo:.2f}x')") |"
echo
echo "Commands: \`${OIX_CMD[*]}\` vs \`${SKO_CMD[*]}\` (REPO = docker://127.0.0.1:PORT/bench/tags)."
echo "All runs: oix ${oo[*]}; skopeo ${ss[*]}"
