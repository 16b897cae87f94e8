//! The one rule for tests that need an external tool (skopeo, umoci, docker-registry,
//! openssl, ...): found, the test runs; missing, it FAILS under CI (`CI` set to anything
//! but empty, `0` or `false`) and prints `SKIP: ...` and passes locally.
//!
//! `OIX_TEST_HIDE_TOOLS=skopeo,umoci` makes tools count as missing (to test this rule).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Whether the tests run under CI, where a missing tool is a failure.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

fn hidden(name: &str) -> bool {
    std::env::var("OIX_TEST_HIDE_TOOLS").is_ok_and(|v| v.split(',').any(|t| t.trim() == name))
}

/// The tool's path: /usr/bin first (the Debian packages), then PATH. Missing: panic under
/// CI, else print `SKIP: ...` and return None.
pub fn find(name: &str) -> Option<PathBuf> {
    let found = if hidden(name) {
        None
    } else {
        let fixed = Path::new("/usr/bin").join(name);
        if fixed.is_file() {
            Some(fixed)
        } else {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(name))
                    .find(|c| c.is_file())
            })
        }
    };
    if found.is_none() {
        if ci() {
            panic!(
                "{name} is required under CI but was not found; install it (scripts/install-test-deps.sh)"
            );
        }
        eprintln!("SKIP: {name} not found; install it to run this test (it fails under CI)");
    }
    found
}
