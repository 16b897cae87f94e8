//! Building the HTTP agent: the system's and `--ca-cert` roots, TLS verification or
//! pinning ([`super::super::tls`]), and the timeout floor ureq needs.

use super::TransportOptions;
use crate::error::{Error, Result};
use rustls::pki_types::CertificateDer;
use std::path::PathBuf;
use std::time::Duration;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

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
/// [`super::super::tls`]).
pub(super) fn agent(
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
    let tls = super::super::tls::PinningConnector {
        config: super::super::tls::pinning_config(&roots, pinned)?,
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

/// Ureq rejects zero durations as "already expired"; keep a tiny floor.
pub(super) fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}
