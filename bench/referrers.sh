#!/usr/bin/env bash
# Pull of an image with N referrers (issue 16 benchmark), side by side in one run:
#   oix:    `oix pull docker://R/app:v1 DIR:v1` (carries every referrer: the fallback
#           tag index, cosign tags, recursively)
#   skopeo: `skopeo copy --all --preserve-digests docker://R/app:v1 oci:DIR:v1`
#           (carries none)
# The image is one 1 MiB layer; its N referrers are SBOM/provenance artifacts made by
# `oix attach` (one small layer each), pushed once (untimed) to a registry on loopback
# (distribution 2.8: no referrers API, so the fallback tag). The tools alternate, each
# run into a fresh layout; requests are counted in the registry's access log, the
# referrers carried with `oix referrers --json` on the result.
#
# Usage: bench/referrers.sh [RUNS] [N]   (defaults: 5 runs, 50 referrers)
set -euo pipefail
RUNS=${1:-5}
N=${2:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OIX=${OIX:-$ROOT/target/release/oix}
[ -x "$OIX" ] || (cd "$ROOT" && cargo build --release -q)
for t in docker-registry skopeo umoci python3; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
W=$(mktemp -d /tmp/oix-bench-referrers.XXXXXX)
REG_PID=
cleanup() {
  [ -n "$REG_PID" ] && { kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; }
  rm -rf "$W"
}
trap cleanup EXIT

L=$W/layout
umoci init --layout "$L"
umoci new --image "$L:v1"
umoci config --image "$L:v1" --os linux --architecture amd64
mkdir -p "$W/root"
head -c $((1024 * 1024)) /dev/urandom >"$W/root/data"
umoci insert --image "$L:v1" "$W/root" /data
for i in $(seq 1 "$N"); do
  f=$W/ref-$i.json
  printf '{"n":%d,"spdxVersion":"SPDX-2.3"}\n' "$i" >"$f"
  at=application/spdx+json; [ $((i % 2)) = 0 ] && at=application/vnd.in-toto+json
  "$OIX" attach "$L:v1" --artifact-type "$at" "$f" >/dev/null
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/reg"
cat >"$W/reg/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $W/reg/data}}
http: {addr: "127.0.0.1:$port"}
YML
docker-registry serve "$W/reg/config.yml" >"$W/reg/access.log" 2>"$W/reg/err.log" &
REG_PID=$!
REG=127.0.0.1:$port
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
"$OIX" push "$L:v1" "docker://$REG/app:v1" --plain-http >/dev/null 2>&1
echo "image: 1 MiB layer, $N referrers, pushed to $REG" >&2

now() { date +%s.%N; }
requests_since() { sleep 0.2; tail -n +"$(($1 + 1))" "$W/reg/access.log" | grep -c '"[A-Z]* /v2/' || true; }
carried() { "$OIX" --json referrers -r "$1:v1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["referrers"]))'; }

run_tool() { # TOOL -> "seconds requests carried"
  local dst=$W/dst-$RANDOM$RANDOM from t0 t1
  from=$(wc -l <"$W/reg/access.log")
  t0=$(now)
  if [ "$1" = oix ]; then
    "$OIX" pull "docker://$REG/app:v1" "$dst:v1" --plain-http >/dev/null 2>&1
  else
    skopeo copy -q --all --preserve-digests --src-tls-verify=false \
      "docker://$REG/app:v1" "oci:$dst:v1" >/dev/null
  fi
  t1=$(now)
  local n c
  n=$(requests_since "$from")
  c=$(carried "$dst")
  rm -rf "$dst"
  python3 -c "print(f'{$t1 - $t0:.3f} $n $c')"
}

oix_t=(); oix_n=(); oix_c=(); sk_t=(); sk_n=(); sk_c=()
for r in $(seq 1 "$RUNS"); do
  order="oix skopeo"; [ $((r % 2)) = 0 ] && order="skopeo oix"
  line="run $r:"
  for p in $order; do
    read -r t n c < <(run_tool "$p")
    if [ "$p" = oix ]; then oix_t+=("$t"); oix_n+=("$n"); oix_c+=("$c"); else sk_t+=("$t"); sk_n+=("$n"); sk_c+=("$c"); fi
    line+=" $p ${t}s ${n} requests ${c} referrers"
  done
  echo "$line" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.12g\n", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "Pull of an image (1 MiB layer) with $N referrers from distribution 2.8 on loopback; $RUNS runs alternating, median; load average: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| tool | wall (s) | requests | referrers carried |"
echo "|---|---|---|---|"
echo "| \`oix pull docker://R/app:v1 DIR:v1\` | $(median "${oix_t[@]}") | $(median "${oix_n[@]}") | $(median "${oix_c[@]}") |"
echo "| \`skopeo copy --all --preserve-digests docker://R/app:v1 oci:DIR:v1\` | $(median "${sk_t[@]}") | $(median "${sk_n[@]}") | $(median "${sk_c[@]}") |"
echo
echo "All runs: oix ${oix_t[*]} s (${oix_n[*]} requests); skopeo ${sk_t[*]} s (${sk_n[*]} requests)"
