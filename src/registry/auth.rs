//! Registry credentials and authentication challenges.
//!
//! Credentials come from, in order: `--authfile` (alone, when given); otherwise
//! `REGISTRY_AUTH_FILE` or `${XDG_RUNTIME_DIR}/containers/auth.json`, then
//! `~/.config/containers/auth.json`, then `DOCKER_AUTH_CONFIG` (the file's content in an
//! environment variable), then `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
//! The first file that knows the registry wins. In each file a credential helper
//! (`credHelpers[host]`, run as `docker-credential-<name> get`) comes first, then the
//! `auths` entries from the most specific key (`host/ns/repo`) to `host` (URL-form keys
//! such as `https://host/v1/` match by host), then the `credsStore` helper.
//!
//! Secrets never reach output, logs or error messages: [`Credentials`] prints redacted.

use crate::error::{Error, Kind, Result};
use base64::Engine;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Docker Hub's key in docker config files.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (docker's `identitytoken`, a helper's `<token>` user).
    IdentityToken(String),
    /// A bearer token to send as is (docker's `registrytoken`).
    RegistryToken(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credentials::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Credentials::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

impl Credentials {
    /// The `Authorization` value for Basic auth, when these are a user and password.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            _ => None,
        }
    }
}

/// Where credentials were found (a file and key, or a helper), for messages.
#[derive(Debug, Clone)]
pub struct Found {
    pub credentials: Credentials,
    pub origin: String,
    /// The user and password of the same `auths` entry when `credentials` is a token
    /// (an entry may hold both `auth` and `identitytoken`): a Basic challenge is
    /// answered with these, as skopeo and docker do.
    pub basic: Option<Credentials>,
}

impl Found {
    /// Credentials given for this run (`--creds`, `oix login`), with where they came from.
    pub fn given(credentials: Credentials, origin: impl Into<String>) -> Found {
        Found::new(credentials, origin.into())
    }

    fn new(credentials: Credentials, origin: String) -> Found {
        Found {
            credentials,
            origin,
            basic: None,
        }
    }

    /// The `Authorization` value for a Basic challenge, if a user and password are known.
    pub fn basic_header(&self) -> Option<String> {
        self.credentials
            .basic_header()
            .or_else(|| self.basic.as_ref()?.basic_header())
    }
}

/// How long a credential helper may run when no timeout is given.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

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

/// Run `docker-credential-<helper> get` with the server on stdin; a helper still
/// running after `timeout` is killed and reported by name.
fn helper_get(helper: &str, server: &str, timeout: Duration) -> Result<Option<Found>> {
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

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercased scheme: `basic` or `bearer`.
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parse `Scheme k="v", k2=v2` (the first challenge of the header).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.find(char::is_whitespace) {
        Some(i) => (&header[..i], header[i..].trim_start()),
        None => (header, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = rest[ks..i].trim().to_string();
        if i >= b.len() || b[i] != b'=' {
            break; // a token68 or a second challenge: stop here
        }
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch = rest[i..].chars().next()?;
                val.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val = rest[vs..i].trim().to_string();
        }
        if !key.is_empty() {
            params.push((key, val));
        }
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_entries_are_stored_and_removed_keeping_the_rest() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("sub/auth.json");
        assert_eq!(
            store_login(&p, "r.example:5000", "u", "p:w").unwrap(),
            Stored::Created
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(p.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let found = from_config(&std::fs::read(&p).unwrap(), "f", "r.example:5000", "a/b")
            .unwrap()
            .unwrap();
        assert_eq!(
            found.credentials,
            Credentials::Basic {
                username: "u".into(),
                password: "p:w".into()
            }
        );
        // Other keys and entries keep their order and values; an old token is replaced.
        std::fs::write(
            &p,
            r#"{"zz":1.5,"auths":{"b.example":{"auth":"eDp5","email":"e"},"r.example:5000":{"identitytoken":"T"}},"aa":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(
            store_login(&p, "r.example:5000", "u", "pw").unwrap(),
            Stored::Updated
        );
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["zz", "auths", "aa"]);
        assert_eq!(v["zz"], 1.5);
        assert_eq!(v["auths"]["b.example"]["email"], "e");
        assert!(v["auths"]["r.example:5000"].get("identitytoken").is_none());
        let before = std::fs::read(&p).unwrap();
        assert_eq!(
            store_login(&p, "r.example:5000", "u", "pw").unwrap(),
            Stored::Unchanged
        );
        assert_eq!(std::fs::read(&p).unwrap(), before);
        assert_eq!(
            remove_login(&p, Some("r.example:5000")).unwrap(),
            ["r.example:5000"]
        );
        let e = remove_login(&p, Some("r.example:5000")).unwrap_err();
        assert_eq!(e.kind, Kind::NoMatch);
        assert_eq!(remove_login(&p, None).unwrap(), ["b.example"]);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["auths"], serde_json::json!({}));
        assert_eq!(v["aa"], serde_json::json!([1, 2]));
    }

    #[test]
    fn login_refuses_unreadable_files_and_helper_hosts() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("auth.json");
        std::fs::write(&p, "{not json").unwrap();
        let e = store_login(&p, "h", "u", "secret-pw").unwrap_err();
        assert_eq!(e.kind, Kind::Corrupt);
        assert!(!format!("{e:?}").contains("secret-pw"));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{not json");
        std::fs::write(&p, r#"{"auths":[]}"#).unwrap();
        assert_eq!(
            store_login(&p, "h", "u", "p").unwrap_err().kind,
            Kind::Corrupt
        );
        std::fs::write(&p, r#"{"credHelpers":{"h":"pass"}}"#).unwrap();
        let e = store_login(&p, "h", "u", "p").unwrap_err();
        assert!(e.message.contains("docker-credential-pass"), "{e:?}");
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            r#"{"credHelpers":{"h":"pass"}}"#
        );
    }

    #[test]
    fn parses_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull,push"));
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(
            (c.scheme.as_str(), c.param("realm")),
            ("basic", Some("Registry Realm"))
        );
        assert!(parse_challenge("").is_none());
    }

    #[test]
    fn reads_auths_and_redacts() {
        let cfg = br#"{"auths":{
            "reg.io/team/app":{"auth":"dXNlcjE6cGFzczE="},
            "reg.io":{"auth":"dXNlcjI6cDpzcw=="},
            "https://index.docker.io/v1/":{"identitytoken":"tok"},
            "https://other.io/v1/":{"username":"u","password":"p"}}}"#;
        let get = |h: &str, r: &str| from_config(cfg, "f", h, r).unwrap().map(|f| f.credentials);
        assert_eq!(
            get("reg.io", "team/app/sub"),
            Some(Credentials::Basic {
                username: "user1".into(),
                password: "pass1".into()
            })
        );
        assert_eq!(
            get("reg.io", "other"),
            Some(Credentials::Basic {
                username: "user2".into(),
                password: "p:ss".into()
            })
        );
        assert_eq!(
            get("docker.io", "library/x"),
            Some(Credentials::IdentityToken("tok".into()))
        );
        assert!(matches!(
            get("other.io", "x"),
            Some(Credentials::Basic { .. })
        ));
        assert_eq!(get("nowhere.io", "x"), None);
        let dbg = format!("{:?}", get("reg.io", "x").unwrap());
        assert!(!dbg.contains("p:ss"), "{dbg}");
        assert!(from_config(br#"{"auths":{"reg.io":{"auth":"!!"}}}"#, "f", "reg.io", "x").is_err());
    }

    #[test]
    fn a_token_beside_the_password_keeps_the_password_for_basic() {
        // auth = base64("user2:p:ss")
        let cfg = br#"{"auths":{"reg.io":{"auth":"dXNlcjI6cDpzcw==","identitytoken":"tok"}}}"#;
        let f = from_config(cfg, "f", "reg.io", "x").unwrap().unwrap();
        assert_eq!(f.credentials, Credentials::IdentityToken("tok".into()));
        assert_eq!(
            f.basic_header(),
            Credentials::Basic {
                username: "user2".into(),
                password: "p:ss".into()
            }
            .basic_header()
        );
        let only = from_config(
            br#"{"auths":{"reg.io":{"identitytoken":"tok"}}}"#,
            "f",
            "reg.io",
            "x",
        )
        .unwrap()
        .unwrap();
        assert_eq!(only.basic_header(), None);
    }
}
