#!/usr/bin/env bash
# Before/after in one run (issue 13 §6: one concurrency scheme must not regress).
#
# Builds two oix binaries, BEFORE (a git revision, built in a temporary worktree) and
# AFTER (this tree as it is, uncommitted changes included), then times them alternating,
# round by round (the order flips every round), on the same fixtures:
#   fsck    a layout shaped like bench/fsck.sh's (one big blob, 8 of an eighth of its
#           size, many small ones): `oix fsck --jobs 1` and `--jobs 2` of both binaries,
#           and `openssl dgst -sha256` over the same blobs (one core) as the peer;
#           target: fsck --jobs 2 >= 1.7x openssl
#   build   `oix build TREE -o OUT:t --platform linux/amd64` (gzip, default level and
#           jobs) on a private copy of TREE (default /usr/share, as bench/build.sh)
#   select  the queries of bench/select.sh on its two layouts (N entries at top level;
#           one ref naming an N-entry index), each timed over REPS invocations
#   push    `oix push LAYOUT:v1 docker://127.0.0.1:PORT/bench/app:v1 --plain-http --jobs 4`
#           of a 4-arch layout (2 random layers of MIB MiB per arch, as bench/push.sh),
#           cold (a fresh docker-registry on loopback for each push) and again (re-push)
# Prints a Markdown table (median wall, median CPU user+sys, peak RSS) and the ratios
# after/before (target: within 5%). On a shared machine compare the columns of one run,
# not runs with each other; the load average before and after is printed.
#
# Usage: bench/before-after.sh [options]
#   -r REV            the BEFORE revision (default 17d8d28: main before the pool)
#   -n RUNS           rounds (default 5)
#   --only LIST       comma-separated subset of fsck,build,select,push (default: all)
#   --fsck-mib N      size of the big fsck blob in MiB (default 512; 1 GiB in all)
#   --small N         small fsck blobs (default 2000)
#   --tree DIR        the tree `oix build` packs (default /usr/share)
#   --entries N       entries of the select layouts (default 10000; a multiple of 10)
#   --reps N          invocations per select measurement (default 20)
#   --push-mib N      size of each pushed layer in MiB (default 128: 1 GiB in all)
#   --work DIR        keep fixtures and binaries there (a later run reuses the fixtures
#                     as they are: remove them to change their sizes)
#   --before-bin F    use this binary as BEFORE instead of building REV
#   --after-bin F     use this binary as AFTER instead of building this tree
# A quick smoke run: bench/before-after.sh -n 2 --fsck-mib 8 --small 50 \
#                      --tree /usr/share/doc --entries 200 --reps 3 --push-mib 4
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REV=17d8d28 RUNS=5 ONLY=fsck,build,select,push FSCK_MIB=512 PUSH_MIB=128 SMALL=2000 TREE=/usr/share
ENTRIES=10000 REPS=20 WORK= BEFORE_BIN= AFTER_BIN=
while [ $# -gt 0 ]; do
    case $1 in
        -r) REV=$2; shift 2 ;;
        -n) RUNS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --fsck-mib) FSCK_MIB=$2; shift 2 ;;
        --small) SMALL=$2; shift 2 ;;
        --tree) TREE=$2; shift 2 ;;
        --entries) ENTRIES=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --push-mib) PUSH_MIB=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --before-bin) BEFORE_BIN=$2; shift 2 ;;
        --after-bin) AFTER_BIN=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
want() { [[ ",$ONLY," == *",$1,"* ]]; }
for t in python3 openssl git cargo; do
    command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
if want push; then
    command -v docker-registry >/dev/null || { echo "missing docker-registry (apt-get install docker-registry)" >&2; exit 1; }
fi

if [ -z "$WORK" ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/oix-bench-ba.XXXXXX")
    TEMP_WORK=1
fi
REG_PID= REG_DIR=
cleanup() {
    if declare -F stop_registry >/dev/null; then stop_registry; fi
    if [ -d "$WORK/before-src" ]; then git -C "$ROOT" worktree remove --force "$WORK/before-src"; fi
    if [ -n "${TEMP_WORK:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
rm -rf "$WORK/times"
mkdir -p "$WORK/bin" "$WORK/times" "$WORK/out"

# ---- the two binaries ----
# Both builds share this tree's target directory (the dependencies are built once); each
# binary is copied out before the next build overwrites it.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "$BEFORE_BIN" ]; then
    BEFORE_BIN=$WORK/bin/oix-before
    src=$WORK/before-src
    git -C "$ROOT" worktree remove --force "$src" 2>/dev/null || rm -rf "$src"
    git -C "$ROOT" worktree add --detach --quiet "$src" "$REV"
    echo "building BEFORE ($REV) ..." >&2
    (cd "$src" && cargo build --release --quiet)
    cp "$CARGO_TARGET_DIR/release/oix" "$BEFORE_BIN"
    git -C "$ROOT" worktree remove --force "$src"
fi
if [ -z "$AFTER_BIN" ]; then
    AFTER_BIN=$WORK/bin/oix-after
    echo "building AFTER (this tree) ..." >&2
    (cd "$ROOT" && cargo build --release --quiet)
    cp "$CARGO_TARGET_DIR/release/oix" "$AFTER_BIN"
fi
BEFORE_DESC="$REV ($(git -C "$ROOT" rev-parse --short "$REV" 2>/dev/null || echo "$BEFORE_BIN"))"
AFTER_DESC="$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo '+changes')"

# ---- fixtures ----
FL=$WORK/fsck-layout
if want fsck && [ ! -f "$FL/index.json" ]; then
    rm -rf "$FL"; "$AFTER_BIN" init "$FL" >/dev/null
    python3 - "$FL" "$FSCK_MIB" "$SMALL" <<'PY'
import hashlib, json, os, sys
L, mib, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blobs = os.path.join(L, "blobs", "sha256")
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
sizes = [mib << 20] + [(mib << 20) // 8] * 8 + [4096 + i for i in range(small)]
layers = [dict(put(os.urandom(n)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip") for n in sizes]
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
config = dict(put(cfg), mediaType="application/vnd.oci.image.config.v1+json")
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": layers}).encode()
m = dict(put(man), mediaType="application/vnd.oci.image.manifest.v1+json")
m["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
with open(os.path.join(L, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [m]}, f)
PY
fi
BT=$WORK/tree
if want build && [ ! -d "$BT" ]; then
    cp -a "$TREE" "$BT"
fi
SD=$WORK/select
if want select && [ ! -f "$SD/top/index.json" ]; then
    python3 - "$SD" "$ENTRIES" <<'PY'
import hashlib, json, os, sys
D, N = sys.argv[1], int(sys.argv[2])
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
for n in range(N):
    e = entry(n)
    e["annotations"]["org.opencontainers.image.ref.name"] = f"img-{n}"
    top.append(e)
open(f"{L}/index.json", "wb").write(index(top))
L, blob, entry = layout("nested")
bd, bs = blob(index([entry(n) for n in range(N)]))
open(f"{L}/index.json", "wb").write(index([{"mediaType": "application/vnd.oci.image.index.v1+json",
    "digest": bd, "size": bs, "annotations": {"org.opencontainers.image.ref.name": "big"}}]))
PY
fi
PL=$WORK/push-layout
if want push && [ ! -f "$PL/index.json" ]; then
    rm -rf "$PL"; "$AFTER_BIN" init "$PL" >/dev/null
    python3 - "$PL" "$PUSH_MIB" <<'PY'
import hashlib, json, os, sys
L, mib = sys.argv[1], int(sys.argv[2])
def put(data, media):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(L, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"mediaType": media, "digest": "sha256:" + d, "size": len(data)}
def compact(o):
    return json.dumps(o, separators=(",", ":")).encode()
entries = []
for arch in ["amd64", "arm64", "ppc64le", "s390x"]:
    layers = [put(os.urandom(mib << 20), "application/vnd.oci.image.layer.v1.tar+gzip") for _ in range(2)]
    cfg = put(compact({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}),
              "application/vnd.oci.image.config.v1+json")
    m = put(compact({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}),
            "application/vnd.oci.image.manifest.v1+json")
    m["platform"] = {"architecture": arch, "os": "linux"}
    entries.append(m)
idx = put(compact({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}),
          "application/vnd.oci.image.index.v1+json")
idx["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
with open(os.path.join(L, "index.json"), "wb") as f:
    f.write(compact({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [idx]}))
PY
fi

# A fresh docker-registry on a free loopback port (REG_HOST); stop_registry ends it.
start_registry() {
    if declare -F stop_registry >/dev/null; then stop_registry; fi
    local port
    REG_DIR=$WORK/registry
    rm -rf "$REG_DIR"; mkdir -p "$REG_DIR"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat > "$REG_DIR/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $REG_DIR/data}}
http: {addr: "127.0.0.1:$port"}
YML
    docker-registry serve "$REG_DIR/config.yml" > "$REG_DIR/log" 2>&1 &
    REG_PID=$!
    REG_HOST=127.0.0.1:$port
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "the registry did not start: $(cat "$REG_DIR/log")" >&2; exit 1
}
stop_registry() {
    if [ -n "$REG_PID" ]; then
        kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true
        REG_PID=; rm -rf "$REG_DIR"
    fi
}

# ---- timing ----
# timeit NAME REPS CMD...: run CMD REPS times (it must succeed); append "wall cpu rss" per
# invocation (seconds, seconds user+sys, peak RSS KiB) to $WORK/times/NAME.
timeit() {
    local name=$1 reps=$2; shift 2
    python3 - "$reps" "$@" >> "$WORK/times/$name" <<'PY'
import os, subprocess, sys, tempfile, time
# Per invocation, from wait4: the child's own CPU and peak RSS (with what it waited for),
# nothing of this interpreter (whose start-up may run helpers of its own).
reps, cmd = int(sys.argv[1]), sys.argv[2:]
wall = cpu = 0.0
rss = 0
for _ in range(reps):
    t = time.perf_counter()
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
    wall += time.perf_counter() - t
    p.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err.seek(0)
        sys.stderr.write(err.read().decode(errors="replace"))
        sys.exit(f"failed with exit code {code}: {' '.join(cmd)}")
    cpu += ru.ru_utime + ru.ru_stime
    rss = max(rss, ru.ru_maxrss)
print(f"{wall / reps:.6f} {cpu / reps:.6f} {rss}")
PY
}

N=$(( ENTRIES - 1 )) H=$(( ENTRIES / 2 ))
SELECTS=(
    "where-top|TOP --where org.example.id=$N"
    "platform-best-top|TOP --platform linux/arm64 --platform linux/amd64/v3 --on-ambiguity best --where org.example.id~=^${N%?}[0-9]\$"
    "platform-where-nested|NESTED:big --platform linux/arm64 --where org.example.id=$(( N - 8 ))"
    "compatible-best-nested|NESTED:big --platform linux/arm/v7 --match compatible --on-ambiguity best --where org.example.id~=^${N%?}[23]\$"
    "compatible-all-nested|NESTED:big --platform linux/arm/v7 --match compatible --all"
    "ref-lookup-top|TOP:img-$H"
)
select_args() { # the arguments of one SELECTS line, with the layouts filled in
    local a=${1#*|}
    a=${a//TOP/$SD/top}; a=${a//NESTED/$SD/nested}
    echo "$a"
}

round() { # round WHICH BIN
    local who=$1 bin=$2 s args
    if want fsck; then
        timeit "fsck-j1/$who" 1 "$bin" fsck --jobs 1 "$FL"
        timeit "fsck-j2/$who" 1 "$bin" fsck --jobs 2 "$FL"
    fi
    if want build; then
        rm -rf "$WORK/out/$who"
        timeit "build-gzip/$who" 1 "$bin" build "$BT" -o "$WORK/out/$who:t" --platform linux/amd64
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' \
            "$WORK/out/$who/index.json" >> "$WORK/times/build-digests"
        rm -rf "$WORK/out/$who"
    fi
    if want push; then
        sync
        start_registry
        timeit "push-cold/$who" 1 "$bin" push "$PL:v1" "docker://$REG_HOST/bench/app:v1" --plain-http --jobs 4
        timeit "push-again/$who" 1 "$bin" push "$PL:v1" "docker://$REG_HOST/bench/app:v1" --plain-http --jobs 4
        stop_registry
    fi
    if want select; then
        for s in "${SELECTS[@]}"; do
            read -ra args <<< "$(select_args "$s")"   # split on spaces, no globbing
            timeit "select-${s%%|*}/$who" "$REPS" "$bin" select -q "${args[@]}"
        done
    fi
}

echo "BEFORE: $BEFORE_DESC; AFTER: $AFTER_DESC; rounds: $RUNS" >&2
echo "date: $(date -u +%FT%TZ); cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if want fsck; then
    echo "fsck layout: $(ls "$FL/blobs/sha256" | wc -l) blobs, $(( $(du -sb "$FL/blobs" | cut -f1) >> 20 )) MiB"
    cat "$FL"/blobs/sha256/* > /dev/null   # warm the page cache for every contender
fi
if want build; then
    echo "build tree: $TREE, $(( $(du -sb "$BT" | cut -f1) / 1000000 )) MB, $(find "$BT" | wc -l) paths"
    tar -cf - -C "$BT" . | wc -c > /dev/null   # warm the page cache
fi
want select && echo "select layouts: $ENTRIES entries, $REPS invocations per measurement"
want push && echo "push layout: 4 arches x 2 layers of $PUSH_MIB MiB, $(( $(du -sb "$PL/blobs" | cut -f1) >> 20 )) MiB"
mkdir -p "$WORK/times/fsck-j1" "$WORK/times/fsck-j2" "$WORK/times/build-gzip" "$WORK/times/openssl" \
    "$WORK/times/push-cold" "$WORK/times/push-again"
for s in "${SELECTS[@]}"; do mkdir -p "$WORK/times/select-${s%%|*}"; done
for i in $(seq "$RUNS"); do
    echo "round $i/$RUNS" >&2
    if want fsck; then
        timeit openssl/peer 1 bash -c 'cd "$1/blobs/sha256" && ls | xargs -n 4000 openssl dgst -sha256 > /dev/null' _ "$FL"
    fi
    if (( i % 2 )); then
        round before "$BEFORE_BIN"; round after "$AFTER_BIN"
    else
        round after "$AFTER_BIN"; round before "$BEFORE_BIN"
    fi
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the table ----
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$WORK/times/$1" | median; }
maxcol() { awk -v c="$2" 'm < $c {m = $c} END {print m}' "$WORK/times/$1"; }
ms() { awk -v s="$1" 'BEGIN {printf "%.1f", s * 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
benches=()
want fsck && benches+=(fsck-j1 fsck-j2)
want build && benches+=(build-gzip)
want push && benches+=(push-cold push-again)
if want select; then for s in "${SELECTS[@]}"; do benches+=("select-${s%%|*}"); done; fi

echo
echo "BEFORE = $BEFORE_DESC, AFTER = $AFTER_DESC; medians of $RUNS rounds"
echo
echo "| benchmark | before wall ms | after wall ms | after/before wall | before CPU ms | after CPU ms | after/before CPU | peak RSS MB before/after |"
echo "|---|---|---|---|---|---|---|---|"
worst=0 worst_name=
for b in "${benches[@]}"; do
    bw=$(col "$b/before" 1) aw=$(col "$b/after" 1) bc=$(col "$b/before" 2) ac=$(col "$b/after" 2)
    r=$(ratio "$aw" "$bw")
    printf '| %s | %s | %s | %s | %s | %s | %s | %d / %d |\n' "$b" "$(ms "$bw")" "$(ms "$aw")" "$r" \
        "$(ms "$bc")" "$(ms "$ac")" "$(ratio "$ac" "$bc")" \
        $(( $(maxcol "$b/before" 3) / 1024 )) $(( $(maxcol "$b/after" 3) / 1024 ))
    if awk -v r="$r" -v w="$worst" 'BEGIN {exit !(r > w)}'; then worst=$r worst_name=$b; fi
done
if want fsck; then
    o=$(col openssl/peer 1)
    printf '| openssl dgst -sha256 (1 core, the peer) | %s | | | %s | | | |\n' "$(ms "$o")" "$(ms "$(col openssl/peer 2)")"
    echo
    echo "fsck --jobs 2 vs openssl: before $(ratio "$o" "$(col fsck-j2/before 1)")x, after $(ratio "$o" "$(col fsck-j2/after 1)")x (target >= 1.7x)"
fi
if want build; then
    if [ "$(sort -u "$WORK/times/build-digests" | wc -l)" = 1 ]; then
        echo "build: BEFORE and AFTER wrote the same image ($(head -1 "$WORK/times/build-digests")) in every round"
    else
        echo "build: the images differ between binaries or rounds: $(sort -u "$WORK/times/build-digests" | tr '\n' ' ')"
    fi
fi
echo "slowest after/before (wall): $worst_name $worst (target <= 1.05)"
