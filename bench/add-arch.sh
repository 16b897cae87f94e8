#!/usr/bin/env bash
# Adding one arch to a published release (issue 15 benchmark), side by side in one run:
#   registry: `oix merge docker://R/app:rel NEW:img --policy union` (edits the published
#             index in place: reads manifests and configs, uploads only the new arch)
#   pull:     the path oix needed before: `oix pull` the whole release into a fresh
#             layout, `oix merge` the new arch there, `oix push` it back
# The release has 8 arches x 4 layers of LAYER_MIB MiB random data (the same size per
# arch for the added one). Each run gets a fresh registry holding the 8-arch release
# (pushed untimed); the paths alternate. Bytes downloaded are summed from the registry's
# access log (response sizes of every GET during the timed step).
#
# Usage: bench/add-arch.sh [RUNS] [LAYER_MIB]   (defaults: 3 runs, 64 MiB)
set -euo pipefail
RUNS=${1:-3}
LAYER_MIB=${2:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OIX=${OIX:-$ROOT/target/release/oix}
[ -x "$OIX" ] || (cd "$ROOT" && cargo build --release -q)
for t in docker-registry umoci python3; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
W=$(mktemp -d /tmp/oix-bench-addarch.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

ARCHES="amd64 arm64 ppc64le s390x riscv64 386 mips64le loong64"
NEW=arm
L=$W/layout
umoci init --layout "$L"
for arch in $ARCHES $NEW; do
  umoci new --image "$L:$arch"
  umoci config --image "$L:$arch" --os linux --architecture "$arch"
  for n in 1 2 3 4; do
    mkdir -p "$W/root"
    head -c $((LAYER_MIB * 1024 * 1024)) /dev/urandom >"$W/root/blob$n"
    umoci insert --image "$L:$arch" "$W/root" "/data$n"
    rm -rf "$W/root"
  done
done
refs=()
for arch in $ARCHES; do refs+=("$L:$arch"); done
"$OIX" index create "$L:rel" "${refs[@]}" >/dev/null
echo "release: 8 arches x 4 x $LAYER_MIB MiB; new arch: linux/$NEW" >&2

start_registry() { # sets REG (host:port), REG_DIR
  local port
  REG_DIR=$W/reg-$RANDOM$RANDOM
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$REG_DIR"
  cat >"$REG_DIR/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $REG_DIR/data}}
http: {addr: "127.0.0.1:$port"}
YML
  docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/access.log" 2>"$REG_DIR/err.log" &
  REG_PID=$!
  PIDS+=("$REG_PID")
  REG=127.0.0.1:$port
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "registry did not start" >&2; exit 1
}
stop_registry() { kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; rm -rf "$REG_DIR"; }
get_bytes() { # FROM_LINE: bytes of GET responses after line FROM_LINE of the access log
  tail -n +"$(($1 + 1))" "$REG_DIR/access.log" |
    awk '{ if (match($0, /"GET [^"]*" [0-9]+ [0-9]+/)) { split(substr($0, RSTART, RLENGTH), a, " "); s += a[5] } } END { printf "%.0f\n", s }'
}
now() { date +%s.%N; }

run_path() { # PATH -> "seconds bytes"
  start_registry
  "$OIX" push "$L:rel" "docker://$REG/app:rel" --plain-http >/dev/null 2>&1
  sleep 0.2
  local from t0 t1 bytes
  from=$(wc -l <"$REG_DIR/access.log")
  t0=$(now)
  if [ "$1" = registry ]; then
    "$OIX" merge "docker://$REG/app:rel" "$L:$NEW" --policy union --plain-http >/dev/null
  else
    local work=$W/work-$RANDOM
    "$OIX" pull "docker://$REG/app:rel" "$work:rel" --plain-http >/dev/null 2>&1
    "$OIX" merge "$work:rel" "$L:$NEW" --policy union >/dev/null
    "$OIX" push "$work:rel" "docker://$REG/app:rel" --plain-http >/dev/null 2>&1
    rm -rf "$work"
  fi
  t1=$(now)
  sleep 0.2
  bytes=$(get_bytes "$from")
  n=$(skopeo inspect --raw --tls-verify=false "docker://$REG/app:rel" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["manifests"]))')
  [ "$n" = 9 ] || { echo "$1: the release has $n entries, not 9" >&2; exit 1; }
  stop_registry
  python3 -c "print(f'{$t1 - $t0:.3f} $bytes')"
}

reg_t=(); reg_b=(); pull_t=(); pull_b=()
for r in $(seq 1 "$RUNS"); do
  order="registry pull"; [ $((r % 2)) = 0 ] && order="pull registry"
  line="run $r:"
  for p in $order; do
    read -r t b < <(run_path "$p")
    if [ "$p" = registry ]; then reg_t+=("$t"); reg_b+=("$b"); else pull_t+=("$t"); pull_b+=("$b"); fi
    line+=" $p ${t}s ${b}B"
  done
  echo "$line" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.12g\n", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mr=$(median "${reg_t[@]}"); mp=$(median "${pull_t[@]}")
br=$(median "${reg_b[@]}"); bp=$(median "${pull_b[@]}")
echo
echo "Adding linux/$NEW (4 x $LAYER_MIB MiB) to an 8-arch release of the same size per arch; $RUNS runs alternating, median; load average: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| path | wall (s) | bytes downloaded |"
echo "|---|---|---|"
echo "| \`oix merge docker://R/app:rel NEW --policy union\` (registry-side) | $mr | $br |"
echo "| \`oix pull\` + \`oix merge\` + \`oix push\` (whole release through a layout) | $mp | $bp |"
python3 -c "print(f'\nspeed-up {$mp / $mr:.1f}x; downloaded {$br} B vs {$bp} B')"
echo "All runs: registry ${reg_t[*]} (${reg_b[*]} B); pull path ${pull_t[*]} (${pull_b[*]} B)"
