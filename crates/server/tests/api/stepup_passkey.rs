//! Step-up confirmed with a passkey (issue 8): the page offers the passkey first, the ceremony
//! is begun for the request and only confirms that request, the proof names `passkey` with
//! `amr` `hwk`+`user` and verifies with the published JWK Set alone; kinds the firm reserves
//! for passkeys refuse the codes.

use crate::common::{ok, spawn_with, Options, TestApp, TestClock};
use crate::pages::{csrf, Browser};
use crate::passkeys::SoftPasskey;
use crate::step_up::{app_token, stepper, verify, withdrawal, Stepper};
use reqwest::StatusCode;
use sekisho_core::otp::{totp_at, totp_step, OtpParams};
use sekisho_core::step_up::OperationKind;
use sekisho_core::Clock;
use serde_json::{json, Value};
use std::sync::Arc;

const SESSION_COOKIE: &str = "__Host-sekisho_session";

/// A clock at the real time on a step boundary (the verifier checks `exp` against real time).
// The real time is the point here: a library outside the injected clock reads it.
#[allow(clippy::disallowed_methods)]
pub(crate) fn real_clock() -> Arc<TestClock> {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Arc::new(TestClock::at(t - t.rem_euclid(30)))
}

/// Registers a passkey for the stepper's login through the JSON API (password again first).
pub(crate) async fn register(app: &TestApp, s: &Stepper) -> SoftPasskey {
    let r = app
        .post(
            "/api/v1/me/passkeys/register/begin",
            Some(&s.session),
            json!({ "password": "abc12345" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let begun: Value = ok(r.json().await);
    let (key, credential) = SoftPasskey::create(&begun["options"]);
    let r = app
        .post(
            "/api/v1/me/passkeys/register/finish",
            Some(&s.session),
            json!({ "ceremony": begun["ceremony"], "name": "iPhone", "credential": credential }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    key
}

async fn request(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let r = app.post("/api/v1/step-up", Some(token), body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/step-up/{id}");
    (id, path)
}

/// What the page's script does: begin a ceremony for `path`; the options and ceremony ID.
pub(crate) async fn begin(
    app: &TestApp,
    b: &mut Browser,
    path: &str,
    html: &str,
) -> (StatusCode, Value) {
    let (status, _, body) = b
        .post_json(
            app,
            &format!("{path}/passkey/begin"),
            &json!({ "csrf": csrf(html) }),
        )
        .await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Posts an assertion to `path`'s passkey form.
pub(crate) async fn finish(
    app: &TestApp,
    b: &mut Browser,
    path: &str,
    html: &str,
    ceremony: &Value,
    credential: &Value,
) -> (StatusCode, String, String) {
    let form = [
        ("csrf", csrf(html)),
        ("ceremony", ceremony.as_str().unwrap_or_default().to_owned()),
        ("credential", credential.to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, h, body) = b.post(app, &format!("{path}/passkey"), &form).await;
    let to = h
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, to, body)
}

async fn state_of(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/step-up/{id}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    ok(r.json().await)
}

#[tokio::test]
async fn a_passkey_confirms_a_step_up_and_only_the_request_its_ceremony_was_begun_for() {
    let app = spawn_with(Options {
        clock: Some(real_clock()),
        ..Options::default()
    })
    .await;
    let s = stepper(&app, "pkstep01").await;
    let mut key = register(&app, &s).await;
    let token = app_token(&app, "trade-web").await;
    let (id_a, path_a) = request(&app, &token, withdrawal("pkstep01")).await;
    let (id_b, path_b) = request(&app, &token, withdrawal("pkstep01")).await;

    let mut b = Browser::new();
    b.set_cookie(SESSION_COOKIE, &s.session);
    let (status, _, html_a) = b.get(&app, &path_a).await;
    assert_eq!(status, StatusCode::OK);
    // The passkey first; the code form a link away (inside a closed <details>).
    let passkey_at = html_a.find("id=\"confirm-passkey\"");
    let codes_at = html_a.find("<details class=\"change\" id=\"codes\">");
    assert!(passkey_at.is_some() && codes_at.is_some(), "{html_a}");
    assert!(passkey_at < codes_at);
    assert!(html_a.contains(&format!("data-begin=\"/step-up/{id_a}/passkey/begin\"")));

    // A ceremony begun for request A does not confirm request B.
    let (status, begun_a) = begin(&app, &mut b, &path_a, &html_a).await;
    assert_eq!(status, StatusCode::OK, "{begun_a}");
    let assertion = key.get(&begun_a["options"]);
    let (_, _, html_b) = b.get(&app, &path_b).await;
    let (status, _, body) = finish(
        &app,
        &mut b,
        &path_b,
        &html_b,
        &begun_a["ceremony"],
        &assertion,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("SKS-PKY-0002"), "{body}");
    assert_eq!(state_of(&app, &token, &id_b).await["state"], "pending");
    // Nor does a passwordless login's ceremony (bound to nothing).
    let r = app
        .post("/api/v1/login/passkey/begin", None, json!({}))
        .await;
    let login_begun: Value = ok(r.json().await);
    let assertion = key.get(&login_begun["options"]);
    let (status, _, body) = finish(
        &app,
        &mut b,
        &path_b,
        &html_b,
        &login_begun["ceremony"],
        &assertion,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(state_of(&app, &token, &id_b).await["state"], "pending");
    assert!(app.count_events("pkstep01", "step_up_failed").await >= 2);

    // Begun for B, finished for B: confirmed, back to the app.
    let (status, begun_b) = begin(&app, &mut b, &path_b, &html_b).await;
    assert_eq!(status, StatusCode::OK);
    let assertion = key.get(&begun_b["options"]);
    let (status, to, body) = finish(
        &app,
        &mut b,
        &path_b,
        &html_b,
        &begun_b["ceremony"],
        &assertion,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(to.starts_with("/login/return?to=https%3A%2F%2Ftrade.example.co.jp"));
    // The same assertion again: the ceremony was taken once.
    let (status, _, _) = finish(
        &app,
        &mut b,
        &path_a,
        &html_a,
        &begun_b["ceremony"],
        &assertion,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(state_of(&app, &token, &id_a).await["state"], "pending");

    // The relying app verifies the proof with the JWK Set alone.
    let v = state_of(&app, &token, &id_b).await;
    assert_eq!(v["state"], "confirmed");
    let jws = v["proof"].as_str().unwrap_or_default().to_owned();
    let claims = ok(verify(&app, &jws, "trade-web").await);
    assert_eq!(claims["sub"], "pkstep01");
    assert_eq!(claims["jti"], id_b.as_str());
    assert_eq!(claims["method"], "passkey");
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert_eq!(claims["operation"]["kind"], "withdrawal");
    assert_eq!(app.count_events("pkstep01", "step_up_confirmed").await, 1);
    assert!(app.count_events("pkstep01", "passkey_used").await >= 1);
}

#[tokio::test]
async fn kinds_reserved_for_passkeys_refuse_codes_and_say_how_to_get_one() {
    let app = spawn_with(Options {
        clock: Some(real_clock()),
        step_up_passkey_kinds: vec![OperationKind::Withdrawal],
        ..Options::default()
    })
    .await;
    let s = stepper(&app, "pkstep02").await;
    let token = app_token(&app, "trade-web").await;
    let (id, path) = request(&app, &token, withdrawal("pkstep02")).await;
    let mut b = Browser::new();
    b.set_cookie(SESSION_COOKIE, &s.session);
    let otp = || {
        totp_at(
            &s.secret,
            totp_step(app.clock.now(), 30),
            OtpParams::default(),
        )
    };

    // No passkey yet: the page says to register one, in Japanese, with its code.
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-STP-0006"), "{html}");
    assert!(html.contains("パスキーを登録"), "{html}");
    assert!(
        html.contains("href=\"/account/security\""),
        "the way to register one"
    );

    // With a passkey: the page offers only the passkey, and a TOTP code is refused.
    let mut key = register(&app, &s).await;
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"confirm-passkey\"") && !html.contains("id=\"otp\""));
    let code = otp();
    let form = [
        ("csrf", csrf(&html)),
        ("method", "totp".into()),
        ("otp", code),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = b.post(&app, &format!("{path}/confirm"), &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("SKS-STP-0006"));
    assert_eq!(state_of(&app, &token, &id).await["state"], "pending");

    // Another kind still takes the code.
    let mut order = withdrawal("pkstep02");
    order["operation"]["kind"] = "large_order".into();
    let (id2, path2) = request(&app, &token, order).await;
    let (_, _, html2) = b.get(&app, &path2).await;
    app.clock.advance(30);
    let code = otp();
    let form = [
        ("csrf", csrf(&html2)),
        ("method", "totp".into()),
        ("otp", code),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = b.post(&app, &format!("{path2}/confirm"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let v = state_of(&app, &token, &id2).await;
    let claims = ok(verify(&app, v["proof"].as_str().unwrap_or_default(), "trade-web").await);
    assert_eq!(claims["method"], "totp");

    // The withdrawal, with the passkey.
    let (status, begun) = begin(&app, &mut b, &path, &html).await;
    assert_eq!(status, StatusCode::OK);
    let assertion = key.get(&begun["options"]);
    let (status, _, body) =
        finish(&app, &mut b, &path, &html, &begun["ceremony"], &assertion).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let v = state_of(&app, &token, &id).await;
    let claims = ok(verify(&app, v["proof"].as_str().unwrap_or_default(), "trade-web").await);
    assert_eq!(claims["method"], "passkey");
}
