//! The auth files: which ones are read, which one `oix login` writes, and editing the
//! login entries in it.

use super::Credentials;
use crate::error::{Error, Kind, Result};
use base64::Engine;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The auth files consulted when no `--authfile` is given, in order.
pub fn default_auth_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        v.push(p);
    } else if let Some(x) = env("XDG_RUNTIME_DIR") {
        v.push(x.join("containers/auth.json"));
    } else {
        v.push(per_uid_auth_file());
    }
    let home = env("HOME");
    if let Some(h) = env("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config"))) {
        v.push(h.join("containers/auth.json"));
    }
    if let Some(d) = env("DOCKER_CONFIG") {
        v.push(d.join("config.json"));
    } else if let Some(h) = &home {
        v.push(h.join(".docker/config.json"));
    }
    v
}

/// `/run/containers/UID/auth.json`: the primary file of containers/image (podman,
/// skopeo) on Linux when `XDG_RUNTIME_DIR` is not set.
fn per_uid_auth_file() -> PathBuf {
    PathBuf::from(format!(
        "/run/containers/{}/auth.json",
        rustix::process::getuid().as_raw()
    ))
}

/// The file `oix login` writes and `oix logout` edits, as podman and skopeo choose it:
/// `--authfile`, else `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`
/// (the `XDG_RUNTIME_DIR` directory must exist), else `/run/containers/UID/auth.json`.
pub fn login_file(authfile: Option<&Path>) -> Result<PathBuf> {
    if let Some(f) = authfile {
        return Ok(f.to_path_buf());
    }
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        return Ok(p);
    }
    if let Some(x) = env("XDG_RUNTIME_DIR") {
        if !x.is_dir() {
            return Err(Error::usage(format!(
                "{} (set by $XDG_RUNTIME_DIR) is not a directory",
                x.display()
            ))
            .with_hint("create the directory, unset XDG_RUNTIME_DIR, or pass --authfile FILE"));
        }
        return Ok(x.join("containers/auth.json"));
    }
    Ok(per_uid_auth_file())
}

/// What [`store_login`] did to the auth file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The file did not exist and was created.
    Created,
    /// The entry was added or replaced.
    Updated,
    /// The file already held exactly this entry; nothing was written.
    Unchanged,
}

/// Read an auth file as a JSON object (an absent file is an empty one).
fn read_auth_object(path: &Path) -> Result<(serde_json::Map<String, serde_json::Value>, bool)> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((serde_json::Map::new(), false))
        }
        Err(e) => {
            return Err(Error::new(
                Kind::Io,
                format!("cannot read auth file {}: {e}", path.display()),
            ))
        }
    };
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok((serde_json::Map::new(), true));
    }
    let bad = |why: String| {
        Error::corrupt(format!("auth file {}: {why}", path.display()))
            .with_hint("fix or remove the file; oix does not overwrite a file it cannot read")
    };
    // serde_json's message carries a position, never file content.
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let serde_json::Value::Object(map) = v else {
        return Err(bad("not a JSON object".into()));
    };
    if map.get("auths").is_some_and(|a| !a.is_object()) {
        return Err(bad("\"auths\" is not an object".into()));
    }
    Ok((map, true))
}

/// Write an auth file atomically: a private temp file (mode 0600) in the same
/// directory, fsynced, renamed over the old one, directory fsynced. The parent is
/// created (mode 0700) when missing. Tab-indented, as containers/image writes it.
fn write_auth_object(path: &Path, map: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    use serde::Serialize;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let io = |what: &str, e: std::io::Error| {
        Error::new(Kind::Io, format!("{what} {}: {e}", path.display()))
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io("cannot create the directory of auth file", e))?;
    }
    let mut bytes = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, fmt);
    map.serialize(&mut ser)
        .map_err(|e| Error::failure(format!("serializing auth file: {e}")))?;
    bytes.push(b'\n');
    let mut tmp = tempfile::Builder::new()
        .prefix(".oix-auth-")
        .tempfile_in(&dir)
        .map_err(|e| io("cannot write auth file", e))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io("cannot write auth file", e))?;
    tmp.write_all(&bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| io("cannot write auth file", e))?;
    tmp.persist(path)
        .map_err(|e| io("cannot replace auth file", e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Store `username`/`password` for `key` (`HOST[:PORT]` or `HOST/NAMESPACE`) in the
/// containers auth file `path`: `auths[key] = {"auth": base64(user:password)}`, the
/// entry replaced whole (an old `identitytoken` would otherwise win over it). Every
/// other key and entry is kept as it was (same order and values). A key with a
/// credential helper in `credHelpers` is refused: the helper would be asked first.
pub fn store_login(path: &Path, key: &str, username: &str, password: &str) -> Result<Stored> {
    let (mut map, existed) = read_auth_object(path)?;
    if let Some(h) = map
        .get("credHelpers")
        .and_then(|h| h.get(key))
        .and_then(|v| v.as_str())
    {
        return Err(Error::usage(format!(
            "{}: {key} uses the credential helper docker-credential-{}; oix login writes only auths entries",
            path.display(),
            crate::text::escape(h)
        ))
        .with_hint("store the credentials with that helper (docker login), or pass another --authfile"));
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let entry = serde_json::json!({ "auth": auth });
    let auths = map
        .entry("auths")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    let auths = auths.as_object_mut().expect("checked by read_auth_object");
    if auths.get(key) == Some(&entry) {
        return Ok(Stored::Unchanged);
    }
    auths.insert(key.to_string(), entry);
    write_auth_object(path, &map)?;
    Ok(if existed {
        Stored::Updated
    } else {
        Stored::Created
    })
}

/// Remove the `auths` entry of `key` (or every entry, with `None`) from the auth file
/// `path`, keeping everything else. Returns the keys removed; `key` not being there is a
/// [`Kind::NoMatch`] error (nothing is written).
pub fn remove_login(path: &Path, key: Option<&str>) -> Result<Vec<String>> {
    let (mut map, existed) = read_auth_object(path)?;
    let removed: Vec<String> = match (key, map.get_mut("auths").and_then(|a| a.as_object_mut())) {
        (Some(k), Some(auths)) => auths
            .remove(k)
            .map(|_| vec![k.to_string()])
            .unwrap_or_default(),
        (None, Some(auths)) => {
            let keys: Vec<String> = auths.keys().cloned().collect();
            auths.clear();
            keys
        }
        (_, None) => Vec::new(),
    };
    if let (Some(k), true) = (key, removed.is_empty()) {
        return Err(Error::no_match(format!(
            "not logged in to {k}: {} has no entry for it",
            path.display()
        ))
        .with_hint(if existed {
            "oix logout removes what oix login (or podman/skopeo login) stored in that file; --authfile names another one"
        } else {
            "the auth file does not exist; --authfile names another one"
        }));
    }
    if !removed.is_empty() {
        write_auth_object(path, &map)?;
    }
    Ok(removed)
}

/// A private temp auth file (mode 0600 in a 0700 directory) holding `credentials` for
/// `host`: how `--creds` reaches a skopeo child without appearing in its arguments.
pub fn temp_auth_file(
    host: &str,
    credentials: &Credentials,
) -> Result<(tempfile::TempDir, PathBuf)> {
    let Credentials::Basic { username, password } = credentials else {
        return Err(Error::usage(
            "only a user and password can be handed to skopeo",
        ));
    };
    let dir = tempfile::Builder::new()
        .prefix("oix-auth-")
        .tempdir()
        .map_err(|e| Error::new(Kind::Io, format!("creating a temp directory: {e}")))?;
    let path = dir.path().join("auth.json");
    store_login(&path, host, username, password)?;
    Ok((dir, path))
}
