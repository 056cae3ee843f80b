//! The admin logins list's flags and erasing credentials.

use crate::common::{expect_error, ok, postgres, spawn_app, spawn_with, Options, TestApp};
use reqwest::{Method, StatusCode};
use sekisho_core::otp::{base32_decode, totp_at, totp_step, OtpParams};
use sekisho_core::Clock;
use serde_json::{json, Value};

async fn enrol_app(app: &TestApp, login_id: &str) -> Vec<u8> {
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
    app.clock.advance(30);
    let code = totp_at(
        &secret,
        totp_step(app.clock.now(), 30),
        OtpParams::default(),
    );
    let r = app
        .post(
            "/api/v1/me/totp/confirm",
            Some(&session),
            json!({ "otp": code }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    secret
}

async fn flags(app: &TestApp, login_id: &str) -> Value {
    let v: Value = ok(app
        .admin(Method::GET, &format!("/logins?q={login_id}"), None)
        .await
        .json()
        .await);
    let one: Value = ok(app
        .admin(Method::GET, &format!("/logins/{login_id}"), None)
        .await
        .json()
        .await);
    assert_eq!(v["logins"][0]["flags"], one["flags"], "list and read agree");
    one["flags"].clone()
}

#[tokio::test]
async fn flags_show_missing_factor_locks_and_erasure_sqlite() {
    flags_and_erasure(spawn_app().await).await;
}

#[tokio::test]
async fn flags_show_missing_factor_locks_and_erasure_postgres() {
    let Some(url) = postgres("api_flags").await else {
        return;
    };
    flags_and_erasure(
        spawn_with(Options {
            database_url: Some(url),
            ..Options::default()
        })
        .await,
    )
    .await;
}

async fn flags_and_erasure(app: TestApp) {
    app.create_login("flag0001", "abc12345").await;
    let f = flags(&app, "flag0001").await;
    assert_eq!(f["second_factor_not_registered"], true);
    assert_eq!(f["locked"], false);
    assert_eq!(f["password_expired"], false);
    assert_eq!(f["mfa_deadline_near"], false, "no rollout configured");

    enrol_app(&app, "flag0001").await;
    let f = flags(&app, "flag0001").await;
    assert_eq!(f["second_factor_not_registered"], false);

    // Ten wrong codes lock the app factor: the flag says which.
    app.clock.advance(30);
    for _ in 0..10 {
        let r = app
            .post(
                "/api/v1/login",
                None,
                json!({ "login_id": "flag0001", "password": "abc12345", "otp": "000000" }),
            )
            .await;
        assert_ne!(r.status(), StatusCode::OK);
    }
    let f = flags(&app, "flag0001").await;
    assert_eq!(
        (
            f["locked"].clone(),
            f["locked_second_factor"].clone(),
            f["locked_password"].clone()
        ),
        (json!(true), json!(true), json!(false))
    );

    // Password expiry after 90 days (jp-broker).
    app.clock.advance(91 * 86_400);
    assert_eq!(flags(&app, "flag0001").await["password_expired"], true);

    // Erasing the second factor removes the app (and its lock); erasing the password makes it
    // unusable. Both audited as one event with the caller as actor.
    let r = app
        .admin(
            Method::POST,
            "/logins/flag0001/erase-credentials",
            Some(json!({ "password": false, "second_factor": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(
        (v["factors_removed"].clone(), v["password_erased"].clone()),
        (json!(1), json!(false))
    );
    let f = flags(&app, "flag0001").await;
    assert_eq!(f["second_factor_not_registered"], true);
    assert_eq!(f["locked"], false);

    let r = app
        .admin(
            Method::POST,
            "/logins/flag0001/erase-credentials",
            Some(json!({ "password": true, "second_factor": false })),
        )
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["password_erased"], true);
    assert_eq!(flags(&app, "flag0001").await["password_erased"], true);
    let r = app.login("flag0001", "abc12345").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;
    let events = app.audit("flag0001").await;
    let erased: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "credentials_erased")
        .collect();
    assert_eq!(erased.len(), 2);
    assert_eq!(erased[0]["event_group"], "credentials");
    assert_eq!(erased[0]["actor"]["kind"], "api_token");

    let r = app
        .admin(
            Method::POST,
            "/logins/flag0001/erase-credentials",
            Some(json!({ "password": false, "second_factor": false })),
        )
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = app
        .admin(
            Method::POST,
            "/logins/nosuch01/erase-credentials",
            Some(json!({ "password": true, "second_factor": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
