#!/usr/bin/env bash
# fsck throughput vs openssl over the same blobs (issue 2).
# Builds a layout with >= 1 GiB of blobs (one 512 MiB blob, 8 x 64 MiB, 2000 small ones),
# warms the page cache, then times, one after another in one run:
#   openssl dgst -sha256 <every blob>          (one core)
#   oix fsck --jobs 1 / --jobs 2               (hashing every blob + structure checks)
# and records peak RSS of oix with GNU time. Usage: bench/fsck.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/oix-bench-fsck.XXXXXX)}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 1; }
(cd "$here" && cargo build --release --quiet)
oix="$here/target/release/oix"
L="$work/layout"
if [ ! -f "$L/index.json" ]; then
  rm -rf "$L"; "$oix" init "$L" >/dev/null
  python3 - "$L" <<'PY'
import hashlib, json, os, sys
L = sys.argv[1]
blobs = os.path.join(L, "blobs", "sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
layers = []
sizes = [512 << 20] + [64 << 20] * 8 + [4096 + i for i in range(2000)]
for n in sizes:
    layers.append(dict(put(os.urandom(n)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"))
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
config = dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json")
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": layers}).encode()
m = dict(put(man), mediaType="application/vnd.oci.image.manifest.v1+json")
m["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
with open(os.path.join(L, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [m]}, f)
PY
fi
total=$(du -sb "$L/blobs" | cut -f1)
echo "layout: $L, $(ls "$L/blobs/sha256" | wc -l) blobs, $((total >> 20)) MiB"
cat "$L"/blobs/sha256/* > /dev/null   # warm the page cache for every contender
cd "$L/blobs/sha256"
hyperfine --warmup 1 --runs 5 --export-markdown "$work/fsck.md" \
  -n 'openssl dgst -sha256 (1 core)' "ls | xargs -n 4000 openssl dgst -sha256 > /dev/null" \
  -n 'oix fsck --jobs 1' "$oix fsck --jobs 1 $L" \
  -n 'oix fsck --jobs 2' "$oix fsck --jobs 2 $L" \
  -n 'oix fsck --quick' "$oix fsck --quick $L"
for j in 1 2; do
  /usr/bin/time -f "oix fsck --jobs $j: peak RSS %M KiB, %e s" "$oix" fsck --jobs $j "$L" > /dev/null
done
echo "openssl: $(openssl version); cores: $(nproc)"
cat "$work/fsck.md"
