#!/usr/bin/env bash
# Copy benchmark (issue 14): registry -> registry, oix copy vs skopeo copy, side by side.
#
# Builds a 4-arch layout of TOTAL_MIB MiB of random (incompressible) layers (umoci; 2
# layers per arch), pushes it once to a source registry, then for each run, alternating
# which tool goes first:
#   cold copy:  a fresh destination registry for each tool and each run;
#               `oix copy docker://SRC docker://DST` vs
#               `skopeo copy --all --preserve-digests docker://SRC docker://DST`
#   promotion:  within one registry to a new repository (bench/app:v1 -> release/app:1.0),
#               a fresh registry seeded with the image for each tool and each run
#               (oix mounts every blob; skopeo gets a fresh HOME so its blob-info cache,
#               which remembers where blobs live, is cold as well)
# Prints a Markdown table; the lead records it in bench/RESULTS.md.
#
# Usage: bench/copy.sh [RUNS] [TOTAL_MIB]   (defaults: 5 runs, 1024 MiB)
set -euo pipefail
shopt -s inherit_errexit
RUNS=${1:-5}
TOTAL_MIB=${2:-1024}
LAYER_KIB=$((TOTAL_MIB * 1024 / 8))
[ "$LAYER_KIB" -ge 1 ] || LAYER_KIB=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OIX=${OIX:-$ROOT/target/release/oix}
[ -x "$OIX" ] || (cd "$ROOT" && cargo build --release -q)
for t in docker-registry skopeo umoci python3; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/oix-bench-copy.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- the layout: 4 arches x 2 layers ----
L=$WORK/layout
umoci init --layout "$L"
for arch in amd64 arm64 ppc64le s390x; do
  umoci new --image "$L:$arch"
  umoci config --image "$L:$arch" --os linux --architecture "$arch"
  for n in 1 2; do
    mkdir -p "$WORK/root"
    head -c $((LAYER_KIB * 1024)) /dev/urandom > "$WORK/root/blob$n"
    umoci insert --image "$L:$arch" "$WORK/root" "/data$n"
    rm -rf "$WORK/root"
  done
done
"$OIX" index create "$L:v1" "$L:amd64" "$L:arm64" "$L:ppc64le" "$L:s390x" >/dev/null
TOTAL=$(du -sb "$L/blobs" | cut -f1)
echo "layout: $L, blobs $((TOTAL / 1024 / 1024)) MiB" >&2

# start_registry VAR: a registry on a free loopback port; VAR gets its host:port,
# VAR_PID its process id.
start_registry() {
  local var=$1 dir=$WORK/reg-$RANDOM$RANDOM port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir"
  cat > "$dir/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/data}}
http: {addr: "127.0.0.1:$port"}
YML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  PIDS+=("$!")
  printf -v "$var" '%s' "127.0.0.1:$port"
  printf -v "${var}_PID" '%s' "$!"
  printf -v "${var}_DIR" '%s' "$dir"
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "registry did not start" >&2; exit 1
}
stop_registry() { # VAR
  local pid dir
  pid=$(eval echo "\$${1}_PID"); dir=$(eval echo "\$${1}_DIR")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
}
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

start_registry SRC
"$OIX" push "$L:v1" "docker://$SRC/bench/app:v1" --plain-http >/dev/null 2>&1
SRC_REF=docker://$SRC/bench/app:v1

oix_copy() {
  "$OIX" copy "$1" "$2" --plain-http -j 4 >/dev/null 2>"$WORK/err" ||
    { echo "oix copy $1 $2 failed: $(cat "$WORK/err")" >&2; return 1; }
}
sko_copy() {
  HOME=$WORK/home-$RANDOM$RANDOM skopeo copy -q --all --preserve-digests \
    --src-tls-verify=false --dest-tls-verify=false "$1" "$2" >/dev/null
}

cold() { # TOOL -> seconds
  start_registry DST
  local t0 t1
  t0=$(now); "$1" "$SRC_REF" "docker://$DST/bench/app:v1"; t1=$(now)
  stop_registry DST
  elapsed "$t0" "$t1"
}
promote() { # TOOL -> seconds
  start_registry P
  oix_copy "$SRC_REF" "docker://$P/bench/app:v1"
  local t0 t1
  t0=$(now); "$1" "docker://$P/bench/app:v1" "docker://$P/release/app:1.0"; t1=$(now)
  stop_registry P
  elapsed "$t0" "$t1"
}

declare -a oc sc op sp
for r in $(seq "$RUNS"); do
  sync
  if [ $((r % 2)) -eq 1 ]; then
    oc+=("$(cold oix_copy)"); sc+=("$(cold sko_copy)")
    op+=("$(promote oix_copy)"); sp+=("$(promote sko_copy)")
  else
    sc+=("$(cold sko_copy)"); oc+=("$(cold oix_copy)")
    sp+=("$(promote sko_copy)"); op+=("$(promote oix_copy)")
  fi
  for v in "${oc[-1]}" "${sc[-1]}" "${op[-1]}" "${sp[-1]}"; do
    [[ $v =~ ^[0-9.]+$ ]] || { echo "run $r failed" >&2; exit 1; }
  done
  echo "run $r: cold oix ${oc[-1]}s skopeo ${sc[-1]}s | promotion oix ${op[-1]}s skopeo ${sp[-1]}s" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
moc=$(median "${oc[@]}"); msc=$(median "${sc[@]}"); mop=$(median "${op[@]}"); msp=$(median "${sp[@]}")
ratio() { python3 -c "print(f'{$1/max($2, 1e-9):.2f}x')"; }
echo
echo "Index: 4 arches (linux/amd64, arm64, ppc64le, s390x), 8 layers of $((LAYER_KIB / 1024)) MiB random data, $((TOTAL / 1024 / 1024)) MiB of blobs; $RUNS runs alternating the tools, median; load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| case | oix copy (s) | skopeo copy --all --preserve-digests (s) | speed-up |"
echo "|---|---|---|---|"
echo "| registry -> registry, cold (fresh destination) | $moc | $msc | $(ratio "$msc" "$moc") |"
echo "| promotion within one registry (new repository) | $mop | $msp | $(ratio "$msp" "$mop") |"
echo
echo "Commands: \`oix copy docker://SRC/bench/app:v1 docker://DST/bench/app:v1 --plain-http -j 4\` vs \`skopeo copy -q --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false docker://SRC/bench/app:v1 docker://DST/bench/app:v1\` (fresh HOME: cold blob-info cache)."
echo "All runs: oix cold ${oc[*]}; skopeo cold ${sc[*]}; oix promotion ${op[*]}; skopeo promotion ${sp[*]}"
