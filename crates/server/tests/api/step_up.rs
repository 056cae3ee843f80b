//! Step-up confirmation over HTTP: an app asks, the customer confirms on the page with a fresh
//! code, the app reads the proof once and verifies it knowing only the published JWK Set.

use crate::common::{ok, spawn_with, Options, TestApp, TestClock};
use crate::pages::{csrf, Browser};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};
use std::sync::Arc;

const SESSION_COOKIE: &str = "__Host-sekisho_session";
const RETURN: &str = "https://trade.example.co.jp/withdraw/done?ref=W-1";

/// A clock near the real time (a verifier library checks `exp` against the real time), on a
/// step boundary, `behind` seconds in the past.
// The real time is the point here: a library outside the injected clock reads it.
#[allow(clippy::disallowed_methods)]
fn clock_behind(behind: i64) -> Arc<TestClock> {
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let t = real - behind;
    Arc::new(TestClock::at(t - t.rem_euclid(30)))
}

pub struct Stepper {
    pub session: String,
    pub secret: Vec<u8>,
}

fn code(app: &TestApp, secret: &[u8]) -> String {
    totp_at(secret, totp_step(app.clock.now(), 30), OtpParams::default())
}

/// A login with an authenticator app in use, and a session of it.
pub async fn stepper(app: &TestApp, login_id: &str) -> Stepper {
    app.create_login(login_id, "abc12345").await;
    let session = app.session(login_id, "abc12345").await;
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&session),
            json!({ "password": "abc12345" }),
        )
        .await;
    let v: Value = ok(r.json().await);
    let secret = base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default();
    let r = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&session),
            json!({ "otp": code(app, &secret) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(30);
    Stepper { session, secret }
}

/// An API token with scope `step_up` named `name` (the proofs' audience).
pub async fn app_token(app: &TestApp, name: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": name, "scope": "step_up" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    v["token"].as_str().unwrap_or_default().to_owned()
}

pub fn withdrawal(login_id: &str) -> Value {
    json!({
        "login_id": login_id,
        "operation": {
            "kind": "withdrawal",
            "description": "出金 1,500,000円 → みずほ銀行 本店 普通 1234567",
            "amount": { "value": "1500000", "currency": "JPY" }
        },
        "return_to": RETURN,
    })
}

async fn request(app: &TestApp, token: &str, login_id: &str) -> (String, String) {
    let r = app
        .post("/api/v1/step-up", Some(token), withdrawal(login_id))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    assert_eq!(v["state"], "pending");
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    let url = v["url"].as_str().unwrap_or_default();
    assert_eq!(url, format!("http://sekisho.test/step-up/{id}"));
    let path = format!("/step-up/{id}");
    (id, path)
}

/// Confirms on the page with the current code; answers the redirect target.
async fn confirm(app: &TestApp, b: &mut Browser, path: &str, s: &Stepper) -> String {
    let (status, _, html) = b.get(app, path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let otp = code(app, &s.secret);
    let form = [
        ("csrf", csrf(&html)),
        ("method", "totp".into()),
        ("otp", otp),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, h, body) = b.post(app, &format!("{path}/confirm"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    app.clock.advance(30);
    h.get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn proof(app: &TestApp, token: &str, id: &str) -> String {
    let r = app.get(&format!("/api/v1/step-up/{id}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["state"], "confirmed");
    v["proof"].as_str().unwrap_or_default().to_owned()
}

/// What a relying app does: fetch the public key set (no credentials) and verify the proof.
pub async fn verify(app: &TestApp, jws: &str, audience: &str) -> Result<Value, String> {
    let r = ok(app
        .http
        .get(format!("{}/.well-known/jwks.json", app.url))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    let set: JwkSet = ok(r.json().await);
    let header = decode_header(jws).map_err(|e| e.to_string())?;
    assert_eq!(header.typ.as_deref(), Some("step-up+jwt"));
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("kid not published")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = Validation::new(Algorithm::EdDSA);
    v.leeway = 0;
    v.set_audience(&[audience]);
    v.set_issuer(&["http://sekisho.test"]);
    v.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub", "jti"]);
    decode::<Value>(jws, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_confirmed_step_up_gives_one_proof_that_verifies_with_the_published_key() {
    let app = spawn_with(Options {
        clock: Some(clock_behind(0)),
        ..Options::default()
    })
    .await;
    let s = stepper(&app, "stepper1").await;
    let token = app_token(&app, "trade-web").await;
    let (id, path) = request(&app, &token, "stepper1").await;

    // Not signed in: through the login page, which comes back here.
    let mut b = Browser::new();
    let (status, h, _) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = h.get("location").and_then(|v| v.to_str().ok());
    assert_eq!(
        to,
        Some(format!("/login?return_to=%2Fstep-up%2F{id}").as_str())
    );
    let (status, _, html) = b.get(&app, to.unwrap_or_default()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the login page takes its own return"
    );
    assert!(html.contains(&format!("value=\"/step-up/{id}\"")));

    // Signed in: the operation is shown.
    b.set_cookie(SESSION_COOKIE, &s.session);
    let (status, h, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    for shown in [
        "出金",
        "1,500,000 JPY",
        "みずほ銀行 本店 普通 1234567",
        "trade-web",
    ] {
        assert!(html.contains(shown), "{shown} not on the page");
    }
    // A wrong code is refused on the page and counted like at login.
    let form = [("csrf", csrf(&html)), ("method", "totp".into())];
    let bad: Vec<(&str, &str)> = form
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain([("otp", "000000")])
        .collect();
    let (status, _, html) = b.post(&app, &format!("{path}/confirm"), &bad).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("SKS-LGN-0007"));
    assert_eq!(
        app.count_events("stepper1", "second_factor_failed").await,
        1
    );
    // Without the form token nothing happens.
    let (status, _, _) = b
        .post(
            &app,
            &format!("{path}/confirm"),
            &[("csrf", "forged"), ("method", "totp"), ("otp", "123456")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Before the answer: pending, no proof.
    let r = app
        .get(&format!("/api/v1/step-up/{id}"), Some(&token))
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(
        (v["state"].as_str(), v.get("proof")),
        (Some("pending"), None)
    );

    let back = confirm(&app, &mut b, &path, &s).await;
    assert_eq!(
        back,
        "/login/return?to=https%3A%2F%2Ftrade.example.co.jp%2Fwithdraw%2Fdone%3Fref%3DW-1"
    );
    assert_eq!(app.count_events("stepper1", "step_up_requested").await, 1);
    assert_eq!(app.count_events("stepper1", "step_up_confirmed").await, 1);

    // The proof, once.
    let jws = proof(&app, &token, &id).await;
    let r = app
        .get(&format!("/api/v1/step-up/{id}"), Some(&token))
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["proof_taken"], true);
    assert_eq!(v.get("proof"), None, "handed out once");
    assert_eq!(v["method"], "totp");

    let claims = ok(verify(&app, &jws, "trade-web").await);
    assert_eq!(claims["sub"], "stepper1");
    assert_eq!(claims["jti"], id.as_str());
    assert_eq!(claims["method"], "totp");
    assert_eq!(claims["amr"], json!(["otp", "swk"]));
    assert_eq!(claims["operation"]["kind"], "withdrawal");
    assert_eq!(
        claims["operation"]["amount"],
        json!({ "value": "1500000", "currency": "JPY" })
    );
    let iat = claims["iat"].as_i64().unwrap_or_default();
    assert_eq!(claims["exp"].as_i64(), Some(iat + 300));
    assert_eq!(claims["auth_time"].as_i64(), Some(iat));

    // What a verifier must refuse: another audience, a changed payload.
    assert!(verify(&app, &jws, "other-app").await.is_err());
    let parts: Vec<&str> = jws.split('.').collect();
    let mut payload = claims.clone();
    payload["operation"]["amount"]["value"] = json!("99000000");
    let forged = format!(
        "{}.{}.{}",
        parts.first().unwrap_or(&""),
        base64_url(&payload.to_string()),
        parts.get(2).unwrap_or(&"")
    );
    assert!(verify(&app, &forged, "trade-web").await.is_err());

    // The request is answered once: the page now says so.
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("SKS-STP-0003"));
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn expired_proofs_fail_and_rotated_keys_verify_until_retired() {
    // The server's clock starts 15 minutes behind the real time: a proof signed then has
    // expired for a verifier that reads the real time.
    let dir = ok(tempfile::tempdir());
    let url = sekisho_store::testing::sqlite_url(dir.path());
    let app = spawn_with(Options {
        clock: Some(clock_behind(900)),
        database_url: Some(url.clone()),
        ..Options::default()
    })
    .await;
    let s = stepper(&app, "stepper2").await;
    let token = app_token(&app, "trade-web").await;
    let mut b = Browser::new();
    b.set_cookie(SESSION_COOKIE, &s.session);
    let (old_id, path) = request(&app, &token, "stepper2").await;
    confirm(&app, &mut b, &path, &s).await;
    let old = proof(&app, &token, &old_id).await;
    let e = verify(&app, &old, "trade-web").await;
    assert!(e.as_ref().is_err_and(|e| e.contains("Expired")), "{e:?}");

    app.clock.advance(900);
    let (id1, path) = request(&app, &token, "stepper2").await;
    confirm(&app, &mut b, &path, &s).await;
    let first = proof(&app, &token, &id1).await;
    assert!(verify(&app, &first, "trade-web").await.is_ok());
    let kid1 = decode_header(&first).ok().and_then(|h| h.kid);

    // Rotation (what `sekisho keys rotate` does), on the same database.
    let store = ok(sekisho_store::connect(&sekisho_store::ConnectOptions {
        url,
        max_connections: 2,
        sqlite_synchronous: Default::default(),
    })
    .await);
    let secrets = sekisho_core::secret_box::SecretBox::new("k1", &[7; 32]);
    let k2 = ok(sekisho_app::step_up::create_key(
        store.as_ref(),
        &secrets,
        &sekisho_app::system::OsRandom,
        app.clock.now(),
        sekisho_core::audit::Actor::System,
        &Default::default(),
    )
    .await);
    // The server reads its list of keys again within `LIST_SECS`.
    app.clock.advance(sekisho_app::keys::LIST_SECS);
    let (id2, path) = request(&app, &token, "stepper2").await;
    confirm(&app, &mut b, &path, &s).await;
    let second = proof(&app, &token, &id2).await;
    let kid2 = decode_header(&second).ok().and_then(|h| h.kid);
    assert_eq!(kid2.as_deref(), Some(k2.kid.as_str()), "the new key signs");
    assert_ne!(kid1, kid2);
    assert!(
        verify(&app, &first, "trade-web").await.is_ok(),
        "old key still published"
    );
    assert!(verify(&app, &second, "trade-web").await.is_ok());

    // Retired: the old key is no longer published, so its proofs no longer verify.
    let kid1 = kid1.unwrap_or_default();
    let ev = sekisho_core::audit::NewAuditEvent::new(
        app.clock.now(),
        sekisho_core::audit::EventType::SigningKeyRetired,
        None,
        sekisho_core::audit::Actor::System,
        &Default::default(),
        "test",
    );
    assert_eq!(
        ok(store.retire_signing_key(&kid1, app.clock.now(), &ev).await),
        Some(true)
    );
    let e = verify(&app, &first, "trade-web").await;
    assert_eq!(e, Err("kid not published".into()));
    assert!(verify(&app, &second, "trade-web").await.is_ok());
}

#[tokio::test]
async fn requests_are_checked_and_refused_expired_or_foreign_ones_say_why() {
    let app = spawn_with(Options {
        clock: Some(clock_behind(0)),
        ..Options::default()
    })
    .await;
    let s = stepper(&app, "stepper3").await;
    let other = stepper(&app, "stepper4").await;
    let token = app_token(&app, "trade-web").await;
    let other_app = app_token(&app, "fx-app").await;

    // Only step_up (or admin) tokens; return_to on the allow-list; a known login.
    let validate = {
        let r = app
            .admin(
                Method::POST,
                "/api-tokens",
                Some(json!({ "name": "v", "scope": "validate" })),
            )
            .await;
        let v: Value = ok(r.json().await);
        v["token"].as_str().unwrap_or_default().to_owned()
    };
    let r = app
        .post("/api/v1/step-up", Some(&validate), withdrawal("stepper3"))
        .await;
    crate::common::expect_error(
        r,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "SKS-AUT-0002",
    )
    .await;
    let mut body = withdrawal("stepper3");
    body["return_to"] = json!("https://evil.example/");
    let r = app.post("/api/v1/step-up", Some(&token), body).await;
    crate::common::expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "return_to_not_allowed",
        "SKS-WEB-0003",
    )
    .await;
    let mut body = withdrawal("stepper3");
    body["operation"]["kind"] = json!("transfer");
    let r = app.post("/api/v1/step-up", Some(&token), body).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .post("/api/v1/step-up", Some(&token), withdrawal("nobody99"))
        .await;
    crate::common::expect_error(r, StatusCode::NOT_FOUND, "login_not_found", "SKS-ACC-0005").await;

    // Another app cannot read the answer.
    let (id, path) = request(&app, &token, "stepper3").await;
    let r = app
        .get(&format!("/api/v1/step-up/{id}"), Some(&other_app))
        .await;
    crate::common::expect_error(
        r,
        StatusCode::NOT_FOUND,
        "step_up_not_found",
        "SKS-STP-0001",
    )
    .await;

    // Another login signed in: refused with its code.
    let mut b = Browser::new();
    b.set_cookie(SESSION_COOKIE, &other.session);
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-STP-0004"));

    // The customer refuses: the app reads `refused`, no proof, and it cannot be confirmed later.
    let mut b = Browser::new();
    b.set_cookie(SESSION_COOKIE, &s.session);
    let (_, _, html) = b.get(&app, &path).await;
    let (status, h, _) = b
        .post(&app, &format!("{path}/refuse"), &[("csrf", &csrf(&html))])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(h
        .get("location")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|l| l.starts_with("/login/return?to=https%3A%2F%2Ftrade.example.co.jp")));
    let r = app
        .get(&format!("/api/v1/step-up/{id}"), Some(&token))
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(
        (v["state"].as_str(), v.get("proof")),
        (Some("refused"), None)
    );
    assert_eq!(app.count_events("stepper3", "step_up_refused").await, 1);

    // Expired: the clock passes the request's end (10 minutes).
    let (id, path) = request(&app, &token, "stepper3").await;
    app.clock.advance(601);
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-STP-0002"));
    let r = app
        .get(&format!("/api/v1/step-up/{id}"), Some(&token))
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["state"], "expired");
    assert!(app.count_events("stepper3", "step_up_failed").await >= 1);

    // Unknown request.
    let (status, _, html) = b.get(&app, "/step-up/sksu_nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("SKS-STP-0001"));
}

#[tokio::test]
async fn a_token_confirms_with_its_own_method_and_amr() {
    let app = spawn_with(Options {
        clock: Some(clock_behind(0)),
        ..Options::default()
    })
    .await;
    let secret = b"12345678901234567890";
    let csv = format!("VSMT25772182,{},totp,6,30\n", hex::encode(secret));
    let r = ok(app
        .http
        .post(format!("{}/api/admin/v1/tokens/import", app.url))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    app.create_login("fx0000009", "Passw0rd99").await;
    let r = app
        .admin(
            Method::PATCH,
            "/logins/fx0000009",
            Some(json!({ "second_factor": "token", "mfa_required": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let code =
        |app: &TestApp| totp_at(secret, totp_step(app.clock.now(), 30), OtpParams::default());
    // Start-of-use registration (two consecutive codes), then a login with the token.
    let v: Value = ok(app.login("fx0000009", "Passw0rd99").await.json().await);
    let s = totp_step(app.clock.now(), 30);
    let r = app
        .post(
            "/api/v1/login/token/register",
            None,
            json!({
                "challenge": v["challenge"],
                "token_id": "VSMT25772182",
                "otp1": totp_at(secret, s - 1, OtpParams::default()),
                "otp2": code(&app),
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(30);
    let v: Value = ok(app.login("fx0000009", "Passw0rd99").await.json().await);
    let r = app
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": v["challenge"], "otp": code(&app) }),
        )
        .await;
    let v: Value = ok(r.json().await);
    let session = v["session_token"].as_str().unwrap_or_default().to_owned();
    assert!(!session.is_empty(), "{v}");
    app.clock.advance(30);

    let token = app_token(&app, "fx-web").await;
    let (id, path) = request(&app, &token, "fx0000009").await;
    let mut b = Browser::new();
    b.set_cookie(SESSION_COOKIE, &session);
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("VSMT25772182"), "the token's ID is shown");
    let form = [
        ("csrf", csrf(&html)),
        ("method", "token".into()),
        ("otp", code(&app)),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = b.post(&app, &format!("{path}/confirm"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let jws = proof(&app, &token, &id).await;
    let claims = ok(verify(&app, &jws, "fx-web").await);
    assert_eq!(claims["method"], "token");
    assert_eq!(claims["amr"], json!(["otp", "hwk"]));
}

#[tokio::test]
async fn step_up_on_postgresql() {
    let Some(url) = crate::common::postgres("api_step_up").await else {
        return;
    };
    let app = spawn_with(Options {
        clock: Some(clock_behind(0)),
        database_url: Some(url),
        ..Options::default()
    })
    .await;
    let s = stepper(&app, "stepper5").await;
    let token = app_token(&app, "trade-web").await;
    let (id, path) = request(&app, &token, "stepper5").await;
    let mut b = Browser::new();
    b.set_cookie(SESSION_COOKIE, &s.session);
    confirm(&app, &mut b, &path, &s).await;
    let jws = proof(&app, &token, &id).await;
    let claims = ok(verify(&app, &jws, "trade-web").await);
    assert_eq!(claims["sub"], "stepper5");
    let r = app
        .get(&format!("/api/v1/step-up/{id}"), Some(&token))
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(
        (v["proof_taken"].as_bool(), v.get("proof")),
        (Some(true), None)
    );
    let (status, _, html) = b.get(&app, &path).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("SKS-STP-0003"));
}
