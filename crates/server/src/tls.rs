//! HTTPS served by Sekisho itself (`tls.cert_file`, `tls.key_file`): rustls with its `ring`
//! provider, TLS 1.2 and 1.3 only, HTTP/1.1 by ALPN. Behind a proxy that ends TLS, leave it
//! unset and serve plain HTTP as before.

use axum::http::HeaderValue;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// A TLS acceptor made from the configured certificate chain and key.
#[derive(Clone)]
pub struct Tls {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
    /// The `Strict-Transport-Security` value sent with every answer (none when 0 is set).
    pub(crate) hsts: Option<HeaderValue>,
    /// What it was made from (for logs and equality).
    source: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("source", &self.source).finish()
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.hsts == other.hsts
    }
}

impl Eq for Tls {}

impl Tls {
    /// Reads a PEM certificate chain (the server's certificate first, then intermediates) and a
    /// PEM private key (PKCS#8 RSA, EC or Ed25519; also PKCS#1 RSA and SEC1 EC), and checks that
    /// they belong together. `hsts_max_age_secs` 0 sends no HSTS header.
    pub fn from_pem_files(
        cert_file: &Path,
        key_file: &Path,
        hsts_max_age_secs: u64,
    ) -> Result<Tls, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
            .map_err(|e| format!("tls.cert_file {}: {e}", cert_file.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("tls.cert_file {}: {e}", cert_file.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "tls.cert_file {}: no certificate (PEM `BEGIN CERTIFICATE`) in it",
                cert_file.display()
            ));
        }
        let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
            format!(
                "tls.key_file {}: no private key read ({e}); a PEM PKCS#8 key (`BEGIN PRIVATE KEY`) is expected",
                key_file.display()
            )
        })?;
        Tls::from_der(
            certs,
            key,
            hsts_max_age_secs,
            format!("{} + {}", cert_file.display(), key_file.display()),
        )
    }

    /// The same from certificates and a key in memory (DER).
    pub fn from_der(
        certs: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        hsts_max_age_secs: u64,
        source: String,
    ) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| {
                format!("tls.cert_file and tls.key_file do not make a usable pair: {e}")
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let hsts = (hsts_max_age_secs > 0)
            .then(|| HeaderValue::from_str(&format!("max-age={hsts_max_age_secs}")))
            .transpose()
            .map_err(|e| format!("tls.hsts_max_age_secs: {e}"))?;
        Ok(Tls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            hsts,
            source,
        })
    }
}
