//! A client registered with `jwks_uri` only authenticates with `private_key_jwt`: its key set is
//! fetched over HTTPS from a real TLS server of the test (a test CA), kept for
//! `oidc.jwks_cache_secs`, fetched again once for an unknown `kid` (a rotated key) and when the
//! kept set is too old; a server that answers badly authenticates no one.

use crate::common::{ok, spawn_with, Options, TestApp};
use crate::oidc_flow::{assertion_by, CHALLENGE, TRADE_CB};
use crate::oidc_tokens::{client_jwt, form_post_dpop, JTI};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::{Method, StatusCode};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn jwk(seed: u8, kid: &str) -> Value {
    let x = Ed25519KeyPair::from_seed_unchecked(&[seed; 32])
        .map(|k| URL_SAFE_NO_PAD.encode(k.public_key().as_ref()))
        .unwrap_or_default();
    json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid})
}

/// An HTTPS server answering every GET with `body` (read per request); counts the requests.
async fn jwks_server(
    dir: &std::path::Path,
    body: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
) -> (u16, std::path::PathBuf) {
    let (acceptor, ca_file) = crate::pki::acceptor(dir);
    let listener = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    let port = ok(listener.local_addr()).port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, body, hits) = (acceptor.clone(), body.clone(), hits.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                hits.fetch_add(1, Ordering::SeqCst);
                let text = body.lock().map(|b| b.clone()).unwrap_or_default();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, ca_file)
}

/// A pushed request authenticated with an assertion by the key of `seed` named `kid`.
async fn push(app: &TestApp, id: &str, seed: u8, kid: &str) -> (StatusCode, Value) {
    let jti = format!("ju-{}", JTI.fetch_add(1, Ordering::Relaxed));
    let a = assertion_by(app, id, &jti, &[seed; 32], kid);
    let mut form = vec![
        ("response_type", "code"),
        ("redirect_uri", TRADE_CB),
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    form.extend(client_jwt(id, &a));
    form_post_dpop(app, "/oidc/par", None, None, &form).await
}

#[tokio::test]
async fn a_client_with_only_a_jwks_uri_authenticates_with_its_fetched_keys() {
    let dir = ok(tempfile::tempdir());
    let body = Arc::new(Mutex::new(json!({"keys": [jwk(5, "t1")]}).to_string()));
    let hits = Arc::new(AtomicUsize::new(0));
    let (port, ca_file) = jwks_server(dir.path(), body.clone(), hits.clone()).await;
    let app = spawn_with(Options {
        settings: vec![(
            "oidc.backchannel_ca_file",
            ca_file.display().to_string().into(),
        )],
        ..Options::default()
    })
    .await;
    let r = app
        .admin(
            Method::POST,
            "/oidc/clients",
            Some(json!({
                "client_name": "鍵URLアプリ",
                "redirect_uris": [TRADE_CB],
                "jwks_uri": format!("https://localhost:{port}/jwks.json"),
                "first_party": true,
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    let id = v["client_id"].as_str().unwrap_or_default().to_owned();

    // Fetched once, then kept.
    let (status, p) = push(&app, &id, 5, "t1").await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let (status, p) = push(&app, &id, 5, "t1").await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // A key the client has not published is refused (and, the set being fresh, not fetched).
    let (status, e) = push(&app, &id, 6, "t2").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
    assert_eq!(e["error"], "invalid_client");
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The client rotates its key: an assertion naming the new kid fetches the set again, once.
    if let Ok(mut b) = body.lock() {
        *b = json!({"keys": [jwk(6, "t2")]}).to_string();
    }
    app.clock.advance(11);
    let (status, p) = push(&app, &id, 6, "t2").await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // The old key is gone from the set: refused without another fetch right away.
    let (status, _) = push(&app, &id, 5, "t1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // Past oidc.jwks_cache_secs the set is fetched again; an answer that is no key set
    // authenticates no one.
    if let Ok(mut b) = body.lock() {
        *b = "<html>maintenance</html>".into();
    }
    app.clock.advance(300);
    let (status, e) = push(&app, &id, 6, "t2").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
    assert!(
        e["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("jwks_uri")),
        "{e}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}
