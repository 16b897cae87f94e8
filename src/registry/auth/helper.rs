//! Credential helpers (`docker-credential-<name> get`), run with a timeout.

use super::{Credentials, Found};
use crate::error::{Error, Result};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run `docker-credential-<helper> get` with the server on stdin; a helper still
/// running after `timeout` is killed and reported by name.
pub(super) fn helper_get(helper: &str, server: &str, timeout: Duration) -> Result<Option<Found>> {
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        return Err(Error::failure(format!(
            "credential helper name {helper:?} is not a plain name"
        )));
    }
    let prog = format!("docker-credential-{helper}");
    let mut child = Command::new(&prog)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            Error::failure(format!("cannot run credential helper {prog}: {e}")).with_hint(format!(
                "install {prog}, or remove it from the docker config"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    // Read stdout on a thread so a helper that fills the pipe cannot block us, and
    // wait for the exit with a deadline.
    let reader = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ =
                std::io::Read::read_to_end(&mut std::io::Read::take(&mut out, 1 << 20), &mut buf);
            buf
        })
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::failure(format!(
                    "credential helper {prog} did not answer within {} s for {server}; it was stopped",
                    timeout.as_secs_f64()
                ))
                .with_hint(format!(
                    "check {prog} (does it wait for a password prompt or a locked keyring?); --timeout SECONDS changes the limit"
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Error::failure(format!("credential helper {prog}: {e}"))),
        }
    };
    let stdout = reader.and_then(|h| h.join().ok()).unwrap_or_default();
    if !status.success() {
        let msg = String::from_utf8_lossy(&stdout).to_lowercase();
        if msg.contains("credentials not found") {
            return Ok(None);
        }
        // The helper's own output may hold secrets: report only the status.
        return Err(Error::failure(format!(
            "credential helper {prog} failed ({status}) for {server}"
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&stdout).map_err(|_| {
        Error::failure(format!(
            "credential helper {prog} printed something that is not JSON"
        ))
    })?;
    let user = v.get("Username").and_then(|u| u.as_str()).unwrap_or("");
    let secret = v.get("Secret").and_then(|u| u.as_str()).unwrap_or("");
    if secret.is_empty() {
        return Ok(None);
    }
    let credentials = if user == "<token>" {
        Credentials::IdentityToken(secret.to_string())
    } else {
        Credentials::Basic {
            username: user.to_string(),
            password: secret.to_string(),
        }
    };
    Ok(Some(Found::new(
        credentials,
        format!("credential helper {prog}"),
    )))
}
