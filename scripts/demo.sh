#!/usr/bin/env bash
# `make demo`: oix end to end, one readable command after another.
#
# The scene is the OBS/kiwi post-build hook: each architecture's build leaves a
# single-arch image in its own OCI layout; oix builds them, assembles one multi-arch
# release under a policy, hands it across as an archive, and checks every layout.
#
# The per-arch inputs are built by `oix build` from small root filesystems under a temp
# dir, so the demo needs nothing but a Rust toolchain. Every command is printed before it runs; the
# script stops with a non-zero status at the first failing step.
#
# Environment: OIX=path/to/oix uses that binary instead of building one;
# KEEP=1 keeps the temp dir and prints where it is.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${OIX:-}" ]; then
    echo "+ cargo build --quiet --bin oix"
    (cd "$repo" && cargo build --quiet --bin oix)
    OIX="$repo/target/debug/oix"
fi
# Put `oix` on PATH so the printed commands read as a user would type them.
bindir=$(mktemp -d)
ln -s "$(realpath "$OIX")" "$bindir/oix"
export PATH="$bindir:$PATH"


work=$(mktemp -d)
cleanup() {
    rm -rf "$bindir"
    if [ -n "${KEEP:-}" ]; then
        echo "demo: kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
cd "$work"

# Print a command, then run it; `set -e` stops the demo when it fails.
run() {
    printf '\n$'
    printf ' %q' "$@"
    printf '\n'
    "$@"
}
section() {
    printf '\n### %s\n' "$*"
}

# Fixed timestamps keep the demo's digests the same from run to run.
export SOURCE_DATE_EPOCH=1704067200

section "Inputs: one single-arch image per architecture, built by oix from root filesystems"
for arch in amd64 arm64 s390x; do
    mkdir -p "rootfs-$arch/etc" "rootfs-$arch/usr/bin"
    printf 'demo image for linux/%s\n' "$arch" >"rootfs-$arch/etc/motd"
    printf '#!/bin/sh\necho hello from %s\n' "$arch" >"rootfs-$arch/usr/bin/hello"
    chmod 755 "rootfs-$arch/usr/bin/hello"
    ln -sf hello "rootfs-$arch/usr/bin/hi"
    run oix build "rootfs-$arch" -o "build-$arch:demo" --platform "linux/$arch" \
        --cmd /usr/bin/hello --label org.example.arch="$arch"
done
section "Reproducible: the same tree builds to the same digest"
run oix build rootfs-amd64 -o again:demo --platform linux/amd64 --cmd /usr/bin/hello --label org.example.arch=amd64
[ "$(oix select -q build-amd64:demo)" = "$(oix select -q again:demo)" ] && echo "same digest"

section "A release layout of our own"
run oix init release
run oix init release # idempotent: an existing layout is left as it is
run oix ls release

section "What the builds produced"
run oix ls build-amd64
run oix ls --tree build-arm64:demo
run oix --json ls build-arm64

section "Reading documents: the manifest, its config, and the exact stored bytes"
run oix inspect build-amd64:demo
run oix inspect --config build-arm64:demo
run oix inspect --raw build-amd64:demo
echo

section "Tags are ref.name entries in index.json, changed under the layout's lock"
run oix tag build-amd64:demo 1.0 1.0-amd64 latest
run oix ls build-amd64
# The digest comes first, on its own line, for scripts and Makefiles.
digest=$(oix inspect build-amd64:1.0 | head -n1)
run oix inspect "build-amd64@$digest"
run oix untag build-amd64:latest
run oix ls build-amd64

section "One multi-arch index from the per-arch builds (blobs are hard-linked, not copied)"
run oix merge release:1.0 build-amd64:demo build-arm64:demo build-s390x:demo \
    --policy union --annotation org.opencontainers.image.version=1.0
run oix ls release
run oix ls release:1.0
run oix annotate release:1.0 --platform linux/arm64 --set org.opencontainers.image.revision=arm-rebuild-1

section "Selecting entries: platforms are normalized (aarch64 = arm64), digest first"
run oix select release:1.0 --platform linux/aarch64
run oix inspect release:1.0 --platform linux/s390x --config

section "Next release: the s390x build failed; require-all refuses, keep-missing carries it over"
for arch in amd64 arm64; do
    printf 'release 1.1\n' >"rootfs-$arch/etc/release"
    run oix build "rootfs-$arch" -o "build-$arch:demo" --platform "linux/$arch" --cmd /usr/bin/hello
done
run oix tag release:1.0 1.1
set +e
run oix merge release:1.1 build-amd64:demo build-arm64:demo --policy require-all
status=$?
set -e
echo "(exit status $status: refused by policy, nothing written)"
[ "$status" -eq 5 ] || { echo "demo: expected exit 5" >&2; exit 1; }
run oix merge release:1.1 build-amd64:demo build-arm64:demo --policy keep-missing
run oix diff release:1.0 release:1.1

section "Air-gapped hand-off: export an archive, import it on the other side, same digests"
run oix export release:1.1 -o release-1.1.tar.gz
run oix import release-1.1.tar.gz -o other-side
run oix diff release:1.1 other-side:1.1

section "Integrity: every layout checks clean"
for layout in build-amd64 build-arm64 build-s390x release other-side; do
    run oix fsck "$layout"
done
run oix gc --dry-run release

printf '\ndemo: all steps succeeded\n'
