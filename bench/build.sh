#!/usr/bin/env bash
# Issue 5 benchmark: building one image from a ~650 MB tree of many small files.
#
# Side by side, in one run, on a private copy of the tree (default /usr/share):
#   oix build --compression gzip   vs  umoci insert (umoci init/new, then insert TREE /)
#   (the default gzip level is 4; plus --level 3, 5 and 6, the size/speed table the default
#   was chosen from, and --level 1, the fastest; and umoci pinned to one core with taskset,
#   the baseline design.md quotes)
#   oix build --compression zstd   vs  tar -cf - TREE | zstd -3 -T0 | sha256sum
# Each command runs RUNS times (default 3), interleaved; the table gives the median wall
# time, the median CPU time (user+sys, which load on a shared machine disturbs less),
# and the peak RSS from /usr/bin/time. The load average before and after is printed:
# on a shared machine, compare the columns of one run, not runs with each other.
#
# Usage: bench/build.sh [SOURCE_TREE] [RUNS]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:-/usr/share}
RUNS=${2:-3}
for tool in umoci zstd sha256sum /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install umoci zstd time)" >&2; exit 1; }
done

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
OIX=$ROOT/target/release/oix
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oix-bench-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

cp -a "$SRC" tree
BYTES=$(du -sb tree | cut -f1)
FILES=$(find tree | wc -l)
TARBYTES=$(tar -cf - tree | wc -c)   # also warms the page cache for every contender
echo "tree: $SRC copied, $((BYTES / 1000000)) MB on disk, $((TARBYTES / 1000000)) MB as tar, $FILES paths"
echo "cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# measure NAME CMD...: one timed run; appends "wall cpu rss" to $WORK/NAME.times
measure() {
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/t" "$@" >/dev/null
    read -r wall user sys rss < "$WORK/t"
    echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}') $rss" >> "$WORK/$name.times"
}

oix_gzip() { rm -rf Lg; measure oix-gzip "$OIX" build tree -o Lg:t --platform linux/amd64 --compression gzip; }
oix_gzip1() { rm -rf L1; measure oix-gzip-level1 "$OIX" build tree -o L1:t --platform linux/amd64 --compression gzip --level 1; }
oix_gzip3() { rm -rf L3; measure oix-gzip-level3 "$OIX" build tree -o L3:t --platform linux/amd64 --compression gzip --level 3; }
oix_gzip5() { rm -rf L5; measure oix-gzip-level5 "$OIX" build tree -o L5:t --platform linux/amd64 --compression gzip --level 5; }
oix_gzip6() { rm -rf L6; measure oix-gzip-level6 "$OIX" build tree -o L6:t --platform linux/amd64 --compression gzip --level 6; }
oix_zstd() { rm -rf Lz; measure oix-zstd "$OIX" build tree -o Lz:t --platform linux/amd64 --compression zstd; }
umoci_insert() {
    rm -rf U
    umoci init --layout U >/dev/null
    umoci new --image U:t >/dev/null
    measure umoci-insert umoci insert --image U:t tree /
}
# design.md's baseline (15.6 s) is umoci on one core; Debian's umoci 0.4.7 also uses a
# second core for gzip when it has one, so both are timed.
umoci_insert_1core() {
    rm -rf U1
    umoci init --layout U1 >/dev/null
    umoci new --image U1:t >/dev/null
    measure umoci-insert-1core taskset -c 0 umoci insert --image U1:t tree /
}
pipeline() { measure tar-zstd-sha256 bash -c 'tar -cf - tree | zstd -q -3 -T0 | sha256sum'; }

for i in $(seq "$RUNS"); do
    umoci_insert
    umoci_insert_1core
    oix_gzip
    oix_gzip3
    oix_gzip5
    oix_gzip6
    oix_gzip1
    pipeline
    oix_zstd
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$WORK/$1.times" | median; }

blob_size() { # the largest blob of a layout, in MB
    find "$1/blobs" -type f -printf '%s\n' | sort -n | tail -1 | awk '{printf "%.1f", $1/1000000}'
}

printf '\n| command | wall s (median of %s) | CPU s (user+sys) | peak RSS MB | layer MB |\n' "$RUNS"
printf '|---|---|---|---|---|\n'
for n in umoci-insert umoci-insert-1core oix-gzip oix-gzip-level3 oix-gzip-level5 oix-gzip-level6 oix-gzip-level1 tar-zstd-sha256 oix-zstd; do
    case $n in
        umoci-insert) size=$(blob_size U) ;;
        umoci-insert-1core) size=$(blob_size U1) ;;
        oix-gzip) size=$(blob_size Lg) ;;
        oix-gzip-level3) size=$(blob_size L3) ;;
        oix-gzip-level5) size=$(blob_size L5) ;;
        oix-gzip-level6) size=$(blob_size L6) ;;
        oix-gzip-level1) size=$(blob_size L1) ;;
        oix-zstd) size=$(blob_size Lz) ;;
        *) size=$(tar -cf - tree | zstd -q -3 -T0 | wc -c | awk '{printf "%.1f", $1/1000000}') ;;
    esac
    printf '| %s | %s | %s | %d | %s |\n' "$n" "$(col "$n" 1)" "$(col "$n" 2)" $(( $(col "$n" 3) / 1024 )) "$size"
done
g=$(col oix-gzip 1); u=$(col umoci-insert 1); z=$(col oix-zstd 1); p=$(col tar-zstd-sha256 1)
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "oix gzip (default, level 4) vs umoci insert: $(ratio "$u" "$g")x faster (target > 1x, ideally >= 1.5x, layer no larger)"
echo "oix gzip layer vs umoci's: $(blob_size Lg) MB vs $(blob_size U) MB"
echo "oix gzip vs umoci insert on one core (design.md's baseline): $(ratio "$(col umoci-insert-1core 1)" "$g")x faster"
echo "oix gzip --level 3 vs umoci insert: $(ratio "$u" "$(col oix-gzip-level3 1)")x faster"
echo "oix gzip --level 6 (the default before issue 18) vs umoci insert: $(ratio "$u" "$(col oix-gzip-level6 1)")x faster"
echo "oix gzip --level 1 vs umoci insert: $(ratio "$u" "$(col oix-gzip-level1 1)")x faster"
echo "oix zstd vs tar|zstd|sha256sum: $(ratio "$p" "$z")x (target >= 1.0x)"
