//! TLS for `--ca-cert`: the files are trusted as CAs, and a certificate in them is also
//! accepted as the server's own certificate (pinned).
//!
//! A plain `openssl req -x509` certificate is self-signed and says `CA:TRUE`; webpki
//! (rustls's verifier) refuses it as the certificate of a server (`CaUsedAsEndEntity`)
//! even when it is a trust anchor. skopeo/Go accept it when it is in the trust store.
//! oix does the same, narrowly: the normal verification runs first (system roots plus
//! the `--ca-cert` files); only when it fails is the server's certificate compared
//! byte for byte with the given ones. On an exact match the host name must still be
//! one the certificate names (subjectAltName), and the handshake signature is checked
//! against the certificate's key as always, so only the holder of the key passes.
//! The validity dates of a pinned certificate are not checked: the user pinned it.
//!
//! ureq offers no hook for a custom verifier, so this module is a small TLS connector
//! in ureq's connector chain (proxy CONNECT, TCP, then this), used when CA files
//! (`--ca-cert`, certs.d `*.crt`) or a client certificate (mutual TLS) are given; the
//! certs.d CA files are treated exactly as `--ca-cert` files.

use crate::error::{Error, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use std::io::{Read, Write};
use std::sync::Arc;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// Verification with the roots, then an exact match with a pinned certificate.
#[derive(Debug)]
struct PinningVerifier {
    roots: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let err = match self.roots.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Err(err);
        }
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client certificate chain, its key, and the certificate file (for messages).
pub(crate) type ClientIdentity = (
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
    std::path::PathBuf,
);

/// The rustls client configuration: `roots` (system plus `--ca-cert` and certs.d) as
/// trust anchors, `pinned` (the `--ca-cert` and certs.d certificates) accepted on exact
/// match, and the client certificate presented when the server asks for one.
pub(crate) fn pinning_config(
    roots: &[CertificateDer<'static>],
    pinned: Vec<CertificateDer<'static>>,
    client: Option<ClientIdentity>,
) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut store = RootCertStore::empty();
    // Certificates webpki cannot use as anchors are skipped (they may still be pinned).
    let _ = store.add_parsable_certificates(roots.iter().cloned());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
        .build()
        .map_err(|e| {
            Error::usage(format!(
                "TLS setup: no usable CA certificate (system bundle, --ca-cert, certs.d): {e}"
            ))
        })?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::failure(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinningVerifier {
            roots: verifier,
            pinned,
            provider,
        }));
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((chain, key, file)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            Error::usage(format!(
                "client certificate {}: cannot be used with its key: {e}",
                file.display()
            ))
            .with_hint("check that the key file is the private key of this certificate")
        })?,
    };
    Ok(Arc::new(config))
}

/// The TLS step of the connector chain, with [`pinning_config`].
#[derive(Debug)]
pub(crate) struct PinningConnector {
    pub config: Arc<ClientConfig>,
}

impl<In: Transport> Connector<In> for PinningConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let name =
            ServerName::try_from(host).map_err(|_| ureq::Error::Tls("invalid TLS server name"))?;
        let mut conn = ClientConnection::new(self.config.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// A TLS connection made by [`PinningConnector`].
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let out = &self.buffers.output()[..amount];
        self.stream.write_all(out)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let n = self.stream.read(input)?;
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
