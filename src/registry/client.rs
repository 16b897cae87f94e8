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
//! A 401 or 403 from another host (an upload location or a redirect elsewhere) is
//! reported as that host's refusal, not as wrong credentials.
//!
//! Nothing waits forever: connecting (TCP and TLS) is bounded by
//! [`TransportOptions::connect_timeout`] (30 s), and every read and write of a
//! connection by [`TransportOptions::idle_timeout`] (60 s), so a stalled answer or body
//! fails while a slow but moving transfer of a large blob does not. A timeout is
//! transient (retried under `--retries`); a host name that does not resolve is not.

use super::auth::{self, Challenge, Credentials, Found};
use crate::error::{Error, RegistryCode, Result};
use rustls::pki_types::CertificateDer;
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
    /// Longest wait for a TCP connection (and the TLS handshake) to be set up.
    pub connect_timeout: Duration,
    /// Longest silence while waiting for or reading an answer, or while the server does
    /// not take more of a request body; also how long a credential helper may run.
    pub idle_timeout: Duration,
}

/// Default [`TransportOptions::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`TransportOptions::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl TransportOptions {
    pub fn new() -> Self {
        TransportOptions {
            retries: 5,
            backoff: Duration::from_millis(250),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            ..Default::default()
        }
    }

    /// `--timeout SECONDS`: the connect and the idle timeout both become `t`.
    pub fn with_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self.idle_timeout = t;
        self
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
    connect_timeout: Duration,
    idle_timeout: Duration,
    /// `--ca-cert` files were given (for the hints of certificate errors).
    ca_given: bool,
    /// Transient failures retried so far (for the summary).
    pub retried: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({}/{})", self.base, self.repo)
    }
}

/// The system's CA bundle (as OpenSSL finds it) and the certificates of the `extra`
/// files (`--ca-cert`), each possibly empty.
fn root_certs(extra: &[PathBuf]) -> Result<(Vec<Certificate<'static>>, Vec<Certificate<'static>>)> {
    fn add_pem(
        certs: &mut Vec<Certificate<'static>>,
        bytes: &[u8],
        what: &str,
        strict: bool,
    ) -> Result<usize> {
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
    }
    let mut system = Vec::new();
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
            if add_pem(&mut system, &bytes, &c.display().to_string(), false)? > 0 {
                break;
            }
        }
    }
    let mut given = Vec::new();
    for f in extra {
        let bytes = std::fs::read(f)
            .map_err(|e| Error::usage(format!("cannot read --ca-cert {}: {e}", f.display())))?;
        if add_pem(&mut given, &bytes, &f.display().to_string(), true)? == 0 {
            return Err(Error::usage(format!(
                "--ca-cert {}: no PEM certificate in the file",
                f.display()
            )));
        }
    }
    Ok((system, given))
}

/// An agent for `config` with the TLS `opts` ask for: ureq's own TLS with the system
/// roots (Mozilla's compiled in when the system has none); with `--ca-cert`, a
/// connector that also accepts those certificates as the server's own (see
/// [`super::tls`]).
fn agent(
    config: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    opts: &TransportOptions,
) -> Result<ureq::Agent> {
    let (system, given) = root_certs(&opts.ca_certs)?;
    if given.is_empty() || opts.insecure {
        let roots = if system.is_empty() {
            RootCerts::WebPki
        } else {
            RootCerts::new_with_certs(&system)
        };
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .disable_verification(opts.insecure)
            .build();
        return Ok(config.tls_config(tls).build().into());
    }
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
    let der = |c: &Certificate<'static>| CertificateDer::from(c.der().to_vec());
    let roots: Vec<CertificateDer<'static>> = system.iter().chain(&given).map(der).collect();
    let pinned = given.iter().map(der).collect();
    let tls = super::tls::PinningConnector {
        config: super::tls::pinning_config(&roots, pinned)?,
    };
    let connector =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(tls);
    Ok(ureq::Agent::with_parts(
        config.build(),
        connector,
        ureq::unversioned::resolver::DefaultResolver::default(),
    ))
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
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("oix/", env!("CARGO_PKG_VERSION")))
            .max_idle_connections_per_host(pool.max(1) * 2 + 2)
            .max_idle_connections(pool.max(1) * 4 + 8)
            .timeout_resolve(Some(nonzero(opts.connect_timeout)))
            .timeout_connect(Some(nonzero(opts.connect_timeout)))
            // Idle timeouts: each read or write of the connection (response headers,
            // body, TLS handshake) may wait this long; a slow but moving transfer of a
            // large blob is never cut.
            .timeout_per_read(Some(nonzero(opts.idle_timeout)))
            .timeout_per_write(Some(nonzero(opts.idle_timeout)))
            .max_redirects(10);
        let agent = agent(config, opts)?;
        let creds = auth::lookup(host, repo, opts.authfile.as_deref(), opts.idle_timeout)?;
        let scheme = if opts.plain_http { "http" } else { "https" };
        Ok(Client {
            agent,
            base: format!("{scheme}://{api_host}"),
            host: host.to_string(),
            repo: repo.to_string(),
            creds,
            scopes,
            auth: Mutex::new(AuthState::default()),
            plain_http: opts.plain_http,
            retries: opts.retries,
            backoff: opts.backoff,
            connect_timeout: opts.connect_timeout,
            ca_given: !opts.ca_certs.is_empty() && !opts.insecure,
            idle_timeout: opts.idle_timeout,
            retried: AtomicU64::new(0),
        })
    }

    /// Attempts after the first one for transient failures.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The idle timeout (for messages about reads that timed out).
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
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
                return Err(Error::remote(format!(
                    "the registry sent an upload location on plain HTTP (http://{rest}) for an HTTPS session"
                ))
                .with_hint("oix never downgrades silently; use --plain-http if the registry really is plain HTTP"));
            }
            return Ok(loc.to_string());
        }
        if loc.starts_with('/') {
            return Ok(format!("{}{loc}", self.base));
        }
        Err(Error::remote(format!(
            "the registry sent an unusable upload location {loc:?}"
        )))
    }

    /// A 401 or 403 answered by a host other than the registry's own (an upload
    /// location or a redirect elsewhere): oix never sends the registry's credentials
    /// there, so the user's credentials are not what was refused.
    pub(crate) fn foreign_refusal(
        &self,
        resp: &HttpResponse,
        url: &str,
        what: &str,
    ) -> Option<Error> {
        use ureq::ResponseExt;
        let status = resp.status().as_u16();
        if !matches!(status, 401 | 403) {
            return None;
        }
        let answered = resp.get_uri().to_string();
        let foreign = if !self.same_origin(url) {
            url.to_string()
        } else if !answered.is_empty() && answered.contains("://") && !self.same_origin(&answered) {
            answered
        } else {
            return None;
        };
        let other = url_host(&foreign).to_string();
        Some(
            Error::remote(format!(
                "{what}: {other} refused the request ({status}); it is not {} (the registry), and oix does not send the registry's credentials to another host",
                url_host(&self.base)
            ))
            .with_hint(format!(
                "the registry sent oix to {other} (an upload Location or a redirect): configure the registry (or its reverse proxy) to hand out locations on its own host, or let {other} accept requests without credentials"
            )),
        )
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
                        let n = attempt + 1;
                        let s = if n == 1 { "" } else { "s" };
                        return Err(e.context(format!("gave up after {n} attempt{s}")));
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
                    .map_err(|e| Error::remote(format!("{what}: {e}")))?;
                self.agent.run(req)
            }
            None => {
                let has_len = headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
                let req = b
                    .body(())
                    .map_err(|e| Error::remote(format!("{what}: {e}")))?;
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
            Err(e) => Err(self.transport_error(&what, url, e)),
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
            let what = format!("{method} {}", redact_url(url));
            if let Some(e) = self.foreign_refusal(&resp, url, &what) {
                drain(&mut resp);
                return Err(Fail::Fatal(e));
            }
            if status == 401 && rounds < 2 && self.same_origin(url) {
                rounds += 1;
                drain(&mut resp);
                self.answer_challenge(&resp, generation)?;
                continue;
            }
            if let Some(after) = transient_status(&resp) {
                let e = response_error(&mut resp, &what);
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
                Error::remote(format!(
                    "{}: 401 Unauthorized without a challenge",
                    self.base
                ))
                .with_hint(hint_creds()),
            ));
        };
        let header = match ch.scheme.as_str() {
            "basic" => {
                let Some(h) = self.creds.as_ref().and_then(|f| f.basic_header()) else {
                    return Err(Fail::Fatal(
                        Error::remote(format!("{}: authentication required (Basic)", self.host))
                            .with_hint(hint_creds()),
                    ));
                };
                if st.header.as_deref() == Some(h.as_str()) {
                    return Err(Fail::Fatal(
                        Error::remote(format!(
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
                            Error::remote(format!(
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
                return Err(Fail::Fatal(Error::remote(format!(
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
            Fail::Fatal(Error::remote(format!(
                "{}: bearer challenge without a realm",
                self.host
            )))
        })?;
        if !(realm.starts_with("https://") || (realm.starts_with("http://") && self.plain_http)) {
            return Err(Fail::Fatal(
                Error::remote(format!("{}: token realm {realm:?} is not HTTPS", self.host))
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
        let mut resp = resp.map_err(|e| self.transport_error(&what, realm, e))?;
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
            .map_err(|e| Fail::Fatal(Error::remote(format!("{what}: unreadable answer: {e}"))))?;
        let v: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| {
            Fail::Fatal(Error::remote(format!(
                "{what}: the answer is not JSON: {e}"
            )))
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Fail::Fatal(Error::remote(format!("{what}: the answer holds no token"))))
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
            400 if self.plain_http => Err(Error::remote(format!("{url}: 400 Bad Request"))
                .with_hint("the server may want HTTPS; drop --plain-http")),
            401 | 403 => Err(Error::remote(format!(
                "{}: access to {} denied ({status})",
                self.host, self.repo
            ))
            .with_hint(match self.credential_origin() {
                Some(o) => format!("check the credentials from {o}"),
                None => "log in (skopeo login / docker login) or pass --authfile".into(),
            })),
            _ => Err(Error::remote(format!("{url}: unexpected status {status}"))
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

/// `host[:port]` of an absolute URL, for messages.
pub(crate) fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split(['/', '?']).next().unwrap_or(rest);
    auth.rsplit('@').next().unwrap_or(auth)
}

/// Whether an I/O error is the system resolver failing to find a host name (std's
/// `to_socket_addrs` reports getaddrinfo failures this way).
fn is_name_resolution(e: &std::io::Error) -> bool {
    e.to_string()
        .contains("failed to lookup address information")
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// Ureq rejects zero durations as "already expired"; keep a tiny floor.
fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

/// The hint of every timeout message.
const TIMEOUT_HINT: &str = "check that the registry is up and reachable; --timeout SECONDS (or `timeout:` of a plan destination) changes the limit (defaults: 30 s to connect, 60 s of silence)";

impl Client {
    /// Classify a ureq error on a request to `url`: connection problems and timeouts
    /// are transient; TLS errors and host names that do not resolve are not (another
    /// attempt cannot help).
    pub(crate) fn transport_error(&self, what: &str, url: &str, e: ureq::Error) -> Fail {
        let (plain_http, connect, idle) =
            (self.plain_http, self.connect_timeout, self.idle_timeout);
        let host = url_host(url);
        let msg = format!("{what}: {e}");
        if let ureq::Error::Timeout(t) = &e {
            let why = match t {
                ureq::Timeout::Resolve => format!(
                    "timed out looking up the host name of {host} (DNS) within {}",
                    secs(connect)
                ),
                ureq::Timeout::Connect => {
                    let tls = if plain_http { "" } else { " and TLS handshake" };
                    format!(
                        "timed out connecting to {host}: no connection{tls} within {}",
                        secs(connect)
                    )
                }
                ureq::Timeout::PerWrite | ureq::Timeout::SendRequest | ureq::Timeout::SendBody => {
                    format!("timed out: {host} took no data for {}", secs(idle))
                }
                _ => format!("timed out: {host} sent nothing for {}", secs(idle)),
            };
            return Fail::Retry(
                Error::remote(format!("{what}: {why}")).with_hint(TIMEOUT_HINT),
                None,
            );
        }
        if matches!(&e, ureq::Error::Io(io) if is_name_resolution(io))
            || matches!(e, ureq::Error::HostNotFound)
        {
            let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
            return Fail::Fatal(
            Error::remote(format!("{what}: cannot resolve the host name {name:?}: {e}"))
                .with_hint("check the registry host name in the reference and the machine's DNS settings (name lookups are not retried)"),
        );
        }
        // rustls errors during the handshake arrive wrapped in io::Error.
        let tls_in_io = match &e {
            ureq::Error::Io(io) => io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
            _ => None,
        };
        match tls_in_io {
            // Not a TLS record at all (an HTTP answer, say).
            Some(rustls::Error::InvalidMessage(_)) => {
                return Fail::Fatal(Error::remote(msg).with_hint(
                "the server does not speak TLS here; if the registry is plain HTTP, use --plain-http",
            ));
            }
            Some(
                rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::InvalidCertRevocationList(_)
                | rustls::Error::AlertReceived(_)
                | rustls::Error::PeerIncompatible(_)
                | rustls::Error::PeerMisbehaved(_),
            ) => return Fail::Fatal(self.certificate_error(msg)),
            _ => {}
        }
        match e {
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => Fail::Retry(
                Error::remote(format!("{what}: timed out waiting for {host}"))
                    .with_hint(TIMEOUT_HINT),
                None,
            ),
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => {
                Fail::Retry(Error::remote(msg), None)
            }
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
                if plain_http {
                    Fail::Fatal(
                        Error::remote(msg)
                            .with_hint("a TLS problem on a plain HTTP session: check the URL"),
                    )
                } else {
                    Fail::Fatal(self.certificate_error(msg))
                }
            }
            _ => Fail::Fatal(Error::remote(msg)),
        }
    }

    /// A refused server certificate, with a hint that fits what was given.
    fn certificate_error(&self, msg: String) -> Error {
        let self_signed = msg.contains("CaUsedAsEndEntity");
        let mut e = Error::remote(if self_signed {
            format!("{msg} (the registry presents a self-signed CA certificate as its own)")
        } else {
            msg
        });
        e = if self.ca_given {
            e.with_hint("the registry's certificate is neither one of the --ca-cert files nor signed by one of them (or does not name this host): check that the file is the registry's own certificate or its CA; --insecure skips verification")
        } else if self_signed {
            e.with_hint("if you trust it, pass that certificate file with --ca-cert FILE (oix accepts a certificate given this way as the server's own); --insecure skips verification")
        } else {
            e.with_hint(TLS_HINT)
        };
        e
    }
}

/// The hint of certificate failures.
const TLS_HINT: &str = "if the registry's certificate comes from a private CA, or is a self-signed certificate of its own, pass that file with --ca-cert FILE; if it speaks plain HTTP use --plain-http; --insecure skips verification";

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
    let mut codes = Vec::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        if let Some(errs) = v.get("errors").and_then(|e| e.as_array()) {
            let parts: Vec<String> = errs
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("?");
                    codes.push(RegistryCode::parse(code));
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
    let message = if detail.is_empty() {
        format!("{what}: {status}")
    } else {
        format!("{what}: {status}: {detail}")
    };
    let mut e = Error::registry(message, status.as_u16(), codes);
    if let Some(errs) = raw_errors {
        e = e.with_details(serde_json::json!({ "registry_errors": errs }));
    }
    e = match status.as_u16() {
        401 | 403 => e.with_hint("check your credentials and your rights on the repository"),
        404 if e.has_registry_code(&RegistryCode::NameUnknown) => {
            e.with_hint("check the repository name")
        }
        413 => e.with_hint("the registry refused the size of this request"),
        _ => e,
    };
    e
}
