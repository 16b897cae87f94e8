#!/usr/bin/env bash
# Install the tools oix's interop tests run against, from Debian's packages, but only
# those that are missing. Safe to run again: with everything present it does nothing.
set -euo pipefail

# command -> Debian package
declare -A PACKAGE=(
    [skopeo]=skopeo
    [umoci]=umoci
    [docker-registry]=docker-registry
    [openssl]=openssl
    [man]=man-db
)

missing=()
for cmd in skopeo umoci docker-registry openssl man; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        missing+=("${PACKAGE[$cmd]}")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-test-deps: skopeo, umoci, docker-registry, openssl and man are present"
    exit 0
fi

echo "install-test-deps: missing ${missing[*]}; installing from Debian's packages"

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: error: apt-get is not available on this machine." >&2
    echo "install-test-deps: install these by hand and run again: ${missing[*]}" >&2
    exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-test-deps: error: not root and sudo is not available;" >&2
        echo "install-test-deps: as root, run: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"

for cmd in skopeo umoci docker-registry openssl man; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        echo "install-test-deps: error: $cmd is still missing after apt-get install" >&2
        exit 1
    fi
done
echo "install-test-deps: installed ${missing[*]}"
