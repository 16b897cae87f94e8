#!/usr/bin/env bash
# Push benchmark (issue 6): oix push vs skopeo copy --all, to a local docker-registry.
#
# Builds a 4-arch layout with >= 1 GiB of random (incompressible) layers using umoci,
# then, side by side in one run:
#   cold:    a fresh registry for each run; `oix push` vs `skopeo copy --all --preserve-digests`
#   re-push: the same layout again to the registry that already holds it
#   floor:   curl, a fresh registry each run: every blob of the layout as one monolithic
#            upload (POST for a session, PUT of the whole file with ?digest=), 4 at a
#            time (issue 18 §3: what the registry itself can ingest here)
#   CPU:     for each cold push, the CPU seconds (user+sys) the registry process spent
#            ingesting it (from /proc/PID/stat) and those of the sender (GNU time); on
#            2 cores no sender can finish before (registry CPU + sender CPU) / 2
# Prints a Markdown table; record it in bench/RESULTS.md under "## Push (issue 6)".
#
# Usage: bench/push.sh [RUNS] [MIB_PER_LAYER]   (defaults: 5 runs, 2 layers x 128 MiB per arch)
set -euo pipefail
RUNS=${1:-5}
MIB=${2:-128}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OIX=${OIX:-$ROOT/target/release/oix}
[ -x "$OIX" ] || (cd "$ROOT" && cargo build --release -q)
for t in docker-registry skopeo umoci; do
  command -v "$t" >/dev/null || { echo "missing $t (apt-get install ${t/docker-registry/docker-registry})" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/oix-bench-push.XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# ---- the layout: 4 arches x 2 layers of MIB MiB random data ----
# OIX_BENCH_LAYOUT=DIR keeps the generated layout in DIR and reuses it on the next run.
L=${OIX_BENCH_LAYOUT:-$WORK/layout}
if [ -f "$L/oci-layout" ] && grep -q '"v1"' "$L/index.json"; then
  echo "reusing layout $L" >&2
else
rm -rf "$L"
umoci init --layout "$L"
for arch in amd64 arm64 ppc64le s390x; do
  umoci new --image "$L:$arch"
  umoci config --image "$L:$arch" --os linux --architecture "$arch"
  for n in 1 2; do
    mkdir -p "$WORK/root"
    head -c $((MIB * 1024 * 1024)) /dev/urandom > "$WORK/root/blob$n"
    umoci insert --image "$L:$arch" "$WORK/root" "/data$n"
    rm -rf "$WORK/root"
  done
done
# Assemble the index: each ref becomes a platform entry of a new OCI index tagged v1.
python3 - "$L" <<'PY'
import json, hashlib, os, sys
root = sys.argv[1]
idx = json.load(open(f"{root}/index.json"))
plat = {"amd64": None, "arm64": None, "ppc64le": None, "s390x": None}
ms = []
for d in idx["manifests"]:
    arch = d["annotations"]["org.opencontainers.image.ref.name"]
    e = {k: d[k] for k in ("mediaType", "digest", "size")}
    e["platform"] = {"architecture": arch, "os": "linux"}
    ms.append(e)
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ms}, separators=(",", ":")).encode()
dg = hashlib.sha256(body).hexdigest()
open(f"{root}/blobs/sha256/{dg}", "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + dg, "size": len(body),
                         "annotations": {"org.opencontainers.image.ref.name": "v1"}})
json.dump(idx, open(f"{root}/index.json", "w"))
PY
fi
TOTAL=$(du -sb "$L/blobs" | cut -f1)
echo "layout: $L, blobs $((TOTAL / 1024 / 1024)) MiB" >&2

start_registry() {
  pkill_reg
  local dir=$WORK/reg-$RANDOM$RANDOM port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir"
  cat > "$dir/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/data}}
http: {addr: "127.0.0.1:$port"}
YML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  REG_PID=$!
  REG_DIR=$dir
  HOST=127.0.0.1:$port
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "registry did not start" >&2; exit 1
}
pkill_reg() {
  if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; REG_PID=; rm -rf "$REG_DIR"; fi
}
now() { date +%s.%N; }
# CPU seconds (user+sys) the running registry has used so far.
reg_cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$REG_PID/stat"; }
# Run a command, recording its CPU seconds (user+sys) in $WORK/cpu.
timed() { /usr/bin/time -f '%U %S' -o "$WORK/cpu.raw" "$@"; awk '{print $1 + $2}' "$WORK/cpu.raw" > "$WORK/cpu"; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

OIX_CMD=("$OIX" push "$L:v1" DEST --plain-http --jobs 4)
SKO_CMD=(skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$L:v1" DEST)
# One blob as one monolithic upload: POST for a session, PUT the whole file.
curl_upload() { # HOST FILE
  local host=$1 f=$2 dg loc sep
  dg=sha256:$(basename "$f")
  loc=$(curl -sS -o /dev/null -D - -X POST "http://$host/v2/bench/app/blobs/uploads/" |
    tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
  case $loc in http*) ;; *) loc=http://$host$loc ;; esac
  case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
  curl -sS -f -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    -T "$f" "$loc${sep}digest=$dg"
}
export -f curl_upload
declare -a oc os orp srp cf ocpu scpu rcpu_o rcpu_s rcpu_c
for r in $(seq "$RUNS"); do
  sync
  start_registry; d=docker://$HOST/bench/app:v1
  c0=$(reg_cpu)
  t0=$(now); timed "$OIX" push "$L:v1" "$d" --plain-http --jobs 4 >/dev/null 2>&1; t1=$(now)
  oc+=("$(elapsed "$t0" "$t1")"); ocpu+=("$(cat "$WORK/cpu")"); rcpu_o+=("$(elapsed "$c0" "$(reg_cpu)")")
  t0=$(now); "$OIX" push "$L:v1" "$d" --plain-http --jobs 4 >/dev/null 2>&1; t1=$(now)
  orp+=("$(elapsed "$t0" "$t1")")
  start_registry; d=docker://$HOST/bench/app:v1
  c0=$(reg_cpu)
  t0=$(now); timed skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$L:v1" "$d" >/dev/null; t1=$(now)
  os+=("$(elapsed "$t0" "$t1")"); scpu+=("$(cat "$WORK/cpu")"); rcpu_s+=("$(elapsed "$c0" "$(reg_cpu)")")
  t0=$(now); skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$L:v1" "$d" >/dev/null; t1=$(now)
  srp+=("$(elapsed "$t0" "$t1")")
  start_registry; c0=$(reg_cpu)
  t0=$(now); find "$L/blobs/sha256" -type f -print0 | xargs -0 -P4 -n1 bash -c 'curl_upload "$0" "$1"' "$HOST"; t1=$(now)
  cf+=("$(elapsed "$t0" "$t1")"); rcpu_c+=("$(elapsed "$c0" "$(reg_cpu)")")
  echo "run $r: oix cold ${oc[-1]}s re ${orp[-1]}s | skopeo cold ${os[-1]}s re ${srp[-1]}s | curl floor ${cf[-1]}s" >&2
done
pkill_reg
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mo=$(median "${oc[@]}"); ms=$(median "${os[@]}"); mro=$(median "${orp[@]}"); mrs=$(median "${srp[@]}"); mcf=$(median "${cf[@]}")
echo
echo "Layout: 4 arches (linux/amd64, arm64, ppc64le, s390x), 8 layers of $MIB MiB random data, $((TOTAL / 1024 / 1024)) MiB of blobs; $RUNS runs, median."
echo
echo "| case | oix push (s) | skopeo copy --all (s) | speed-up |"
echo "|---|---|---|---|"
echo "| cold push (fresh registry) | $mo | $ms | $(python3 -c "print(f'{$ms/$mo:.2f}x')") |"
echo "| re-push, unchanged layout | $mro | $mrs | $(python3 -c "print(f'{$mrs/$mro:.2f}x')") |"
echo
echo "Floor (curl, every blob as one monolithic upload, 4 at a time, fresh registry): $mcf s; oix cold push is $(python3 -c "print(f'{$mo/$mcf:.2f}x')") the floor, skopeo $(python3 -c "print(f'{$ms/$mcf:.2f}x')")."
echo
echo "CPU seconds (user+sys), medians: registry ingesting oix's push $(median "${rcpu_o[@]}"), skopeo's $(median "${rcpu_s[@]}"), curl's $(median "${rcpu_c[@]}"); oix itself $(median "${ocpu[@]}"), skopeo itself $(median "${scpu[@]}")."
echo "Machine floor for oix's push on $(nproc) cores, (registry CPU + oix CPU) / cores: $(python3 -c "print(f'{($(median "${rcpu_o[@]}") + $(median "${ocpu[@]}")) / $(nproc):.3f}')") s."
echo
echo "Commands: \`${OIX_CMD[*]}\` vs \`${SKO_CMD[*]}\` (DEST = docker://127.0.0.1:PORT/bench/app:v1)."
echo "All runs: oix cold ${oc[*]}; skopeo cold ${os[*]}; oix re-push ${orp[*]}; skopeo re-copy ${srp[*]}; curl floor ${cf[*]}"
echo "CPU, all runs: registry for oix ${rcpu_o[*]}; for skopeo ${rcpu_s[*]}; for curl ${rcpu_c[*]}; oix ${ocpu[*]}; skopeo ${scpu[*]}"
