#!/usr/bin/env bash
# Selection over an index with 10,000 entries (issue 3). Target: under 20 ms per `oix select`.
#
# Builds (once, in $BENCH_DIR or a temp dir) two layouts, every entry a real manifest +
# config blob with a descriptor platform from a rotating set of ten and two annotations:
#   top/    index.json with 10,000 image entries (ref img-N each)
#   nested/ index.json with one ref "big" naming an image index of 10,000 entries
# and times, with hyperfine:
#   1. --where over all of index.json (top/, 10,000 candidates)
#   2. --platform over all of index.json (top/, compatible + best, 10,000 candidates)
#   3. --platform + --where inside the nested 10,000-entry index
#   4. --platform compatible + --on-ambiguity best inside it (2,000 platform matches)
#   5. --all: every linux/arm/v7-compatible entry of the nested index (2,000 printed)
#   6. a plain ref lookup in top/ (no filter), the floor: reading a 10,000-entry index.json
# Usage: bench/select.sh [hyperfine options, e.g. --export-markdown FILE]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
oix="$root/target/release/oix"
dir=${BENCH_DIR:-$(mktemp -d)}
if [ ! -f "$dir/top/index.json" ]; then
python3 - "$dir" <<'PY'
import hashlib, json, os, sys
D = sys.argv[1]
PLATS = [("linux","amd64",None),("linux","arm64",None),("linux","arm","v7"),("linux","arm","v6"),
         ("linux","ppc64le",None),("linux","s390x",None),("linux","386",None),("linux","riscv64",None),
         ("windows","amd64",None),("linux","amd64","v3")]
def compact(o):
    return json.dumps(o, separators=(",", ":")).encode()
def layout(name):
    L = f"{D}/{name}"
    os.makedirs(f"{L}/blobs/sha256", exist_ok=True)
    open(f"{L}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    def blob(b):
        h = hashlib.sha256(b).hexdigest()
        open(f"{L}/blobs/sha256/{h}", "wb").write(b)
        return "sha256:" + h, len(b)
    ld, ls = blob(b"\0" * 1024)
    def entry(n):
        os_, arch, var = PLATS[n % len(PLATS)]
        cfg = {"architecture": arch, "os": os_, "config": {"Labels": {"n": str(n)}},
               "rootfs": {"type": "layers", "diff_ids": [ld]}}
        if var: cfg["variant"] = var
        cd, cs = blob(compact(cfg))
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
             "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]}
        md, ms = blob(compact(m))
        p = {"architecture": arch, "os": os_}
        if var: p["variant"] = var
        return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                "annotations": {"org.example.id": str(n), "org.example.team": f"team-{n % 7}"},
                "platform": p}
    return L, blob, entry
def index(manifests):
    return compact({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": manifests})
L, blob, entry = layout("top")
top = []
for n in range(10000):
    e = entry(n)
    e["annotations"]["org.opencontainers.image.ref.name"] = f"img-{n}"
    top.append(e)
open(f"{L}/index.json", "wb").write(index(top))
L, blob, entry = layout("nested")
bd, bs = blob(index([entry(n) for n in range(10000)]))
open(f"{L}/index.json", "wb").write(index([{"mediaType": "application/vnd.oci.image.index.v1+json",
    "digest": bd, "size": bs, "annotations": {"org.opencontainers.image.ref.name": "big"}}]))
PY
fi
T="$dir/top" N="$dir/nested"
echo "top/index.json: $(wc -c <"$T/index.json") bytes; nested index: $(jq -r '.manifests[0].size' "$N/index.json") bytes"
c1="$oix select -q $T --where org.example.id=9999"
c2="$oix select -q $T --platform linux/arm64 --platform linux/amd64/v3 --on-ambiguity best --where org.example.id~=^999[0-9]\$"
c3="$oix select -q $N:big --platform linux/arm64 --where org.example.id=9991"
c4="$oix select -q $N:big --platform linux/arm/v7 --match compatible --on-ambiguity best --where org.example.id~=^999[23]\$"
c5="$oix select -q $N:big --platform linux/arm/v7 --match compatible --all"
c6="$oix select -q $T:img-5000"
# Each command must succeed before it is timed.
for c in "$c1" "$c2" "$c3" "$c4" "$c5" "$c6"; do $c >/dev/null || { echo "failed: $c" >&2; exit 1; }; done
hyperfine --warmup 3 --min-runs 30 -N "$@" \
    -n "where over index.json (10,000 entries)" "$c1" \
    -n "platform best over index.json (10,000 entries)" "$c2" \
    -n "platform+where in a nested 10,000-entry index" "$c3" \
    -n "compatible + best in the nested index" "$c4" \
    -n "compatible --all in the nested index (2,000 matches)" "$c5" \
    -n "plain ref lookup in index.json (10,000 entries)" "$c6"
