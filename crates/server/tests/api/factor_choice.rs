//! The customer's choice of second factor when a login has several (the second-factor page's
//! "use another method", and `method` in `POST /api/v1/login/second-factor`): the code is
//! checked against the factor chosen, the login's configured one when none is.

use crate::common::{expect_error, ok, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

const TOKEN_SECRET: &[u8] = b"12345678901234567890";
const HEX_SECRET: &str = "3132333435363738393031323334353637383930";
const PASSWORD: &str = "Passw0rd99";

fn code_at(app: &TestApp, secret: &[u8], offset: i64) -> String {
    let s = totp_step(app.clock.now(), 30) + offset;
    totp_at(secret, s, OtpParams::default())
}

/// The password step's answer, which must carry a challenge.
async fn challenge(app: &TestApp, error: &str) -> Value {
    let v: Value = ok(app.login("both", PASSWORD).await.json().await);
    assert_eq!(v["error"], error, "{v}");
    v
}

async fn second(app: &TestApp, ch: &str, method: Option<&str>, otp: &str) -> reqwest::Response {
    let mut body = json!({ "challenge": ch, "otp": otp });
    if let Some(m) = method {
        body["method"] = json!(m);
    }
    app.post("/api/v1/login/second-factor", None, body).await
}

/// A login with a registered token and an active authenticator app (`second_factor: any`);
/// answers the app's secret.
async fn both() -> (TestApp, Vec<u8>) {
    let app = spawn_app().await;
    let r = ok(app
        .http
        .post(format!("{}/api/admin/v1/tokens/import", app.url))
        .bearer_auth(&app.admin_token)
        .header("content-type", "text/csv")
        .body(format!("VSMT25772182,{HEX_SECRET},totp,6,30\n"))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    app.create_login("both", PASSWORD).await;
    let patch = json!({ "second_factor": "token", "mfa_required": true });
    let r = app.admin(Method::PATCH, "/logins/both", Some(patch)).await;
    assert_eq!(r.status(), StatusCode::OK);
    // 利用開始登録, then a login with the token for a session.
    let v = challenge(&app, "second_factor_not_initialized").await;
    let ch = v["challenge"].as_str().unwrap_or_default();
    let body = json!({
        "challenge": ch,
        "token_id": "VSMT25772182",
        "otp1": code_at(&app, TOKEN_SECRET, -1),
        "otp2": code_at(&app, TOKEN_SECRET, 0),
    });
    let r = app.post("/api/v1/login/token/register", None, body).await;
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(30);
    let v = challenge(&app, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default();
    let r = second(&app, ch, None, &code_at(&app, TOKEN_SECRET, 0)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = ok(r.json().await);
    let session = s["session_token"].as_str().unwrap_or_default().to_owned();
    assert!(!session.is_empty(), "{s}");
    // Either factor from now on; the app registered with the session.
    let patch = json!({ "second_factor": "any" });
    let r = app.admin(Method::PATCH, "/logins/both", Some(patch)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            "/api/v1/me/totp",
            Some(&session),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    let secret = base32_decode(v["secret"].as_str().unwrap_or("")).unwrap_or_default();
    app.clock.advance(30);
    let otp = code_at(&app, &secret, 0);
    let r = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&session),
            json!({ "otp": otp }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    (app, secret)
}

#[tokio::test]
async fn the_code_is_checked_against_the_factor_chosen() {
    let (app, app_secret) = both().await;
    app.clock.advance(30);
    let v = challenge(&app, "second_factor_required").await;
    assert_eq!(v["methods"], json!(["totp", "token"]), "{v}");
    assert_eq!(v["token_id"], "VSMT25772182", "{v}");
    let ch = v["challenge"].as_str().unwrap_or_default();
    let (app_code, token_code) = (
        code_at(&app, &app_secret, 0),
        code_at(&app, TOKEN_SECRET, 0),
    );
    assert_ne!(app_code, token_code);
    // The configured default (the app under `any`) does not take the token's code ...
    let r = second(&app, ch, None, &token_code).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // ... nor does the token, once chosen, take the app's.
    let r = second(&app, ch, Some("token"), &app_code).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_invalid",
        "SKS-LGN-0007",
    )
    .await;
    // The token chosen, with its code: logged in.
    let r = second(&app, ch, Some("token"), &token_code).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let events = app.audit("both").await;
    let last = events
        .iter()
        .rev()
        .find(|e| e["event_type"] == "login_succeeded");
    assert!(
        last.is_some_and(|e| e["description"]
            .as_str()
            .is_some_and(|d| d.contains("token"))),
        "{last:?}"
    );
    // A method the challenge does not offer counts as no choice: the app answers.
    app.clock.advance(30);
    let v = challenge(&app, "second_factor_required").await;
    let ch = v["challenge"].as_str().unwrap_or_default();
    let r = second(&app, ch, Some("email"), &code_at(&app, &app_secret, 0)).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
}
