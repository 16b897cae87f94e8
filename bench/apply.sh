#!/usr/bin/env bash
# Release plans at scale (issue 7): a StarlingX-style plan of N images (default 1000),
# each promoting a build tag to a release tag with a src_ref commit URL (so every
# release is an annotated copy of its manifest). Side by side in one run:
#   oix apply PLAN --no-push            first run on a fresh copy of the build layout
#   oix apply PLAN --no-push            second run (nothing to do)
#   oix apply PLAN --no-push --dry-run  planning alone
#   skopeo loop                         the shell loop the StarlingX proposal describes
#                                       (inspect the release tag; if absent, copy the
#                                       build tag to it), over the first 100 images only
# Usage: bench/apply.sh [WORKDIR] [N]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/oix-bench-apply.XXXXXX)}
n=${2:-1000}
command -v hyperfine >/dev/null || { echo "needs hyperfine"; exit 1; }
command -v skopeo >/dev/null || { echo "needs skopeo"; exit 1; }
(cd "$here" && cargo build --release --quiet)
oix="$here/target/release/oix"
rm -rf "$work/base" "$work/plan.yaml"
"$oix" init "$work/base" >/dev/null
python3 - "$work" "$n" <<'PY'
import hashlib, json, os, sys
work, n = sys.argv[1], int(sys.argv[2])
L = os.path.join(work, "base")
blobs = os.path.join(L, "blobs", "sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
entries, plan = [], ["version: 1", "layout: ./out", "images:"]
build = "master-centos-stable-20191203T153530Z.0"
for i in range(n):
    name = f"image-{i:05d}"
    layer = dict(put(os.urandom(4096)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode()
    config = dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json")
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": [layer]}).encode()
    m = dict(put(man), mediaType="application/vnd.oci.image.manifest.v1+json")
    m["annotations"] = {"org.opencontainers.image.ref.name": f"{name}:{build}"}
    entries.append(m)
    sha = hashlib.sha1(name.encode()).hexdigest()
    plan += [f"  - name: {name}", f"    source: {name}:{build}",
             f"    src_ref: https://opendev.org/starlingx/integ/commit/{sha}",
             f"    tags: [stx.4.0-v{i}.0]"]
with open(os.path.join(L, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}, f)
with open(os.path.join(work, "plan.yaml"), "w") as f:
    f.write("\n".join(plan) + "\n")
PY
fresh="rm -rf $work/out && cp -a $work/base $work/out"
# The skopeo loop over the first 100 images (no annotations: a plain retag).
sk="skopeo --insecure-policy"
loop="for i in \$(seq -f %05g 0 99); do $sk inspect --raw oci:$work/out:image-\$i:stx.4.0-v0 >/dev/null 2>&1 || $sk copy -q oci:$work/out:image-\$i:master-centos-stable-20191203T153530Z.0 oci:$work/out:image-\$i:stx.4.0-v0; done"
hyperfine --runs 5 --export-markdown "$work/apply.md" \
  --prepare "$fresh" -n "oix apply, first run ($n images)" "$oix apply $work/plan.yaml --no-push >/dev/null" \
  --prepare "$fresh" -n "oix apply --dry-run ($n images, nothing applied yet)" "$oix apply $work/plan.yaml --no-push --dry-run >/dev/null" \
  --prepare "$fresh && $oix apply $work/plan.yaml --no-push >/dev/null" -n "oix apply, second run ($n images, nothing to do)" "$oix apply $work/plan.yaml --no-push --detailed-exitcode >/dev/null" \
  --prepare "$fresh" -n "skopeo inspect||copy loop, first run (100 images)" "$loop"
"$oix" fsck --quick "$work/out"
cat "$work/apply.md"
