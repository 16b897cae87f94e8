//! Error classification: ureq failures (timeouts, name resolution, TLS) and non-success
//! responses turned into [`Error`]s that are transient (retried) or fatal, with hints;
//! URLs redacted in messages.

use super::{Client, Fail, HttpResponse};
use crate::error::{Error, RegistryCode};
use std::io::Read;
use std::time::Duration;

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
        // Through a proxy from the environment, connection failures say so.
        let proxied = self.proxy.as_ref().filter(|(p, _)| {
            url.parse::<ureq::http::Uri>()
                .is_ok_and(|u| !p.is_no_proxy(&u))
        });
        let msg = match proxied {
            Some((_, note)) => format!("{msg} (through the proxy {note})"),
            None => msg,
        };
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
                err @ (rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::InvalidCertRevocationList(_)
                | rustls::Error::AlertReceived(_)
                | rustls::Error::PeerIncompatible(_)
                | rustls::Error::PeerMisbehaved(_)),
            ) => return Fail::Fatal(self.certificate_error(msg, Some(err))),
            _ => {}
        }
        match e {
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => Fail::Retry(
                Error::remote(format!("{what}: timed out waiting for {host}"))
                    .with_hint(TIMEOUT_HINT),
                None,
            ),
            ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) => {
                let e = Error::remote(msg);
                Fail::Retry(
                    match proxied {
                        Some(_) => e.with_hint("check that the proxy is up and lets CONNECT through to the registry, or list the registry's host in NO_PROXY"),
                        None => e,
                    },
                    None,
                )
            }
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => {
                if plain_http {
                    Fail::Fatal(
                        Error::remote(msg)
                            .with_hint("a TLS problem on a plain HTTP session: check the URL"),
                    )
                } else {
                    Fail::Fatal(self.certificate_error(msg, None))
                }
            }
            _ => Fail::Fatal(Error::remote(msg)),
        }
    }

    /// A refused server certificate (or a client certificate the server refused or
    /// missed), with a hint that fits what was given.
    fn certificate_error(&self, msg: String, err: Option<&rustls::Error>) -> Error {
        use rustls::AlertDescription as A;
        if let Some(rustls::Error::AlertReceived(alert)) = err {
            let host = url_host(&self.base);
            match (alert, &self.tls.client) {
                (A::CertificateRequired | A::HandshakeFailure | A::BadCertificate, None) => {
                    return Error::remote(format!(
                        "{host} requires a client certificate (mutual TLS) and oix has none for it: {msg}"
                    ))
                    .with_hint(self.tls.where_to_put_client_cert());
                }
                (
                    A::BadCertificate
                    | A::UnknownCA
                    | A::CertificateUnknown
                    | A::CertificateExpired
                    | A::CertificateRevoked
                    | A::UnsupportedCertificate
                    | A::AccessDenied,
                    Some((cert, _)),
                ) => {
                    return Error::remote(format!(
                        "{host} refused the client certificate {}: {msg}",
                        cert.display()
                    ))
                    .with_hint(
                        "check that the certificate is valid today and signed by a CA the registry trusts for clients (distribution's http.tls.clientcas)",
                    );
                }
                _ => {}
            }
        }
        let self_signed = msg.contains("CaUsedAsEndEntity");
        let mut e = Error::remote(if self_signed {
            format!("{msg} (the registry presents a self-signed CA certificate as its own)")
        } else {
            msg
        });
        let certs_d = self
            .tls
            .dir
            .as_ref()
            .filter(|_| !self.tls.ca_files.is_empty());
        e = if let (Some(d), false) = (certs_d, self.ca_given) {
            e.with_hint(format!("the registry's certificate is neither one of the *.crt files of {} nor signed by one of them (or does not name this host): check that they hold the registry's CA; --insecure skips verification", d.display()))
        } else if self.ca_given {
            e.with_hint("the registry's certificate is neither one of the --ca-cert files nor signed by one of them (or does not name this host): check that the file is the registry's own certificate or its CA; --insecure skips verification")
        } else if self_signed {
            e.with_hint("if you trust it, pass that certificate file with --ca-cert FILE (oix accepts a certificate given this way as the server's own); --insecure skips verification")
        } else {
            let looked: Vec<String> = self
                .tls
                .looked_in
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            if looked.is_empty() {
                e.with_hint(TLS_HINT)
            } else {
                e.with_hint(format!(
                    "{TLS_HINT}; or put the CA certificate as NAME.crt in a certs.d directory (looked in {})",
                    looked.join(", ")
                ))
            }
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
