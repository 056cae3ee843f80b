//! HTTPS served by Sekisho itself (issue 15 item 10): a test CA, a server certificate for
//! `localhost`, and real TLS clients (reqwest over rustls, OpenSSL for the refused versions).

use crate::common::*;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};
use sekisho_server::{Tls, Transport};
use std::time::Duration;
use tokio::io::AsyncReadExt;

fn ec_key() -> PKey<Private> {
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
fn pki(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
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

fn https(app: &TestApp) -> String {
    app.url.replace("http://127.0.0.1", "https://localhost")
}

#[tokio::test]
async fn https_with_the_configured_certificate_and_hsts() {
    let dir = ok(tempfile::tempdir());
    let (cert, key, ca) = pki(dir.path());
    let tls = ok(Tls::from_pem_files(&cert, &key, 31_536_000));
    let app = spawn_with(Options {
        transport: Transport {
            tls: Some(tls),
            header_read_timeout: Duration::from_secs(1),
            ..Transport::default()
        },
        ..Options::default()
    })
    .await;
    let client = ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ok(reqwest::Certificate::from_pem(&ca)))
        .build());
    let r = ok(client.get(format!("{}/healthz", https(&app))).send().await);
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let r = ok(client.get(format!("{}/login", https(&app))).send().await);
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(r.headers().contains_key("strict-transport-security"));

    // A client that does not trust the test CA refuses the server.
    let stranger = ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build());
    assert!(stranger
        .get(format!("{}/healthz", https(&app)))
        .send()
        .await
        .is_err());

    // Plain HTTP on the TLS port gets no answer.
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", app.url))
        .send()
        .await;
    assert!(r.map(|r| !r.status().is_success()).unwrap_or(true));

    // TLS 1.1 and older are refused (TLS 1.2+ only); TLS 1.2 is served.
    let handshake = |max: SslVersion| {
        let port = app.url.rsplit(':').next().unwrap_or_default().to_owned();
        let ca = ca.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = ok(SslConnector::builder(SslMethod::tls_client()));
            ok(c.set_max_proto_version(Some(max)));
            ok(c.set_min_proto_version(None));
            c.set_verify(SslVerifyMode::PEER);
            ok(c.cert_store_mut().add_cert(ok(X509::from_pem(&ca))));
            let c = c.build();
            let tcp = ok(std::net::TcpStream::connect(format!("127.0.0.1:{port}")));
            c.connect("localhost", tcp)
                .map(|s| s.ssl().version_str().to_owned())
        })
    };
    let v12 = ok(handshake(SslVersion::TLS1_2).await);
    assert_eq!(v12.ok().as_deref(), Some("TLSv1.2"));
    let v11 = ok(handshake(SslVersion::TLS1_1).await);
    assert!(v11.is_err(), "TLS 1.1 must be refused");

    // A client that opens a connection and never starts the handshake is shed by the
    // header-read timeout, as one stalling its headers is.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut s = ok(tokio::net::TcpStream::connect(addr).await);
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(4), s.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
}

#[tokio::test]
async fn a_key_that_is_not_the_certificates_is_refused_at_start() {
    let dir = ok(tempfile::tempdir());
    let (cert, _, _) = pki(dir.path());
    let other = dir.path().join("other.pem");
    ok(std::fs::write(
        &other,
        ok(ec_key().private_key_to_pem_pkcs8()),
    ));
    let e = Tls::from_pem_files(&cert, &other, 0)
        .err()
        .unwrap_or_default();
    assert!(e.contains("do not make a usable pair"), "{e}");
    let missing = dir.path().join("missing.pem");
    let e = Tls::from_pem_files(&missing, &other, 0)
        .err()
        .unwrap_or_default();
    assert!(e.contains("tls.cert_file"), "{e}");
    let e = Tls::from_pem_files(&cert, &cert, 0)
        .err()
        .unwrap_or_default();
    assert!(e.contains("tls.key_file"), "{e}");
}
