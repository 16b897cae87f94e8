//! The one way the tests start the oix binary. Every helper module (common,
//! common_registry, imagekit) includes this file, as they include the gate.

use std::path::PathBuf;
use std::process::Command;

pub fn oix_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_oix"))
}

/// A `Command` for the oix binary with `args`, in a neutral environment: no color,
/// no backtraces, the default lock timeout, no SOURCE_DATE_EPOCH, fast registry
/// retries, and none of the user's registry credentials (a test that wants one of
/// these sets it on the returned command).
pub fn oix_cmd<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = Command::new(oix_bin());
    c.args(args)
        .env_remove("OIX_LOCK_TIMEOUT")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .env("OIX_RETRY_BACKOFF_MS", "20")
        // Keep the user's real credentials out of the tests.
        .env("HOME", std::env::temp_dir().join("oix-test-no-home"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DOCKER_CONFIG")
        .env_remove("DOCKER_AUTH_CONFIG")
        .env_remove("OIX_CERTS_D_ROOTS");
    // A proxy of the machine would carry the tests' loopback traffic away.
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        c.env_remove(v);
    }
    c
}
