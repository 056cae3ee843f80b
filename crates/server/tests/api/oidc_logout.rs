//! Sessions and logout at the OpenID Connect provider (issue 15, items 7 and 8): RP-initiated
//! logout with a valid, expired, foreign or missing `id_token_hint` and registered or
//! unregistered redirect URIs; back-channel logout tokens received by a small HTTPS listener
//! with a test CA, verified with the published keys, retried after a failing answer; consent
//! for a client that is not first party (deny, allow, remembered, forced, revoked,
//! `prompt=none`).

use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use crate::oidc_flow::{
    authorize_url, code, enc, form_post, location, param, through_pages, verify_id_token, ISS,
    VERIFIER,
};
use crate::pages::{csrf, Browser};
use crate::step_up::{stepper, Stepper};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use sekisho_core::Clock;
use sekisho_store::LogoutQuery;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CB: &str = "https://partner.example.co.jp/callback";
const BYE: &str = "https://partner.example.co.jp/bye";

/// A `basic` client with a secret; `extra` is merged into its metadata.
async fn client(app: &TestApp, extra: Value) -> (String, String) {
    let mut m = json!({
        "client_name": "パートナー資産管理",
        "profile": "basic",
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": [CB],
        "post_logout_redirect_uris": [BYE],
        "scope": "openid email profile login_id",
        "first_party": true,
    });
    if let (Some(m), Some(e)) = (m.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    let r = app.admin(Method::POST, "/oidc/clients", Some(m)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (s("client_id"), s("client_secret"))
}

/// Signs in through the pages and exchanges the code: the ID token.
async fn id_token(
    app: &TestApp,
    b: &mut Browser,
    id: &str,
    secret: &str,
    (login_id, s): (&str, &Stepper),
) -> String {
    let back = through_pages(app, b, &authorize_url(id, CB, ""), login_id, s).await;
    exchange(app, id, secret, &back).await
}

async fn exchange(app: &TestApp, id: &str, secret: &str, back: &str) -> String {
    let code = param(back, "code").unwrap_or_else(|| unreachable!("a code in {back}"));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let (status, t) = form_post(app, "/oidc/token", Some((id, secret)), &form).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t["id_token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn rp_initiated_logout_checks_the_hint_and_the_redirect_then_ends_the_session() {
    let app = spawn_app().await;
    let (id, secret) = client(&app, json!({})).await;
    let s = stepper(&app, "bye01").await;
    let mut b = Browser::new();
    let hint = id_token(&app, &mut b, &id, &secret, ("bye01", &s)).await;
    let sso = authorize_url(&id, CB, "");

    // Not one of ours: a page with the code, the session kept.
    let (status, h, html) = b
        .get(
            &app,
            &format!(
                "/oidc/logout?id_token_hint=eyJhbGciOiJub25lIn0.e30.&post_logout_redirect_uri={}",
                enc(BYE)
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-OIC-0030"), "{html}");
    assert!(location(&h).is_empty());
    // Ours, but for another client than client_id.
    let (other, _) = client(&app, json!({"client_name": "別アプリ"})).await;
    let (status, _, html) = b
        .get(
            &app,
            &format!("/oidc/logout?id_token_hint={hint}&client_id={other}"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-OIC-0030"), "{html}");
    // A redirect URI the client did not register: never redirected.
    let (status, h, html) = b
        .get(
            &app,
            &format!(
                "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
                enc("https://evil.example/bye")
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-OIC-0031"), "{html}");
    assert!(location(&h).is_empty());
    // A redirect URI without any client named.
    let (status, _, html) = b
        .get(
            &app,
            &format!("/oidc/logout?post_logout_redirect_uri={}", enc(BYE)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-OIC-0031"), "{html}");
    let (status, h, _) = b.get(&app, &sso).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location(&h).starts_with(&format!("{CB}?code=")),
        "the session was kept"
    );

    // The hint has expired (ID tokens live 300 s): still accepted; back with state.
    app.clock.advance(400);
    let (status, h, _) = b
        .get(
            &app,
            &format!(
                "/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=s%201",
                enc(BYE)
            ),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&h), format!("{BYE}?state=s%201"));
    let (status, h, _) = b.get(&app, &sso).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location(&h).starts_with("/login?return_to="),
        "the session ended"
    );
    let audit = app.audit("bye01").await;
    assert!(
        audit.iter().any(|e| e["event_type"] == "oidc_logout"
            && e["description"].as_str().is_some_and(|d| d.contains(&id))),
        "{audit:?}"
    );

    // No redirect asked for: the logged-out page, in the language asked for.
    let _ = id_token(&app, &mut b, &id, &secret, ("bye01", &s)).await;
    let (status, _, html) = b
        .get(&app, &format!("/oidc/logout?client_id={id}&ui_locales=en"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("You have logged out."), "{html}");
    assert!(html.contains("パートナー資産管理"), "{html}");
    let (_, h, _) = b.get(&app, &sso).await;
    assert!(location(&h).starts_with("/login?return_to="));
    assert_eq!(app.count_events("bye01", "oidc_logout").await, 2);
}

/// A small HTTPS receiver for back-channel logouts: answers `status` (read per request) and
/// sends each request's body on the channel.
async fn receiver(
    dir: &std::path::Path,
    status: Arc<AtomicU16>,
) -> (
    u16,
    std::path::PathBuf,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let (acceptor, ca_file) = crate::pki::acceptor(dir);
    let listener = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    let port = ok(listener.local_addr()).port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, tx, status) = (acceptor.clone(), tx.clone(), status.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = tls.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())
                                    .flatten()
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            let _ = tx.send(format!("{head}\r\n\r\n{body}"));
                            let code = status.load(Ordering::SeqCst);
                            let answer = format!(
                                "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            );
                            let _ = tls.write_all(answer.as_bytes()).await;
                            let _ = tls.shutdown().await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, ca_file, rx)
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    ok(tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await)
        .unwrap_or_else(|| unreachable!("receiver ended"))
}

#[tokio::test]
async fn a_logout_token_reaches_the_client_over_https_and_is_retried() {
    let dir = ok(tempfile::tempdir());
    let status = Arc::new(AtomicU16::new(500));
    let (port, ca_file, mut rx) = receiver(dir.path(), status.clone()).await;
    let app = spawn_with(Options {
        settings: vec![
            (
                "oidc.backchannel_ca_file",
                ca_file.display().to_string().into(),
            ),
            ("oidc.backchannel_poll_interval_ms", 50.into()),
            ("oidc.backchannel_retry_base_secs", 10.into()),
        ],
        ..Options::default()
    })
    .await;
    let uri = format!("https://localhost:{port}/backchannel");
    let (id, secret) = client(&app, json!({"backchannel_logout_uri": uri})).await;
    let s = stepper(&app, "bc01").await;
    let mut b = Browser::new();
    let token = id_token(&app, &mut b, &id, &secret, ("bc01", &s)).await;
    let id_claims = verify_id_token(&app, &token, &id).await;

    // The customer logs out on the hosted pages.
    let (_, _, html) = b.get(&app, "/account/security").await;
    let (status_code, _, _) = b.post(&app, "/logout", &[("csrf", &csrf(&html))]).await;
    assert_eq!(status_code, StatusCode::SEE_OTHER);

    // First attempt: the client answers 500; retried after the backoff.
    let first = next(&mut rx).await;
    assert!(first.starts_with("POST /backchannel HTTP/1.1"), "{first}");
    assert!(first
        .to_ascii_lowercase()
        .contains("content-type: application/x-www-form-urlencoded"));
    status.store(200, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(rx.try_recv().is_err(), "not retried before the backoff");
    app.clock.advance(11);
    let second = next(&mut rx).await;
    let body = second
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let jwt = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let header = ok(jsonwebtoken::decode_header(&jwt));
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let c = verify_id_token(&app, &jwt, &id).await;
    assert_eq!(c["iss"], ISS);
    assert_eq!(c["aud"], id.as_str());
    assert_eq!(c["sub"], id_claims["sub"]);
    assert_eq!(c["sid"], id_claims["sid"]);
    assert_eq!(
        c["events"],
        json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    assert!(c.get("nonce").is_none());
    assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let (iat, exp) = (
        c["iat"].as_i64().unwrap_or(0),
        c["exp"].as_i64().unwrap_or(0),
    );
    assert!(exp > iat && iat >= app.clock.now().0 - 5);

    // Delivered once, audited naming the client.
    let mut delivered = 0;
    for _ in 0..50 {
        delivered = app.count_events("bc01", "oidc_backchannel_delivered").await;
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(delivered, 1);
    app.clock.advance(600);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(rx.try_recv().is_err(), "sent once");

    // An operator revoking the sessions tells the client too.
    let _ = id_token(&app, &mut b, &id, &secret, ("bc01", &s)).await;
    let r = app
        .admin(Method::DELETE, "/logins/bc01/sessions", None)
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let third = next(&mut rx).await;
    assert!(third.contains("logout_token="));

    // Delivered logouts are forgotten after oidc.logout_retain_days (30); their audit records
    // stay.
    let sent = |v: Vec<sekisho_store::OutboxLogout>| {
        v.iter()
            .filter(|l| l.state == sekisho_store::LogoutState::Sent)
            .count()
    };
    for _ in 0..50 {
        if app.count_events("bc01", "oidc_backchannel_delivered").await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        sent(ok(app
            .state
            .store
            .list_logouts(&LogoutQuery::newest(10))
            .await)),
        2
    );
    app.clock.advance(31 * 86_400);
    let mut left = 2;
    for _ in 0..60 {
        left = sent(ok(app
            .state
            .store
            .list_logouts(&LogoutQuery::newest(10))
            .await));
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "purged after 30 days");
    assert_eq!(
        app.count_events("bc01", "oidc_backchannel_delivered").await,
        2
    );
}

/// Through the pages to the end of the login; answers the authorization endpoint's answer.
async fn log_in(
    app: &TestApp,
    b: &mut Browser,
    start: &str,
    login_id: &str,
    s: &Stepper,
) -> (StatusCode, HeaderMap, String) {
    let (_, h, _) = b.get(app, start).await;
    let to_login = location(&h);
    let back = param(&to_login, "return_to").unwrap_or_default();
    let (_, _, html) = b.get(app, &to_login).await;
    let (_, _, _) = b
        .post(
            app,
            "/login",
            &[
                ("csrf", &csrf(&html)),
                ("login_id", login_id),
                ("password", "abc12345"),
                ("return_to", &back),
            ],
        )
        .await;
    let (_, _, html) = b.get(app, "/login/second-factor").await;
    let otp = code(app, &s.secret);
    let _ = b
        .post(
            app,
            "/login/second-factor",
            &[("csrf", &csrf(&html)), ("otp", &otp), ("method", "totp")],
        )
        .await;
    app.clock.advance(30);
    b.get(app, &back).await
}

/// Where the page after a form moves on to (a same-origin page with a refresh: the pages'
/// `form-action 'self'` would stop a redirect to the client).
fn moved_on(status: StatusCode, h: &HeaderMap, html: &str) -> String {
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(location(h).is_empty());
    let to = html
        .split("id=\"continue\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default();
    to.replace("&#38;", "&")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

fn field(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_third_party_client_asks_for_consent_once_until_it_is_revoked() {
    let app = spawn_app().await;
    let (id, secret) = client(&app, json!({"first_party": false})).await;
    let s = stepper(&app, "cons01").await;
    let mut b = Browser::new();
    let start = authorize_url(&id, CB, "");

    // After the login: the consent page naming the client and the data, in Japanese.
    let (status, _, html) = log_in(&app, &mut b, &start, "cons01", &s).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("パートナー資産管理"), "{html}");
    assert!(html.contains("ご登録のメールアドレス"), "{html}");
    assert!(html.contains("許可する"));
    // A form without the form token is refused.
    let (status, _, _) = b
        .post(
            &app,
            "/oidc/consent",
            &[
                ("csrf", "x"),
                ("id", &field(&html, "id")),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_ne!(status, StatusCode::SEE_OTHER);
    // Denied: access_denied to the client, with state.
    let (status, h, body) = b
        .post(
            &app,
            "/oidc/consent",
            &[
                ("csrf", &csrf(&html)),
                ("id", &field(&html, "id")),
                ("decision", "deny"),
            ],
        )
        .await;
    let back = moved_on(status, &h, &body);
    assert!(back.starts_with(CB), "{back}");
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    assert_eq!(param(&back, "state").as_deref(), Some("st-1"), "{back}");

    // Asked again (nothing remembered); allowed: the code.
    let (status, _, html) = b.get(&app, &start).await;
    assert_eq!(status, StatusCode::OK);
    let (status, h, body) = b
        .post(
            &app,
            "/oidc/consent",
            &[
                ("csrf", &csrf(&html)),
                ("id", &field(&html, "id")),
                ("decision", "allow"),
            ],
        )
        .await;
    let back = moved_on(status, &h, &body);
    assert!(back.starts_with(&format!("{CB}?code=")), "{back}");
    let _ = exchange(&app, &id, &secret, &back).await;
    assert_eq!(app.count_events("cons01", "oidc_consent_given").await, 1);

    // Remembered: straight back with a code; prompt=consent asks anyway.
    let (status, h, _) = b.get(&app, &start).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location(&h).starts_with(&format!("{CB}?code=")));
    let (status, _, html) = b
        .get(&app, &authorize_url(&id, CB, "&prompt=consent"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"allow\""));

    // Listed in the security settings, and revoked there.
    let (_, _, html) = b.get(&app, "/account/security?lang=ja").await;
    assert!(
        html.contains("連携中のアプリ") && html.contains("パートナー資産管理"),
        "{html}"
    );
    let (status, h, body) = b
        .post(
            &app,
            "/account/apps/revoke",
            &[
                ("csrf", &csrf(&html)),
                ("id", &id),
                ("password", "abc12345"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location(&h), "/account/security?done=app");
    assert_eq!(app.count_events("cons01", "oidc_consent_revoked").await, 1);

    // prompt=none without consent: consent_required.
    let (status, h, _) = b.get(&app, &authorize_url(&id, CB, "&prompt=none")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        param(&location(&h), "error").as_deref(),
        Some("consent_required")
    );
}
