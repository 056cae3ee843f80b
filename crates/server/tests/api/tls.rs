//! HTTPS served by Sekisho itself (issue 15 item 10): a test CA, a server certificate for
//! `localhost`, and real TLS clients (reqwest over rustls, OpenSSL for the refused versions).

use crate::common::*;
use crate::pki::{ec_key, pki};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::X509;
use sekisho_server::{Tls, Transport};
use std::time::Duration;
use tokio::io::AsyncReadExt;

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
