//! The HTTP side of the registry client: transport security, authentication and retries.
//!
//! One [`Client`] talks to one repository of one registry. It is shared by the parallel
//! blob workers, so the authentication state sits behind a mutex: the first 401 answers
//! a challenge (Basic, or a Bearer token fetched from the realm with every scope the job
//! needs), and later requests carry that `Authorization` header up front.
//!
//! Security rules: HTTPS unless `--plain-http` (never a silent downgrade, also not for
//! upload locations or token realms that point to `http://`); `--insecure` keeps TLS but
//! skips verification; the `Authorization` header goes only to the registry's own origin
//! (ureq drops it on redirects) and to the token realm; secrets never appear in errors.

use super::auth::{self, Challenge, Credentials, Found};
use crate::error::{Error, Result};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use ureq::http::{self, Method, Response};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

pub type HttpResponse = Response<ureq::Body>;

/// How to reach the registry and whom to be.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
    /// Speak plain HTTP (no TLS at all).
    pub plain_http: bool,
    /// Use TLS but do not verify the server's certificate.
    pub insecure: bool,
    /// Extra CA certificates (PEM files) trusted besides the system roots.
    pub ca_certs: Vec<PathBuf>,
    /// Only this auth file (containers auth.json or docker config.json).
    pub authfile: Option<PathBuf>,
    /// Attempts per request after transient failures (5xx, 429, dropped connections).
    pub retries: u32,
    /// Base delay of the exponential backoff.
    pub backoff: Duration,
}

impl TransportOptions {
    pub fn new() -> Self {
        TransportOptions {
            retries: 5,
            backoff: Duration::from_millis(250),
            ..Default::default()
        }
    }
}

/// A failure that may or may not be worth another attempt.
#[derive(Debug)]
pub(crate) enum Fail {
    /// Transient: a 5xx, a 429 (with its Retry-After), a dropped connection.
    Retry(Error, Option<Duration>),
    Fatal(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Fatal(e)
    }
}

impl From<Fail> for Error {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Retry(e, _) | Fail::Fatal(e) => e,
        }
    }
}

pub(crate) type FResult<T> = std::result::Result<T, Fail>;

#[derive(Debug, Default)]
struct AuthState {
    /// The `Authorization` value to send, once a challenge was answered.
    header: Option<String>,
    /// Bumped each time `header` changes, so racing workers fetch a token once.
    generation: u64,
}

pub struct Client {
    agent: ureq::Agent,
    /// `https://host:port` (or `http://` with --plain-http).
    pub base: String,
    /// The reference host (credential lookup key).
    pub host: String,
    pub repo: String,
    creds: Option<Found>,
    /// Scopes requested with every token: `repository:<repo>:pull[,push]` and mount sources.
    scopes: Vec<String>,
    auth: Mutex<AuthState>,
    plain_http: bool,
    retries: u32,
    backoff: Duration,
    /// Transient failures retried so far (for the summary).
    pub retried: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({}/{})", self.base, self.repo)
    }
}

/// The root store: the system's CA bundle (as OpenSSL finds it) plus `extra` files;
/// Mozilla's roots compiled into the binary when the system has none.
fn root_certs(extra: &[PathBuf]) -> Result<RootCerts> {
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    let mut add_pem = |bytes: &[u8], what: &str, strict: bool| -> Result<usize> {
        let mut n = 0;
        for item in ureq::tls::parse_pem(bytes) {
            match item {
                Ok(PemItem::Certificate(c)) => {
                    certs.push(c);
                    n += 1
                }
                Ok(_) => {}
                Err(e) if strict => {
                    return Err(Error::usage(format!(
                        "{what}: not a PEM certificate file: {e}"
                    )))
                }
                Err(_) => {}
            }
        }
        Ok(n)
    };
    let env_file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let candidates = env_file.into_iter().chain(
        [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/ca-bundle.pem",
            "/etc/ssl/cert.pem",
        ]
        .map(PathBuf::from),
    );
    for c in candidates {
        if let Ok(bytes) = std::fs::read(&c) {
            if add_pem(&bytes, &c.display().to_string(), false)? > 0 {
                break;
            }
        }
    }
    for f in extra {
        let bytes = std::fs::read(f)
            .map_err(|e| Error::usage(format!("cannot read --ca-cert {}: {e}", f.display())))?;
        if add_pem(&bytes, &f.display().to_string(), true)? == 0 {
            return Err(Error::usage(format!(
                "--ca-cert {}: no PEM certificate in the file",
                f.display()
            )));
        }
    }
    if certs.is_empty() {
        return Ok(RootCerts::WebPki);
    }
    Ok(RootCerts::new_with_certs(&certs))
}

impl Client {
    /// A client for `repo` on `api_host` (`host` is the reference's host, used to find
    /// credentials). `scopes` lists the token scopes the job needs.
    pub fn new(
        api_host: &str,
        host: &str,
        repo: &str,
        scopes: Vec<String>,
        opts: &TransportOptions,
        pool: usize,
    ) -> Result<Client> {
        let tls = TlsConfig::builder()
            .root_certs(root_certs(&opts.ca_certs)?)
            .disable_verification(opts.insecure)
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(concat!("oix/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(pool.max(1) * 2 + 2)
            .max_idle_connections(pool.max(1) * 4 + 8)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(600)))
            .max_redirects(10)
            .build();
        let creds = auth::lookup(host, repo, opts.authfile.as_deref())?;
        let scheme = if opts.plain_http { "http" } else { "https" };
        Ok(Client {
            agent: config.into(),
            base: format!("{scheme}://{api_host}"),
            host: host.to_string(),
            repo: repo.to_string(),
            creds,
            scopes,
            auth: Mutex::new(AuthState::default()),
            plain_http: opts.plain_http,
            retries: opts.retries,
            backoff: opts.backoff,
            retried: AtomicU64::new(0),
        })
    }

    /// Attempts after the first one for transient failures.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// `https://host/v2/<repo>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{}", self.base, self.repo, path)
    }

    /// Where the credentials came from, if any (never the secret).
    pub fn credential_origin(&self) -> Option<&str> {
        self.creds.as_ref().map(|f| f.origin.as_str())
    }

    /// Resolve an upload `Location` (absolute or relative) against the registry.
    pub fn resolve_location(&self, loc: &str) -> Result<String> {
        if loc.starts_with("https://") {
            return Ok(loc.to_string());
        }
        if let Some(rest) = loc.strip_prefix("http://") {
            if !self.plain_http {
                return Err(Error::failure(format!(
                    "the registry sent an upload location on plain HTTP (http://{rest}) for an HTTPS session"
                ))
                .with_hint("oix never downgrades silently; use --plain-http if the registry really is plain HTTP"));
            }
            return Ok(loc.to_string());
        }
        if loc.starts_with('/') {
            return Ok(format!("{}{loc}", self.base));
        }
        Err(Error::failure(format!(
            "the registry sent an unusable upload location {loc:?}"
        )))
    }

    fn same_origin(&self, url: &str) -> bool {
        url.strip_prefix(&self.base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    fn backoff_delay(&self, attempt: u32, after: Option<Duration>) -> Duration {
        let exp = self.backoff.saturating_mul(1u32 << attempt.min(6));
        after.unwrap_or(exp).min(Duration::from_secs(60))
    }

    /// Run `f` until it succeeds, fails fatally, or the retry budget is spent.
    pub(crate) fn with_retries<T>(&self, mut f: impl FnMut(u32) -> FResult<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            match f(attempt) {
                Ok(v) => return Ok(v),
                Err(Fail::Fatal(e)) => return Err(e),
                Err(Fail::Retry(e, after)) => {
                    if attempt >= self.retries {
                        return Err(e.context(format!("gave up after {} attempts", attempt + 1)));
                    }
                    self.retried.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(self.backoff_delay(attempt, after));
                    attempt += 1;
                }
            }
        }
    }

    /// One request: the current `Authorization` header on same-origin URLs, no retries.
    /// Returns the response and the auth generation it was sent with.
    pub(crate) fn send_once(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<(&mut dyn Read, u64)>,
    ) -> FResult<(HttpResponse, u64)> {
        let (auth, generation) = {
            let st = self.auth.lock().unwrap_or_else(|p| p.into_inner());
            (st.header.clone(), st.generation)
        };
        let mut b = http::Request::builder().method(method.clone()).uri(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        if let (Some(a), true) = (auth, self.same_origin(url)) {
            b = b.header("Authorization", a);
        }
        let what = format!("{method} {}", redact_url(url));
        let r = match body {
            Some((reader, len)) => {
                let req = b
                    .header("Content-Length", len.to_string())
                    .body(ureq::SendBody::from_reader(reader))
                    .map_err(|e| Error::failure(format!("{what}: {e}")))?;
                self.agent.run(req)
            }
            None => {
                let has_len = headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
                let req = b
                    .body(())
                    .map_err(|e| Error::failure(format!("{what}: {e}")))?;
                if has_len || method == Method::GET || method == Method::HEAD {
                    self.agent.run(req)
                } else {
                    // Bodiless PUT/POST/PATCH still need `Content-Length: 0`.
                    let (parts, _) = req.into_parts();
                    let mut req = http::Request::from_parts(parts, ureq::SendBody::none());
                    req.headers_mut()
                        .insert("Content-Length", http::HeaderValue::from_static("0"));
                    self.agent.run(req)
                }
            }
        };
        match r {
            Ok(resp) => Ok((resp, generation)),
            Err(e) => Err(transport_error(&what, e, self.plain_http)),
        }
    }

    /// A request with a replayable body (none or bytes): answers auth challenges and
    /// retries transient failures. Transient statuses become `Fail::Retry` inside.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<HttpResponse> {
        self.with_retries(|_| self.send_authed(method.clone(), url, headers, body))
    }

    /// One attempt (plus at most two auth rounds); transient statuses are `Fail::Retry`.
    pub(crate) fn send_authed(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> FResult<HttpResponse> {
        let mut rounds = 0;
        loop {
            let (mut resp, generation) = match body {
                Some(bytes) => {
                    let mut r = bytes;
                    self.send_once(
                        method.clone(),
                        url,
                        headers,
                        Some((&mut r, bytes.len() as u64)),
                    )?
                }
                None => self.send_once(method.clone(), url, headers, None)?,
            };
            let status = resp.status().as_u16();
            if status == 401 && rounds < 2 && self.same_origin(url) {
                rounds += 1;
                drain(&mut resp);
                self.answer_challenge(&resp, generation)?;
                continue;
            }
            if let Some(after) = transient_status(&resp) {
                let e = response_error(&mut resp, &format!("{method} {}", redact_url(url)));
                return Err(Fail::Retry(e, after));
            }
            return Ok(resp);
        }
    }

    /// Handle a 401: set a new `Authorization` header from the challenge, unless another
    /// worker already did since `generation`.
    pub(crate) fn answer_challenge(&self, resp: &HttpResponse, generation: u64) -> FResult<()> {
        let mut st = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        if st.generation != generation {
            return Ok(()); // someone else refreshed; just retry
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .and_then(auth::parse_challenge);
        let hint_creds = || {
            match self.credential_origin() {
            Some(o) => format!("credentials from {o} were refused; check them (or log in again)"),
            None => format!(
                "no credentials for {} were found; log in (skopeo login / docker login) or pass --authfile",
                self.host
            ),
        }
        };
        let Some(ch) = challenge else {
            return Err(Fail::Fatal(
                Error::failure(format!(
                    "{}: 401 Unauthorized without a challenge",
                    self.base
                ))
                .with_hint(hint_creds()),
            ));
        };
        let header = match ch.scheme.as_str() {
            "basic" => {
                let Some(h) = self
                    .creds
                    .as_ref()
                    .and_then(|f| f.credentials.basic_header())
                else {
                    return Err(Fail::Fatal(
                        Error::failure(format!("{}: authentication required (Basic)", self.host))
                            .with_hint(hint_creds()),
                    ));
                };
                if st.header.as_deref() == Some(h.as_str()) {
                    return Err(Fail::Fatal(
                        Error::failure(format!(
                            "{}: the registry refused the credentials",
                            self.host
                        ))
                        .with_hint(hint_creds()),
                    ));
                }
                h
            }
            "bearer" => {
                if let Some(Credentials::RegistryToken(t)) =
                    self.creds.as_ref().map(|f| &f.credentials)
                {
                    format!("Bearer {t}")
                } else {
                    let token = self.fetch_token(&ch)?;
                    let h = format!("Bearer {token}");
                    if st.header.as_deref() == Some(h.as_str()) {
                        return Err(Fail::Fatal(
                            Error::failure(format!(
                                "{}: access to {} denied with the token the realm issued",
                                self.host, self.repo
                            ))
                            .with_hint(hint_creds()),
                        ));
                    }
                    h
                }
            }
            other => {
                return Err(Fail::Fatal(Error::failure(format!(
                    "{}: unsupported authentication scheme {other:?}",
                    self.host
                ))))
            }
        };
        st.header = Some(header);
        st.generation += 1;
        Ok(())
    }

    /// Fetch a bearer token from the challenge's realm for all our scopes.
    fn fetch_token(&self, ch: &Challenge) -> FResult<String> {
        let realm = ch.param("realm").ok_or_else(|| {
            Fail::Fatal(Error::failure(format!(
                "{}: bearer challenge without a realm",
                self.host
            )))
        })?;
        if !(realm.starts_with("https://") || (realm.starts_with("http://") && self.plain_http)) {
            return Err(Fail::Fatal(
                Error::failure(format!("{}: token realm {realm:?} is not HTTPS", self.host))
                    .with_hint(
                        "oix sends credentials only over HTTPS unless --plain-http is given",
                    ),
            ));
        }
        let mut scopes: Vec<String> = self.scopes.clone();
        if let Some(s) = ch.param("scope") {
            for one in s.split(' ').filter(|x| !x.is_empty()) {
                if !scopes.iter().any(|x| x == one) {
                    scopes.push(one.to_string());
                }
            }
        }
        let service = ch.param("service");
        let what = format!("token request to {realm}");
        let resp = match self.creds.as_ref().map(|f| &f.credentials) {
            Some(Credentials::IdentityToken(t)) => {
                let mut form: Vec<(&str, String)> = vec![
                    ("grant_type", "refresh_token".into()),
                    ("client_id", "oix".into()),
                    ("refresh_token", t.clone()),
                    ("scope", scopes.join(" ")),
                ];
                if let Some(s) = service {
                    form.push(("service", s.to_string()));
                }
                self.agent
                    .post(realm)
                    .send_form(form.iter().map(|(k, v)| (*k, v.as_str())))
            }
            other => {
                let mut req = self.agent.get(realm);
                if let Some(s) = service {
                    req = req.query("service", s);
                }
                for s in &scopes {
                    req = req.query("scope", s);
                }
                if let Some(h) = other.and_then(|c| c.basic_header()) {
                    req = req.header("Authorization", h);
                }
                req.call()
            }
        };
        let mut resp = resp.map_err(|e| transport_error(&what, e, self.plain_http))?;
        if let Some(after) = transient_status(&resp) {
            return Err(Fail::Retry(response_error(&mut resp, &what), after));
        }
        if !resp.status().is_success() {
            let mut e = response_error(&mut resp, &what);
            if matches!(resp.status().as_u16(), 401 | 403) {
                e = e.with_hint(match self.credential_origin() {
                    Some(o) => format!("the token service refused the credentials from {o}"),
                    None => format!(
                        "no credentials for {} were found; log in or pass --authfile",
                        self.host
                    ),
                });
            }
            return Err(Fail::Fatal(e));
        }
        let raw = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| Fail::Fatal(Error::failure(format!("{what}: unreadable answer: {e}"))))?;
        let v: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| {
            Fail::Fatal(Error::failure(format!(
                "{what}: the answer is not JSON: {e}"
            )))
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                Fail::Fatal(Error::failure(format!("{what}: the answer holds no token")))
            })
    }

    /// `GET /v2/`: checks that a registry answers and settles authentication before the
    /// parallel work starts.
    pub fn ping(&self) -> Result<()> {
        let url = format!("{}/v2/", self.base);
        let (status, checked_repo) = self.with_retries(|_| {
            let (mut resp, generation) = self.send_once(Method::GET, &url, &[], None)?;
            if resp.status().as_u16() == 401 {
                drain(&mut resp);
                self.answer_challenge(&resp, generation)?;
                // Check the new credentials against the repository itself.
                let mut r = self.send_authed(Method::GET, &self.url("tags/list?n=1"), &[], None)?;
                drain(&mut r);
                return Ok((r.status().as_u16(), true));
            }
            if let Some(after) = transient_status(&resp) {
                return Err(Fail::Retry(
                    response_error(&mut resp, &format!("GET {url}")),
                    after,
                ));
            }
            drain(&mut resp);
            Ok((resp.status().as_u16(), false))
        })?;
        match status {
            200..=299 => Ok(()),
            404 if checked_repo => Ok(()), // a repository that does not exist yet
            400 if self.plain_http => Err(Error::failure(format!("{url}: 400 Bad Request"))
                .with_hint("the server may want HTTPS; drop --plain-http")),
            401 | 403 => Err(Error::failure(format!(
                "{}: access to {} denied ({status})",
                self.host, self.repo
            ))
            .with_hint(match self.credential_origin() {
                Some(o) => format!("check the credentials from {o}"),
                None => "log in (skopeo login / docker login) or pass --authfile".into(),
            })),
            _ => Err(Error::failure(format!("{url}: unexpected status {status}"))
                .with_hint("is this an OCI distribution registry?")),
        }
    }
}

/// Read and discard a (small) body so the connection returns to the pool.
pub(crate) fn drain(resp: &mut HttpResponse) {
    let _ = std::io::copy(
        &mut resp.body_mut().as_reader().take(1 << 20),
        &mut std::io::sink(),
    );
}

/// `Some(retry_after)` for statuses worth retrying: 408, 429, 500, 502, 503, 504.
pub(crate) fn transient_status(resp: &HttpResponse) -> Option<Option<Duration>> {
    match resp.status().as_u16() {
        408 | 429 | 500 | 502 | 503 | 504 => Some(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        ),
        _ => None,
    }
}

/// Strip query strings (upload state tokens) from URLs shown in messages.
pub(crate) fn redact_url(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Classify a ureq error: connection problems are transient, TLS and name errors not.
pub(crate) fn transport_error(what: &str, e: ureq::Error, plain_http: bool) -> Fail {
    let msg = format!("{what}: {e}");
    // rustls errors during the handshake arrive wrapped in io::Error.
    let tls_in_io = matches!(&e, ureq::Error::Io(io) if io.get_ref().is_some_and(|inner| {
        let m = inner.to_string();
        m.contains("corrupt message") || m.contains("certificate") || m.contains("alert")
            || m.contains("peer is incompatible") || m.contains("peer misbehaved")
    }));
    if tls_in_io {
        let hint = if msg.contains("corrupt message") {
            "the server does not speak TLS here; if the registry is plain HTTP, use --plain-http"
        } else {
            "if the registry uses a private CA pass --ca-cert FILE; --insecure skips verification"
        };
        return Fail::Fatal(Error::failure(msg).with_hint(hint));
    }
    match e {
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::Protocol(_) => Fail::Retry(Error::failure(msg), None),
        ureq::Error::HostNotFound => {
            Fail::Fatal(Error::failure(msg).with_hint("check the registry host name"))
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
            let hint = if plain_http {
                "a TLS problem on a plain HTTP session: check the URL"
            } else {
                "if the registry uses a private CA pass --ca-cert FILE; if it speaks plain HTTP use --plain-http; --insecure skips verification"
            };
            Fail::Fatal(Error::failure(msg).with_hint(hint))
        }
        _ => Fail::Fatal(Error::failure(msg)),
    }
}

/// An error from a non-success response, with the registry's error codes.
pub(crate) fn response_error(resp: &mut HttpResponse, what: &str) -> Error {
    let status = resp.status();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    let mut detail = String::new();
    let mut raw_errors = None;
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        if let Some(errs) = v.get("errors").and_then(|e| e.as_array()) {
            let parts: Vec<String> = errs
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("?");
                    let m = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
                    format!("{code}: {m}")
                })
                .collect();
            // The registry's words are foreign text: quoted on one line in the message
            // (no escape sequences, no forged lines), exact in `details` for --json.
            detail = crate::text::escape(&parts.join("; ")).into_owned();
            raw_errors = Some(errs.clone());
        }
    }
    let mut e = Error::failure(if detail.is_empty() {
        format!("{what}: {status}")
    } else {
        format!("{what}: {status}: {detail}")
    });
    if let Some(errs) = raw_errors {
        e = e.with_details(serde_json::json!({ "registry_errors": errs }));
    }
    e = match status.as_u16() {
        401 | 403 => e.with_hint("check your credentials and your rights on the repository"),
        404 if detail.contains("NAME_UNKNOWN") => e.with_hint("check the repository name"),
        413 => e.with_hint("the registry refused the size of this request"),
        _ => e,
    };
    e
}
