#!/usr/bin/env bash
# The library builds without the `cli` feature and then pulls in none of the crates only
# the command line needs (clap, indicatif, mimalloc). Run by `make test`.
set -euo pipefail
CARGO=${CARGO:-cargo}
"$CARGO" check --lib --no-default-features
tree=$("$CARGO" tree -e normal --no-default-features --prefix none)
if found=$(grep -E '^(clap|clap_builder|clap_derive|indicatif|mimalloc) ' <<<"$tree"); then
	echo "check-library-deps: the library without the cli feature depends on:" >&2
	echo "$found" | sort -u >&2
	exit 1
fi
echo "check-library-deps: the library builds without clap, indicatif and mimalloc"
