#!/usr/bin/env bash
# Index edits at scale (issue 18, section 1). Target: every edit O(N + k).
#
# Builds (once, in $BENCH_DIR, kept for the next run; else in a temp dir removed at the
# end) one layout per N in $SIZES (default "10000 50000"): index.json with N top-level
# image entries `img-0` … `img-(N-1)`, every one a real manifest (the manifests share one config and one layer and differ by an
# annotation; each entry's descriptor platform is linux/amd64 with its own variant, so
# every source is a platform of its own). Then times, from a fresh copy of index.json
# each run (restored between runs, not timed):
#   oix index add L:idx L:img-0 … L:img-(k-1)     for k in $KS (default "1 100 400")
#   oix tag L:img-0 t-0 … t-99                     (100 new refs)
# and prints the N × k tables: wall time (the minimum and the median of $REPEAT runs,
# default 3) and CPU time (user + sys of oix, the minimum; steadier on a loaded machine).
# Targets: add 400 at N=50,000 under 1 s; tag 100 at N=50,000 under 300 ms.
# Usage: bench/index-edits.sh            (SIZES, KS, REPEAT, BENCH_DIR, OIX override)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${OIX:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  OIX="$root/target/release/oix"
  echo "oix: $OIX, built from $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
else
  echo "oix: $OIX"
fi
if [ -n "${BENCH_DIR:-}" ]; then
  dir=$BENCH_DIR
  mkdir -p "$dir"
else
  dir=$(mktemp -d /tmp/oix-bench-index-edits.XXXXXX)
  trap 'rm -rf "$dir"' EXIT
fi
SIZES=${SIZES:-"10000 50000"}
KS=${KS:-"1 100 400"}
REPEAT=${REPEAT:-3}
echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg); nproc: $(nproc)"
python3 - "$OIX" "$dir" "$REPEAT" "$KS" $SIZES <<'PY'
import hashlib, json, os, resource, shutil, statistics, subprocess, sys, time
oix, D, repeat, ks = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(k) for k in sys.argv[4].split()]
sizes = [int(n) for n in sys.argv[5:]]

def compact(o):
    return json.dumps(o, separators=(",", ":")).encode()

def build(n_entries):
    L = f"{D}/n{n_entries}"
    if os.path.exists(f"{L}/index.json.orig"):
        return L
    os.makedirs(f"{L}/blobs/sha256", exist_ok=True)
    open(f"{L}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    def blob(b):
        h = hashlib.sha256(b).hexdigest()
        with open(f"{L}/blobs/sha256/{h}", "wb") as f:
            f.write(b)
        return "sha256:" + h, len(b)
    ld, ls = blob(b"\0" * 1024)
    cd, cs = blob(compact({"architecture": "amd64", "os": "linux",
                           "rootfs": {"type": "layers", "diff_ids": [ld]}}))
    top = []
    for n in range(n_entries):
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
             "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}],
             "annotations": {"org.example.id": str(n)}}
        md, ms = blob(compact(m))
        top.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
                    "annotations": {"org.opencontainers.image.ref.name": f"img-{n}"},
                    "platform": {"architecture": "amd64", "os": "linux", "variant": f"v{n + 2}"}})
    idx = compact({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": top})
    with open(f"{L}/index.json.orig", "wb") as f:
        f.write(idx)
    return L

def cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime

def timed(L, argv):
    runs, cpus = [], []
    for _ in range(repeat):
        shutil.copyfile(f"{L}/index.json.orig", f"{L}/index.json")
        c, t = cpu(), time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        runs.append(time.perf_counter() - t)
        cpus.append(cpu() - c)
        if r.returncode != 0:
            sys.exit(f"failed ({r.returncode}): {' '.join(argv[:4])} …\n{r.stderr.decode()}")
    return min(runs), statistics.median(runs), min(cpus)

def fmt(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"

rows = []
for n in sizes:
    L = build(n)
    cells = []
    for k in ks:
        cells.append(timed(L, [oix, "index", "add", f"{L}:idx"] + [f"{L}:img-{i}" for i in range(k)]))
    cells.append(timed(L, [oix, "tag", f"{L}:img-0"] + [f"t-{i}" for i in range(100)]))
    shutil.copyfile(f"{L}/index.json.orig", f"{L}/index.json")
    rows.append((n, cells))
head = [f"add {k}" for k in ks] + ["tag 100"]
print(f"\nwall time, min (median) of {repeat} runs; index.json restored before each run")
print("| N | " + " | ".join(head) + " |")
print("|---|" + "---|" * len(head))
for n, cells in rows:
    print(f"| {n:,} | " + " | ".join(f"{fmt(a)} ({fmt(b)})" for a, b, _ in cells) + " |")
print(f"\nCPU time (user + sys of oix), min of {repeat} runs: less sensitive to the machine's load")
print("| N | " + " | ".join(head) + " |")
print("|---|" + "---|" * len(head))
for n, cells in rows:
    print(f"| {n:,} | " + " | ".join(fmt(c) for _, _, c in cells) + " |")
PY
if [ -n "${BENCH_DIR:-}" ]; then echo "layouts kept in $dir for the next run"; fi
