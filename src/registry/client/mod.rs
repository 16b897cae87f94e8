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
//!
//! Files: this one holds the [`Client`], its requests and retries; `transport` builds
//! the agent (TLS setup); `challenge` answers authentication challenges; `errors`
//! classifies failures.

use super::auth::{self, Found};
use crate::error::{Error, Result};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use ureq::http::{self, Method, Response};

pub mod certs;
mod challenge;
mod errors;
mod transport;

pub(crate) use errors::*;
use transport::{agent, env_proxy, host_tls, nonzero};

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
    /// `--cert-dir`: the certs.d directory to use instead of the default
    /// `…/certs.d/HOST[:PORT]` lookups ([`certs`]).
    pub cert_dir: Option<PathBuf>,
    /// `--client-cert`: a client certificate (PEM) for mutual TLS, with `client_key`.
    pub client_cert: Option<PathBuf>,
    /// `--client-key`: the private key (PEM) of `client_cert`.
    pub client_key: Option<PathBuf>,
    /// Only this auth file (containers auth.json or docker config.json).
    pub authfile: Option<PathBuf>,
    /// `--creds` (or `oix login`'s): credentials for this run, used instead of any
    /// auth file, with where they came from (for messages; never the secret).
    pub credentials: Option<Found>,
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

    /// The TLS material for `host` (`HOST[:PORT]`): `--ca-cert` and certs.d CA files,
    /// the client certificate pair (see [`certs`]).
    pub fn host_tls(&self, host: &str) -> Result<certs::HostTls> {
        host_tls(host, self)
    }

    /// `--timeout SECONDS`: the connect and the idle timeout both become `t`.
    pub fn with_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self.idle_timeout = t;
        self
    }
}

/// `oix login`: check `opts.credentials` against the registry at `host` (`HOST[:PORT]`;
/// Docker Hub's `docker.io` is reached at its API host). `Ok(false)`: the registry
/// answered without asking for credentials, so they could not be checked.
pub fn verify_login(host: &str, opts: &TransportOptions) -> Result<bool> {
    use super::reference::{DOCKER_HUB, DOCKER_HUB_API};
    let api = if host == DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        host
    };
    Client::new(api, host, "", Vec::new(), opts, 1)?.check_login()
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
    /// The TLS material used (certs.d directory, client pair), for hints.
    tls: certs::HostTls,
    /// The proxy from the environment and its description, for messages.
    proxy: Option<(ureq::Proxy, String)>,
    /// Transient failures retried so far (for the summary).
    pub retried: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Client({}/{})", self.base, self.repo)
    }
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
        let proxy = env_proxy(!opts.plain_http)?;
        let config = config.proxy(proxy.as_ref().map(|(p, _)| p.clone()));
        let tls = host_tls(host, opts)?;
        let agent = agent(config, opts, &tls)?;
        let creds = match &opts.credentials {
            Some(f) => Some(f.clone()),
            None => auth::lookup(host, repo, opts.authfile.as_deref(), opts.idle_timeout)?,
        };
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
            tls,
            proxy,
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

    /// `oix login`: `GET /v2/`, answering the registry's challenge with the client's
    /// credentials (Basic, or a token from the realm); Ok when the registry accepts them,
    /// with whether it asked for credentials at all (`false`: they were not checked).
    pub fn check_login(&self) -> Result<bool> {
        let url = format!("{}/v2/", self.base);
        let mut resp = self.with_retries(|_| self.send_authed(Method::GET, &url, &[], None))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            drain(&mut resp);
            let challenged = self
                .auth
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .header
                .is_some();
            return Ok(challenged);
        }
        if matches!(status, 401 | 403) {
            drain(&mut resp);
            return Err(Error::remote(format!(
                "{}: the registry refused the credentials ({status})",
                self.host
            ))
            .with_hint(format!(
                "check the user name and password ({}); nothing was stored",
                self.credential_origin().unwrap_or("none given")
            )));
        }
        Err(response_error(&mut resp, &format!("GET {url}"))
            .with_hint("is this an OCI distribution registry?"))
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
                None => "log in (oix login HOST, or skopeo/docker login), pass --authfile, or --creds USER".into(),
            })),
            _ => Err(Error::remote(format!("{url}: unexpected status {status}"))
                .with_hint("is this an OCI distribution registry?")),
        }
    }
}
