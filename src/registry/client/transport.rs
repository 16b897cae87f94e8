//! Building the HTTP agent: the system's, `--ca-cert` and certs.d roots, TLS
//! verification or pinning ([`super::super::tls`]), client certificates, the proxy from
//! the environment, and the timeout floor ureq needs.

use super::{certs, TransportOptions};
use crate::error::{Error, Result};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::time::Duration;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
use ureq::{Proxy, ProxyProtocol};

/// The system's CA bundle (as OpenSSL finds it) and the certificates of the `extra`
/// files (`--ca-cert`, certs.d `*.crt`), each possibly empty.
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
        let bytes = std::fs::read(f).map_err(|e| {
            Error::usage(format!("cannot read CA certificate {}: {e}", f.display()))
        })?;
        if add_pem(&mut given, &bytes, &f.display().to_string(), true)? == 0 {
            return Err(Error::usage(format!(
                "CA certificate {}: no PEM certificate in the file",
                f.display()
            )));
        }
    }
    Ok((system, given))
}

/// The certificates of a PEM file (`what` names it in messages, e.g. `--client-cert F`).
fn read_certs(path: &std::path::Path, what: &str) -> Result<Vec<Certificate<'static>>> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::usage(format!("cannot read {what} {}: {e}", path.display())))?;
    let mut v = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(c)) => v.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::usage(format!(
                    "{what} {}: not a PEM certificate file: {e}",
                    path.display()
                )))
            }
        }
    }
    if v.is_empty() {
        return Err(Error::usage(format!(
            "{what} {}: no PEM certificate in the file",
            path.display()
        )));
    }
    Ok(v)
}

/// The private key of a PEM file: PKCS#8 (`BEGIN PRIVATE KEY`), RSA PKCS#1 (`BEGIN RSA
/// PRIVATE KEY`) or EC SEC1 (`BEGIN EC PRIVATE KEY`), as openssl writes them; with the
/// file's bytes (ureq's own TLS takes the key as PEM).
fn read_key(path: &std::path::Path) -> Result<(Vec<u8>, PrivateKeyDer<'static>)> {
    use rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path)
        .map_err(|e| Error::usage(format!("cannot read client key {}: {e}", path.display())))?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(k) => Ok((bytes, k)),
        Err(_) => {
            let encrypted = String::from_utf8_lossy(&bytes).contains("ENCRYPTED");
            Err(Error::usage(format!(
                "client key {}: no unencrypted PEM private key in the file",
                path.display()
            ))
            .with_hint(if encrypted {
                "the key is encrypted: write a decrypted copy (openssl pkey -in KEY -out KEY.plain) and keep it private"
            } else {
                "give a PEM private key: PKCS#8 (BEGIN PRIVATE KEY), RSA (BEGIN RSA PRIVATE KEY) or EC (BEGIN EC PRIVATE KEY)"
            }))
        }
    }
}

/// The TLS material of `opts` for `host_port`: `--ca-cert` and certs.d CAs, the client
/// pair. Empty (and no file read) with `--plain-http`.
pub(super) fn host_tls(host_port: &str, opts: &TransportOptions) -> Result<certs::HostTls> {
    if opts.plain_http {
        return Ok(certs::HostTls::default());
    }
    certs::resolve(
        host_port,
        &opts.ca_certs,
        opts.cert_dir.as_deref(),
        opts.client_cert.as_deref(),
        opts.client_key.as_deref(),
    )
}

/// An agent for `config` with the TLS `tls` asks for: ureq's own TLS with the system
/// roots (Mozilla's compiled in when the system has none); with CA files (`--ca-cert`,
/// certs.d `*.crt`) or a client certificate, a connector that also accepts those CA
/// certificates as the server's own (see [`super::super::tls`]) and presents the client
/// certificate when the server asks for one.
pub(super) fn agent(
    config: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    opts: &TransportOptions,
    tls: &certs::HostTls,
) -> Result<ureq::Agent> {
    let (system, given) = root_certs(&tls.ca_files)?;
    let client = match &tls.client {
        Some((c, k)) => Some((read_certs(c, "client certificate")?, read_key(k)?)),
        None => None,
    };
    if opts.insecure || (given.is_empty() && client.is_none()) {
        let roots = if system.is_empty() {
            RootCerts::WebPki
        } else {
            RootCerts::new_with_certs(&system)
        };
        let tls = TlsConfig::builder()
            .root_certs(roots)
            .client_cert(match &client {
                Some((chain, (pem, _))) => Some(ClientCert::new_with_certs(
                    chain,
                    PrivateKey::from_pem(pem)
                        .map_err(|e| Error::usage(format!("client key: {e}")))?,
                )),
                None => None,
            })
            .disable_verification(opts.insecure)
            .build();
        return Ok(config.tls_config(tls).build().into());
    }
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
    let der = |c: &Certificate<'static>| CertificateDer::from(c.der().to_vec());
    let roots: Vec<CertificateDer<'static>> = system.iter().chain(&given).map(der).collect();
    let pinned = given.iter().map(der).collect();
    let client = match client {
        Some((chain, (_, key))) => {
            let file = tls
                .client
                .as_ref()
                .map(|(c, _)| c.clone())
                .unwrap_or_default();
            Some((chain.iter().map(der).collect(), key, file))
        }
        None => None,
    };
    let tls = super::super::tls::PinningConnector {
        config: super::super::tls::pinning_config(&roots, pinned, client)?,
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

/// The proxy for the registry's scheme from the environment, as curl and Go read it:
/// `HTTPS_PROXY` (or `https_proxy`) for HTTPS, `HTTP_PROXY` (or `http_proxy`) for
/// `--plain-http`, else `ALL_PROXY` (`all_proxy`); `NO_PROXY` (`no_proxy`) lists hosts
/// that are reached directly (exact names and addresses, `.suffix`, `*.suffix`, `*`).
/// ureq's own default would take `ALL_PROXY`, then `HTTPS_PROXY`, then `HTTP_PROXY`
/// whatever the scheme. The proxy is spoken to with `CONNECT` (TLS runs end to end).
/// Returns the proxy and, for messages, `HOST:PORT from $NAME` (never its password).
pub(super) fn env_proxy(https: bool) -> Result<Option<(Proxy, String)>> {
    let names: &[&str] = if https {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let Some((name, value)) = names.iter().find_map(|n| {
        std::env::var(n)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*n, v))
    }) else {
        return Ok(None);
    };
    let value = value.trim();
    let bad = |why: &str| {
        // The value may hold a proxy password: name the variable, never its value.
        Error::usage(format!("the proxy in ${name} is not usable: {why}")).with_hint(
            "write it as http://[USER:PASSWORD@]HOST:PORT (HTTP CONNECT proxies are supported)",
        )
    };
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let (scheme, rest) = with_scheme.split_once("://").unwrap_or(("http", ""));
    let protocol = match scheme.to_ascii_lowercase().as_str() {
        "http" => ProxyProtocol::Http,
        "https" => ProxyProtocol::Https,
        other => return Err(bad(&format!("the scheme {other:?} is not supported"))),
    };
    let authority = rest.split('/').next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
            let port: u16 = p.parse().map_err(|_| bad("the port is not a number"))?;
            (h, port)
        }
        _ => (
            hostport,
            if protocol == ProxyProtocol::Https {
                443
            } else {
                80
            },
        ),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let mut b = Proxy::builder(protocol).host(host).port(port);
    if let Some(u) = userinfo {
        let (user, pass) = u.split_once(':').unwrap_or((u, ""));
        b = b.username(user);
        if !pass.is_empty() {
            b = b.password(pass);
        }
    }
    for n in ["NO_PROXY", "no_proxy"] {
        if let Ok(v) = std::env::var(n) {
            for e in v.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                b = b.no_proxy(e);
            }
            break;
        }
    }
    let note = format!("{host}:{port} from ${name}");
    b.build()
        .map(|p| Some((p, note)))
        .map_err(|_| bad("ureq refused it"))
}

/// Ureq rejects zero durations as "already expired"; keep a tiny floor.
pub(super) fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}
