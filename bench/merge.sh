#!/usr/bin/env bash
# Merge 4 per-arch layouts (each >= 1 GiB of layers) into a new multi-arch layout on the
# same filesystem (issue 4), side by side in one run:
#   oix merge OUT:latest a:img b:img c:img d:img --policy union
#   skopeo: one `skopeo copy` per arch into a new layout, then writing the index
#           (the index step uses `oix index create` in the skopeo-filled layout, which
#            only links what is already there; skopeo has no index-assembly command)
# Usage: [RUNS=5] bench/merge.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/oix-bench-merge.XXXXXX)}
command -v hyperfine >/dev/null || { echo "needs hyperfine"; exit 1; }
command -v skopeo >/dev/null || { echo "needs skopeo"; exit 1; }
(cd "$here" && cargo build --release --quiet)
oix="$here/target/release/oix"
arches="amd64 arm64 ppc64le s390x"
for a in $arches; do
  L="$work/src-$a"
  [ -f "$L/index.json" ] && continue
  "$oix" init "$L" >/dev/null
  python3 - "$L" "$a" <<'PY'
import hashlib, json, os, sys
L, arch = sys.argv[1], sys.argv[2]
blobs = os.path.join(L, "blobs", "sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
layers = [dict(put(os.urandom(256 << 20)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip") for _ in range(4)]
cfg = json.dumps({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
config = dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json")
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": layers}).encode()
m = dict(put(man), mediaType="application/vnd.oci.image.manifest.v1+json")
m["annotations"] = {"org.opencontainers.image.ref.name": "img"}
with open(os.path.join(L, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [m]}, f)
PY
done
echo "sources: $(du -sh "$work"/src-* | tr '\n' ' ')"
srcs=""; for a in $arches; do srcs="$srcs $work/src-$a:img"; done
sk="skopeo --insecure-policy"
skopeo_job="for a in $arches; do $sk copy -q oci:$work/src-\$a:img oci:$work/sk:\$a; done && $oix index create $work/sk:latest $(for a in $arches; do printf '%s ' "$work/sk:$a"; done) >/dev/null"
hyperfine --runs "${RUNS:-5}" --export-markdown "$work/merge.md" \
  --prepare "rm -rf $work/out" -n 'oix merge (4 x 1 GiB)' "$oix merge $work/out:latest $srcs --policy union" \
  --prepare "rm -rf $work/sk" -n 'skopeo copy x4 + index' "$skopeo_job"
"$oix" fsck --quick "$work/out"
cat "$work/merge.md"
