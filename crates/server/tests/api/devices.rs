//! Familiar browsers: "don't ask again on this browser" after the e-mail code lets later logins
//! skip it, until the device is revoked, expires, or the password changes; TOTP is not skippable
//! by default; a device token works only for its own login.

use crate::code_address::call;
use crate::common::{expect_error, ok, spawn_app, TestApp};
use crate::email_code::{email_login, start, PASSWORD};
use reqwest::{Method, Response, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// A remembered browser: its token, the cookie header that set it, and the session.
struct Remembered {
    token: String,
    set_cookie: String,
    session: String,
    id: String,
}

async fn second_factor(app: &TestApp, challenge: &str, otp: &str, remember: bool) -> Response {
    ok(app
        .http
        .post(format!("{}/api/v1/login/second-factor", app.url))
        .header("user-agent", CHROME)
        .json(&json!({ "challenge": challenge, "otp": otp, "remember_device": remember }))
        .send()
        .await)
}

/// Logs in with the e-mail code and "don't ask again on this browser".
async fn remember_by_email(app: &TestApp, login_id: &str, address: &str) -> Remembered {
    let (challenge, code) = start(app, login_id, address).await;
    let r = second_factor(app, &challenge, &code, true).await;
    assert_eq!(r.status(), StatusCode::OK);
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let v: Value = ok(r.json().await);
    assert_eq!(v["device_remembered"], true, "{v}");
    Remembered {
        token: v["device_token"].as_str().unwrap_or_default().to_owned(),
        set_cookie,
        session: v["session_token"].as_str().unwrap_or_default().to_owned(),
        id: v["device"]["id"].as_str().unwrap_or_default().to_owned(),
    }
}

async fn login_with(app: &TestApp, login_id: &str, password: &str, device: &str) -> Response {
    app.post(
        "/api/v1/login",
        None,
        json!({ "login_id": login_id, "password": password, "device_token": device }),
    )
    .await
}

async fn assert_skipped(r: Response) {
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["methods"], json!(["pwd", "device"]), "{v}");
}

async fn assert_asked(app: &TestApp, r: Response, address: &str) {
    let v = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
    assert_eq!(v["methods"], json!(["email"]));
    app.smtp.next_kind(address, "email_code", 10).await;
}

#[tokio::test]
async fn a_familiar_browser_skips_the_email_code_until_revoked() {
    let app = spawn_app().await;
    let address = email_login(&app, "noda").await;
    let d = remember_by_email(&app, "noda", &address).await;
    assert!(!d.token.is_empty());
    for attr in [
        "__Host-sekisho_device=",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
    ] {
        assert!(d.set_cookie.contains(attr), "{attr} in {}", d.set_cookie);
    }
    assert!(d.set_cookie.contains(&format!("Max-Age={}", 30 * 86_400)));
    // The app's way (JSON) and the browser's way (cookie) both skip the code; no mail is sent.
    assert_skipped(login_with(&app, "noda", PASSWORD, &d.token).await).await;
    let r = ok(app
        .http
        .post(format!("{}/api/v1/login", app.url))
        .header(
            "cookie",
            format!("theme=dark; __Host-sekisho_device={}", d.token),
        )
        .json(&json!({ "login_id": "noda", "password": PASSWORD }))
        .send()
        .await);
    assert_skipped(r).await;
    assert_eq!(app.smtp.count_for(&address), 0);
    // The password is still checked.
    let r = login_with(&app, "noda", "wrong2026pass", &d.token).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let audit = app.audit("noda").await;
    assert!(audit.iter().any(|e| e["event_type"] == "device_remembered"));
    assert_eq!(
        audit
            .iter()
            .filter(|e| e["event_type"] == "login_succeeded"
                && e["description"]
                    .as_str()
                    .is_some_and(|s| s.contains("familiar browser (email skipped")))
            .count(),
        2
    );
    // Listed for the customer with a label from the User-Agent, and for operators.
    let r = call(&app, Method::GET, "/api/v1/me/devices", &d.session, None).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["devices"][0]["label"], "Chrome on Windows", "{v}");
    assert_eq!(v["devices"][0]["method"], "email");
    assert_eq!(v["devices"][0]["id"], d.id.as_str());
    let r = app.admin(Method::GET, "/logins/noda/devices", None).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["devices"].as_array().map(Vec::len), Some(1), "{v}");
    // Revoked by the customer: the code is asked again.
    let path = format!("/api/v1/me/devices/{}", d.id);
    let r = call(&app, Method::DELETE, &path, &d.session, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = call(&app, Method::DELETE, &path, &d.session, None).await;
    expect_error(r, StatusCode::NOT_FOUND, "device_not_found", "SKS-DEV-0001").await;
    assert_asked(
        &app,
        login_with(&app, "noda", PASSWORD, &d.token).await,
        &address,
    )
    .await;
    // Revoked by an operator (all of them).
    let d2 = remember_by_email(&app, "noda", &address).await;
    assert_skipped(login_with(&app, "noda", PASSWORD, &d2.token).await).await;
    let r = app
        .admin(Method::DELETE, "/logins/noda/devices", None)
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["revoked"], 1);
    assert_asked(
        &app,
        login_with(&app, "noda", PASSWORD, &d2.token).await,
        &address,
    )
    .await;
}

#[tokio::test]
async fn expiry_password_change_and_other_logins() {
    let app = spawn_app().await;
    let address = email_login(&app, "ogawa").await;
    let other = email_login(&app, "okada").await;
    let d = remember_by_email(&app, "ogawa", &address).await;
    // Another login's token does not help.
    assert_asked(
        &app,
        login_with(&app, "okada", PASSWORD, &d.token).await,
        &other,
    )
    .await;
    // Expiry: valid until 30 days have passed.
    app.clock.advance(30 * 86_400 - 1);
    assert_skipped(login_with(&app, "ogawa", PASSWORD, &d.token).await).await;
    app.clock.advance(1);
    assert_asked(
        &app,
        login_with(&app, "ogawa", PASSWORD, &d.token).await,
        &address,
    )
    .await;
    // A password change revokes every familiar browser.
    let d = remember_by_email(&app, "ogawa", &address).await;
    assert_skipped(login_with(&app, "ogawa", PASSWORD, &d.token).await).await;
    let new_password = "kabu2027abc";
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&d.session),
            json!({ "current_password": PASSWORD, "new_password": new_password }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_asked(
        &app,
        login_with(&app, "ogawa", new_password, &d.token).await,
        &address,
    )
    .await;
    // So does an operator's reset.
    let d = remember_by_email_with(&app, "ogawa", &address, new_password).await;
    let r = app
        .admin(
            Method::PUT,
            "/logins/ogawa/password",
            Some(json!({ "password": "kabu2028def", "temporary": false })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_asked(
        &app,
        login_with(&app, "ogawa", "kabu2028def", &d).await,
        &address,
    )
    .await;
}

async fn remember_by_email_with(
    app: &TestApp,
    login_id: &str,
    address: &str,
    password: &str,
) -> String {
    let r = app.login(login_id, password).await;
    let v: Value = ok(r.json().await);
    let challenge = v["challenge"].as_str().unwrap_or_default().to_owned();
    let code = app.smtp.next_kind(address, "email_code", 10).await.code(6);
    let r = second_factor(app, &challenge, &code, true).await;
    let v: Value = ok(r.json().await);
    v["device_token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_authenticator_app_is_not_skippable_by_default() {
    let app = spawn_app().await;
    app.create_login("hara", PASSWORD).await;
    let session = app.session("hara", PASSWORD).await;
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&session),
            json!({ "password": PASSWORD }),
        )
        .await;
    let v: Value = ok(r.json().await);
    let secret = base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default();
    let code = |app: &TestApp| {
        let now = app.clock.now().0;
        app.clock.advance(30 - now.rem_euclid(30));
        totp_at(
            &secret,
            totp_step(app.clock.now(), 30),
            OtpParams::default(),
        )
    };
    let r = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&session),
            json!({ "otp": code(&app) }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.login("hara", PASSWORD).await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["methods"], json!(["totp"]), "{v}");
    let challenge = v["challenge"].as_str().unwrap_or_default().to_owned();
    let r = second_factor(&app, &challenge, &code(&app), true).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("set-cookie").is_none());
    let v: Value = ok(r.json().await);
    assert_eq!(v["device_remembered"], false, "{v}");
    assert_eq!(v["device_token"], Value::Null);
    // No device token skips the app's code.
    let r = login_with(&app, "hara", PASSWORD, "sksd_forged").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
}
