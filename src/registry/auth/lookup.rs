//! Looking credentials up for a host and repository across the auth files, the
//! environment and credential helpers.

use super::files::default_auth_files;
use super::helper::helper_get;
use super::{Credentials, Found, DEFAULT_HELPER_TIMEOUT, DOCKER_HUB_KEY};
use crate::error::{Error, Kind, Result};
use base64::Engine;
use std::path::Path;
use std::time::Duration;

/// Find credentials for `host` (as written in the reference) and `repo`. A credential
/// helper that has not answered within `helper_timeout` is killed and reported.
pub fn lookup(
    host: &str,
    repo: &str,
    authfile: Option<&Path>,
    helper_timeout: Duration,
) -> Result<Option<Found>> {
    let t = helper_timeout;
    if let Some(f) = authfile {
        let text = std::fs::read(f).map_err(|e| {
            Error::usage(format!("cannot read auth file {}: {e}", f.display())).with_hint(
                "--authfile must name a readable containers auth.json or docker config.json",
            )
        })?;
        return from_config_with(&text, &f.display().to_string(), host, repo, t);
    }
    let files = default_auth_files();
    let (first, rest) = files.split_at(files.len().min(2));
    for f in first {
        if let Some(found) = from_file(f, host, repo, t)? {
            return Ok(Some(found));
        }
    }
    if let Some(v) = std::env::var_os("DOCKER_AUTH_CONFIG").filter(|v| !v.is_empty()) {
        let text = v.to_string_lossy().into_owned();
        if let Some(found) = from_config_with(text.as_bytes(), "DOCKER_AUTH_CONFIG", host, repo, t)?
        {
            return Ok(Some(found));
        }
    }
    for f in rest {
        if let Some(found) = from_file(f, host, repo, t)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn from_file(path: &Path, host: &str, repo: &str, t: Duration) -> Result<Option<Found>> {
    match std::fs::read(path) {
        Ok(text) => from_config_with(&text, &path.display().to_string(), host, repo, t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::new(
            Kind::Io,
            format!("cannot read auth file {}: {e}", path.display()),
        )),
    }
}

/// The host part of an `auths` key: `https://host/v1/` → `host`.
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"));
    match k {
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None => key,
    }
}

fn is_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// Parse a containers auth.json / docker config.json and look `host`/`repo` up.
pub fn from_config(text: &[u8], origin: &str, host: &str, repo: &str) -> Result<Option<Found>> {
    from_config_with(text, origin, host, repo, DEFAULT_HELPER_TIMEOUT)
}

/// [`from_config`] with the time a credential helper may take.
pub fn from_config_with(
    text: &[u8],
    origin: &str,
    host: &str,
    repo: &str,
    helper_timeout: Duration,
) -> Result<Option<Found>> {
    let cfg: serde_json::Value = serde_json::from_slice(text).map_err(|e| {
        // serde_json's message carries a position, never file content.
        Error::corrupt(format!("{origin}: invalid JSON: {e}"))
    })?;
    let server = if is_hub(host) { DOCKER_HUB_KEY } else { host };
    if let Some(helper) = cfg
        .get("credHelpers")
        .and_then(|h| h.get(host).or_else(|| h.get(server)))
        .and_then(|v| v.as_str())
    {
        return helper_get(helper, server, helper_timeout);
    }
    if let Some(auths) = cfg.get("auths").and_then(|a| a.as_object()) {
        // Most specific first: host/ns/repo, host/ns, host; then URL-form keys.
        let mut keys: Vec<String> = Vec::new();
        let full = format!("{host}/{repo}");
        let mut cut = full.as_str();
        loop {
            keys.push(cut.to_string());
            match cut.rfind('/') {
                Some(i) => cut = &cut[..i],
                None => break,
            }
        }
        let mut entry = keys
            .iter()
            .find_map(|k| auths.get(k.as_str()).map(|e| (k.clone(), e)));
        if entry.is_none() {
            entry = auths
                .iter()
                .find(|(k, _)| {
                    let kh = key_host(k);
                    kh == host || (is_hub(host) && is_hub(kh))
                })
                .map(|(k, e)| (k.clone(), e));
        }
        if let Some((key, e)) = entry {
            if let Some((credentials, basic)) = entry_credentials(e, origin, &key)? {
                return Ok(Some(Found {
                    credentials,
                    origin: format!("{origin} (auths[{key:?}])"),
                    basic,
                }));
            }
        }
    }
    if let Some(store) = cfg.get("credsStore").and_then(|v| v.as_str()) {
        return helper_get(store, server, helper_timeout);
    }
    Ok(None)
}

/// The credentials of one `auths` entry: a token first (`identitytoken`, then
/// `registrytoken`), else the user and password; with the user and password beside a
/// token (for Basic challenges).
fn entry_credentials(
    e: &serde_json::Value,
    origin: &str,
    key: &str,
) -> Result<Option<(Credentials, Option<Credentials>)>> {
    let s = |k: &str| e.get(k).and_then(|v| v.as_str()).filter(|v| !v.is_empty());
    let mut basic = None;
    if let Some(a) = s("auth") {
        let bad = || {
            Error::corrupt(format!(
                "{origin}: auths[{key:?}].auth is not base64 of user:password"
            ))
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (u, p) = raw.split_once(':').ok_or_else(bad)?;
        basic = Some(Credentials::Basic {
            username: u.to_string(),
            password: p.trim_end_matches('\n').to_string(),
        });
    } else if let (Some(u), Some(p)) = (s("username"), s("password")) {
        basic = Some(Credentials::Basic {
            username: u.to_string(),
            password: p.to_string(),
        });
    }
    if let Some(t) = s("identitytoken") {
        return Ok(Some((Credentials::IdentityToken(t.to_string()), basic)));
    }
    if let Some(t) = s("registrytoken") {
        return Ok(Some((Credentials::RegistryToken(t.to_string()), basic)));
    }
    Ok(basic.map(|b| (b, None)))
}
