# The two set-up commands for a fresh Debian machine with Rust are `make demo` and
# `make test`; the other targets are for working on oix.

CARGO ?= cargo

.PHONY: demo test docs bench release

## Run oix end to end on sample inputs (scripts/demo.sh).
demo:
	bash scripts/demo.sh

## Install the interop tools when missing, then formatting, lints, every test, the doc
## examples, and the library's build without the cli feature (no clap).
test:
	bash scripts/install-test-deps.sh
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	CARGO=$(CARGO) bash scripts/check-library-deps.sh

## Regenerate man/ and completions/ from the clap definition.
docs:
	OIX_UPDATE_DOCS=1 $(CARGO) test --test docs

## Run every benchmark script under bench/ (results go in bench/RESULTS.md by hand).
bench:
	@set -e; found=0; \
	for script in bench/*.sh; do \
		[ -e "$$script" ] || continue; \
		found=1; echo "==> $$script"; bash "$$script"; \
	done; \
	[ "$$found" = 1 ] || echo "no bench/*.sh scripts yet"

## Optimized binary at target/release/oix.
release:
	$(CARGO) build --release
