//! A test PKI: a CA made by OpenSSL in the test, a server certificate for `localhost` and
//! 127.0.0.1 signed by it, written as PEM files (for Sekisho's own HTTPS and the relying app's).

use crate::common::ok;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};

pub fn ec_key() -> PKey<Private> {
    let group = ok(EcGroup::from_curve_name(Nid::X9_62_PRIME256V1));
    ok(PKey::from_ec_key(ok(EcKey::generate(&group))))
}

fn certificate(cn: &str, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>) -> X509 {
    let mut name = ok(X509NameBuilder::new());
    ok(name.append_entry_by_text("CN", cn));
    let name = name.build();
    let mut b = ok(X509::builder());
    ok(b.set_version(2));
    let mut serial = ok(BigNum::new());
    ok(serial.rand(64, MsbOption::MAYBE_ZERO, false));
    let serial = ok(serial.to_asn1_integer());
    ok(b.set_serial_number(&serial));
    ok(b.set_subject_name(&name));
    ok(b.set_pubkey(key));
    let (from, until) = (
        ok(Asn1Time::days_from_now(0)),
        ok(Asn1Time::days_from_now(2)),
    );
    ok(b.set_not_before(&from));
    ok(b.set_not_after(&until));
    match issuer {
        None => {
            ok(b.set_issuer_name(&name));
            ok(b.append_extension(ok(BasicConstraints::new().critical().ca().build())));
            ok(b.append_extension(ok(KeyUsage::new().key_cert_sign().crl_sign().build())));
            ok(b.sign(key, MessageDigest::sha256()));
        }
        Some((ca, ca_key)) => {
            ok(b.set_issuer_name(ca.subject_name()));
            let san = ok(SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&b.x509v3_context(Some(ca), None)));
            ok(b.append_extension(san));
            ok(b.sign(ca_key, MessageDigest::sha256()));
        }
    }
    b.build()
}

/// A test CA and a server certificate for localhost, written as PEM files; the CA's PEM.
pub fn pki(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let ca_key = ec_key();
    let ca = certificate("Sekisho test CA", &ca_key, None);
    let key = ec_key();
    let cert = certificate("localhost", &key, Some((&ca, &ca_key)));
    let cert_file = dir.join("cert.pem");
    let key_file = dir.join("key.pem");
    let mut chain = ok(cert.to_pem());
    chain.extend(ok(ca.to_pem()));
    ok(std::fs::write(&cert_file, chain));
    ok(std::fs::write(
        &key_file,
        ok(key.private_key_to_pem_pkcs8()),
    ));
    (cert_file, key_file, ok(ca.to_pem()))
}

/// A TLS acceptor for localhost with a certificate of a new test CA, and the CA's PEM file (for
/// `oidc.backchannel_ca_file`): what a test's own HTTPS server (a client's back-channel
/// receiver, its `jwks_uri`) needs.
pub fn acceptor(dir: &std::path::Path) -> (tokio_rustls::TlsAcceptor, std::path::PathBuf) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key, ca) = pki(dir);
    let ca_file = dir.join("ca.pem");
    ok(std::fs::write(&ca_file, ca));
    let certs: Vec<CertificateDer<'static>> =
        ok(ok(CertificateDer::pem_file_iter(&cert)).collect::<Result<_, _>>());
    let key = ok(PrivateKeyDer::from_pem_file(&key));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config =
        ok(ok(rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions())
        .with_no_client_auth()
        .with_single_cert(certs, key));
    (
        tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
        ca_file,
    )
}
